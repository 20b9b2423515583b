/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * netlink.h - rtnetlink queries on the host, configuration in the namespace
 */

#ifndef NETLINK_H
#define NETLINK_H

#include <stdint.h>
#include <sys/socket.h>

#include "passt.h"

/* Sockets: nl_sock in the init namespace, nl_sock_ns in the target one */
extern int nl_sock;
extern int nl_sock_ns;

void nl_sock_init(const struct ctx *c, int ns);
unsigned int nl_get_ext_if(int s, sa_family_t af);
int nl_route_get_def(int s, unsigned int ifi, sa_family_t af, void *gw);
int nl_route_set_def(int s, unsigned int ifi, sa_family_t af,
		     const void *gw, int onlink);
int nl_addr_get(int s, unsigned int ifi, sa_family_t af,
		void *addr, int *prefix_len, void *addr_ll);
int nl_addr_set(int s, unsigned int ifi, sa_family_t af,
		const void *addr, int prefix_len);
int nl_addr_dup(int s_src, unsigned int ifi_src, int s_dst,
		unsigned int ifi_dst, sa_family_t af);
int nl_route_dup(int s_src, unsigned int ifi_src, int s_dst,
		 unsigned int ifi_dst, sa_family_t af);
int nl_link_set_mac(int s, unsigned int ifi, const void *mac);
int nl_link_get_mtu(int s, unsigned int ifi);
int nl_link_up(int s, unsigned int ifi, int mtu);
int nl_link_set_txqlen(int s, unsigned int ifi, uint32_t qlen);

/* Following the host at run time (follow.c) */
int nl_link_name(int s, unsigned int ifi, char *name);
unsigned int nl_link_index(int s, const char *name);
int nl_addr_list(int s, sa_family_t af, void *addrs, int max);

#endif /* NETLINK_H */
