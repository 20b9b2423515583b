/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * dhcp.h - Minimal DHCP server (RFC 2131, RFC 2132)
 */

#ifndef DHCP_H
#define DHCP_H

#include "passt.h"
#include "packet.h"

int dhcp(const struct ctx *c, const struct pool *p);
void dhcp_init(void);

#endif /* DHCP_H */
