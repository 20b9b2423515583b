// SPDX-License-Identifier: AGPL-3.0-or-later

/* tcp.c - TCP translation between guest segments and host sockets
 *
 * Theory of operation:
 *
 * There is no TCP stack here. Each connection of the guest (or of pasta's
 * namespace) is mirrored by one ordinary host socket, and we only keep the
 * sequence, acknowledgement and window bookkeeping needed to translate
 * between the two. No data is ever buffered in this process:
 *
 * - guest to host: the payload of in-sequence segments is written to the
 *   socket with one sendmsg() per batch of segments (iovecs pointing at the
 *   frames as they arrived), and the guest is acknowledged exactly as far as
 *   the kernel accepted the data. Whatever the kernel didn't take is
 *   retransmitted by the guest. The window we advertise reflects the host
 *   socket: the peer's receive window (TCP_INFO tcpi_snd_wnd, Linux >= 5.3)
 *   bounded by free space in the send buffer. When that's (nearly) zero, we
 *   wait for EPOLLOUT and send a window update.
 *
 * - host to guest: data is read with MSG_PEEK straight into the payload area
 *   of pre-built frames (Ethernet, IP and TCP headers reserved in front),
 *   one MSS per frame, as much as the guest's window allows. With pasta's
 *   tap offloads (tap.c), a frame holds as many whole MSS as a 64 KiB IP
 *   packet does, the kernel cutting it at the MSS, and checksums are left
 *   to the kernel: the payload is never read here. With
 *   SO_PEEK_OFF (Linux >= 6.10 for TCP) each peek continues where the
 *   previous one stopped; without it, a discard buffer covers the bytes
 *   already in flight. Data leaves the socket (recv() with MSG_TRUNC) only
 *   once the guest acknowledges it, so a retransmission is a rewind: the
 *   next frame starts at the guest's last ACK, re-read from the socket.
 *   Frames of all connections are queued and written to the tap side in one
 *   batch from tcp_defer_handler(), after every round of events.
 *
 * Connections: outbound, a SYN from the guest opens a non-blocking socket
 * and connect()s to the same destination (nat_outbound(): gateway to
 * loopback); the guest gets its SYN-ACK only once connect() succeeded, an
 * RST if it failed. Inbound, listening sockets for the -t ports accept
 * connections that we open towards the guest with a SYN. FIN and RST are
 * translated both ways, half-close included (shutdown(SHUT_WR)).
 *
 * Limits and timers: TCP_MAX_CONNS connections in a static table, compacted
 * on close (swap with the last entry), found through an open-addressing
 * hash table keyed with SipHash and a random secret. The epoll reference of
 * a socket carries its table index. Retransmissions run off a per-connection
 * timerfd, created on first use and armed lazily; the one-second tcp_timer()
 * scan enforces handshake (TCP_SYN_TIMEOUT), half-closed (TCP_FIN_TIMEOUT)
 * and idle (TCP_IDLE_TIMEOUT) limits, so that a guest going away leaves no
 * socket behind. Initial sequence numbers follow RFC 6528 (keyed hash of the
 * 4-tuple plus a 4 us clock); IPv6 frames carry a keyed, non-zero flow label.
 *
 * Not implemented (see the man page, LIMITATIONS): SACK, timestamps (PAWS,
 * RTTM), urgent data. Out-of-order segments from the guest are not kept:
 * we send a duplicate ACK and the guest retransmits.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

#include "passt.h"
#include "util.h"
#include "log.h"
#include "packet.h"
#include "checksum.h"
#include "siphash.h"
#include "fwd.h"
#include "tap.h"
#include "tcp.h"
#include "tcp_splice.h"

/* Limits, each with its reason */
#define TCP_MAX_CONNS		(1 << 16)	/* as many as ports, at least */
#define TCP_HASH_BITS		17		/* load factor at most 1/2 */
#define TCP_HASH_SIZE		(1U << TCP_HASH_BITS)
#define TCP_FRAMES		128	/* data frames per batch: 8 MiB at MTU
					 * 65520, the tap socket's buffer */
#define TCP_CTL_FRAMES		512	/* header-only frames per batch */
#define TCP_QUEUE		(TCP_FRAMES + TCP_CTL_FRAMES)
#define TCP_IOV_MAX		1024	/* UIO_MAXIOV: segments per sendmsg() */
#define TCP_SOCK_ROUNDS		64	/* peeks per event: fairness */
#define TCP_ACCEPT_ROUNDS	16	/* accepts per event: fairness */
#define TCP_DISCARD_MAX		(4 * 1024 * 1024)	/* in flight, without
							 * SO_PEEK_OFF */

/* Header sizes: RFC 9293 3.1 */
#define TCP_HDR_LEN		20
#define TCP_OPT_MAX		40
#define TCP_SYN_OPT_LEN		8	/* MSS (4), NOP (1), window scale (3) */

/* Frame layout: the payload sits at the same offset for IPv4 and IPv6, the
 * shorter IPv4 header starts further into the buffer
 */
#define TCP_PAYLOAD_OFF		(ETH_HDR_LEN + IP6_HDR_LEN + TCP_HDR_LEN)
#define TCP_L4_OFF		(TCP_PAYLOAD_OFF - TCP_HDR_LEN)
/* With the tap's offloads (pasta), a frame is a super-segment of up to 64 KiB
 * of IP packet, whatever the MTU: the kernel segments it (or takes it whole)
 */
#define TCP_GSO_PAYLOAD_MAX	(65535 - IP6_HDR_LEN - TCP_HDR_LEN)
#define TCP_FRAME_BUF		ROUND_UP(TCP_PAYLOAD_OFF +		\
					 MAX(MTU_MAX, TCP_GSO_PAYLOAD_MAX), 64)
#define TCP_CTL_BUF		128
_Static_assert(TCP_L4_OFF + TCP_HDR_LEN + TCP_OPT_MAX <= TCP_CTL_BUF,
	       "control frame buffer too small for options");

/* Flags in the TCP header, RFC 9293 3.1 */
#define TH_FIN			0x01
#define TH_SYN			0x02
#define TH_RST			0x04
#define TH_PSH			0x08
#define TH_ACK			0x10

/* Options, RFC 9293 3.2 and RFC 7323 2.2 */
#define OPT_EOL			0
#define OPT_NOP			1
#define OPT_MSS			2
#define OPT_MSS_LEN		4
#define OPT_WS			3
#define OPT_WS_LEN		3

#define TCP_MSS_GUEST_DEFAULT		536	/* RFC 9293 3.7.1: if no MSS option */
#define TCP_MSS_MIN		64	/* below this, frames are all headers */
#define TCP_WS_MAX		14	/* RFC 7323 2.3 */
#define TCP_WS_OURS		8	/* reflects host windows up to 16 MiB */
#define TCP_WND_MAX		(65535U << TCP_WS_OURS)
#define TCP_WND_GUEST_MAX	(1U << 30)	/* RFC 7323 2.3: 2^30 max */

/* Timeouts */
#define TCP_SYN_TIMEOUT		10	/* s, handshake either way */
#define TCP_FIN_TIMEOUT		60	/* s, idle in half-closed states */
#define TCP_IDLE_TIMEOUT	7200	/* s, idle established (RFC 1122
					 * 4.2.3.6: keepalive's 2 hours) */
#define TCP_RTO_INIT_MS		1000	/* RFC 6298 2.1 */
#define TCP_RETRANS_MAX		6	/* 1+2+4+8+16+32+64 s, then reset */
#define TCP_DUP_ACKS		3	/* RFC 5681 3.2: fast retransmit */
#define TCP_WND_POLL_MS		20	/* window update check: the kernel
					 * signals EPOLLOUT only after a
					 * write was refused */

/* Sequence number comparisons, modulo 2^32 (RFC 9293 3.4) */
#define SEQ_LT(a, b)		((int32_t)((a) - (b)) < 0)
#define SEQ_LE(a, b)		((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b)		((int32_t)((a) - (b)) > 0)
#define SEQ_GE(a, b)		((int32_t)((a) - (b)) >= 0)

/**
 * enum tcp_conn_flags - Connection state bits
 * @CONN_CONNECTING:	Guest sent SYN, host connect() in progress
 * @CONN_SYN_SENT:	Accepted on a listening socket, SYN sent to guest
 * @CONN_SYNACK_SENT:	SYN-ACK sent to guest, its ACK not seen yet
 * @CONN_ESTABLISHED:	Handshake done with host (and guest, unless
 *			CONN_SYNACK_SENT)
 * @CONN_SOCK_EOF:	Host peer closed its side (EPOLLRDHUP or EOF read)
 * @CONN_TAP_FIN_SENT:	FIN sent to guest (cleared on rewind past it)
 * @CONN_TAP_FIN_ACKED:	Guest acknowledged our FIN
 * @CONN_TAP_FIN_RCVD:	Guest FIN processed: shutdown(SHUT_WR) done
 * @CONN_FIN_SEQ:	@seq_fin is valid: data from the host ends there
 * @CONN_ACK_DUE:	Data (or SYN, FIN) in flight, retransmission timer on
 * @CONN_TIMER_ARMED:	Timer armed (lazily: it may fire for nothing)
 * @CONN_WND_WAIT:	Window to guest (nearly) closed: EPOLLOUT wanted
 * @CONN_CLOSED:	Gone, entry recycled in tcp_defer_handler()
 * @CONN_DUPACK_WANTED:	The kernel refused part of the guest's data: once
 *			there's room, make the guest retransmit at once
 * @CONN_SNDBUF_LTD:	Window to guest limited by the host send buffer
 */
enum tcp_conn_flags {
	CONN_CONNECTING		= 1 << 0,
	CONN_SYN_SENT		= 1 << 1,
	CONN_SYNACK_SENT	= 1 << 2,
	CONN_ESTABLISHED	= 1 << 3,
	CONN_SOCK_EOF		= 1 << 4,
	CONN_TAP_FIN_SENT	= 1 << 5,
	CONN_TAP_FIN_ACKED	= 1 << 6,
	CONN_TAP_FIN_RCVD	= 1 << 7,
	CONN_FIN_SEQ		= 1 << 8,
	CONN_ACK_DUE		= 1 << 9,
	CONN_TIMER_ARMED	= 1 << 10,
	CONN_WND_WAIT		= 1 << 11,
	CONN_CLOSED		= 1 << 12,
	CONN_DUPACK_WANTED	= 1 << 13,
	CONN_SNDBUF_LTD		= 1 << 14,
};

/**
 * struct tcp_conn - One connection: the host side is the socket, the rest
 *		     describes the guest side
 * @sock:		Host socket
 * @timer:		timerfd for retransmissions, -1 until needed
 * @flags:		enum tcp_conn_flags
 * @events:		epoll events currently registered for @sock
 * @hash:		SipHash of the 4-tuple: hash bucket, flow label
 * @seq_to_tap:		Next sequence number we send to the guest
 * @seq_max_to_tap:	Highest sequence number sent, plus one
 * @seq_ack_from_tap:	Last acknowledgement from the guest
 * @seq_fin:		Sequence number of our FIN, if CONN_FIN_SEQ
 * @seq_from_tap:	Next sequence number expected from the guest
 * @wnd_from_tap:	Guest's window, bytes (scaled)
 * @wnd_to_tap:		Window we advertise, bytes (scaled)
 * @ts_ack_ms:		Last progress of acknowledgements from the guest
 * @timer_at:		When the armed timer expires, milliseconds
 * @ts_active:		Last activity on either side, seconds
 * @mss:		MSS for segments to the guest
 * @gport:		Guest port
 * @rport:		Remote port, as the guest sees it
 * @af:			AF_INET or AF_INET6
 * @ws_from_tap:	Guest's window scale shift
 * @ws_to_tap:		Our window scale shift (0 if not negotiated)
 * @retrans:		Consecutive retransmissions
 * @dup_acks:		Duplicate ACKs seen from the guest
 * @gaddr:		Guest address (IPv4: v4-mapped)
 * @raddr:		Remote address, as the guest sees it (IPv4: v4-mapped)
 */
struct tcp_conn {
	int sock;
	int timer;
	uint32_t flags;
	uint32_t events;
	uint32_t hash;
	uint32_t seq_to_tap;
	uint32_t seq_max_to_tap;
	uint32_t seq_ack_from_tap;
	uint32_t seq_fin;
	uint32_t seq_from_tap;
	uint32_t wnd_from_tap;
	uint32_t wnd_to_tap;
	uint32_t ts_ack_ms;
	uint32_t timer_at;
	uint32_t ts_active;
	uint16_t mss;
	uint16_t gport;
	uint16_t rport;
	uint8_t af;
	uint8_t ws_from_tap;
	uint8_t ws_to_tap;
	uint8_t retrans;
	uint8_t dup_acks;
	struct in6_addr gaddr;
	struct in6_addr raddr;
};

/**
 * struct tcp_stats - Counters, reported at exit in debug mode
 */
static struct tcp_stats {
	unsigned long bad_seg;		/* malformed segments dropped */
	unsigned long table_full;	/* connections refused: table full */
	unsigned long rst_sent;		/* resets sent to the guest */
	unsigned long retrans;		/* retransmission timeouts */
	unsigned long fast_retrans;	/* fast retransmissions */
	unsigned long partial;		/* guest data partially written */
	unsigned long ooo;		/* out-of-order guest segments */
	unsigned long dupseg;		/* duplicate guest segments */
	unsigned long dupack_burst;	/* dup ACK bursts after refusal */
	unsigned long tap_short;	/* frames the tap side didn't take */
} tcp_stats, tcp_stats_logged;

static struct tcp_conn tc[TCP_MAX_CONNS];
static int tcp_conn_count;
static int tcp_closed_count;		/* CONN_CLOSED entries to compact */
static int32_t tcp_hash[TCP_HASH_SIZE];	/* index into tc, -1: empty */

static uint8_t tcp_hash_secret[SIPHASH_KEY_LEN];
static uint8_t tcp_isn_secret[SIPHASH_KEY_LEN];

static int tcp_peek_off_ok;		/* SO_PEEK_OFF works on TCP sockets */
static int tcp_info_wnd_ok;		/* TCP_INFO has tcpi_snd_wnd */

static uint32_t tcp_now_ms;		/* CLOCK_MONOTONIC, milliseconds */
static uint32_t tcp_now_s;		/* CLOCK_MONOTONIC, seconds */

/* Frames to the guest: data frames, header-only frames, and one queue of
 * both in the order they must go out. For data-carrying frames (and FIN),
 * the queue also records connection and sequence, to rewind a connection if
 * the tap side doesn't take all frames.
 */
static uint8_t tcp_frames[TCP_FRAMES][TCP_FRAME_BUF] __attribute__((aligned(64)));
static uint8_t tcp_ctl[TCP_CTL_FRAMES][TCP_CTL_BUF] __attribute__((aligned(64)));
static struct iovec tcp_q[TCP_QUEUE];
static struct tap_gso tcp_q_gso[TCP_QUEUE];
static int tcp_q_conn[TCP_QUEUE];
static uint32_t tcp_q_seq[TCP_QUEUE];
static int tcp_q_n, tcp_frames_used, tcp_ctl_used;

/* Without SO_PEEK_OFF, bytes already in flight are peeked into this */
static uint8_t tcp_discard[TCP_DISCARD_MAX];

static void tcp_flush(struct ctx *c);

/**
 * tcp_clock() - Update our copy of the current time
 * @now:	Current timestamp, CLOCK_MONOTONIC
 */
static void tcp_clock(const struct timespec *now)
{
	tcp_now_ms = (uint32_t)((uint64_t)now->tv_sec * 1000 +
				(uint64_t)now->tv_nsec / 1000000);
	tcp_now_s = (uint32_t)now->tv_sec;
}

/**
 * tcp_clock_read() - Update our copy of the current time from the clock
 */
/* #syscalls: clock_gettime */
static void tcp_clock_read(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	tcp_clock(&now);
}

/**
 * tcp_addr6() - Store an address of family @af as struct in6_addr
 * @af:		AF_INET or AF_INET6
 * @addr:	struct in_addr or struct in6_addr
 * @out:	IPv6 address, v4-mapped for IPv4
 */
static void tcp_addr6(int af, const void *addr, struct in6_addr *out)
{
	if (af == AF_INET6) {
		memcpy(out, addr, sizeof(*out));
		return;
	}

	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = 0xff;
	out->s6_addr[11] = 0xff;
	memcpy(out->s6_addr + 12, addr, sizeof(struct in_addr));
}

/**
 * tcp_tuple_hash() - Keyed hash of a connection's guest-side 4-tuple
 * @secret:	SipHash key
 * @af:		Address family
 * @gaddr:	Guest address
 * @gport:	Guest port
 * @raddr:	Remote address
 * @rport:	Remote port
 *
 * Return: 64-bit SipHash-2-4
 */
static uint64_t tcp_tuple_hash(const uint8_t *secret, int af,
			       const struct in6_addr *gaddr, uint16_t gport,
			       const struct in6_addr *raddr, uint16_t rport)
{
	uint8_t k[40] = { 0 };

	memcpy(k, gaddr, 16);
	memcpy(k + 16, raddr, 16);
	put_be16(k + 32, gport);
	put_be16(k + 34, rport);
	k[36] = (uint8_t)af;

	return siphash_2_4(secret, k, sizeof(k));
}

/**
 * tcp_isn() - Initial sequence number for a new connection
 * @conn:	Connection, with addresses and ports set
 *
 * RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, key),
 * M a timer ticking every 4 microseconds (here 4.096 us).
 *
 * Return: ISN
 */
static uint32_t tcp_isn(const struct tcp_conn *conn)
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;

	return (uint32_t)tcp_tuple_hash(tcp_isn_secret, conn->af,
					&conn->gaddr, conn->gport,
					&conn->raddr, conn->rport) +
	       (uint32_t)(ns >> 12);
}

/**
 * tcp_flow_label() - IPv6 flow label for frames to the guest
 * @conn:	Connection
 *
 * RFC 6437 3: uniformly distributed, hard to guess, never zero for a flow.
 *
 * Return: 20-bit flow label
 */
static uint32_t tcp_flow_label(const struct tcp_conn *conn)
{
	uint32_t fl = (conn->hash >> 12) & 0xfffff;

	return fl ? fl : 1;
}

/**
 * tcp_hash_find() - Find the hash slot holding connection @ci
 * @ci:		Connection index
 *
 * Return: slot, or -1 if not found
 */
static int tcp_hash_find(int ci)
{
	uint32_t b = tc[ci].hash & (TCP_HASH_SIZE - 1), n;

	for (n = 0; n < TCP_HASH_SIZE; n++, b = (b + 1) & (TCP_HASH_SIZE - 1)) {
		if (tcp_hash[b] == ci)
			return (int)b;
		if (tcp_hash[b] < 0)
			return -1;
	}
	return -1;
}

/**
 * tcp_hash_insert() - Insert connection @ci into the hash table
 * @ci:		Connection index, with @hash set
 */
static void tcp_hash_insert(int ci)
{
	uint32_t b = tc[ci].hash & (TCP_HASH_SIZE - 1);

	/* Never full: at most TCP_MAX_CONNS entries, half the slots */
	while (tcp_hash[b] >= 0)
		b = (b + 1) & (TCP_HASH_SIZE - 1);
	tcp_hash[b] = ci;
}

/**
 * tcp_hash_remove() - Remove connection @ci from the hash table
 * @ci:		Connection index
 *
 * Linear probing without tombstones: entries after the hole that may no
 * longer be reachable are shifted back into it (Knuth, TAOCP 6.4,
 * Algorithm R).
 */
static void tcp_hash_remove(int ci)
{
	const uint32_t mask = TCP_HASH_SIZE - 1;
	int s = tcp_hash_find(ci);
	uint32_t i, j, home;

	if (s < 0)
		return;

	i = (uint32_t)s;
	tcp_hash[i] = -1;
	for (j = (i + 1) & mask; tcp_hash[j] >= 0; j = (j + 1) & mask) {
		home = tc[tcp_hash[j]].hash & mask;

		/* Can the entry at j stay? Only if its home lies cyclically
		 * in (i, j]
		 */
		if (((j - home) & mask) < ((j - i) & mask))
			continue;

		tcp_hash[i] = tcp_hash[j];
		tcp_hash[j] = -1;
		i = j;
	}
}

/**
 * tcp_conn_lookup() - Find a connection by its guest-side 4-tuple
 * @af:		Address family
 * @gaddr:	Guest address
 * @gport:	Guest port
 * @raddr:	Remote address
 * @rport:	Remote port
 * @hash:	Hash of the tuple, set on return
 *
 * Return: connection index, or -1 if not found
 */
static int tcp_conn_lookup(int af, const struct in6_addr *gaddr,
			   uint16_t gport, const struct in6_addr *raddr,
			   uint16_t rport, uint32_t *hash)
{
	uint32_t h = (uint32_t)tcp_tuple_hash(tcp_hash_secret, af, gaddr,
					      gport, raddr, rport);
	uint32_t b = h & (TCP_HASH_SIZE - 1), n;

	*hash = h;
	for (n = 0; n < TCP_HASH_SIZE; n++, b = (b + 1) & (TCP_HASH_SIZE - 1)) {
		const struct tcp_conn *conn;
		int ci = tcp_hash[b];

		if (ci < 0)
			return -1;

		conn = &tc[ci];
		if (conn->hash == h && conn->af == af &&
		    conn->gport == gport && conn->rport == rport &&
		    IN6_ARE_ADDR_EQUAL(&conn->gaddr, gaddr) &&
		    IN6_ARE_ADDR_EQUAL(&conn->raddr, raddr))
			return ci;
	}
	return -1;
}

/**
 * tcp_conns_active() - Number of open connections, for --stats
 *
 * Return: table entries in use, not counting closed ones
 */
int tcp_conns_active(void)
{
	return tcp_conn_count - tcp_closed_count;
}

/**
 * tcp_flow_log() - One debug line about a connection opening or closing
 * @ci:		Connection index
 * @what:	"opened", "closed", "reset"
 */
static void tcp_flow_log(int ci, const char *what)
{
	char g[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	const struct tcp_conn *conn = &tc[ci];

	if (!log_debug_on())
		return;

	/* IPv4 addresses are kept IPv4-mapped (tcp_addr6()) */
	if (conn->af == AF_INET) {
		inet_ntop(AF_INET, &conn->gaddr.s6_addr[12], g, sizeof(g));
		inet_ntop(AF_INET, &conn->raddr.s6_addr[12], r, sizeof(r));
	} else {
		inet_ntop(AF_INET6, &conn->gaddr, g, sizeof(g));
		inet_ntop(AF_INET6, &conn->raddr, r, sizeof(r));
	}
	debug("TCP flow %i %s: guest [%s]:%u <-> [%s]:%u", ci, what, g,
	      conn->gport, r, conn->rport);
}

/**
 * tcp_table_full() - Check for room in the table, count and log refusals
 *
 * Return: 1 if the table is full
 */
static int tcp_table_full(void)
{
	if (tcp_conn_count < TCP_MAX_CONNS)
		return 0;

	tcp_stats.table_full++;
	warn_ratelimit("TCP: connection table full (%i entries), refusing "
		       "new connection (%lu so far)", TCP_MAX_CONNS,
		       tcp_stats.table_full);
	return 1;
}

/**
 * tcp_conn_new() - Allocate a table entry for a new connection
 * @af:		Address family
 * @gaddr:	Guest address
 * @gport:	Guest port
 * @raddr:	Remote address
 * @rport:	Remote port
 * @hash:	Hash of the tuple
 * @sock:	Host socket
 *
 * Return: connection index, -1 if the table is full
 */
static int tcp_conn_new(int af, const struct in6_addr *gaddr, uint16_t gport,
			const struct in6_addr *raddr, uint16_t rport,
			uint32_t hash, int sock)
{
	struct tcp_conn *conn;
	int ci;

	if (tcp_table_full())
		return -1;

	ci = tcp_conn_count++;
	conn = &tc[ci];
	memset(conn, 0, sizeof(*conn));
	conn->sock = sock;
	conn->timer = -1;
	conn->af = (uint8_t)af;
	conn->gaddr = *gaddr;
	conn->raddr = *raddr;
	conn->gport = gport;
	conn->rport = rport;
	conn->hash = hash;
	conn->ts_active = tcp_now_s;
	conn->ts_ack_ms = tcp_now_ms;
	conn->mss = TCP_MSS_GUEST_DEFAULT;
	tcp_hash_insert(ci);
	tcp_flow_log(ci, "opened");

	return ci;
}

/**
 * tcp_epoll_ref() - epoll reference for a connection's socket or timer
 * @type:	EPOLL_TYPE_TCP or EPOLL_TYPE_TCP_TIMER
 * @fd:		Descriptor
 * @ci:		Connection index
 *
 * Return: reference
 */
static union epoll_ref tcp_epoll_ref(enum epoll_type type, int fd, int ci)
{
	union epoll_ref ref = { .type = type, .fd = fd, .data = (uint32_t)ci };

	return ref;
}

/**
 * tcp_epoll_set() - Set epoll events for a connection's socket
 * @c:		Execution context
 * @ci:		Connection index
 * @events:	Events wanted
 */
static void tcp_epoll_set(const struct ctx *c, int ci, uint32_t events)
{
	struct tcp_conn *conn = &tc[ci];

	if (conn->events == events)
		return;

	if (epoll_mod(c->epollfd, events,
		      tcp_epoll_ref(EPOLL_TYPE_TCP, conn->sock, ci)))
		debug("TCP: epoll_ctl on socket %i: %s", conn->sock,
		      strerror(errno));
	conn->events = events;
}

/**
 * tcp_conn_events() - epoll events a connection needs in its state
 * @conn:	Connection
 *
 * Return: events. Readable and hang-up edges are enough: data stays in the
 *	   socket until acknowledged, and every new arrival signals again.
 */
static uint32_t tcp_conn_events(const struct tcp_conn *conn)
{
	uint32_t ev;

	if (conn->flags & CONN_CONNECTING)
		return EPOLLOUT;

	/* EPOLLOUT edges come only after a write didn't fit, or after
	 * tcp_wnd_check() polled a full buffer: cheap to keep registered
	 */
	ev = EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLET;

	return ev;
}

/**
 * tcp_timer_arm() - Arm the connection's timer for @ms milliseconds
 * @c:		Execution context
 * @ci:		Connection index
 * @ms:		Delay
 */
/* #syscalls: timerfd_create timerfd_settime close */
static void tcp_timer_arm(const struct ctx *c, int ci, uint32_t ms)
{
	struct tcp_conn *conn = &tc[ci];
	struct itimerspec it = { { 0, 0 }, { 0, 0 } };

	if (conn->timer < 0) {
		int fd = timerfd_create(CLOCK_MONOTONIC,
					TFD_NONBLOCK | TFD_CLOEXEC);

		if (fd < 0)
			return;	/* tcp_timer() scan covers us */
		if (fd > FD_REF_MAX ||
		    epoll_add(c->epollfd, EPOLLIN,
			      tcp_epoll_ref(EPOLL_TYPE_TCP_TIMER, fd, ci))) {
			close(fd);
			return;
		}
		conn->timer = fd;
	}

	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	if (!it.it_value.tv_sec && !it.it_value.tv_nsec)
		it.it_value.tv_nsec = 1;
	if (!timerfd_settime(conn->timer, 0, &it, NULL)) {
		conn->flags |= CONN_TIMER_ARMED;
		conn->timer_at = tcp_now_ms + ms;
	}
}

/**
 * tcp_timer_sched() - Make sure the timer fires for the next deadline
 * @c:		Execution context
 * @ci:		Connection index
 *
 * Deadlines: retransmission (guest's ACK overdue), window update polling.
 * Armed lazily: a timer that fires earlier than needed re-arms itself, one
 * that would fire later is brought forward.
 */
static void tcp_timer_sched(const struct ctx *c, int ci)
{
	struct tcp_conn *conn = &tc[ci];
	uint32_t at = 0, rto;
	int want = 0;

	if (conn->flags & CONN_CLOSED)
		return;

	if (conn->flags & CONN_ACK_DUE) {
		rto = (uint32_t)TCP_RTO_INIT_MS << conn->retrans;
		at = conn->ts_ack_ms + rto;
		want = 1;
	}
	if ((conn->flags & CONN_WND_WAIT) && conn->wnd_to_tap < conn->mss) {
		uint32_t w = tcp_now_ms + TCP_WND_POLL_MS;

		if (!want || SEQ_LT(w, at))
			at = w;
		want = 1;
	}
	if (!want)
		return;

	if ((conn->flags & CONN_TIMER_ARMED) && SEQ_LE(conn->timer_at, at))
		return;

	tcp_timer_arm(c, ci, SEQ_GT(at, tcp_now_ms) ? at - tcp_now_ms : 0);
}

/**
 * tcp_ack_due() - Something that needs an ACK from the guest went out
 * @c:		Execution context
 * @ci:		Connection index
 *
 * The timer is armed once, and re-armed by its handler as long as the
 * guest's acknowledgements make progress: no syscall per segment.
 */
static void tcp_ack_due(const struct ctx *c, int ci)
{
	struct tcp_conn *conn = &tc[ci];

	if (!(conn->flags & CONN_ACK_DUE)) {
		conn->flags |= CONN_ACK_DUE;
		conn->ts_ack_ms = tcp_now_ms;
	}

	tcp_timer_sched(c, ci);
}

/**
 * tcp_frame_fill() - Write TCP, IP and Ethernet headers of a frame
 * @c:		Execution context
 * @af:		Address family
 * @src:	Source address (v4-mapped for IPv4)
 * @dst:	Destination address (v4-mapped for IPv4)
 * @sport:	Source port
 * @dport:	Destination port
 * @flow:	IPv6 flow label
 * @l4:		Where the TCP header goes: TCP_L4_OFF into a frame buffer
 * @seq:	Sequence number
 * @ack:	Acknowledgement number
 * @flags:	TCP flags
 * @wnd:	Window field
 * @optlen:	Length of options already written after the header
 * @plen:	Length of payload after header and options
 * @partial:	Leave the checksum to the kernel: pseudo-header sum only
 * @start:	Start of the frame, set on return
 *
 * The checksum covers the payload in place: frames are never copied. With
 * @partial (pasta's tap offloads), the field holds the folded pseudo-header
 * sum for the whole segment, as the kernel expects it to finish the
 * checksum, or to segment it (virtio 1.0 5.1.6.2).
 *
 * Return: frame length
 */
static size_t tcp_frame_fill(const struct ctx *c, int af,
			     const struct in6_addr *src,
			     const struct in6_addr *dst,
			     uint16_t sport, uint16_t dport, uint32_t flow,
			     uint8_t *l4, uint32_t seq, uint32_t ack,
			     uint8_t flags, uint16_t wnd, size_t optlen,
			     size_t plen, int partial, uint8_t **start)
{
	size_t l4len = TCP_HDR_LEN + optlen + plen;
	uint8_t *ip, *eth;
	uint16_t sum;
	uint32_t psum;

	put_be16(l4, sport);
	put_be16(l4 + 2, dport);
	put_be32(l4 + 4, seq);
	put_be32(l4 + 8, ack);
	l4[12] = (uint8_t)(((TCP_HDR_LEN + optlen) / 4) << 4);
	l4[13] = flags;
	put_be16(l4 + 14, wnd);
	memset(l4 + 16, 0, 4);		/* checksum, urgent pointer */

	if (af == AF_INET) {
		struct in_addr s4, d4;
		uint16_t tot = (uint16_t)(IP4_HDR_LEN + l4len);

		memcpy(&s4, src->s6_addr + 12, sizeof(s4));
		memcpy(&d4, dst->s6_addr + 12, sizeof(d4));

		/* RFC 791 3.1, option-less; RFC 6864 4.1: atomic datagrams
		 * (DF set) may carry any ID, we use 0
		 */
		ip = l4 - IP4_HDR_LEN;
		ip[0] = 0x45;
		ip[1] = 0;
		put_be16(ip + 2, tot);
		put_be16(ip + 4, 0);
		put_be16(ip + 6, 0x4000);	/* DF */
		ip[8] = 255;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, &s4, 4);
		memcpy(ip + 16, &d4, 4);
		sum = csum_ip4_header(tot, IPPROTO_TCP, s4, d4);
		memcpy(ip + 10, &sum, 2);

		psum = proto_ipv4_header_psum((uint16_t)l4len, IPPROTO_TCP,
					      s4, d4);
		eth = ip - ETH_HDR_LEN;
		tap_eth_hdr(c, eth, ETHERTYPE_IP);
	} else {
		ip = l4 - IP6_HDR_LEN;
		put_be32(ip, (6U << 28) | (flow & 0xfffff));
		put_be16(ip + 4, (uint16_t)l4len);
		ip[6] = IPPROTO_TCP;
		ip[7] = 255;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);

		psum = proto_ipv6_header_psum((uint32_t)l4len, IPPROTO_TCP,
					      src, dst);
		eth = ip - ETH_HDR_LEN;
		tap_eth_hdr(c, eth, ETHERTYPE_IPV6);
	}

	if (partial)
		sum = (uint16_t)~csum_fold(psum);
	else
		sum = csum(l4, l4len, psum);
	memcpy(l4 + 16, &sum, 2);

	*start = eth;
	return (size_t)(l4 + l4len - eth);
}

/**
 * tcp_q_add() - Append a frame to the output queue
 * @start:	Frame
 * @len:	Length
 * @ci:		Connection to rewind if the frame isn't sent, or -1
 * @seq:	Sequence number of the frame's first byte (or FIN)
 * @gso_size:	Segment size if the frame is a super-segment, 0 otherwise
 * @partial:	The checksum is left to the kernel
 */
static void tcp_q_add(uint8_t *start, size_t len, int ci, uint32_t seq,
		      uint16_t gso_size, int partial)
{
	tcp_q[tcp_q_n].iov_base = start;
	tcp_q[tcp_q_n].iov_len = len;
	tcp_q_gso[tcp_q_n].gso_size = gso_size;
	tcp_q_gso[tcp_q_n].partial = (uint8_t)!!partial;
	tcp_q_conn[tcp_q_n] = ci;
	tcp_q_seq[tcp_q_n] = seq;
	tcp_q_n++;
}

/**
 * tcp_ctl_frame() - Get a buffer for a header-only frame, flushing if full
 * @c:		Execution context
 *
 * Return: buffer of TCP_CTL_BUF bytes
 */
static uint8_t *tcp_ctl_frame(struct ctx *c)
{
	if (tcp_ctl_used >= TCP_CTL_FRAMES || tcp_q_n >= TCP_QUEUE)
		tcp_flush(c);

	return tcp_ctl[tcp_ctl_used++];
}

/**
 * tcp_wnd_field() - Window field for a segment to the guest
 * @conn:	Connection
 *
 * Return: window, scaled down by our shift, at most 65535
 */
static uint16_t tcp_wnd_field(const struct tcp_conn *conn)
{
	return (uint16_t)MIN(conn->wnd_to_tap >> conn->ws_to_tap, 65535U);
}

/**
 * tcp_send_flags() - Queue a header-only segment for a connection
 * @c:		Execution context
 * @ci:		Connection index
 * @flags:	TH_ flags; with TH_SYN, MSS and window scale options
 * @seq:	Sequence number
 */
static void tcp_send_flags(struct ctx *c, int ci, uint8_t flags, uint32_t seq)
{
	struct tcp_conn *conn = &tc[ci];
	uint8_t *buf = tcp_ctl_frame(c), *l4 = buf + TCP_L4_OFF, *start;
	size_t optlen = 0, len;
	uint16_t wnd = tcp_wnd_field(conn);
	uint32_t ack = (flags & TH_ACK) ? conn->seq_from_tap : 0;

	if (flags & TH_SYN) {
		int mtu = c->mtu ? c->mtu : MTU_MAX;
		int hdrs = (conn->af == AF_INET ? IP4_HDR_LEN : IP6_HDR_LEN) +
			   TCP_HDR_LEN;
		uint8_t *o = l4 + TCP_HDR_LEN;

		/* RFC 9293 3.7.1: MSS; RFC 7323 2.2: window scale, in a
		 * SYN-ACK only if the guest's SYN had it
		 */
		o[0] = OPT_MSS;
		o[1] = OPT_MSS_LEN;
		put_be16(o + 2, (uint16_t)MIN(mtu - hdrs, 65535));
		optlen = OPT_MSS_LEN;
		if (!(flags & TH_ACK) || conn->ws_to_tap) {
			o[4] = OPT_NOP;
			o[5] = OPT_WS;
			o[6] = OPT_WS_LEN;
			o[7] = TCP_WS_OURS;
			optlen = TCP_SYN_OPT_LEN;
		}

		/* RFC 7323 2.2: the window in a SYN is never scaled */
		wnd = (uint16_t)MIN(conn->wnd_to_tap, 65535U);
	}

	len = tcp_frame_fill(c, conn->af, &conn->raddr, &conn->gaddr,
			     conn->rport, conn->gport, tcp_flow_label(conn),
			     l4, seq, ack, flags, wnd, optlen, 0, 0, &start);

	if (flags & TH_RST)
		tcp_stats.rst_sent++;

	tcp_q_add(start, len, (flags & TH_FIN) ? ci : -1, seq, 0, 0);
}

/**
 * tcp_send_ack() - Queue a pure ACK with the current window
 * @c:		Execution context
 * @ci:		Connection index
 */
static void tcp_send_ack(struct ctx *c, int ci)
{
	tcp_send_flags(c, ci, TH_ACK, tc[ci].seq_to_tap);
}

/**
 * tcp_rst_reply() - Reset in answer to a segment for no connection
 * @c:		Execution context
 * @af:		Address family
 * @saddr:	Source of the segment (guest)
 * @daddr:	Its destination
 * @th:		TCP header of the segment
 * @plen:	Payload length
 *
 * RFC 9293 3.10.7.1: if the segment has an ACK, <SEQ=SEG.ACK><CTL=RST>,
 * otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
 */
static void tcp_rst_reply(struct ctx *c, int af, const void *saddr,
			  const void *daddr, const uint8_t *th, size_t plen)
{
	uint8_t *buf = tcp_ctl_frame(c), *start, flags = th[13];
	struct in6_addr s6, d6;
	uint32_t seq = 0, ack = 0;
	uint8_t rflags = TH_RST;
	size_t len;

	if (flags & TH_ACK) {
		seq = get_be32(th + 8);
	} else {
		ack = get_be32(th + 4) + (uint32_t)plen +
		      !!(flags & TH_SYN) + !!(flags & TH_FIN);
		rflags |= TH_ACK;
	}

	tcp_addr6(af, saddr, &s6);
	tcp_addr6(af, daddr, &d6);
	len = tcp_frame_fill(c, af, &d6, &s6, get_be16(th + 2),
			     get_be16(th), 1, buf + TCP_L4_OFF, seq, ack,
			     rflags, 0, 0, 0, 0, &start);
	tcp_q_add(start, len, -1, 0, 0, 0);
	tcp_stats.rst_sent++;
}

/**
 * tcp_conn_close() - Close a connection, recycle the entry later
 * @c:		Execution context
 * @ci:		Connection index
 * @abort:	Reset the host side (SO_LINGER 0): the peer sees ECONNRESET
 */
/* #syscalls: setsockopt close */
static void tcp_conn_close(const struct ctx *c, int ci, int abort)
{
	struct tcp_conn *conn = &tc[ci];

	(void)c;
	if (conn->flags & CONN_CLOSED)
		return;

	tcp_flow_log(ci, abort ? "reset" : "closed");

	if (abort) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(conn->sock, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}

	/* Closing removes the descriptors from the epoll set */
	close(conn->sock);
	if (conn->timer >= 0)
		close(conn->timer);
	conn->sock = -1;
	conn->timer = -1;

	tcp_hash_remove(ci);
	conn->flags = CONN_CLOSED;
	tcp_closed_count++;
}

/**
 * tcp_rst() - Reset both sides of a connection and close it
 * @c:		Execution context
 * @ci:		Connection index
 */
static void tcp_rst(struct ctx *c, int ci)
{
	struct tcp_conn *conn = &tc[ci];

	if (conn->flags & CONN_CLOSED)
		return;

	if (conn->flags & CONN_CONNECTING)
		tcp_send_flags(c, ci, TH_RST | TH_ACK, 0);
	else
		tcp_send_flags(c, ci, TH_RST | TH_ACK, conn->seq_to_tap);
	tcp_conn_close(c, ci, 1);
}

/**
 * tcp_rewind() - Resend from sequence @seq: rewind our peek position
 * @ci:		Connection index
 * @seq:	First sequence number to send again
 */
/* #syscalls: setsockopt */
static void tcp_rewind(int ci, uint32_t seq)
{
	struct tcp_conn *conn = &tc[ci];

	if (SEQ_LT(seq, conn->seq_ack_from_tap))
		seq = conn->seq_ack_from_tap;
	if (SEQ_GE(seq, conn->seq_to_tap))
		return;

	conn->seq_to_tap = seq;
	if ((conn->flags & CONN_TAP_FIN_SENT) &&
	    !(conn->flags & CONN_TAP_FIN_ACKED) &&
	    SEQ_LE(seq, conn->seq_fin))
		conn->flags &= ~CONN_TAP_FIN_SENT;

	if (tcp_peek_off_ok) {
		int off = (int)(seq - conn->seq_ack_from_tap);

		if ((conn->flags & CONN_FIN_SEQ) &&
		    SEQ_GT(seq, conn->seq_fin))
			off = (int)(conn->seq_fin - conn->seq_ack_from_tap);
		if (setsockopt(conn->sock, SOL_SOCKET, SO_PEEK_OFF,
			       &off, sizeof(off)))
			debug("TCP: can't rewind peek offset: %s",
			      strerror(errno));
	}
}

/**
 * tcp_flush() - Send all queued frames to the guest
 * @c:		Execution context
 *
 * Frames the tap side doesn't take are lost: rewind their connections so
 * that they're sent again on the next occasion.
 */
static void tcp_flush(struct ctx *c)
{
	size_t sent;
	int i;

	if (!tcp_q_n)
		return;

	sent = tap_send_frames_gso(c, tcp_q, 1, (size_t)tcp_q_n, tcp_q_gso);
	tcp_stats.tap_short += (size_t)tcp_q_n - sent;

	for (i = (int)sent; i < tcp_q_n; i++) {
		int ci = tcp_q_conn[i];

		if (ci < 0 || ci >= tcp_conn_count ||
		    (tc[ci].flags & CONN_CLOSED))
			continue;
		if (SEQ_LT(tcp_q_seq[i], tc[ci].seq_to_tap))
			tcp_rewind(ci, tcp_q_seq[i]);
	}

	tcp_q_n = 0;
	tcp_frames_used = 0;
	tcp_ctl_used = 0;
}

/**
 * tcp_wnd_update() - Compute the window to advertise from the host socket
 * @c:		Execution context
 * @ci:		Connection index
 *
 * The peer's receive window (tcpi_snd_wnd), bounded by free space in the
 * send buffer. SO_SNDBUF also counts buffer overhead (skb truesize): take
 * three quarters of it as room for payload, so that the kernel takes all
 * the guest sends. Data the kernel refuses is lost for the guest, which
 * has to retransmit it, and that's expensive without SACK.
 */
/* #syscalls: getsockopt ioctl */
static void tcp_wnd_update(const struct ctx *c, int ci)
{
	struct tcp_conn *conn = &tc[ci];
	socklen_t sl = sizeof(int);
	int sndbuf, outq;
	uint32_t wnd, limit;

	(void)c;
	if (getsockopt(conn->sock, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) ||
	    ioctl(conn->sock, SIOCOUTQ, &outq))
		return;

	limit = (uint32_t)sndbuf / 4 * 3;
	wnd = (uint32_t)outq < limit ? limit - (uint32_t)outq : 0;
	conn->flags |= CONN_SNDBUF_LTD;

	if (tcp_info_wnd_ok) {
		struct tcp_info ti;

		sl = sizeof(ti);
		if (!getsockopt(conn->sock, IPPROTO_TCP, TCP_INFO, &ti, &sl) &&
		    sl >= offsetof(struct tcp_info, tcpi_snd_wnd) +
			  sizeof(ti.tcpi_snd_wnd) && ti.tcpi_snd_wnd &&
		    ti.tcpi_snd_wnd < wnd) {
			wnd = ti.tcpi_snd_wnd;
			conn->flags &= ~CONN_SNDBUF_LTD;
		}
	}

	conn->wnd_to_tap = MIN(wnd, (uint32_t)65535 << conn->ws_to_tap);
}

/**
 * tcp_wnd_check() - Wait for EPOLLOUT if the advertised window is too small
 * @c:		Execution context
 * @ci:		Connection index
 */
/* #syscalls: poll|ppoll */
static void tcp_wnd_check(const struct ctx *c, int ci)
{
	struct tcp_conn *conn = &tc[ci];

	if ((conn->wnd_to_tap < conn->mss ||
	     (conn->flags & (CONN_DUPACK_WANTED | CONN_SNDBUF_LTD))) &&
	    !(conn->flags & CONN_TAP_FIN_RCVD))
		conn->flags |= CONN_WND_WAIT;
	else
		conn->flags &= ~CONN_WND_WAIT;

	/* The kernel grows the send buffer, and signals EPOLLOUT, only for
	 * sockets that found it full: a write didn't fit, or a poll saw no
	 * room (tcp_poll() sets SOCK_NOSPACE). Poll, then, rather than
	 * inviting the guest to send more than the kernel takes.
	 */
	if ((conn->flags & CONN_WND_WAIT) && (conn->flags & CONN_SNDBUF_LTD)) {
		struct pollfd pfd = { .fd = conn->sock, .events = POLLOUT };

		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT))
			conn->flags &= ~CONN_WND_WAIT;	/* room already */
	}

	tcp_timer_sched(c, ci);
}

/**
 * tcp_wnd_poll() - Room in the host socket again? Send a window update
 * @c:		Execution context
 * @ci:		Connection index
 *
 * If the kernel refused data, the guest still has it in flight beyond our
 * ACK: three duplicate ACKs make it retransmit at once (RFC 5681 3.2)
 * rather than after its retransmission timeout.
 */
static void tcp_wnd_poll(struct ctx *c, int ci)
{
	struct tcp_conn *conn = &tc[ci];
	uint32_t old = conn->wnd_to_tap;
	int i;

	if (!(conn->flags & CONN_WND_WAIT))
		return;

	tcp_wnd_update(c, ci);
	if (conn->wnd_to_tap < conn->mss && conn->wnd_to_tap <= old) {
		tcp_timer_sched(c, ci);
		return;
	}

	tcp_send_ack(c, ci);
	if ((conn->flags & CONN_DUPACK_WANTED) &&
	    conn->wnd_to_tap >= conn->mss) {
		for (i = 0; i < TCP_DUP_ACKS; i++)
			tcp_send_ack(c, ci);
		tcp_stats.dupack_burst++;
		conn->flags &= ~CONN_DUPACK_WANTED;
	}
	tcp_wnd_check(c, ci);
}

/**
 * tcp_send_fin() - Host peer is done and all its data is sent: FIN to guest
 * @c:		Execution context
 * @ci:		Connection index
 */
static void tcp_send_fin(struct ctx *c, int ci)
{
	struct tcp_conn *conn = &tc[ci];

	conn->flags |= CONN_SOCK_EOF | CONN_TAP_FIN_SENT | CONN_FIN_SEQ;
	conn->seq_fin = conn->seq_to_tap;
	tcp_send_flags(c, ci, TH_FIN | TH_ACK, conn->seq_to_tap);
	conn->seq_to_tap++;
	if (SEQ_GT(conn->seq_to_tap, conn->seq_max_to_tap))
		conn->seq_max_to_tap = conn->seq_to_tap;
	tcp_ack_due(c, ci);
}

/**
 * tcp_seg_size() - Bytes of data per frame to the guest, and checksums
 * @conn:	Connection
 * @seg:	Set to the payload of one frame: one MSS, or with the tap's
 *		segmentation offload as many whole MSS as a 64 KiB IP packet
 *		holds (the kernel cuts it into MSS-sized segments)
 * @partial:	Set if checksums are left to the kernel
 */
static void tcp_seg_size(const struct tcp_conn *conn, size_t *seg,
			 int *partial)
{
	unsigned int off = tap_offloads();

	*partial = !!(off & TAP_OFF_CSUM);
	*seg = conn->mss;
	if ((off & TAP_OFF_TSO) && conn->mss < TCP_GSO_PAYLOAD_MAX)
		*seg = (size_t)(TCP_GSO_PAYLOAD_MAX / conn->mss) * conn->mss;
}

/**
 * tcp_data_from_sock() - Send data from the host socket to the guest
 * @c:		Execution context
 * @ci:		Connection index
 *
 * Peek into the payload areas of free frames, as much as the guest's window
 * allows, fill headers, queue frames. Data stays in the socket until the
 * guest acknowledges it.
 */
/* #syscalls: recvmsg */
static void tcp_data_from_sock(struct ctx *c, int ci)
{
	static struct iovec iov[TCP_FRAMES + 1];
	struct tcp_conn *conn = &tc[ci];
	int round, partial;
	size_t seg;

	tcp_seg_size(conn, &seg, &partial);

	for (round = 0; round < TCP_SOCK_ROUNDS; round++) {
		struct msghdr mh = { .msg_iov = iov };
		size_t nf, k, skip = 0, want = 0, got, v = 0;
		uint32_t in_flight, space, flow;
		ssize_t n;

		if ((conn->flags & (CONN_CLOSED | CONN_SYNACK_SENT |
				    CONN_TAP_FIN_SENT)) ||
		    !(conn->flags & CONN_ESTABLISHED))
			return;

		in_flight = conn->seq_to_tap - conn->seq_ack_from_tap;
		if (in_flight >= conn->wnd_from_tap)
			return;		/* wait for the guest's ACK */
		space = conn->wnd_from_tap - in_flight;

		if (tcp_frames_used >= TCP_FRAMES || tcp_q_n >= TCP_QUEUE) {
			uint32_t before = conn->seq_to_tap;

			tcp_flush(c);
			if (conn->seq_to_tap != before)
				return;	/* tap side is full: try later */
		}

		if (!tcp_peek_off_ok) {
			if (in_flight > TCP_DISCARD_MAX)
				return;
			if (in_flight) {
				iov[v].iov_base = tcp_discard;
				iov[v].iov_len = in_flight;
				v++;
				skip = in_flight;
			}
		}

		nf = MIN(DIV_ROUND_UP(space, seg),
			 (size_t)(TCP_FRAMES - tcp_frames_used));
		nf = MIN(nf, (size_t)(TCP_QUEUE - tcp_q_n));
		for (k = 0; k < nf; k++) {
			size_t l = MIN(seg, space - k * seg);

			iov[v].iov_base = tcp_frames[tcp_frames_used + k] +
					  TCP_PAYLOAD_OFF;
			iov[v].iov_len = l;
			want += l;
			v++;
		}
		mh.msg_iovlen = v;

		n = recvmsg(conn->sock, &mh, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			debug("TCP: receive error on socket %i: %s",
			      conn->sock, strerror(errno));
			tcp_rst(c, ci);
			return;
		}

		got = (size_t)n > skip ? (size_t)n - skip : 0;
		if (!got) {
			/* End of stream: recvmsg() returns 0 at the FIN,
			 * also when peeking at an offset
			 */
			if (!n || (conn->flags & CONN_SOCK_EOF))
				tcp_send_fin(c, ci);
			return;
		}

		flow = tcp_flow_label(conn);
		for (k = 0; k * seg < got; k++) {
			size_t l = MIN(seg, got - k * seg);
			uint32_t seq = conn->seq_to_tap + (uint32_t)(k * seg);
			uint8_t *buf = tcp_frames[tcp_frames_used], *start;
			uint16_t gso = l > conn->mss ? conn->mss : 0;
			uint8_t fl = TH_ACK;
			size_t len;

			/* PSH on the last frame: the kernel keeps it on the
			 * last segment of a super-segment only
			 */
			if ((k + 1) * seg >= got)
				fl |= TH_PSH;
			len = tcp_frame_fill(c, conn->af, &conn->raddr,
					     &conn->gaddr, conn->rport,
					     conn->gport, flow,
					     buf + TCP_L4_OFF, seq,
					     conn->seq_from_tap, fl,
					     tcp_wnd_field(conn), 0, l,
					     partial, &start);
			tcp_q_add(start, len, ci, seq, gso, partial);
			tcp_frames_used++;
		}

		conn->seq_to_tap += (uint32_t)got;
		if (SEQ_GT(conn->seq_to_tap, conn->seq_max_to_tap))
			conn->seq_max_to_tap = conn->seq_to_tap;
		tcp_ack_due(c, ci);

		/* Drained, unless we know the peer closed: then peek again,
		 * to see the end of the stream
		 */
		if (got < want && !(conn->flags & CONN_SOCK_EOF))
			return;
	}
}

/**
 * tcp_conn_done() - Close the connection if both sides are done
 * @c:		Execution context
 * @ci:		Connection index
 *
 * Return: 1 if closed
 */
static int tcp_conn_done(const struct ctx *c, int ci)
{
	const uint32_t both = CONN_TAP_FIN_ACKED | CONN_TAP_FIN_RCVD;

	if ((tc[ci].flags & both) == both) {
		tcp_conn_close(c, ci, 0);
		return 1;
	}
	return 0;
}

/**
 * tcp_ack_from_tap() - The guest acknowledged data up to @ack: consume it
 * @c:		Execution context
 * @ci:		Connection index
 * @ack:	New acknowledgement number, after the previous one
 */
/* #syscalls: recvfrom */
static void tcp_ack_from_tap(struct ctx *c, int ci, uint32_t ack)
{
	struct tcp_conn *conn = &tc[ci];
	uint32_t data_end = ack, bytes;

	if ((conn->flags & CONN_FIN_SEQ) && SEQ_GT(ack, conn->seq_fin)) {
		data_end = conn->seq_fin;
		conn->flags |= CONN_TAP_FIN_ACKED;
	}

	bytes = SEQ_GT(data_end, conn->seq_ack_from_tap) ?
		data_end - conn->seq_ack_from_tap : 0;
	if (bytes) {
		/* MSG_TRUNC: discard without copying (tcp(7)) */
		ssize_t n = recv(conn->sock, NULL, bytes,
				 MSG_TRUNC | MSG_DONTWAIT);

		if (n != (ssize_t)bytes)
			debug("TCP: consumed %zi of %u acknowledged bytes",
			      n, bytes);
	}

	conn->seq_ack_from_tap = ack;
	if (SEQ_LT(conn->seq_to_tap, ack))
		conn->seq_to_tap = ack;
	conn->retrans = 0;
	conn->dup_acks = 0;
	conn->ts_ack_ms = tcp_now_ms;

	if (ack == conn->seq_max_to_tap)
		conn->flags &= ~CONN_ACK_DUE;
	(void)c;
}

/**
 * tcp_opts_parse() - Walk options of a SYN: MSS and window scale
 * @p:		Pool with the segment
 * @idx:	Index of the segment
 * @optlen:	Length of options (data offset minus header)
 * @mss:	MSS option value, 0 if absent
 * @ws:		Window scale shift, -1 if absent
 *
 * A bad option length stops the walk: what we found so far counts.
 */
static void tcp_opts_parse(const struct pool *p, size_t idx, size_t optlen,
			   unsigned int *mss, int *ws)
{
	const uint8_t *o;
	size_t off = 0;

	*mss = 0;
	*ws = -1;
	if (!optlen || !(o = packet_get(p, idx, TCP_HDR_LEN, optlen, NULL)))
		return;

	while (off < optlen) {
		uint8_t kind = o[off], len;

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			off++;
			continue;
		}
		if (optlen - off < 2)
			break;
		len = o[off + 1];
		if (len < 2 || len > optlen - off)
			break;

		if (kind == OPT_MSS && len == OPT_MSS_LEN)
			*mss = get_be16(o + off + 2);
		else if (kind == OPT_WS && len == OPT_WS_LEN)
			*ws = MIN(o[off + 2], TCP_WS_MAX);

		off += len;
	}
}

/**
 * tcp_mss_set() - Set the MSS towards the guest from its MSS option
 * @c:		Execution context
 * @conn:	Connection
 * @mss:	Guest's MSS option, 0 if absent
 */
static void tcp_mss_set(const struct ctx *c, struct tcp_conn *conn,
			unsigned int mss)
{
	int mtu = c->mtu ? c->mtu : MTU_MAX;
	unsigned int cap = (unsigned int)mtu - TCP_HDR_LEN -
			   (conn->af == AF_INET ? IP4_HDR_LEN : IP6_HDR_LEN);

	if (!mss)
		mss = TCP_MSS_GUEST_DEFAULT;
	mss = MIN(mss, cap);
	conn->mss = (uint16_t)MAX(mss, TCP_MSS_MIN);
}

/**
 * tcp_sock_opts() - Options for every connected host socket
 * @s:		Socket
 */
/* #syscalls: setsockopt */
static void tcp_sock_opts(int s)
{
	int one = 1, zero = 0;

	setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	/* The guest already decided how to segment: don't delay further */
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tcp_peek_off_ok)
		setsockopt(s, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero));
}

/**
 * tcp_conn_connected() - Host connect() completed: SYN-ACK to the guest
 * @c:		Execution context
 * @ci:		Connection index
 */
static void tcp_conn_connected(struct ctx *c, int ci)
{
	struct tcp_conn *conn = &tc[ci];
	uint32_t isn = conn->seq_to_tap;

	conn->flags &= ~CONN_CONNECTING;
	conn->flags |= CONN_ESTABLISHED | CONN_SYNACK_SENT;
	tcp_wnd_update(c, ci);
	tcp_send_flags(c, ci, TH_SYN | TH_ACK, isn);
	conn->seq_to_tap = isn + 1;
	conn->seq_max_to_tap = isn + 1;
	conn->seq_ack_from_tap = isn + 1;
	tcp_epoll_set(c, ci, tcp_conn_events(conn));
}

/**
 * tcp_conn_from_tap() - Guest SYN for a new connection: connect on the host
 * @c:		Execution context
 * @af:		Address family
 * @saddr:	Guest address
 * @daddr:	Destination address
 * @p:		Pool with the segment
 * @idx:	Index of the segment
 * @hash:	Hash of the 4-tuple
 */
/* #syscalls: socket connect close */
static void tcp_conn_from_tap(struct ctx *c, int af, const void *saddr,
			      const void *daddr, const struct pool *p,
			      size_t idx, uint32_t hash)
{
	const uint8_t *th = packet_get(p, idx, 0, TCP_HDR_LEN, NULL);
	union {
		struct sockaddr_in a4;
		struct sockaddr_in6 a6;
	} sa;
	struct in6_addr g6, r6;
	struct tcp_conn *conn;
	unsigned int mss;
	socklen_t sl;
	int s, ci, ws;

	if (!th)
		return;

	memset(&sa, 0, sizeof(sa));
	if (af == AF_INET) {
		struct in_addr d = *(const struct in_addr *)daddr;

		if (IN4_IS_ADDR_UNSPECIFIED(&d) || IN4_IS_ADDR_BROADCAST(&d) ||
		    IN4_IS_ADDR_MULTICAST(&d))
			goto refuse;
		nat_outbound(c, AF_INET, &d, get_be16(th + 2));
		sa.a4.sin_family = AF_INET;
		sa.a4.sin_addr = d;
		sa.a4.sin_port = htons(get_be16(th + 2));
		sl = sizeof(sa.a4);
	} else {
		struct in6_addr d = *(const struct in6_addr *)daddr;

		if (IN6_IS_ADDR_UNSPECIFIED(&d) || IN6_IS_ADDR_MULTICAST(&d))
			goto refuse;
		nat_outbound(c, AF_INET6, &d, get_be16(th + 2));
		sa.a6.sin6_family = AF_INET6;
		sa.a6.sin6_addr = d;
		sa.a6.sin6_port = htons(get_be16(th + 2));
		if (IN6_IS_ADDR_LINKLOCAL(&d))
			sa.a6.sin6_scope_id = c->ifi6;
		sl = sizeof(sa.a6);
	}

	if (tcp_table_full())
		goto refuse;

	s = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		warn_ratelimit("TCP: can't open socket: %s", strerror(errno));
		goto refuse;
	}
	if (s > FD_REF_MAX) {
		close(s);
		goto refuse;
	}
	tcp_sock_opts(s);

	/* -o, --outbound-if4/6, except towards the host's own loopback (the
	 * gateway mapped to it): a source or device there can't reach it
	 */
	if (af == AF_INET ? (ntohl(sa.a4.sin_addr.s_addr) >> 24) != 127 :
			    !IN6_IS_ADDR_LOOPBACK(&sa.a6.sin6_addr)) {
		int ret = sock_bind_outbound(c, s, af, 0);

		if (ret) {
			warn_ratelimit("TCP: can't bind outbound socket: %s",
				       strerror(-ret));
			close(s);
			goto refuse;
		}
	}

	if (connect(s, (struct sockaddr *)&sa, sl) && errno != EINPROGRESS) {
		trace("TCP: connect failed at once: %s", strerror(errno));
		close(s);
		goto refuse;
	}

	tcp_addr6(af, saddr, &g6);
	tcp_addr6(af, daddr, &r6);
	ci = tcp_conn_new(af, &g6, get_be16(th), &r6, get_be16(th + 2), hash,
			  s);
	if (ci < 0) {
		close(s);
		goto refuse;
	}
	conn = &tc[ci];

	tcp_opts_parse(p, idx, (size_t)(th[12] >> 4) * 4 - TCP_HDR_LEN,
		       &mss, &ws);
	tcp_mss_set(c, conn, mss);
	if (ws >= 0) {
		conn->ws_from_tap = (uint8_t)ws;
		conn->ws_to_tap = TCP_WS_OURS;
	}
	conn->seq_from_tap = get_be32(th + 4) + 1;
	conn->wnd_from_tap = get_be16(th + 14);	/* RFC 7323 2.2: unscaled */
	conn->seq_to_tap = tcp_isn(conn);
	conn->flags = CONN_CONNECTING;
	conn->events = EPOLLOUT;

	if (epoll_add(c->epollfd, EPOLLOUT,
		      tcp_epoll_ref(EPOLL_TYPE_TCP, s, ci))) {
		tcp_send_flags(c, ci, TH_RST | TH_ACK, 0);
		tcp_conn_close(c, ci, 1);
		return;
	}
	return;

refuse:
	/* RFC 9293 3.10.7.1: RST, ACK of the SYN: ECONNREFUSED in the guest */
	tcp_rst_reply(c, af, saddr, daddr, th, 0);
}

/**
 * tcp_synack_from_tap() - Guest answered our SYN (inbound connection)
 * @c:		Execution context
 * @ci:		Connection index
 * @p:		Pool with the segment
 * @idx:	Index of the segment
 * @th:		TCP header
 */
static void tcp_synack_from_tap(struct ctx *c, int ci, const struct pool *p,
				size_t idx, const uint8_t *th)
{
	struct tcp_conn *conn = &tc[ci];
	uint8_t flags = th[13];
	unsigned int mss;
	int ws;

	if (flags & TH_RST) {
		/* Guest refused: the host peer sees a reset too */
		tcp_conn_close(c, ci, 1);
		return;
	}

	if ((flags & (TH_SYN | TH_ACK)) != (TH_SYN | TH_ACK) ||
	    get_be32(th + 8) != conn->seq_to_tap)
		return;		/* RFC 9293 3.10.7.3: not for us, drop */

	tcp_opts_parse(p, idx, (size_t)(th[12] >> 4) * 4 - TCP_HDR_LEN,
		       &mss, &ws);
	tcp_mss_set(c, conn, mss);
	if (ws >= 0) {
		conn->ws_from_tap = (uint8_t)ws;
		conn->ws_to_tap = TCP_WS_OURS;
	} else {
		conn->ws_from_tap = conn->ws_to_tap = 0;
	}

	conn->seq_from_tap = get_be32(th + 4) + 1;
	conn->seq_ack_from_tap = conn->seq_to_tap;
	conn->seq_max_to_tap = conn->seq_to_tap;
	conn->wnd_from_tap = get_be16(th + 14);	/* SYN: unscaled */
	conn->flags &= ~(CONN_SYN_SENT | CONN_ACK_DUE);
	conn->flags |= CONN_ESTABLISHED;
	conn->retrans = 0;

	tcp_wnd_update(c, ci);
	tcp_send_ack(c, ci);
	tcp_wnd_check(c, ci);
	tcp_data_from_sock(c, ci);
}

/**
 * tcp_hdr_get() - Bounds-checked TCP header of a segment from the guest
 * @p:		Pool of segments (TCP header and payload each)
 * @i:		Index of the segment
 * @hlen:	Header length including options, set on success
 * @plen:	Payload length, set on success
 *
 * Return: the header, NULL if truncated or if the data offset is invalid
 */
static const uint8_t *tcp_hdr_get(const struct pool *p, size_t i,
				  size_t *hlen, size_t *plen)
{
	const uint8_t *th;
	size_t left;

	th = packet_get(p, i, 0, TCP_HDR_LEN, &left);
	if (!th)
		return NULL;

	*hlen = (size_t)(th[12] >> 4) * 4;	/* RFC 9293 3.1: data offset */
	if (*hlen < TCP_HDR_LEN || *hlen - TCP_HDR_LEN > left)
		return NULL;

	*plen = left - (*hlen - TCP_HDR_LEN);
	return th;
}

/**
 * tcp_segs_from_tap() - Segments from the guest on a synchronised
 *			 connection: ACKs, data, FIN, RST
 * @c:		Execution context
 * @ci:		Connection index
 * @p:		Pool of segments, all of this connection
 * @idx:	First segment to handle
 *
 * Return: number of segments handled
 */
/* #syscalls: sendmsg shutdown */
static int tcp_segs_from_tap(struct ctx *c, int ci, const struct pool *p,
			     size_t idx)
{
	static struct iovec iov[TCP_IOV_MAX];
	struct tcp_conn *conn = &tc[ci];
	uint32_t expect = conn->seq_from_tap, max_ack = conn->seq_ack_from_tap;
	int ack_seen = 0, fin = 0, need_ack = 0, rst = 0, syn_retx = 0;
	unsigned int dups = 0, wnd_raw = 0;
	size_t i, n_iov = 0, total = 0, written = 0;
	struct msghdr mh = { .msg_iov = iov };

	for (i = idx; i < p->count && n_iov < TCP_IOV_MAX; i++) {
		const uint8_t *th;
		size_t hlen, plen;
		uint32_t seq, ack;
		uint8_t flags;

		th = tcp_hdr_get(p, i, &hlen, &plen);
		if (!th)
			goto bad;
		flags = th[13];
		seq = get_be32(th + 4);
		ack = get_be32(th + 8);

		if (flags & TH_RST) {
			/* RFC 5961 3.2 would want SEQ exactly RCV.NXT; the
			 * guest is only able to reset its own connections
			 */
			rst = 1;
			i++;
			break;
		}

		if (flags & TH_SYN) {
			if ((conn->flags & CONN_SYNACK_SENT) &&
			    !(flags & TH_ACK) && seq + 1 == conn->seq_from_tap)
				syn_retx = 1;	/* our SYN-ACK got lost */
			else
				need_ack = 1;	/* RFC 5961 4.2: challenge */
			continue;
		}

		if (!(flags & TH_ACK))
			continue;	/* RFC 9293 3.10.7.4: drop */

		if (SEQ_GT(ack, max_ack) && SEQ_LE(ack, conn->seq_max_to_tap))
			max_ack = ack;
		else if (ack == conn->seq_ack_from_tap && !plen &&
			 !(flags & TH_FIN) &&
			 conn->seq_max_to_tap != conn->seq_ack_from_tap &&
			 ((uint32_t)get_be16(th + 14) << conn->ws_from_tap) ==
			 conn->wnd_from_tap)
			dups++;		/* RFC 5681 2: duplicate ACK */
		wnd_raw = get_be16(th + 14);
		ack_seen = 1;

		/* RFC 9293 3.10.7.4: unacceptable segment (zero window probe,
		 * say): answer with an ACK
		 */
		if (!plen && !(flags & TH_FIN) && seq != expect)
			need_ack = 1;

		if (plen) {
			const uint8_t *data = packet_get(p, i, hlen, plen,
							 NULL);

			if (!data)
				goto bad;

			if (SEQ_LE(seq + (uint32_t)plen, expect)) {
				need_ack = 1;	/* duplicate */
				tcp_stats.dupseg++;
			} else if (SEQ_GT(seq, expect)) {
				need_ack = 1;	/* out of order: dup ACK */
				tcp_stats.ooo++;
			} else {
				uint32_t off = expect - seq;

				iov[n_iov].iov_base = (void *)(uintptr_t)
						      (data + off);
				iov[n_iov].iov_len = plen - off;
				n_iov++;
				total += plen - off;
				expect += (uint32_t)(plen - off);
			}
		}

		if (flags & TH_FIN) {
			if (seq + (uint32_t)plen == expect &&
			    !(conn->flags & CONN_TAP_FIN_RCVD))
				fin = 1;
			else
				need_ack = 1;	/* retransmitted FIN */
		}
		continue;
bad:
		tcp_stats.bad_seg++;
		warn_ratelimit("TCP: malformed segment from guest dropped "
			       "(%lu so far)", tcp_stats.bad_seg);
	}

	conn->ts_active = tcp_now_s;

	if (ack_seen) {
		uint32_t wnd = MIN(wnd_raw << conn->ws_from_tap,
				   TCP_WND_GUEST_MAX);

		if ((conn->flags & CONN_SYNACK_SENT) &&
		    SEQ_GE(max_ack, conn->seq_ack_from_tap))
			conn->flags &= ~CONN_SYNACK_SENT;

		if (SEQ_GT(max_ack, conn->seq_ack_from_tap)) {
			tcp_ack_from_tap(c, ci, max_ack);
		} else if (dups) {
			conn->dup_acks = (uint8_t)MIN(conn->dup_acks + dups,
						      255U);
			if (conn->dup_acks >= TCP_DUP_ACKS) {
				/* RFC 5681 3.2: fast retransmit */
				tcp_stats.fast_retrans++;
				conn->dup_acks = 0;
				tcp_rewind(ci, conn->seq_ack_from_tap);
			}
		}
		conn->wnd_from_tap = wnd;
	}

	if (n_iov && !(conn->flags & CONN_TAP_FIN_RCVD)) {
		ssize_t n;

		mh.msg_iovlen = n_iov;
		n = sendmsg(conn->sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				debug("TCP: send error on socket %i: %s",
				      conn->sock, strerror(errno));
				tcp_rst(c, ci);
				return (int)(i - idx);
			}
			n = 0;
		}
		written = (size_t)n;
		conn->seq_from_tap += (uint32_t)written;
		need_ack = 1;
		if (written < total) {
			conn->flags |= CONN_DUPACK_WANTED;
			tcp_stats.partial++;
		}
	}

	if (fin && written == total) {
		shutdown(conn->sock, SHUT_WR);
		conn->seq_from_tap++;
		conn->flags |= CONN_TAP_FIN_RCVD;
		need_ack = 1;
	}

	if (rst) {
		tcp_conn_close(c, ci, 1);
		return (int)(i - idx);
	}

	if (n_iov || fin)
		tcp_wnd_update(c, ci);

	if (syn_retx) {
		uint32_t isn = conn->seq_ack_from_tap - 1;

		tcp_send_flags(c, ci, TH_SYN | TH_ACK, isn);
	} else if (need_ack) {
		tcp_send_ack(c, ci);
	}

	if (tcp_conn_done(c, ci))
		return (int)(i - idx);

	if (n_iov || fin)
		tcp_wnd_check(c, ci);

	tcp_data_from_sock(c, ci);

	return (int)(i - idx);
}

/**
 * tcp_tap_handler() - Segments of one flow from the guest
 * @c:		Execution context
 * @af:		Address family
 * @saddr:	Source address (guest)
 * @daddr:	Destination address
 * @p:		Pool of L4 segments, all with these addresses and ports
 * @idx:	First segment to handle
 * @now:	Current timestamp
 *
 * Return: number of segments handled, at least one
 */
int tcp_tap_handler(struct ctx *c, int af, const void *saddr,
		    const void *daddr, const struct pool *p, size_t idx,
		    const struct timespec *now)
{
	struct in6_addr g6, r6;
	const uint8_t *th;
	size_t hlen, plen;
	uint16_t gport, rport;
	uint32_t hash;
	uint8_t flags;
	int ci, n;

	tcp_clock(now);

	th = tcp_hdr_get(p, idx, &hlen, &plen);
	if (!th)
		goto bad;
	flags = th[13];
	gport = get_be16(th);
	rport = get_be16(th + 2);
	if (!gport || !rport)
		goto bad;

	tcp_addr6(af, saddr, &g6);
	tcp_addr6(af, daddr, &r6);
	ci = tcp_conn_lookup(af, &g6, gport, &r6, rport, &hash);

	if (ci < 0) {
		if ((flags & (TH_SYN | TH_ACK | TH_RST | TH_FIN)) == TH_SYN)
			tcp_conn_from_tap(c, af, saddr, daddr, p, idx, hash);
		else if (!(flags & TH_RST))
			tcp_rst_reply(c, af, saddr, daddr, th, plen);
		return 1;
	}

	tc[ci].ts_active = tcp_now_s;

	if (tc[ci].flags & CONN_CONNECTING) {
		/* Retransmitted SYNs wait for connect(); RST aborts it */
		if (flags & TH_RST)
			tcp_conn_close(c, ci, 1);
		return 1;
	}

	if (tc[ci].flags & CONN_SYN_SENT) {
		tcp_synack_from_tap(c, ci, p, idx, th);
		return 1;
	}

	n = tcp_segs_from_tap(c, ci, p, idx);
	return MAX(n, 1);

bad:
	tcp_stats.bad_seg++;
	warn_ratelimit("TCP: malformed segment from guest dropped (%lu so far)",
		       tcp_stats.bad_seg);
	return 1;
}

/**
 * tcp_conn_of_ref() - Connection an epoll event is for, if it's still open
 * @ref:	epoll reference: connection index in @data
 * @timer:	The event is for the connection's timerfd, not its socket
 *
 * Events of a closed connection, or for a descriptor number the entry no
 * longer holds, are stale and ignored.
 *
 * Return: index of the connection, -1 if the event is stale
 */
static int tcp_conn_of_ref(union epoll_ref ref, int timer)
{
	int ci = (int)ref.data;

	if (ci < 0 || ci >= tcp_conn_count || (tc[ci].flags & CONN_CLOSED) ||
	    (timer ? tc[ci].timer : tc[ci].sock) != ref.fd)
		return -1;

	return ci;
}

/**
 * tcp_sock_handler() - Events on a connected host socket
 * @c:		Execution context
 * @ref:	epoll reference: connection index in @data
 * @events:	epoll events
 * @now:	Current timestamp
 */
/* #syscalls: getsockopt */
void tcp_sock_handler(struct ctx *c, union epoll_ref ref, uint32_t events,
		      const struct timespec *now)
{
	int ci = tcp_conn_of_ref(ref, 0);
	struct tcp_conn *conn;

	if (ci < 0)
		return;
	conn = &tc[ci];

	tcp_clock(now);
	conn->ts_active = tcp_now_s;

	if (conn->flags & CONN_CONNECTING) {
		socklen_t sl = sizeof(int);
		int err = 0;

		if (getsockopt(conn->sock, SOL_SOCKET, SO_ERROR, &err, &sl))
			err = errno;
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			/* ECONNREFUSED, EHOSTUNREACH...: reset the guest */
			trace("TCP: connect failed: %s", strerror(err));
			tcp_rst(c, ci);
			return;
		}
		if (events & EPOLLOUT)
			tcp_conn_connected(c, ci);
		return;
	}

	if (events & EPOLLERR) {
		socklen_t sl = sizeof(int);
		int err = 0;

		getsockopt(conn->sock, SOL_SOCKET, SO_ERROR, &err, &sl);
		trace("TCP: socket error: %s", strerror(err));
		tcp_rst(c, ci);
		return;
	}

	if (events & (EPOLLRDHUP | EPOLLHUP))
		conn->flags |= CONN_SOCK_EOF;

	if (conn->flags & CONN_SYN_SENT)
		return;		/* data waits for the guest's SYN-ACK */

	if (events & EPOLLOUT)
		tcp_wnd_poll(c, ci);

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
		tcp_data_from_sock(c, ci);
}

/**
 * tcp_conn_from_sock() - Accepted connection: open it towards the guest
 * @c:		Execution context
 * @port:	Port the listening socket is bound to
 * @s:		Accepted socket
 * @sa:		Peer address
 */
/* #syscalls: setsockopt close */
static void tcp_conn_from_sock(struct ctx *c, unsigned int port, int s,
			       const struct sockaddr_storage *sa)
{
	const struct fwd_to *to = fwd_target_addr(&c->tcp_fwd_in, port);
	struct in6_addr g6, r6;
	struct tcp_conn *conn;
	uint16_t rport, gport = (uint16_t)fwd_target(&c->tcp_fwd_in, port);
	uint32_t hash;
	int af = sa->ss_family, ci;

	if (c->splice_only)	/* no tap device: nobody to forward to */
		goto refuse;

	if (to && to->af != af)	/* listeners are of the target's version */
		goto refuse;

	if (af == AF_INET && c->ifi4) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
		struct in_addr r = a4->sin_addr, g = c->ip4.addr_seen;

		nat_inbound(c, AF_INET, &r);
		if (IN4_IS_ADDR_UNSPECIFIED(&g))
			g = c->ip4.addr;
		if (to)		/* "PORT:toaddr" */
			g = to->a4;
		tcp_addr6(AF_INET, &r, &r6);
		tcp_addr6(AF_INET, &g, &g6);
		rport = ntohs(a4->sin_port);
	} else if (af == AF_INET6 && c->ifi6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;

		r6 = a6->sin6_addr;
		nat_inbound(c, AF_INET6, &r6);
		g6 = *tap_ip6_daddr(c, &r6);
		if (IN6_IS_ADDR_UNSPECIFIED(&g6))
			g6 = c->ip6.addr;
		if (to)
			g6 = to->a6;
		rport = ntohs(a6->sin6_port);
	} else {
		goto refuse;
	}

	if (s > FD_REF_MAX ||
	    tcp_conn_lookup(af, &g6, gport, &r6, rport, &hash) >= 0)
		goto refuse;

	ci = tcp_conn_new(af, &g6, gport, &r6, rport, hash, s);
	if (ci < 0)
		goto refuse;
	conn = &tc[ci];

	tcp_sock_opts(s);
	conn->flags = CONN_SYN_SENT;
	conn->events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	if (epoll_add(c->epollfd, conn->events,
		      tcp_epoll_ref(EPOLL_TYPE_TCP, s, ci))) {
		tcp_conn_close(c, ci, 1);
		return;
	}

	tcp_mss_set(c, conn, 0);
	conn->seq_to_tap = tcp_isn(conn);
	tcp_wnd_update(c, ci);
	tcp_send_flags(c, ci, TH_SYN, conn->seq_to_tap);
	conn->seq_to_tap++;
	conn->seq_max_to_tap = conn->seq_to_tap;
	conn->seq_ack_from_tap = conn->seq_to_tap - 1;
	tcp_ack_due(c, ci);
	return;

refuse:
	{
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(s);
	}
}

/* A descriptor kept in reserve: at the descriptor limit, it makes room to
 * accept a pending connection only to refuse it, -1 while in use
 */
static int tcp_spare_fd = -1;
static int tcp_spare_src = -1;	/* what we duplicate: the epoll descriptor */
static int tcp_fd_refused;	/* connections refused in this episode */

/**
 * tcp_spare_open() - Take the reserve descriptor, if it's not held
 */
/* #syscalls: fcntl */
static void tcp_spare_open(void)
{
	if (tcp_spare_fd < 0 && tcp_spare_src >= 0)
		tcp_spare_fd = fcntl(tcp_spare_src, F_DUPFD_CLOEXEC, 0);
}

/**
 * tcp_accept_refuse() - At the descriptor limit: reset pending connections
 * @lfd:	Listening socket whose accept() failed with EMFILE or ENFILE
 *
 * A client must see a refusal, never silence; and a listener we leave
 * readable would wake us up again at once, forever. So: release the spare
 * descriptor, accept one connection with it, reset it (SO_LINGER 0), and
 * take the spare again, for every connection pending. Logged once per
 * episode: the next connection we accept ends it.
 */
/* #syscalls: close accept4 setsockopt */
static void tcp_accept_refuse(int lfd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	int i, s;

	if (!tcp_fd_refused)
		warn("TCP: descriptor limit reached, refusing new connections");

	for (i = 0; i < TCP_ACCEPT_ROUNDS && tcp_spare_fd >= 0; i++) {
		close(tcp_spare_fd);
		tcp_spare_fd = -1;

		s = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s >= 0) {
			setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			close(s);
			tcp_fd_refused++;
		}
		tcp_spare_open();
		if (s < 0)
			break;
	}
}

/**
 * tcp_listen_handler() - New connections on a listening socket
 * @c:		Execution context
 * @ref:	epoll reference: port in @data, TCP_LISTEN_NS flag for pasta's
 *		sockets in the namespace (tcp_splice.c)
 * @now:	Current timestamp
 */
/* #syscalls: accept4 */
void tcp_listen_handler(struct ctx *c, union epoll_ref ref,
			const struct timespec *now)
{
	int i;

	tcp_clock(now);

	for (i = 0; i < TCP_ACCEPT_ROUNDS; i++) {
		struct sockaddr_storage sa = { .ss_family = AF_UNSPEC };
		socklen_t sl = sizeof(sa);
		int s;

		s = accept4(ref.fd, (struct sockaddr *)&sa, &sl,
			    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s < 0) {
			if (errno == EMFILE || errno == ENFILE)
				tcp_accept_refuse(ref.fd);
			return;
		}

		if (tcp_fd_refused) {
			info("TCP: accepting connections again, %i refused",
			     tcp_fd_refused);
			tcp_fd_refused = 0;
		}

		/* pasta: loopback peers, and -T sockets, bypass the tap */
		if (tcp_splice_conn_from_sock(c, ref.data, s, &sa))
			continue;

		tcp_conn_from_sock(c, ref.data, s, &sa);
	}
}

/**
 * tcp_retrans_check() - Retransmit if the guest's ACK is overdue
 * @c:		Execution context
 * @ci:		Connection index
 */
static void tcp_retrans_check(struct ctx *c, int ci)
{
	struct tcp_conn *conn = &tc[ci];
	uint32_t rto = (uint32_t)TCP_RTO_INIT_MS << conn->retrans;
	uint32_t elapsed = tcp_now_ms - conn->ts_ack_ms;

	if (!(conn->flags & CONN_ACK_DUE))
		return;

	if (elapsed < rto) {
		tcp_timer_sched(c, ci);
		return;
	}

	if (conn->retrans >= TCP_RETRANS_MAX) {
		debug("TCP: guest not acknowledging, resetting connection");
		tcp_rst(c, ci);
		return;
	}

	conn->retrans++;
	tcp_stats.retrans++;
	conn->ts_ack_ms = tcp_now_ms;

	if (conn->flags & CONN_SYN_SENT) {
		tcp_send_flags(c, ci, TH_SYN, conn->seq_to_tap - 1);
	} else {
		tcp_rewind(ci, conn->seq_ack_from_tap);
		/* Zero window: the first segment is our window probe
		 * (RFC 9293 3.8.6.1)
		 */
		if (!conn->wnd_from_tap)
			conn->wnd_from_tap = 1;
		tcp_data_from_sock(c, ci);
	}

	tcp_timer_sched(c, ci);
}

/**
 * tcp_timer_handler() - A connection's timer expired
 * @c:		Execution context
 * @ref:	epoll reference: connection index in @data
 */
/* #syscalls: read */
void tcp_timer_handler(struct ctx *c, union epoll_ref ref)
{
	int ci = tcp_conn_of_ref(ref, 1);
	uint64_t expirations;
	struct tcp_conn *conn;

	if (ci < 0)
		return;
	conn = &tc[ci];

	if (read(conn->timer, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		debug("TCP: timerfd read: %s", strerror(errno));

	tcp_clock_read();
	conn->flags &= ~CONN_TIMER_ARMED;
	tcp_retrans_check(c, ci);
	if (!(conn->flags & CONN_CLOSED)) {
		tcp_wnd_poll(c, ci);
		tcp_timer_sched(c, ci);
	}
}

/**
 * tcp_conn_move() - Move connection @from to free entry @to
 * @c:		Execution context
 * @from:	Source index (the last entry)
 * @to:		Destination index
 */
static void tcp_conn_move(const struct ctx *c, int from, int to)
{
	struct tcp_conn *conn;
	int s = tcp_hash_find(from);

	tc[to] = tc[from];
	conn = &tc[to];
	if (conn->flags & CONN_CLOSED)
		return;

	if (s >= 0)
		tcp_hash[s] = to;

	/* epoll references carry the index: update them. Modifying also
	 * re-reports pending events with the new reference
	 */
	epoll_mod(c->epollfd, conn->events,
		  tcp_epoll_ref(EPOLL_TYPE_TCP, conn->sock, to));
	if (conn->timer >= 0)
		epoll_mod(c->epollfd, EPOLLIN,
			  tcp_epoll_ref(EPOLL_TYPE_TCP_TIMER, conn->timer, to));
}

/**
 * tcp_defer_handler() - After a round of events: send queued frames,
 *			 recycle closed entries
 * @c:		Execution context
 */
void tcp_defer_handler(struct ctx *c)
{
	int i;

	tcp_flush(c);

	if (!tcp_closed_count)
		return;

	for (i = 0; i < tcp_conn_count; ) {
		int last;

		if (!(tc[i].flags & CONN_CLOSED)) {
			i++;
			continue;
		}

		last = --tcp_conn_count;
		if (i != last)
			tcp_conn_move(c, last, i);
	}
	tcp_closed_count = 0;
}

/**
 * tcp_tap_reset() - The guest went away: reset all its connections
 * @c:		Execution context
 *
 * The connections lived in the guest's kernel: a new guest (or the same
 * one, rebooted) knows nothing of them. Host peers see a reset now, rather
 * than after the retransmission timeouts, and no socket is left behind.
 */
void tcp_tap_reset(struct ctx *c)
{
	int ci;

	for (ci = 0; ci < tcp_conn_count; ci++)
		tcp_conn_close(c, ci, 1);

	tcp_defer_handler(c);
}

/**
 * tcp_timer() - Periodic scan: state timeouts
 * @c:		Execution context
 * @now:	Current timestamp
 */
void tcp_timer(struct ctx *c, const struct timespec *now)
{
	int ci;

	tcp_clock(now);

	if (memcmp(&tcp_stats, &tcp_stats_logged, sizeof(tcp_stats))) {
		tcp_stats_logged = tcp_stats;
		debug("TCP: %i connections; %lu bad, %lu table full, "
		      "%lu RST sent, %lu timeouts, %lu fast retransmissions, "
		      "%lu partial writes, %lu out of order, %lu duplicates, "
		      "%lu dup ACK bursts, %lu frames not sent",
		      tcp_conn_count, tcp_stats.bad_seg, tcp_stats.table_full,
		      tcp_stats.rst_sent, tcp_stats.retrans,
		      tcp_stats.fast_retrans, tcp_stats.partial, tcp_stats.ooo,
		      tcp_stats.dupseg, tcp_stats.dupack_burst,
		      tcp_stats.tap_short);
	}

	for (ci = 0; ci < tcp_conn_count; ci++) {
		struct tcp_conn *conn = &tc[ci];
		uint32_t age = tcp_now_s - conn->ts_active;

		if (conn->flags & CONN_CLOSED)
			continue;

		/* Handshakes the guest doesn't finish (a SYN-ACK never
		 * acknowledged, garbage from a hostile guest) go in time too
		 */
		if (conn->flags & (CONN_CONNECTING | CONN_SYN_SENT |
				   CONN_SYNACK_SENT)) {
			if (age >= TCP_SYN_TIMEOUT) {
				debug("TCP: handshake timeout");
				tcp_rst(c, ci);
			}
			continue;
		}

		if (conn->flags & (CONN_SOCK_EOF | CONN_TAP_FIN_SENT |
				   CONN_TAP_FIN_RCVD)) {
			if (age >= TCP_FIN_TIMEOUT) {
				debug("TCP: timeout in half-closed state");
				tcp_rst(c, ci);
				continue;
			}
		} else if (age >= TCP_IDLE_TIMEOUT) {
			debug("TCP: idle connection timeout");
			tcp_rst(c, ci);
			continue;
		}

		/* No timerfd (descriptors exhausted): retransmit from here */
		if (conn->timer < 0)
			tcp_retrans_check(c, ci);
	}
}

/**
 * tcp_listen_one() - Bind and listen on one port and address
 * @c:		Execution context
 * @af:		Address family
 * @addr:	Address to bind to (struct in_addr or in6_addr), NULL: any
 * @port:	Port
 *
 * Return: 0 on success, -errno on failure
 */
static int tcp_listen_one(const struct ctx *c, int af, const void *addr,
			  const char *ifname, unsigned int port)
{
	union epoll_ref ref = { .type = EPOLL_TYPE_TCP_LISTEN,
				.data = port };
	union {
		struct sockaddr_in a4;
		struct sockaddr_in6 a6;
	} sa;
	int s, one = 1, ret;
	socklen_t sl;

	memset(&sa, 0, sizeof(sa));
	if (af == AF_INET) {
		sa.a4.sin_family = AF_INET;
		sa.a4.sin_port = htons((uint16_t)port);
		if (addr)
			memcpy(&sa.a4.sin_addr, addr, sizeof(struct in_addr));
		sl = sizeof(sa.a4);
	} else {
		sa.a6.sin6_family = AF_INET6;
		sa.a6.sin6_port = htons((uint16_t)port);
		if (addr)
			memcpy(&sa.a6.sin6_addr, addr, sizeof(struct in6_addr));
		if (IN6_IS_ADDR_LINKLOCAL(&sa.a6.sin6_addr))
			sa.a6.sin6_scope_id = ifname && *ifname ?
					      if_nametoindex(ifname) : c->ifi6;
		sl = sizeof(sa.a6);
	}

	s = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (s > FD_REF_MAX) {
		close(s);
		return -EMFILE;
	}

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (af == AF_INET6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (c->freebind)
		sock_freebind(s, af);

	if ((ifname && *ifname && sock_bind_dev(s, ifname)) ||
	    bind(s, (struct sockaddr *)&sa, sl) || listen(s, SOMAXCONN)) {
		ret = -errno;
		close(s);
		return ret;
	}

	ref.fd = s;
	ret = epoll_add(c->epollfd, EPOLLIN, ref);
	if (ret) {
		close(s);
		return ret;
	}

	return 0;
}

/**
 * tcp_listen_init() - Listening sockets for the inbound forwarding table
 * @c:		Execution context
 *
 * Failures on best-effort ports ("all", exclusions only) are silent, but a
 * table that couldn't bind a single port is a setup error.
 */
static void tcp_listen_init(const struct ctx *c)
{
	const struct fwd_ports *fwd = &c->tcp_fwd_in;
	unsigned int port, bound = 0, wanted = 0, budget_out = 0, held = 0;
	int err = 0, held_err = 0;

	/* pasta's "auto" mode belongs to the splice path, not here */
	if (fwd->mode != FWD_SPEC)
		return;

	for (port = 1; port < NUM_PORTS; port++) {
		const struct fwd_addr *a = fwd_bind_addr(fwd, port);
		const char *ifname = a ? a->ifname : NULL;
		int v, ret = 0, ok = 0;

		if (!bitmap_isset(fwd->map, port))
			continue;
		wanted++;

		for (v = 0; v < 2; v++) {
			int af = v ? AF_INET6 : AF_INET, r;
			const void *addr = NULL;

			if (!(v ? c->ifi6 : c->ifi4) ||
			    !fwd_port_af(fwd, port, af))
				continue;

			if (fwd_port_quiet(fwd, port) && fd_budget_take()) {
				if (!budget_out++)
					warn("TCP: descriptor budget for 'all' "
					     "used up, ports from %u on not "
					     "forwarded", port);
				continue;
			}
			if (a && a->af)
				addr = v ? (const void *)&a->a6 :
					   (const void *)&a->a4;

			r = tcp_listen_one(c, af, addr, ifname, port);
			if (r && fwd_port_quiet(fwd, port))
				fd_budget_return();
			if (r)
				ret = r;
			else
				ok = 1;
		}

		if (ok)
			bound++;
		else if (ret)
			err = ret;

		if (!ret || fwd_port_quiet(fwd, port))
			continue;

		/* Held until something binds: if nothing does, one line */
		if (!bound && !held) {
			held = port;
			held_err = ret;
		} else {
			warn("Can't bind TCP port %u for -t/--tcp-ports: %s",
			     port, strerror(-ret));
		}
	}

	if (wanted && !bound) {
		if (wanted == 1 && held)
			die("Can't bind TCP port %u for -t/--tcp-ports: %s",
			    held, strerror(-held_err));
		die("Can't bind any TCP port for -t/--tcp-ports: %s",
		    strerror(err ? -err : EADDRNOTAVAIL));
	}
	if (held)
		warn("Can't bind TCP port %u for -t/--tcp-ports: %s", held,
		     strerror(-held_err));
	debug("TCP: listening on %u of %u forwarded ports", bound, wanted);
}

/**
 * tcp_probe_features() - Find out what the kernel offers: SO_PEEK_OFF on
 *			  TCP sockets, tcpi_snd_wnd in TCP_INFO
 */
static void tcp_probe_features(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), zero = 0;
	struct tcp_info ti;
	socklen_t sl = sizeof(ti);

	if (s < 0) {
		warn("TCP: can't probe kernel features: %s", strerror(errno));
		return;
	}

	tcp_peek_off_ok = !setsockopt(s, SOL_SOCKET, SO_PEEK_OFF,
				      &zero, sizeof(zero));

	if (!getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &sl) &&
	    sl >= offsetof(struct tcp_info, tcpi_snd_wnd) +
		  sizeof(ti.tcpi_snd_wnd))
		tcp_info_wnd_ok = 1;

	close(s);

	debug("TCP: SO_PEEK_OFF %ssupported, TCP_INFO snd_wnd %ssupported",
	      tcp_peek_off_ok ? "" : "not ", tcp_info_wnd_ok ? "" : "not ");
}

/**
 * tcp_init() - Secrets, hash table, kernel features, listening sockets
 * @c:		Execution context
 */
void tcp_init(struct ctx *c)
{
	raw_random(tcp_hash_secret, sizeof(tcp_hash_secret));
	raw_random(tcp_isn_secret, sizeof(tcp_isn_secret));
	memset(tcp_hash, 0xff, sizeof(tcp_hash));
	tcp_clock_read();

	tcp_probe_features();
	tcp_listen_init(c);
	tcp_spare_src = c->epollfd;
	tcp_spare_open();
}

/**
 * tcp_addr_gone() - Reset connections whose socket uses a vanished address
 * @c:		Execution context
 * @af:		AF_INET or AF_INET6
 * @addr:	Host address that went away (struct in_addr or in6_addr)
 *
 * Nothing would ever answer them: the guest learns at once, instead of
 * after its retransmission timeout (follow.c).
 */
void tcp_addr_gone(struct ctx *c, int af, const void *addr)
{
	int ci;

	for (ci = 0; ci < tcp_conn_count; ci++) {
		struct tcp_conn *conn = &tc[ci];

		if ((conn->flags & CONN_CLOSED) || conn->sock < 0 ||
		    !sock_local_is(conn->sock, af, addr))
			continue;

		debug("TCP: connection %i was on a vanished address, reset",
		      ci);
		tcp_rst(c, ci);
	}
}
