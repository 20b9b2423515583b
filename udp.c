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
 * the whole batch goes to the guest with one tap_send_frames(). With pasta's
 * tap offloads, checksums are left to the kernel and, with USO, runs of
 * datagrams of one flow and one size become one super-datagram the kernel
 * cuts again (udp_tap_flush()). A datagram
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
 * --dns-forward: datagrams to dns_match port 53 or 853 go to dns_host, and
 * answers from there come back from dns_match; the same for DNS to the
 * --map-host-loopback address when it stands for a resolver (nat_outbound()).
 *
 * ICMP errors. Sockets have IP_RECVERR/IPV6_RECVERR set: destination
 * unreachable and time exceeded errors are read from the error queue and
 * relayed to the guest quoting a reconstructed IP and UDP header of the
 * original datagram (RFC 792, RFC 4443 3.1), so that the guest's socket
 * sees ECONNREFUSED and friends.
 *
 * Limits: 2 x 65536 entries per table (one per IP version and port),
 * UDP_MAX_FRAMES datagrams per recvmmsg(), UDP_TAP_BATCH per sendmmsg().
 *
 * Local bypass (pasta only, man page NOTES, "Handling of local traffic in
 * pasta"; the last section of this file). Datagrams between loopback
 * addresses of the two namespaces never cross the tap device:
 *
 *   -u: client 127.0.0.1:C (init) -> our socket *:P (init, bound by
 *       udp_init(), the same one the tap path uses) -> flow socket bound to
 *       127.0.0.1:C in the namespace (created by an ns_call() child, the
 *       descriptor is shared) -> server at 127.0.0.1:fwd_target(P) there.
 *       Replies to the flow socket leave from *:P, towards 127.0.0.1:C.
 *   -U: client 127.0.0.1:C (namespace) -> our socket 127.0.0.1:P in the
 *       namespace -> flow socket bound to 127.0.0.1:C in init -> server at
 *       127.0.0.1:fwd_target(P) in init; replies back likewise.
 *
 * The same for ::1 (IPv6 sockets are IPV6_V6ONLY: no mixing). The flow
 * socket keeps the client's port where it's free, so that the server sees
 * the same source port. Flows are indexed by direction, IP version and
 * client port (udp_splice_flows[][][]), remember the client's loopback
 * address and the forwarded port last used, and are closed by udp_timer()
 * after UDP_CONN_TIMEOUT seconds without traffic in either direction.
 * Payloads are received with recvmmsg() into udp_buf (the tap path's
 * buffers) and sent from there with sendmmsg(): no copies, one system call
 * per batch and direction. Non-loopback sources on -u ports take the tap
 * path as before.
 *
 * Automatic forwarding ("auto", pasta's default for -u and -U): when pasta
 * starts, and only then (man page, -u), the namespace's /proc/net/udp and
 * udp6 (opened by an ns_call() child, so that they describe the target
 * namespace) give the -u ports, and init's the -U ports, each excluding
 * the other direction's ports. They're bound like explicit ones: *:P in
 * init, loopback only in the namespace; a port already taken on the side
 * we bind on is skipped silently.
 */

#include <errno.h>
#include <fcntl.h>
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
#define UDP_UNREPLIED_TIMEOUT	30	/* s: a flow nobody ever answered, as
					 * conntrack's plain UDP timeout
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
#define UDP_USO_SEGS		64	/* datagrams per super-datagram to the
					 * tap: UDP_MAX_SEGMENTS of older
					 * kernels
					 */
#define UDP_FRAG_BUF		(512 * 1024)	/* fragments built per flush */
#define UDP_FRAG_FRAMES		1024
#define UDP_SOCK_BUF		(4 * 1024 * 1024)	/* SO_RCVBUF wish */
#define UDP_MTU_DEFAULT		1500	/* -m 0: the guest's own default */

/* epoll reference data: port, IP version, inbound (forwarded port) socket */
#define UDP_REF_PORT_MASK	0xffffU
#define UDP_REF_V6		(1U << 16)
#define UDP_REF_IN		(1U << 17)

#define UDP_ICMP_RATE		100	/* ICMP errors to the guest per second */
#define V4			0
#define V6			1

/* Local bypass, see the last section of this file */
static int udp_splice_local(const struct ctx *c, int v6,
			    const struct sockaddr_in6 *sn,
			    const struct fwd_to *to);
static void udp_splice_send(struct ctx *c, int dir, int v6, uint16_t lport,
			    int n, const struct timespec *now);
static void udp_splice_handler(struct ctx *c, union epoll_ref ref,
			       uint32_t events, const struct timespec *now);
static void udp_splice_init(struct ctx *c);
static void udp_splice_timer(struct ctx *c, const struct timespec *now);
static void udp_splice_auto(struct ctx *c);
static unsigned long udp_splice_open(void);
static void udp_splice_timer_flows(struct ctx *c, const struct timespec *now);

#define UDP_REF_SPLICE		(1U << 18)	/* bypass socket, see below */
#define UDP_SPLICE_IN		0	/* -u: client in init, server in ns */

/* Datagrams of the current batch that take the local bypass */
static uint8_t udp_splice_mark[UDP_MAX_FRAMES];

/**
 * struct udp_flow - Socket for one guest source port, outbound
 * @fd:		Socket, -1 if none
 * @ts:		Last use, seconds (CLOCK_MONOTONIC)
 * @gw_real:	Peer at the gateway address was the gateway itself: don't
 *		map the gateway address to loopback for this port
 * @dns:	Guest sent DNS to an address we translated to the resolver
 *		(--dns-forward, or the host address standing for a stub
 *		resolver): answers from the resolver come back from there
 * @dns_dst:	That address, as the guest sent to it (IPv4: 4 bytes)
 * @replied:	Something came back: the flow lives UDP_CONN_TIMEOUT, not
 *		UDP_UNREPLIED_TIMEOUT
 * @gaddr:	Guest's source address of its last datagram (IPv4: first 4
 *		bytes): replies go there, whatever it uses otherwise
 * @mapped:	@orig and @seen are valid
 * @seen:	Address the guest saw a local peer as (nat_inbound())
 * @orig:	That peer's real address (IPv4: first 4 bytes): the guest's
 *		datagrams to @seen go back there, whatever the mapping options
 */
struct udp_flow {
	int fd;
	uint32_t ts;
	uint8_t gw_real;
	uint8_t dns;
	uint8_t mapped;
	uint8_t replied;
	struct in6_addr dns_dst;
	struct in6_addr gaddr;
	struct in6_addr seen;
	struct in6_addr orig;
};

/**
 * struct udp_rep - Inbound socket that replies from a guest port leave from
 * @fd:		Socket bound to the forwarded port, -1 if none
 * @ts:		Last datagram forwarded to the guest port, seconds
 * @gw_real:	As in struct udp_flow
 * @mapped:	As in struct udp_flow
 * @seen:	As in struct udp_flow
 * @orig:	As in struct udp_flow
 */
struct udp_rep {
	int fd;
	uint32_t ts;
	uint8_t gw_real;
	uint8_t mapped;
	struct in6_addr seen;
	struct in6_addr orig;
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
	unsigned long errs_limited;	/* not relayed: over the rate limit */
} udp_stats;

/* Socket to guest: frames built around the received payloads */
static char udp_buf[UDP_MAX_FRAMES][UDP_PL_OFF + UDP_PL_MAX + 1]
	__attribute__((aligned(64)));
static struct sockaddr_in6 udp_names[UDP_MAX_FRAMES];
static struct iovec udp_iov_recv[UDP_MAX_FRAMES];
static struct mmsghdr udp_mh_recv[UDP_MAX_FRAMES];
static struct iovec udp_iov_tap[UDP_MAX_FRAMES];
/* pasta with the tap's offloads: checksums left to the kernel */
static struct tap_gso udp_gso_tap[UDP_MAX_FRAMES];

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

static unsigned long udp_sock_failed;	/* guest datagrams dropped: no
					 * socket (limits, -o, bind device) */

/**
 * udp_sock_new() - Create a UDP socket, bound to @port if possible
 * @c:		Execution context
 * @v6:		IPv6 if set
 * @bind_addr:	Address to bind to (struct in_addr/in6_addr), NULL for any
 * @ifname:	Interface to bind to, NULL or empty for any
 * @port:	Port to bind to, host order
 * @fallback:	Bind to an ephemeral port if @port is taken
 * @refdata:	epoll reference data
 *
 * Return: socket, or -errno
 */
/* #syscalls: socket setsockopt bind close */
static int udp_sock_new(const struct ctx *c, int v6, const void *bind_addr,
			const char *ifname, uint16_t port, int fallback,
			uint32_t refdata)
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
			a.sa6.sin6_scope_id = ifname && *ifname ?
					      if_nametoindex(ifname) : c->ifi6;
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

	/* --freebind: forwarded ports only, not flow sockets */
	if (c->freebind && (refdata & UDP_REF_IN))
		sock_freebind(fd, v6 ? AF_INET6 : AF_INET);

	if (ifname && *ifname && sock_bind_dev(fd, ifname)) {
		ret = -errno;
		close(fd);
		return ret;
	}

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
			const struct timespec *now, int *gw_real,
			const struct in6_addr **orig,
			const struct in6_addr **seen)
{
	struct udp_rep *r = &udp_rep[v6][port];
	struct udp_flow *f = &udp_out[v6][port];
	uint32_t t = (uint32_t)now->tv_sec;
	int fd;

	/* Replies to inbound traffic leave from the forwarded port */
	*orig = *seen = NULL;
	if (r->fd >= 0 && t - r->ts < UDP_CONN_TIMEOUT) {
		*gw_real = r->gw_real;
		if (r->mapped) {
			*orig = &r->orig;
			*seen = &r->seen;
		}
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
		if (f->mapped) {
			*orig = &f->orig;
			*seen = &f->seen;
		}
		return f->fd;
	}

	/* -o and --outbound-if4/6 apply to flow sockets */
	if (v6)
		fd = udp_sock_new(c, 1, IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_out) ?
				  NULL : &c->ip6.addr_out, c->ip6.ifname_bind,
				  port, 1, port | UDP_REF_V6);
	else
		fd = udp_sock_new(c, 0, c->ip4.addr_out.s_addr ?
				  &c->ip4.addr_out : NULL, c->ip4.ifname_bind,
				  port, 1, port);
	if (fd < 0) {
		udp_sock_failed++;
		warn_ratelimit("UDP: can't open socket for guest port %u, "
			       "datagram dropped (%lu so far): %s", port,
			       udp_sock_failed, strerror(-fd));
		return -1;
	}

	f->fd = fd;
	f->ts = t;
	f->gw_real = 0;
	f->mapped = 0;
	f->replied = 0;
	memset(&f->gaddr, 0, sizeof(f->gaddr));
	udp_out_active[v6][BITMAP_WORD(port)] |= BITMAP_BIT(port);
	*gw_real = 0;
	debug("UDP: opened socket for guest port %u (IPv%i)", port,
	      v6 ? 6 : 4);
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
 * udp_flow_gaddr() - Guest address an outbound flow's replies go to
 * @in:		Datagram came in on a forwarded port: not an outbound flow
 * @v6:		IPv6 if set
 * @port:	Guest port of the flow
 *
 * Return: the address the guest last sent from on this flow, NULL if none
 */
static const struct in6_addr *udp_flow_gaddr(int in, int v6, uint16_t port)
{
	const struct udp_flow *f = &udp_out[v6][port];
	static const struct in6_addr none;

	if (in || f->fd < 0 || !memcmp(&f->gaddr, &none, sizeof(none)))
		return NULL;

	return &f->gaddr;
}

/**
 * udp_tap_nat() - Host-side destination of a datagram from the guest
 * @c:		Execution context
 * @af:		AF_INET or AF_INET6
 * @dst:	Destination to fill (struct in_addr or in6_addr)
 * @daddr:	Destination the guest used
 * @dport:	Destination port
 * @gw_real:	The gateway address means the real gateway for this port
 * @orig:	Local peer we mapped for this port, or NULL
 * @seen:	What the guest saw that peer as, if @orig is set
 *
 * Return: enum nat_result of the translation
 */
static enum nat_result udp_tap_nat(const struct ctx *c, int af, void *dst,
				   const void *daddr, uint16_t dport,
				   int gw_real, const struct in6_addr *orig,
				   const struct in6_addr *seen)
{
	size_t alen = af == AF_INET6 ? sizeof(struct in6_addr) :
				       sizeof(struct in_addr);
	enum nat_result nat;

	memcpy(dst, daddr, alen);
	if (seen && !memcmp(dst, seen, alen)) {
		memcpy(dst, orig, alen);	/* back to the peer we mapped */
		return NAT_NONE;
	}

	nat = nat_outbound(c, af, dst, dport);
	if (nat == NAT_HOST_LO && gw_real)	/* the real gateway */
		memcpy(dst, daddr, alen);

	return nat;
}

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
/* #syscalls: sendmmsg */
int udp_tap_handler(struct ctx *c, int af, const void *saddr,
		    const void *daddr, const struct pool *p, size_t idx,
		    const struct timespec *now)
{
	int v6 = af == AF_INET6, fd, gw_real = 0, tries, dns = 0;
	const struct in6_addr *orig, *seen;
	size_t i, n = 0, count;
	uint16_t sport, dport;
	union udp_sa a;
	const char *uh;
	socklen_t sl;

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

	fd = udp_tap_sock(c, v6, sport, now, &gw_real, &orig, &seen);
	if (fd < 0) {
		udp_stats.no_sock += count;
		return (int)count;
	}

	/* Replies go back to the address the guest sent from */
	if (udp_out[v6][sport].fd == fd)
		memcpy(&udp_out[v6][sport].gaddr, saddr,
		       v6 ? sizeof(struct in6_addr) : sizeof(struct in_addr));

	memset(&a, 0, sizeof(a));
	if (v6) {
		struct in6_addr dst;

		dns = udp_tap_nat(c, AF_INET6, &dst, daddr, dport, gw_real,
				  orig, seen) == NAT_DNS;

		a.sa6.sin6_family = AF_INET6;
		a.sa6.sin6_port = htons(dport);
		a.sa6.sin6_addr = dst;
		if (IN6_IS_ADDR_LINKLOCAL(&dst))
			a.sa6.sin6_scope_id = c->ifi6;
		sl = sizeof(a.sa6);
	} else {
		struct in_addr dst;

		dns = udp_tap_nat(c, AF_INET, &dst, daddr, dport, gw_real,
				  orig, seen) == NAT_DNS;

		a.sa4.sin_family = AF_INET;
		a.sa4.sin_port = htons(dport);
		a.sa4.sin_addr = dst;
		sl = sizeof(a.sa4);
	}

	/* Answers from the resolver: from dns_match only if asked there */
	if (udp_out[v6][sport].fd == fd && (dns || nat_dns_port(dport))) {
		udp_out[v6][sport].dns = (uint8_t)dns;
		if (dns)
			memcpy(&udp_out[v6][sport].dns_dst, daddr,
			       v6 ? sizeof(struct in6_addr) :
				    sizeof(struct in_addr));
	}

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
 * udp_icmp_ratelimit() - Over the rate of ICMP errors we relay to the guest?
 *
 * RFC 4443 2.4 (f) asks for a limit on ICMPv6 errors, RFC 1812 4.3.2.8 on
 * ICMP ones: at most UDP_ICMP_RATE per second, whatever the socket.
 *
 * Return: true if this error should be dropped
 */
/* #syscalls: clock_gettime */
static bool udp_icmp_ratelimit(void)
{
	static time_t second;
	static unsigned int sent;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != second) {
		second = now.tv_sec;
		sent = 0;
	}

	return sent++ >= UDP_ICMP_RATE;
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
/* #syscalls: recvmsg */
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

		if (udp_icmp_ratelimit()) {
			udp_stats.errs_limited++;
			continue;
		}

		if (!v6 && ee->ee_origin == SO_EE_ORIGIN_ICMP &&
		    orig.sa.sa_family == AF_INET &&
		    (ee->ee_type == 3 || ee->ee_type == 11)) {
			/* RFC 792: destination unreachable, time exceeded */
			struct in_addr odst = orig.sa4.sin_addr, src;
			struct in_addr gaddr = udp_guest_addr4(c);
			struct iphdr *ip;
			char *u;

			if (nat_dns_port(ntohs(orig.sa4.sin_port)) &&
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
			/* RFC 1191 4: fragmentation needed carries the MTU */
			if (ee->ee_type == 3 && ee->ee_code == 4)
				put_be16(msg + 6, (uint16_t)MIN(ee->ee_info,
								65535U));
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
			   (ee->ee_type == 1 || ee->ee_type == 2 ||
			    ee->ee_type == 3)) {
			/* RFC 4443 3.1, 3.2 (Packet Too Big: the MTU), 3.3 */
			struct in6_addr odst = orig.sa6.sin6_addr, src;
			const struct in6_addr *gaddr;
			struct ip6_hdr *ip6;
			char *u;

			if (nat_dns_port(ntohs(orig.sa6.sin6_port)) &&
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
			if (ee->ee_type == 2)
				put_be32(msg + 4, ee->ee_info);
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
 * udp_gw_seen() - Note whether the gateway address stands for the host, and
 *		   the local peer behind a mapped address
 * @in:		Datagram came in on a forwarded port
 * @v6:		IPv6 if set
 * @port:	Host-side port it came in on
 * @gport:	Guest port it goes to
 * @real:	Peer at the gateway address is the gateway itself
 * @orig:	Real peer address if it was mapped (IPv4: 4 bytes), or NULL
 * @seen:	What the guest sees instead, if @orig is given
 * @alen:	Length of @orig and @seen
 */
static void udp_gw_seen(int in, int v6, uint16_t port, uint16_t gport,
			int real, const void *orig, const void *seen,
			size_t alen)
{
	uint8_t *gw_real, *mapped;
	struct in6_addr *o, *s;

	if (in) {
		struct udp_rep *r = &udp_rep[v6][gport];

		gw_real = &r->gw_real;
		mapped = &r->mapped;
		o = &r->orig;
		s = &r->seen;
	} else {
		struct udp_flow *f = &udp_out[v6][port];

		gw_real = &f->gw_real;
		mapped = &f->mapped;
		o = &f->orig;
		s = &f->seen;
	}

	*gw_real = (uint8_t)real;
	*mapped = !!orig;
	if (orig) {
		memcpy(o, orig, alen);
		memcpy(s, seen, alen);
	}
}

/**
 * udp_uso_merge() - Can frame @k join the super-datagram that starts at @h?
 * @h:		Frame starting the super-datagram (Ethernet onwards)
 * @hlen:	Its current length
 * @k:		Candidate frame, right after the last one merged
 * @klen:	Its length
 * @seg:	Payload per datagram of the super-datagram
 * @last:	Payload length of the last datagram merged so far
 * @segs:	Datagrams in it so far
 *
 * Same addresses and ports (one recvmmsg() batch is one socket, but not
 * always one peer), every datagram but the last exactly @seg bytes, at most
 * UDP_USO_SEGS datagrams in a 64 KiB IP packet.
 *
 * Return: payload length of @k if it can be merged, -1 otherwise
 */
static ssize_t udp_uso_merge(const char *h, size_t hlen, const char *k,
			     size_t klen, size_t seg, size_t last,
			     size_t segs)
{
	size_t l3 = get_be16(h + 12) == ETHERTYPE_IP ? IP4_HDR_LEN :
						       IP6_HDR_LEN;
	size_t hdrs = ETH_HDR_LEN + l3 + UDP_HDR_LEN, pl;

	if (klen < hdrs || last != seg || segs >= UDP_USO_SEGS ||
	    get_be16(h + 12) != get_be16(k + 12))
		return -1;
	pl = klen - hdrs;
	if (!pl || pl > seg || hlen - ETH_HDR_LEN + pl > 65535)
		return -1;

	/* Addresses: IPv4 12..19, IPv6 8..39 of the IP header; ports */
	if (l3 == IP4_HDR_LEN ?
	    memcmp(h + ETH_HDR_LEN + 12, k + ETH_HDR_LEN + 12, 8) :
	    memcmp(h + ETH_HDR_LEN + 8, k + ETH_HDR_LEN + 8, 32))
		return -1;
	if (memcmp(h + ETH_HDR_LEN + l3, k + ETH_HDR_LEN + l3, 4))
		return -1;

	return (ssize_t)pl;
}

/**
 * udp_uso_finish() - Fix lengths and checksums of a super-datagram
 * @f:		Frame, Ethernet onwards
 * @len:	Its length, all datagrams merged
 * @seg:	Payload per datagram
 * @g:		Offload request to fill
 */
static void udp_uso_finish(char *f, size_t len, size_t seg, struct tap_gso *g)
{
	char *ip = f + ETH_HDR_LEN, *uh;
	size_t l4len;
	uint32_t psum;
	uint16_t ck;

	if (get_be16(f + 12) == ETHERTYPE_IP) {
		struct in_addr s4, d4;

		uh = ip + IP4_HDR_LEN;
		l4len = len - ETH_HDR_LEN - IP4_HDR_LEN;
		memcpy(&s4, ip + 12, 4);
		memcpy(&d4, ip + 16, 4);
		put_be16(ip + 2, (uint16_t)(IP4_HDR_LEN + l4len));
		ck = csum_ip4_header((uint16_t)(IP4_HDR_LEN + l4len),
				     IPPROTO_UDP, s4, d4);
		memcpy(ip + 10, &ck, 2);
		psum = proto_ipv4_header_psum((uint16_t)l4len, IPPROTO_UDP,
					      s4, d4);
	} else {
		struct in6_addr s6, d6;

		uh = ip + IP6_HDR_LEN;
		l4len = len - ETH_HDR_LEN - IP6_HDR_LEN;
		memcpy(&s6, ip + 8, 16);
		memcpy(&d6, ip + 24, 16);
		put_be16(ip + 4, (uint16_t)l4len);
		psum = proto_ipv6_header_psum((uint32_t)l4len, IPPROTO_UDP,
					      &s6, &d6);
	}

	/* The kernel cuts it at @seg, fixing each length and checksum from
	 * these: the pseudo-header sum for the whole (virtio 1.0 5.1.6.2)
	 */
	put_be16(uh + 4, (uint16_t)l4len);
	ck = (uint16_t)~csum_fold(psum);
	memcpy(uh + 6, &ck, 2);
	g->gso_size = (uint16_t)seg;
}

/**
 * udp_tap_flush() - Send the batch of frames to the guest or namespace
 * @c:		Execution context
 * @nf:		Frames in udp_iov_tap
 *
 * With the tap's UDP segmentation offload (pasta, Linux >= 6.2), runs of
 * datagrams of one flow and one size become super-datagrams: payloads are
 * copied after the first one's, in its buffer (room for 64 KiB), and the
 * kernel cuts them again, one write instead of one per datagram.
 */
static void udp_tap_flush(const struct ctx *c, size_t nf)
{
	size_t i, out = 0;

	if (!nf)
		return;

	for (i = 0; i < nf; i++)
		udp_gso_tap[i].gso_size = 0;

	if (!(tap_offloads() & TAP_OFF_USO) || !udp_gso_tap[0].partial) {
		tap_send_frames_gso(c, udp_iov_tap, 1, nf, udp_gso_tap);
		return;
	}

	for (i = 0; i < nf; ) {
		char *h = udp_iov_tap[i].iov_base;
		size_t hlen = udp_iov_tap[i].iov_len, segs = 1, k;
		size_t hdrs = ETH_HDR_LEN + UDP_HDR_LEN +
			      (get_be16(h + 12) == ETHERTYPE_IP ? IP4_HDR_LEN :
								  IP6_HDR_LEN);
		size_t seg = hlen - hdrs, last = seg;

		for (k = i + 1; k < nf; k++) {
			ssize_t pl = udp_uso_merge(h, hlen,
						   udp_iov_tap[k].iov_base,
						   udp_iov_tap[k].iov_len,
						   seg, last, segs);

			if (pl < 0)
				break;
			memcpy(h + hlen, (char *)udp_iov_tap[k].iov_base + hdrs,
			       (size_t)pl);
			hlen += (size_t)pl;
			last = (size_t)pl;
			segs++;
		}

		udp_iov_tap[out].iov_base = h;
		udp_iov_tap[out].iov_len = hlen;
		udp_gso_tap[out].gso_size = 0;
		if (segs > 1)
			udp_uso_finish(h, hlen, seg, &udp_gso_tap[out]);
		out++;
		i = k;
	}

	tap_send_frames_gso(c, udp_iov_tap, 1, out, udp_gso_tap);
}

/**
 * udp_sock_handler() - Datagrams or errors on a UDP socket
 * @c:		Execution context
 * @ref:	epoll reference: port, IP version, inbound flag
 * @events:	epoll events
 * @now:	Current timestamp
 */
/* #syscalls: recvmmsg */
void udp_sock_handler(struct ctx *c, union epoll_ref ref, uint32_t events,
		      const struct timespec *now)
{
	uint16_t port = (uint16_t)(ref.data & UDP_REF_PORT_MASK), gport;
	const struct fwd_to *to;
	int v6 = !!(ref.data & UDP_REF_V6), in = !!(ref.data & UDP_REF_IN);
	uint32_t t = (uint32_t)now->tv_sec;
	int partial = !!(tap_offloads() & TAP_OFF_CSUM);
	size_t mtu = udp_mtu(c);
	int round, i, n, dns;

	if (ref.data & UDP_REF_SPLICE) {
		udp_splice_handler(c, ref, events, now);
		return;
	}

	gport = in ? (uint16_t)fwd_target(&c->udp_fwd_in, port) : port;
	to = in ? fwd_target_addr(&c->udp_fwd_in, port) : NULL;
	dns = !in && udp_out[v6][port].fd == ref.fd && udp_out[v6][port].dns;

	if (events & EPOLLERR)
		udp_errq_drain(c, ref.fd, v6, gport);

	if (!(events & EPOLLIN))
		return;

	for (i = 0; i < UDP_MAX_FRAMES; i++)
		udp_gso_tap[i].partial = (uint8_t)partial;

	for (i = 0; i < UDP_MAX_FRAMES; i++) {
		udp_iov_recv[i].iov_base = udp_buf[i] + UDP_PL_OFF;
		udp_iov_recv[i].iov_len = UDP_PL_MAX;
	}

	for (round = 0; round < UDP_RECV_ROUNDS; round++) {
		int spliced = 0;
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
			udp_out[v6][port].replied = 1;
		}

		for (i = 0; i < n; i++) {
			size_t plen = udp_mh_recv[i].msg_len;
			size_t l4len = UDP_HDR_LEN + plen;
			char *pl = udp_buf[i] + UDP_PL_OFF;
			char *uh = pl - UDP_HDR_LEN, *frame;
			const struct sockaddr_in6 *sn = &udp_names[i];
			uint16_t sport, ck;
			uint32_t psum;
			int local = 0;

			udp_splice_mark[i] = 0;
			if (udp_mh_recv[i].msg_hdr.msg_flags & MSG_TRUNC ||
			    l4len > UINT16_MAX) {
				udp_stats.trunc++;
				continue;
			}

			/* pasta: loopback clients take the local bypass, and
			 * so does anybody's traffic to a loopback target
			 */
			if (in && udp_splice_local(c, v6, sn, to)) {
				udp_splice_mark[i] = 1;
				spliced++;
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
				struct in_addr dst = to ? to->a4 :
						     udp_guest_addr4(c);
				const struct in6_addr *fg = udp_flow_gaddr(in,
									   v6,
									   port);

				if (!to && fg)
					memcpy(&dst, fg, sizeof(dst));
				struct in_addr orig = src;

				if (sn4->sin_family != AF_INET)
					continue;
				sport = ntohs(sn4->sin_port);
				if (nat_dns_port(sport) && dns &&
				    IN4_ARE_ADDR_EQUAL(&src, &c->ip4.dns_host))
					memcpy(&src, &udp_out[v6][port].dns_dst,
					       sizeof(src));
				else
					local = nat_inbound(c, AF_INET, &src);

				put_be16(uh, sport);
				psum = proto_ipv4_header_psum((uint16_t)l4len,
							      IPPROTO_UDP,
							      src, dst);
				/* Fragments carry their complete checksum */
				if (partial && IP4_HDR_LEN + l4len <= mtu)
					ck = (uint16_t)~csum_fold(psum);
				else
					ck = csum(uh, l4len, psum);
				memcpy(uh + 6, ck ? &ck : &(uint16_t){ 0xffff },
				       2);

				if (local || IN4_ARE_ADDR_EQUAL(&src,
								&c->ip4.gw))
					udp_gw_seen(in, v6, port, gport,
						    !local, local ? &orig : NULL,
						    &src, sizeof(src));

				if (IP4_HDR_LEN + l4len > mtu) {
					if (nf) {
						udp_tap_flush(c, nf);
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
				struct in6_addr orig = src;
				const struct in6_addr *dst;

				if (sn->sin6_family != AF_INET6)
					continue;
				sport = ntohs(sn->sin6_port);
				if (nat_dns_port(sport) && dns &&
				    IN6_ARE_ADDR_EQUAL(&src, &c->ip6.dns_host))
					src = udp_out[v6][port].dns_dst;
				else
					local = nat_inbound(c, AF_INET6, &src);
				dst = to ? &to->a6 : udp_flow_gaddr(in, v6, port);
				if (!dst)
					dst = udp_guest_addr6(c, &src);

				put_be16(uh, sport);
				psum = proto_ipv6_header_psum((uint32_t)l4len,
							      IPPROTO_UDP,
							      &src, dst);
				if (partial && IP6_HDR_LEN + l4len <= mtu)
					ck = (uint16_t)~csum_fold(psum);
				else
					ck = csum(uh, l4len, psum);
				/* RFC 8200 8.1: zero is transmitted as ones */
				memcpy(uh + 6, ck ? &ck : &(uint16_t){ 0xffff },
				       2);

				if (local || IN6_ARE_ADDR_EQUAL(&src,
								&c->ip6.gw))
					udp_gw_seen(in, v6, port, gport,
						    !local, local ? &orig : NULL,
						    &src, sizeof(src));

				if (IP6_HDR_LEN + l4len > mtu) {
					if (nf) {
						udp_tap_flush(c, nf);
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

		udp_tap_flush(c, nf);
		if (spliced)
			udp_splice_send(c, UDP_SPLICE_IN, v6, port, n, now);

		if (n < UDP_MAX_FRAMES)
			break;
	}
}

/**
 * udp_in_open() - Bind the inbound socket of a forwarded port (-u)
 * @c:		Execution context
 * @v:		IPv6 if set
 * @port:	Port, with the bind address and interface of its rule
 *
 * Return: socket, -ENOENT if the rule binds an address of the other IP
 *	   version, -errno on failure
 */
static int udp_in_open(const struct ctx *c, int v, unsigned int port)
{
	const struct fwd_addr *fa = fwd_bind_addr(&c->udp_fwd_in, port);
	const void *ba = NULL;

	if (fa && fa->af) {
		if (fa->af != (v ? AF_INET6 : AF_INET))
			return -ENOENT;
		ba = v ? (const void *)&fa->a6 : (const void *)&fa->a4;
	}

	return udp_sock_new(c, v, ba, fa ? fa->ifname : NULL, (uint16_t)port,
			    0, port | (v ? UDP_REF_V6 : 0) | UDP_REF_IN);
}

/**
 * udp_init() - Bind sockets for inbound forwarded ports
 * @c:		Execution context
 *
 * Both modes forward explicitly given ports and "all" (best effort: quiet
 * failures, within the descriptor budget, fatal only if nothing binds);
 * pasta also "auto" (ports found bound in the namespace at start, by
 * udp_splice_init(), which also binds the -U sockets in the namespace).
 */
void udp_init(struct ctx *c)
{
	const struct fwd_ports *fwd = &c->udp_fwd_in;
	unsigned int port, wanted = 0, ports = 0, budget_out = 0, held = 0;
	int v, bound = 0, failed = 0, err = 0, held_err = 0;

	for (v = 0; v < 2; v++) {
		for (port = 0; port < NUM_PORTS; port++) {
			udp_out[v][port].fd = -1;
			udp_rep[v][port].fd = -1;
			udp_in[v][port] = -1;
		}
	}

	if (c->mode == MODE_PASTA)
		udp_splice_init(c);

	if (!(fwd->mode == FWD_SPEC ||
	      (fwd->mode == FWD_AUTO && c->mode == MODE_PASTA)))
		return;

	for (port = 1; port < NUM_PORTS; port++) {
		int ok = 0;

		if (!fwd_port_is_set(fwd, port))
			continue;
		wanted++;

		for (v = 0; v < 2; v++) {
			int af = v ? AF_INET6 : AF_INET, fd;

			if (!(v ? c->ifi6 : c->ifi4) ||
			    !fwd_port_af(fwd, port, af))
				continue;
			if (fwd_port_quiet(fwd, port) && fwd->mode == FWD_SPEC &&
			    fd_budget_take()) {
				if (!budget_out++)
					warn("UDP: descriptor budget for 'all' "
					     "used up, ports from %u on not "
					     "forwarded", port);
				continue;
			}
			fd = udp_in_open(c, v, port);
			if (fd < 0) {
				failed++;
				err = fd;
				if (fwd_port_quiet(fwd, port) &&
				    fwd->mode == FWD_SPEC) {
					fd_budget_return();
					continue;
				}
				if (fwd->mode != FWD_SPEC)
					continue;
				if (!ports && !held) {
					held = port;	/* one line if fatal */
					held_err = fd;
					continue;
				}
				warn("UDP: can't bind port %u (IPv%i) for -u: %s",
				     port, v ? 6 : 4, strerror(-fd));
				continue;
			}
			udp_in[v][port] = fd;
			bound++;
			ok = 1;
		}
		ports += ok;
	}

	if (fwd->mode == FWD_SPEC && wanted && !ports) {
		if (wanted == 1 && held)
			die("Can't bind UDP port %u for -u/--udp-ports: %s",
			    held, strerror(-held_err));
		die("Can't bind any UDP port for -u/--udp-ports: %s",
		    strerror(err ? -err : EADDRNOTAVAIL));
	}
	if (held)
		warn("UDP: can't bind port %u for -u: %s", held,
		     strerror(-held_err));
	debug("UDP: %i inbound sockets bound, %i failed", bound, failed);
}

/**
 * udp_out_expire() - Close guest-side sockets idle for too long, or all,
 *		      or those using a given local address
 * @c:		Execution context
 * @t:		Current time, seconds
 * @all:	Close every socket, idle or not
 * @af:		With @gone: its address family
 * @gone:	Close sockets whose local address is this one, if not NULL
 */
/* #syscalls: close */
static void udp_out_expire(struct ctx *c, uint32_t t, int all, int af,
			   const void *gone)
{
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
				if (gone ? f->fd >= 0 &&
					   !sock_local_is(f->fd, af, gone) :
					   f->fd >= 0 && !all &&
					   t - f->ts < (f->replied ?
							UDP_CONN_TIMEOUT :
							UDP_UNREPLIED_TIMEOUT))
					continue;

				if (f->fd >= 0) {
					epoll_del(c->epollfd, f->fd);
					close(f->fd);
					debug("UDP: closed socket for guest "
					      "port %zu", port);
				}
				f->fd = -1;
				udp_out_active[v][w] &= ~BITMAP_BIT(port);
			}
		}
	}
}

/**
 * udp_timer() - Close sockets of outbound flows idle for too long
 * @c:		Execution context
 * @now:	Current timestamp
 */
void udp_timer(struct ctx *c, const struct timespec *now)
{
	static unsigned long logged = ULONG_MAX;
	unsigned long open = 0;
	size_t w;
	int v;

	udp_out_expire(c, (uint32_t)now->tv_sec, 0, 0, NULL);

	if (c->mode == MODE_PASTA)
		udp_splice_timer(c, now);

	/* --debug: what is open, whenever that changes */
	for (v = 0; v < 2; v++) {
		for (w = 0; w < ARRAY_SIZE(udp_out_active[v]); w++)
			open += (unsigned long)
				__builtin_popcountl(udp_out_active[v][w]);
	}
	open += udp_splice_open();
	if (open != logged) {
		logged = open;
		debug("UDP: %lu flow sockets open; %lu bad length, %lu no "
		      "socket, %lu not sent, %lu ICMP errors relayed, %lu "
		      "over the rate limit", open, udp_stats.bad_len,
		      udp_stats.no_sock, udp_stats.send_fail, udp_stats.errs,
		      udp_stats.errs_limited);
	}
}

/**
 * udp_tap_reset() - The guest went away: close the sockets of its flows
 * @c:		Execution context
 */
void udp_tap_reset(struct ctx *c)
{
	udp_out_expire(c, 0, 1, 0, NULL);
}

/**
 * udp_addr_gone() - Close flows whose socket uses a vanished address
 * @c:		Execution context
 * @af:		AF_INET or AF_INET6
 * @addr:	Host address that went away (struct in_addr or in6_addr)
 *
 * Flow sockets are usually bound to the wildcard address, and keep working:
 * only those bound to @addr (-o/--outbound) are closed (follow.c).
 */
void udp_addr_gone(struct ctx *c, int af, const void *addr)
{
	udp_out_expire(c, 0, 0, af, addr);
}

/* ------------------------------------------------------------------------
 * Local bypass (pasta): loopback clients and servers in different
 * namespaces, without the tap device. See the theory of operation above.
 * ------------------------------------------------------------------------
 */

#define UDP_SPLICE_OUT		1	/* -U: client in ns, server in init */

/* epoll reference data of bypass sockets, with UDP_REF_SPLICE set:
 *   -U socket in the namespace:	P | V6? | NS
 *   flow socket of a -u client:	C | V6? | NS | FLOW (lives in the ns)
 *   flow socket of a -U client:	C | V6? | FLOW (lives in init)
 * where P is the forwarded port and C the client's port. The -u sockets in
 * init are the tap path's inbound ones (UDP_REF_IN, no UDP_REF_SPLICE).
 */
#define UDP_REF_NS		(1U << 19)
#define UDP_REF_FLOW		(1U << 20)

/**
 * struct udp_splice_flow - Datagrams from one loopback client port
 * @sock:	Flow socket plus one (so that the zeroed table is empty), 0 if
 *		none: in the namespace for -u clients, in init for -U ones
 * @ts:		Last datagram in either direction, seconds
 * @addr4:	IPv4 client address (127.0.0.0/8), network order: the IPv6
 *		client is always ::1
 * @lport:	Forwarded port the client last sent to: replies leave from it
 */
struct udp_splice_flow {
	int sock;
	uint32_t ts;
	uint32_t addr4;
	uint16_t lport;
};

/* [direction][IP version][client port]: 4 MiB, untouched pages stay zero */
static struct udp_splice_flow udp_splice_flows[2][2][NUM_PORTS];
static unsigned long udp_splice_active[2][2][NUM_PORTS / (sizeof(long) * 8)];

/* -U sockets bound in the namespace, [IP version][port], fd plus one */
static int udp_splice_ns[2][NUM_PORTS];

/* /proc/net/udp and udp6 of each side, for "auto", -1 if not open */
static int udp_proc_ns[2] = { -1, -1 };
static int udp_proc_init[2] = { -1, -1 };

/* Send side: the iovecs point into udp_buf, where recvmmsg() left data */
static struct iovec udp_iov_splice[UDP_MAX_FRAMES];
static struct mmsghdr udp_mh_splice[UDP_MAX_FRAMES];
static union udp_sa udp_splice_to;	/* their destination */

/**
 * struct udp_splice_stats - Counters, for debugging
 */
static struct {
	unsigned long flows;		/* flow sockets opened */
	unsigned long closed;		/* flow sockets closed by the timer */
	unsigned long sent;		/* datagrams forwarded */
	unsigned long dropped;		/* no socket, or send failed */
} udp_splice_stats;

/**
 * struct udp_splice_ns_arg - Arguments for ns_call() children
 * @c:		Execution context
 * @v6:		IPv6 socket if set
 * @port:	Port to bind to
 * @fd:		Result: socket, or -errno
 * @bound:	Result of udp_splice_bind_ns(): sockets bound
 * @failed:	Result of udp_splice_bind_ns(): ports that failed
 * @proc:	Result of udp_splice_proc_ns(): /proc/net/udp, udp6, or -1
 * @bind:	Address a flow socket binds to, NULL for loopback
 */
struct udp_splice_ns_arg {
	const struct ctx *c;
	const void *bind;
	int v6;
	uint16_t port;
	int fd;
	int bound;
	int failed;
	int proc[2];
};

/**
 * udp_splice_sock() - Create a UDP socket bound to loopback, or to @addr
 * @v6:		::1 if set, 127.0.0.1 otherwise
 * @port:	Port to bind to, host order
 * @fallback:	If @port is taken, let the kernel pick one
 *
 * No IP_RECVERR here: ICMP errors about loopback traffic have nobody to go
 * to, and unconnected sockets otherwise ignore them.
 *
 * Return: socket (not added to epoll), or -errno
 */
/* #syscalls:pasta socket setsockopt bind close */
static int udp_splice_sock(int v6, const void *addr, uint16_t port,
			   int fallback)
{
	int fd, one = 1, buf = UDP_SOCK_BUF, ret;
	union udp_sa a;
	socklen_t sl;

	fd = socket(v6 ? AF_INET6 : AF_INET,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	if (fd > FD_REF_MAX) {
		ret = -EMFILE;
		goto fail;
	}

	memset(&a, 0, sizeof(a));
	if (v6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		a.sa6.sin6_family = AF_INET6;
		a.sa6.sin6_port = htons(port);
		a.sa6.sin6_addr = in6addr_loopback;
		if (addr)
			memcpy(&a.sa6.sin6_addr, addr, sizeof(struct in6_addr));
		sl = sizeof(a.sa6);
	} else {
		a.sa4.sin_family = AF_INET;
		a.sa4.sin_port = htons(port);
		a.sa4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (addr)
			memcpy(&a.sa4.sin_addr, addr, sizeof(struct in_addr));
		sl = sizeof(a.sa4);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));

	if (!bind(fd, &a.sa, sl))
		return fd;

	ret = -errno;
	if (!fallback || ret != -EADDRINUSE)
		goto fail;

	if (v6)
		a.sa6.sin6_port = 0;
	else
		a.sa4.sin_port = 0;
	if (!bind(fd, &a.sa, sl))
		return fd;
	ret = -errno;

fail:
	close(fd);
	return ret;
}

/**
 * udp_splice_sock_ns() - Create a flow socket in the namespace (ns_call())
 * @arg:	struct udp_splice_ns_arg: @c, @v6, @port in, @fd out
 *
 * Return: 0 (the result is in @arg)
 */
static int udp_splice_sock_ns(void *arg)
{
	struct udp_splice_ns_arg *a = arg;
	int rc = ns_enter(a->c);

	a->fd = rc ? rc : udp_splice_sock(a->v6, a->bind, a->port, 1);
	return 0;
}

/**
 * udp_splice_epoll() - Add a bypass socket to epoll, close it on failure
 * @c:		Execution context
 * @fd:		Socket
 * @data:	epoll reference data, UDP_REF_SPLICE is added
 *
 * Return: @fd, or -errno
 */
/* #syscalls:pasta close */
static int udp_splice_epoll(const struct ctx *c, int fd, uint32_t data)
{
	union epoll_ref ref = { .type = EPOLL_TYPE_UDP,
				.data = data | UDP_REF_SPLICE };
	int rc;

	ref.fd = fd;
	rc = epoll_add(c->epollfd, EPOLLIN, ref);
	if (rc) {
		close(fd);
		return rc;
	}

	return fd;
}

/**
 * udp_splice_local() - Does a datagram come from a loopback client (pasta)?
 * @c:		Execution context
 * @v6:		IPv6 socket if set
 * @sn:		Source address as returned by recvmmsg()
 * @to:		Target address of the forwarding rule, NULL if none
 *
 * Return: 1 if it should take the local bypass, 0 otherwise
 */
static int udp_splice_local(const struct ctx *c, int v6,
			    const struct sockaddr_in6 *sn,
			    const struct fwd_to *to)
{
	const struct sockaddr_in *sn4 = (const struct sockaddr_in *)
					(const void *)sn;

	if (c->mode != MODE_PASTA)
		return 0;

	/* "PORT:toaddr": a loopback target is only reachable this way, from
	 * any IPv4 client (replies go back to the address the flow keeps),
	 * an IPv6 one only from loopback; any other target is the tap's
	 */
	if (to && !fwd_to_is_loopback(to))
		return 0;
	if (to && !v6)
		return sn4->sin_family == AF_INET && sn4->sin_port;

	if (v6)
		return sn->sin6_family == AF_INET6 && sn->sin6_port &&
		       IN6_IS_ADDR_LOOPBACK(&sn->sin6_addr);

	return sn4->sin_family == AF_INET && sn4->sin_port &&
	       IN4_IS_ADDR_LOOPBACK(&sn4->sin_addr);
}

/**
 * udp_splice_sendmmsg() - Send the first @m entries of udp_mh_splice
 * @fd:		Socket
 * @m:		Number of datagrams
 *
 * A datagram the kernel refuses is dropped and counted, the rest still go:
 * at most @m calls.
 */
/* #syscalls:pasta sendmmsg */
static void udp_splice_sendmmsg(int fd, int m)
{
	int sent = 0, r;

	while (sent < m) {
		r = sendmmsg(fd, udp_mh_splice + sent, (unsigned int)(m - sent),
			     MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r <= 0) {
			udp_splice_stats.dropped++;
			sent++;
			continue;
		}
		udp_splice_stats.sent += (unsigned long)r;
		sent += r;
	}
}

/**
 * udp_splice_dst() - Loopback socket address for a port
 * @a:		Socket address to fill
 * @v6:		::1 if set
 * @addr4:	IPv4 address, network order
 * @port:	Port, host order
 *
 * Return: length of the address
 */
static socklen_t udp_splice_dst(union udp_sa *a, int v6, uint32_t addr4,
				uint16_t port)
{
	memset(a, 0, sizeof(*a));
	if (v6) {
		a->sa6.sin6_family = AF_INET6;
		a->sa6.sin6_addr = in6addr_loopback;
		a->sa6.sin6_port = htons(port);
		return sizeof(a->sa6);
	}

	a->sa4.sin_family = AF_INET;
	a->sa4.sin_addr.s_addr = addr4;
	a->sa4.sin_port = htons(port);
	return sizeof(a->sa4);
}

/**
 * udp_splice_public() - The namespace's public address, for -u flows
 * @c:		Execution context
 * @v6:		IPv6 if set
 *
 * Man page, --host-lo-to-ns-lo: from the host's loopback, forwarded traffic
 * reaches the namespace's public address by default, the one we last saw it
 * use, or the assigned one. The flow socket binds to it too: a server that
 * connect()s back to its peer (as UDP servers often do) then keeps taking
 * datagrams to that address, and its replies reach the flow socket.
 *
 * Return: address (struct in_addr or in6_addr), NULL for loopback
 */
static const void *udp_splice_public(const struct ctx *c, int v6)
{
	if (c->host_lo_to_ns_lo)
		return NULL;

	if (v6) {
		if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_seen))
			return &c->ip6.addr_seen;
		return IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr) ? NULL :
							       &c->ip6.addr;
	}

	if (c->ip4.addr_seen.s_addr)
		return &c->ip4.addr_seen;
	return c->ip4.addr.s_addr ? &c->ip4.addr : NULL;
}

/**
 * udp_splice_flow_sock() - Flow socket for a client, created if needed
 * @c:		Execution context
 * @dir:	UDP_SPLICE_IN or UDP_SPLICE_OUT
 * @v6:		IPv6 if set
 * @cport:	Client port
 * @addr4:	IPv4 client address, network order (unused for IPv6)
 * @lport:	Forwarded port the datagrams were sent to
 * @t:		Current time, seconds
 *
 * Return: socket, or -1 if none could be created
 */
static int udp_splice_flow_sock(const struct ctx *c, int dir, int v6,
				uint16_t cport, uint32_t addr4, uint16_t lport,
				uint32_t t)
{
	struct udp_splice_flow *f = &udp_splice_flows[dir][v6][cport];
	uint32_t data = cport | UDP_REF_FLOW | (v6 ? UDP_REF_V6 : 0);
	int fd;

	if (!f->sock) {
		if (dir == UDP_SPLICE_IN) {
			struct udp_splice_ns_arg a = {
				.c = c, .v6 = v6, .port = cport, .fd = -EIO,
			};
			int rc;

			/* Public target, public source: see
			 * udp_splice_public(); a rule's own target address
			 * (loopback) keeps the loopback source
			 */
			if (!fwd_target_addr(&c->udp_fwd_in, lport))
				a.bind = udp_splice_public(c, v6);
			rc = ns_call(udp_splice_sock_ns, &a);

			fd = rc < 0 ? rc : a.fd;
			data |= UDP_REF_NS;
		} else {
			fd = udp_splice_sock(v6, NULL, cport, 1);
		}
		if (fd >= 0)
			fd = udp_splice_epoll(c, fd, data);
		if (fd < 0) {
			warn_ratelimit("UDP: no local bypass socket for %s "
				       "client port %u: %s",
				       dir == UDP_SPLICE_IN ? "init" : "namespace",
				       cport, strerror(-fd));
			return -1;
		}

		f->sock = fd + 1;
		udp_splice_active[dir][v6][BITMAP_WORD(cport)] |=
			BITMAP_BIT(cport);
		udp_splice_stats.flows++;
		debug("UDP: opened local flow, client port %u", cport);
	}

	f->ts = t;
	f->addr4 = addr4;
	f->lport = lport;
	return f->sock - 1;
}

/**
 * udp_splice_send() - Forward marked datagrams in udp_buf to the servers
 * @c:		Execution context
 * @dir:	UDP_SPLICE_IN (from a -u socket) or UDP_SPLICE_OUT (-U socket)
 * @v6:		IPv6 if set
 * @lport:	Forwarded port they arrived on
 * @n:		Datagrams in the batch, those in udp_splice_mark[] go
 * @now:	Current timestamp
 *
 * One sendmmsg() per client in the batch, in arrival order per client.
 */
static void udp_splice_send(struct ctx *c, int dir, int v6, uint16_t lport,
			    int n, const struct timespec *now)
{
	const struct fwd_ports *fwd = dir == UDP_SPLICE_IN ? &c->udp_fwd_in :
							      &c->udp_fwd_out;
	const struct fwd_to *to = fwd_target_addr(fwd, lport);
	uint16_t tport = (uint16_t)fwd_target(fwd, lport);
	uint32_t t = (uint32_t)now->tv_sec;
	socklen_t sl;
	int i, j;

	sl = udp_splice_dst(&udp_splice_to, v6, htonl(INADDR_LOOPBACK), tport);
	if (to && v6)		/* "PORT:toaddr" of the rule */
		udp_splice_to.sa6.sin6_addr = to->a6;
	else if (to)
		udp_splice_to.sa4.sin_addr = to->a4;
	else if (dir == UDP_SPLICE_IN && udp_splice_public(c, v6) && v6)
		memcpy(&udp_splice_to.sa6.sin6_addr, udp_splice_public(c, v6),
		       sizeof(struct in6_addr));
	else if (dir == UDP_SPLICE_IN && udp_splice_public(c, v6))
		memcpy(&udp_splice_to.sa4.sin_addr, udp_splice_public(c, v6),
		       sizeof(struct in_addr));

	for (i = 0; i < n && i < UDP_MAX_FRAMES; i++) {
		const struct sockaddr_in *s4;
		uint32_t addr4 = 0;
		uint16_t cport;
		int fd, m = 0;

		if (!udp_splice_mark[i])
			continue;

		/* sin_port and sin6_port share their offset */
		s4 = (const struct sockaddr_in *)(const void *)&udp_names[i];
		cport = ntohs(s4->sin_port);
		if (!v6)
			addr4 = s4->sin_addr.s_addr;

		for (j = i; j < n && j < UDP_MAX_FRAMES; j++) {
			const struct sockaddr_in *o = (const struct sockaddr_in *)
						      (const void *)&udp_names[j];
			struct msghdr *mh = &udp_mh_splice[m].msg_hdr;

			if (!udp_splice_mark[j] || o->sin_port != s4->sin_port ||
			    (!v6 && o->sin_addr.s_addr != addr4))
				continue;
			udp_splice_mark[j] = 0;

			udp_iov_splice[m].iov_base = udp_buf[j] + UDP_PL_OFF;
			udp_iov_splice[m].iov_len = udp_mh_recv[j].msg_len;
			memset(mh, 0, sizeof(*mh));
			mh->msg_name = &udp_splice_to;
			mh->msg_namelen = sl;
			mh->msg_iov = &udp_iov_splice[m];
			mh->msg_iovlen = 1;
			m++;
		}

		fd = udp_splice_flow_sock(c, dir, v6, cport, addr4, lport, t);
		if (fd < 0) {
			udp_splice_stats.dropped += (unsigned long)m;
			continue;
		}
		udp_splice_sendmmsg(fd, m);
	}
}

/**
 * udp_splice_reply() - Send replies in udp_buf back to a flow's client
 * @dir:	Direction of the flow
 * @v6:		IPv6 if set
 * @cport:	Client port (the flow)
 * @n:		Datagrams in the batch
 * @t:		Current time, seconds
 */
static void udp_splice_reply(int dir, int v6, uint16_t cport, int n,
			     uint32_t t)
{
	struct udp_splice_flow *f = &udp_splice_flows[dir][v6][cport];
	int i, m = 0, fd;
	socklen_t sl;

	if (!f->sock) {
		udp_splice_stats.dropped += (unsigned long)n;
		return;
	}
	f->ts = t;

	/* Replies leave from the port the client sent to */
	fd = dir == UDP_SPLICE_IN ? udp_in[v6][f->lport] :
				    udp_splice_ns[v6][f->lport] - 1;
	if (fd < 0) {
		udp_splice_stats.dropped += (unsigned long)n;
		return;
	}

	sl = udp_splice_dst(&udp_splice_to, v6, f->addr4, cport);
	for (i = 0; i < n && i < UDP_MAX_FRAMES; i++) {
		struct msghdr *mh = &udp_mh_splice[m].msg_hdr;

		if (udp_mh_recv[i].msg_hdr.msg_flags & MSG_TRUNC) {
			udp_stats.trunc++;
			continue;
		}

		udp_iov_splice[m].iov_base = udp_buf[i] + UDP_PL_OFF;
		udp_iov_splice[m].iov_len = udp_mh_recv[i].msg_len;
		memset(mh, 0, sizeof(*mh));
		mh->msg_name = &udp_splice_to;
		mh->msg_namelen = sl;
		mh->msg_iov = &udp_iov_splice[m];
		mh->msg_iovlen = 1;
		m++;
	}

	udp_splice_sendmmsg(fd, m);
}

/**
 * udp_splice_handler() - Datagrams on a bypass socket
 * @c:		Execution context
 * @ref:	epoll reference, UDP_REF_SPLICE set
 * @events:	epoll events
 * @now:	Current timestamp
 */
/* #syscalls:pasta getsockopt recvmmsg */
static void udp_splice_handler(struct ctx *c, union epoll_ref ref,
			       uint32_t events, const struct timespec *now)
{
	uint16_t port = (uint16_t)(ref.data & UDP_REF_PORT_MASK);
	int v6 = !!(ref.data & UDP_REF_V6), flow = !!(ref.data & UDP_REF_FLOW);
	int dir = flow && (ref.data & UDP_REF_NS) ? UDP_SPLICE_IN :
						     UDP_SPLICE_OUT;
	int round, i, n;

	if (events & EPOLLERR) {
		int e;
		socklen_t sl = sizeof(e);

		/* Clear a pending error, nobody to report it to */
		getsockopt(ref.fd, SOL_SOCKET, SO_ERROR, &e, &sl);
	}

	if (!(events & EPOLLIN))
		return;

	for (i = 0; i < UDP_MAX_FRAMES; i++) {
		udp_iov_recv[i].iov_base = udp_buf[i] + UDP_PL_OFF;
		udp_iov_recv[i].iov_len = UDP_PL_MAX;
	}

	for (round = 0; round < UDP_RECV_ROUNDS; round++) {
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
		if (n <= 0)
			break;

		if (flow) {
			udp_splice_reply(dir, v6, port, n,
					 (uint32_t)now->tv_sec);
		} else {
			for (i = 0; i < n; i++) {
				int trunc = udp_mh_recv[i].msg_hdr.msg_flags &
					    MSG_TRUNC;

				if (trunc)
					udp_stats.trunc++;
				udp_splice_mark[i] = !trunc &&
					udp_splice_local(c, v6, &udp_names[i],
							 NULL);
			}
			udp_splice_send(c, UDP_SPLICE_OUT, v6, port, n, now);
		}

		if (n < UDP_MAX_FRAMES)
			break;
	}
}

/**
 * udp_splice_proc_ns() - Open the namespace's /proc/net/udp[6] (ns_call())
 * @arg:	struct udp_splice_ns_arg: @c in, @proc out
 *
 * Return: 0 (the result is in @arg)
 */
static int udp_splice_proc_ns(void *arg)
{
	struct udp_splice_ns_arg *a = arg;

	if (ns_enter(a->c))
		return 0;

	a->proc[V4] = open("/proc/net/udp", O_RDONLY | O_CLOEXEC);
	a->proc[V6] = open("/proc/net/udp6", O_RDONLY | O_CLOEXEC);
	return 0;
}

/**
 * udp_splice_scan() - Add ports bound in /proc/net/udp[6] to a map ("auto")
 * @proc:	/proc/net/udp and udp6 descriptors, -1 if missing: closed here
 * @fwd:	Forwarding table to fill
 * @other:	Opposite direction: its ports aren't added (no loops)
 *
 * Return: number of ports added
 */
static int udp_splice_scan(int proc[2], struct fwd_ports *fwd,
			   const struct fwd_ports *other)
{
	int v, added = 0, rc;

	/* Man page: IPv6 bound ports are also forwarded for IPv4, and the
	 * other way around: one map for both
	 */
	for (v = 0; v < 2; v++) {
		if (proc[v] < 0)
			continue;
		rc = fwd_scan(proc[v], 1, fwd->map, other->map);
		if (rc > 0)
			added += rc;
	}
	fwd_auto_filter(fwd, fwd->map);	/* "RANGE,auto" */

	return added;
}

/**
 * udp_splice_bind_ns() - Bind the -U sockets in the namespace (ns_call())
 * @arg:	struct udp_splice_ns_arg: @c in, @bound and @failed out
 *
 * One child for all ports: the sockets join epoll from here too (the epoll
 * descriptor is shared, and doesn't care about namespaces).
 *
 * Return: 0 (the results are in @arg)
 */
static int udp_splice_bind_ns(void *arg)
{
	struct udp_splice_ns_arg *a = arg;
	const struct ctx *c = a->c;
	const struct fwd_ports *fwd = &c->udp_fwd_out;
	unsigned int port;
	int v;

	if (ns_enter(c)) {
		a->failed = -1;
		return 0;
	}

	for (port = 1; port < NUM_PORTS; port++) {
		const struct fwd_addr *fa = fwd_bind_addr(fwd, port);

		if (!fwd_port_is_set(fwd, port))
			continue;

		for (v = 0; v < 2; v++) {
			int fd;

			if (!(v ? c->ifi6 : c->ifi4))
				continue;
			if (fa && fa->af && fa->af != (v ? AF_INET6 : AF_INET))
				continue;
			if (udp_splice_ns[v][port])
				continue;	/* auto: bound in an earlier round */

			if (fwd_port_quiet(fwd, port) &&
			    fwd->mode == FWD_SPEC && fd_budget_take())
				continue;	/* "all": half the limit at most */

			fd = udp_splice_sock(v, NULL, (uint16_t)port, 0);
			if (fd >= 0)
				fd = udp_splice_epoll(c, fd, port | UDP_REF_NS |
						      (v ? UDP_REF_V6 : 0));
			if (fd < 0) {
				a->failed++;
				if (fwd_port_quiet(fwd, port) &&
				    fwd->mode == FWD_SPEC) {
					fd_budget_return();
					continue;
				}
				if (fwd->mode == FWD_SPEC)
					warn("UDP: can't bind port %u (IPv%i) "
					     "in namespace for -U: %s", port,
					     v ? 6 : 4, strerror(-fd));
				continue;
			}
			udp_splice_ns[v][port] = fd + 1;
			a->bound++;
		}
	}

	return 0;
}

/**
 * udp_splice_init() - Automatic forwarding scan, -U sockets (pasta)
 * @c:		Execution context
 *
 * Both scans happen before we bind anything, so that our own sockets don't
 * show up in them.
 */
static void udp_splice_init(struct ctx *c)
{
	struct udp_splice_ns_arg a = { .c = c, .proc = { -1, -1 } };
	int v, added;

	if (c->pasta_netns_fd < 0)
		return;

	/* The /proc files stay open: udp_splice_auto() reads them again
	 * every second, and a file opened in the namespace keeps showing
	 * that namespace's sockets
	 */
	if (c->udp_fwd_in.mode == FWD_AUTO) {
		if (ns_call(udp_splice_proc_ns, &a) < 0 ||
		    (a.proc[V4] < 0 && a.proc[V6] < 0))
			warn("UDP: can't read the namespace's bound ports for "
			     "-u auto");
		udp_proc_ns[V4] = a.proc[V4];
		udp_proc_ns[V6] = a.proc[V6];
		added = udp_splice_scan(udp_proc_ns, &c->udp_fwd_in,
					&c->udp_fwd_out);
		debug("UDP: -u auto: %i ports bound in the namespace", added);
	}

	if (c->udp_fwd_out.mode == FWD_AUTO) {
		udp_proc_init[V4] = open("/proc/net/udp", O_RDONLY | O_CLOEXEC);
		udp_proc_init[V6] = open("/proc/net/udp6",
					 O_RDONLY | O_CLOEXEC);
		added = udp_splice_scan(udp_proc_init, &c->udp_fwd_out,
					&c->udp_fwd_in);
		debug("UDP: -U auto: %i ports bound in init", added);
	}

	for (v = 0; v < 2; v++)
		memset(udp_splice_ns[v], 0, sizeof(udp_splice_ns[v]));

	if (c->udp_fwd_out.mode != FWD_SPEC && c->udp_fwd_out.mode != FWD_AUTO)
		return;

	a.bound = a.failed = 0;
	if (ns_call(udp_splice_bind_ns, &a) < 0 || a.failed < 0)
		warn("UDP: can't bind -U ports in the namespace");
	else
		debug("UDP: %i namespace sockets bound for -U, %i failed",
		      a.bound, a.failed);
}

/**
 * udp_splice_open() - Count the local bypass flow sockets open
 *
 * Return: number of flow sockets
 */
static unsigned long udp_splice_open(void)
{
	unsigned long n = 0;
	size_t w;
	int dir, v;

	for (dir = 0; dir < 2; dir++) {
		for (v = 0; v < 2; v++) {
			for (w = 0; w < ARRAY_SIZE(udp_splice_active[dir][v]);
			     w++)
				n += (unsigned long)__builtin_popcountl(
					udp_splice_active[dir][v][w]);
		}
	}

	return n;
}

/**
 * udp_splice_timer() - Follow "auto" ports, close idle local bypass flows
 * @c:		Execution context
 * @now:	Current timestamp
 */
static void udp_splice_timer(struct ctx *c, const struct timespec *now)
{
	udp_splice_auto(c);
	udp_splice_timer_flows(c, now);
}

/**
 * udp_splice_auto() - "auto": follow ports bound and closed on the other side
 * @c:		Execution context
 *
 * -u auto: a port bound in the namespace gets an inbound socket in init
 * (the tap path's, which also takes the local bypass); -U auto: a port bound
 * in init gets a socket on the namespace's loopback. Each scan leaves out
 * the ports we bound ourselves on that side. A port we can't bind (taken by
 * somebody else) stays marked, without a socket, until it goes away: no
 * retry and no warning every second.
 */
/* #syscalls:pasta close */
static void udp_splice_auto(struct ctx *c)
{
	static uint8_t want[NUM_PORTS / 8];
	struct udp_splice_ns_arg a = { .c = c };
	unsigned int port, added = 0;
	int v;

	if (c->udp_fwd_in.mode == FWD_AUTO) {
		memset(want, 0, sizeof(want));
		for (v = 0; v < 2; v++) {
			if (fwd_scan(udp_proc_ns[v], 1, want,
				     c->udp_fwd_out.map) < 0)
				goto out;
		}
		fwd_auto_filter(&c->udp_fwd_in, want);

		for (port = 1; port < NUM_PORTS; port++) {
			int set = !!bitmap_isset(want, port);

			if (set == fwd_port_is_set(&c->udp_fwd_in, port))
				continue;

			for (v = 0; v < 2; v++) {
				int fd;

				if (!set) {
					if (udp_in[v][port] < 0)
						continue;
					epoll_del(c->epollfd, udp_in[v][port]);
					close(udp_in[v][port]);
					udp_in[v][port] = -1;
					continue;
				}
				if (!(v ? c->ifi6 : c->ifi4))
					continue;
				fd = udp_in_open(c, v, port);
				if (fd >= 0)
					udp_in[v][port] = fd;
			}
			if (set)
				fwd_port_set(&c->udp_fwd_in, port);
			else
				fwd_port_clear(&c->udp_fwd_in, port);
			debug("UDP: -u auto: port %u %s", port,
			      set ? "forwarded" : "released");
		}
	}
out:
	if (c->udp_fwd_out.mode != FWD_AUTO)
		return;

	memset(want, 0, sizeof(want));
	for (v = 0; v < 2; v++) {
		if (fwd_scan(udp_proc_init[v], 1, want, c->udp_fwd_in.map) < 0)
			return;
	}
	fwd_auto_filter(&c->udp_fwd_out, want);

	for (port = 1; port < NUM_PORTS; port++) {
		int set = !!bitmap_isset(want, port);

		if (set == fwd_port_is_set(&c->udp_fwd_out, port))
			continue;

		if (set) {
			fwd_port_set(&c->udp_fwd_out, port);
			added++;
		} else {
			fwd_port_clear(&c->udp_fwd_out, port);
			for (v = 0; v < 2; v++) {
				int fd = udp_splice_ns[v][port] - 1;

				if (fd < 0)
					continue;
				epoll_del(c->epollfd, fd);
				close(fd);
				udp_splice_ns[v][port] = 0;
			}
		}
		debug("UDP: -U auto: port %u %s", port,
		      set ? "forwarded" : "released");
	}

	/* One trip to the namespace binds every new port */
	if (added && (ns_call(udp_splice_bind_ns, &a) < 0 || a.failed < 0))
		warn_ratelimit("UDP: can't bind -U ports in the namespace");
}

/**
 * udp_splice_timer_flows() - Close flow sockets idle for UDP_CONN_TIMEOUT
 * @c:		Execution context
 * @now:	Current timestamp
 */
/* #syscalls:pasta close */
static void udp_splice_timer_flows(struct ctx *c, const struct timespec *now)
{
	uint32_t t = (uint32_t)now->tv_sec;
	int dir, v;
	size_t w, b;

	for (dir = 0; dir < 2; dir++) {
		for (v = 0; v < 2; v++) {
			unsigned long *act = udp_splice_active[dir][v];

			for (w = 0; w < ARRAY_SIZE(udp_splice_active[dir][v]);
			     w++) {
				unsigned long word = act[w];

				for (b = 0; word; b++, word >>= 1) {
					size_t port = w * sizeof(long) * 8 + b;
					struct udp_splice_flow *f;

					if (!(word & 1))
						continue;
					f = &udp_splice_flows[dir][v][port];
					if (f->sock &&
					    t - f->ts < UDP_CONN_TIMEOUT)
						continue;

					if (f->sock) {
						epoll_del(c->epollfd,
							  f->sock - 1);
						close(f->sock - 1);
						udp_splice_stats.closed++;
						debug("UDP: closed idle local "
						      "flow, client port %zu",
						      port);
					}
					f->sock = 0;
					act[w] &= ~BITMAP_BIT(port);
				}
			}
		}
	}
}
