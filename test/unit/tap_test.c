// SPDX-License-Identifier: AGPL-3.0-or-later

/* tap_test.c - Unit tests for tap.c's virtio-net header handling (pasta's
 * tap with offloads): frames go in through tap_frames_handle(), the same
 * path as frames read from the tap, with a header in front as the kernel
 * writes it. Malformed headers must be dropped and counted in
 * tap_stats.bad_vnet, never reach a protocol handler; good ones (TCP
 * super-segments, UDP super-datagrams, partial checksums) must reach them
 * as the segments or datagrams they stand for. On the way out,
 * tap_send_frames_gso() writes the header the kernel expects.
 *
 * Build and run (from test/unit): make, or
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -g -fsanitize=address,undefined \
 *      -I../.. tap_test.c -o tap_test && ./tap_test
 *
 * tap.c is included; the protocol handlers are stubbed here and record what
 * they were handed.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../tap.c"
#include "../../util.c"
#include "../../packet.c"
#include "../../log.c"
#include "../../checksum.c"
#include "../../pcap.c"
#include "unit.h"

/* What the stubbed L4 handlers saw */
struct seen {
	int calls;
	size_t n;		/* packets */
	size_t bytes;		/* L4 bytes, headers included */
	size_t first_len;	/* length of the first packet */
	size_t last_len;
	int lens_ok;		/* each UDP length field matches its packet */
};
static struct seen seen_tcp, seen_udp;

static void seen_record(struct seen *s, const struct pool *p,
			size_t idx, int udp)
{
	size_t i;

	s->calls++;
	for (i = idx; i < p->count; i++) {
		size_t len = p->pkt[i].iov_len;
		const char *l4 = packet_get(p, i, 0, len, NULL);

		if (!l4)
			continue;
		if (!s->n)
			s->first_len = len;
		s->last_len = len;
		s->n++;
		s->bytes += len;
		if (udp && get_be16(l4 + 4) != len)
			s->lens_ok = 0;
	}
}

int tcp_tap_handler(struct ctx *c, int af, const void *saddr,
		    const void *daddr, const struct pool *p, size_t idx,
		    const struct timespec *now)
{
	(void)c; (void)af; (void)saddr; (void)daddr; (void)now;
	seen_record(&seen_tcp, p, idx, 0);
	return (int)(p->count - idx);
}

int udp_tap_handler(struct ctx *c, int af, const void *saddr,
		    const void *daddr, const struct pool *p, size_t idx,
		    const struct timespec *now)
{
	(void)c; (void)af; (void)saddr; (void)daddr; (void)now;
	seen_record(&seen_udp, p, idx, 1);
	return (int)(p->count - idx);
}

int icmp_tap_handler(struct ctx *c, int af, const void *saddr,
		     const void *daddr, const struct pool *p, size_t idx,
		     const struct timespec *now)
{
	(void)c; (void)af; (void)saddr; (void)daddr; (void)now;
	return (int)(p->count - idx);
}

int arp(const struct ctx *c, const struct pool *p)
{
	(void)c; (void)p;
	return 1;
}

int dhcp(const struct ctx *c, const struct pool *p)
{
	(void)c; (void)p;
	return 1;
}

int ndp(const struct ctx *c, const struct in6_addr *saddr, const struct pool *p)
{
	(void)c; (void)saddr; (void)p;
	return 0;
}

int dhcpv6(const struct ctx *c, const struct pool *p, const struct in6_addr *saddr,
	   const struct in6_addr *daddr)
{
	(void)c; (void)p; (void)saddr; (void)daddr;
	return 1;
}

void tcp_tap_reset(struct ctx *c) { (void)c; }
void udp_tap_reset(struct ctx *c) { (void)c; }
void icmp_tap_reset(struct ctx *c) { (void)c; }

static struct ctx c;
static uint8_t frame[TAP_VNET_HDR_LEN + TAP_GSO_FRAME_MAX + 64];

/**
 * vnet() - Write a virtio-net header at the start of frame[]
 */
static void vnet(uint8_t flags, uint8_t gso_type, uint16_t hdr_len,
		 uint16_t gso_size, uint16_t csum_start, uint16_t csum_off)
{
	struct virtio_net_hdr_mrg_rxbuf h = { 0 };

	h.hdr.flags = flags;
	h.hdr.gso_type = gso_type;
	h.hdr.hdr_len = htole16(hdr_len);
	h.hdr.gso_size = htole16(gso_size);
	h.hdr.csum_start = htole16(csum_start);
	h.hdr.csum_offset = htole16(csum_off);
	memcpy(frame, &h, sizeof(h));
}

/**
 * ip4_frame() - Ethernet, IPv4 and an L4 header of @proto, @plen bytes of
 *		 payload after it, behind the virtio-net header
 *
 * Return: frame length, virtio-net header included
 */
static size_t ip4_frame(uint8_t proto, size_t plen)
{
	uint8_t *e = frame + TAP_VNET_HDR_LEN, *ip = e + ETH_HDR_LEN, *l4;
	size_t l4h = proto == IPPROTO_TCP ? 20 : 8, tot = 20 + l4h + plen;

	memset(e, 0, ETH_HDR_LEN + tot);
	memset(e, 0xff, 6);
	e[6] = 0x02;
	put_be16(e + 12, ETHERTYPE_IP);
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)tot);
	put_be16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, "198.51.100.2", ip + 12);
	inet_pton(AF_INET, "203.0.113.1", ip + 16);
	l4 = ip + 20;
	put_be16(l4, 40000);
	put_be16(l4 + 2, 5201);
	if (proto == IPPROTO_TCP) {
		l4[12] = 5 << 4;
		l4[13] = 0x10;
	} else {
		put_be16(l4 + 4, (uint16_t)(l4h + plen));
	}
	return TAP_VNET_HDR_LEN + ETH_HDR_LEN + tot;
}

/**
 * ip6_frame() - As ip4_frame(), IPv6
 */
static size_t ip6_frame(uint8_t proto, size_t plen)
{
	uint8_t *e = frame + TAP_VNET_HDR_LEN, *ip = e + ETH_HDR_LEN, *l4;
	size_t l4h = proto == IPPROTO_TCP ? 20 : 8;

	memset(e, 0, ETH_HDR_LEN + 40 + l4h + plen);
	memset(e, 0xff, 6);
	e[6] = 0x02;
	put_be16(e + 12, ETHERTYPE_IPV6);
	ip[0] = 0x60;
	put_be16(ip + 4, (uint16_t)(l4h + plen));
	ip[6] = proto;
	ip[7] = 64;
	inet_pton(AF_INET6, "2001:db8::2", ip + 8);
	inet_pton(AF_INET6, "2001:db8:1::1", ip + 24);
	l4 = ip + 40;
	put_be16(l4, 40000);
	put_be16(l4 + 2, 5201);
	if (proto == IPPROTO_TCP) {
		l4[12] = 5 << 4;
		l4[13] = 0x10;
	} else {
		put_be16(l4 + 4, (uint16_t)(l4h + plen));
	}
	return TAP_VNET_HDR_LEN + ETH_HDR_LEN + 40 + l4h + plen;
}

/**
 * feed() - Hand frame[] of @len to tap_frames_handle()
 *
 * Return: increase of tap_stats.bad_vnet
 */
static unsigned long feed(size_t len)
{
	struct iovec iov = { .iov_base = frame, .iov_len = len };
	struct timespec now = { 0 };
	unsigned long before = tap_stats.bad_vnet;

	memset(&seen_tcp, 0, sizeof(seen_tcp));
	memset(&seen_udp, 0, sizeof(seen_udp));
	seen_udp.lens_ok = seen_tcp.lens_ok = 1;
	tap_frames_handle(&c, &iov, 1, &now);
	return tap_stats.bad_vnet - before;
}

#define L4OFF4	(ETH_HDR_LEN + 20)
#define L4OFF6	(ETH_HDR_LEN + 40)
#define NC	VIRTIO_NET_HDR_F_NEEDS_CSUM

/* Good headers: no offload, partial checksum, TSO, USO */
static void test_good(void)
{
	size_t len;

	len = ip4_frame(IPPROTO_TCP, 1000);
	vnet(0, 0, 0, 0, 0, 0);
	CHECK(feed(len) == 0 && seen_tcp.n == 1);

	vnet(NC, 0, 0, 0, L4OFF4, 16);
	CHECK(feed(len) == 0 && seen_tcp.n == 1);

	/* A 64 KiB TCP super-segment, MSS 1448: one segment to the handler,
	 * all of its payload
	 */
	len = ip4_frame(IPPROTO_TCP, 65535 - 40);
	vnet(NC, VIRTIO_NET_HDR_GSO_TCPV4, L4OFF4 + 20, 1448, L4OFF4, 16);
	CHECK(feed(len) == 0 && seen_tcp.n == 1 &&
	      seen_tcp.bytes == 65535 - 20);

	len = ip6_frame(IPPROTO_TCP, 65535 - 20);
	vnet(NC, VIRTIO_NET_HDR_GSO_TCPV6, L4OFF6 + 20, 1428, L4OFF6, 16);
	CHECK(feed(len) == 0 && seen_tcp.n == 1 && seen_tcp.bytes == 65535);

	/* UDP super-datagram: 10 datagrams of 1000 bytes and one of 500 */
	len = ip4_frame(IPPROTO_UDP, 10500);
	vnet(NC, VIRTIO_NET_HDR_GSO_UDP_L4, L4OFF4 + 8, 1000, L4OFF4, 6);
	CHECK(feed(len) == 0 && seen_udp.n == 11 &&
	      seen_udp.first_len == 1008 && seen_udp.last_len == 508 &&
	      seen_udp.bytes == 10500 + 11 * 8 && seen_udp.lens_ok);

	len = ip6_frame(IPPROTO_UDP, 3000);
	vnet(NC, VIRTIO_NET_HDR_GSO_UDP_L4, L4OFF6 + 8, 1000, L4OFF6, 6);
	CHECK(feed(len) == 0 && seen_udp.n == 3 && seen_udp.lens_ok);
}

/* Malformed headers: dropped, counted, nothing reaches a handler */
static void test_bad(void)
{
	size_t len4 = ip4_frame(IPPROTO_TCP, 20000), len;

	/* gso_size 0, absurd */
	vnet(NC, VIRTIO_NET_HDR_GSO_TCPV4, 0, 0, L4OFF4, 16);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0);
	vnet(NC, VIRTIO_NET_HDR_GSO_TCPV4, 0, 65535, L4OFF4, 16);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0);

	/* hdr_len beyond the frame */
	vnet(NC, VIRTIO_NET_HDR_GSO_TCPV4, 30000, 1448, L4OFF4, 16);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0);

	/* csum_start, csum_offset beyond the frame, or not the L4 checksum */
	vnet(NC, 0, 0, 0, 40000, 16);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0);
	vnet(NC, 0, 0, 0, L4OFF4, 30000);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0);
	vnet(NC, 0, 0, 0, L4OFF4 + 4, 16);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0);
	vnet(NC, 0, 0, 0, L4OFF4, 6);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0);

	/* unknown GSO type, UFO (never negotiated), unknown flag */
	vnet(NC, 9, 0, 1448, L4OFF4, 16);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0);
	vnet(NC, VIRTIO_NET_HDR_GSO_UDP, 0, 1448, L4OFF4, 16);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0);
	vnet(0x80, 0, 0, 0, 0, 0);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0);

	/* GSO type not matching family or protocol */
	vnet(NC, VIRTIO_NET_HDR_GSO_TCPV6, 0, 1448, L4OFF4, 16);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0);
	vnet(NC, VIRTIO_NET_HDR_GSO_UDP_L4, 0, 1448, L4OFF4, 6);
	CHECK(feed(len4) == 1 && seen_tcp.n == 0 && seen_udp.n == 0);
	len = ip4_frame(IPPROTO_UDP, 20000);
	vnet(NC, VIRTIO_NET_HDR_GSO_TCPV4, 0, 1448, L4OFF4, 6);
	CHECK(feed(len) == 1 && seen_udp.n == 0);

	/* GSO on a non-TCP/UDP packet: ICMP, and a non-IP frame */
	len = ip4_frame(IPPROTO_ICMP, 20000);
	vnet(0, VIRTIO_NET_HDR_GSO_TCPV4, 0, 1448, 0, 0);
	CHECK(feed(len) == 1);
	put_be16(frame + TAP_VNET_HDR_LEN + 12, ETHERTYPE_ARP);
	CHECK(feed(len) == 1);

	/* USO that splits into too many datagrams */
	len = ip4_frame(IPPROTO_UDP, 20000);
	vnet(NC, VIRTIO_NET_HDR_GSO_UDP_L4, 0, 10, L4OFF4, 6);
	CHECK(feed(len) == 1 && seen_udp.n == 0);

	/* Larger than the MTU without a GSO type */
	len = ip6_frame(IPPROTO_TCP, 65535 - 20);
	vnet(NC, 0, 0, 0, L4OFF6, 16);
	CHECK(feed(len) == 1 && seen_tcp.n == 0);

	/* Shorter than the header itself */
	CHECK(feed(TAP_VNET_HDR_LEN - 2) == 0 && seen_tcp.n == 0);
}

/* The header we write: partial checksum and TSO for a TCP super-segment */
static void test_out(void)
{
	struct virtio_net_hdr_mrg_rxbuf h;
	struct tap_gso g = { .gso_size = 1448, .partial = 1 };
	const uint8_t *e = frame + TAP_VNET_HDR_LEN;

	ip4_frame(IPPROTO_TCP, 20000);
	tap_vnet_hdr(&h, e, 60000, &g);
	CHECK(h.hdr.flags == NC && h.hdr.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 &&
	      le16toh(h.hdr.gso_size) == 1448 &&
	      le16toh(h.hdr.csum_start) == L4OFF4 &&
	      le16toh(h.hdr.csum_offset) == 16 &&
	      le16toh(h.hdr.hdr_len) == L4OFF4 + 20);

	ip6_frame(IPPROTO_UDP, 3000);
	g.gso_size = 0;
	tap_vnet_hdr(&h, e, 3000, &g);
	CHECK(h.hdr.flags == NC && h.hdr.gso_type == 0 &&
	      le16toh(h.hdr.csum_start) == L4OFF6 &&
	      le16toh(h.hdr.csum_offset) == 6);

	tap_vnet_hdr(&h, e, 3000, NULL);
	CHECK(!h.hdr.flags && !h.hdr.gso_type && !h.hdr.csum_start);
}

/* A partial checksum completed for the capture is the full checksum */
static void test_csum_complete(void)
{
	uint8_t *e = frame + TAP_VNET_HDR_LEN, *ip = e + ETH_HDR_LEN;
	size_t len = ip4_frame(IPPROTO_TCP, 999) - TAP_VNET_HDR_LEN, l4len;
	struct in_addr s, d;
	uint16_t full, part;
	size_t i;

	for (i = 0; i < 999; i++)
		e[L4OFF4 + 20 + i] = (uint8_t)(i * 7);
	memcpy(&s, ip + 12, 4);
	memcpy(&d, ip + 16, 4);
	l4len = len - L4OFF4;

	full = csum(e + L4OFF4, l4len,
		    proto_ipv4_header_psum((uint16_t)l4len, IPPROTO_TCP, s, d));
	part = (uint16_t)~csum_fold(proto_ipv4_header_psum((uint16_t)l4len,
							  IPPROTO_TCP, s, d));
	memcpy(e + L4OFF4 + 16, &part, 2);
	tap_csum_complete(e, len, L4OFF4, 16);
	CHECK(!memcmp(e + L4OFF4 + 16, &full, 2));
}

int main(void)
{
	log_set_stderr(0);
	c.mode = MODE_PASTA;
	c.fd_tap = -1;
	c.mtu = 1500;
	c.ifi4 = c.ifi6 = 1;
	tap_vnet_set(TAP_VNET_HDR_LEN, TAP_OFF_CSUM | TAP_OFF_TSO | TAP_OFF_USO);

	test_good();
	test_bad();
	test_out();
	test_csum_complete();

	printf("tap: %i checks, %i failed\n", checks, failures);
	return failures ? 1 : 0;
}
