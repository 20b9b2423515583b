/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * ndp.h - NDP responder: Router and Neighbour Advertisements (RFC 4861)
 */

#ifndef NDP_H
#define NDP_H

#include <time.h>
#include <netinet/in.h>

#include "passt.h"
#include "packet.h"

int ndp(const struct ctx *c, const struct in6_addr *saddr,
	const struct pool *p);
void ndp_timer(const struct ctx *c, const struct timespec *now);
void ndp_renumber(const struct ctx *c, const struct ip6_ctx *old);

#endif /* NDP_H */
