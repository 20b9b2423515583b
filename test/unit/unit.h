/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * unit.h - What the responder unit tests share: a check counter and the
 * CHECK() macro, an IPv6 literal helper. Included after the .c file under
 * test.
 */

#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>

static int failures, checks;

/* CHECK() - Count a check, report it with its place if @cond is false */
#define CHECK(cond)							\
	do {								\
		checks++;						\
		if (!(cond)) {						\
			failures++;					\
			fprintf(stderr, "%s:%d: FAILED: %s\n",		\
				__func__, __LINE__, #cond);		\
		}							\
	} while (0)

/* a6() - IPv6 address from a literal, aborting on a typo in the test */
static inline struct in6_addr a6(const char *s)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, s, &a) != 1)
		abort();
	return a;
}

#endif /* UNIT_H */
