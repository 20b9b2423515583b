// SPDX-License-Identifier: AGPL-3.0-or-later

/* conf_host.c - Configuration derived from the host, and its report
 *
 * Theory of operation: what conf.c doesn't get from the command line comes
 * from the host, for each IP version not disabled by -4 or -6: the
 * interface with the first default route (or -i, or --outbound-if4/6), its
 * address and prefix length, the gateway of that route. Values given on
 * the command line win. An IP version without interface, address or
 * gateway is disabled (ifi4 or ifi6 left 0), as the man page says.
 *
 * DNS: -D and -S, or /etc/resolv.conf, read whole into a static buffer
 * (RESOLV_BUF_SIZE: resolv.conf(5) files are a few hundred bytes) and parsed
 * with explicit bounds: at most MAXNS nameservers per IP version and
 * MAXDNSRCH search domains; names longer than RFC 1035 allows are skipped,
 * over-long lines simply yield over-long tokens, also skipped. A loopback
 * stub resolver becomes the --map-host-loopback address for the guest.
 *
 * conf_print() reports the result, as the man page's examples show it.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/inotify.h>

#include "conf.h"
#include "log.h"
#include "netlink.h"
#include "passt.h"
#include "util.h"

#define RESOLV_BUF_SIZE		(64 * 1024)	/* whole file, rest ignored */

static char conf_resolv_buf[RESOLV_BUF_SIZE];

/**
 * conf_prefix_by_class() - IPv4 prefix length from the address class
 * @a:		Address
 *
 * RFC 4632 3.1 refers to the classful split of RFC 791 2.3: A is /8,
 * B is /16, C is /24.
 *
 * Return: prefix length
 */
static int conf_prefix_by_class(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	if (!(h & 0x80000000U))
		return 8;
	if ((h & 0xc0000000U) == 0x80000000U)
		return 16;
	return 24;
}

/* Local mode (man page, "Local mode for disconnected setups"): with no host
 * interface to take a configuration from, the guest gets a link-local one,
 * and the host stays reachable through the gateway address (mapped to its
 * loopback). Its interface index is the one of loopback (LOOPBACK_IFI): it
 * stands for "enabled, no outbound interface".
 */
#define LOCAL4_ADDR		0xa9fe0201U	/* 169.254.2.1 */
#define LOCAL4_GW		0xa9fe0202U	/* 169.254.2.2 */
#define LOCAL4_PREFIX_LEN	16		/* RFC 3927 */
static const struct in6_addr local6_gw = {
	.s6_addr = { 0xfe, 0x80, [15] = 0x01 }	/* fe80::1 */
};

/* Messages of the derivation are info at start, debug when following: the
 * changes themselves are reported by follow.c, one line each
 */
static int conf_host_following;
#define conf_note(...)							\
	do {								\
		if (conf_host_following)				\
			debug(__VA_ARGS__);				\
		else							\
			info(__VA_ARGS__);				\
	} while (0)

/**
 * conf_ip4_local() - Local mode for IPv4: 169.254.2.1/16 via 169.254.2.2
 * @c:		Execution context
 * @o:		Command line state: -a, -n and -g still win
 */
static void conf_ip4_local(struct ctx *c, const struct conf_opts *o)
{
	c->ifi4 = LOOPBACK_IFI;
	c->ip4.local = 1;
	c->ip4.ifname_out[0] = '\0';

	if (!o->a4_set) {
		c->ip4.addr.s_addr = htonl(LOCAL4_ADDR);
		c->ip4.prefix_len = LOCAL4_PREFIX_LEN;
	} else if (o->prefix4) {
		c->ip4.prefix_len = o->prefix4;
	} else if (!c->ip4.prefix_len || c->ip4.prefix_len > 32) {
		c->ip4.prefix_len = conf_prefix_by_class(c->ip4.addr);
	}

	if (!o->gw4_set)
		c->ip4.gw.s_addr = htonl(LOCAL4_GW);

	c->ip4.addr_seen = c->ip4.addr;
}

/**
 * conf_ip4() - Host-derived IPv4 configuration, command line values win
 * @c:		Execution context
 * @o:		Command line state
 * @ifname:	-i, or NULL
 */
static void conf_ip4(struct ctx *c, const struct conf_opts *o,
		     const char *ifname)
{
	struct in_addr host = { 0 };
	int host_prefix = 0;

	c->ip4.local = 0;
	c->ifi4 = ifname ? nl_link_index(nl_sock, ifname) :
			   nl_get_ext_if(nl_sock, AF_INET);
	if (!c->ifi4) {
		conf_note("IPv4: no %s%s, local mode",
			  ifname ? "interface " : "host interface with a route",
			  ifname ? ifname : "");
		conf_ip4_local(c, o);
		return;
	}

	if (nl_addr_get(nl_sock, c->ifi4, AF_INET, &host, &host_prefix,
			NULL))
		host.s_addr = htonl(INADDR_ANY);

	if (!o->a4_set) {
		c->ip4.addr = host;
		c->ip4.prefix_len = host_prefix;
	} else if (IN4_ARE_ADDR_EQUAL(&c->ip4.addr, &host)) {
		c->ip4.prefix_len = host_prefix;
	} else {
		c->ip4.prefix_len = 0;
	}

	if (o->prefix4)
		c->ip4.prefix_len = o->prefix4;
	else if (!c->ip4.prefix_len || c->ip4.prefix_len > 32)
		c->ip4.prefix_len = conf_prefix_by_class(c->ip4.addr);

	if (!o->gw4_set &&
	    nl_route_get_def(nl_sock, c->ifi4, AF_INET, &c->ip4.gw))
		c->ip4.gw.s_addr = htonl(INADDR_ANY);

	if (nl_link_name(nl_sock, c->ifi4, c->ip4.ifname_out))
		c->ip4.ifname_out[0] = '\0';

	/* Man page, -i and -g: an interface chosen by name, or the only one
	 * with routes, serves without a default route too: its address and
	 * subnet, no gateway, so no DHCP server (--no-dhcp: "implied if there
	 * is no gateway")
	 */
	if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.addr) &&
	    IN4_IS_ADDR_UNSPECIFIED(&c->ip4.gw)) {
		conf_note("No IPv4 default route on %s: no gateway, no DHCP",
			  c->ip4.ifname_out);
		c->no_dhcp = 1;
		c->ip4.addr_seen = c->ip4.addr;
		return;
	}

	if (IN4_IS_ADDR_UNSPECIFIED(&c->ip4.addr) ||
	    IN4_IS_ADDR_UNSPECIFIED(&c->ip4.gw)) {
		conf_note("IPv4: no %s on interface %s, local mode",
			  IN4_IS_ADDR_UNSPECIFIED(&c->ip4.addr) ?
			  "address" : "default gateway", c->ip4.ifname_out);
		conf_ip4_local(c, o);
		return;
	}

	c->ip4.addr_seen = c->ip4.addr;
}

/**
 * conf_ip6_local() - Local mode for IPv6: no global address, via fe80::1
 * @c:		Execution context
 * @o:		Command line state: -a and -g still win
 *
 * The guest's address is whatever link-local address it picks (tap.c learns
 * it), ours and the gateway are fe80::1.
 */
static void conf_ip6_local(struct ctx *c, const struct conf_opts *o)
{
	c->ifi6 = LOOPBACK_IFI;
	c->ip6.local = 1;
	c->ip6.ifname_out[0] = '\0';

	if (!o->a6_set)
		c->ip6.addr = in6addr_any;
	c->ip6.prefix_len = 64;
	if (!o->gw6_set)
		c->ip6.gw = local6_gw;
	c->ip6.addr_ll = local6_gw;

	c->ip6.addr_seen = c->ip6.addr;
}

/**
 * conf_ip6() - Host-derived IPv6 configuration, command line values win
 * @c:		Execution context
 * @o:		Command line state
 * @ifname:	-i, or NULL
 */
static void conf_ip6(struct ctx *c, const struct conf_opts *o,
		     const char *ifname)
{
	struct in6_addr host = IN6ADDR_ANY_INIT;
	int host_prefix = 0;

	c->ip6.local = 0;
	c->ifi6 = ifname ? nl_link_index(nl_sock, ifname) :
			   nl_get_ext_if(nl_sock, AF_INET6);
	if (!c->ifi6) {
		conf_note("IPv6: no %s%s, local mode",
			  ifname ? "interface " : "host interface with a route",
			  ifname ? ifname : "");
		conf_ip6_local(c, o);
		return;
	}

	if (nl_addr_get(nl_sock, c->ifi6, AF_INET6, &host, &host_prefix,
			&c->ip6.addr_ll))
		host = in6addr_any;

	if (!o->a6_set) {
		c->ip6.addr = host;
		c->ip6.prefix_len = host_prefix;
	} else if (IN6_ARE_ADDR_EQUAL(&c->ip6.addr, &host)) {
		c->ip6.prefix_len = host_prefix;
	} else {
		c->ip6.prefix_len = 0;
	}

	/* RFC 4291 2.5.4: global unicast prefixes are /64 in practice */
	if (c->ip6.prefix_len <= 0 || c->ip6.prefix_len > 128)
		c->ip6.prefix_len = 64;

	if (!o->gw6_set &&
	    nl_route_get_def(nl_sock, c->ifi6, AF_INET6, &c->ip6.gw))
		c->ip6.gw = in6addr_any;

	if (nl_link_name(nl_sock, c->ifi6, c->ip6.ifname_out))
		c->ip6.ifname_out[0] = '\0';

	/* As for IPv4: no gateway, so no router advertisements */
	if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr) &&
	    IN6_IS_ADDR_UNSPECIFIED(&c->ip6.gw)) {
		conf_note("No IPv6 default route on %s: no gateway, no RAs",
			  c->ip6.ifname_out);
		c->no_ra = 1;
		c->ip6.addr_seen = c->ip6.addr;
		return;
	}

	if (IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&c->ip6.gw)) {
		conf_note("IPv6: no %s on interface %s, local mode",
			  IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr) ?
			  "global address" : "default gateway",
			  c->ip6.ifname_out);
		conf_ip6_local(c, o);
		return;
	}

	c->ip6.addr_seen = c->ip6.addr;
}

/**
 * conf_addr_ll_from_mac() - Link-local address with EUI-64 from @mac
 * @a:		Result
 * @mac:	MAC address
 *
 * RFC 4291 2.5.1 and appendix A: the identifier is the MAC with ff:fe in
 * the middle and the universal/local bit inverted, after fe80::/64
 * (RFC 4291 2.5.6).
 */
static void conf_addr_ll_from_mac(struct in6_addr *a,
				  const unsigned char mac[6])
{
	memset(a, 0, sizeof(*a));
	a->s6_addr[0] = 0xfe;
	a->s6_addr[1] = 0x80;
	a->s6_addr[8] = mac[0] ^ 0x02;
	a->s6_addr[9] = mac[1];
	a->s6_addr[10] = mac[2];
	a->s6_addr[11] = 0xff;
	a->s6_addr[12] = 0xfe;
	a->s6_addr[13] = mac[3];
	a->s6_addr[14] = mac[4];
	a->s6_addr[15] = mac[5];
}

/* resolv.conf as seen at start, for reading it again once confined (our
 * root is empty then): descriptors of its directory and, if it's a symbolic
 * link to an absolute path, of the directory it points to, and the inotify
 * watches on both (the file is usually replaced by rename)
 */
static int conf_resolv_dir = -1, conf_resolv_tdir = -1;
static int conf_resolv_wd = -1, conf_resolv_twd = -1;
static char conf_resolv_tpath[PATH_MAX];	/* link target's directory */
static char conf_resolv_tname[NAME_MAX + 1];	/* link target's name */

/**
 * conf_resolv_split() - Split a path into directory and file name
 * @path:	Absolute path
 * @dir:	Directory, PATH_MAX bytes
 * @name:	File name, NAME_MAX + 1 bytes
 *
 * Return: 0 on success, -1 if it's not an absolute path to a file
 */
static int conf_resolv_split(const char *path, char *dir, char *name)
{
	const char *slash = strrchr(path, '/');
	size_t dlen;

	if (path[0] != '/' || !slash || !slash[1] ||
	    strlen(slash + 1) > NAME_MAX)
		return -1;

	dlen = slash == path ? 1 : (size_t)(slash - path);
	if (dlen >= PATH_MAX)
		return -1;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	memcpy(name, slash + 1, strlen(slash + 1) + 1);
	return 0;
}

/**
 * conf_resolv_watch() - Keep resolv.conf within reach, watch for changes
 * @ino:	inotify descriptor
 *
 * Called before confinement (follow.c).
 *
 * Return: 0 on success, negative error code on failure
 */
int conf_resolv_watch(int ino)
{
	uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
			IN_CREATE | IN_DELETE;
	char dir[PATH_MAX], name[NAME_MAX + 1], target[PATH_MAX];
	ssize_t n;

	if (conf_resolv_split(RESOLV_CONF, dir, name))
		return -EINVAL;

	conf_resolv_dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (conf_resolv_dir < 0)
		return -errno;
	conf_resolv_wd = inotify_add_watch(ino, dir, mask);
	if (conf_resolv_wd < 0)
		return -errno;

	n = readlink(RESOLV_CONF, target, sizeof(target) - 1);
	if (n <= 0 || target[0] != '/')
		return 0;	/* a file, or a relative link: @dir reaches it */
	target[n] = '\0';

	if (conf_resolv_split(target, conf_resolv_tpath, conf_resolv_tname))
		return 0;

	conf_resolv_tdir = open(conf_resolv_tpath,
				O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (conf_resolv_tdir < 0) {
		debug("Can't watch %s, target of %s: %s", conf_resolv_tpath,
		      RESOLV_CONF, strerror(errno));
		return 0;
	}
	conf_resolv_twd = inotify_add_watch(ino, conf_resolv_tpath, mask);
	return 0;
}

/**
 * conf_resolv_event() - Is this inotify event about resolv.conf?
 * @wd:		Watch descriptor of the event
 * @name:	File name in the event, not NUL-terminated
 * @len:	Its length
 *
 * Return: true if it's about resolv.conf or the file it links to
 */
bool conf_resolv_event(int wd, const char *name, size_t len)
{
	const char *base = strrchr(RESOLV_CONF, '/') + 1;

	if (wd == conf_resolv_wd)
		return len == strlen(base) && !memcmp(name, base, len);
	if (wd == conf_resolv_twd)
		return len == strlen(conf_resolv_tname) &&
		       !memcmp(name, conf_resolv_tname, len);
	return false;
}

/**
 * conf_resolv_open() - Open resolv.conf, also once confined
 *
 * Return: file descriptor, or -1 with errno set
 */
/* #syscalls openat readlinkat */
static int conf_resolv_open(void)
{
	const char *base = strrchr(RESOLV_CONF, '/') + 1;
	char target[PATH_MAX], dir[PATH_MAX], name[NAME_MAX + 1];
	ssize_t n;

	if (conf_resolv_dir < 0)		/* start-up: our own root */
		return open(RESOLV_CONF, O_RDONLY | O_CLOEXEC);

	/* An absolute link resolves against our (empty) root: follow it by
	 * hand, as far as the directory we kept
	 */
	n = readlinkat(conf_resolv_dir, base, target, sizeof(target) - 1);
	if (n > 0 && target[0] == '/') {
		target[n] = '\0';
		if (conf_resolv_tdir < 0 ||
		    conf_resolv_split(target, dir, name) ||
		    strcmp(dir, conf_resolv_tpath)) {
			warn("%s now links to %s, not watched since start: "
			     "restart to follow it", RESOLV_CONF, target);
			errno = ENOENT;
			return -1;
		}
		return openat(conf_resolv_tdir, name, O_RDONLY | O_CLOEXEC);
	}

	return openat(conf_resolv_dir, base, O_RDONLY | O_CLOEXEC);
}

/**
 * conf_resolv_read() - Read resolv.conf whole into conf_resolv_buf
 *
 * Return: bytes read, 0 if missing or empty
 */
/* #syscalls read close */
static size_t conf_resolv_read(void)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = conf_resolv_open();
	if (fd < 0) {
		debug("Can't open %s: %s", RESOLV_CONF, strerror(errno));
		return 0;
	}

	while (len < sizeof(conf_resolv_buf) - 1) {
		n = read(fd, conf_resolv_buf + len,
			 sizeof(conf_resolv_buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);

	conf_resolv_buf[len] = '\0';
	return len;
}

/**
 * conf_resolv_ns() - Parse one nameserver token, add it to the lists
 * @tok:	Address, possibly with %zone, not NUL-terminated
 * @len:	Its length
 * @r4:		IPv4 resolvers
 * @n4:		Entries in @r4
 * @r6:		IPv6 resolvers
 * @n6:		Entries in @r6
 */
static void conf_resolv_ns(const char *tok, size_t len,
			   struct in_addr *r4, int *n4,
			   struct in6_addr *r6, int *n6)
{
	char buf[INET6_ADDRSTRLEN];
	const char *zone;
	struct in6_addr a6;
	struct in_addr a4;

	zone = memchr(tok, '%', len);
	if (zone)
		len = (size_t)(zone - tok);
	if (!len || len >= sizeof(buf))
		return;

	memcpy(buf, tok, len);
	buf[len] = '\0';

	if (inet_pton(AF_INET, buf, &a4) == 1) {
		if (*n4 < MAXNS && !IN4_IS_ADDR_UNSPECIFIED(&a4))
			r4[(*n4)++] = a4;
	} else if (inet_pton(AF_INET6, buf, &a6) == 1) {
		/* A link-local resolver is only reachable on the host's link:
		 * not from the guest, and not without a scope from our sockets
		 */
		if (*n6 < MAXNS && !IN6_IS_ADDR_UNSPECIFIED(&a6) &&
		    !IN6_IS_ADDR_LINKLOCAL(&a6))
			r6[(*n6)++] = a6;
	}
}

/**
 * conf_resolv() - Resolvers and search list from /etc/resolv.conf
 * @c:		Execution context
 * @r4:		IPv4 resolvers, MAXNS entries
 * @n4:		Entries found
 * @r6:		IPv6 resolvers, MAXNS entries
 * @n6:		Entries found
 * @search:	Fill the search list too
 *
 * resolv.conf(5): "keyword value...", comments start with '#' or ';'.
 * "search" and "domain" override each other: the last one wins.
 */
static void conf_resolv(struct ctx *c, struct in_addr *r4, int *n4,
			struct in6_addr *r6, int *n6, int search)
{
	size_t len = conf_resolv_read();
	const char *p = conf_resolv_buf, *end = conf_resolv_buf + len;
	static const char ws[] = " \t\r";

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line = p, *kw;
		size_t kwlen, toklen;

		if (!eol)
			eol = end;
		p = eol + 1;

		/* Tokens never reach past @eol: NULs are line ends too */
		line += strspn(line, ws);
		if (line >= eol || *line == '#' || *line == ';' || !*line)
			continue;

		kw = line;
		kwlen = MIN(strcspn(kw, " \t\r\n"), (size_t)(eol - kw));
		line = kw + kwlen;

		if (kwlen == 10 && !memcmp(kw, "nameserver", 10)) {
			line += strspn(line, ws);
			if (line >= eol)
				continue;
			toklen = MIN(strcspn(line, " \t\r\n"),
				     (size_t)(eol - line));
			conf_resolv_ns(line, toklen, r4, n4, r6, n6);
		} else if (search &&
			   ((kwlen == 6 && !memcmp(kw, "search", 6)) ||
			    (kwlen == 6 && !memcmp(kw, "domain", 6)))) {
			int single = kw[0] == 'd', cleared = 0;

			for (;;) {
				line += strspn(line, ws);
				if (line >= eol || !*line)
					break;
				toklen = MIN(strcspn(line, " \t\r\n"),
					     (size_t)(eol - line));

				/* Replace the list on the first usable name */
				if (!cleared &&
				    conf_dns_name_ok(line, toklen)) {
					c->dns_search[0].n[0] = '\0';
					cleared = 1;
				}
				if (cleared &&
				    conf_search_add(c, line, toklen) == -1)
					break;
				line += toklen;
				if (single)
					break;
			}
		}
	}
}

/**
 * conf_in_list4() - Is @a among the first @n entries of @list?
 * @list:	IPv4 addresses
 * @n:		Entries to look at
 * @a:		Address
 *
 * Return: 1 if found
 */
static int conf_in_list4(const struct in_addr *list, int n, struct in_addr a)
{
	while (n--) {
		if (list[n].s_addr == a.s_addr)
			return 1;
	}
	return 0;
}

/**
 * conf_in_list6() - Is @a among the first @n entries of @list?
 * @list:	IPv6 addresses
 * @n:		Entries to look at
 * @a:		Address
 *
 * Return: 1 if found
 */
static int conf_in_list6(const struct in6_addr *list, int n,
			 const struct in6_addr *a)
{
	while (n--) {
		if (IN6_ARE_ADDR_EQUAL(&list[n], a))
			return 1;
	}
	return 0;
}

/**
 * conf_dns() - Fill resolvers and search list, and DNS forwarding
 * @c:		Execution context
 * @o:		Command line state
 *
 * Resolvers come from -D, else from resolv.conf. The first one of each IP
 * version is where --dns-forward sends queries (dns_host). With
 * --dns-forward and resolv.conf, the guest is given the forwarding address
 * first, and loopback resolvers (useless as such to the guest, reachable
 * through the mapping) are left out.
 */
static void conf_dns(struct ctx *c, const struct conf_opts *o)
{
	int search = !o->search_given && !c->no_dns_search;
	int n4 = 0, n6 = 0, i, j;
	struct in6_addr r6[MAXNS];
	struct in_addr r4[MAXNS];

	/* The host's resolvers: --dns-forward's default target even with
	 * -D, which only replaces what the guest is told
	 */
	conf_resolv(c, r4, &n4, r6, &n6, search);

	/* --dns-host, by default the first host resolver: where queries to
	 * the --dns-forward address, and to the --map-host-loopback address
	 * standing in for a loopback resolver, go
	 */
	if (IN4_IS_ADDR_UNSPECIFIED(&c->ip4.dns_host) && n4)
		c->ip4.dns_host = r4[0];
	if (IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_host) && n6)
		c->ip6.dns_host = r6[0];

	if (o->dns_given) {
		n4 = o->dns4_n;
		n6 = o->dns6_n;
		memcpy(r4, o->dns4, sizeof(r4));
		memcpy(r6, o->dns6, sizeof(r6));
	}

	if (c->no_dns_search)
		c->dns_search[0].n[0] = '\0';

	if (!c->ifi4)
		n4 = 0;
	if (!c->ifi6)
		n6 = 0;

	/* IPv4 */
	if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.dns_match)) {
		if (IN4_IS_ADDR_UNSPECIFIED(&c->ip4.dns_host)) {
			if (c->ifi4)
				warn("--dns-forward: no IPv4 resolver to "
				     "forward to, ignored");
			c->ip4.dns_match.s_addr = htonl(INADDR_ANY);
		}
	}

	j = 0;
	if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.dns_match) && !o->dns_given)
		c->ip4.dns[j++] = c->ip4.dns_match;
	for (i = 0; i < n4 && j < MAXNS; i++) {
		struct in_addr a = r4[i];

		/* A host stub resolver (127.0.0.53) means nothing to the
		 * guest: it gets the address standing for the host instead,
		 * and queries there go to the stub (see nat_outbound())
		 */
		if (!o->dns_given && IN4_IS_ADDR_LOOPBACK(&a)) {
			if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.dns_match) ||
			    IN4_IS_ADDR_UNSPECIFIED(&c->ip4.map_host_lo) ||
			    conf_in_list4(c->ip4.dns, j, c->ip4.map_host_lo))
				continue;
			a = c->ip4.map_host_lo;
		}
		c->ip4.dns[j++] = a;
	}
	c->ip4.dns[j].s_addr = htonl(INADDR_ANY);

	/* IPv6 */
	if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_match)) {
		if (IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_host)) {
			if (c->ifi6)
				warn("--dns-forward: no IPv6 resolver to "
				     "forward to, ignored");
			c->ip6.dns_match = in6addr_any;
		}
	}

	j = 0;
	if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_match) && !o->dns_given)
		c->ip6.dns[j++] = c->ip6.dns_match;
	for (i = 0; i < n6 && j < MAXNS; i++) {
		struct in6_addr a = r6[i];

		if (!o->dns_given && IN6_IS_ADDR_LOOPBACK(&a)) {
			if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_match) ||
			    IN6_IS_ADDR_UNSPECIFIED(&c->ip6.map_host_lo) ||
			    conf_in_list6(c->ip6.dns, j, &c->ip6.map_host_lo))
				continue;
			a = c->ip6.map_host_lo;
		}
		c->ip6.dns[j++] = a;
	}
	c->ip6.dns[j] = in6addr_any;
}

/**
 * struct conf_base - What the command line set, before the host filled in
 * @o:		Command line state (static in conf.c)
 * @ip4:	IPv4 configuration as parsed
 * @ip6:	IPv6 configuration as parsed
 * @dns_search:	Search list from -S
 * @no_dhcp:	--no-dhcp given
 * @no_ra:	--no-ra given
 */
static struct conf_base {
	const struct conf_opts *o;
	struct ip4_ctx ip4;
	struct ip6_ctx ip6;
	struct fqdn dns_search[MAXDNSRCH + 1];
	int no_dhcp;
	int no_ra;
} conf_base;

/**
 * conf_host_derive() - Fill in, from the host, what the command line didn't
 * @c:		Execution context, holding exactly what the command line set
 */
static void conf_host_derive(struct ctx *c)
{
	const struct conf_opts *o = conf_base.o;

	/* Man page, -i: by default, the --outbound-if4/6 interfaces */
	if (!o->v6_only)
		conf_ip4(c, o, o->ifname ? o->ifname :
			 *c->ip4.ifname_bind ? c->ip4.ifname_bind : NULL);
	if (!o->v4_only)
		conf_ip6(c, o, o->ifname ? o->ifname :
			 *c->ip6.ifname_bind ? c->ip6.ifname_bind : NULL);

	if (c->ifi6 && IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_ll))
		conf_addr_ll_from_mac(&c->ip6.addr_ll, c->mac);

	/* Man page: the gateway stands for the host unless told otherwise */
	if (!o->map_host_lo4 && c->ifi4)
		c->ip4.map_host_lo = c->ip4.gw;
	if (!o->map_host_lo6 && c->ifi6)
		c->ip6.map_host_lo = c->ip6.gw;

	conf_dns(c, o);
}

/**
 * conf_host_init() - Keep what the command line set, then derive the rest
 * @c:		Execution context
 * @o:		Command line state, kept for conf_host_update()
 */
void conf_host_init(struct ctx *c, const struct conf_opts *o)
{
	conf_base.o = o;
	conf_base.ip4 = c->ip4;
	conf_base.ip6 = c->ip6;
	memcpy(conf_base.dns_search, c->dns_search,
	       sizeof(conf_base.dns_search));
	conf_base.no_dhcp = c->no_dhcp;
	conf_base.no_ra = c->no_ra;

	conf_host_derive(c);
}

/**
 * conf_host_update() - Derive the configuration again, the host changed
 * @c:		Execution context
 *
 * The same rules as at start, from the same command line: values given there
 * stay. What the guest was seen using is kept while its address stays.
 */
void conf_host_update(struct ctx *c)
{
	struct in6_addr seen6 = c->ip6.addr_seen, ll_seen = c->ip6.addr_ll_seen;
	struct in_addr seen4 = c->ip4.addr_seen;
	struct in6_addr addr6 = c->ip6.addr;
	struct in_addr addr4 = c->ip4.addr;

	c->ip4 = conf_base.ip4;
	c->ip6 = conf_base.ip6;
	memcpy(c->dns_search, conf_base.dns_search, sizeof(c->dns_search));
	c->no_dhcp = conf_base.no_dhcp;
	c->no_ra = conf_base.no_ra;

	conf_host_following = 1;
	conf_host_derive(c);

	if (IN4_ARE_ADDR_EQUAL(&c->ip4.addr, &addr4))
		c->ip4.addr_seen = seen4;
	if (IN6_ARE_ADDR_EQUAL(&c->ip6.addr, &addr6))
		c->ip6.addr_seen = seen6;
	c->ip6.addr_ll_seen = ll_seen;
}

/**
 * conf_print() - Report the configuration, as the man page examples show
 * @c:		Execution context
 */
void conf_print(const struct ctx *c)
{
	char buf[INET6_ADDRSTRLEN], buf2[INET6_ADDRSTRLEN];
	char mac[MAC_STR_LEN], line[512];
	size_t len;
	int i;

	if (c->quiet)
		return;

	if (c->ifi4 && c->ifi6 && strcmp(c->ip4.ifname_out, c->ip6.ifname_out))
		len = (size_t)snprintf(line, sizeof(line),
				       "Outbound interface (IPv4): %s, "
				       "(IPv6): %s",
				       c->ip4.local ? LOCAL_MODE_STR :
						      c->ip4.ifname_out,
				       c->ip6.local ? LOCAL_MODE_STR :
						      c->ip6.ifname_out);
	else
		len = (size_t)snprintf(line, sizeof(line),
				       "Outbound interface: %s",
				       (c->ifi4 ? c->ip4.local : c->ip6.local) ?
				       LOCAL_MODE_STR :
				       c->ifi4 ? c->ip4.ifname_out :
						 c->ip6.ifname_out);
	if (c->mode == MODE_PASTA && len < sizeof(line))
		snprintf(line + len, sizeof(line) - len,
			 ", namespace interface: %s", c->pasta_ifname);
	info("%s", line);

	info("ARP:");
	info("    address: %s", mac_ntop(c->mac, mac, sizeof(mac)));

	if (c->ifi4) {
		struct in_addr mask;

		mask.s_addr = htonl(c->ip4.prefix_len ?
				    0xffffffffU << (32 - c->ip4.prefix_len) :
				    0);

		info(c->no_dhcp ? "IPv4:" : "DHCP:");
		info("    assign: %s",
		     inet_ntop(AF_INET, &c->ip4.addr, buf, sizeof(buf)));
		info("    mask: %s",
		     inet_ntop(AF_INET, &mask, buf, sizeof(buf)));
		info("    router: %s",
		     inet_ntop(AF_INET, &c->ip4.gw, buf, sizeof(buf)));

		for (i = 0; i < MAXNS && c->ip4.dns[i].s_addr; i++) {
			if (c->no_dhcp_dns)
				break;
			if (!i)
				info("    DNS:");
			info("        %s", inet_ntop(AF_INET, &c->ip4.dns[i],
						     buf, sizeof(buf)));
		}

		if (c->ip4.dns_match.s_addr)
			info("    DNS forwarding: %s -> %s",
			     inet_ntop(AF_INET, &c->ip4.dns_match, buf,
				       sizeof(buf)),
			     inet_ntop(AF_INET, &c->ip4.dns_host, buf2,
				       sizeof(buf2)));

		for (i = 0; !c->no_dhcp_dns_search && i < MAXDNSRCH &&
			    *c->dns_search[i].n; i++) {
			if (!i)
				info("    search:");
			info("        %s", c->dns_search[i].n);
		}
	}

	if (c->ifi6) {
		const char *head = "NDP/DHCPv6:";

		if (c->no_ndp && c->no_dhcpv6)
			head = "IPv6:";
		else if (c->no_ndp)
			head = "DHCPv6:";
		else if (c->no_dhcpv6)
			head = "NDP:";

		info("%s", head);
		info("    assign: %s",
		     inet_ntop(AF_INET6, &c->ip6.addr, buf, sizeof(buf)));
		info("    router: %s",
		     inet_ntop(AF_INET6, &c->ip6.gw, buf, sizeof(buf)));
		info("    our link-local: %s",
		     inet_ntop(AF_INET6, &c->ip6.addr_ll, buf, sizeof(buf)));

		for (i = 0; i < MAXNS &&
			    !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns[i]); i++) {
			if (c->no_dhcp_dns)
				break;
			if (!i)
				info("    DNS:");
			info("        %s", inet_ntop(AF_INET6, &c->ip6.dns[i],
						     buf, sizeof(buf)));
		}

		if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_match))
			info("    DNS forwarding: %s -> %s",
			     inet_ntop(AF_INET6, &c->ip6.dns_match, buf,
				       sizeof(buf)),
			     inet_ntop(AF_INET6, &c->ip6.dns_host, buf2,
				       sizeof(buf2)));

		for (i = 0; !c->no_dhcp_dns_search && i < MAXDNSRCH &&
			    *c->dns_search[i].n; i++) {
			if (!i)
				info("    search:");
			info("        %s", c->dns_search[i].n);
		}
	}
}
