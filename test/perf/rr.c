// SPDX-License-Identifier: AGPL-3.0-or-later
/* rr.c - Request/response latency and connection rate, for test/perf
 *
 * Theory of operation
 *
 * One small program, libc only, both ends of three measurements:
 *
 *   rr -s [-b ADDR] [-p PORT]
 *	server: echoes back whatever arrives, on TCP and UDP, on ADDR:PORT
 *	(default: dual-stack [::], port 5300). TCP connections are served from
 *	one epoll loop; a connection is closed when the peer closes it. Bind
 *	to the address clients target if the host has several: a reply from
 *	an unbound UDP socket leaves from the address of the route back, and
 *	a client's connected socket drops it.
 *
 *   rr -c ADDR -m MODE [-p PORT] [-t SECONDS] [-l BYTES]
 *	client, one line of output on success, exit 1 on failure:
 *	tcp_rr	one connection (TCP_NODELAY), BYTES out, BYTES back, repeated
 *		for SECONDS: "n=TRANSACTIONS mean_us=MEAN"
 *	tcp_crr	connect, BYTES out, BYTES back, close, repeated for SECONDS:
 *		"n=CONNECTIONS per_s=RATE"
 *	udp_rr	one datagram of BYTES out, the echo back, repeated for
 *		SECONDS; a reply missing after UDP_RR_WAIT_MS counts as lost
 *		and the next request goes out: "n=TRANSACTIONS lost=L
 *		mean_us=MEAN" (mean over answered requests)
 *
 * Each UDP request starts with a 32-bit sequence number, so that a late
 * reply to a request already counted as lost is not taken for the current
 * one. Every blocking call is bounded in time (SO_RCVTIMEO/SO_SNDTIMEO), so
 * a stalled path makes the client fail, not hang.
 *
 * Limits: RR_CONN_MAX concurrent server connections, RR_BUF_SIZE bytes per
 * request. No dynamic allocation.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RR_PORT_DEFAULT		5300
#define RR_BUF_SIZE		65536	/* largest request or datagram */
#define RR_CONN_MAX		1024	/* concurrent connections the server
					 * keeps; tcp_crr uses one at a time */
#define RR_IO_TIMEOUT_S		2	/* a TCP transaction stalled this long
					 * is a failure of the path */
#define UDP_RR_WAIT_MS		200	/* a UDP reply later than this is lost */
#define RR_EVENTS		64

static char rr_buf[RR_BUF_SIZE];

/**
 * rr_now() - Monotonic time in nanoseconds
 *
 * Return: current CLOCK_MONOTONIC time
 */
static uint64_t rr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/**
 * rr_usage() - Print usage and exit
 * @name:	argv[0]
 */
static void rr_usage(const char *name)
{
	fprintf(stderr,
		"Usage: %s -s [-b ADDR] [-p PORT]\n"
		"       %s -c ADDR -m tcp_rr|tcp_crr|udp_rr [-p PORT] "
		"[-t SECONDS] [-l BYTES]\n", name, name);
	exit(2);
}

/**
 * rr_addr() - Parse a numeric IPv4 or IPv6 address and port
 * @str:	Address, dotted quad or IPv6 text form
 * @port:	Port, host order
 * @sa:		Filled with the socket address
 *
 * Return: length of the socket address, 0 if @str is not an address
 */
static socklen_t rr_addr(const char *str, unsigned port,
			 struct sockaddr_storage *sa)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
	struct sockaddr_in *a4 = (struct sockaddr_in *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, str, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		return sizeof(*a4);
	}
	if (inet_pton(AF_INET6, str, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		return sizeof(*a6);
	}
	return 0;
}

/**
 * rr_timeouts() - Bound blocking send and receive calls on a socket
 * @s:		Socket
 * @ms:		Timeout, milliseconds
 */
static void rr_timeouts(int s, long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/**
 * rr_write_all() - Write a whole buffer to a stream socket
 * @s:		Socket
 * @buf:	Data
 * @len:	Length of data
 *
 * Return: 0 on success, -1 on error or timeout
 */
static int rr_write_all(int s, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(s, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/**
 * rr_read_all() - Read exactly @len bytes from a stream socket
 * @s:		Socket
 * @buf:	Buffer
 * @len:	Bytes to read
 *
 * Return: 0 on success, -1 on error, timeout or early end of stream
 */
static int rr_read_all(int s, char *buf, size_t len)
{
	while (len) {
		ssize_t n = recv(s, buf, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/**
 * rr_server() - Echo TCP streams and UDP datagrams on @a, forever
 * @a:		Address and port to bind to
 * @al:		Length of @a
 *
 * Return: 1 on setup failure (does not return otherwise)
 */
static int rr_server(const struct sockaddr_storage *a, socklen_t al)
{
	struct epoll_event ev, events[RR_EVENTS];
	int tl, us, ep, one = 1, zero = 0, nconn = 0;

	tl = socket(a->ss_family, SOCK_STREAM, 0);
	us = socket(a->ss_family, SOCK_DGRAM, 0);
	ep = epoll_create1(0);
	if (tl < 0 || us < 0 || ep < 0) {
		perror("rr: socket");
		return 1;
	}
	setsockopt(tl, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss_family == AF_INET6) {
		setsockopt(tl, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(us, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(tl, (const struct sockaddr *)a, al) ||
	    bind(us, (const struct sockaddr *)a, al) || listen(tl, 1024)) {
		perror("rr: bind/listen");
		return 1;
	}

	ev.events = EPOLLIN;
	ev.data.fd = tl;
	epoll_ctl(ep, EPOLL_CTL_ADD, tl, &ev);
	ev.data.fd = us;
	epoll_ctl(ep, EPOLL_CTL_ADD, us, &ev);

	for (;;) {
		int n = epoll_wait(ep, events, RR_EVENTS, -1), i;

		for (i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			struct sockaddr_storage peer;
			socklen_t plen = sizeof(peer);
			ssize_t r;

			if (fd == tl) {
				int c = accept4(tl, NULL, NULL, SOCK_CLOEXEC);

				if (c < 0)
					continue;
				if (nconn >= RR_CONN_MAX) {
					close(c);
					continue;
				}
				setsockopt(c, IPPROTO_TCP, TCP_NODELAY,
					   &one, sizeof(one));
				rr_timeouts(c, RR_IO_TIMEOUT_S * 1000);
				ev.events = EPOLLIN;
				ev.data.fd = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				nconn++;
			} else if (fd == us) {
				r = recvfrom(us, rr_buf, sizeof(rr_buf),
					     MSG_DONTWAIT,
					     (struct sockaddr *)&peer, &plen);
				if (r > 0)
					sendto(us, rr_buf, (size_t)r, 0,
					       (struct sockaddr *)&peer, plen);
			} else {
				r = recv(fd, rr_buf, sizeof(rr_buf),
					 MSG_DONTWAIT);
				if (r < 0 && (errno == EAGAIN ||
					      errno == EINTR))
					continue;
				if (r <= 0 ||
				    rr_write_all(fd, rr_buf, (size_t)r)) {
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					close(fd);
					nconn--;
				}
			}
		}
	}
}

/**
 * rr_tcp_connect() - Open a TCP connection with bounded I/O
 * @sa:		Server address
 * @sl:		Length of @sa
 *
 * Return: connected socket, -1 on failure
 */
static int rr_tcp_connect(const struct sockaddr_storage *sa, socklen_t sl)
{
	int s = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (s < 0)
		return -1;
	rr_timeouts(s, RR_IO_TIMEOUT_S * 1000);	/* bounds connect() too */
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s, (const struct sockaddr *)sa, sl)) {
		close(s);
		return -1;
	}
	return s;
}

/**
 * rr_tcp() - tcp_rr and tcp_crr clients
 * @sa:		Server address
 * @sl:		Length of @sa
 * @secs:	Duration, seconds
 * @len:	Request and response size
 * @crr:	Open a new connection for each transaction
 *
 * Return: 0 on success, 1 on failure
 */
static int rr_tcp(const struct sockaddr_storage *sa, socklen_t sl,
		  unsigned secs, size_t len, int crr)
{
	uint64_t start = rr_now(), end = start + secs * 1000000000ULL, t;
	unsigned long n = 0;
	int s = -1;

	memset(rr_buf, 'r', len);
	while ((t = rr_now()) < end) {
		if (s < 0 && (s = rr_tcp_connect(sa, sl)) < 0) {
			perror("rr: connect");
			return 1;
		}
		if (rr_write_all(s, rr_buf, len) ||
		    rr_read_all(s, rr_buf, len)) {
			fprintf(stderr, "rr: transaction %lu failed: %s\n",
				n, strerror(errno));
			close(s);
			return 1;
		}
		n++;
		if (crr) {
			close(s);
			s = -1;
		}
	}
	if (s >= 0)
		close(s);
	if (!n)
		return 1;

	t -= start;
	if (crr)
		printf("n=%lu per_s=%.0f\n", n, (double)n * 1e9 / (double)t);
	else
		printf("n=%lu mean_us=%.1f\n", n, (double)t / 1e3 / (double)n);
	return 0;
}

/**
 * rr_udp() - udp_rr client
 * @sa:		Server address
 * @sl:		Length of @sa
 * @secs:	Duration, seconds
 * @len:	Request and response size, at least 4 (sequence number)
 *
 * Return: 0 on success, 1 on failure
 */
static int rr_udp(const struct sockaddr_storage *sa, socklen_t sl,
		  unsigned secs, size_t len)
{
	uint64_t start = rr_now(), end = start + secs * 1000000000ULL;
	unsigned long n = 0, lost = 0;
	uint64_t busy = 0;	/* time spent in answered transactions */
	uint32_t seq = 0;
	int s;

	if (len < sizeof(seq))
		len = sizeof(seq);
	s = socket(sa->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (const struct sockaddr *)sa, sl)) {
		perror("rr: udp socket");
		return 1;
	}
	rr_timeouts(s, UDP_RR_WAIT_MS);
	memset(rr_buf, 'u', len);

	while (rr_now() < end) {
		uint64_t t0 = rr_now(), deadline = t0 +
			      UDP_RR_WAIT_MS * 1000000ULL;
		uint32_t nseq = htonl(++seq), got;
		int answered = 0;

		memcpy(rr_buf, &nseq, sizeof(nseq));
		if (send(s, rr_buf, len, 0) < 0) {
			lost++;
			continue;
		}
		while (rr_now() < deadline) {
			ssize_t r = recv(s, rr_buf, len, 0);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				break;	/* timed out, or error from ICMP */
			if ((size_t)r < sizeof(got))
				continue;
			memcpy(&got, rr_buf, sizeof(got));
			if (got == nseq) {
				answered = 1;
				break;
			}
			/* late reply to an earlier, lost, request: drop */
		}
		if (answered) {
			busy += rr_now() - t0;
			n++;
		} else {
			lost++;
		}
	}
	close(s);
	if (!n)
		return 1;
	printf("n=%lu lost=%lu mean_us=%.1f\n", n, lost,
	       (double)busy / 1e3 / (double)n);
	return 0;
}

/**
 * main() - Entry point: parse options, run server or client
 * @argc:	Argument count
 * @argv:	Options, see rr_usage()
 *
 * Return: 0 on success, 1 on failure, 2 on usage error
 */
int main(int argc, char **argv)
{
	const char *addr = NULL, *mode = NULL;
	unsigned port = RR_PORT_DEFAULT, secs = 3;
	struct sockaddr_storage sa;
	int server = 0, opt;
	size_t len = 64;
	socklen_t sl;

	while ((opt = getopt(argc, argv, "sb:c:m:p:t:l:")) != -1) {
		switch (opt) {
		case 's':
			server = 1;
			break;
		case 'b':
		case 'c':
			addr = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'p':
			port = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 't':
			secs = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'l':
			len = strtoul(optarg, NULL, 0);
			break;
		default:
			rr_usage(argv[0]);
		}
	}
	if (!port || port > 65535 || !len || len > RR_BUF_SIZE ||
	    !secs || secs > 3600)
		rr_usage(argv[0]);

	if (server) {
		if (!(sl = rr_addr(addr ? addr : "::", port, &sa)))
			rr_usage(argv[0]);
		return rr_server(&sa, sl);
	}

	if (!addr || !mode || !(sl = rr_addr(addr, port, &sa)))
		rr_usage(argv[0]);

	if (!strcmp(mode, "tcp_rr"))
		return rr_tcp(&sa, sl, secs, len, 0);
	if (!strcmp(mode, "tcp_crr"))
		return rr_tcp(&sa, sl, secs, len, 1);
	if (!strcmp(mode, "udp_rr"))
		return rr_udp(&sa, sl, secs, len);
	rr_usage(argv[0]);
	return 2;
}
