// SPDX-License-Identifier: AGPL-3.0-or-later

/* PASST - Plug A Simple Socket Transport
 *  for qemu/UNIX domain socket mode
 *
 * PASTA - Pack A Subtle Tap Abstraction
 *  for network namespace/tap device mode
 *
 * ndp.c - NDP responder: Router and Neighbour Advertisements (RFC 4861)
 *
 * Theory of operation
 *
 * There is no other node on the link between us and the guest: every
 * address the guest might want to reach sits behind us. So we answer every
 * Neighbour Solicitation with our own MAC address (proxy NDP), except for
 * addresses the guest uses itself, and we never answer Duplicate Address
 * Detection probes (source ::), or the guest would think its own addresses
 * are taken.
 *
 * Router Solicitations get a Router Advertisement carrying the /64 prefix
 * of the address we assign (SLAAC), the MTU, our link-layer address, and,
 * if configured, nameservers (RDNSS) and the search list (DNSSL, RFC 8106).
 * ndp_timer() sends the same advertisement unsolicited every 200 to 600
 * seconds (RFC 4861 6.2.1 defaults), so that the default route (router
 * lifetime 9000 s, the RFC 4861 maximum) never expires in a guest that
 * solicited only once, at boot. Advertisements are built from the context
 * as it is when they're sent: nothing is cached.
 *
 * Following the host: when the host's configuration changes, follow.c
 * rewrites the context and calls ndp_renumber() with the old IPv6 part.
 * That sends an unsolicited advertisement to all nodes with the new prefix
 * and the old one with zero valid and preferred lifetimes: RFC 4862 5.5.3
 * e) makes a zero preferred lifetime deprecate the old address at once (no
 * new connections from it), and caps the valid one at two hours (the
 * address stays for the connections that still use it; Linux removes the
 * on-link route of the prefix right away). Nameservers that went away get
 * an RDNSS option with lifetime zero, search domains that went away a DNSSL
 * one (RFC 8106 5.1, 5.2: "no longer valid"); to know those, we remember
 * the names of the last DNSSL we sent. These withdrawals come from the
 * address that announced them: if our router address changed too, that is
 * a final advertisement from the old one, with router lifetime zero (RFC
 * 4861 6.2.5), before the new one. As RFC 4861 6.2.4 allows after a change,
 * the next unsolicited advertisement follows after 16 seconds
 * (MAX_INITIAL_RTR_ADVERT_INTERVAL), not 200 to 600, in case one was lost.
 *
 * Lifetimes: with --no-follow, the prefix, nameservers and search list are
 * valid forever (all ones, RFC 4861 4.6.2, RFC 8106 5.1), as the
 * configuration never changes while we run. While following, a guest that
 * misses the renumbering advertisement (not seen yet, frames dropped while
 * qemu wasn't reading) would otherwise keep a stale address as preferred
 * forever. So: preferred lifetime 1800 s, three times MaxRtrAdvInterval
 * (600 s), the value RFC 8106 5.1 recommends at least for RDNSS, so that two
 * periodic advertisements in a row can be lost; valid lifetime 7200 s, the
 * two hours of RFC 4862 5.5.3 e), which bound how long an address we
 * withdrew can linger anyway. Nameservers and the search list get 1800 s
 * too. Router lifetime stays 9000 s: a stale default route points to us
 * all the same, as everything on this link does.
 *
 * Local mode (no host interface for IPv6): no global address, so no Prefix
 * Information, and no M flag (DHCPv6 has no address to give: O stays, for
 * nameservers); the router lifetime is as usual, and our address, fe80::1,
 * is the guest's default route.
 *
 * Limits: a Router Advertisement is built to fit the IPv6 minimum MTU
 * (RFC 8200 5), so that any guest can receive it: search list entries that
 * don't fit are left out, and reported at debug level.
 *
 * Everything here comes from the guest: each length is checked against
 * the bytes received before use, with packet_get() as the only accessor.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "util.h"
#include "passt.h"
#include "packet.h"
#include "tap.h"
#include "log.h"
#include "ndp.h"

/* ICMPv6 types, RFC 4861 4 */
#define RS			133
#define RA			134
#define NS			135
#define NA			136
#define REDIRECT		137

/* NDP option types, RFC 4861 4.6, RFC 8106 5 */
#define OPT_SRC_L2_ADDR		1
#define OPT_TARGET_L2_ADDR	2
#define OPT_PREFIX_INFO		3
#define OPT_MTU			5
#define OPT_RDNSS		25
#define OPT_DNSSL		31

#define OPT_UNIT		8	/* option length unit, RFC 4861 4.6 */

/* Fixed parts of messages, including type, code and checksum */
#define ICMP6_HDR_LEN		4
#define RS_LEN			8	/* RFC 4861 4.1 */
#define RA_LEN			16	/* RFC 4861 4.2 */
#define NS_LEN			24	/* RFC 4861 4.3, 7.1.1 */
#define NA_LEN			24	/* RFC 4861 4.4 */

/* Router Advertisement fields, RFC 4861 4.2 */
#define RA_CUR_HOP_LIMIT	64	/* IANA default hop limit */
#define RA_FLAG_MANAGED		0x80	/* M: addresses via DHCPv6 */
#define RA_FLAG_OTHER		0x40	/* O: other config via DHCPv6 */
#define RA_ROUTER_LIFETIME	9000	/* RFC 4861 6.2.1 maximum, seconds */

/* Neighbour Advertisement flags, RFC 4861 4.4 */
#define NA_FLAG_ROUTER		0x80
#define NA_FLAG_SOLICITED	0x40
#define NA_FLAG_OVERRIDE	0x20

/* Prefix Information flags and lifetimes, RFC 4861 4.6.2 */
#define PREFIX_FLAG_ONLINK	0x80	/* L */
#define PREFIX_FLAG_AUTO	0x40	/* A: SLAAC, RFC 4862 5.5.3 */
#define PREFIX_LEN		64	/* RFC 4862 5.5.3 d), RFC 4291 2.5.1 */
/* Unsolicited advertisement interval, RFC 4861 6.2.1 defaults: random
 * between MinRtrAdvInterval (0.33 * Max) and MaxRtrAdvInterval
 */
#define RA_INTERVAL_MIN		200	/* seconds */
#define RA_INTERVAL_MAX		600	/* seconds */
/* RFC 4861 10, MAX_INITIAL_RTR_ADVERT_INTERVAL: the next one after a
 * change comes sooner
 */
#define RA_INTERVAL_CHANGE	16	/* seconds */

/* With --no-follow, our configuration never changes while we run, and we
 * are the only router on the link: the prefix stays valid as long as we do
 * (all ones is infinity, RFC 4861 4.6.2), and so do nameservers and search
 * domains (RFC 8106 5.1)
 */
#define LIFETIME_INFINITE	0xffffffffU

/* While following the host, see the theory of operation: preferred and
 * RDNSS/DNSSL lifetimes as RFC 8106 5.1 recommends, valid lifetime the two
 * hours of RFC 4862 5.5.3 e)
 */
#define PREFIX_PREFERRED_FOLLOW	(3 * RA_INTERVAL_MAX)
#define PREFIX_VALID_FOLLOW	7200
#define DNS_LIFETIME_FOLLOW	(3 * RA_INTERVAL_MAX)

/* Largest advertisement we build: fits the IPv6 minimum MTU */
#define RA_MAX_LEN		(IPV6_MIN_MTU - IP6_HDR_LEN)

/* Length byte of an NDP option holds units of 8 bytes: 255 at most */
#define OPT_MAX_LEN		(255UL * OPT_UNIT)

/**
 * struct ndp_stats - Counters of dropped or ignored NDP input
 */
static struct ndp_stats {
	unsigned long bad_len;		/* truncated message or option */
	unsigned long bad_opt;		/* zero-length or malformed option */
	unsigned long bad_field;	/* non-zero code, bad target, ... */
	unsigned long dad;		/* DAD probes, deliberately ignored */
	unsigned long own;		/* NS for the guest's own address */
	unsigned long ignored;		/* RA, NA, Redirect, disabled */
} ndp_stats;

static uint8_t ra_buf[RA_MAX_LEN];

/* Names in the last DNSSL option we sent with a non-zero lifetime, so that
 * those that went away can be withdrawn (RFC 8106 5.2)
 */
static struct fqdn ndp_dnssl_sent[MAXDNSRCH + 1];

/* Next unsolicited advertisement, and whether it should come sooner */
static time_t ndp_ra_next;
static bool ndp_ra_changed;

/**
 * ndp_router_addr6() - Router address for an IPv6 configuration
 * @ip6:	IPv6 configuration, current or old
 *
 * Return: host's default gateway if link-local (RFC 4861 4.2: RAs come from
 *	   a link-local address), else the link-local address conf.c set up
 */
static const struct in6_addr *ndp_router_addr6(const struct ip6_ctx *ip6)
{
	if (IN6_IS_ADDR_LINKLOCAL(&ip6->gw))
		return &ip6->gw;

	return &ip6->addr_ll;
}

/**
 * ndp_router_addr() - Our address as a router: source of RAs and NAs for it
 * @c:		Execution context
 *
 * Return: see ndp_router_addr6()
 */
static const struct in6_addr *ndp_router_addr(const struct ctx *c)
{
	return ndp_router_addr6(&c->ip6);
}

/**
 * ndp_opts_valid() - Walk options of an NDP message, check their lengths
 * @p:		Pool with the ICMPv6 message as packet 0
 * @off:	Offset of the first option
 * @src_l2:	Set if a Source Link-Layer Address option is present
 *
 * Return: 0 if every option is well-formed, -1 to drop the message
 */
static int ndp_opts_valid(const struct pool *p, size_t off, bool *src_l2)
{
	size_t left;

	*src_l2 = false;

	/* Nothing after the fixed part: no options */
	if (!packet_get(p, 0, 0, off, &left))
		goto too_short;

	while (left) {
		const uint8_t *opt;
		size_t len;

		if (!(opt = packet_get(p, 0, off, 2, NULL)))
			goto too_short;

		/* RFC 4861 4.6, 7.1.1: length 0 is invalid, drop all */
		if (!opt[1]) {
			ndp_stats.bad_opt++;
			return -1;
		}

		len = (size_t)opt[1] * OPT_UNIT;
		if (len > left)
			goto too_short;

		if (opt[0] == OPT_SRC_L2_ADDR)
			*src_l2 = true;

		off += len;
		left -= len;
	}

	return 0;

too_short:
	ndp_stats.bad_len++;
	return -1;
}

/**
 * ndp_is_guest_addr() - Is @a one of the addresses the guest uses itself?
 * @c:		Execution context
 * @a:		Address to check
 *
 * Return: true if @a is assigned, or was seen as source, on the guest side
 */
static bool ndp_is_guest_addr(const struct ctx *c, const struct in6_addr *a)
{
	return IN6_ARE_ADDR_EQUAL(a, &c->ip6.addr) ||
	       IN6_ARE_ADDR_EQUAL(a, &c->ip6.addr_seen) ||
	       IN6_ARE_ADDR_EQUAL(a, &c->ip6.addr_ll_seen);
}

/**
 * ndp_na() - Answer a Neighbour Solicitation, as proxy for everybody else
 * @c:		Execution context
 * @saddr:	Source address of the solicitation
 * @p:		Pool with the ICMPv6 message as packet 0
 */
static void ndp_na(const struct ctx *c, const struct in6_addr *saddr,
		   const struct pool *p)
{
	uint8_t na[NA_LEN + OPT_UNIT] = { 0 };
	struct in6_addr target;
	const uint8_t *ns;
	bool src_l2;

	/* RFC 4861 7.1.1: at least 24 bytes, then well-formed options */
	if (!(ns = packet_get(p, 0, 0, NS_LEN, NULL))) {
		ndp_stats.bad_len++;
		return;
	}
	if (ndp_opts_valid(p, NS_LEN, &src_l2))
		return;

	memcpy(&target, ns + 8, sizeof(target));

	/* RFC 4861 7.1.1: target is not multicast */
	if (IN6_IS_ADDR_MULTICAST(&target) ||
	    IN6_IS_ADDR_UNSPECIFIED(&target)) {
		ndp_stats.bad_field++;
		return;
	}

	/* RFC 4861 7.1.1: no source link-layer address option in DAD probes,
	 * and RFC 4862 5.4.3: answering a DAD probe would make the guest
	 * give up an address it is entitled to
	 */
	if (IN6_IS_ADDR_UNSPECIFIED(saddr)) {
		if (src_l2)
			ndp_stats.bad_field++;
		else
			ndp_stats.dad++;
		return;
	}

	if (IN6_IS_ADDR_MULTICAST(saddr)) {
		ndp_stats.bad_field++;
		return;
	}

	/* Address resolution for, or reachability of, the guest's own
	 * addresses: somebody else (the guest) owns them
	 */
	if (ndp_is_guest_addr(c, &target) || IN6_ARE_ADDR_EQUAL(&target, saddr)) {
		ndp_stats.own++;
		return;
	}

	/* RFC 4861 4.4 */
	na[0] = NA;
	na[1] = 0;
	na[4] = NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE;
	if (IN6_ARE_ADDR_EQUAL(&target, ndp_router_addr(c)) ||
	    IN6_ARE_ADDR_EQUAL(&target, &c->ip6.gw))
		na[4] |= NA_FLAG_ROUTER;
	memcpy(na + 8, &target, sizeof(target));

	/* RFC 4861 4.6.1: Target Link-Layer Address */
	na[NA_LEN] = OPT_TARGET_L2_ADDR;
	na[NA_LEN + 1] = 1;
	memcpy(na + NA_LEN + 2, c->mac, sizeof(c->mac));

	debug("NDP: received NS, sending NA");

	/* RFC 4861 7.2.4: from the target address, to the solicitor */
	tap_icmp6_send(c, &target, saddr, na, sizeof(na));
}

/**
 * ndp_prefix_eq() - Do two addresses share the /64 prefix we announce?
 * @a:		First address
 * @b:		Second address
 *
 * Return: true if the first PREFIX_LEN bits are the same
 */
static bool ndp_prefix_eq(const struct in6_addr *a, const struct in6_addr *b)
{
	return !memcmp(a, b, PREFIX_LEN / 8);
}

/**
 * ndp_name_eq() - Are two domain names the same, case and final dot aside?
 * @a:		First name, NUL-terminated
 * @b:		Second name, NUL-terminated
 *
 * Return: true if they encode the same way, RFC 4343
 */
static bool ndp_name_eq(const char *a, const char *b)
{
	size_t la = strnlen(a, DNS_NAME_MAX), lb = strnlen(b, DNS_NAME_MAX);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;

	return la == lb && !strncasecmp(a, b, la);
}

/**
 * ndp_dns_has() - Is an address in a nameserver list?
 * @dns:	List, MAXNS entries at most, terminated by an unspecified one
 * @a:		Address
 *
 * Return: true if found
 */
static bool ndp_dns_has(const struct in6_addr *dns, const struct in6_addr *a)
{
	int i;

	for (i = 0; i < MAXNS && !IN6_IS_ADDR_UNSPECIFIED(&dns[i]); i++) {
		if (IN6_ARE_ADDR_EQUAL(&dns[i], a))
			return true;
	}

	return false;
}

/**
 * ndp_search_has() - Is a name in a search list?
 * @list:	List, MAXDNSRCH entries at most, terminated by an empty one
 * @name:	Name
 *
 * Return: true if found
 */
static bool ndp_search_has(const struct fqdn *list, const char *name)
{
	int i;

	for (i = 0; i < MAXDNSRCH && list[i].n[0]; i++) {
		if (ndp_name_eq(list[i].n, name))
			return true;
	}

	return false;
}

/**
 * ndp_opt_prefix() - Append a Prefix Information option, RFC 4861 4.6.2
 * @n:		Current length of the advertisement in ra_buf, updated
 * @end:	Offset the option must end before
 * @addr:	Address whose /64 we announce
 * @valid:	Valid lifetime, seconds
 * @preferred:	Preferred lifetime, seconds
 */
static void ndp_opt_prefix(size_t *n, size_t end, const struct in6_addr *addr,
			   uint32_t valid, uint32_t preferred)
{
	uint8_t *o = ra_buf + *n;

	if (*n + 32 > end)
		return;

	o[0] = OPT_PREFIX_INFO;
	o[1] = 4;
	o[2] = PREFIX_LEN;
	o[3] = PREFIX_FLAG_ONLINK | PREFIX_FLAG_AUTO;
	put_be32(o + 4, valid);
	put_be32(o + 8, preferred);
	/* reserved, then the prefix, with bits past PREFIX_LEN zero */
	memset(o + 12, 0, 20);
	memcpy(o + 16, addr, PREFIX_LEN / 8);
	*n += 32;
}

/**
 * ndp_opt_rdnss() - Append a Recursive DNS Server option, RFC 8106 5.1
 * @n:		Current length of the advertisement in ra_buf, updated
 * @end:	Offset the option must end before
 * @dns:	Nameservers, terminated by an unspecified address
 * @skip:	Leave out those also in this list, or NULL
 * @lifetime:	Lifetime, seconds: zero withdraws them
 */
static void ndp_opt_rdnss(size_t *n, size_t end, const struct in6_addr *dns,
			  const struct in6_addr *skip, uint32_t lifetime)
{
	uint8_t *o = ra_buf + *n;
	size_t off = 8;
	int i;

	for (i = 0; i < MAXNS && !IN6_IS_ADDR_UNSPECIFIED(&dns[i]); i++) {
		if (skip && ndp_dns_has(skip, &dns[i]))
			continue;
		if (*n + off + 16 > end)
			break;
		memcpy(o + off, &dns[i], 16);
		off += 16;
	}

	if (off == 8)
		return;

	o[0] = OPT_RDNSS;
	o[1] = (uint8_t)(off / OPT_UNIT);
	put_be16(o + 2, 0);		/* reserved */
	put_be32(o + 4, lifetime);
	*n += off;
}

/**
 * ndp_opt_dnssl() - Append a DNS Search List option, RFC 8106 5.2
 * @n:		Current length of the advertisement in ra_buf, updated
 * @end:	Offset the option must end before
 * @list:	Names, terminated by an empty one
 * @skip:	Leave out those also in this list, or NULL
 * @lifetime:	Lifetime, seconds: zero withdraws them
 * @sent:	Record the names that fit here, or NULL
 *
 * Names are padded to 8 bytes. Those that don't fit are left out, and
 * reported at debug level.
 */
static void ndp_opt_dnssl(size_t *n, size_t end, const struct fqdn *list,
			  const struct fqdn *skip, uint32_t lifetime,
			  struct fqdn *sent)
{
	size_t room = MIN(end - MIN(end, *n), OPT_MAX_LEN);
	uint8_t *o = ra_buf + *n;
	size_t off = 8;
	int i, n_sent = 0;

	if (room < 8 + OPT_UNIT)
		goto out;

	for (i = 0; i < MAXDNSRCH && list[i].n[0]; i++) {
		size_t len;

		if (skip && ndp_search_has(skip, list[i].n))
			continue;

		/* Leave room for padding to OPT_UNIT */
		len = dns_name_encode(o + off, room - off - (OPT_UNIT - 1),
				      list[i].n);
		if (!len) {
			debug("NDP: search domain %.*s left out of DNSSL",
			      DNS_NAME_MAX, list[i].n);
			continue;
		}
		off += len;
		if (sent)
			sent[n_sent++] = list[i];
	}

	if (off > 8) {
		size_t padded = ROUND_UP(off, OPT_UNIT);

		memset(o + off, 0, padded - off);
		o[0] = OPT_DNSSL;
		o[1] = (uint8_t)(padded / OPT_UNIT);
		put_be16(o + 2, 0);		/* reserved */
		put_be32(o + 4, lifetime);
		*n += padded;
	}

out:
	if (sent)
		sent[n_sent].n[0] = 0;
}

/**
 * ndp_ra_build() - Build a Router Advertisement in ra_buf
 * @c:		Execution context
 * @old:	Configuration before a change: withdraw what went away, or NULL
 * @final:	Final advertisement from the old router address (needs @old):
 *		router lifetime zero, withdrawals only
 *
 * Return: length of the message
 */
static size_t ndp_ra_build(const struct ctx *c, const struct ip6_ctx *old,
			   bool final)
{
	uint32_t valid = LIFETIME_INFINITE, preferred = LIFETIME_INFINITE;
	uint32_t dns_lifetime = LIFETIME_INFINITE;
	/* RFC 4861 4.6.1: keep room for the Source Link-Layer Address */
	size_t n = RA_LEN, end = sizeof(ra_buf) - OPT_UNIT;
	bool has_addr = !IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr);
	struct fqdn dnssl_sent[MAXDNSRCH + 1];
	uint8_t *ra = ra_buf;

	if (!c->no_follow) {
		valid = PREFIX_VALID_FOLLOW;
		preferred = PREFIX_PREFERRED_FOLLOW;
		dns_lifetime = DNS_LIFETIME_FOLLOW;
	}

	memset(ra_buf, 0, sizeof(ra_buf));

	/* RFC 4861 4.2 */
	ra[0] = RA;
	ra[1] = 0;
	ra[4] = RA_CUR_HOP_LIMIT;
	/* Managed only if DHCPv6 has an address to give (not in local mode) */
	if (!c->no_dhcpv6)
		ra[5] = (has_addr ? RA_FLAG_MANAGED : 0) | RA_FLAG_OTHER;
	/* RFC 4861 6.2.5: a router that goes away says so with lifetime 0 */
	put_be16(ra + 6, final ? 0 : RA_ROUTER_LIFETIME);
	/* reachable time and retrans timer: 0, unspecified */

	dnssl_sent[0].n[0] = 0;
	if (final)
		goto withdraw;

	/* RFC 4861 4.6.2: Prefix Information, the /64 of our address */
	if (has_addr)
		ndp_opt_prefix(&n, end, &c->ip6.addr, valid, preferred);

	/* RFC 4861 4.6.4: MTU, ignored by hosts below the minimum anyway
	 * (RFC 4861 6.3.4), so don't send it then
	 */
	if (c->mtu >= IPV6_MIN_MTU && n + 8 <= end) {
		uint8_t *o = ra + n;

		o[0] = OPT_MTU;
		o[1] = 1;
		put_be32(o + 4, (uint32_t)c->mtu);
		n += 8;
	}

	/* RFC 8106 5.1: Recursive DNS Server */
	if (!c->no_dhcp_dns)
		ndp_opt_rdnss(&n, end, c->ip6.dns, NULL, dns_lifetime);

	/* RFC 8106 5.2: DNS Search List */
	if (!c->no_dhcp_dns_search)
		ndp_opt_dnssl(&n, end, c->dns_search, NULL, dns_lifetime,
			      dnssl_sent);

withdraw:
	if (old) {
		bool old_addr = !IN6_IS_ADDR_UNSPECIFIED(&old->addr);

		/* RFC 4862 5.5.3 e): deprecated at once, gone in 2 hours */
		if (old_addr &&
		    (!has_addr || !ndp_prefix_eq(&old->addr, &c->ip6.addr)))
			ndp_opt_prefix(&n, end, &old->addr, 0, 0);

		/* RFC 8106 5.1, 5.2: lifetime 0, no longer valid */
		if (!c->no_dhcp_dns)
			ndp_opt_rdnss(&n, end, old->dns, c->ip6.dns, 0);
		if (!c->no_dhcp_dns_search)
			ndp_opt_dnssl(&n, end, ndp_dnssl_sent, c->dns_search,
				      0, NULL);
	}

	if (!final)
		memcpy(ndp_dnssl_sent, dnssl_sent, sizeof(ndp_dnssl_sent));

	/* RFC 4861 4.6.1: Source Link-Layer Address */
	ra[n] = OPT_SRC_L2_ADDR;
	ra[n + 1] = 1;
	memcpy(ra + n + 2, c->mac, sizeof(c->mac));
	n += 8;

	return n;
}

/**
 * ndp_ra() - Answer a Router Solicitation
 * @c:		Execution context
 * @saddr:	Source address of the solicitation
 * @p:		Pool with the ICMPv6 message as packet 0
 */
static void ndp_ra(const struct ctx *c, const struct in6_addr *saddr,
		   const struct pool *p)
{
	struct in6_addr dst = IN6ADDR_ANY_INIT;
	bool src_l2;
	size_t len;

	/* RFC 4861 6.1.1: at least 8 bytes, then well-formed options */
	if (!packet_get(p, 0, 0, RS_LEN, NULL)) {
		ndp_stats.bad_len++;
		return;
	}
	if (ndp_opts_valid(p, RS_LEN, &src_l2))
		return;

	/* RFC 4861 6.1.1: no source link-layer address from :: */
	if (IN6_IS_ADDR_UNSPECIFIED(saddr) && src_l2) {
		ndp_stats.bad_field++;
		return;
	}

	if (IN6_IS_ADDR_MULTICAST(saddr)) {
		ndp_stats.bad_field++;
		return;
	}

	/* RFC 4861 6.2.6: unicast to the solicitor, all-nodes if it has no
	 * address yet
	 */
	if (IN6_IS_ADDR_UNSPECIFIED(saddr))
		inet_pton(AF_INET6, "ff02::1", &dst);
	else
		dst = *saddr;

	len = ndp_ra_build(c, NULL, false);

	debug("NDP: received RS, sending RA");

	tap_icmp6_send(c, ndp_router_addr(c), &dst, ra_buf, len);
}

/**
 * ndp() - Handle an NDP message from the guest
 * @c:		Execution context
 * @saddr:	IPv6 source address of the message
 * @p:		Pool with the ICMPv6 message as packet 0
 *
 * Return: 1 if this was an NDP message (answered or deliberately ignored),
 *	   0 for any other ICMPv6 type: the caller handles it
 */
int ndp(const struct ctx *c, const struct in6_addr *saddr,
	const struct pool *p)
{
	const uint8_t *hdr;

	if (!(hdr = packet_get(p, 0, 0, ICMP6_HDR_LEN, NULL)))
		return 0;

	if (hdr[0] < RS || hdr[0] > REDIRECT)
		return 0;

	if (c->no_ndp) {
		ndp_stats.ignored++;
		return 1;
	}

	/* RFC 4861 6.1.1, 7.1.1: code is 0 */
	if (hdr[1]) {
		ndp_stats.bad_field++;
		return 1;
	}

	switch (hdr[0]) {
	case RS:
		if (c->no_ra) {
			ndp_stats.ignored++;
			break;
		}
		ndp_ra(c, saddr, p);
		break;
	case NS:
		ndp_na(c, saddr, p);
		break;
	default:
		/* RA, NA, Redirect from the guest: nothing for us to do */
		ndp_stats.ignored++;
		break;
	}

	return 1;
}

/**
 * ndp_timer() - Send unsolicited Router Advertisements, RFC 4861 6.2.4
 * @c:		Execution context
 * @now:	Current time
 *
 * Call at least every few seconds. Nothing is sent before the guest has
 * shown up with an IPv6 link-local address: it will solicit first anyway.
 */
void ndp_timer(const struct ctx *c, const struct timespec *now)
{
	struct in6_addr dst;
	unsigned int r;
	size_t len;

	if (c->no_ndp || c->no_ra || !c->ifi6)
		return;

	if (IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_ll_seen))
		return;

	/* RFC 4861 6.2.4: after a change, the next one comes sooner */
	if (ndp_ra_changed) {
		ndp_ra_changed = false;
		ndp_ra_next = now->tv_sec + RA_INTERVAL_CHANGE;
	}

	if (ndp_ra_next && now->tv_sec < ndp_ra_next)
		return;

	raw_random(&r, sizeof(r));
	ndp_ra_next = now->tv_sec + RA_INTERVAL_MIN +
		      (time_t)(r % (RA_INTERVAL_MAX - RA_INTERVAL_MIN + 1));

	inet_pton(AF_INET6, "ff02::1", &dst);
	len = ndp_ra_build(c, NULL, false);

	trace("NDP: sending unsolicited RA, next in %lld s",
	      (long long)(ndp_ra_next - now->tv_sec));

	tap_icmp6_send(c, ndp_router_addr(c), &dst, ra_buf, len);
}

/**
 * ndp_renumber() - Tell the guest about a changed IPv6 configuration
 * @c:		Execution context, with the new configuration
 * @old:	IPv6 configuration before the change
 *
 * Call after any change of the IPv6 configuration or of the search list
 * (while following the host: never with --no-follow). Sends, to all nodes:
 * if our router address changed, a final advertisement from the old one
 * (router lifetime zero, withdrawing the old prefix if it changed, and
 * nameservers and search domains that went away), then an advertisement of
 * the current configuration, carrying those withdrawals itself if the
 * router address is the same. Nothing is sent before the guest has shown
 * up (it will solicit), or with --no-ndp, --no-ra or IPv6 disabled.
 */
void ndp_renumber(const struct ctx *c, const struct ip6_ctx *old)
{
	const struct in6_addr *router = ndp_router_addr(c);
	const struct in6_addr *router_old = ndp_router_addr6(old);
	bool moved = !IN6_ARE_ADDR_EQUAL(router, router_old);
	struct in6_addr dst;
	size_t len;

	if (c->no_ndp || c->no_ra || !c->ifi6)
		return;

	if (IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_ll_seen))
		return;

	inet_pton(AF_INET6, "ff02::1", &dst);

	if (moved && !IN6_IS_ADDR_UNSPECIFIED(router_old)) {
		len = ndp_ra_build(c, old, true);
		debug("NDP: router address changed, final RA from the old one");
		tap_icmp6_send(c, router_old, &dst, ra_buf, len);
	}

	len = ndp_ra_build(c, moved ? NULL : old, false);
	debug("NDP: configuration changed, sending RA");
	tap_icmp6_send(c, router, &dst, ra_buf, len);

	ndp_ra_changed = true;
}
