// SPDX-License-Identifier: AGPL-3.0-or-later

/* follow.c - Following the host: its address, route and resolver changes
 *	      reach the guest while we run
 *
 * Theory of operation
 *
 * Two descriptors in the epoll loop tell us that the host changed, without
 * polling: an rtnetlink socket in the init namespace subscribed to link,
 * address and route notifications of both IP versions, and an inotify watch
 * on the directory of resolv.conf (and on the one it links to, if it's a
 * symbolic link: both are usually replaced by rename, which a watch on the
 * file itself wouldn't see). Both handlers only drain their descriptor and
 * note the time: a link going down, a DHCP lease or a VPN coming up are
 * bursts of dozens of messages, and a busy host can send thousands.
 *
 * The loop's one-second timer tick (follow_timer()) then derives the
 * configuration again, once per burst: when nothing arrived for
 * FOLLOW_QUIET_MS, or at the latest FOLLOW_MAX_DELAY_MS after the first
 * message. No extra wake-up: the tick runs anyway. The derivation is the
 * one of start-up (conf_host_update(): interface of the default route,
 * first address, gateway, resolvers, each unless the command line fixed
 * it), so a value given with -a, -g, -D, -S or -i never changes.
 *
 * What changed is logged, one line per value (info, "old -> new"), and
 * applied: pasta with --config-net rewrites the namespace's addresses and
 * routes (pasta_ns_update()), an unsolicited Router Advertisement moves the
 * guest to a new prefix and router (ndp_renumber()), DHCP and DHCPv6 answer
 * the next renewal with the new values (short leases while we follow, see
 * dhcp.c and dhcpv6.c). The mapping addresses (gateway standing for the
 * host, --dns-forward target) are part of the configuration and follow.
 *
 * Flows whose host socket uses an address the host no longer has can't
 * recover: nothing would ever answer them. They are reset towards the guest
 * at once (tcp_addr_gone(), udp_addr_gone()) instead of timing out. All
 * other flows are host sockets like any other: the host kernel decides.
 *
 * With --no-follow none of this is set up: the configuration is the one
 * found at start, as in earlier versions.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>

#include "conf.h"
#include "follow.h"
#include "log.h"
#include "ndp.h"
#include "netlink.h"
#include "passt.h"
#include "pasta.h"
#include "tcp.h"
#include "udp.h"
#include "util.h"

#define FOLLOW_QUIET_MS		200	/* a burst is over after this */
#define FOLLOW_MAX_DELAY_MS	3000	/* don't wait longer for its end */
#define FOLLOW_READS		64	/* reads per wake-up, then next round */
#define FOLLOW_ADDRS_MAX	64	/* host addresses kept, per version */

static int follow_nl = -1;		/* rtnetlink notifications */
static int follow_ino = -1;		/* inotify, resolv.conf directories */

/* A change is pending since @follow_first, last message at @follow_last */
static bool follow_pending;
static struct timespec follow_first, follow_last;

/* Host addresses at the last derivation: flows on one that goes are reset */
static struct in_addr follow_addrs4[FOLLOW_ADDRS_MAX];
static struct in6_addr follow_addrs6[FOLLOW_ADDRS_MAX];
static int follow_n4 = -1, follow_n6 = -1;

/* Statistics, for the debug log and the tests */
static unsigned long follow_events, follow_reconfs;

/**
 * follow_note() - Record that something changed, the timer will look
 * @now:	Current time
 */
static void follow_note(const struct timespec *now)
{
	if (!follow_pending) {
		follow_pending = true;
		follow_first = *now;
	}
	follow_last = *now;
	follow_events++;
}

/**
 * follow_addrs_read() - Read the host's addresses into the lists
 */
static void follow_addrs_read(void)
{
	follow_n4 = nl_addr_list(nl_sock, AF_INET, follow_addrs4,
				 FOLLOW_ADDRS_MAX);
	follow_n6 = nl_addr_list(nl_sock, AF_INET6, follow_addrs6,
				 FOLLOW_ADDRS_MAX);
}

/**
 * follow_init() - Watch the host's network configuration and resolv.conf
 * @c:		Execution context
 *
 * Called before confinement: the watches need the paths, which are gone
 * from our view afterwards. Failures leave the snapshot behaviour, with a
 * warning: they don't stop us.
 */
void follow_init(struct ctx *c)
{
	struct sockaddr_nl addr = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
			     RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
			     RTMGRP_IPV6_ROUTE,
	};
	union epoll_ref ref = { .type = EPOLL_TYPE_FOLLOW_NL };
	int rc;

	if (c->no_follow)
		return;

	follow_nl = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			   NETLINK_ROUTE);
	if (follow_nl < 0 ||
	    bind(follow_nl, (struct sockaddr *)&addr, sizeof(addr))) {
		warn("Can't follow host network changes, netlink: %s",
		     strerror(errno));
		if (follow_nl >= 0)
			close(follow_nl);
		follow_nl = -1;
	} else {
		ref.fd = follow_nl;
		if ((rc = epoll_add(c->epollfd, EPOLLIN, ref)))
			die("Cannot add netlink monitor to epoll: %s",
			    strerror(-rc));
	}

	follow_ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (follow_ino < 0) {
		warn("Can't follow resolv.conf changes, inotify: %s",
		     strerror(errno));
	} else if ((rc = conf_resolv_watch(follow_ino)) < 0) {
		warn("Can't follow resolv.conf changes: %s", strerror(-rc));
		close(follow_ino);
		follow_ino = -1;
	} else {
		ref.type = EPOLL_TYPE_FOLLOW_INOTIFY;
		ref.fd = follow_ino;
		if ((rc = epoll_add(c->epollfd, EPOLLIN, ref)))
			die("Cannot add resolv.conf watch to epoll: %s",
			    strerror(-rc));
	}

	follow_addrs_read();
}

/**
 * follow_nl_handler() - Drain netlink notifications, note a change
 * @now:	Current time
 *
 * The content doesn't matter: whatever changed, the derivation looks at
 * the whole picture again. ENOBUFS means we lost some: a change all the same.
 */
/* #syscalls recvfrom|recv */
void follow_nl_handler(const struct timespec *now)
{
	static char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool changed = false;
	int i;

	for (i = 0; i < FOLLOW_READS; i++) {
		ssize_t n = recv(follow_nl, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == ENOBUFS) {
			changed = true;
			continue;
		}
		if (n <= 0)
			break;
		changed = true;
	}

	if (changed)
		follow_note(now);
}

/**
 * follow_inotify_event() - Is this inotify event a change of resolv.conf?
 * @mask:	Event mask
 * @wd:		Watch descriptor
 * @name:	File name, not NUL-terminated
 * @len:	Its length
 * @arg:	Unused
 *
 * Return: true if it is (the rest of the events can wait: one is enough)
 */
static bool follow_inotify_event(uint32_t mask, int wd, const char *name,
				 size_t len, void *arg)
{
	(void)arg;
	return (mask & IN_Q_OVERFLOW) || conf_resolv_event(wd, name, len);
}

/**
 * follow_inotify_handler() - Drain resolv.conf directory events
 * @now:	Current time
 */
void follow_inotify_handler(const struct timespec *now)
{
	if (inotify_each(follow_ino, FOLLOW_READS, follow_inotify_event, NULL))
		follow_note(now);
}

/**
 * follow_log() - Log one changed address value
 * @af:		AF_INET or AF_INET6
 * @what:	Name of the value
 * @old:	Old value, struct in_addr or struct in6_addr
 * @new:	New value, same type
 */
static void follow_log(int af, const char *what, const void *old,
		       const void *new)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (!memcmp(old, new, af == AF_INET ? sizeof(struct in_addr) :
					      sizeof(struct in6_addr)))
		return;

	info("Following host: %s %s -> %s", what,
	     inet_ntop(af, old, a, sizeof(a)), inet_ntop(af, new, b, sizeof(b)));
}

/**
 * follow_list() - Format a list of addresses for the log
 * @af:		AF_INET or AF_INET6
 * @list:	Addresses, terminated by an unspecified one, at most MAXNS
 * @buf:	Output buffer
 * @size:	Its size
 *
 * Return: @buf
 */
static const char *follow_list(int af, const void *list, char *buf,
			       size_t size)
{
	size_t len = af == AF_INET ? sizeof(struct in_addr) :
				     sizeof(struct in6_addr);
	static const struct in6_addr zero;
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < MAXNS; i++) {
		const char *a = (const char *)list + len * i;
		char s[INET6_ADDRSTRLEN];

		if (!memcmp(a, &zero, len) || off >= size)
			break;
		off += (size_t)snprintf(buf + off, size - off, "%s%s",
					i ? "," : "",
					inet_ntop(af, a, s, sizeof(s)));
	}
	if (!buf[0])
		snprintf(buf, size, "none");
	return buf;
}

/**
 * follow_log_changes() - Log what changed, one line per value
 * @c:		Execution context, new configuration
 * @o4:		Old IPv4 configuration
 * @o6:		Old IPv6 configuration
 * @search:	Old search list
 *
 * Return: true if anything the guest sees changed
 */
static bool follow_log_changes(const struct ctx *c, const struct ip4_ctx *o4,
			       const struct ip6_ctx *o6,
			       const struct fqdn *search)
{
	const struct ip4_ctx *n4 = &c->ip4;
	const struct ip6_ctx *n6 = &c->ip6;
	char a[INET6_ADDRSTRLEN * MAXNS + MAXNS + 8];
	char b[INET6_ADDRSTRLEN * MAXNS + MAXNS + 8];
	bool changed = false;
	int i;

	if (c->ifi4 && (strcmp(o4->ifname_out, n4->ifname_out) ||
			o4->local != n4->local))
		info("Following host: IPv4 interface %s -> %s",
		     o4->local ? LOCAL_MODE_STR : o4->ifname_out,
		     n4->local ? LOCAL_MODE_STR : n4->ifname_out);
	if (c->ifi6 && (strcmp(o6->ifname_out, n6->ifname_out) ||
			o6->local != n6->local))
		info("Following host: IPv6 interface %s -> %s",
		     o6->local ? LOCAL_MODE_STR : o6->ifname_out,
		     n6->local ? LOCAL_MODE_STR : n6->ifname_out);

	if (o4->prefix_len != n4->prefix_len &&
	    IN4_ARE_ADDR_EQUAL(&o4->addr, &n4->addr)) {
		info("Following host: IPv4 prefix length %i -> %i",
		     o4->prefix_len, n4->prefix_len);
		changed = true;
	}
	follow_log(AF_INET, "IPv4 address", &o4->addr, &n4->addr);
	follow_log(AF_INET, "IPv4 gateway", &o4->gw, &n4->gw);
	follow_log(AF_INET, "IPv4 host loopback mapped to", &o4->map_host_lo,
		   &n4->map_host_lo);
	follow_log(AF_INET, "IPv4 DNS forwarded to", &o4->dns_host,
		   &n4->dns_host);
	follow_log(AF_INET6, "IPv6 address", &o6->addr, &n6->addr);
	follow_log(AF_INET6, "IPv6 gateway", &o6->gw, &n6->gw);
	follow_log(AF_INET6, "IPv6 link-local", &o6->addr_ll, &n6->addr_ll);
	follow_log(AF_INET6, "IPv6 host loopback mapped to", &o6->map_host_lo,
		   &n6->map_host_lo);
	follow_log(AF_INET6, "IPv6 DNS forwarded to", &o6->dns_host,
		   &n6->dns_host);

	if (memcmp(o4->dns, n4->dns, sizeof(o4->dns)))
		info("Following host: IPv4 nameservers %s -> %s",
		     follow_list(AF_INET, o4->dns, a, sizeof(a)),
		     follow_list(AF_INET, n4->dns, b, sizeof(b)));
	if (memcmp(o6->dns, n6->dns, sizeof(o6->dns)))
		info("Following host: IPv6 nameservers %s -> %s",
		     follow_list(AF_INET6, o6->dns, a, sizeof(a)),
		     follow_list(AF_INET6, n6->dns, b, sizeof(b)));

	for (i = 0; i <= MAXDNSRCH; i++) {
		if (strcmp(search[i].n, c->dns_search[i].n)) {
			info("Following host: search list changed, first "
			     "entry %s -> %s",
			     *search[0].n ? search[0].n : "none",
			     *c->dns_search[0].n ? c->dns_search[0].n :
						   "none");
			changed = true;
			break;
		}
		if (!*search[i].n)
			break;
	}

	return changed || memcmp(o4, n4, sizeof(*o4)) ||
	       memcmp(o6, n6, sizeof(*o6));
}

/**
 * follow_gone_af() - Reset flows on addresses of one family that went away
 * @c:		Execution context
 * @af:		AF_INET or AF_INET6
 * @old:	Addresses before, struct in_addr or struct in6_addr
 * @n_old:	Entries in @old, negative if the dump failed
 * @now:	Addresses now, same type
 * @n_now:	Entries in @now, negative if the dump failed
 */
static void follow_gone_af(struct ctx *c, int af, const void *old, int n_old,
			   const void *now, int n_now)
{
	size_t len = af == AF_INET ? sizeof(struct in_addr) :
				     sizeof(struct in6_addr);
	char buf[INET6_ADDRSTRLEN];
	int i, j;

	/* A failed dump, or more addresses than we keep: don't guess */
	if (n_old < 0 || n_now < 0 || n_old >= FOLLOW_ADDRS_MAX ||
	    n_now >= FOLLOW_ADDRS_MAX)
		return;

	for (i = 0; i < n_old; i++) {
		const char *a = (const char *)old + len * i;

		for (j = 0; j < n_now; j++)
			if (!memcmp(a, (const char *)now + len * j, len))
				break;
		if (j < n_now)
			continue;

		info("Following host: address %s gone, resetting its flows",
		     inet_ntop(af, a, buf, sizeof(buf)));
		if (!c->no_tcp)
			tcp_addr_gone(c, af, a);
		if (!c->no_udp)
			udp_addr_gone(c, af, a);
	}
}

/**
 * follow_addrs_gone() - Reset flows on host addresses that went away
 * @c:		Execution context
 */
static void follow_addrs_gone(struct ctx *c)
{
	struct in6_addr old6[FOLLOW_ADDRS_MAX];
	struct in_addr old4[FOLLOW_ADDRS_MAX];
	int n4 = follow_n4, n6 = follow_n6;

	memcpy(old4, follow_addrs4, sizeof(old4));
	memcpy(old6, follow_addrs6, sizeof(old6));
	follow_addrs_read();

	follow_gone_af(c, AF_INET, old4, n4, follow_addrs4, follow_n4);
	follow_gone_af(c, AF_INET6, old6, n6, follow_addrs6, follow_n6);
}

/**
 * follow_reconf() - Derive the configuration again, apply what changed
 * @c:		Execution context
 */
static void follow_reconf(struct ctx *c)
{
	static struct fqdn search[MAXDNSRCH + 1];
	struct ip4_ctx o4 = c->ip4;
	struct ip6_ctx o6 = c->ip6;

	memcpy(search, c->dns_search, sizeof(search));
	follow_reconfs++;
	debug("Following host: reconfiguring (%lu messages so far, "
	      "reconfiguration %lu)", follow_events, follow_reconfs);

	conf_host_update(c);

	/* Resets first, sent right away: once pasta_ns_update() removed the
	 * old address from the namespace, its kernel would drop them
	 */
	follow_addrs_gone(c);
	if (!c->no_tcp)
		tcp_defer_handler(c);

	/* With --config-net, the namespace also gets the host interface's
	 * other addresses and routes: they can change alone
	 */
	if (c->mode == MODE_PASTA)
		pasta_ns_update(c, &o4, &o6);

	if (follow_log_changes(c, &o4, &o6, search)) {
		if (c->ifi6)
			ndp_renumber(c, &o6);
	} else {
		debug("Following host: nothing changed for the guest");
	}
}

/**
 * follow_timer() - Derive the configuration again once a burst is over
 * @c:		Execution context
 * @now:	Current time
 *
 * Called from the loop's timer tick.
 */
void follow_timer(struct ctx *c, const struct timespec *now)
{
	if (!follow_pending)
		return;

	if (timespec_diff_ms(now, &follow_last) < FOLLOW_QUIET_MS &&
	    timespec_diff_ms(now, &follow_first) < FOLLOW_MAX_DELAY_MS)
		return;

	follow_pending = false;
	follow_reconf(c);
}
