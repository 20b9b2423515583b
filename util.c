// SPDX-License-Identifier: AGPL-3.0-or-later

/* util.c - Helpers shared by all modules
 *
 * Theory of operation: small, stateless helpers. The one subtle piece is
 * ns_call(): pasta's main process stays in the init network namespace (its
 * L4 sockets live there), so work that must happen inside the target
 * namespace (opening the tap device, a netlink socket) runs in a clone()
 * child sharing our memory and file descriptor table: the child joins the
 * namespace, creates the descriptor, and exits; the descriptor stays valid
 * for us. The child's stack is a static buffer: no allocation.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "util.h"
#include "log.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND		78	/* linux/in6.h, Linux 4.15: not in glibc */
#endif

#define NS_CALL_STACK_SIZE	(256 * 1024)	/* netlink + tap set-up */

static char ns_call_stack[NS_CALL_STACK_SIZE] __attribute__((aligned(16)));

/**
 * ns_call() - Run @fn(@arg) in a child sharing memory and descriptors
 * @fn:		Function to run: typically ns_enter() first
 * @arg:	Its argument
 *
 * Return: @fn's return value, or -errno if the child couldn't be run
 */
/* #syscalls:pasta clone wait4 exit */
int ns_call(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	pid = clone(fn, ns_call_stack + sizeof(ns_call_stack),
		    NS_CALL_CLONE_FLAGS, arg);
	if (pid < 0)
		return -errno;

	if (waitpid(pid, &status, __WALL) < 0)
		return -errno;

	if (!WIFEXITED(status))
		return -ECHILD;

	return (int8_t)WEXITSTATUS(status);
}

/**
 * ns_enter() - Join the target network namespace (in an ns_call() child)
 * @c:		Execution context
 *
 * Return: 0 on success, -errno on failure
 */
/* #syscalls:pasta setns */
int ns_enter(const struct ctx *c)
{
	if (setns(c->pasta_netns_fd, CLONE_NEWNET))
		return -errno;

	return 0;
}

/**
 * pidfile_open() - Open (create, truncate) the PID file, if one was asked for
 * @path:	Path, empty for none
 *
 * Opened early, while we may still have the privileges to create it; the
 * PID is written once we know it (pidfile_write()).
 *
 * Return: descriptor, -1 if @path is empty, -errno on failure
 */
int pidfile_open(const char *path)
{
	int fd;

	if (!path || !*path)
		return -1;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;

	return fd;
}

/**
 * pidfile_write() - Write @pid to the PID file opened by pidfile_open()
 * @fd:		Descriptor, negative for none (then nothing happens)
 * @pid:	PID to write
 *
 * Return: 0 on success, -EIO on failure
 */
int pidfile_write(int fd, pid_t pid)
{
	char buf[32];
	int n;

	if (fd < 0)
		return 0;

	n = snprintf(buf, sizeof(buf), "%i\n", (int)pid);
	if (write(fd, buf, n) != n)
		return -EIO;

	return 0;
}

/**
 * ip6_prefix_eq() - Do two IPv6 addresses share their first @plen bits?
 * @a:		Address
 * @b:		Address
 * @plen:	Prefix length, 0..128
 *
 * Return: true if they do
 */
bool ip6_prefix_eq(const struct in6_addr *a, const struct in6_addr *b,
		   int plen)
{
	int i;

	for (i = 0; i < 16 && plen > 0; i++, plen -= 8) {
		uint8_t m = plen >= 8 ? 0xff : (uint8_t)(0xff << (8 - plen));

		if ((a->s6_addr[i] ^ b->s6_addr[i]) & m)
			return false;
	}

	return true;
}

/**
 * sock_bind_dev() - Bind a socket to an interface (SO_BINDTODEVICE)
 * @s:		Socket
 * @ifname:	Interface name
 *
 * Unprivileged since Linux 5.7 for sockets not bound yet, which is what
 * the man page's "since Linux 5.7" note on "addr%ifname/" refers to.
 *
 * Return: 0 on success, -1 with errno set on failure
 */
/* #syscalls: setsockopt */
int sock_bind_dev(int s, const char *ifname)
{
	return setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, ifname,
			  (socklen_t)strnlen(ifname, IFNAMSIZ));
}

/* Best-effort forwarding ("all", or a list of exclusions only) may take at
 * most half of the descriptor limit, TCP and UDP together: the rest is for
 * the connections and flows those listeners bring, and for our own needs.
 * -1: not computed yet.
 */
static long fd_budget = -1;

/**
 * fd_budget_take() - Account for one more best-effort listening socket
 *
 * Return: 0 if there's room for one more (now taken), -1 if not
 */
int fd_budget_take(void)
{
	if (fd_budget < 0) {
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur > FD_REF_MAX)
			fd_budget = FD_REF_MAX / 2;
		else
			fd_budget = (long)rl.rlim_cur / 2;
	}

	if (!fd_budget)
		return -1;

	fd_budget--;
	return 0;
}

/**
 * fd_budget_return() - Give back what fd_budget_take() took: bind failed
 */
void fd_budget_return(void)
{
	fd_budget++;
}

/**
 * sock_bind_outbound() - Apply -o and --outbound-if4/6 to an outbound socket
 * @c:		Execution context
 * @s:		Socket, not bound or connected yet
 * @af:		AF_INET or AF_INET6
 * @port:	Port to bind to, host order, 0 for any
 *
 * Return: 0 on success (or nothing to do), -errno on failure
 */
int sock_bind_outbound(const struct ctx *c, int s, int af, uint16_t port)
{
	union {
		struct sockaddr_in a4;
		struct sockaddr_in6 a6;
	} sa;
	const char *ifname;
	socklen_t sl = 0;

	/* A port alone (ping identifier) is bound too, to any address */
	memset(&sa, 0, sizeof(sa));
	if (af == AF_INET) {
		ifname = c->ip4.ifname_bind;
		if (c->ip4.addr_out.s_addr || port) {
			sa.a4.sin_family = AF_INET;
			sa.a4.sin_addr = c->ip4.addr_out;
			sa.a4.sin_port = htons(port);
			sl = sizeof(sa.a4);
		}
	} else {
		ifname = c->ip6.ifname_bind;
		if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_out) || port) {
			sa.a6.sin6_family = AF_INET6;
			sa.a6.sin6_addr = c->ip6.addr_out;
			sa.a6.sin6_port = htons(port);
			if (IN6_IS_ADDR_LINKLOCAL(&c->ip6.addr_out))
				sa.a6.sin6_scope_id = c->ifi6;
			sl = sizeof(sa.a6);
		}
	}

	if (*ifname && sock_bind_dev(s, ifname))
		return -errno;

	if (sl && bind(s, (struct sockaddr *)&sa, sl))
		return -errno;

	return 0;
}

/**
 * sock_freebind() - Allow binding an address the host doesn't have (yet)
 * @s:		Socket, not bound yet
 * @af:		Its address family
 *
 * Return: 0 on success, -1 with errno set on failure
 */
int sock_freebind(int s, int af)
{
	int one = 1;

	if (af == AF_INET6)
		return setsockopt(s, IPPROTO_IPV6, IPV6_FREEBIND,
				  &one, sizeof(one));

	return setsockopt(s, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
}

/**
 * fd_set_nonblock() - Set O_NONBLOCK on @fd
 *
 * Return: 0 on success, -errno on failure
 */
int fd_set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK))
		return -errno;

	return 0;
}

/**
 * epoll_add() - Add the descriptor in @ref to @epollfd
 *
 * Return: 0 on success, -errno on failure
 */
/* #syscalls: epoll_ctl */
int epoll_add(int epollfd, uint32_t events, union epoll_ref ref)
{
	struct epoll_event ev = { .events = events, .data.u64 = ref.u64 };

	if (ref.fd < 0)
		return -EBADF;

	if (epoll_ctl(epollfd, EPOLL_CTL_ADD, ref.fd, &ev))
		return -errno;

	return 0;
}

/**
 * epoll_mod() - Change events or reference of a registered descriptor
 *
 * Return: 0 on success, -errno on failure
 */
/* #syscalls: epoll_ctl */
int epoll_mod(int epollfd, uint32_t events, union epoll_ref ref)
{
	struct epoll_event ev = { .events = events, .data.u64 = ref.u64 };

	if (epoll_ctl(epollfd, EPOLL_CTL_MOD, ref.fd, &ev))
		return -errno;

	return 0;
}

/**
 * epoll_del() - Remove @fd from @epollfd, ignoring errors
 */
/* #syscalls: epoll_ctl */
void epoll_del(int epollfd, int fd)
{
	epoll_ctl(epollfd, EPOLL_CTL_DEL, fd, NULL);
}

/**
 * str_to_uint() - Parse a whole decimal string, bounded by @max
 * @s:		String
 * @max:	Largest accepted value
 * @out:	Result
 *
 * Return: 0 on success, -1 on empty string, junk, or overflow
 */
int str_to_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -1;

	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}

	*out = v;
	return 0;
}

/**
 * parse_mac() - Parse a colon-separated MAC address
 * @s:		String, "xx:xx:xx:xx:xx:xx"
 * @mac:	Result
 *
 * Return: 0 on success, -1 if malformed
 */
int parse_mac(const char *s, unsigned char mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c",
		   &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -1;

	for (i = 0; i < 6; i++)
		mac[i] = (unsigned char)b[i];

	return 0;
}

/**
 * mac_is_zero() - Is @mac all zeroes?
 */
int mac_is_zero(const unsigned char mac[6])
{
	static const unsigned char zero[6];

	return !memcmp(mac, zero, 6);
}

/**
 * mac_ntop() - Format @mac into @buf (at least MAC_STR_LEN bytes)
 *
 * Return: @buf
 */
const char *mac_ntop(const unsigned char mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

/**
 * raw_random() - Fill @buf with random bytes from the kernel, or die
 */
/* #syscalls: getrandom exit_group */
void raw_random(void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = getrandom((char *)buf + done, len - done, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("getrandom: %s", strerror(errno));
		}
		done += (size_t)n;
	}
}

/**
 * nat_dns_port() - Is @port one that DNS forwarding translates?
 * @port:	Destination port (host order)
 *
 * Man page, --dns-forward: "port 53 or port 853" (DNS, DNS over TLS).
 *
 * Return: true for DNS ports
 */
bool nat_dns_port(in_port_t port)
{
	return port == 53 || port == 853;
}

/**
 * nat_is_resolver() - Is @addr one of the host resolvers we read?
 * @c:		Execution context
 * @af:		AF_INET or AF_INET6
 * @addr:	Address
 *
 * Return: true if @addr is in the resolver list
 */
static bool nat_is_resolver(const struct ctx *c, int af, const void *addr)
{
	int i;

	for (i = 0; i < MAXNS; i++) {
		if (af == AF_INET) {
			if (!c->ip4.dns[i].s_addr)
				break;
			if (!memcmp(&c->ip4.dns[i], addr, 4))
				return true;
		} else {
			if (IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns[i]))
				break;
			if (!memcmp(&c->ip6.dns[i], addr, 16))
				return true;
		}
	}

	return false;
}

/**
 * nat_outbound() - Host-side destination for a guest packet to @addr
 * @c:		Execution context
 * @af:		AF_INET or AF_INET6
 * @addr:	Destination (struct in_addr or in6_addr), updated in place
 * @port:	Destination port (host order), 0 if none (ICMP)
 *
 * Man page, options and NOTES, in this order:
 * - --dns-forward address, port 53 or 853: the --dns-host resolver;
 * - --map-host-loopback address (default: the gateway, unless --no-map-gw):
 *   the host's loopback, except DNS to it when it is one of the resolvers
 *   the guest was given (the gateway is a resolver, or stands in for a
 *   loopback stub like 127.0.0.53): that goes to --dns-host, as if it were
 *   the --dns-forward address;
 * - --map-guest-addr address: the address the guest was assigned, which is
 *   the host's own address by default.
 *
 * Return: enum nat_result
 */
enum nat_result nat_outbound(const struct ctx *c, int af, void *addr,
			     in_port_t port)
{
	bool dns = nat_dns_port(port);

	if (af == AF_INET) {
		struct in_addr *a = addr;

		if (dns && c->ip4.dns_match.s_addr &&
		    a->s_addr == c->ip4.dns_match.s_addr &&
		    c->ip4.dns_host.s_addr) {
			*a = c->ip4.dns_host;
			return NAT_DNS;
		}
		if (c->ip4.map_host_lo.s_addr &&
		    a->s_addr == c->ip4.map_host_lo.s_addr) {
			if (dns && nat_is_resolver(c, AF_INET, a)) {
				if (!c->ip4.dns_host.s_addr)
					return NAT_NONE;
				*a = c->ip4.dns_host;
				return NAT_DNS;
			}
			a->s_addr = htonl(INADDR_LOOPBACK);
			return NAT_HOST_LO;
		}
		if (c->ip4.map_guest_addr.s_addr &&
		    a->s_addr == c->ip4.map_guest_addr.s_addr) {
			*a = c->ip4.addr;
			return NAT_GUEST;
		}
	} else {
		struct in6_addr *a = addr;

		if (dns && !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_match) &&
		    IN6_ARE_ADDR_EQUAL(a, &c->ip6.dns_match) &&
		    !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_host)) {
			*a = c->ip6.dns_host;
			return NAT_DNS;
		}
		/* Our link-local address, the router of our advertisements,
		 * stands for the host like the gateway's global one does
		 */
		if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.map_host_lo) &&
		    (IN6_ARE_ADDR_EQUAL(a, &c->ip6.map_host_lo) ||
		     IN6_ARE_ADDR_EQUAL(a, &c->ip6.addr_ll))) {
			if (dns && nat_is_resolver(c, AF_INET6, a)) {
				if (IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_host))
					return NAT_NONE;
				*a = c->ip6.dns_host;
				return NAT_DNS;
			}
			*a = in6addr_loopback;
			return NAT_HOST_LO;
		}
		if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.map_guest_addr) &&
		    IN6_ARE_ADDR_EQUAL(a, &c->ip6.map_guest_addr)) {
			*a = c->ip6.addr;
			return NAT_GUEST;
		}
	}

	return NAT_NONE;
}

/**
 * nat_inbound() - Source address the guest sees for a host-side @addr
 * @c:		Execution context
 * @af:		AF_INET or AF_INET6
 * @addr:	Source (struct in_addr or in6_addr), updated in place
 *
 * Man page NOTES: loopback, unspecified, or the host's (that is, the
 * guest's) own address as source would be dropped or unanswerable in the
 * guest. The host's own address becomes the --map-guest-addr address, if
 * set; other local sources become the --map-host-loopback address (the
 * gateway by default). With neither, our link-local address stands in for
 * IPv6 (the guest reaches it on the link, whatever its routes), and the
 * gateway for IPv4: it is the one address we know the guest routes
 * replies to.
 *
 * Return: 1 if @addr was mapped, 0 otherwise
 */
int nat_inbound(const struct ctx *c, int af, void *addr)
{
	if (af == AF_INET) {
		struct in_addr *a = addr;
		bool own = a->s_addr == c->ip4.addr.s_addr ||
			   a->s_addr == c->ip4.addr_seen.s_addr;

		if (!own && !IN4_IS_ADDR_LOOPBACK(a) &&
		    !IN4_IS_ADDR_UNSPECIFIED(a))
			return 0;

		if (own && c->ip4.map_guest_addr.s_addr)
			*a = c->ip4.map_guest_addr;
		else if (c->ip4.map_host_lo.s_addr)
			*a = c->ip4.map_host_lo;
		else if (c->ip4.gw.s_addr)
			*a = c->ip4.gw;
		else
			return 0;	/* no gateway (-i): nothing stands in */
		return 1;
	} else {
		struct in6_addr *a = addr;
		bool own = IN6_ARE_ADDR_EQUAL(a, &c->ip6.addr) ||
			   IN6_ARE_ADDR_EQUAL(a, &c->ip6.addr_seen);

		if (!own && !IN6_IS_ADDR_LOOPBACK(a) &&
		    !IN6_IS_ADDR_UNSPECIFIED(a) &&
		    !(IN6_IS_ADDR_V4MAPPED(a) &&
		      IN4_IS_ADDR_LOOPBACK((struct in_addr *)(uintptr_t)
					   (a->s6_addr + 12))))
			return 0;

		if (own && !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.map_guest_addr))
			*a = c->ip6.map_guest_addr;
		else if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.map_host_lo))
			*a = c->ip6.map_host_lo;
		else if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_ll))
			*a = c->ip6.addr_ll;	/* ours, on-link: no route */
		else
			*a = c->ip6.gw;
		return 1;
	}
}

/**
 * dns_name_encode() - Encode a domain name in DNS wire format, RFC 1035 3.1
 * @out:	Output buffer
 * @size:	Room in @out
 * @name:	Domain name, dot-separated, optionally with a final dot
 *
 * Return: bytes written, 0 if the name is empty, malformed or doesn't fit
 */
size_t dns_name_encode(uint8_t *out, size_t size, const char *name)
{
	size_t n = 0, total = strnlen(name, DNS_NAME_MAX);
	const char *s = name, *end = name + total;

	if (!total || total >= DNS_NAME_MAX)
		return 0;

	while (s < end) {
		const char *dot = memchr(s, '.', (size_t)(end - s));
		size_t label = dot ? (size_t)(dot - s) : (size_t)(end - s);

		/* RFC 1035 2.3.4: labels are 1 to 63 bytes */
		if (!label || label > 63)
			return 0;

		if (n + 1 + label + 1 > size)
			return 0;

		out[n++] = (uint8_t)label;
		memcpy(out + n, s, label);
		n += label;

		s += label + (dot ? 1 : 0);
	}

	out[n++] = 0;	/* root label */

	/* RFC 1035 2.3.4: 255 bytes at most, in wire format */
	return n > 255 ? 0 : n;
}

/**
 * sock_local_is() - Is a socket's local address the given one?
 * @s:		Socket
 * @af:		AF_INET or AF_INET6
 * @addr:	Address, struct in_addr or struct in6_addr
 *
 * An IPv4 address also matches the v4-mapped form on an IPv6 socket.
 *
 * Return: true if it is
 */
/* #syscalls getsockname */
bool sock_local_is(int s, int af, const void *addr)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in a4;
		struct sockaddr_in6 a6;
	} sa = { .a6 = { .sin6_family = AF_UNSPEC } };
	socklen_t sl = sizeof(sa);

	if (getsockname(s, &sa.sa, &sl))
		return false;

	if (sa.sa.sa_family == AF_INET)
		return af == AF_INET &&
		       !memcmp(&sa.a4.sin_addr, addr, sizeof(struct in_addr));
	if (sa.sa.sa_family != AF_INET6)
		return false;
	if (af == AF_INET6)
		return !memcmp(&sa.a6.sin6_addr, addr, sizeof(struct in6_addr));
	return IN6_IS_ADDR_V4MAPPED(&sa.a6.sin6_addr) &&
	       !memcmp(&sa.a6.sin6_addr.s6_addr[12], addr,
		       sizeof(struct in_addr));
}

/**
 * inotify_each() - Read inotify events, hand each one to a function
 * @fd:		inotify descriptor, non-blocking
 * @reads:	Read at most this many buffers (then the next wake-up goes on)
 * @fn:		Called with the event mask, its watch descriptor and its file
 *		name (not NUL-terminated, @len bytes), returns true to stop
 * @arg:	Passed on to @fn
 *
 * Return: true if @fn asked to stop
 */
/* #syscalls read */
bool inotify_each(int fd, int reads,
		  bool (*fn)(uint32_t mask, int wd, const char *name,
			     size_t len, void *arg),
		  void *arg)
{
	static char buf[sizeof(struct inotify_event) + NAME_MAX + 1]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	int i;

	for (i = 0; i < reads; i++) {
		size_t off = 0, left;
		ssize_t n;

		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;

		left = (size_t)n;
		while (left >= sizeof(struct inotify_event)) {
			struct inotify_event ev;
			const char *name;

			memcpy(&ev, buf + off, sizeof(ev));
			if (ev.len > left - sizeof(ev))
				break;		/* truncated: never from Linux */

			name = buf + off + sizeof(ev);
			if (fn(ev.mask, ev.wd, name, strnlen(name, ev.len), arg))
				return true;

			off += sizeof(ev) + ev.len;
			left -= sizeof(ev) + ev.len;
		}
	}

	return false;
}
