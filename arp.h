/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * arp.h - ARP responder (RFC 826)
 */

#ifndef ARP_H
#define ARP_H

#include "passt.h"
#include "packet.h"

int arp(const struct ctx *c, const struct pool *p);

#endif /* ARP_H */
