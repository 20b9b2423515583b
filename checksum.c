// SPDX-License-Identifier: AGPL-3.0-or-later

/* checksum.c - Internet checksum (RFC 1071) and pseudo-headers
 *
 * Theory of operation: the ones' complement sum is accumulated in 32 bits
 * over 16-bit words (a 64 KiB packet can't overflow it), then folded. The
 * pseudo-header sums follow RFC 768 (IPv4) and RFC 8200 8.1 (IPv6).
 */

#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include "checksum.h"

/**
 * sum_16b() - Ones' complement sum of @len bytes at @buf, unfolded
 *
 * Return: 32-bit partial sum, to be folded with csum_fold()
 */
uint32_t sum_16b(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t sum = 0;
	uint16_t w;

	while (len >= 2) {
		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}

	if (len) {
		w = 0;
		memcpy(&w, p, 1);
		sum += w;
	}

	while (sum >> 32)
		sum = (sum & 0xffffffff) + (sum >> 32);

	return (uint32_t)sum;
}

/**
 * csum_fold() - Fold a 32-bit partial sum and complement it
 *
 * Return: checksum in network byte order, as stored in headers
 */
uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);

	return (uint16_t)~sum;
}

/**
 * csum() - Checksum of @len bytes at @buf, plus a partial sum @init
 *
 * Return: checksum in network byte order
 */
uint16_t csum(const void *buf, size_t len, uint32_t init)
{
	uint64_t sum = (uint64_t)sum_16b(buf, len) + init;

	while (sum >> 32)
		sum = (sum & 0xffffffff) + (sum >> 32);

	return csum_fold((uint32_t)sum);
}

/**
 * proto_ipv4_header_psum() - Partial sum of the IPv4 pseudo-header
 * @l4len:	L4 header + payload length
 * @proto:	Protocol number
 * @saddr:	Source address
 * @daddr:	Destination address
 *
 * Return: partial sum (RFC 768)
 */
uint32_t proto_ipv4_header_psum(uint16_t l4len, uint8_t proto,
				struct in_addr saddr, struct in_addr daddr)
{
	uint32_t sum = htons(proto);

	sum += htons(l4len);
	sum += (saddr.s_addr >> 16) & 0xffff;
	sum += saddr.s_addr & 0xffff;
	sum += (daddr.s_addr >> 16) & 0xffff;
	sum += daddr.s_addr & 0xffff;

	return sum;
}

/**
 * proto_ipv6_header_psum() - Partial sum of the IPv6 pseudo-header
 *
 * Return: partial sum (RFC 8200 8.1)
 */
uint32_t proto_ipv6_header_psum(uint32_t l4len, uint8_t proto,
				const struct in6_addr *saddr,
				const struct in6_addr *daddr)
{
	uint32_t sum = htons(proto);

	sum += htons((uint16_t)(l4len >> 16));
	sum += htons((uint16_t)(l4len & 0xffff));
	sum += sum_16b(saddr, sizeof(*saddr));
	sum += sum_16b(daddr, sizeof(*daddr));

	return sum;
}

/**
 * csum_ip4_header() - Checksum of an option-less IPv4 header
 * @l3len:	Total length
 * @proto:	Protocol
 * @saddr:	Source address
 * @daddr:	Destination address
 *
 * Only the fields we vary are summed: version/IHL 0x45, TOS 0, ID 0, flags
 * DF, TTL 255. Keep in sync with tap.c's header template.
 *
 * Return: checksum in network byte order
 */
uint16_t csum_ip4_header(uint16_t l3len, uint8_t proto,
			 struct in_addr saddr, struct in_addr daddr)
{
	uint32_t sum = htons(0x4500) + htons(l3len) + htons(0x4000) +
		       htons((uint16_t)(255 << 8 | proto));

	sum += (saddr.s_addr >> 16) & 0xffff;
	sum += saddr.s_addr & 0xffff;
	sum += (daddr.s_addr >> 16) & 0xffff;
	sum += daddr.s_addr & 0xffff;

	return csum_fold(sum);
}
