// SPDX-License-Identifier: AGPL-3.0-or-later

/* tcp_splice.c - pasta: TCP bypass between the loopback interfaces of the
 *		  init and target namespaces, automatic port forwarding
 *
 * Theory of operation:
 *
 * A connection between loopback in one namespace and loopback in the other
 * has no business going through the tap device: there's no guest stack to
 * talk to, just two local sockets. When a connection on a forwarded port
 * comes from a loopback address (127.0.0.0/8, ::1, or v4-mapped loopback),
 * we open a second socket in the other namespace, connect it to loopback
 * there (same address family, port fwd_target()), and move data between the
 * two with splice(2): socket to pipe, pipe to socket, one pipe per
 * direction, so that the data never crosses into userspace. See the man
 * page, NOTES, "Handling of local traffic in pasta".
 *
 * Both sockets of a pair are registered edge-triggered, for what we'd act
 * on (tcp_splice_events()): input until the peer's FIN, output only while
 * connecting or while the socket holds back data we have for it. An event
 * runs the directions it concerns until the kernel says EAGAIN:
 *
 * - the reading side stops on EAGAIN with an empty pipe (the next EPOLLIN
 *   edge on that socket resumes it), or, without trying again, after a short
 *   read that must have drained the socket (see tcp_splice_dir()); the
 *   writing side stops on EAGAIN with data left in the pipe, and asks for
 *   EPOLLOUT on the target (kept from then on); a reading EAGAIN with
 *   data in the pipe may just mean the pipe is full, and the loop goes on as
 *   long as the write side makes progress;
 * - end of file on one side: once that direction's pipe is drained, we
 *   shutdown(SHUT_WR) the other socket (the half-close is mirrored), and the
 *   pair is closed when both directions are done;
 * - an error (EPOLLERR, ECONNRESET, EPIPE) on either side closes both
 *   sockets with SO_LINGER { 1, 0 }, so that the other peer sees a reset
 *   too. A refused connect() in the other namespace resets the accepted one.
 *
 * Latency of new connections (connections per second): the target socket
 * is connected first, so that the peer's accept() runs while we set up the
 * rest; pipes of closed pairs are kept (TCP_SPLICE_PIPE_POOL, only if
 * empty) instead of being closed and created again; closing descriptors and
 * refilling the socket pool wait for the end of each round of events
 * (tcp_splice_defer()), and the main loop handles FIN and hang-up reports
 * of spliced sockets after the other events of a round: data of one
 * connection isn't held up by the teardown of another.
 *
 * Sockets for the target namespace can only be created from inside it:
 * ns_call() runs a clone() child that joins the namespace, and the
 * descriptor it creates stays ours (a socket keeps its namespace; connect(),
 * bind() and listen() from the main process then act there). To avoid a
 * clone() per connection, we keep a pool of TCP_SPLICE_POOL_SIZE ready
 * sockets per IP version, refilled in one call after a round of events
 * that left it half empty, and from the timer. Sockets for the init namespace are simply created by us.
 *
 * Directions: -t ports listen in the init namespace (tcp.c binds explicit
 * ones, we bind "auto" ones): tcp_listen_handler() hands accepted sockets to
 * tcp_splice_conn_from_sock(), which takes those from loopback peers and
 * leaves the rest to the tap path. -T ports listen on 127.0.0.1 and ::1
 * inside the namespace (TCP_LISTEN_NS in the epoll reference), and all their
 * connections are spliced to loopback in the init namespace.
 *
 * Automatic forwarding ("auto", pasta's default for -t and -T): once a
 * second, tcp_splice_timer() reads /proc/net/tcp and /proc/net/tcp6 of both
 * namespaces (descriptors opened once, those of the target namespace from
 * inside it, and rewound by fwd_scan()). Ports in LISTEN state in the
 * namespace, except those we bound there ourselves, are forwarded from the
 * init namespace (0.0.0.0 and ::, so that non-loopback peers take the tap
 * path); ports listening in the init namespace, except our own, are
 * forwarded from the namespace (127.0.0.1 and ::1). Ports keep their
 * number. A port the other side already binds is never stolen: the bind
 * fails and we retry only every TCP_SPLICE_RETRY_S seconds. Listening
 * sockets of ports that went away are closed.
 *
 * Limits: TCP_SPLICE_MAX_CONNS pairs in a static table (six descriptors
 * each: two sockets, two pipes); past that, new connections are reset and
 * counted. Table entries are recycled only after each round of events
 * (tcp_splice_defer()), so that stale events of a closed pair never reach a
 * new one. connect() in the other namespace must complete within
 * TCP_SPLICE_CONNECT_TIMEOUT seconds.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "passt.h"
#include "util.h"
#include "log.h"
#include "fwd.h"
#include "tcp_splice.h"

/* Limits, each with its reason */
#define TCP_SPLICE_MAX_CONNS	8192	/* 6 descriptors each: ~49k fds */
#define TCP_SPLICE_PIPE_SIZE	(1 << 20)	/* fs/pipe-max-size default:
						 * 1 MiB per splice() call */
#define TCP_SPLICE_ROUNDS	16	/* splice() pairs per direction and
					 * event: fairness between pairs */
#define TCP_SPLICE_POOL_SIZE	32	/* ready sockets in the namespace, per
					 * IP version: one clone() per burst */
#define TCP_SPLICE_PIPE_POOL	8	/* emptied pipes kept for new pairs:
					 * each holds 1 MiB of the user's
					 * fs/pipe-user-pages-soft quota */
#define TCP_SPLICE_CONNECT_TIMEOUT 10	/* s: loopback answers at once */
#define TCP_SPLICE_RETRY_S	10	/* s: retry a port we couldn't bind */

/* Sides of a pair, and of listening sockets */
#define SIDE_INIT		0
#define SIDE_NS			1

/* Connection flags */
#define SPLICE_IN_USE		(1U << 0)
#define SPLICE_CONNECTING	(1U << 1)	/* s[1] connect() pending */
#define SPLICE_CLOSED		(1U << 2)	/* waiting for recycling */
#define SPLICE_EOF(d)		(1U << (3 + (d)))	/* read 0 on s[d] */
#define SPLICE_SHUT(d)		(1U << (5 + (d)))	/* direction d done:
							 * s[!d] shut down */
#define SPLICE_FALLBACK		(1U << 7)	/* tried the other IP version */
#define SPLICE_BLOCKED(i)	(1U << (8 + (i)))	/* s[i] once took less
							 * than we had: EPOLLOUT */
#define SPLICE_RST		(1U << 10)	/* closed: reset, not FIN */

/**
 * struct tcp_splice_pipe - One pipe of a pair
 * @r:		Read end
 * @w:		Write end
 * @slots:	Buffers (pages) it holds, from F_GETPIPE_SZ
 */
struct tcp_splice_pipe {
	int r;
	int w;
	unsigned int slots;
};

/**
 * struct tcp_splice_conn - A pair of spliced sockets
 * @s:		Sockets: [0] accepted one, [1] the one we connected
 * @pipe:	Pipe per direction: [d] carries data from s[d]
 * @read:	Bytes moved from s[d] into the pipe, per direction
 * @written:	Bytes moved from the pipe to s[!d], per direction
 * @flags:	SPLICE_* flags
 * @events:	epoll events registered for s[i]
 * @af:		Address family of the target: AF_INET or AF_INET6
 * @tside:	Side we connect on: SIDE_INIT or SIDE_NS
 * @tport:	Target port
 * @to:		Target address from the forwarding rule, NULL for the default
 * @ts:		Creation time, seconds: connect() timeout
 * @next:	Next free or closed entry, -1 for none
 */
struct tcp_splice_conn {
	int s[2];
	struct tcp_splice_pipe pipe[2];
	uint64_t read[2];
	uint64_t written[2];
	uint32_t flags;
	uint32_t events[2];
	int af;
	int tside;
	unsigned int tport;
	const struct fwd_to *to;
	time_t ts;
	int next;
};

/**
 * struct tcp_splice_stats - Counters, logged by the timer when they change
 * @opened:	Pairs set up
 * @full:	Connections refused: table full
 * @refused:	connect() failed in the other namespace, or no socket
 * @reset:	Pairs reset on error
 * @timeout:	connect() timeouts
 * @pool_empty:	Pool refills on demand
 */
struct tcp_splice_stats {
	unsigned long opened;
	unsigned long full;
	unsigned long refused;
	unsigned long reset;
	unsigned long timeout;
	unsigned long pool_empty;
};

static struct tcp_splice_conn splice_tc[TCP_SPLICE_MAX_CONNS];
static int splice_hw;			/* entries ever used: high water */
static int splice_free = -1;		/* free list head */
static int splice_closed = -1;		/* closed, to recycle after events */
static int splice_active;		/* pairs in use */
static time_t splice_now;		/* coarse clock, seconds */

static struct tcp_splice_stats splice_stats, splice_stats_logged;

/* Pipes of closed pairs, empty, ready for new ones */
static struct tcp_splice_pipe pipe_pool[TCP_SPLICE_PIPE_POOL];
static int pipe_pool_n;

/* Ready sockets in the target namespace: [0] IPv4, [1] IPv6 */
static int ns_pool[2][TCP_SPLICE_POOL_SIZE];
static int ns_pool_n[2];
static int ns_pool_stuck;	/* last refill came up short: timer retries */

/* /proc/net/tcp and tcp6: [SIDE_INIT] ours, [SIDE_NS] the namespace's */
static int proc_fd[2][2] = { { -1, -1 }, { -1, -1 } };

/* Listening sockets we own, [side][IPv6][port]: descriptor + 1, 0: none.
 * tcp.c owns those of explicit -t specifications
 */
static int splice_lfd[2][2][NUM_PORTS];

/* Ports we failed to bind, and when to retry, per side */
static uint8_t splice_bind_failed[2][NUM_PORTS / 8];
static time_t splice_retry_at[2];

/**
 * struct tcp_splice_ns_arg - Argument of tcp_splice_ns_fill()
 * @c:		Execution context
 * @open_proc:	Also open /proc/net/tcp and tcp6 of the namespace
 */
struct tcp_splice_ns_arg {
	const struct ctx *c;
	int open_proc;
};

/**
 * tcp_splice_ns_fill() - In the namespace: fill the socket pool
 * @arg:	struct tcp_splice_ns_arg
 *
 * Runs in an ns_call() child, sharing our memory and descriptor table.
 *
 * Return: 0 on success, -errno if we couldn't join the namespace
 */
/* #syscalls:pasta socket */
static int tcp_splice_ns_fill(void *arg)
{
	const struct tcp_splice_ns_arg *a = arg;
	int v, rc;

	if ((rc = ns_enter(a->c)))
		return rc;

	if (a->open_proc) {
		proc_fd[SIDE_NS][0] = open("/proc/net/tcp",
					   O_RDONLY | O_CLOEXEC);
		proc_fd[SIDE_NS][1] = open("/proc/net/tcp6",
					   O_RDONLY | O_CLOEXEC);
	}

	for (v = 0; v < 2; v++) {
		while (ns_pool_n[v] < TCP_SPLICE_POOL_SIZE) {
			int s = socket(v ? AF_INET6 : AF_INET,
				       SOCK_STREAM | SOCK_NONBLOCK |
				       SOCK_CLOEXEC, 0);

			if (s < 0)
				break;
			ns_pool[v][ns_pool_n[v]++] = s;
		}
	}

	return 0;
}

/**
 * tcp_splice_pool_fill() - Refill the pool of namespace sockets
 * @c:		Execution context
 * @open_proc:	Also open the namespace's /proc/net/tcp files
 */
static void tcp_splice_pool_fill(const struct ctx *c, int open_proc)
{
	struct tcp_splice_ns_arg a = { .c = c, .open_proc = open_proc };
	int rc;

	if (!open_proc && ns_pool_n[0] == TCP_SPLICE_POOL_SIZE &&
	    ns_pool_n[1] == TCP_SPLICE_POOL_SIZE) {
		ns_pool_stuck = 0;
		return;
	}

	rc = ns_call(tcp_splice_ns_fill, &a);
	if (rc)
		warn_ratelimit("TCP splice: can't create sockets in "
			       "namespace: %s", strerror(-rc));
	ns_pool_stuck = rc || ns_pool_n[0] < TCP_SPLICE_POOL_SIZE ||
			ns_pool_n[1] < TCP_SPLICE_POOL_SIZE;
}

/**
 * tcp_splice_sock() - Get a new socket for one side
 * @c:		Execution context
 * @side:	SIDE_INIT or SIDE_NS
 * @af:		AF_INET or AF_INET6
 *
 * Return: socket, non-blocking, or -1 on failure
 */
/* #syscalls:pasta socket close */
static int tcp_splice_sock(const struct ctx *c, int side, int af)
{
	int v = af == AF_INET6, s;

	if (side == SIDE_INIT) {
		s = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	} else {
		if (!ns_pool_n[v]) {
			splice_stats.pool_empty++;
			tcp_splice_pool_fill(c, 0);
		}
		if (!ns_pool_n[v])
			return -1;
		s = ns_pool[v][--ns_pool_n[v]];
	}

	if (s > FD_REF_MAX) {
		close(s);
		return -1;
	}

	return s;
}

/**
 * tcp_splice_sa() - Fill a socket address for loopback or any address
 * @sa:		Storage for the address
 * @af:		AF_INET or AF_INET6
 * @addr:	Address (struct in_addr or in6_addr), NULL for loopback,
 *		or NULL with @any set
 * @any:	Use the unspecified address if @addr is NULL
 * @port:	Port, host order
 *
 * Return: length of the address
 */
static socklen_t tcp_splice_sa(struct sockaddr_storage *sa, int af,
			       const void *addr, int any, unsigned int port)
{
	memset(sa, 0, sizeof(*sa));

	if (af == AF_INET) {
		struct sockaddr_in *a4 = (struct sockaddr_in *)sa;

		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		if (addr)
			memcpy(&a4->sin_addr, addr, sizeof(a4->sin_addr));
		else if (!any)
			a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a4);
	} else {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;

		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		if (addr)
			memcpy(&a6->sin6_addr, addr, sizeof(a6->sin6_addr));
		else if (!any)
			a6->sin6_addr = in6addr_loopback;
		return sizeof(*a6);
	}
}

/**
 * tcp_splice_listen() - Bind and listen on a port, on one side
 * @c:		Execution context
 * @side:	SIDE_INIT (any address) or SIDE_NS (loopback)
 * @af:		AF_INET or AF_INET6
 * @addr:	Address to bind to instead of the default, or NULL
 * @ifname:	Interface to bind to, NULL or empty for any
 * @port:	Port
 *
 * Return: 0 on success, -errno on failure
 */
/* #syscalls:pasta setsockopt bind listen close */
static int tcp_splice_listen(const struct ctx *c, int side, int af,
			     const void *addr, const char *ifname,
			     unsigned int port)
{
	union epoll_ref ref = { .type = EPOLL_TYPE_TCP_LISTEN,
				.data = port | (side ? TCP_LISTEN_NS : 0) };
	int v = af == AF_INET6, one = 1, s, ret;
	struct sockaddr_storage sa;
	socklen_t sl;

	if (splice_lfd[side][v][port])
		return 0;

	s = tcp_splice_sock(c, side, af);
	if (s < 0)
		return -EMFILE;

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (af == AF_INET6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (c->freebind && side == SIDE_INIT)	/* -t auto */
		sock_freebind(s, af);

	sl = tcp_splice_sa(&sa, af, addr, side == SIDE_INIT, port);
	if ((ifname && *ifname && sock_bind_dev(s, ifname)) ||
	    bind(s, (struct sockaddr *)&sa, sl) || listen(s, SOMAXCONN)) {
		ret = -errno;
		close(s);
		return ret;
	}

	ref.fd = s;
	if ((ret = epoll_add(c->epollfd, EPOLLIN, ref))) {
		close(s);
		return ret;
	}

	splice_lfd[side][v][port] = s + 1;
	return 0;
}

/**
 * tcp_splice_unlisten() - Close our listening sockets for a port
 * @side:	SIDE_INIT or SIDE_NS
 * @port:	Port
 */
/* #syscalls:pasta close */
static void tcp_splice_unlisten(int side, unsigned int port)
{
	int v;

	for (v = 0; v < 2; v++) {
		if (!splice_lfd[side][v][port])
			continue;
		close(splice_lfd[side][v][port] - 1);
		splice_lfd[side][v][port] = 0;
	}
}

/**
 * tcp_splice_loopback() - Family to splice with, if @sa is loopback
 * @sa:		Peer address of an accepted socket
 *
 * Return: AF_INET for 127.0.0.0/8 and v4-mapped loopback, AF_INET6 for ::1,
 *	   0 if not a loopback address
 */
static int tcp_splice_loopback(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;

		return IN4_IS_ADDR_LOOPBACK(&a4->sin_addr) ? AF_INET : 0;
	}

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
		struct in_addr a4;

		if (IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
			return AF_INET6;

		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
			memcpy(&a4, a6->sin6_addr.s6_addr + 12, sizeof(a4));
			if (IN4_IS_ADDR_LOOPBACK(&a4))
				return AF_INET;
		}
	}

	return 0;
}

/**
 * tcp_splice_rst_close() - Close a socket with a reset (SO_LINGER 0)
 * @s:		Socket
 */
/* #syscalls:pasta setsockopt close */
static void tcp_splice_rst_close(int s)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(s);
}

/**
 * tcp_splice_pairs_active() - Number of spliced connections, for --stats
 *
 * Return: pairs in use
 */
int tcp_splice_pairs_active(void)
{
	return splice_active;
}

/**
 * tcp_splice_conn_close() - Mark a pair closed, queue it for tcp_splice_defer()
 * @conn:	Connection
 * @rst:	Close sockets with a reset
 *
 * The descriptors stay open until the end of this round of events: their
 * numbers can't be reused (and stale events mistaken) meanwhile, and the
 * close() calls don't delay data of other pairs in the same round.
 */
static void tcp_splice_conn_close(struct tcp_splice_conn *conn, int rst)
{
	debug("TCP splice %i %s", (int)(conn - splice_tc),
	      rst ? "reset" : "closed");
	conn->flags = SPLICE_CLOSED | (rst ? SPLICE_RST : 0);
	conn->next = splice_closed;
	splice_closed = (int)(conn - splice_tc);
	splice_active--;
}

/**
 * tcp_splice_conn_release() - Close the descriptors of a closed pair
 * @conn:	Connection, closed
 */
/* #syscalls:pasta close */
static void tcp_splice_conn_release(struct tcp_splice_conn *conn)
{
	int rst = !!(conn->flags & SPLICE_RST), i;

	for (i = 0; i < 2; i++) {
		if (conn->s[i] >= 0) {
			if (rst)
				tcp_splice_rst_close(conn->s[i]);
			else
				close(conn->s[i]);
		}
		if (conn->pipe[i].r >= 0 && !rst &&
		    conn->read[i] == conn->written[i] &&
		    pipe_pool_n < TCP_SPLICE_PIPE_POOL) {
			/* Nothing left in it: the next pair can have it */
			pipe_pool[pipe_pool_n++] = conn->pipe[i];
		} else if (conn->pipe[i].r >= 0) {
			close(conn->pipe[i].r);
			close(conn->pipe[i].w);
		}
		conn->s[i] = conn->pipe[i].r = conn->pipe[i].w = -1;
	}
}

/**
 * tcp_splice_dir() - Move data in one direction until the kernel stops us
 * @conn:	Connection
 * @d:		Direction: from s[d] to s[!d]
 * @short_ok:	A short read drains s[d]: we were woken by plain EPOLLIN on it
 *
 * A read into an empty pipe that returns fewer bytes than the pipe has
 * buffers can't have been cut short by the pipe filling up (each buffer
 * holds at least a byte): the socket was drained, and anything that arrived
 * since epoll reported it is reported again (edge-triggered). If the report
 * had no FIN, we can wait for the next one instead of trying another read
 * that would only fail with EAGAIN: one system call less per message of a
 * request-response exchange.
 *
 * Return: 0 if waiting for an event, 1 if the round limit was hit with
 *	   more to do, -1 on error (the pair must be reset)
 */
/* #syscalls:pasta splice shutdown */
static int tcp_splice_dir(struct tcp_splice_conn *conn, int d, int short_ok)
{
	int from = conn->s[d], to = conn->s[!d], i;

	if (conn->flags & SPLICE_SHUT(d))
		return 0;

	for (i = 0; i < TCP_SPLICE_ROUNDS; i++) {
		uint64_t pending = conn->read[d] - conn->written[d];
		int in_empty = 0, drained = 0;
		ssize_t n;

		if (!(conn->flags & SPLICE_EOF(d))) {
			n = splice(from, NULL, conn->pipe[d].w, NULL,
				   TCP_SPLICE_PIPE_SIZE,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n == 0) {
				conn->flags |= SPLICE_EOF(d);
			} else if (n < 0) {
				if (errno != EAGAIN && errno != EINTR)
					return -1;
				/* With data in the pipe, EAGAIN might just
				 * mean that the pipe is full
				 */
				in_empty = !pending;
			} else {
				drained = short_ok && !pending &&
					  (size_t)n < conn->pipe[d].slots;
				conn->read[d] += (uint64_t)n;
				pending += (uint64_t)n;
			}
		}

		if (pending) {
			n = splice(conn->pipe[d].r, NULL, to, NULL,
				   (size_t)MIN(pending,
					       (uint64_t)TCP_SPLICE_PIPE_SIZE),
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0) {
				if (errno != EAGAIN && errno != EINTR)
					return -1;
				/* EPOLLOUT on @to resumes us */
				conn->flags |= SPLICE_BLOCKED(!d);
				return 0;
			}
			if (n == 0)
				return 0;	/* can't happen: don't spin */
			conn->written[d] += (uint64_t)n;
			pending -= (uint64_t)n;
		}

		if ((conn->flags & SPLICE_EOF(d)) && !pending) {
			/* Mirror the half-close, RFC 9293 3.6 */
			shutdown(to, SHUT_WR);
			conn->flags |= SPLICE_SHUT(d);
			return 0;
		}

		/* Socket drained, pipe empty: EPOLLIN on @from resumes us */
		if (in_empty || (drained && !pending))
			return 0;
	}

	return 1;
}

/**
 * tcp_splice_ref() - epoll reference for one socket of a pair
 * @idx:	Table index
 * @side:	0 or 1: index into @s
 * @fd:		Socket
 *
 * Return: the reference
 */
static union epoll_ref tcp_splice_ref(int idx, int side, int fd)
{
	union epoll_ref ref = { .type = EPOLL_TYPE_TCP_SPLICE, .fd = fd,
				.data = ((uint32_t)idx << 1) | (uint32_t)side };

	return ref;
}

/**
 * tcp_splice_events() - epoll events one socket of a pair needs now
 * @conn:	Connection
 * @i:		Index into @s
 *
 * Edge-triggered, and only what we'd act on: input until the peer's FIN,
 * output while connecting and, once the socket held back data we had for
 * it, from then on. EPOLLOUT from the start would wake us for state changes
 * after a shutdown(), a context switch per short connection; dropping it
 * again whenever the pipe drains would cost two epoll_ctl() calls per
 * full send buffer in bulk transfers, where it only fires after EAGAIN.
 *
 * Return: event mask
 */
static uint32_t tcp_splice_events(const struct tcp_splice_conn *conn, int i)
{
	uint32_t ev = EPOLLET;

	if (!(conn->flags & SPLICE_EOF(i)))
		ev |= EPOLLIN | EPOLLRDHUP;
	if ((conn->flags & SPLICE_BLOCKED(i)) ||
	    (i == 1 && (conn->flags & SPLICE_CONNECTING)))
		ev |= EPOLLOUT;

	return ev;
}

/**
 * tcp_splice_arm() - Bring registered epoll events up to date for a pair
 * @c:		Execution context
 * @conn:	Connection
 * @force:	Re-register even if unchanged: epoll reports what's ready again
 */
static void tcp_splice_arm(const struct ctx *c, struct tcp_splice_conn *conn,
			   int force)
{
	int idx = (int)(conn - splice_tc), i;

	for (i = 0; i < 2; i++) {
		uint32_t ev = tcp_splice_events(conn, i);

		if (conn->s[i] < 0 || (ev == conn->events[i] && !force))
			continue;
		if (!epoll_mod(c->epollfd, ev,
			       tcp_splice_ref(idx, i, conn->s[i])))
			conn->events[i] = ev;
	}
}

/**
 * tcp_splice_run() - Move data, close the pair when done
 * @c:		Execution context
 * @conn:	Connection, established
 * @dirs:	Directions to try, bit d: from s[d] to s[!d]; bit 2 + d: a
 *		short read drains s[d], see tcp_splice_dir()
 */
static void tcp_splice_run(const struct ctx *c, struct tcp_splice_conn *conn,
			   unsigned int dirs)
{
	int more = 0, d;

	for (d = 0; d < 2; d++) {
		int rc;

		if (!(dirs & (1U << d)))
			continue;

		if ((rc = tcp_splice_dir(conn, d, !!(dirs & (4U << d)))) < 0) {
			splice_stats.reset++;
			tcp_splice_conn_close(conn, 1);
			return;
		}

		/* Round limit hit with data in the pipe: the output socket's
		 * EPOLLOUT brings us back, even if the input is drained
		 */
		if (rc && conn->read[d] != conn->written[d])
			conn->flags |= SPLICE_BLOCKED(!d);
		more |= rc;
	}

	if ((conn->flags & SPLICE_SHUT(0)) && (conn->flags & SPLICE_SHUT(1))) {
		tcp_splice_conn_close(conn, 0);
		return;
	}

	/* Round limit hit: re-arming makes epoll report what's still ready */
	tcp_splice_arm(c, conn, more);
}

/**
 * tcp_splice_pipe() - Create the pipe for one direction, as large as allowed
 * @conn:	Connection
 * @d:		Direction
 *
 * Return: 0 on success, -1 on failure
 */
/* #syscalls:pasta pipe2 fcntl */
static int tcp_splice_pipe(struct tcp_splice_conn *conn, int d)
{
	static long page_size;
	int p[2], sz;

	if (pipe_pool_n) {
		conn->pipe[d] = pipe_pool[--pipe_pool_n];
		return 0;
	}

	if (!page_size && (page_size = sysconf(_SC_PAGESIZE)) <= 0)
		page_size = 1L << 16;	/* largest we know: fewest slots */

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC))
		return -1;

	/* Fails past fs/pipe-user-pages-soft for unprivileged users: the
	 * default size then still works, just with more calls
	 */
	fcntl(p[0], F_SETPIPE_SZ, TCP_SPLICE_PIPE_SIZE);
	sz = fcntl(p[0], F_GETPIPE_SZ);
	conn->pipe[d].slots = sz > 0 ? (unsigned int)(sz / page_size) : 0;

	conn->pipe[d].r = p[0];
	conn->pipe[d].w = p[1];
	return 0;
}

/**
 * tcp_splice_new() - Get a free table entry
 *
 * Return: index, or -1 if the table is full
 */
static int tcp_splice_new(void)
{
	struct tcp_splice_conn *conn;
	int idx, i;

	if (splice_free >= 0) {
		idx = splice_free;
		splice_free = splice_tc[idx].next;
	} else if (splice_hw < TCP_SPLICE_MAX_CONNS) {
		idx = splice_hw++;
	} else {
		return -1;
	}

	conn = &splice_tc[idx];
	memset(conn, 0, sizeof(*conn));
	for (i = 0; i < 2; i++)
		conn->s[i] = conn->pipe[i].r = conn->pipe[i].w = -1;
	conn->flags = SPLICE_IN_USE;
	conn->ts = splice_now;
	conn->next = -1;
	splice_active++;
	debug("TCP splice %i opened", idx);

	return idx;
}

/**
 * tcp_splice_target() - Address to connect to on the target side
 * @c:		Execution context
 * @conn:	Connection, with target side and family set
 *
 * Man page, "Handling of local traffic in pasta": a connection from the
 * host's loopback reaches the namespace's public address, so that services
 * bound to the namespace's loopback only stay private, unless
 * --host-lo-to-ns-lo. The namespace's address is the one we last saw it
 * use, or the one it was assigned. Towards the init namespace (-T), and
 * without a known address, loopback. A target address given with the
 * forwarding rule overrides all of that.
 *
 * Return: address (struct in_addr or in6_addr), NULL for loopback
 */
static const void *tcp_splice_target(const struct ctx *c,
				     const struct tcp_splice_conn *conn)
{
	if (conn->to)	/* ":toaddr" of the forwarding rule */
		return conn->af == AF_INET ? (const void *)&conn->to->a4 :
					     (const void *)&conn->to->a6;

	if (conn->tside != SIDE_NS || c->host_lo_to_ns_lo)
		return NULL;

	if (conn->af == AF_INET) {
		if (c->ip4.addr_seen.s_addr)
			return &c->ip4.addr_seen;
		return c->ip4.addr.s_addr ? &c->ip4.addr : NULL;
	}

	if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_seen))
		return &c->ip6.addr_seen;
	return IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr) ? NULL : &c->ip6.addr;
}

/**
 * tcp_splice_connect() - Open the target socket of a pair and connect it
 * @c:		Execution context
 * @conn:	Connection, with @af, @tside, @tport set
 *
 * If the pair already has a target socket (first attempt refused), it's
 * replaced: the new one is created first, so that its number differs and
 * stale events of the old one can't be mistaken for events of the new one.
 *
 * Return: 0 if connected or in progress, -1 on failure
 */
/* #syscalls:pasta setsockopt connect close */
static int tcp_splice_connect(const struct ctx *c,
			      struct tcp_splice_conn *conn)
{
	int idx = (int)(conn - splice_tc), one = 1, t;
	struct sockaddr_storage ta;
	socklen_t tl;

	t = tcp_splice_sock(c, conn->tside, conn->af);
	if (conn->s[1] >= 0)
		close(conn->s[1]);
	conn->s[1] = t;
	if (t < 0)
		return -1;

	/* Whatever we get, we pass on at once: no Nagle delay on top */
	setsockopt(t, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	conn->flags &= ~SPLICE_CONNECTING;
	tl = tcp_splice_sa(&ta, conn->af, tcp_splice_target(c, conn), 0,
			   conn->tport);
	if (connect(t, (struct sockaddr *)&ta, tl)) {
		if (errno != EINPROGRESS) {
			debug("TCP splice: connect to port %u: %s",
			      conn->tport, strerror(errno));
			return -1;
		}
		conn->flags |= SPLICE_CONNECTING;
	}

	conn->events[1] = tcp_splice_events(conn, 1);
	if (epoll_add(c->epollfd, conn->events[1], tcp_splice_ref(idx, 1, t)))
		return -1;

	return 0;
}

/**
 * tcp_splice_connect_retry() - Connect failed: try the other IP version
 * @c:		Execution context
 * @conn:	Connection
 *
 * A server bound to 0.0.0.0 only still answers a client that came over
 * IPv6 on the other side, and one bound to ::1 answers clients of 127.0.0.1
 * (the man page: IPv6 bound ports are also forwarded for IPv4).
 *
 * Return: 0 if the new attempt is connected or in progress, -1 on failure
 */
static int tcp_splice_connect_retry(const struct ctx *c,
				    struct tcp_splice_conn *conn)
{
	if ((conn->flags & SPLICE_FALLBACK) || conn->to)
		return -1;

	conn->flags |= SPLICE_FALLBACK;
	conn->af = conn->af == AF_INET ? AF_INET6 : AF_INET;
	conn->ts = splice_now;

	return tcp_splice_connect(c, conn);
}

/**
 * tcp_splice_conn_from_sock() - Splice an accepted connection, if it's ours
 * @c:		Execution context
 * @ref_data:	Data of the listening socket's reference: port, side flag
 * @s:		Accepted socket, non-blocking
 * @sa:		Peer address
 *
 * Return: 1 if we took care of @s (spliced, or closed), 0 if it's for the
 *	   tap path
 */
/* #syscalls:pasta setsockopt */
int tcp_splice_conn_from_sock(struct ctx *c, uint32_t ref_data, int s,
			      const struct sockaddr_storage *sa)
{
	int ns_listen = !!(ref_data & TCP_LISTEN_NS), one = 1, af, idx;
	unsigned int port = TCP_LISTEN_PORT(ref_data);
	const struct fwd_to *to;
	struct tcp_splice_conn *conn;

	if (c->mode != MODE_PASTA)
		return 0;

	if (!ns_listen && c->no_splice)
		return 0;		/* --no-splice: everything on tap */

	to = fwd_target_addr(ns_listen ? &c->tcp_fwd_out : &c->tcp_fwd_in,
			     port);
	af = tcp_splice_loopback(sa);
	if (to && !ns_listen) {
		/* "PORT:toaddr": loopback in the namespace is only reachable
		 * from here, anything else is the tap path's, whoever the
		 * peer is
		 */
		if (!fwd_to_is_loopback(to))
			return 0;
		af = to->af;
	} else if (to) {
		af = to->af;
	} else if (!af) {
		if (!ns_listen)
			return 0;	/* from outside: tap path */
		af = sa->ss_family == AF_INET6 ? AF_INET6 : AF_INET;
	}

	if (s > FD_REF_MAX) {
		splice_stats.refused++;
		goto refuse;
	}

	if ((idx = tcp_splice_new()) < 0) {
		splice_stats.full++;
		warn_ratelimit("TCP splice: table full, refusing connection");
		goto refuse;
	}
	conn = &splice_tc[idx];
	conn->s[0] = s;
	conn->af = af;
	conn->to = to;
	if (ns_listen) {
		conn->tside = SIDE_INIT;
		conn->tport = fwd_target(&c->tcp_fwd_out, port);
	} else {
		conn->tside = SIDE_NS;
		conn->tport = fwd_target(&c->tcp_fwd_in, port);
	}

	/* Connect first: the target's accept() then overlaps with the rest */
	if (tcp_splice_connect(c, conn) && tcp_splice_connect_retry(c, conn)) {
		splice_stats.refused++;
		goto fail;
	}

	conn->events[0] = tcp_splice_events(conn, 0);
	if (tcp_splice_pipe(conn, 0) || tcp_splice_pipe(conn, 1) ||
	    epoll_add(c->epollfd, conn->events[0], tcp_splice_ref(idx, 0, s))) {
		splice_stats.refused++;
		goto fail;
	}

	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	splice_stats.opened++;

	if (!(conn->flags & SPLICE_CONNECTING))
		tcp_splice_run(c, conn, 3);

	return 1;

fail:
	tcp_splice_conn_close(conn, 1);
	return 1;

refuse:
	tcp_splice_rst_close(s);
	return 1;
}

/**
 * tcp_splice_sock_handler() - Events on a spliced socket
 * @c:		Execution context
 * @ref:	epoll reference: table index and side in @data
 * @events:	epoll events
 */
/* #syscalls:pasta getsockopt */
void tcp_splice_sock_handler(struct ctx *c, union epoll_ref ref,
			     uint32_t events)
{
	uint32_t idx = ref.data >> 1, side = ref.data & 1;
	struct tcp_splice_conn *conn;
	unsigned int dirs = 0;

	if (idx >= (uint32_t)splice_hw)
		return;
	conn = &splice_tc[idx];
	if (!(conn->flags & SPLICE_IN_USE) || conn->s[side] != ref.fd)
		return;

	if (conn->flags & SPLICE_CONNECTING) {
		int err = 0;
		socklen_t sl = sizeof(err);

		if (side != 1)
			return;	/* data waits in the socket meanwhile */

		if (getsockopt(conn->s[1], SOL_SOCKET, SO_ERROR, &err, &sl))
			err = errno;
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			debug("TCP splice: connect failed: %s",
			      strerror(err ? err : ECONNREFUSED));
			if (!tcp_splice_connect_retry(c, conn))
				return;
			splice_stats.refused++;
			tcp_splice_conn_close(conn, 1);
			return;
		}
		if (!(events & EPOLLOUT))
			return;

		conn->flags &= ~SPLICE_CONNECTING;
		dirs = 3;	/* data may wait on either side */
	} else if (events & EPOLLERR) {
		splice_stats.reset++;
		tcp_splice_conn_close(conn, 1);
		return;
	} else {
		/* Input on s[side] feeds direction side, room on it drains
		 * direction !side: the other one has nothing new
		 */
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
			dirs |= 1U << side;
		if (!(events & (EPOLLRDHUP | EPOLLHUP)))
			dirs |= 4U << side;
		if (events & (EPOLLOUT | EPOLLHUP))
			dirs |= 1U << !side;
	}

	tcp_splice_run(c, conn, dirs);
}

/**
 * tcp_splice_defer() - After a round of events: close and recycle entries,
 *			refill the socket pool
 * @c:		Execution context
 */
void tcp_splice_defer(struct ctx *c)
{
	while (splice_closed >= 0) {
		struct tcp_splice_conn *conn = &splice_tc[splice_closed];
		int next = conn->next;

		tcp_splice_conn_release(conn);
		conn->flags = 0;
		conn->next = splice_free;
		splice_free = splice_closed;
		splice_closed = next;
	}

	/* Refill between events rather than when a connection finds the
	 * pool empty: the clone() then overlaps with the peers' work
	 */
	if (c->mode == MODE_PASTA && !ns_pool_stuck &&
	    (ns_pool_n[0] < TCP_SPLICE_POOL_SIZE / 2 ||
	     ns_pool_n[1] < TCP_SPLICE_POOL_SIZE / 2))
		tcp_splice_pool_fill(c, 0);
}

/**
 * tcp_splice_listen_port() - Listen on both IP versions for a port
 * @c:		Execution context
 * @side:	SIDE_INIT or SIDE_NS
 * @fwd:	Forwarding table, for a bind address given with the port
 * @port:	Port
 *
 * Return: 0 if at least one socket listens, -errno of the last failure
 */
static int tcp_splice_listen_port(const struct ctx *c, int side,
				  const struct fwd_ports *fwd,
				  unsigned int port)
{
	const struct fwd_addr *a = fwd_bind_addr(fwd, port);
	const char *ifname = a ? a->ifname : NULL;
	int v, ret = -EAFNOSUPPORT, ok = 0;

	for (v = 0; v < 2; v++) {
		int af = v ? AF_INET6 : AF_INET, r;
		const void *addr = NULL;

		if (!fwd_port_af(fwd, port, af))
			continue;
		if (a && a->af)
			addr = v ? (const void *)&a->a6 : (const void *)&a->a4;

		r = tcp_splice_listen(c, side, af, addr, ifname, port);
		if (r)
			ret = r;
		else
			ok = 1;
	}

	return ok ? 0 : ret;
}

/**
 * tcp_splice_reconcile() - Listen on ports that appeared, close the others
 * @c:		Execution context
 * @side:	SIDE_INIT (for -t auto) or SIDE_NS (for -T auto)
 * @want:	Ports that should be forwarded now
 */
static void tcp_splice_reconcile(struct ctx *c, int side, const uint8_t *want)
{
	struct fwd_ports *fwd = side ? &c->tcp_fwd_out : &c->tcp_fwd_in;
	uint8_t *failed = splice_bind_failed[side];
	int retry = splice_now >= splice_retry_at[side];
	unsigned int i, b;

	if (retry) {
		memset(failed, 0, NUM_PORTS / 8);
		splice_retry_at[side] = splice_now + TCP_SPLICE_RETRY_S;
	}

	for (i = 0; i < NUM_PORTS / 8; i++) {
		uint8_t diff = want[i] ^ fwd->map[i];

		/* Ports gone since the last failure can be tried again */
		failed[i] &= want[i];

		if (!diff)
			continue;

		for (b = 0; b < 8; b++) {
			unsigned int port = i * 8 + b;

			if (!(diff & (1U << b)))
				continue;

			if (bitmap_isset(fwd->map, port)) {
				debug("TCP: stop forwarding port %u %s", port,
				      side ? "from namespace" : "to namespace");
				tcp_splice_unlisten(side, port);
				bitmap_clear(fwd->map, port);
				continue;
			}

			if (bitmap_isset(failed, port))
				continue;

			if (tcp_splice_listen_port(c, side, fwd, port)) {
				bitmap_set(failed, port);
				continue;
			}

			debug("TCP: forwarding port %u %s", port,
			      side ? "from namespace" : "to namespace");
			bitmap_set(fwd->map, port);
		}
	}
}

/**
 * tcp_splice_auto() - Scan bound ports on both sides, update forwarding
 * @c:		Execution context
 */
static void tcp_splice_auto(struct ctx *c)
{
	static uint8_t want_in[NUM_PORTS / 8], want_out[NUM_PORTS / 8];
	int in = c->tcp_fwd_in.mode == FWD_AUTO;
	int out = c->tcp_fwd_out.mode == FWD_AUTO;
	int rc4, rc6;

	/* Both scans exclude what we bound ourselves before this round */
	if (in) {
		memset(want_in, 0, sizeof(want_in));
		rc4 = fwd_scan(proc_fd[SIDE_NS][0], 0, want_in,
			       c->tcp_fwd_out.map);
		rc6 = fwd_scan(proc_fd[SIDE_NS][1], 0, want_in,
			       c->tcp_fwd_out.map);
		in = rc4 >= 0 && rc6 >= 0;
		fwd_auto_filter(&c->tcp_fwd_in, want_in);
	}

	if (out) {
		memset(want_out, 0, sizeof(want_out));
		rc4 = fwd_scan(proc_fd[SIDE_INIT][0], 0, want_out,
			       c->tcp_fwd_in.map);
		rc6 = fwd_scan(proc_fd[SIDE_INIT][1], 0, want_out,
			       c->tcp_fwd_in.map);
		out = rc4 >= 0 && rc6 >= 0;
		fwd_auto_filter(&c->tcp_fwd_out, want_out);
	}

	if (in)
		tcp_splice_reconcile(c, SIDE_INIT, want_in);
	if (out)
		tcp_splice_reconcile(c, SIDE_NS, want_out);
}

/**
 * tcp_splice_timer() - Periodic: port scan, socket pool, connect timeouts
 * @c:		Execution context
 * @now:	Current timestamp
 */
void tcp_splice_timer(struct ctx *c, const struct timespec *now)
{
	int i;

	if (c->mode != MODE_PASTA)
		return;

	splice_now = now->tv_sec;

	tcp_splice_auto(c);
	tcp_splice_pool_fill(c, 0);

	for (i = 0; i < splice_hw; i++) {
		struct tcp_splice_conn *conn = &splice_tc[i];

		if (!(conn->flags & SPLICE_CONNECTING))
			continue;
		if (splice_now - conn->ts >= TCP_SPLICE_CONNECT_TIMEOUT) {
			debug("TCP splice: connect timeout");
			splice_stats.timeout++;
			tcp_splice_conn_close(conn, 1);
		}
	}
	tcp_splice_defer(c);	/* timeouts: close now, not next round */

	if (memcmp(&splice_stats, &splice_stats_logged,
		   sizeof(splice_stats))) {
		splice_stats_logged = splice_stats;
		debug("TCP splice: %i active, %lu opened, %lu refused, "
		      "%lu table full, %lu reset, %lu timeouts, "
		      "%lu pool refills", splice_active, splice_stats.opened,
		      splice_stats.refused, splice_stats.full,
		      splice_stats.reset, splice_stats.timeout,
		      splice_stats.pool_empty);
	}
}

/**
 * tcp_splice_init() - Socket pool, /proc files, -T and auto listeners
 * @c:		Execution context
 */
void tcp_splice_init(struct ctx *c)
{
	struct timespec now;
	unsigned int port;

	if (c->mode != MODE_PASTA)
		return;

	clock_gettime(CLOCK_MONOTONIC, &now);
	splice_now = now.tv_sec;

	if (c->tcp_fwd_out.mode == FWD_AUTO) {
		proc_fd[SIDE_INIT][0] = open("/proc/net/tcp",
					     O_RDONLY | O_CLOEXEC);
		proc_fd[SIDE_INIT][1] = open("/proc/net/tcp6",
					     O_RDONLY | O_CLOEXEC);
	}

	tcp_splice_pool_fill(c, c->tcp_fwd_in.mode == FWD_AUTO);

	if (c->tcp_fwd_in.mode == FWD_AUTO)
		memset(c->tcp_fwd_in.map, 0, sizeof(c->tcp_fwd_in.map));
	if (c->tcp_fwd_out.mode == FWD_AUTO)
		memset(c->tcp_fwd_out.map, 0, sizeof(c->tcp_fwd_out.map));

	if (c->tcp_fwd_out.mode == FWD_SPEC) {
		const struct fwd_ports *fwd = &c->tcp_fwd_out;
		unsigned int wanted = 0, bound = 0;
		int err = 0;

		for (port = 1; port < NUM_PORTS; port++) {
			int ret;

			if (!bitmap_isset(fwd->map, port))
				continue;

			wanted++;
			if (fwd_port_quiet(fwd, port) && fd_budget_take())
				continue;	/* "all": half the limit at most */
			ret = tcp_splice_listen_port(c, SIDE_NS, fwd, port);
			if (!ret) {
				bound++;
				continue;
			}
			if (fwd_port_quiet(fwd, port))
				fd_budget_return();
			err = ret;
			if (!fwd_port_quiet(fwd, port))
				warn("Can't bind TCP port %u in namespace for "
				     "-T/--tcp-ns: %s", port, strerror(-ret));
		}

		if (wanted && !bound)
			die("Can't bind any TCP port in namespace for "
			    "-T/--tcp-ns: %s", strerror(-err));
	}

	tcp_splice_auto(c);
}
