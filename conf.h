/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * conf.h - Command line and host-derived configuration
 */

#ifndef CONF_H
#define CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

#include "passt.h"

#define RESOLV_CONF		"/etc/resolv.conf"

/**
 * struct conf_opts - Command line values applied after host defaults
 * @a4_set:	-a gave an IPv4 address
 * @a6_set:	-a gave an IPv6 address
 * @gw4_set:	-g gave an IPv4 gateway
 * @gw6_set:	-g gave an IPv6 gateway
 * @prefix4:	-n, 0 if not given
 * @mac_set:	-M given
 * @v4_only:	-4
 * @v6_only:	-6
 * @ifname:	-i, NULL if not given
 * @dns4:	-D IPv4 addresses
 * @dns4_n:	Entries in @dns4
 * @dns6:	-D IPv6 addresses
 * @dns6_n:	Entries in @dns6
 * @dns_given:	-D given (addresses or "none")
 * @search_given: -S given (names or "none")
 * @search_n:	Entries in c->dns_search from -S
 * @dhcp_dns:	--dhcp-dns or --no-dhcp-dns given
 * @dhcp_search: --dhcp-search or --no-dhcp-search given
 * @userns:	--userns argument, NULL if not given
 * @runas:	--runas argument, NULL if not given
 * @netns:	--netns argument, NULL if not given
 * @map_host_lo4: --map-host-loopback given for IPv4 (or "none")
 * @map_host_lo6: --map-host-loopback given for IPv6 (or "none")
 * @cidr4:	-a gave an IPv4 prefix length
 * @tcp_in_set:	-t given
 * @udp_in_set:	-u given
 * @tcp_out_set: -T given
 * @udp_out_set: -U given
 */
struct conf_opts {
	int a4_set, a6_set, gw4_set, gw6_set;
	int prefix4;
	int mac_set;
	int v4_only, v6_only;
	const char *ifname;
	struct in_addr dns4[MAXNS];
	int dns4_n;
	struct in6_addr dns6[MAXNS];
	int dns6_n;
	int dns_given, search_given, search_n;
	int dhcp_dns, dhcp_search;
	const char *userns;
	const char *runas;
	const char *netns;
	int map_host_lo4, map_host_lo6;
	int cidr4;
	int tcp_in_set, udp_in_set, tcp_out_set, udp_out_set;
};

int conf_fd_arg(int argc, char **argv);
void conf(struct ctx *c, int argc, char **argv);
void conf_print(const struct ctx *c);

/* Shared by conf.c (parsing) and conf_host.c (what comes from the host) */
int conf_dns_name_ok(const char *s, size_t len);
int conf_search_add(struct ctx *c, const char *s, size_t len);
void conf_host_init(struct ctx *c, const struct conf_opts *o);
void conf_host_update(struct ctx *c);
int conf_resolv_watch(int ino);
bool conf_resolv_event(int wd, const char *name, size_t len);

#endif /* CONF_H */
