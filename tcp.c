// SPDX-License-Identifier: AGPL-3.0-or-later

/* tcp.c - TCP translation: placeholder until the TCP issue lands
 *
 * Segments from the guest are dropped (the guest sees timeouts).
 */

#include "tcp.h"

void tcp_init(struct ctx *c) { (void)c; }

int tcp_tap_handler(struct ctx *c, int af, const void *saddr,
		    const void *daddr, const struct pool *p, size_t idx,
		    const struct timespec *now)
{
	(void)c; (void)af; (void)saddr; (void)daddr; (void)idx; (void)now;
	return (int)p->count;
}

void tcp_sock_handler(struct ctx *c, union epoll_ref ref, uint32_t events,
		      const struct timespec *now)
{
	(void)c; (void)ref; (void)events; (void)now;
}

void tcp_listen_handler(struct ctx *c, union epoll_ref ref,
			const struct timespec *now)
{
	(void)c; (void)ref; (void)now;
}

void tcp_timer_handler(struct ctx *c, union epoll_ref ref)
{
	(void)c; (void)ref;
}

void tcp_timer(struct ctx *c, const struct timespec *now)
{
	(void)c; (void)now;
}

void tcp_defer_handler(struct ctx *c) { (void)c; }
