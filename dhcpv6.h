/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * dhcpv6.h - Minimal stateful DHCPv6 server (RFC 8415)
 */

#ifndef DHCPV6_H
#define DHCPV6_H

#include <netinet/in.h>

#include "passt.h"
#include "packet.h"

int dhcpv6(const struct ctx *c, const struct pool *p,
	   const struct in6_addr *saddr, const struct in6_addr *daddr);
void dhcpv6_init(const struct ctx *c);

#endif /* DHCPV6_H */
