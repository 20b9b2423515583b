/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * checksum.h - Internet checksum (RFC 1071) for IPv4, UDP, TCP, ICMP
 */

#ifndef CHECKSUM_H
#define CHECKSUM_H

#include <stdint.h>
#include <stddef.h>
#include <netinet/in.h>

uint32_t sum_16b(const void *buf, size_t len);
uint16_t csum_fold(uint32_t sum);
uint16_t csum(const void *buf, size_t len, uint32_t init);
uint32_t proto_ipv4_header_psum(uint16_t l4len, uint8_t proto,
				struct in_addr saddr, struct in_addr daddr);
uint32_t proto_ipv6_header_psum(uint32_t l4len, uint8_t proto,
				const struct in6_addr *saddr,
				const struct in6_addr *daddr);
uint16_t csum_ip4_header(uint16_t l3len, uint8_t proto,
			 struct in_addr saddr, struct in_addr daddr);

#endif /* CHECKSUM_H */
