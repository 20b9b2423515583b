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
 * solicited only once, at boot.
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
/* Our configuration never changes while we run, and we are the only router
 * on the link: the prefix stays valid as long as we do (all ones is
 * infinity, RFC 4861 4.6.2)
 */
#define PREFIX_LIFETIME		0xffffffffU

/* RDNSS and DNSSL lifetime, RFC 8106 5.1: all ones is infinity, and our
 * nameservers don't change at run time either
 */
#define DNS_LIFETIME		0xffffffffU

/* Unsolicited advertisement interval, RFC 4861 6.2.1 defaults: random
 * between MinRtrAdvInterval (0.33 * Max) and MaxRtrAdvInterval
 */
#define RA_INTERVAL_MIN		200	/* seconds */
#define RA_INTERVAL_MAX		600	/* seconds */

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

/**
 * ndp_router_addr() - Our address as a router: source of RAs and NAs for it
 * @c:		Execution context
 *
 * Return: host's default gateway if link-local (RFC 4861 4.2: RAs come from
 *	   a link-local address), else the link-local address conf.c set up
 */
static const struct in6_addr *ndp_router_addr(const struct ctx *c)
{
	if (IN6_IS_ADDR_LINKLOCAL(&c->ip6.gw))
		return &c->ip6.gw;

	return &c->ip6.addr_ll;
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
 * ndp_ra_build() - Build a Router Advertisement in ra_buf
 * @c:		Execution context
 *
 * Return: length of the message
 */
static size_t ndp_ra_build(const struct ctx *c)
{
	uint8_t *ra = ra_buf;
	size_t n = RA_LEN;
	int i;

	memset(ra_buf, 0, sizeof(ra_buf));

	/* RFC 4861 4.2 */
	ra[0] = RA;
	ra[1] = 0;
	ra[4] = RA_CUR_HOP_LIMIT;
	if (!c->no_dhcpv6)
		ra[5] = RA_FLAG_MANAGED | RA_FLAG_OTHER;
	put_be16(ra + 6, RA_ROUTER_LIFETIME);
	/* reachable time and retrans timer: 0, unspecified */

	/* RFC 4861 4.6.2: Prefix Information, the /64 of our address */
	if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr)) {
		uint8_t *o = ra + n;

		o[0] = OPT_PREFIX_INFO;
		o[1] = 4;
		o[2] = PREFIX_LEN;
		o[3] = PREFIX_FLAG_ONLINK | PREFIX_FLAG_AUTO;
		put_be32(o + 4, PREFIX_LIFETIME);	/* valid */
		put_be32(o + 8, PREFIX_LIFETIME);	/* preferred */
		memcpy(o + 16, &c->ip6.addr, PREFIX_LEN / 8);
		n += 32;
	}

	/* RFC 4861 4.6.4: MTU, ignored by hosts below the minimum anyway
	 * (RFC 4861 6.3.4), so don't send it then
	 */
	if (c->mtu >= IPV6_MIN_MTU) {
		uint8_t *o = ra + n;

		o[0] = OPT_MTU;
		o[1] = 1;
		put_be32(o + 4, (uint32_t)c->mtu);
		n += 8;
	}

	/* RFC 8106 5.1: Recursive DNS Server */
	if (!c->no_dhcp_dns) {
		uint8_t *o = ra + n;
		size_t off = 8;

		for (i = 0; i < MAXNS; i++) {
			if (IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns[i]))
				break;
			memcpy(o + off, &c->ip6.dns[i], 16);
			off += 16;
		}

		if (off > 8) {
			o[0] = OPT_RDNSS;
			o[1] = (uint8_t)(off / OPT_UNIT);
			put_be32(o + 4, DNS_LIFETIME);
			n += off;
		}
	}

	/* RFC 8106 5.2: DNS Search List, names padded to 8 bytes. Keep room
	 * for the link-layer address option
	 */
	if (!c->no_dhcp_dns_search && c->dns_search[0].n[0]) {
		size_t room = MIN(sizeof(ra_buf) - n - OPT_UNIT, OPT_MAX_LEN);
		uint8_t *o = ra + n;
		size_t off = 8;

		for (i = 0; i < MAXDNSRCH && c->dns_search[i].n[0]; i++) {
			size_t len;

			/* Leave room for padding to OPT_UNIT */
			len = dns_name_encode(o + off, room - off - (OPT_UNIT - 1),
					   c->dns_search[i].n);
			if (!len) {
				debug("NDP: search domain %.*s left out of "
				      "DNSSL", DNS_NAME_MAX,
				      c->dns_search[i].n);
				continue;
			}
			off += len;
		}

		if (off > 8) {
			off = ROUND_UP(off, OPT_UNIT);	/* zeroes: memset */
			o[0] = OPT_DNSSL;
			o[1] = (uint8_t)(off / OPT_UNIT);
			put_be32(o + 4, DNS_LIFETIME);
			n += off;
		}
	}

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

	len = ndp_ra_build(c);

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
	static time_t next;
	struct in6_addr dst;
	unsigned int r;
	size_t len;

	if (c->no_ndp || c->no_ra || !c->ifi6)
		return;

	if (IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr_ll_seen))
		return;

	if (next && now->tv_sec < next)
		return;

	raw_random(&r, sizeof(r));
	next = now->tv_sec + RA_INTERVAL_MIN +
	       (time_t)(r % (RA_INTERVAL_MAX - RA_INTERVAL_MIN + 1));

	inet_pton(AF_INET6, "ff02::1", &dst);
	len = ndp_ra_build(c);

	trace("NDP: sending unsolicited RA, next in %lld s",
	      (long long)(next - now->tv_sec));

	tap_icmp6_send(c, ndp_router_addr(c), &dst, ra_buf, len);
}

/**
 * ndp_renumber() - Tell the guest about a changed IPv6 configuration
 * @c:		Execution context, with the new configuration
 * @old:	IPv6 configuration before the change
 */
void ndp_renumber(const struct ctx *c, const struct ip6_ctx *old)
{
	(void)c;
	(void)old;
}
