// SPDX-License-Identifier: AGPL-3.0-or-later

/* tap.c - Guest-facing side: frame input, parsing, dispatch, and output
 *
 * Theory of operation:
 *
 * Input. passt reads qemu's stream socket: frames each prefixed by a 32-bit
 * big-endian length, many per read(), the last one possibly incomplete (kept
 * and completed by the next read). pasta reads the tap device: one frame per
 * read(). Either way frames land in one static buffer, pkt_buf, and a pool
 * of descriptors (packet.h) points at them.
 *
 * Parsing. Each frame is parsed once, here, through packet_get(): Ethernet,
 * then IPv4 (header length, total length, no fragments) or IPv6 (payload
 * length, extension header chain, no fragments), then the L4 header. Every
 * length a header claims is checked against the bytes we actually have, and
 * the packet is trimmed to what the header says (Ethernet pads short frames).
 * Anything malformed is dropped and counted in tap_stats, with a
 * rate-limited log line: the guest is untrusted and must not be able to
 * crash us or flood the log.
 *
 * Dispatch. ARP, DHCP, NDP and DHCPv6 are answered locally, one message at a
 * time. TCP, UDP and ICMP packets are sorted into per-flow sequences (same
 * addresses, protocol and ports), so that their handlers see a whole batch of
 * a connection's segments at once.
 *
 * Output. Handlers build complete Ethernet frames; tap_send_frames() writes a
 * batch with one sendmsg() (passt, adding length prefixes) or one write()
 * per frame (pasta, as the tap device wants). A partial write on the stream
 * socket is completed before anything else is sent, as the stream would
 * otherwise lose framing.
 *
 * Limits: PKT_BUF_SIZE bytes of frames and TAP_POOL_SIZE frames per batch;
 * TAP_SEQS flow sequences per batch (more flows flush early).
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "passt.h"
#include "util.h"
#include "log.h"
#include "packet.h"
#include "checksum.h"
#include "tap.h"
#include "pcap.h"
#include "arp.h"
#include "dhcp.h"
#include "ndp.h"
#include "dhcpv6.h"
#include "tcp.h"
#include "udp.h"
#include "icmp.h"

#define PKT_BUF_SIZE		(8 * 1024 * 1024)	/* ~128 max frames */
#define TAP_POOL_SIZE		4096	/* frames per batch: small segments */
#define TAP_SEQS		128	/* flow sequences per batch */
#define TAP_SEQ_PKTS		TAP_POOL_SIZE	/* frames per sequence */
#define IP6_EXT_MAX		16	/* extension headers we walk at most */
#define TAP_READ_ROUNDS		8	/* reads per wake-up: fairness */
#define TAP_STREAM_DRAIN_MS	500	/* bound on completing a write */

#define DHCP_SERVER_PORT	67
#define DHCPV6_SERVER_PORT	547

struct tap_stats tap_stats;

static char pkt_buf[PKT_BUF_SIZE] __attribute__((aligned(64)));
PACKET_POOL(pool_tap, TAP_POOL_SIZE, pkt_buf, sizeof(pkt_buf));

/* passt: bytes of an incomplete frame kept at the start of pkt_buf */
static size_t tap_partial;

/**
 * struct tap_seq - Sequence of packets of one flow in the current batch
 * @af:		AF_INET or AF_INET6
 * @proto:	IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6
 * @saddr:	Source address (struct in_addr or struct in6_addr)
 * @daddr:	Destination address
 * @sport:	Source port (or echo identifier), host order
 * @dport:	Destination port, host order
 * @pool:	L4 headers and payloads, in the order they arrived
 */
struct tap_seq {
	int af;
	uint8_t proto;
	union {
		struct in_addr a4;
		struct in6_addr a6;
	} saddr, daddr;
	uint16_t sport;
	uint16_t dport;
	struct pool pool;
};

static struct tap_seq tap_seqs[TAP_SEQS];
static struct iovec tap_seq_pkts[TAP_SEQS][TAP_SEQ_PKTS];
static int tap_seq_count;

/* Output buffer for frames built one at a time (local services, errors):
 * the frame starts 2 bytes in, so that the IP header after the 14-byte
 * Ethernet header is 4-byte aligned
 */
static char tap_out_raw[TAP_FRAME_MAX + 64] __attribute__((aligned(64)));
#define tap_out_buf	(tap_out_raw + 2)

/**
 * tap_drop() - Count and log a dropped frame, rate-limited
 * @counter:	Counter to increase
 * @why:	Reason, for the log
 */
#define tap_drop(counter, why)						\
	do {								\
		tap_stats.counter++;					\
		warn_ratelimit("tap: dropped malformed frame: %s "	\
			       "(%lu so far)", why, tap_stats.counter);	\
	} while (0)

/**
 * tap_stream_write() - Write all of @iov to the stream socket, bounded
 * @c:		Execution context
 * @iov:	Buffers
 * @cnt:	Number of buffers
 * @frames_end:	Byte offsets where each frame ends, to count frames sent
 * @nframes:	Number of frames
 *
 * Return: frames written completely
 */
/* #syscalls:passt sendmsg sendto poll|ppoll shutdown */
static size_t tap_stream_write(struct ctx *c, const struct iovec *iov,
			       size_t cnt, const size_t *frames_end,
			       size_t nframes)
{
	struct msghdr mh = { .msg_iov = (struct iovec *)(uintptr_t)iov,
			     .msg_iovlen = cnt };
	size_t done = 0, sent_frames;
	ssize_t n;

	n = sendmsg(c->fd_tap, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			debug("tap: write error: %s", strerror(errno));
		return 0;
	}
	done = (size_t)n;

	/* Frames that went out whole */
	for (sent_frames = 0; sent_frames < nframes &&
	     frames_end[sent_frames] <= done; sent_frames++)
		;

	if (sent_frames == nframes || done == 0 ||
	    (sent_frames && frames_end[sent_frames - 1] == done))
		return sent_frames;

	/* A frame went out in part: finish it, or the stream loses framing */
	{
		size_t left = frames_end[sent_frames] - done, skip = done, i;
		struct pollfd pfd = { .fd = c->fd_tap, .events = POLLOUT };
		int waited = 0;

		for (i = 0; i < cnt && skip >= iov[i].iov_len; i++)
			skip -= iov[i].iov_len;

		while (left && i < cnt) {
			size_t chunk = MIN(iov[i].iov_len - skip, left);

			n = send(c->fd_tap, (char *)iov[i].iov_base + skip,
				 chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0) {
				if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
				    waited < TAP_STREAM_DRAIN_MS) {
					poll(&pfd, 1, 10);
					waited += 10;
					continue;
				}
				/* Framing is lost: the guest has to go */
				err("tap: can't complete frame, closing "
				    "guest connection");
				shutdown(c->fd_tap, SHUT_RDWR);
				return sent_frames;
			}
			left -= (size_t)n;
			skip += (size_t)n;
			if (skip == iov[i].iov_len) {
				skip = 0;
				i++;
			}
		}
	}

	return sent_frames + 1;
}

/**
 * tap_send_frames() - Send a batch of frames to the guest or namespace
 * @c:		Execution context
 * @iov:	Buffers, @bufs_per_frame for each frame, Ethernet onwards
 * @bufs_per_frame: Buffers making up one frame
 * @nframes:	Number of frames
 *
 * Return: number of frames sent (the rest is dropped: the guest's TCP, or
 *	   ours, retransmits)
 */
/* #syscalls: writev */
size_t tap_send_frames(const struct ctx *c, const struct iovec *iov,
		       size_t bufs_per_frame, size_t nframes)
{
	struct ctx *cw = (struct ctx *)(uintptr_t)c;	/* fd_tap may close */
	size_t i, j, sent = 0;

	if (c->fd_tap < 0 || !nframes || bufs_per_frame > 8) {
		tap_stats.send_drop += nframes;
		return 0;
	}

	if (c->mode == MODE_PASST) {
		static struct iovec v[1024];
		static uint32_t prefix[128];
		static size_t ends[128];
		size_t start = 0;

		while (start < nframes) {
			size_t n = MIN(nframes - start, ARRAY_SIZE(prefix)), all = 0, cnt = 0, ok;

			n = MIN(n, ARRAY_SIZE(v) / (bufs_per_frame + 1));
			for (i = 0; i < n; i++) {
				const struct iovec *f = iov + (start + i) * bufs_per_frame;
				size_t flen = 0;

				for (j = 0; j < bufs_per_frame; j++)
					flen += f[j].iov_len;
				prefix[i] = htonl((uint32_t)flen);
				v[cnt].iov_base = &prefix[i];
				v[cnt++].iov_len = sizeof(uint32_t);
				for (j = 0; j < bufs_per_frame; j++)
					v[cnt++] = f[j];
				all += sizeof(uint32_t) + flen;
				ends[i] = all;
			}

			ok = tap_stream_write(cw, v, cnt, ends, n);
			sent += ok;
			if (ok < n)
				break;
			start += n;
		}
	} else {
		for (i = 0; i < nframes; i++) {
			const struct iovec *f = iov + i * bufs_per_frame;

			if (writev(c->fd_tap, f, (int)bufs_per_frame) < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					debug("tap: write error: %s",
					      strerror(errno));
				break;
			}
			sent++;
		}
	}

	/* Capture what actually went out */
	for (i = 0; i < sent; i++) {
		if (bufs_per_frame == 1) {
			pcap_iov(iov + i, 1);
		} else {
			static char flat[TAP_FRAME_MAX];
			size_t off = 0;

			for (j = 0; j < bufs_per_frame; j++) {
				const struct iovec *b = iov + i * bufs_per_frame + j;
				size_t l = MIN(b->iov_len, sizeof(flat) - off);

				memcpy(flat + off, b->iov_base, l);
				off += l;
			}
			pcap(flat, off);
		}
	}

	tap_stats.sent += sent;
	tap_stats.send_drop += nframes - sent;
	return sent;
}

/**
 * tap_send_single() - Send one complete Ethernet frame
 * @c:		Execution context
 * @frame:	Frame, Ethernet header onwards
 * @len:	Its length
 */
void tap_send_single(const struct ctx *c, const void *frame, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)frame,
			     .iov_len = len };

	tap_send_frames(c, &iov, 1, 1);
}

/**
 * tap_eth_hdr() - Write an Ethernet header towards the guest
 * @c:		Execution context
 * @buf:	Where to write it
 * @ethertype:	EtherType, host order
 *
 * Return: pointer just past the header
 */
void *tap_eth_hdr(const struct ctx *c, void *buf, uint16_t ethertype)
{
	struct ether_header *eh = buf;

	memcpy(eh->ether_dhost, c->mac_guest, ETH_ALEN);
	memcpy(eh->ether_shost, c->mac, ETH_ALEN);
	eh->ether_type = htons(ethertype);

	return (char *)buf + ETH_HDR_LEN;
}

/**
 * tap_ip4_hdr() - Write an option-less IPv4 header
 *
 * Return: pointer just past the header
 */
static void *tap_ip4_hdr(void *buf, struct in_addr src, struct in_addr dst,
			 size_t l4len, uint8_t proto)
{
	struct iphdr *ip = buf;
	uint16_t tot = (uint16_t)(IP4_HDR_LEN + l4len);

	ip->version = 4;
	ip->ihl = IP4_HDR_LEN / 4;
	ip->tos = 0;
	ip->tot_len = htons(tot);
	ip->id = 0;
	ip->frag_off = htons(IP_DF);
	ip->ttl = 255;
	ip->protocol = proto;
	ip->saddr = src.s_addr;
	ip->daddr = dst.s_addr;
	ip->check = csum_ip4_header(tot, proto, src, dst);

	return (char *)buf + IP4_HDR_LEN;
}

/**
 * tap_ip6_hdr() - Write an IPv6 header
 *
 * Return: pointer just past the header
 */
static void *tap_ip6_hdr(void *buf, const struct in6_addr *src,
			 const struct in6_addr *dst, size_t l4len,
			 uint8_t proto, uint32_t flow)
{
	struct ip6_hdr *ip6 = buf;

	ip6->ip6_flow = htonl((6U << 28) | (flow & 0xfffff));
	ip6->ip6_plen = htons((uint16_t)l4len);
	ip6->ip6_nxt = proto;
	ip6->ip6_hlim = 255;	/* RFC 4861 7.1: NDP requires 255 */
	ip6->ip6_src = *src;
	ip6->ip6_dst = *dst;

	return (char *)buf + IP6_HDR_LEN;
}

/**
 * tap_udp4_send() - Send a UDP datagram over IPv4 to the guest
 * @c:		Execution context
 * @src:	Source address
 * @sport:	Source port, host order
 * @dst:	Destination address
 * @dport:	Destination port, host order
 * @in:		Payload
 * @len:	Payload length
 */
void tap_udp4_send(const struct ctx *c, struct in_addr src, in_port_t sport,
		   struct in_addr dst, in_port_t dport,
		   const void *in, size_t len)
{
	size_t l4len = UDP_HDR_LEN + len;
	struct udphdr *uh;
	char *p;

	if (l4len + IP4_HDR_LEN > MTU_MAX)
		return;

	p = tap_eth_hdr(c, tap_out_buf, ETHERTYPE_IP);
	uh = tap_ip4_hdr(p, src, dst, l4len, IPPROTO_UDP);
	uh->source = htons(sport);
	uh->dest = htons(dport);
	uh->len = htons((uint16_t)l4len);
	uh->check = 0;
	memcpy(uh + 1, in, len);
	uh->check = csum(uh, l4len, proto_ipv4_header_psum((uint16_t)l4len,
							   IPPROTO_UDP,
							   src, dst));
	if (!uh->check)
		uh->check = 0xffff;	/* RFC 768: zero means "none" */

	tap_send_single(c, tap_out_buf, ETH_HDR_LEN + IP4_HDR_LEN + l4len);
}

/**
 * tap_udp6_send() - Send a UDP datagram over IPv6 to the guest
 * @c:		Execution context
 * @src:	Source address
 * @sport:	Source port, host order
 * @dst:	Destination address
 * @dport:	Destination port, host order
 * @flow:	Flow label
 * @in:		Payload
 * @len:	Payload length
 */
void tap_udp6_send(const struct ctx *c,
		   const struct in6_addr *src, in_port_t sport,
		   const struct in6_addr *dst, in_port_t dport,
		   uint32_t flow, const void *in, size_t len)
{
	size_t l4len = UDP_HDR_LEN + len;
	struct udphdr *uh;
	char *p;

	if (l4len + IP6_HDR_LEN > MTU_MAX)
		return;

	p = tap_eth_hdr(c, tap_out_buf, ETHERTYPE_IPV6);
	uh = tap_ip6_hdr(p, src, dst, l4len, IPPROTO_UDP, flow);
	uh->source = htons(sport);
	uh->dest = htons(dport);
	uh->len = htons((uint16_t)l4len);
	uh->check = 0;
	memcpy(uh + 1, in, len);
	uh->check = csum(uh, l4len, proto_ipv6_header_psum((uint32_t)l4len,
							   IPPROTO_UDP,
							   src, dst));
	if (!uh->check)
		uh->check = 0xffff;	/* RFC 8200 8.1: zero is invalid */

	tap_send_single(c, tap_out_buf, ETH_HDR_LEN + IP6_HDR_LEN + l4len);
}

/**
 * tap_icmp4_send() - Send an ICMP message to the guest, checksum computed
 * @c:		Execution context
 * @src:	Source address
 * @dst:	Destination address
 * @in:		ICMP header and body (checksum field is overwritten)
 * @len:	Length
 */
void tap_icmp4_send(const struct ctx *c, struct in_addr src,
		    struct in_addr dst, const void *in, size_t len)
{
	char *p, *icmp;
	uint16_t sum;

	if (len < 4 || len + IP4_HDR_LEN > MTU_MAX)
		return;

	p = tap_eth_hdr(c, tap_out_buf, ETHERTYPE_IP);
	icmp = tap_ip4_hdr(p, src, dst, len, IPPROTO_ICMP);
	memcpy(icmp, in, len);
	memset(icmp + 2, 0, 2);
	sum = csum(icmp, len, 0);
	memcpy(icmp + 2, &sum, 2);

	tap_send_single(c, tap_out_buf, ETH_HDR_LEN + IP4_HDR_LEN + len);
}

/**
 * tap_icmp6_send() - Send an ICMPv6 message to the guest, checksum computed
 * @c:		Execution context
 * @src:	Source address
 * @dst:	Destination address
 * @in:		ICMPv6 header and body (checksum field is overwritten)
 * @len:	Length
 */
void tap_icmp6_send(const struct ctx *c, const struct in6_addr *src,
		    const struct in6_addr *dst, const void *in, size_t len)
{
	char *p, *icmp;
	uint16_t sum;

	if (len < 4 || len + IP6_HDR_LEN > MTU_MAX)
		return;

	p = tap_eth_hdr(c, tap_out_buf, ETHERTYPE_IPV6);
	icmp = tap_ip6_hdr(p, src, dst, len, IPPROTO_ICMPV6, 0);
	memcpy(icmp, in, len);
	memset(icmp + 2, 0, 2);
	sum = csum(icmp, len, proto_ipv6_header_psum((uint32_t)len,
						     IPPROTO_ICMPV6,
						     src, dst));
	memcpy(icmp + 2, &sum, 2);

	tap_send_single(c, tap_out_buf, ETH_HDR_LEN + IP6_HDR_LEN + len);
}

/**
 * tap_ip6_daddr() - Guest address to send to, matching the source's scope
 * @c:		Execution context
 * @src:	Source address of the packet we'll send
 *
 * Return: the guest's observed link-local address for a link-local source,
 *	   its observed global address otherwise
 */
const struct in6_addr *tap_ip6_daddr(const struct ctx *c,
				     const struct in6_addr *src)
{
	if (IN6_IS_ADDR_LINKLOCAL(src))
		return &c->ip6.addr_ll_seen;
	return &c->ip6.addr_seen;
}

/**
 * tap_seq_add() - Append an L4 packet to the sequence of its flow
 * @af:		Address family
 * @proto:	L4 protocol
 * @saddr:	Source address
 * @daddr:	Destination address
 * @l4:		L4 header and payload (inside pkt_buf)
 * @l4len:	Length
 *
 * Return: 0 if added, -1 if the sequence table or pool is full
 */
static int tap_seq_add(int af, uint8_t proto, const void *saddr,
		       const void *daddr, const char *l4, size_t l4len)
{
	size_t alen = af == AF_INET ? sizeof(struct in_addr) :
				      sizeof(struct in6_addr);
	uint16_t sport = 0, dport = 0;
	struct tap_seq *s;
	int i;

	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		sport = get_be16(l4);
		dport = get_be16(l4 + 2);
	} else if (l4len >= 6) {	/* ICMP echo: identifier */
		sport = get_be16(l4 + 4);
	}

	/* Most batches are one or a few flows: look at the latest first */
	for (i = tap_seq_count - 1; i >= 0; i--) {
		s = &tap_seqs[i];
		if (s->af == af && s->proto == proto && s->sport == sport &&
		    s->dport == dport && !memcmp(&s->saddr, saddr, alen) &&
		    !memcmp(&s->daddr, daddr, alen))
			return packet_add(&s->pool, l4, l4len);
	}

	if (tap_seq_count >= TAP_SEQS)
		return -1;

	s = &tap_seqs[tap_seq_count++];
	memset(&s->saddr, 0, sizeof(s->saddr));
	memset(&s->daddr, 0, sizeof(s->daddr));
	s->af = af;
	s->proto = proto;
	memcpy(&s->saddr, saddr, alen);
	memcpy(&s->daddr, daddr, alen);
	s->sport = sport;
	s->dport = dport;
	s->pool.buf = pkt_buf;
	s->pool.buf_size = sizeof(pkt_buf);
	s->pool.size = TAP_SEQ_PKTS;
	s->pool.pkt = tap_seq_pkts[s - tap_seqs];
	s->pool.count = 0;

	return packet_add(&s->pool, l4, l4len);
}

/**
 * tap_seqs_flush() - Hand every sequence of the batch to its L4 handler
 * @c:		Execution context
 * @now:	Current timestamp
 */
static void tap_seqs_flush(struct ctx *c, const struct timespec *now)
{
	int i;

	for (i = 0; i < tap_seq_count; i++) {
		struct tap_seq *s = &tap_seqs[i];
		size_t idx = 0;

		while (idx < s->pool.count) {
			int n;

			switch (s->proto) {
			case IPPROTO_TCP:
				n = c->no_tcp ? (int)s->pool.count :
				    tcp_tap_handler(c, s->af, &s->saddr,
						    &s->daddr, &s->pool, idx,
						    now);
				break;
			case IPPROTO_UDP:
				n = c->no_udp ? (int)s->pool.count :
				    udp_tap_handler(c, s->af, &s->saddr,
						    &s->daddr, &s->pool, idx,
						    now);
				break;
			default:	/* ICMP, ICMPv6 */
				n = c->no_icmp ? (int)s->pool.count :
				    icmp_tap_handler(c, s->af, &s->saddr,
						     &s->daddr, &s->pool, idx,
						     now);
				break;
			}

			/* Handlers consume at least one packet: no loops */
			idx += (size_t)MAX(n, 1);
		}
	}
	tap_seq_count = 0;
}

/**
 * tap_l4_add() - Queue an L4 packet for its handler, flushing when full
 */
static void tap_l4_add(struct ctx *c, int af, uint8_t proto,
		       const void *saddr, const void *daddr,
		       const char *l4, size_t l4len,
		       const struct timespec *now)
{
	if (tap_seq_add(af, proto, saddr, daddr, l4, l4len)) {
		tap_seqs_flush(c, now);
		tap_seq_add(af, proto, saddr, daddr, l4, l4len);
	}
}

/**
 * tap4_frame() - Parse and dispatch one IPv4 packet
 * @c:		Execution context
 * @p:		Pool holding the frame
 * @idx:	Index of the frame in @p
 * @now:	Current timestamp
 */
static void tap4_frame(struct ctx *c, const struct pool *p, size_t idx,
		       const struct timespec *now)
{
	size_t avail, hlen, tot, l4len;
	struct in_addr saddr, daddr;
	const struct iphdr *ip;
	struct iphdr iph;
	const char *l4;

	ip = packet_get(p, idx, ETH_HDR_LEN, IP4_HDR_LEN, &avail);
	if (!ip) {
		tap_drop(bad_l3, "IPv4 header truncated");
		return;
	}
	avail += IP4_HDR_LEN;

	/* Frames sit at any alignment in the stream: copy, then read */
	memcpy(&iph, ip, sizeof(iph));
	ip = &iph;

	hlen = (size_t)ip->ihl * 4;
	tot = ntohs(ip->tot_len);
	if (ip->version != 4 || hlen < IP4_HDR_LEN || hlen > avail) {
		tap_drop(bad_l3, "IPv4 bad version or header length");
		return;
	}
	if (tot < hlen || tot > avail) {
		tap_drop(bad_l3, "IPv4 total length inconsistent");
		return;
	}
	if (ntohs(ip->frag_off) & (IP_MF | IP_OFFMASK)) {
		tap_drop(bad_l3, "IPv4 fragment");
		return;
	}

	saddr.s_addr = ip->saddr;
	daddr.s_addr = ip->daddr;
	l4len = tot - hlen;
	l4 = packet_get(p, idx, ETH_HDR_LEN + hlen, l4len, NULL);
	if (!l4) {
		tap_drop(bad_l3, "IPv4 payload outside frame");
		return;
	}

	if (!IN4_IS_ADDR_UNSPECIFIED(&saddr) &&
	    !IN4_IS_ADDR_BROADCAST(&saddr) && !IN4_IS_ADDR_MULTICAST(&saddr))
		c->ip4.addr_seen = saddr;

	switch (ip->protocol) {
	case IPPROTO_UDP:
		if (l4len < UDP_HDR_LEN) {
			tap_drop(bad_l4, "UDP header truncated");
			return;
		}
		if (get_be16(l4 + 2) == DHCP_SERVER_PORT) {
			PACKET_POOL_P1(one, l4, l4len);

			if (c->no_dhcp)
				return;
			if (!dhcp(c, &one))
				tap_drop(bad_l4, "DHCP message malformed");
			return;
		}
		break;
	case IPPROTO_TCP:
		if (l4len < 20) {
			tap_drop(bad_l4, "TCP header truncated");
			return;
		}
		break;
	case IPPROTO_ICMP:
		if (l4len < ICMP_HDR_LEN) {
			tap_drop(bad_l4, "ICMP header truncated");
			return;
		}
		break;
	default:
		tap_stats.unhandled++;
		trace("tap: IPv4 protocol %u not handled", ip->protocol);
		return;
	}

	tap_l4_add(c, AF_INET, ip->protocol, &saddr, &daddr, l4, l4len, now);
}

/**
 * tap6_frame() - Parse and dispatch one IPv6 packet
 * @c:		Execution context
 * @p:		Pool holding the frame
 * @idx:	Index of the frame in @p
 * @now:	Current timestamp
 */
static void tap6_frame(struct ctx *c, const struct pool *p, size_t idx,
		       const struct timespec *now)
{
	const struct ip6_hdr *ip6;
	struct ip6_hdr ip6h;
	size_t avail, plen, off, l4len;
	struct in6_addr saddr, daddr;
	const char *l4;
	uint8_t nh;
	int i;

	ip6 = packet_get(p, idx, ETH_HDR_LEN, IP6_HDR_LEN, &avail);
	if (!ip6) {
		tap_drop(bad_l3, "IPv6 header truncated");
		return;
	}
	memcpy(&ip6h, ip6, sizeof(ip6h));
	ip6 = &ip6h;
	if ((ntohl(ip6->ip6_flow) >> 28) != 6) {
		tap_drop(bad_l3, "IPv6 bad version");
		return;
	}
	plen = ntohs(ip6->ip6_plen);
	if (plen > avail) {
		tap_drop(bad_l3, "IPv6 payload length beyond frame");
		return;
	}

	saddr = ip6->ip6_src;
	daddr = ip6->ip6_dst;
	nh = ip6->ip6_nxt;
	off = 0;	/* from the end of the fixed header */

	/* RFC 8200 4: walk extension headers, each checked to fit */
	for (i = 0; i < IP6_EXT_MAX; i++) {
		const uint8_t *ext;
		size_t elen;

		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING &&
		    nh != IPPROTO_DSTOPTS && nh != IPPROTO_FRAGMENT)
			break;

		if (nh == IPPROTO_FRAGMENT) {
			tap_drop(bad_l3, "IPv6 fragment");
			return;
		}

		if (off + 8 > plen ||
		    !(ext = packet_get(p, idx, ETH_HDR_LEN + IP6_HDR_LEN + off,
				       8, NULL))) {
			tap_drop(bad_l3, "IPv6 extension header truncated");
			return;
		}
		elen = ((size_t)ext[1] + 1) * 8;
		if (off + elen > plen) {
			tap_drop(bad_l3, "IPv6 extension header past end");
			return;
		}
		nh = ext[0];
		off += elen;
	}
	if (i == IP6_EXT_MAX) {
		tap_drop(bad_l3, "IPv6 extension header chain too long");
		return;
	}

	l4len = plen - off;
	l4 = packet_get(p, idx, ETH_HDR_LEN + IP6_HDR_LEN + off, l4len, NULL);
	if (!l4) {
		tap_drop(bad_l3, "IPv6 payload outside frame");
		return;
	}

	if (IN6_IS_ADDR_LINKLOCAL(&saddr))
		c->ip6.addr_ll_seen = saddr;
	else if (!IN6_IS_ADDR_UNSPECIFIED(&saddr) &&
		 !IN6_IS_ADDR_MULTICAST(&saddr))
		c->ip6.addr_seen = saddr;

	switch (nh) {
	case IPPROTO_ICMPV6: {
		PACKET_POOL_P1(one, l4, l4len);

		if (l4len < 4) {
			tap_drop(bad_l4, "ICMPv6 header truncated");
			return;
		}
		if (ndp(c, &saddr, &one))
			return;
		if (l4len < ICMP_HDR_LEN) {
			tap_drop(bad_l4, "ICMPv6 header truncated");
			return;
		}
		break;
	}
	case IPPROTO_UDP:
		if (l4len < UDP_HDR_LEN) {
			tap_drop(bad_l4, "UDP header truncated");
			return;
		}
		if (get_be16(l4 + 2) == DHCPV6_SERVER_PORT) {
			PACKET_POOL_P1(one, l4, l4len);

			/* 0: not for our server, an ordinary datagram */
			if (c->no_dhcpv6 ? IN6_IS_ADDR_MULTICAST(&daddr) :
					   dhcpv6(c, &one, &saddr, &daddr))
				return;
		}
		break;
	case IPPROTO_TCP:
		if (l4len < 20) {
			tap_drop(bad_l4, "TCP header truncated");
			return;
		}
		break;
	default:
		tap_stats.unhandled++;
		trace("tap: IPv6 next header %u not handled", nh);
		return;
	}

	tap_l4_add(c, AF_INET6, nh, &saddr, &daddr, l4, l4len, now);
}

/**
 * tap_pool_handle() - Capture, parse and dispatch the frames of pool_tap
 * @c:		Execution context
 * @now:	Current timestamp
 */
static void tap_pool_handle(struct ctx *c, const struct timespec *now)
{
	const struct pool *p = &pool_tap;
	size_t i;

	pcap_iov(p->pkt, p->count);

	for (i = 0; i < p->count; i++) {
		const struct ether_header *ehp;
		struct ether_header ehc, *eh = &ehc;
		size_t left;

		tap_stats.frames++;
		ehp = packet_get(p, i, 0, ETH_HDR_LEN, &left);
		if (!ehp) {
			tap_drop(bad_eth, "Ethernet header truncated");
			continue;
		}
		memcpy(eh, ehp, sizeof(*eh));

		/* The guest's address, for frames we send back */
		if (!(eh->ether_shost[0] & 1))
			memcpy(c->mac_guest, eh->ether_shost, ETH_ALEN);

		switch (ntohs(eh->ether_type)) {
		case ETHERTYPE_ARP: {
			const char *a = packet_get(p, i, ETH_HDR_LEN, left,
						   NULL);
			PACKET_POOL_P1(one, a, left);

			if (!c->ifi4)
				break;
			if (!a || !arp(c, &one))
				tap_drop(bad_l3, "ARP message malformed");
			break;
		}
		case ETHERTYPE_IP:
			if (c->ifi4)
				tap4_frame(c, p, i, now);
			break;
		case ETHERTYPE_IPV6:
			if (c->ifi6)
				tap6_frame(c, p, i, now);
			break;
		default:
			tap_stats.unhandled++;
			trace("tap: EtherType 0x%04x not handled",
			      ntohs(eh->ether_type));
			break;
		}
	}

	tap_seqs_flush(c, now);
}

/**
 * tap_frames_handle() - Parse and dispatch frames given as buffers
 * @c:		Execution context
 * @frames:	One buffer per frame (Ethernet onwards), copied to pkt_buf
 * @n:		Number of frames
 * @now:	Current timestamp
 *
 * Entry point for fuzzing and unit tests, same path as real input.
 */
void tap_frames_handle(struct ctx *c, const struct iovec *frames, size_t n,
		       const struct timespec *now)
{
	size_t i, off = 0;

	pool_flush(&pool_tap);
	for (i = 0; i < n; i++) {
		size_t len = frames[i].iov_len;

		if (len > sizeof(pkt_buf) - off)
			break;
		memcpy(pkt_buf + off, frames[i].iov_base, len);
		packet_add(&pool_tap, pkt_buf + off, len);
		off += len;
	}
	tap_pool_handle(c, now);
}

/**
 * tap_guest_gone() - The guest closed its connection: clean up, maybe quit
 * @c:		Execution context
 */
/* #syscalls:passt close exit_group */
static void tap_guest_gone(struct ctx *c)
{
	info("Client connection closed%s", c->one_off ? ", exiting" : "");

	if (c->one_off)
		exit(EXIT_SUCCESS);

	epoll_del(c->epollfd, c->fd_tap);
	close(c->fd_tap);
	c->fd_tap = -1;
	tap_partial = 0;
	memset(c->mac_guest, 0xff, sizeof(c->mac_guest));

	/* Its connections, flows and echo identifiers went with it */
	if (!c->no_tcp)
		tcp_tap_reset(c);
	if (!c->no_udp)
		udp_tap_reset(c);
	if (!c->no_icmp)
		icmp_tap_reset(c);
}

/**
 * tap_handler_passt() - Frames from qemu's stream socket
 * @c:		Execution context
 * @events:	epoll events
 * @now:	Current timestamp
 */
/* #syscalls:passt recvfrom */
void tap_handler_passt(struct ctx *c, uint32_t events,
		       const struct timespec *now)
{
	int round;

	if (events & EPOLLIN) {
		for (round = 0; round < TAP_READ_ROUNDS; round++) {
			size_t off = 0, end;
			ssize_t n;

			n = recv(c->fd_tap, pkt_buf + tap_partial,
				 sizeof(pkt_buf) - tap_partial, MSG_DONTWAIT);
			if (n == 0) {
				tap_guest_gone(c);
				return;
			}
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK ||
				    errno == EINTR)
					break;
				debug("tap: read error: %s", strerror(errno));
				tap_guest_gone(c);
				return;
			}

			end = tap_partial + (size_t)n;
			pool_flush(&pool_tap);

			/* Length-prefixed frames, the last may be partial */
			while (end - off >= sizeof(uint32_t)) {
				uint32_t flen = get_be32(pkt_buf + off);

				if (flen > TAP_FRAME_MAX) {
					/* No way to find the next frame */
					tap_stats.bad_len++;
					warn("tap: frame length %u exceeds "
					     "%u, dropping guest connection",
					     flen, TAP_FRAME_MAX);
					tap_pool_handle(c, now);
					tap_guest_gone(c);
					return;
				}
				if (end - off - sizeof(uint32_t) < flen)
					break;

				off += sizeof(uint32_t);
				if (flen < ETH_HDR_LEN) {
					tap_drop(bad_len, "frame too short");
				} else if (packet_add(&pool_tap,
						      pkt_buf + off, flen)) {
					tap_pool_handle(c, now);
					pool_flush(&pool_tap);
					packet_add(&pool_tap, pkt_buf + off,
						   flen);
				}
				off += flen;
			}

			tap_pool_handle(c, now);
			pool_flush(&pool_tap);

			/* Keep the incomplete frame for the next read */
			tap_partial = end - off;
			if (tap_partial)
				memmove(pkt_buf, pkt_buf + off, tap_partial);

			if ((size_t)n < sizeof(pkt_buf) / 2)
				break;
		}
	}

	if (c->fd_tap >= 0 && (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
		tap_guest_gone(c);
}

/**
 * tap_handler_pasta() - Frames from the tap device
 * @c:		Execution context
 * @events:	epoll events
 * @now:	Current timestamp
 */
/* #syscalls:pasta read exit_group */
void tap_handler_pasta(struct ctx *c, uint32_t events,
		       const struct timespec *now)
{
	int round;

	if (events & (EPOLLHUP | EPOLLERR))
		die("Tap device error or hang-up, exiting");

	if (!(events & EPOLLIN))
		return;

	for (round = 0; round < TAP_READ_ROUNDS; round++) {
		size_t off = 0;

		pool_flush(&pool_tap);
		while (sizeof(pkt_buf) - off >= TAP_FRAME_MAX &&
		       pool_tap.count < pool_tap.size) {
			ssize_t n = read(c->fd_tap, pkt_buf + off,
					 TAP_FRAME_MAX);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					debug("tap: read error: %s",
					      strerror(errno));
				break;
			}
			if ((size_t)n < ETH_HDR_LEN) {
				tap_drop(bad_len, "frame too short");
				continue;
			}
			packet_add(&pool_tap, pkt_buf + off, (size_t)n);
			off += ROUND_UP((size_t)n, 64);
		}

		if (!pool_tap.count)
			break;

		tap_pool_handle(c, now);

		if (sizeof(pkt_buf) - off >= TAP_FRAME_MAX &&
		    pool_tap.count < pool_tap.size)
			break;	/* drained */
	}
}

/**
 * tap_sock_unix_probe() - Is there a live listener on @path?
 *
 * Return: 1 if something accepts connections there, 0 otherwise
 */
static int tap_sock_unix_probe(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	ret = !connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return ret;
}

/**
 * tap_sock_unix_bind() - Bind and listen on @path, replacing a stale socket
 *
 * Return: listening socket, or -errno
 */
static int tap_sock_unix_bind(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;

	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (tap_sock_unix_probe(path))
			return -EADDRINUSE;
		unlink(path);	/* stale: nobody listens */
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;

	memcpy(a.sun_path, path, strlen(path) + 1);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 0)) {
		int ret = -errno;

		close(fd);
		return ret;
	}

	return fd;
}

/**
 * tap_sock_init() - passt: create the listening UNIX domain socket
 * @c:		Execution context
 */
void tap_sock_init(struct ctx *c)
{
	union epoll_ref ref = { .type = EPOLL_TYPE_TAP_LISTEN };
	int fd = -1, i;

	if (*c->sock_path) {
		fd = tap_sock_unix_bind(c->sock_path);
		if (fd < 0)
			die("Cannot bind UNIX domain socket %s for "
			    "-s/--socket: %s", c->sock_path, strerror(-fd));
	} else {
		for (i = 1; i <= UNIX_SOCK_MAX; i++) {
			snprintf(c->sock_path, sizeof(c->sock_path),
				 "/tmp/passt_%i.socket", i);
			fd = tap_sock_unix_bind(c->sock_path);
			if (fd >= 0)
				break;
		}
		if (fd < 0)
			die("No free UNIX domain socket among "
			    "/tmp/passt_1.socket .. /tmp/passt_%i.socket",
			    UNIX_SOCK_MAX);
	}

	c->fd_tap_listen = fd;
	ref.fd = fd;
	if (epoll_add(c->epollfd, EPOLLIN, ref))
		die("epoll_ctl on UNIX domain socket: %s", strerror(errno));

	info("UNIX domain socket bound at %s", c->sock_path);
	info("You can now start qemu (>= 7.2, with commit 13c6be96618c):");
	info("    kvm ... -device virtio-net-pci,netdev=s "
	     "-netdev stream,id=s,server=off,addr.type=unix,addr.path=%s",
	     c->sock_path);
	info("or qrap, for earlier qemu versions:");
	info("    ./qrap 5 kvm ... -net socket,fd=5 -net nic,model=virtio");
}

/**
 * tap_sock_start() - Serve a guest on a connected stream socket
 * @c:		Execution context
 * @fd:		Socket, non-blocking
 *
 * Return: 0 on success, -1 if @fd can't be used (left open)
 */
/* #syscalls:passt setsockopt */
static int tap_sock_start(struct ctx *c, int fd)
{
	union epoll_ref ref = { .type = EPOLL_TYPE_TAP_PASST };
	int sndbuf = 8 * 1024 * 1024;

	if (fd > FD_REF_MAX)
		return -1;

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));

	c->fd_tap = fd;
	tap_partial = 0;
	ref.fd = fd;
	if (epoll_add(c->epollfd, EPOLLIN | EPOLLRDHUP, ref)) {
		c->fd_tap = -1;
		return -1;
	}

	return 0;
}

/**
 * tap_listen_handler() - passt: accept a guest connection
 * @c:		Execution context
 * @events:	epoll events
 */
/* #syscalls:passt accept4 close */
void tap_listen_handler(struct ctx *c, uint32_t events)
{
	int fd;

	(void)events;

	fd = accept4(c->fd_tap_listen, NULL, NULL,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;

	if (c->fd_tap >= 0) {
		/* One guest at a time: refuse the newcomer */
		info("Refusing second guest connection");
		close(fd);
		return;
	}

	if (tap_sock_start(c, fd))
		close(fd);
	else
		info("Client connected");
}

/**
 * tap_sock_given() - passt -F/--fd: serve the guest on an inherited socket
 * @c:		Execution context
 *
 * Man page: a connected socket, opened by the parent (any address family,
 * or needing privileges we don't have). There's nothing to listen on, and
 * we quit once it closes (--one-off is implied).
 */
static void tap_sock_given(struct ctx *c)
{
	int fd = c->fd_tap_given, type = 0, flags;
	socklen_t sl = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) ||
	    type != SOCK_STREAM)
		die("-F/--fd %i is not a stream socket", fd);

	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC))
		die("Cannot set up -F/--fd %i: %s", fd, strerror(errno));

	if (tap_sock_start(c, fd))
		die("Cannot use -F/--fd %i: descriptor too large, or epoll "
		    "refused it", fd);

	info("Serving the guest on descriptor %i (-F)", fd);
}

/**
 * tap_backend_init() - Register the guest-side descriptor with epoll
 * @c:		Execution context
 */
void tap_backend_init(struct ctx *c)
{
	union epoll_ref ref = { .type = EPOLL_TYPE_TAP_PASTA };

	memset(c->mac_guest, 0xff, sizeof(c->mac_guest));

	if (c->mode == MODE_PASST) {
		if (c->fd_tap_given)
			tap_sock_given(c);
		else
			tap_sock_init(c);
		return;
	}

	ref.fd = c->fd_tap;
	if (epoll_add(c->epollfd, EPOLLIN | EPOLLRDHUP, ref))
		die("epoll_ctl on tap device: %s", strerror(errno));
}
