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
 * Offloads (pasta). The tap is opened with IFF_VNET_HDR unless
 * --no-tap-offload: each frame, both ways, follows a 12-byte virtio-net
 * header. tap_offload_init() offers the kernel partial checksums and TCP/UDP
 * segmentation (TUNSETOFFLOAD, dropping features the kernel refuses), so the
 * namespace hands us super-segments of up to 64 KiB whatever the MTU: a TCP
 * one goes to the TCP handler as the one big segment it stands for (sequence
 * and ACK bookkeeping are per byte), a UDP one is split here into datagrams
 * of gso_size. Checksums from the namespace are never verified (the kernel
 * did, or will), so partial ones need nothing. The header is checked like
 * any other input: tap_vnet_parse() against the frame, tap_vnet_l4_check()
 * against the parsed packet; anything inconsistent is dropped and counted
 * (bad_vnet). Towards the namespace, tap_send_frames_gso() is the one place
 * that puts something in front of a frame (passt's length prefix, or the
 * virtio-net header from tap_vnet_hdr()), from per-frame requests of the
 * builders (struct tap_gso): TCP sends up to 64 KiB per frame with gso_size
 * the namespace's MSS, TCP and UDP leave checksums to the kernel. passt's
 * frames don't change at all. Captures: super-segments are written whole,
 * partial checksums completed on the way to the file.
 *
 * Limits: PKT_BUF_SIZE bytes of frames and TAP_POOL_SIZE frames per batch;
 * TAP_SEQS flow sequences per batch (more flows flush early); a UDP
 * super-datagram splits into TAP_USO_SEGS_MAX datagrams at most.
 */

#include <endian.h>
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
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
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

#define PKT_BUF_SIZE		((size_t)8 * 1024 * 1024)	/* ~128 max frames */
#define TAP_POOL_SIZE		4096	/* frames per batch: small segments */
#define TAP_SEQS		128	/* flow sequences per batch */
#define TAP_SEQ_PKTS		TAP_POOL_SIZE	/* frames per sequence */
#define IP6_EXT_MAX		16	/* extension headers we walk at most */
#define TAP_READ_ROUNDS		8	/* reads per wake-up: fairness */
#define TAP_STREAM_DRAIN_MS	500	/* bound on completing a write */

#define DHCP_SERVER_PORT	67
#define DHCPV6_SERVER_PORT	547

/* Older uapi headers lack USO (Linux 6.2) */
#ifndef TUN_F_USO4
#define TUN_F_USO4		0x20
#define TUN_F_USO6		0x40
#endif
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#endif

/* Checksum field offsets, for csum_offset: RFC 9293 3.1, RFC 768 */
#define TCP_CSUM_OFF		16
#define UDP_CSUM_OFF		6

/* UDP super-datagrams from the namespace are split into datagrams of
 * gso_size, each with its own header, into this area after the frames. The
 * kernel sends at most UDP_MAX_SEGMENTS (64, or 128 since Linux 5.x) per
 * datagram: more than TAP_USO_SEGS_MAX is absurd and dropped.
 */
#define TAP_USO_SEGS_MAX	256
#define TAP_USO_BUF_SIZE	((size_t)4 * (TAP_GSO_FRAME_MAX +			\
				      TAP_USO_SEGS_MAX * UDP_HDR_LEN))

struct tap_stats tap_stats;

/* Frames, then the area where UDP super-datagrams are split */
static char pkt_buf[PKT_BUF_SIZE + TAP_USO_BUF_SIZE] __attribute__((aligned(64)));
PACKET_POOL(pool_tap, TAP_POOL_SIZE, pkt_buf, PKT_BUF_SIZE);
static size_t tap_uso_used;

/* pasta: virtio-net header length in front of frames on the tap (0: none),
 * and the offloads in use (TAP_OFF_*)
 */
static size_t tap_vnet_len;
static unsigned int tap_offload;

/**
 * struct tap_vnet_in - What the virtio-net header says about a frame we read
 * @gso_type:	VIRTIO_NET_HDR_GSO_*, without the ECN bit
 * @partial:	VIRTIO_NET_HDR_F_NEEDS_CSUM is set
 * @gso_size:	Segment size of a super-segment
 * @csum_start:	Where checksumming starts, from the Ethernet header
 * @csum_off:	Offset of the checksum field from @csum_start
 */
struct tap_vnet_in {
	uint8_t gso_type;
	uint8_t partial;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_off;
};

/* Per frame of pool_tap, when it came with a virtio-net header */
static struct tap_vnet_in tap_vnet_in[TAP_POOL_SIZE];

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
 * tap_l4_csum_at() - Where the L4 checksum of one of our frames starts
 * @frame:	Frame, Ethernet header onwards (at least the IP header)
 * @len:	Bytes available at @frame
 * @off:	Set to the checksum field's offset from the returned value
 *
 * Our frames carry no IPv4 options or IPv6 extension headers, but the IPv4
 * header length is read anyway.
 *
 * Return: offset of the TCP or UDP header in @frame, 0 if neither
 */
static size_t tap_l4_csum_at(const uint8_t *frame, size_t len, size_t *off)
{
	size_t l3 = ETH_HDR_LEN, l4;
	uint8_t proto;

	if (len < ETH_HDR_LEN + IP4_HDR_LEN)
		return 0;

	switch (get_be16(frame + 12)) {
	case ETHERTYPE_IP:
		l4 = l3 + (size_t)(frame[l3] & 0x0f) * 4;
		proto = frame[l3 + 9];
		break;
	case ETHERTYPE_IPV6:
		if (len < ETH_HDR_LEN + IP6_HDR_LEN)
			return 0;
		l4 = l3 + IP6_HDR_LEN;
		proto = frame[l3 + 6];
		break;
	default:
		return 0;
	}

	if (proto == IPPROTO_TCP)
		*off = TCP_CSUM_OFF;
	else if (proto == IPPROTO_UDP)
		*off = UDP_CSUM_OFF;
	else
		return 0;

	return l4;
}

/**
 * tap_vnet_hdr() - Build the virtio-net header for one frame we send
 * @hdr:	Header to fill, TAP_VNET_HDR_LEN bytes
 * @frame:	First buffer of the frame, Ethernet header onwards
 * @len:	Length of that buffer
 * @gso:	Offload request for the frame, NULL for none
 *
 * Shared by every front end that puts a virtio-net header first (pasta's tap
 * today): NEEDS_CSUM with csum_start and csum_offset when the L4 checksum is
 * partial, a GSO type and size when the frame is a super-segment. Fields are
 * little-endian: virtio 1.0, and TUNSETVNETLE on the tap.
 */
static void tap_vnet_hdr(struct virtio_net_hdr_mrg_rxbuf *hdr,
			 const uint8_t *frame, size_t len,
			 const struct tap_gso *gso)
{
	size_t l4, off = 0;

	memset(hdr, 0, sizeof(*hdr));
	if (!gso || (!gso->partial && !gso->gso_size))
		return;

	l4 = tap_l4_csum_at(frame, len, &off);
	if (!l4)
		return;

	if (gso->partial) {
		hdr->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr->hdr.csum_start = htole16((uint16_t)l4);
		hdr->hdr.csum_offset = htole16((uint16_t)off);
	}

	if (gso->gso_size) {
		uint8_t type;

		if (off == UDP_CSUM_OFF)
			type = VIRTIO_NET_HDR_GSO_UDP_L4;
		else if (get_be16(frame + 12) == ETHERTYPE_IP)
			type = VIRTIO_NET_HDR_GSO_TCPV4;
		else
			type = VIRTIO_NET_HDR_GSO_TCPV6;

		hdr->hdr.gso_type = type;
		hdr->hdr.gso_size = htole16(gso->gso_size);
		/* Headers up to the end of the TCP (with options) or UDP
		 * header: a hint for the kernel's linear part
		 */
		if (off == UDP_CSUM_OFF)
			l4 += UDP_HDR_LEN;
		else if (len >= l4 + 13)
			l4 += (size_t)(frame[l4 + 12] >> 4) * 4;
		hdr->hdr.hdr_len = htole16((uint16_t)MIN(l4, len));
	}
}

/**
 * tap_csum_complete() - Finish a partial L4 checksum, for the capture
 * @frame:	Whole frame, writable
 * @len:	Its length
 * @start:	Start of the checksummed area (the L4 header)
 * @off:	Offset of the checksum field from @start
 *
 * The field holds the pseudo-header sum: the checksum of the area including
 * it is the complete one (virtio 1.0 5.1.6.2).
 */
static void tap_csum_complete(uint8_t *frame, size_t len, size_t start,
			      size_t off)
{
	uint16_t sum;

	if (start + off + 2 > len)
		return;

	sum = csum(frame + start, len - start, 0);
	if (off == UDP_CSUM_OFF && !sum)
		sum = 0xffff;		/* RFC 768: zero means no checksum */
	memcpy(frame + start + off, &sum, 2);
}

/**
 * tap_send_frames_gso() - Send a batch of frames, with offload requests
 * @c:		Execution context
 * @iov:	Buffers, @bufs_per_frame for each frame, Ethernet onwards
 * @bufs_per_frame: Buffers making up one frame
 * @nframes:	Number of frames
 * @gso:	Offload request per frame, or NULL: only where tap_offloads()
 *		says so, the frames are complete otherwise
 *
 * The one place that decides what goes in front of a frame: the 32-bit
 * length for passt's stream (frames are byte-identical to what they were
 * without offloads: nobody asks for them), a virtio-net header for pasta's
 * tap with offloads on.
 *
 * The capture shows complete frames: a super-segment is written whole, its IP
 * lengths are those of the super-segment already, and a partial checksum is
 * completed on a copy first.
 *
 * Return: number of frames sent (the rest is dropped: the guest's TCP, or
 *	   ours, retransmits)
 */
/* #syscalls: writev */
size_t tap_send_frames_gso(const struct ctx *c, const struct iovec *iov,
			   size_t bufs_per_frame, size_t nframes,
			   const struct tap_gso *gso)
{
	static struct virtio_net_hdr_mrg_rxbuf vh;
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
		struct iovec v[9] = { { .iov_base = &vh,
					.iov_len = tap_vnet_len } };
		size_t first = tap_vnet_len ? 1 : 0;

		for (i = 0; i < nframes; i++) {
			const struct iovec *f = iov + i * bufs_per_frame;

			for (j = 0; j < bufs_per_frame; j++)
				v[1 + j] = f[j];
			if (first)
				tap_vnet_hdr(&vh, f[0].iov_base, f[0].iov_len,
					     gso ? gso + i : NULL);

			if (writev(c->fd_tap, v + 1 - first,
				   (int)(bufs_per_frame + first)) < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					debug("tap: write error: %s",
					      strerror(errno));
				break;
			}
			if (first && vh.hdr.gso_type)
				tap_stats.gso_out++;
			sent++;
		}
	}

	/* Capture what actually went out */
	for (i = 0; *c->pcap && i < sent; i++) {
		const struct tap_gso *g = gso && tap_vnet_len ? gso + i : NULL;

		if (bufs_per_frame == 1 && !(g && g->partial)) {
			pcap_iov(iov + i, 1);
		} else {
			static uint8_t flat[TAP_GSO_FRAME_MAX];
			size_t off = 0, l4, coff = 0;

			for (j = 0; j < bufs_per_frame; j++) {
				const struct iovec *b = iov + i * bufs_per_frame + j;
				size_t l = MIN(b->iov_len, sizeof(flat) - off);

				memcpy(flat + off, b->iov_base, l);
				off += l;
			}
			if (g && g->partial &&
			    (l4 = tap_l4_csum_at(flat, off, &coff)))
				tap_csum_complete(flat, off, l4, coff);
			pcap(flat, off);
		}
	}

	tap_stats.sent += sent;
	tap_stats.send_drop += nframes - sent;
	return sent;
}

/**
 * tap_send_frames() - Send a batch of complete frames to the guest or
 *		       namespace
 * @c:		Execution context
 * @iov:	Buffers, @bufs_per_frame for each frame, Ethernet onwards
 * @bufs_per_frame: Buffers making up one frame
 * @nframes:	Number of frames
 *
 * Return: number of frames sent
 */
size_t tap_send_frames(const struct ctx *c, const struct iovec *iov,
		       size_t bufs_per_frame, size_t nframes)
{
	return tap_send_frames_gso(c, iov, bufs_per_frame, nframes, NULL);
}

/**
 * tap_offloads() - Offloads frame builders may use towards the namespace
 *
 * Return: TAP_OFF_* bits, 0 for passt and for pasta without offloads
 */
unsigned int tap_offloads(void)
{
	return tap_offload;
}

/**
 * tap_vnet_set() - Set virtio-net header length and offloads in use
 * @len:	TAP_VNET_HDR_LEN (or 10, struct virtio_net_hdr, if the
 *		kernel refused that), 0 for no header
 * @offloads:	TAP_OFF_* bits
 *
 * For tap_offload_init(), and for tests and fuzzing, which have no tap.
 */
void tap_vnet_set(size_t len, unsigned int offloads)
{
	tap_vnet_len = len;
	tap_offload = len ? offloads : 0;
}

/**
 * tap_offload_init() - Set up the virtio-net header and offloads on the tap
 * @fd:		tap device, opened with IFF_VNET_HDR if @vnet
 * @vnet:	IFF_VNET_HDR is set on @fd
 *
 * Set-up time only. TUNSETOFFLOAD says what the kernel may hand us: partial
 * checksums (TUN_F_CSUM), TCP super-segments (TUN_F_TSO4, TUN_F_TSO6), UDP
 * ones (TUN_F_USO4 with TUN_F_USO6, Linux >= 6.2). A kernel that refuses a
 * set is asked again without the newest feature, one at a time. What we
 * write needs no negotiation: NEEDS_CSUM and TCP GSO are accepted by any tap
 * with a virtio-net header, UDP GSO by kernels that know USO.
 */
void tap_offload_init(int fd, int vnet)
{
	static const struct {
		unsigned int flag;
		const char *name;
	} feat[] = {	/* dropped last to first on refusal */
		{ TUN_F_CSUM,			"CSUM" },
		{ TUN_F_TSO4,			"TSO4" },
		{ TUN_F_TSO6,			"TSO6" },
		{ TUN_F_USO4 | TUN_F_USO6,	"USO4/USO6" },
	};
	unsigned int want = 0, offloads = TAP_OFF_CSUM | TAP_OFF_TSO;
	int sz = TAP_VNET_HDR_LEN, le = 1, i;

	tap_vnet_set(0, 0);
	if (!vnet)
		return;

	/* The header is there from TUNSETIFF on: whatever fails below, its
	 * length must be right, and a header without offloads is all zeroes
	 */
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz)) {
		warn("tap: can't set virtio-net header size: %s, using %zu",
		     strerror(errno), sizeof(struct virtio_net_hdr));
		sz = (int)sizeof(struct virtio_net_hdr);
	}
	/* Little-endian fields (virtio 1.0) on big-endian hosts too: on
	 * little-endian ones, they are already
	 */
	if (ioctl(fd, TUNSETVNETLE, &le) && htole16(1) != 1) {
		warn("tap: can't set little-endian virtio-net header: %s, "
		     "no offloads", strerror(errno));
		ioctl(fd, TUNSETOFFLOAD, 0U);
		tap_vnet_set((size_t)sz, 0);
		return;
	}

	for (i = 0; i < (int)ARRAY_SIZE(feat); i++)
		want |= feat[i].flag;

	for (i = (int)ARRAY_SIZE(feat) - 1; i >= -1; i--) {
		if (!ioctl(fd, TUNSETOFFLOAD, want))
			break;
		if (i < 0) {
			debug("tap: kernel refused every offload: %s",
			      strerror(errno));
			want = 0;
			break;
		}
		debug("tap: kernel refused offload %s: %s", feat[i].name,
		      strerror(errno));
		want &= ~feat[i].flag;
	}

	if (want & TUN_F_USO4)
		offloads |= TAP_OFF_USO;
	tap_vnet_set((size_t)sz, offloads);

	debug("tap: virtio-net header, %u bytes; offloads from the "
	      "namespace:%s%s%s%s; to it: CSUM TSO%s", sz,
	      want & TUN_F_CSUM ? " CSUM" : "", want & TUN_F_TSO4 ? " TSO4" : "",
	      want & TUN_F_TSO6 ? " TSO6" : "",
	      want & TUN_F_USO4 ? " USO" : (want ? "" : " none"),
	      offloads & TAP_OFF_USO ? " USO" : "");
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
 * tap_vnet_parse() - Check the virtio-net header of a frame from the tap
 * @hdr:	Header, tap_vnet_len bytes before the frame (the first 10 are read)
 * @flen:	Length of the frame after it
 * @in:	What the header says, filled on success
 *
 * The header is input like any other: each field is checked against the
 * frame and against what we negotiated, never trusted. What can only be
 * checked against the IP and L4 headers is checked once they are parsed
 * (tap_vnet_l4_check()).
 *
 * Return: 0 if acceptable, -1 to drop the frame
 */
static int tap_vnet_parse(const uint8_t *hdr, size_t flen,
			  struct tap_vnet_in *in)
{
	struct virtio_net_hdr h;
	uint16_t hdr_len;

	memcpy(&h, hdr, sizeof(h));
	memset(in, 0, sizeof(*in));

	if (h.flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM |
			VIRTIO_NET_HDR_F_DATA_VALID))
		return -1;	/* unknown flag */

	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		size_t start = le16toh(h.csum_start);
		size_t off = le16toh(h.csum_offset);

		if (start < ETH_HDR_LEN + IP4_HDR_LEN || start + off + 2 > flen)
			return -1;
		in->partial = 1;
		in->csum_start = (uint16_t)start;
		in->csum_off = (uint16_t)off;
	}

	hdr_len = le16toh(h.hdr_len);
	if (hdr_len > flen)
		return -1;

	in->gso_type = h.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	switch (in->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (h.gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return -1;
		return flen > TAP_FRAME_MAX ? -1 : 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		if (h.gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return -1;
		break;
	default:
		return -1;	/* UFO (never negotiated), unknown */
	}

	in->gso_size = le16toh(h.gso_size);
	if (!in->gso_size || in->gso_size > MTU_MAX)
		return -1;

	return 0;
}

/**
 * tap_vnet_l4_check() - Check a header against the parsed packet
 * @in:		What the virtio-net header says, NULL if there was none
 * @af:		AF_INET or AF_INET6
 * @proto:	L4 protocol
 * @l4off:	Offset of the L4 header in the frame
 * @l4len:	L4 length, header and payload
 *
 * A GSO type must match family and protocol, a partial checksum must be the
 * TCP or UDP one, and a UDP super-datagram must not split into more than
 * TAP_USO_SEGS_MAX datagrams.
 *
 * Return: 0 if consistent, -1 to drop
 */
static int tap_vnet_l4_check(const struct tap_vnet_in *in, int af,
			     uint8_t proto, size_t l4off, size_t l4len)
{
	if (!in)
		return 0;

	if (in->partial &&
	    (in->csum_start != l4off ||
	     !((proto == IPPROTO_TCP && in->csum_off == TCP_CSUM_OFF &&
		l4len >= 20) ||
	       (proto == IPPROTO_UDP && in->csum_off == UDP_CSUM_OFF &&
		l4len >= UDP_HDR_LEN))))
		return -1;

	switch (in->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return af == AF_INET && proto == IPPROTO_TCP ? 0 : -1;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return af == AF_INET6 && proto == IPPROTO_TCP ? 0 : -1;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		if (proto != IPPROTO_UDP || l4len < UDP_HDR_LEN)
			return -1;
		if (DIV_ROUND_UP(l4len - UDP_HDR_LEN, in->gso_size) >
		    TAP_USO_SEGS_MAX)
			return -1;
		return 0;
	}
	return -1;
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
	tap_uso_used = 0;
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
 * tap_uso_split() - Queue a UDP super-datagram as the datagrams it stands for
 * @c:		Execution context
 * @af:		Address family
 * @saddr:	Source address
 * @daddr:	Destination address
 * @l4:		UDP header and payload of the super-datagram
 * @l4len:	Length, checked by tap_vnet_l4_check()
 * @gso_size:	Payload bytes per datagram, the last one may be shorter
 * @now:	Current timestamp
 *
 * Each datagram gets a copy of the UDP header with its own length, in the
 * split area of pkt_buf (the L4 handler sees ordinary datagrams). The UDP
 * length of the super-datagram is not used: the IP length is.
 */
static void tap_uso_split(struct ctx *c, int af, const void *saddr,
			  const void *daddr, const char *l4, size_t l4len,
			  size_t gso_size, const struct timespec *now)
{
	size_t plen = l4len - UDP_HDR_LEN, off, need, end;

	need = plen + (DIV_ROUND_UP(plen, gso_size) + 1) * (UDP_HDR_LEN + 8);
	if (need > TAP_USO_BUF_SIZE - tap_uso_used)
		tap_seqs_flush(c, now);

	for (off = 0; off < plen || (!plen && !off); off += gso_size) {
		char *d = pkt_buf + PKT_BUF_SIZE + tap_uso_used;
		size_t l = MIN(gso_size, plen - off);

		memcpy(d, l4, UDP_HDR_LEN);
		put_be16(d + 4, (uint16_t)(UDP_HDR_LEN + l));
		memset(d + 6, 0, 2);	/* checksum not needed past us */
		memcpy(d + UDP_HDR_LEN, l4 + UDP_HDR_LEN + off, l);
		end = (size_t)(d - (pkt_buf + PKT_BUF_SIZE)) +
		      ROUND_UP(UDP_HDR_LEN + l, 8);
		tap_uso_used = end;

		tap_l4_add(c, af, IPPROTO_UDP, saddr, daddr, d,
			   UDP_HDR_LEN + l, now);
		/* A flush in there handled what came before, not this one */
		tap_uso_used = MAX(tap_uso_used, end);
		if (!plen)
			break;
	}
}

/**
 * tap4_frame() - Parse and dispatch one IPv4 packet
 * @c:		Execution context
 * @p:		Pool holding the frame
 * @idx:	Index of the frame in @p
 * @in:		What its virtio-net header says, NULL if it had none
 * @now:	Current timestamp
 */
static void tap4_frame(struct ctx *c, const struct pool *p, size_t idx,
		       const struct tap_vnet_in *in,
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

	if (tap_vnet_l4_check(in, AF_INET, ip->protocol, ETH_HDR_LEN + hlen,
			      l4len)) {
		tap_drop(bad_vnet, "virtio-net header doesn't match packet");
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
		if (in && in->gso_type == VIRTIO_NET_HDR_GSO_UDP_L4) {
			tap_stats.gso_in++;
			tap_uso_split(c, AF_INET, &saddr, &daddr, l4, l4len,
				      in->gso_size, now);
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

	if (in && in->gso_type)
		tap_stats.gso_in++;
	tap_l4_add(c, AF_INET, ip->protocol, &saddr, &daddr, l4, l4len, now);
}

/**
 * tap6_frame() - Parse and dispatch one IPv6 packet
 * @c:		Execution context
 * @p:		Pool holding the frame
 * @idx:	Index of the frame in @p
 * @in:		What its virtio-net header says, NULL if it had none
 * @now:	Current timestamp
 */
static void tap6_frame(struct ctx *c, const struct pool *p, size_t idx,
		       const struct tap_vnet_in *in,
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

	if (tap_vnet_l4_check(in, AF_INET6, nh,
			      ETH_HDR_LEN + IP6_HDR_LEN + off, l4len)) {
		tap_drop(bad_vnet, "virtio-net header doesn't match packet");
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
		if (in && in->gso_type == VIRTIO_NET_HDR_GSO_UDP_L4) {
			tap_stats.gso_in++;
			tap_uso_split(c, AF_INET6, &saddr, &daddr, l4, l4len,
				      in->gso_size, now);
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

	if (in && in->gso_type)
		tap_stats.gso_in++;
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

	/* Captures show complete checksums: we don't check them, the frames
	 * can be changed in place
	 */
	for (i = 0; tap_vnet_len && *c->pcap && i < p->count; i++) {
		if (tap_vnet_in[i].partial)
			tap_csum_complete(p->pkt[i].iov_base,
					  p->pkt[i].iov_len,
					  tap_vnet_in[i].csum_start,
					  tap_vnet_in[i].csum_off);
	}
	pcap_iov(p->pkt, p->count);

	for (i = 0; i < p->count; i++) {
		const struct tap_vnet_in *in = tap_vnet_len ? &tap_vnet_in[i] :
							      NULL;
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

		if (in && (in->gso_type || in->partial) &&
		    ntohs(eh->ether_type) != ETHERTYPE_IP &&
		    ntohs(eh->ether_type) != ETHERTYPE_IPV6) {
			tap_drop(bad_vnet, "offload on a non-IP frame");
			continue;
		}

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
				tap4_frame(c, p, i, in, now);
			break;
		case ETHERTYPE_IPV6:
			if (c->ifi6)
				tap6_frame(c, p, i, in, now);
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
 * tap_frame_add() - Add a frame just read to pool_tap, checking its header
 * @buf:	Frame as read, virtio-net header first if tap_vnet_len
 * @n:		Bytes read
 *
 * Return: 0 if added, -1 if dropped (counted) or the pool is full
 */
static int tap_frame_add(const char *buf, size_t n)
{
	size_t idx = pool_tap.count;

	if (n < tap_vnet_len + ETH_HDR_LEN) {
		tap_drop(bad_len, "frame too short");
		return -1;
	}

	if (tap_vnet_len) {
		if (idx >= TAP_POOL_SIZE)
			return -1;
		if (tap_vnet_parse((const uint8_t *)buf, n - tap_vnet_len,
				   &tap_vnet_in[idx])) {
			tap_stats.frames++;
			tap_drop(bad_vnet, "malformed virtio-net header");
			return -1;
		}
	}

	return packet_add(&pool_tap, buf + tap_vnet_len, n - tap_vnet_len);
}

/**
 * tap_frames_handle() - Parse and dispatch frames given as buffers
 * @c:		Execution context
 * @frames:	One buffer per frame as the tap or socket would hand it over
 *		(Ethernet onwards, after a virtio-net header if tap_vnet_set()
 *		says so), copied to pkt_buf
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

		if (len > PKT_BUF_SIZE - off)
			break;
		memcpy(pkt_buf + off, frames[i].iov_base, len);
		if (!tap_frame_add(pkt_buf + off, len))
			off += ROUND_UP(len, 64);
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
				 PKT_BUF_SIZE - tap_partial, MSG_DONTWAIT);
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

			if ((size_t)n < PKT_BUF_SIZE / 2)
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
	size_t rd;
	int round;

	if (events & (EPOLLHUP | EPOLLERR))
		die("Tap device error or hang-up, exiting");

	if (!(events & EPOLLIN))
		return;

	/* With offloads, frames are up to 64 KiB IP packets whatever the MTU */
	rd = tap_vnet_len ? tap_vnet_len + TAP_GSO_FRAME_MAX : TAP_FRAME_MAX;

	for (round = 0; round < TAP_READ_ROUNDS; round++) {
		size_t off = 0;

		pool_flush(&pool_tap);
		while (PKT_BUF_SIZE - off >= rd &&
		       pool_tap.count < pool_tap.size) {
			ssize_t n = read(c->fd_tap, pkt_buf + off, rd);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					debug("tap: read error: %s",
					      strerror(errno));
				break;
			}
			if (!tap_frame_add(pkt_buf + off, (size_t)n))
				off += ROUND_UP((size_t)n, 64);
		}

		if (!pool_tap.count)
			break;

		tap_pool_handle(c, now);

		if (PKT_BUF_SIZE - off >= rd &&
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
