// SPDX-License-Identifier: AGPL-3.0-or-later

/* udp.c - UDP translation: placeholder until the UDP issue lands */

#include "udp.h"

void udp_init(struct ctx *c) { (void)c; }

int udp_tap_handler(struct ctx *c, int af, const void *saddr,
		    const void *daddr, const struct pool *p, size_t idx,
		    const struct timespec *now)
{
	(void)c; (void)af; (void)saddr; (void)daddr; (void)idx; (void)now;
	return (int)p->count;
}

void udp_sock_handler(struct ctx *c, union epoll_ref ref, uint32_t events,
		      const struct timespec *now)
{
	(void)c; (void)ref; (void)events; (void)now;
}

void udp_timer(struct ctx *c, const struct timespec *now)
{
	(void)c; (void)now;
}
