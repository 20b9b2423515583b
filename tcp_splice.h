/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * tcp_splice.h - pasta: TCP bypass between loopback of the two namespaces,
 *		  automatic port forwarding
 */

#ifndef TCP_SPLICE_H
#define TCP_SPLICE_H

#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include "passt.h"

/* Bit in the epoll reference data of a TCP listening socket (the port is
 * in the low 16 bits): the socket lives in the target namespace (-T)
 */
#define TCP_LISTEN_NS		(1U << 16)
#define TCP_LISTEN_PORT(data)	((data) & 0xffffU)

void tcp_splice_init(struct ctx *c);
int tcp_splice_conn_from_sock(struct ctx *c, uint32_t ref_data, int s,
			      const struct sockaddr_storage *sa);
void tcp_splice_sock_handler(struct ctx *c, union epoll_ref ref,
			     uint32_t events);
void tcp_splice_defer(struct ctx *c);
void tcp_splice_timer(struct ctx *c, const struct timespec *now);
int tcp_splice_pairs_active(void);

#endif /* TCP_SPLICE_H */
