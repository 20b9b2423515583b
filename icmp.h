/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * icmp.h - ICMP and ICMPv6 echo translation through "ping" sockets
 */

#ifndef ICMP_H
#define ICMP_H

#include <stdint.h>
#include <time.h>

#include "passt.h"
#include "packet.h"

void icmp_init(struct ctx *c);
int icmp_tap_handler(struct ctx *c, int af, const void *saddr,
		     const void *daddr, const struct pool *p, size_t idx,
		     const struct timespec *now);
void icmp_sock_handler(struct ctx *c, union epoll_ref ref, uint32_t events,
		       const struct timespec *now);
void icmp_timer(struct ctx *c, const struct timespec *now);
void icmp_tap_reset(struct ctx *c);

#endif /* ICMP_H */
