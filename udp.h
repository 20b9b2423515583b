/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * udp.h - UDP translation between guest datagrams and host sockets
 */

#ifndef UDP_H
#define UDP_H

#include <stdint.h>
#include <time.h>

#include "passt.h"
#include "packet.h"

void udp_init(struct ctx *c);
int udp_tap_handler(struct ctx *c, int af, const void *saddr,
		    const void *daddr, const struct pool *p, size_t idx,
		    const struct timespec *now);
void udp_sock_handler(struct ctx *c, union epoll_ref ref, uint32_t events,
		      const struct timespec *now);
void udp_timer(struct ctx *c, const struct timespec *now);
void udp_tap_reset(struct ctx *c);
void udp_addr_gone(struct ctx *c, int af, const void *addr);

#endif /* UDP_H */
