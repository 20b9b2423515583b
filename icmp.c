// SPDX-License-Identifier: AGPL-3.0-or-later

/* icmp.c - ICMP echo translation: placeholder until the ICMP issue lands */

#include "icmp.h"

void icmp_init(struct ctx *c) { (void)c; }

int icmp_tap_handler(struct ctx *c, int af, const void *saddr,
		     const void *daddr, const struct pool *p, size_t idx,
		     const struct timespec *now)
{
	(void)c; (void)af; (void)saddr; (void)daddr; (void)idx; (void)now;
	return (int)p->count;
}

void icmp_sock_handler(struct ctx *c, union epoll_ref ref, uint32_t events,
		       const struct timespec *now)
{
	(void)c; (void)ref; (void)events; (void)now;
}

void icmp_timer(struct ctx *c, const struct timespec *now)
{
	(void)c; (void)now;
}
