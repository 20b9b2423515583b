/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * netlink.h - rtnetlink queries on the host, configuration in the namespace
 */

#ifndef NETLINK_H
#define NETLINK_H

#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "passt.h"

/* Sockets: nl_sock in the init namespace, nl_sock_ns in the target one */
extern int nl_sock;
extern int nl_sock_ns;

/* pasta --config-net: addresses, and routes, copied per family */
#define NL_SET_MAX		64

/**
 * struct nl_entry - An address, or a route, on an interface
 * @a:		Address, or route destination (struct in_addr or in6_addr)
 * @plen:	Its prefix length
 * @gw:		Route gateway, if @has_gw
 * @has_gw:	Route via a gateway
 * @onlink:	The gateway is outside every prefix on the link: reachable
 *		there all the same (RTNH_F_ONLINK)
 * @prio:	Route metric (RTA_PRIORITY), 0 for the kernel's default
 */
struct nl_entry {
	unsigned char a[sizeof(struct in6_addr)];
	int plen;
	unsigned char gw[sizeof(struct in6_addr)];
	int has_gw;
	int onlink;
	uint32_t prio;
};

/**
 * struct nl_set - Addresses, or routes, of one family, without duplicates
 * @af:		Address family
 * @n:		Entries used
 * @dropped:	Entries that didn't fit
 * @e:		Entries
 */
struct nl_set {
	sa_family_t af;
	int n;
	int dropped;
	struct nl_entry e[NL_SET_MAX];
};

void nl_sock_init(const struct ctx *c, int ns);
unsigned int nl_get_ext_if(int s, sa_family_t af);
int nl_route_get_def(int s, unsigned int ifi, sa_family_t af, void *gw);
int nl_route_add(int s, unsigned int ifi, sa_family_t af,
		 const struct nl_entry *r, int replace);
int nl_route_del(int s, unsigned int ifi, sa_family_t af,
		 const struct nl_entry *r);
int nl_addr_get(int s, unsigned int ifi, sa_family_t af,
		void *addr, int *prefix_len, void *addr_ll);
int nl_addr_add(int s, unsigned int ifi, sa_family_t af,
		const struct nl_entry *e);
int nl_addr_del(int s, unsigned int ifi, sa_family_t af,
		const struct nl_entry *e);
int nl_link_set_mac(int s, unsigned int ifi, const void *mac);
int nl_link_get_mtu(int s, unsigned int ifi);
int nl_link_up(int s, unsigned int ifi, int mtu);
int nl_link_set_txqlen(int s, unsigned int ifi, uint32_t qlen);
int nl_link_promote_secondaries(int s, unsigned int ifi);

void nl_set_init(struct nl_set *set, sa_family_t af);
int nl_set_has(const struct nl_set *set, const struct nl_entry *e);
int nl_set_has_key(const struct nl_set *set, const struct nl_entry *e);
int nl_set_put(struct nl_set *set, const struct nl_entry *e);
int nl_addr_collect(int s, unsigned int ifi, struct nl_set *set);
int nl_addr_ll_nodad(int s, unsigned int ifi);
int nl_route_collect(int s, unsigned int ifi, struct nl_set *set);

/* Following the host at run time (follow.c) */
int nl_link_name(int s, unsigned int ifi, char *name);
unsigned int nl_link_index(int s, const char *name);
int nl_addr_list(int s, sa_family_t af, void *addrs, int max);

#endif /* NETLINK_H */
