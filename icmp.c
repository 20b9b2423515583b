// SPDX-License-Identifier: AGPL-3.0-or-later

/* icmp.c - ICMP and ICMPv6 echo translation through "ping" sockets
 *
 * Theory of operation:
 *
 * Echo requests from the guest (RFC 792 type 8, RFC 4443 4.1 type 128,
 * code 0 both) are sent out of unprivileged "ping" sockets, see icmp(7):
 * socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), and the ICMPv6 equivalent.
 * There is one socket per IP version and echo identifier, created on first
 * use and closed after ICMP_ECHO_TIMEOUT seconds without requests or
 * replies. The kernel owns the identifier of a ping socket (its "port"):
 * binding to the guest's identifier keeps it on the wire. If bind() fails
 * (restrictive policies), the socket stays unbound and the kernel picks an
 * identifier: since the socket is per guest identifier, replies are
 * mapped back simply by writing the guest's identifier, kept in the epoll
 * reference, into them (man page, NOTES).
 *
 * Replies keep sequence numbers and payload as received; the source is the
 * replying host (nat_inbound() maps local addresses to the gateway).
 * Everything else the guest sends over ICMP is dropped.
 *
 * Ping sockets need our group in net.ipv4.ping_group_range: if it isn't,
 * one clear line says so and requests are dropped.
 *
 * Limits: 2 x 65536 entries (one per IP version and identifier).
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "passt.h"
#include "util.h"
#include "log.h"
#include "packet.h"
#include "tap.h"
#include "icmp.h"

#define ICMP_ECHO_TIMEOUT	60	/* s: like ping(8)'s longest -W use */
#define ICMP_BUF_SIZE		65536	/* largest echo message we relay */
#define ICMP_RECV_MAX		32	/* replies read per event: fairness */
#define ICMP_ID_NUM		65536	/* RFC 792: 16-bit identifier */

#define ICMP_REF_V6		(1U << 16)

/* RFC 792 p.14, RFC 4443 4.1, 4.2 */
#define ICMP4_ECHO_REQUEST	8
#define ICMP4_ECHO_REPLY	0
#define ICMP6_ECHO_REQ		128
#define ICMP6_ECHO_REP		129

/**
 * struct icmp_id_sock - Ping socket for one echo identifier
 * @fd:		Socket, -1 if none
 * @ts:		Last request or reply, seconds (CLOCK_MONOTONIC)
 * @gaddr:	Guest's source address of the last request (IPv4: first 4
 *		bytes): replies go there, even if the guest has others (a
 *		link-local one while its global address is tentative)
 */
struct icmp_id_sock {
	int fd;
	uint32_t ts;
	struct in6_addr gaddr;
};

static struct icmp_id_sock icmp_ids[2][ICMP_ID_NUM];
static unsigned long icmp_active[2][ICMP_ID_NUM / (sizeof(long) * 8)];
static int icmp_denied;			/* ping sockets not permitted */
static unsigned long icmp_bind_failed;	/* requests dropped: -o or
					 * --outbound-if4/6 not applicable */
static char icmp_buf[ICMP_BUF_SIZE] __attribute__((aligned(8)));

/**
 * icmp_sock_get() - Ping socket for an identifier, created if needed
 * @c:		Execution context
 * @v6:		IPv6 if set
 * @id:		Echo identifier, host order
 * @now:	Current timestamp
 *
 * Return: socket, or -1
 */
/* #syscalls: socket bind close */
static int icmp_sock_get(const struct ctx *c, int v6, uint16_t id,
			 const struct timespec *now)
{
	union epoll_ref ref = { .type = EPOLL_TYPE_PING };
	struct icmp_id_sock *e = &icmp_ids[v6][id];
	int fd, ret;

	if (e->fd >= 0) {
		e->ts = (uint32_t)now->tv_sec;
		return e->fd;
	}

	if (icmp_denied)
		return -1;

	fd = socket(v6 ? AF_INET6 : AF_INET,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM) {
			warn("ICMP echo: ping sockets not permitted, see "
			     "ping_group_range in icmp(7)");
			icmp_denied = 1;
		} else {
			warn_ratelimit("ICMP echo: can't open socket: %s",
				       strerror(errno));
		}
		return -1;
	}
	if (fd > FD_REF_MAX) {
		close(fd);
		return -1;
	}

	/* The "port" of a ping socket is the echo identifier; -o and
	 * --outbound-if4/6 apply, and a socket they can't be applied to
	 * drops the request (the guest sees no reply, as on a real network)
	 */
	if (v6 ? !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_out) || *c->ip6.ifname_bind :
		 c->ip4.addr_out.s_addr || *c->ip4.ifname_bind) {
		ret = sock_bind_outbound(c, fd, v6 ? AF_INET6 : AF_INET, id);
		if (ret == -EADDRINUSE)	/* identifier taken: kernel picks */
			ret = sock_bind_outbound(c, fd, v6 ? AF_INET6 :
						 AF_INET, 0);
		if (ret) {
			icmp_bind_failed++;
			warn_ratelimit("ICMP echo: can't bind outbound socket "
				       "(%lu so far): %s", icmp_bind_failed,
				       strerror(-ret));
			close(fd);
			return -1;
		}
	} else if (v6) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6,
					  .sin6_port = htons(id) };

		ret = bind(fd, (struct sockaddr *)&a, sizeof(a));
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons(id) };

		ret = bind(fd, (struct sockaddr *)&a, sizeof(a));
	}
	if (ret)
		debug("ICMP echo: can't bind identifier %u, kernel picks one",
		      id);

	ref.fd = fd;
	ref.data = id | (v6 ? ICMP_REF_V6 : 0);
	if (epoll_add(c->epollfd, EPOLLIN, ref)) {
		close(fd);
		return -1;
	}

	e->fd = fd;
	e->ts = (uint32_t)now->tv_sec;
	debug("ICMP echo: opened socket for identifier %u (IPv%i)", id,
	      v6 ? 6 : 4);
	icmp_active[v6][BITMAP_WORD(id)] |= BITMAP_BIT(id);
	return fd;
}

/**
 * icmp_tap_handler() - Echo requests of one identifier from the guest
 * @c:		Execution context
 * @af:		AF_INET or AF_INET6
 * @saddr:	Source address (struct in_addr or in6_addr)
 * @daddr:	Destination address
 * @p:		Pool of ICMP messages, all with the same identifier
 * @idx:	Index of the first message to handle
 * @now:	Current timestamp
 *
 * Return: number of messages consumed, at least 1
 */
/* #syscalls: sendto */
int icmp_tap_handler(struct ctx *c, int af, const void *saddr,
		     const void *daddr, const struct pool *p, size_t idx,
		     const struct timespec *now)
{
	int v6 = af == AF_INET6, fd = -1;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	size_t i;

	if (idx >= p->count)
		return 1;

	if (v6) {
		memcpy(&a6.sin6_addr, daddr, sizeof(a6.sin6_addr));
		if (IN6_IS_ADDR_LINKLOCAL(&a6.sin6_addr))
			a6.sin6_scope_id = c->ifi6;
	} else {
		memcpy(&a4.sin_addr, daddr, sizeof(a4.sin_addr));
	}

	for (i = idx; i < p->count; i++) {
		const uint8_t *ih;
		size_t left, len;
		ssize_t ret;

		ih = packet_get(p, i, 0, ICMP_HDR_LEN, &left);
		if (!ih)
			continue;
		len = ICMP_HDR_LEN + left;

		/* Only echo requests: RFC 792 p.14, RFC 4443 4.1 */
		if (ih[0] != (v6 ? ICMP6_ECHO_REQ : ICMP4_ECHO_REQUEST) ||
		    ih[1] != 0) {
			trace("ICMP: dropped type %u code %u from guest",
			      ih[0], ih[1]);
			continue;
		}

		if (!packet_get(p, i, 0, len, NULL))
			continue;

		if (fd < 0) {
			uint16_t id = get_be16(ih + 4);

			fd = icmp_sock_get(c, v6, id, now);
			if (fd < 0)
				return (int)(p->count - idx);
			memcpy(&icmp_ids[v6][id].gaddr, saddr,
			       v6 ? sizeof(struct in6_addr) :
				    sizeof(struct in_addr));
		}

		if (v6)
			ret = sendto(fd, ih, len, MSG_DONTWAIT | MSG_NOSIGNAL,
				     (struct sockaddr *)&a6, sizeof(a6));
		else
			ret = sendto(fd, ih, len, MSG_DONTWAIT | MSG_NOSIGNAL,
				     (struct sockaddr *)&a4, sizeof(a4));
		if (ret < 0)
			trace("ICMP echo: send failed: %s", strerror(errno));
	}

	return (int)(p->count - idx);
}

/**
 * icmp_sock_handler() - Echo replies on a ping socket
 * @c:		Execution context
 * @ref:	epoll reference: guest's identifier, IP version
 * @events:	epoll events
 * @now:	Current timestamp
 */
/* #syscalls: recvfrom */
void icmp_sock_handler(struct ctx *c, union epoll_ref ref, uint32_t events,
		       const struct timespec *now)
{
	uint16_t id = (uint16_t)(ref.data & 0xffff);
	int v6 = !!(ref.data & ICMP_REF_V6), i;

	if (!(events & EPOLLIN))
		return;

	if (icmp_ids[v6][id].fd == ref.fd)
		icmp_ids[v6][id].ts = (uint32_t)now->tv_sec;

	for (i = 0; i < ICMP_RECV_MAX; i++) {
		struct sockaddr_in6 s6 = { .sin6_family = AF_UNSPEC };
		struct sockaddr_in s4 = { .sin_family = AF_UNSPEC };
		socklen_t sl;
		ssize_t n;

		if (v6) {
			sl = sizeof(s6);
			n = recvfrom(ref.fd, icmp_buf, sizeof(icmp_buf),
				     MSG_DONTWAIT, (struct sockaddr *)&s6, &sl);
		} else {
			sl = sizeof(s4);
			n = recvfrom(ref.fd, icmp_buf, sizeof(icmp_buf),
				     MSG_DONTWAIT, (struct sockaddr *)&s4, &sl);
		}
		if (n < 0)
			return;
		if ((size_t)n < ICMP_HDR_LEN)
			continue;

		if ((uint8_t)icmp_buf[0] !=
		    (v6 ? ICMP6_ECHO_REP : ICMP4_ECHO_REPLY))
			continue;

		/* Back to the guest's identifier if the kernel chose another */
		put_be16(icmp_buf + 4, id);

		if (v6) {
			struct in6_addr src = s6.sin6_addr;
			const struct in6_addr *dst;

			if (sl < sizeof(s6) || s6.sin6_family != AF_INET6)
				continue;
			nat_inbound(c, AF_INET6, &src);
			dst = &icmp_ids[1][id].gaddr;	/* who asked */
			if (IN6_IS_ADDR_UNSPECIFIED(dst))
				dst = &c->ip6.addr;
			tap_icmp6_send(c, &src, dst, icmp_buf, (size_t)n);
		} else {
			struct in_addr src = s4.sin_addr, dst;

			if (sl < sizeof(s4) || s4.sin_family != AF_INET)
				continue;
			nat_inbound(c, AF_INET, &src);
			memcpy(&dst, &icmp_ids[0][id].gaddr, sizeof(dst));
			if (IN4_IS_ADDR_UNSPECIFIED(&dst))
				dst = c->ip4.addr;
			tap_icmp4_send(c, src, dst, icmp_buf, (size_t)n);
		}
	}
}

/**
 * icmp_init() - Reset the identifier table
 * @c:		Execution context
 */
void icmp_init(struct ctx *c)
{
	int v, id;

	(void)c;

	for (v = 0; v < 2; v++)
		for (id = 0; id < ICMP_ID_NUM; id++)
			icmp_ids[v][id].fd = -1;
}

/**
 * icmp_expire() - Close ping sockets idle for too long, or all
 * @c:		Execution context
 * @t:		Current time, seconds
 * @all:	Close every socket, idle or not
 */
/* #syscalls: close */
static void icmp_expire(struct ctx *c, uint32_t t, int all)
{
	size_t w, b;
	int v;

	for (v = 0; v < 2; v++) {
		for (w = 0; w < ARRAY_SIZE(icmp_active[v]); w++) {
			unsigned long word = icmp_active[v][w];

			for (b = 0; word; b++, word >>= 1) {
				size_t id = w * sizeof(long) * 8 + b;
				struct icmp_id_sock *e = &icmp_ids[v][id];

				if (!(word & 1))
					continue;
				if (e->fd >= 0 && !all &&
				    t - e->ts < ICMP_ECHO_TIMEOUT)
					continue;

				if (e->fd >= 0) {
					epoll_del(c->epollfd, e->fd);
					close(e->fd);
					debug("ICMP echo: closed socket for "
					      "identifier %zu", id);
				}
				e->fd = -1;
				icmp_active[v][w] &= ~BITMAP_BIT(id);
			}
		}
	}
}

/**
 * icmp_timer() - Close ping sockets idle for too long
 * @c:		Execution context
 * @now:	Current timestamp
 */
void icmp_timer(struct ctx *c, const struct timespec *now)
{
	icmp_expire(c, (uint32_t)now->tv_sec, 0);
}

/**
 * icmp_tap_reset() - The guest went away: close its ping sockets
 * @c:		Execution context
 */
void icmp_tap_reset(struct ctx *c)
{
	icmp_expire(c, 0, 1);
}
