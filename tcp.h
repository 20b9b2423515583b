/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * tcp.h - TCP translation between guest segments and host sockets
 */

#ifndef TCP_H
#define TCP_H

#include <stdint.h>
#include <time.h>

#include "passt.h"
#include "packet.h"

#define TCP_TIMER_INTERVAL_MS	1000	/* tcp_timer() period, at least */

void tcp_init(struct ctx *c);
int tcp_tap_handler(struct ctx *c, int af, const void *saddr,
		    const void *daddr, const struct pool *p, size_t idx,
		    const struct timespec *now);
void tcp_sock_handler(struct ctx *c, union epoll_ref ref, uint32_t events,
		      const struct timespec *now);
void tcp_listen_handler(struct ctx *c, union epoll_ref ref,
			const struct timespec *now);
void tcp_timer_handler(struct ctx *c, union epoll_ref ref);
void tcp_timer(struct ctx *c, const struct timespec *now);
void tcp_addr_gone(struct ctx *c, int af, const void *addr);
void tcp_defer_handler(struct ctx *c);
void tcp_tap_reset(struct ctx *c);
int tcp_conns_active(void);

#endif /* TCP_H */
