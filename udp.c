// SPDX-License-Identifier: AGPL-3.0-or-later

/* udp.c - UDP translation between guest datagrams and host sockets
 *
 * Theory of operation:
 *
 * Outbound (guest to host). Datagrams from the guest reach us from tap.c in
 * sequences of one flow (same addresses and ports). They go out of a host
 * socket bound, where possible, to the guest's own source port on the
 * wildcard address, so that the remote peer sees the port the guest chose.
 * If that port is taken on the host, the kernel picks an ephemeral one.
 * Sockets are created on first use ("ephemeral ports bound dynamically as
 * the guest uses them") and kept in udp_out[IP version][guest port], with a
 * timestamp of last use: after UDP_CONN_TIMEOUT seconds of silence in both
 * directions, udp_timer() closes them. A whole sequence goes out with one
 * sendmmsg().
 *
 * Inbound (host to guest). udp_init() binds a socket for every forwarded
 * port P (-u): datagrams arriving there reach the guest at port
 * fwd_target(P), from the remote's address and port. The guest's replies,
 * from that port back to the remote, must leave from the socket bound to P,
 * or the remote would see them from another port: udp_rep[][guest port]
 * remembers the inbound socket for UDP_CONN_TIMEOUT seconds.
 *
 * Socket to guest. recvmmsg() reads up to UDP_MAX_FRAMES datagrams per call
 * straight into the payload area of pre-sized frame buffers; Ethernet, IP
 * and UDP headers are then written in place in front of each payload, and
 * the whole batch goes to the guest with one tap_send_frames(). A datagram
 * that doesn't fit the guest's MTU is sent as IPv4 fragments (RFC 791) or
 * with IPv6 Fragment headers (RFC 8200 4.5): the guest reassembles.
 *
 * Address translation (man page, NOTES): sources on the host's loopback or
 * the guest's own address become the default gateway (nat_inbound()), and
 * guest datagrams to the gateway go to the host's loopback (nat_outbound()),
 * unless --no-map-gw. The man page asks for the latter only "if a matching
 * flow exists"; like the reference implementation we map unconditionally,
 * except for a guest port whose inbound peer was the gateway itself (not a
 * mapped local address): replies to it must reach the real gateway.
 * --dns-forward: datagrams to dns_match port 53 go to dns_host port 53, and
 * answers from there come back from dns_match.
 *
 * ICMP errors. Sockets have IP_RECVERR/IPV6_RECVERR set: destination
 * unreachable and time exceeded errors are read from the error queue and
 * relayed to the guest quoting a reconstructed IP and UDP header of the
 * original datagram (RFC 792, RFC 4443 3.1), so that the guest's socket
 * sees ECONNREFUSED and friends.
 *
 * Limits: 2 x 65536 entries per table (one per IP version and port),
 * UDP_MAX_FRAMES datagrams per recvmmsg(), UDP_TAP_BATCH per sendmmsg().
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <linux/errqueue.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "passt.h"
#include "util.h"
#include "log.h"
#include "packet.h"
#include "checksum.h"
#include "tap.h"
#include "fwd.h"
#include "udp.h"

#define UDP_CONN_TIMEOUT	180	/* s: idle flow expiry, as conntrack's
					 * "stream" UDP timeout
					 */
#define UDP_MAX_FRAMES		64	/* datagrams per recvmmsg(): ~4 MiB of
					 * buffers, enough for 1 Gbit/s at one
					 * wake-up per ms
					 */
#define UDP_TAP_BATCH		1024	/* datagrams per sendmmsg(): UIO_MAXIOV */
#define UDP_RECV_ROUNDS		4	/* recvmmsg() calls per event: fairness */
#define UDP_ERRQ_MAX		16	/* error queue entries per event */
#define UDP_PL_OFF		64	/* payload offset in frame buffers: room
					 * for Ethernet + IPv6 + UDP (62 bytes)
					 */
#define UDP_PL_MAX		65535	/* largest payload we accept: IPv4 and
					 * IPv6 (non-jumbo) stop below this
					 */
#define UDP_FRAG_BUF		(512 * 1024)	/* fragments built per flush */
#define UDP_FRAG_FRAMES		1024
#define UDP_SOCK_BUF		(4 * 1024 * 1024)	/* SO_RCVBUF wish */
#define UDP_DNS_PORT		53
#define UDP_MTU_DEFAULT		1500	/* -m 0: the guest's own default */

/* epoll reference data: port, IP version, inbound (forwarded port) socket */
#define UDP_REF_PORT_MASK	0xffffU
#define UDP_REF_V6		(1U << 16)
#define UDP_REF_IN		(1U << 17)

#define V4			0
#define V6			1

/**
 * struct udp_flow - Socket for one guest source port, outbound
 * @fd:		Socket, -1 if none
 * @ts:		Last use, seconds (CLOCK_MONOTONIC)
 * @gw_real:	Peer at the gateway address was the gateway itself: don't
 *		map the gateway address to loopback for this port
 * @dns:	Guest sent to the --dns-forward address: answers from the
 *		resolver come back from there
 */
struct udp_flow {
	int fd;
	uint32_t ts;
	uint8_t gw_real;
	uint8_t dns;
};

/**
 * struct udp_rep - Inbound socket that replies from a guest port leave from
 * @fd:		Socket bound to the forwarded port, -1 if none
 * @ts:		Last datagram forwarded to the guest port, seconds
 * @gw_real:	As in struct udp_flow
 */
struct udp_rep {
	int fd;
	uint32_t ts;
	uint8_t gw_real;
};

static struct udp_flow udp_out[2][NUM_PORTS];
static struct udp_rep udp_rep[2][NUM_PORTS];
static int udp_in[2][NUM_PORTS];		/* bound forwarded ports */
static unsigned long udp_out_active[2][NUM_PORTS / (sizeof(long) * 8)];

/**
 * struct udp_stats - Counters of dropped traffic, for debugging
 */
static struct {
	unsigned long bad_len;		/* UDP length field inconsistent */
	unsigned long bad_port;		/* zero port */
	unsigned long no_sock;		/* couldn't get a socket */
	unsigned long send_fail;	/* sendmmsg() didn't take it */
	unsigned long trunc;		/* datagram from socket truncated */
	unsigned long errs;		/* ICMP errors relayed to the guest */
} udp_stats;

/* Socket to guest: frames built around the received payloads */
static char udp_buf[UDP_MAX_FRAMES][UDP_PL_OFF + UDP_PL_MAX + 1]
	__attribute__((aligned(64)));
static struct sockaddr_in6 udp_names[UDP_MAX_FRAMES];
static struct iovec udp_iov_recv[UDP_MAX_FRAMES];
static struct mmsghdr udp_mh_recv[UDP_MAX_FRAMES];
static struct iovec udp_iov_tap[UDP_MAX_FRAMES];

/* Fragments of datagrams larger than the guest's MTU */
static char udp_frag_buf[UDP_FRAG_BUF] __attribute__((aligned(64)));
static struct iovec udp_frag_iov[UDP_FRAG_FRAMES];
static uint16_t udp_ip4_id;
static uint32_t udp_ip6_id;

/* Guest to socket */
static struct iovec udp_iov_send[UDP_TAP_BATCH];
static struct mmsghdr udp_mh_send[UDP_TAP_BATCH];

/**
 * union udp_sa - Socket address of either family
 */
union udp_sa {
	struct sockaddr sa;
	struct sockaddr_in sa4;
	struct sockaddr_in6 sa6;
};

/**
 * udp_mtu() - Largest IP packet the guest takes
 * @c:		Execution context
 *
 * Return: MTU in bytes
 */
static size_t udp_mtu(const struct ctx *c)
{
	return c->mtu ? (size_t)c->mtu : UDP_MTU_DEFAULT;
}

/**
 * udp_guest_addr4() - Guest's IPv4 address to send to
 * @c:		Execution context
 *
 * Return: observed address, or the assigned one if none seen yet
 */
static struct in_addr udp_guest_addr4(const struct ctx *c)
{
	if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.addr_seen))
		return c->ip4.addr_seen;
	return c->ip4.addr;
}

/**
 * udp_guest_addr6() - Guest's IPv6 address to send to, for a source
 * @c:		Execution context
 * @src:	Source address of what we'll send
 *
 * Return: observed address of matching scope, or a configured fallback
 */
static const struct in6_addr *udp_guest_addr6(const struct ctx *c,
					      const struct in6_addr *src)
{
	const struct in6_addr *a = tap_ip6_daddr(c, src);

	if (!IN6_IS_ADDR_UNSPECIFIED(a))
		return a;
	if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_seen))
		return &c->ip6.addr_seen;
	return &c->ip6.addr;
}

/**
 * udp_sock_new() - Create a UDP socket, bound to @port if possible
 * @c:		Execution context
 * @v6:		IPv6 if set
 * @bind_addr:	Address to bind to (struct in_addr/in6_addr), NULL for any
 * @port:	Port to bind to, host order
 * @fallback:	Bind to an ephemeral port if @port is taken
 * @refdata:	epoll reference data
 *
 * Return: socket, or -errno
 */
static int udp_sock_new(const struct ctx *c, int v6, const void *bind_addr,
			uint16_t port, int fallback, uint32_t refdata)
{
	union epoll_ref ref = { .type = EPOLL_TYPE_UDP, .data = refdata };
	union udp_sa a;
	int fd, one = 1, buf = UDP_SOCK_BUF, ret;
	socklen_t sl;

	fd = socket(v6 ? AF_INET6 : AF_INET,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	if (fd > FD_REF_MAX) {
		close(fd);
		return -EMFILE;
	}

	memset(&a, 0, sizeof(a));
	if (v6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
		a.sa6.sin6_family = AF_INET6;
		a.sa6.sin6_port = htons(port);
		if (bind_addr)
			memcpy(&a.sa6.sin6_addr, bind_addr,
			       sizeof(struct in6_addr));
		if (IN6_IS_ADDR_LINKLOCAL(&a.sa6.sin6_addr))
			a.sa6.sin6_scope_id = c->ifi6;
		sl = sizeof(a.sa6);
	} else {
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
		a.sa4.sin_family = AF_INET;
		a.sa4.sin_port = htons(port);
		if (bind_addr)
			memcpy(&a.sa4.sin_addr, bind_addr,
			       sizeof(struct in_addr));
		sl = sizeof(a.sa4);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));

	if (bind(fd, &a.sa, sl)) {
		ret = -errno;
		if (!fallback) {
			close(fd);
			return ret;
		}
		if (v6)
			a.sa6.sin6_port = 0;
		else
			a.sa4.sin_port = 0;
		if (bind(fd, &a.sa, sl)) {
			ret = -errno;
			close(fd);
			return ret;
		}
	}

	ref.fd = fd;
	ret = epoll_add(c->epollfd, EPOLLIN, ref);
	if (ret) {
		close(fd);
		return ret;
	}

	return fd;
}

/**
 * udp_tap_sock() - Socket that a guest datagram from @port leaves from
 * @c:		Execution context
 * @v6:		IPv6 if set
 * @port:	Guest source port
 * @now:	Current timestamp
 * @gw_real:	Set to whether the gateway address means the real gateway
 *
 * Return: socket, or -1 if none could be created
 */
static int udp_tap_sock(const struct ctx *c, int v6, uint16_t port,
			const struct timespec *now, int *gw_real)
{
	struct udp_rep *r = &udp_rep[v6][port];
	struct udp_flow *f = &udp_out[v6][port];
	uint32_t t = (uint32_t)now->tv_sec;
	int fd;

	/* Replies to inbound traffic leave from the forwarded port */
	if (r->fd >= 0 && t - r->ts < UDP_CONN_TIMEOUT) {
		*gw_real = r->gw_real;
		return r->fd;
	}

	/* A forwarded port on the host with the same number: source kept */
	if (udp_in[v6][port] >= 0) {
		*gw_real = 0;
		return udp_in[v6][port];
	}

	if (f->fd >= 0) {
		f->ts = t;
		*gw_real = f->gw_real;
		return f->fd;
	}

	fd = udp_sock_new(c, v6, NULL, port, 1,
			  port | (v6 ? UDP_REF_V6 : 0));
	if (fd < 0) {
		warn_ratelimit("UDP: can't open socket for guest port %u: %s",
			       port, strerror(-fd));
		return -1;
	}

	f->fd = fd;
	f->ts = t;
	f->gw_real = 0;
	udp_out_active[v6][BITMAP_WORD(port)] |= BITMAP_BIT(port);
	*gw_real = 0;
	return fd;
}

/**
 * udp_errq_drain() - Read the error queue of a socket, relay ICMP errors
 * @c:		Execution context
 * @fd:		Socket
 * @v6:		IPv6 socket if set
 * @gport:	Guest port the socket sends for
 */
static void udp_errq_drain(const struct ctx *c, int fd, int v6,
			   uint16_t gport);

/**
 * udp_tap_handler() - Datagrams of one flow from the guest
 * @c:		Execution context
 * @af:		AF_INET or AF_INET6
 * @saddr:	Source address (struct in_addr or in6_addr)
 * @daddr:	Destination address
 * @p:		Pool of UDP headers and payloads, all of this flow
 * @idx:	Index of the first datagram to handle
 * @now:	Current timestamp
 *
 * Return: number of datagrams consumed, at least 1
 */
int udp_tap_handler(struct ctx *c, int af, const void *saddr,
		    const void *daddr, const struct pool *p, size_t idx,
		    const struct timespec *now)
{
	int v6 = af == AF_INET6, fd, gw_real = 0, tries, dns = 0;
	size_t i, n = 0, count;
	uint16_t sport, dport;
	union udp_sa a;
	const char *uh;
	socklen_t sl;

	(void)saddr;

	if (idx >= p->count)
		return 1;
	count = MIN(p->count - idx, (size_t)UDP_TAP_BATCH);

	uh = packet_get(p, idx, 0, UDP_HDR_LEN, NULL);
	if (!uh)
		return 1;
	sport = get_be16(uh);
	dport = get_be16(uh + 2);
	if (!sport || !dport) {
		udp_stats.bad_port += count;
		return (int)count;
	}

	fd = udp_tap_sock(c, v6, sport, now, &gw_real);
	if (fd < 0) {
		udp_stats.no_sock += count;
		return (int)count;
	}

	memset(&a, 0, sizeof(a));
	if (v6) {
		struct in6_addr dst;

		memcpy(&dst, daddr, sizeof(dst));
		if (dport == UDP_DNS_PORT &&
		    !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_match) &&
		    IN6_ARE_ADDR_EQUAL(&dst, &c->ip6.dns_match)) {
			dst = c->ip6.dns_host;
			dns = 1;
		} else if (!gw_real) {
			nat_outbound(c, AF_INET6, &dst);
		}

		a.sa6.sin6_family = AF_INET6;
		a.sa6.sin6_port = htons(dport);
		a.sa6.sin6_addr = dst;
		if (IN6_IS_ADDR_LINKLOCAL(&dst))
			a.sa6.sin6_scope_id = c->ifi6;
		sl = sizeof(a.sa6);
	} else {
		struct in_addr dst;

		memcpy(&dst, daddr, sizeof(dst));
		if (dport == UDP_DNS_PORT &&
		    !IN4_IS_ADDR_UNSPECIFIED(&c->ip4.dns_match) &&
		    IN4_ARE_ADDR_EQUAL(&dst, &c->ip4.dns_match)) {
			dst = c->ip4.dns_host;
			dns = 1;
		} else if (!gw_real) {
			nat_outbound(c, AF_INET, &dst);
		}

		a.sa4.sin_family = AF_INET;
		a.sa4.sin_port = htons(dport);
		a.sa4.sin_addr = dst;
		sl = sizeof(a.sa4);
	}

	/* Answers from the resolver: from dns_match only if asked there */
	if (udp_out[v6][sport].fd == fd && (dns || dport == UDP_DNS_PORT))
		udp_out[v6][sport].dns = (uint8_t)dns;

	for (i = 0; i < count; i++) {
		const char *pl;
		size_t left, ulen;

		uh = packet_get(p, idx + i, 0, UDP_HDR_LEN, &left);
		if (!uh) {
			udp_stats.bad_len++;
			continue;
		}

		/* RFC 768: length covers header and data; the IP payload
		 * may be longer (trimmed), never shorter (dropped)
		 */
		ulen = get_be16(uh + 4);
		if (ulen < UDP_HDR_LEN || ulen - UDP_HDR_LEN > left) {
			udp_stats.bad_len++;
			continue;
		}

		pl = packet_get(p, idx + i, UDP_HDR_LEN, ulen - UDP_HDR_LEN,
				NULL);
		if (!pl) {
			udp_stats.bad_len++;
			continue;
		}

		udp_iov_send[n].iov_base = (void *)(uintptr_t)pl;
		udp_iov_send[n].iov_len = ulen - UDP_HDR_LEN;
		memset(&udp_mh_send[n], 0, sizeof(udp_mh_send[n]));
		udp_mh_send[n].msg_hdr.msg_name = &a;
		udp_mh_send[n].msg_hdr.msg_namelen = sl;
		udp_mh_send[n].msg_hdr.msg_iov = &udp_iov_send[n];
		udp_mh_send[n].msg_hdr.msg_iovlen = 1;
		n++;
	}

	/* A pending ICMP error on the socket fails the next send once: relay
	 * it to the guest, then try again
	 */
	for (i = 0, tries = 0; i < n && tries < 2; ) {
		int ret = sendmmsg(fd, udp_mh_send + i, (unsigned)(n - i),
				   MSG_DONTWAIT | MSG_NOSIGNAL);

		if (ret > 0) {
			i += (size_t)ret;
			continue;
		}
		if (ret < 0 && (errno == ECONNREFUSED ||
				errno == EHOSTUNREACH ||
				errno == ENETUNREACH ||
				errno == EHOSTDOWN || errno == ENONET ||
				errno == EPROTO)) {
			udp_errq_drain(c, fd, v6, sport);
			tries++;
			continue;
		}

		/* EAGAIN, EMSGSIZE, EPERM...: one datagram is lost */
		trace("UDP: send from guest port %u failed: %s", sport,
		      strerror(errno));
		udp_stats.send_fail++;
		i++;
		tries++;
	}
	if (i < n)
		udp_stats.send_fail += n - i;

	return (int)count;
}

/**
 * udp_ip4_frame() - Write Ethernet and IPv4 headers in front of @l4
 * @c:		Execution context
 * @l4:		Start of the L4 data (headers go before it)
 * @l4len:	Length of what the IP header covers after itself
 * @src:	Source address
 * @dst:	Destination address
 * @proto:	Protocol in the IP header
 * @frag:	Value for the fragment offset field, host order
 * @id:		Identification, host order
 *
 * Return: start of the frame
 */
static char *udp_ip4_frame(const struct ctx *c, char *l4, size_t l4len,
			   struct in_addr src, struct in_addr dst,
			   uint8_t proto, uint16_t frag, uint16_t id)
{
	char *frame = l4 - IP4_HDR_LEN - ETH_HDR_LEN;
	struct iphdr *ip = (struct iphdr *)(frame + ETH_HDR_LEN);
	uint16_t tot = (uint16_t)(IP4_HDR_LEN + l4len);

	tap_eth_hdr(c, frame, ETHERTYPE_IP);
	ip->version = 4;
	ip->ihl = IP4_HDR_LEN / 4;
	ip->tos = 0;
	ip->tot_len = htons(tot);
	ip->id = htons(id);
	ip->frag_off = htons(frag);
	ip->ttl = 255;
	ip->protocol = proto;
	ip->saddr = src.s_addr;
	ip->daddr = dst.s_addr;
	if (frag == IP_DF && !id) {
		ip->check = csum_ip4_header(tot, proto, src, dst);
	} else {
		ip->check = 0;
		ip->check = csum(ip, IP4_HDR_LEN, 0);
	}

	return frame;
}

/**
 * udp_ip6_frame() - Write Ethernet and IPv6 headers in front of @l3pl
 * @c:		Execution context
 * @l3pl:	Start of the IPv6 payload (headers go before it)
 * @plen:	IPv6 payload length
 * @src:	Source address
 * @dst:	Destination address
 * @nxt:	Next header
 *
 * Return: start of the frame
 */
static char *udp_ip6_frame(const struct ctx *c, char *l3pl, size_t plen,
			   const struct in6_addr *src,
			   const struct in6_addr *dst, uint8_t nxt)
{
	char *frame = l3pl - IP6_HDR_LEN - ETH_HDR_LEN;
	struct ip6_hdr *ip6 = (struct ip6_hdr *)(frame + ETH_HDR_LEN);

	tap_eth_hdr(c, frame, ETHERTYPE_IPV6);
	ip6->ip6_flow = htonl(6U << 28);
	ip6->ip6_plen = htons((uint16_t)plen);
	ip6->ip6_nxt = nxt;
	ip6->ip6_hlim = 255;
	ip6->ip6_src = *src;
	ip6->ip6_dst = *dst;

	return frame;
}

/**
 * udp_frag_flush() - Send the fragments built so far
 * @c:		Execution context
 * @n:		Number of fragments in udp_frag_iov
 */
static void udp_frag_flush(const struct ctx *c, size_t n)
{
	if (n)
		tap_send_frames(c, udp_frag_iov, 1, n);
}

/**
 * udp_send_frags() - Send a UDP datagram to the guest as IP fragments
 * @c:		Execution context
 * @v6:		IPv6 if set
 * @l4:		UDP header and payload, checksum set
 * @l4len:	Length of @l4
 * @src:	Source address (struct in_addr or in6_addr)
 * @dst:	Destination address
 *
 * RFC 791 2.3, 3.2: fragment offsets in units of 8 bytes, More Fragments
 * on all but the last, one identification for all. RFC 8200 4.5: the same
 * with a Fragment header, the UDP header travels in the first fragment.
 */
static void udp_send_frags(const struct ctx *c, int v6, const char *l4,
			   size_t l4len, const void *src, const void *dst)
{
	size_t mtu = udp_mtu(c), hdrs, chunk_max, off = 0, used = 0, n = 0;
	uint32_t id6 = 0;
	uint16_t id4 = 0;

	hdrs = v6 ? IP6_HDR_LEN + sizeof(struct ip6_frag) : IP4_HDR_LEN;
	if (mtu < hdrs + 8)
		return;
	chunk_max = (mtu - hdrs) & ~(size_t)7;

	if (v6) {
		if (!++udp_ip6_id)
			udp_ip6_id++;
		id6 = udp_ip6_id;
	} else {
		if (!++udp_ip4_id)
			udp_ip4_id++;
		id4 = udp_ip4_id;
	}

	while (off < l4len) {
		size_t chunk = MIN(chunk_max, l4len - off);
		int more = off + chunk < l4len;
		char *start = udp_frag_buf + used, *frame;
		size_t flen = ETH_HDR_LEN + hdrs + chunk;

		if (used + ROUND_UP(flen, 8) > sizeof(udp_frag_buf) ||
		    n == UDP_FRAG_FRAMES) {
			udp_frag_flush(c, n);
			used = n = 0;
			start = udp_frag_buf;
		}

		memcpy(start + ETH_HDR_LEN + hdrs, l4 + off, chunk);
		if (v6) {
			struct ip6_frag fh;
			char *fp = start + ETH_HDR_LEN + IP6_HDR_LEN;

			fh.ip6f_nxt = IPPROTO_UDP;
			fh.ip6f_reserved = 0;
			fh.ip6f_offlg = htons((uint16_t)(off |
						(more ? 1U : 0U)));
			fh.ip6f_ident = htonl(id6);
			memcpy(fp, &fh, sizeof(fh));
			frame = udp_ip6_frame(c, fp, sizeof(fh) + chunk, src,
					      dst, IPPROTO_FRAGMENT);
		} else {
			struct in_addr s4, d4;

			memcpy(&s4, src, sizeof(s4));
			memcpy(&d4, dst, sizeof(d4));
			frame = udp_ip4_frame(c, start + ETH_HDR_LEN + hdrs,
					      chunk, s4, d4, IPPROTO_UDP,
					      (uint16_t)((off / 8) |
							 (more ? IP_MF : 0)),
					      id4);
		}

		udp_frag_iov[n].iov_base = frame;
		udp_frag_iov[n].iov_len = flen;
		n++;
		used += ROUND_UP(flen, 8);
		off += chunk;
	}

	udp_frag_flush(c, n);
}

/**
 * udp_errq_drain() - Read the error queue of a socket, relay ICMP errors
 * @c:		Execution context
 * @fd:		Socket
 * @v6:		IPv6 socket if set
 * @gport:	Guest port the socket sends for
 *
 * The error queue gives us the ICMP type and code, the host that sent the
 * error (the "offender") and, as message name, the destination of the
 * datagram that caused it: enough to rebuild what the guest sent.
 */
static void udp_errq_drain(const struct ctx *c, int fd, int v6,
			   uint16_t gport)
{
	int i;

	for (i = 0; i < UDP_ERRQ_MAX; i++) {
		char cbuf[CMSG_SPACE(sizeof(struct sock_extended_err) +
				     sizeof(struct sockaddr_in6))]
			__attribute__((aligned(8)));
		const struct sock_extended_err *ee = NULL;
		char data[64], msg[ICMP_HDR_LEN + IP6_HDR_LEN + UDP_HDR_LEN];
		struct iovec iov = { data, sizeof(data) };
		union udp_sa orig, off;
		struct msghdr mh = {
			.msg_name = &orig, .msg_namelen = sizeof(orig),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *cm;
		uint16_t ulen, dport;
		ssize_t dlen;

		memset(&orig, 0, sizeof(orig));
		dlen = recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (dlen < 0)
			return;

		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if ((cm->cmsg_level == IPPROTO_IP &&
			     cm->cmsg_type == IP_RECVERR) ||
			    (cm->cmsg_level == IPPROTO_IPV6 &&
			     cm->cmsg_type == IPV6_RECVERR)) {
				if (cm->cmsg_len < CMSG_LEN(sizeof(*ee)))
					continue;
				ee = (const struct sock_extended_err *)
				     (const void *)CMSG_DATA(cm);
				break;
			}
		}
		if (!ee)
			continue;

		memset(&off, 0, sizeof(off));
		if (cm->cmsg_len >= CMSG_LEN(sizeof(*ee) + sizeof(off.sa4))) {
			size_t olen = cm->cmsg_len - CMSG_LEN(sizeof(*ee));

			memcpy(&off, ee + 1, MIN(olen, sizeof(off)));
		}

		ulen = (uint16_t)(UDP_HDR_LEN +
				  MIN((size_t)dlen, (size_t)UDP_PL_MAX - 64));
		memset(msg, 0, sizeof(msg));

		if (!v6 && ee->ee_origin == SO_EE_ORIGIN_ICMP &&
		    orig.sa.sa_family == AF_INET &&
		    (ee->ee_type == 3 || ee->ee_type == 11)) {
			/* RFC 792: destination unreachable, time exceeded */
			struct in_addr odst = orig.sa4.sin_addr, src;
			struct in_addr gaddr = udp_guest_addr4(c);
			struct iphdr *ip;
			char *u;

			if (ntohs(orig.sa4.sin_port) == UDP_DNS_PORT &&
			    !IN4_IS_ADDR_UNSPECIFIED(&c->ip4.dns_match) &&
			    IN4_ARE_ADDR_EQUAL(&odst, &c->ip4.dns_host))
				odst = c->ip4.dns_match;
			else
				nat_inbound(c, AF_INET, &odst);

			src = off.sa.sa_family == AF_INET ?
			      off.sa4.sin_addr : orig.sa4.sin_addr;
			nat_inbound(c, AF_INET, &src);

			msg[0] = (char)ee->ee_type;
			msg[1] = (char)ee->ee_code;
			ip = (struct iphdr *)(void *)(msg + ICMP_HDR_LEN);
			ip->version = 4;
			ip->ihl = 5;
			ip->tot_len = htons((uint16_t)(IP4_HDR_LEN + ulen));
			ip->ttl = 64;
			ip->protocol = IPPROTO_UDP;
			ip->saddr = gaddr.s_addr;
			ip->daddr = odst.s_addr;
			ip->check = csum(ip, IP4_HDR_LEN, 0);
			u = msg + ICMP_HDR_LEN + IP4_HDR_LEN;
			dport = ntohs(orig.sa4.sin_port);
			put_be16(u, gport);
			put_be16(u + 2, dport);
			put_be16(u + 4, ulen);

			tap_icmp4_send(c, src, gaddr, msg,
				       ICMP_HDR_LEN + IP4_HDR_LEN +
				       UDP_HDR_LEN);
			udp_stats.errs++;
		} else if (v6 && ee->ee_origin == SO_EE_ORIGIN_ICMP6 &&
			   orig.sa.sa_family == AF_INET6 &&
			   (ee->ee_type == 1 || ee->ee_type == 3)) {
			/* RFC 4443 3.1, 3.3 */
			struct in6_addr odst = orig.sa6.sin6_addr, src;
			const struct in6_addr *gaddr;
			struct ip6_hdr *ip6;
			char *u;

			if (ntohs(orig.sa6.sin6_port) == UDP_DNS_PORT &&
			    !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_match) &&
			    IN6_ARE_ADDR_EQUAL(&odst, &c->ip6.dns_host))
				odst = c->ip6.dns_match;
			else
				nat_inbound(c, AF_INET6, &odst);

			src = off.sa.sa_family == AF_INET6 ?
			      off.sa6.sin6_addr : orig.sa6.sin6_addr;
			nat_inbound(c, AF_INET6, &src);
			gaddr = udp_guest_addr6(c, &odst);

			msg[0] = (char)ee->ee_type;
			msg[1] = (char)ee->ee_code;
			ip6 = (struct ip6_hdr *)(void *)(msg + ICMP_HDR_LEN);
			ip6->ip6_flow = htonl(6U << 28);
			ip6->ip6_plen = htons(ulen);
			ip6->ip6_nxt = IPPROTO_UDP;
			ip6->ip6_hlim = 64;
			ip6->ip6_src = *gaddr;
			ip6->ip6_dst = odst;
			u = msg + ICMP_HDR_LEN + IP6_HDR_LEN;
			dport = ntohs(orig.sa6.sin6_port);
			put_be16(u, gport);
			put_be16(u + 2, dport);
			put_be16(u + 4, ulen);

			tap_icmp6_send(c, &src, gaddr, msg,
				       ICMP_HDR_LEN + IP6_HDR_LEN +
				       UDP_HDR_LEN);
			udp_stats.errs++;
		}
	}
}

/**
 * udp_gw_seen() - Note whether the gateway address stands for the host
 * @in:		Inbound (forwarded port) socket if set
 * @v6:		IPv6 if set
 * @port:	Port in the epoll reference
 * @gport:	Guest port
 * @real:	Datagram came from the real gateway, not a mapped local source
 */
static void udp_gw_seen(int in, int v6, uint16_t port, uint16_t gport,
			int real)
{
	if (in)
		udp_rep[v6][gport].gw_real = (uint8_t)real;
	else
		udp_out[v6][port].gw_real = (uint8_t)real;
}

/**
 * udp_sock_handler() - Datagrams or errors on a UDP socket
 * @c:		Execution context
 * @ref:	epoll reference: port, IP version, inbound flag
 * @events:	epoll events
 * @now:	Current timestamp
 */
void udp_sock_handler(struct ctx *c, union epoll_ref ref, uint32_t events,
		      const struct timespec *now)
{
	uint16_t port = (uint16_t)(ref.data & UDP_REF_PORT_MASK), gport;
	int v6 = !!(ref.data & UDP_REF_V6), in = !!(ref.data & UDP_REF_IN);
	uint32_t t = (uint32_t)now->tv_sec;
	size_t mtu = udp_mtu(c);
	int round, i, n, dns;

	gport = in ? (uint16_t)fwd_target(&c->udp_fwd_in, port) : port;
	dns = !in && udp_out[v6][port].fd == ref.fd && udp_out[v6][port].dns;

	if (events & EPOLLERR)
		udp_errq_drain(c, ref.fd, v6, gport);

	if (!(events & EPOLLIN))
		return;

	for (i = 0; i < UDP_MAX_FRAMES; i++) {
		udp_iov_recv[i].iov_base = udp_buf[i] + UDP_PL_OFF;
		udp_iov_recv[i].iov_len = UDP_PL_MAX;
	}

	for (round = 0; round < UDP_RECV_ROUNDS; round++) {
		size_t nf = 0;

		for (i = 0; i < UDP_MAX_FRAMES; i++) {
			struct msghdr *mh = &udp_mh_recv[i].msg_hdr;

			mh->msg_name = &udp_names[i];
			mh->msg_namelen = sizeof(udp_names[i]);
			mh->msg_iov = &udp_iov_recv[i];
			mh->msg_iovlen = 1;
			mh->msg_control = NULL;
			mh->msg_controllen = 0;
			mh->msg_flags = 0;
		}

		n = recvmmsg(ref.fd, udp_mh_recv, UDP_MAX_FRAMES, MSG_DONTWAIT,
			     NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				udp_errq_drain(c, ref.fd, v6, gport);
			break;
		}

		if (in) {
			udp_rep[v6][gport].fd = ref.fd;
			udp_rep[v6][gport].ts = t;
		} else if (udp_out[v6][port].fd == ref.fd) {
			udp_out[v6][port].ts = t;
		}

		for (i = 0; i < n; i++) {
			size_t plen = udp_mh_recv[i].msg_len;
			size_t l4len = UDP_HDR_LEN + plen;
			char *pl = udp_buf[i] + UDP_PL_OFF;
			char *uh = pl - UDP_HDR_LEN, *frame;
			const struct sockaddr_in6 *sn = &udp_names[i];
			uint16_t sport, ck;
			int local = 0;

			if (udp_mh_recv[i].msg_hdr.msg_flags & MSG_TRUNC ||
			    l4len > UINT16_MAX) {
				udp_stats.trunc++;
				continue;
			}

			put_be16(uh + 2, gport);
			put_be16(uh + 4, (uint16_t)l4len);
			memset(uh + 6, 0, 2);

			if (!v6) {
				const struct sockaddr_in *sn4 =
					(const struct sockaddr_in *)
					(const void *)sn;
				struct in_addr src = sn4->sin_addr;
				struct in_addr dst = udp_guest_addr4(c);

				if (sn4->sin_family != AF_INET)
					continue;
				sport = ntohs(sn4->sin_port);
				if (sport == UDP_DNS_PORT && dns &&
				    !IN4_IS_ADDR_UNSPECIFIED(&c->ip4.dns_match)
				    && IN4_ARE_ADDR_EQUAL(&src,
							  &c->ip4.dns_host))
					src = c->ip4.dns_match;
				else
					local = nat_inbound(c, AF_INET, &src);

				put_be16(uh, sport);
				ck = csum(uh, l4len,
					  proto_ipv4_header_psum(
						(uint16_t)l4len, IPPROTO_UDP,
						src, dst));
				memcpy(uh + 6, ck ? &ck : &(uint16_t){ 0xffff },
				       2);

				if (local || IN4_ARE_ADDR_EQUAL(&src,
								&c->ip4.gw))
					udp_gw_seen(in, v6, port, gport,
						    !local);

				if (IP4_HDR_LEN + l4len > mtu) {
					if (nf) {
						tap_send_frames(c, udp_iov_tap,
								1, nf);
						nf = 0;
					}
					udp_send_frags(c, 0, uh, l4len, &src,
						       &dst);
					continue;
				}
				frame = udp_ip4_frame(c, uh, l4len, src, dst,
						      IPPROTO_UDP, IP_DF, 0);
				udp_iov_tap[nf].iov_base = frame;
				udp_iov_tap[nf].iov_len = ETH_HDR_LEN +
							  IP4_HDR_LEN + l4len;
				nf++;
			} else {
				struct in6_addr src = sn->sin6_addr;
				const struct in6_addr *dst;

				if (sn->sin6_family != AF_INET6)
					continue;
				sport = ntohs(sn->sin6_port);
				if (sport == UDP_DNS_PORT && dns &&
				    !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_match)
				    && IN6_ARE_ADDR_EQUAL(&src,
							  &c->ip6.dns_host))
					src = c->ip6.dns_match;
				else
					local = nat_inbound(c, AF_INET6, &src);
				dst = udp_guest_addr6(c, &src);

				put_be16(uh, sport);
				ck = csum(uh, l4len,
					  proto_ipv6_header_psum(
						(uint32_t)l4len, IPPROTO_UDP,
						&src, dst));
				/* RFC 8200 8.1: zero is transmitted as ones */
				memcpy(uh + 6, ck ? &ck : &(uint16_t){ 0xffff },
				       2);

				if (local || IN6_ARE_ADDR_EQUAL(&src,
								&c->ip6.gw))
					udp_gw_seen(in, v6, port, gport,
						    !local);

				if (IP6_HDR_LEN + l4len > mtu) {
					if (nf) {
						tap_send_frames(c, udp_iov_tap,
								1, nf);
						nf = 0;
					}
					udp_send_frags(c, 1, uh, l4len, &src,
						       dst);
					continue;
				}
				frame = udp_ip6_frame(c, uh, l4len, &src, dst,
						      IPPROTO_UDP);
				udp_iov_tap[nf].iov_base = frame;
				udp_iov_tap[nf].iov_len = ETH_HDR_LEN +
							  IP6_HDR_LEN + l4len;
				nf++;
			}
		}

		if (nf)
			tap_send_frames(c, udp_iov_tap, 1, nf);

		if (n < UDP_MAX_FRAMES)
			break;
	}
}

/**
 * udp_init() - Bind sockets for inbound forwarded ports
 * @c:		Execution context
 *
 * passt forwards explicitly given ports and "all"; pasta only explicit ones
 * here ("auto" follows the namespace and belongs to the splice path).
 */
void udp_init(struct ctx *c)
{
	const struct fwd_ports *fwd = &c->udp_fwd_in;
	unsigned int port;
	int v, bound = 0, failed = 0;

	for (v = 0; v < 2; v++) {
		for (port = 0; port < NUM_PORTS; port++) {
			udp_out[v][port].fd = -1;
			udp_rep[v][port].fd = -1;
			udp_in[v][port] = -1;
		}
	}

	if (!(fwd->mode == FWD_SPEC ||
	      (fwd->mode == FWD_ALL && c->mode == MODE_PASST)))
		return;

	for (port = 1; port < NUM_PORTS; port++) {
		const struct fwd_addr *fa = NULL;

		if (!fwd_port_is_set(fwd, port))
			continue;
		if (fwd->addr_idx[port] &&
		    fwd->addr_idx[port] <= fwd->addr_count)
			fa = &fwd->addr[fwd->addr_idx[port] - 1];

		for (v = 0; v < 2; v++) {
			int af = v ? AF_INET6 : AF_INET, fd;
			const void *ba = NULL;

			if (!(v ? c->ifi6 : c->ifi4))
				continue;
			if (fa) {
				if (fa->af != af)
					continue;
				ba = v ? (const void *)&fa->a6 :
					 (const void *)&fa->a4;
			}

			fd = udp_sock_new(c, v, ba, (uint16_t)port, 0,
					  port | (v ? UDP_REF_V6 : 0) |
					  UDP_REF_IN);
			if (fd < 0) {
				failed++;
				if (fwd->mode == FWD_SPEC)
					warn("UDP: can't bind port %u "
					     "(IPv%i) for -u: %s", port,
					     v ? 6 : 4, strerror(-fd));
				continue;
			}
			udp_in[v][port] = fd;
			bound++;
		}
	}

	debug("UDP: %i inbound sockets bound, %i failed", bound, failed);
}

/**
 * udp_timer() - Close sockets of outbound flows idle for too long
 * @c:		Execution context
 * @now:	Current timestamp
 */
void udp_timer(struct ctx *c, const struct timespec *now)
{
	uint32_t t = (uint32_t)now->tv_sec;
	size_t w, b;
	int v;

	for (v = 0; v < 2; v++) {
		for (w = 0; w < ARRAY_SIZE(udp_out_active[v]); w++) {
			unsigned long word = udp_out_active[v][w];

			for (b = 0; word; b++, word >>= 1) {
				size_t port = w * sizeof(long) * 8 + b;
				struct udp_flow *f = &udp_out[v][port];

				if (!(word & 1))
					continue;
				if (f->fd >= 0 &&
				    t - f->ts < UDP_CONN_TIMEOUT)
					continue;

				if (f->fd >= 0) {
					epoll_del(c->epollfd, f->fd);
					close(f->fd);
					debug("UDP: closed idle socket for "
					      "guest port %zu", port);
				}
				f->fd = -1;
				udp_out_active[v][w] &= ~BITMAP_BIT(port);
			}
		}
	}
}
