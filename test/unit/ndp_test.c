// SPDX-License-Identifier: AGPL-3.0-or-later

/* ndp_test.c - Unit tests for ndp.c: feed Router and Neighbour
 * Solicitations, well-formed and not, and parse the answers back
 *
 * Build and run (from test/unit):
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -g -fsanitize=address,undefined \
 *      -I../.. ndp_test.c -o ndp_test && ./ndp_test
 *
 * ndp.c is included, and what it needs from other modules is stubbed here:
 * tap_icmp6_send() captures the reply, packet_get_do() does the bounds
 * check packet.c does.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../ndp.c"
#include "../../util.c"
#include "../../packet.c"
#include "../../log.c"
#include "unit.h"

/* Captured reply, the last one */
static struct {
	int sent;
	struct in6_addr src, dst;
	uint8_t msg[2048];
	size_t len;
} out;

/* All replies since the last reset, in order (ndp_renumber() sends two) */
static struct {
	struct in6_addr src, dst;
	uint8_t msg[2048];
	size_t len;
} outs[4];

void tap_icmp6_send(const struct ctx *c, const struct in6_addr *src,
		    const struct in6_addr *dst, const void *in, size_t len)
{
	(void)c;
	if (out.sent < 4 && len <= sizeof(outs[0].msg)) {
		outs[out.sent].src = *src;
		outs[out.sent].dst = *dst;
		memcpy(outs[out.sent].msg, in, len);
		outs[out.sent].len = len;
	}
	out.sent++;
	out.src = *src;
	out.dst = *dst;
	if (len > sizeof(out.msg)) {
		fprintf(stderr, "reply too long: %zu\n", len);
		abort();
	}
	memcpy(out.msg, in, len);
	out.len = len;
}

static struct ctx ctx;
static const unsigned char our_mac[6] = { 0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55 };

static void ctx_init(void)
{
	memset(&ctx, 0, sizeof(ctx));
	memcpy(ctx.mac, our_mac, 6);
	ctx.ifi6 = 2;
	ctx.mtu = 65520;
	ctx.ip6.addr = a6("2001:db8::2");
	ctx.ip6.addr_seen = a6("2001:db8::2");
	ctx.ip6.addr_ll = a6("fe80::1:2");
	ctx.ip6.gw = a6("2001:db8::1");
	ctx.ip6.dns[0] = a6("2001:db8:1::1");
	ctx.ip6.dns[1] = a6("2001:db8:1::53");
	strcpy(ctx.dns_search[0].n, "example.com");
	strcpy(ctx.dns_search[1].n, "test.");
}

/* Feed one ICMPv6 message */
static int feed(const char *saddr, const void *msg, size_t len)
{
	static uint8_t buf[4096];
	struct in6_addr s = a6(saddr);

	memcpy(buf, msg, len);
	{
		PACKET_POOL_P1(p, buf, len);

		memset(&out, 0, sizeof(out));
		return ndp(&ctx, &s, &p);
	}
}

/* RS with an optional source link-layer address option */
static size_t rs_build(uint8_t *m, bool sll)
{
	memset(m, 0, 16);
	m[0] = RS;
	if (!sll)
		return 8;
	m[8] = 1;
	m[9] = 1;
	memcpy(m + 10, "\x52\x54\x00\x12\x34\x56", 6);
	return 16;
}

static size_t ns_build(uint8_t *m, const char *target, bool sll)
{
	struct in6_addr t = a6(target);

	memset(m, 0, 32);
	m[0] = NS;
	memcpy(m + 8, &t, 16);
	if (!sll)
		return 24;
	m[24] = 1;
	m[25] = 1;
	memcpy(m + 26, "\x52\x54\x00\x12\x34\x56", 6);
	return 32;
}

/* Parsed Router Advertisement */
struct ra_parsed {
	int ok;
	int hop, flags, lifetime;
	int has_prefix, prefix_len, prefix_flags;
	uint32_t valid, preferred;
	struct in6_addr prefix;
	int n_prefix;			/* all of them, in order */
	struct in6_addr prefixes[4];
	uint32_t valids[4], preferreds[4];
	uint32_t mtu;
	int n_dns;
	struct in6_addr dns[8];
	uint32_t dns_lifetime[8];
	char search[16][256];
	uint32_t search_lifetime[16];
	int n_search;
	int has_sll;
	uint8_t sll[6];
};

static void dns_names_parse(const uint8_t *d, size_t len, struct ra_parsed *r,
			    uint32_t lifetime)
{
	size_t i = 0;

	while (i < len && d[i]) {
		char name[256] = "";
		size_t n = 0;

		while (i < len && d[i]) {
			size_t l = d[i++];

			if (l > 63 || i + l > len || n + l + 2 > sizeof(name))
				return;
			if (n)
				name[n++] = '.';
			memcpy(name + n, d + i, l);
			n += l;
			name[n] = 0;
			i += l;
		}
		i++;	/* root */
		if (r->n_search < 16) {
			r->search_lifetime[r->n_search] = lifetime;
			strcpy(r->search[r->n_search++], name);
		}
	}
	/* rest is padding: must be zero */
	for (; i < len; i++)
		if (d[i])
			return;
}

static struct ra_parsed ra_parse(const uint8_t *m, size_t len)
{
	struct ra_parsed r = { 0 };
	size_t off = 16;

	if (len < 16 || m[0] != RA || m[1] != 0)
		return r;

	r.hop = m[4];
	r.flags = m[5];
	r.lifetime = get_be16(m + 6);
	if (get_be32(m + 8) || get_be32(m + 12))
		return r;

	while (off < len) {
		size_t olen;

		if (len - off < 2 || !m[off + 1])
			return r;
		olen = m[off + 1] * 8U;
		if (olen > len - off)
			return r;

		switch (m[off]) {
		case OPT_PREFIX_INFO:
			if (olen != 32 || r.n_prefix >= 4)
				return r;
			memcpy(&r.prefixes[r.n_prefix], m + off + 16, 16);
			r.valids[r.n_prefix] = get_be32(m + off + 4);
			r.preferreds[r.n_prefix++] = get_be32(m + off + 8);
			if (r.has_prefix)
				break;
			r.has_prefix = 1;
			r.prefix_len = m[off + 2];
			r.prefix_flags = m[off + 3];
			r.valid = get_be32(m + off + 4);
			r.preferred = get_be32(m + off + 8);
			memcpy(&r.prefix, m + off + 16, 16);
			break;
		case OPT_MTU:
			if (olen != 8)
				return r;
			r.mtu = get_be32(m + off + 4);
			break;
		case OPT_RDNSS:
			if ((olen - 8) % 16)
				return r;
			for (size_t i = 8; i < olen && r.n_dns < 8; i += 16) {
				r.dns_lifetime[r.n_dns] = get_be32(m + off + 4);
				memcpy(&r.dns[r.n_dns++], m + off + i, 16);
			}
			break;
		case OPT_DNSSL:
			dns_names_parse(m + off + 8, olen - 8, &r,
					get_be32(m + off + 4));
			break;
		case OPT_SRC_L2_ADDR:
			if (olen != 8)
				return r;
			r.has_sll = 1;
			memcpy(r.sll, m + off + 2, 6);
			break;
		default:
			return r;
		}
		off += olen;
	}

	r.ok = 1;
	return r;
}

static void test_rs(void)
{
	struct in6_addr router = a6("fe80::1:2"), guest = a6("fe80::5");
	struct ra_parsed r;
	uint8_t m[64];
	size_t len;

	len = rs_build(m, true);
	CHECK(feed("fe80::5", m, len) == 1);
	CHECK(out.sent == 1);
	CHECK(IN6_ARE_ADDR_EQUAL(&out.src, &router));
	CHECK(IN6_ARE_ADDR_EQUAL(&out.dst, &guest));

	r = ra_parse(out.msg, out.len);
	CHECK(r.ok);
	CHECK(r.hop == 64);
	CHECK(r.flags == (RA_FLAG_MANAGED | RA_FLAG_OTHER));
	CHECK(r.lifetime == 9000);
	CHECK(r.has_prefix && r.prefix_len == 64);
	CHECK(r.prefix_flags == 0xc0);
	CHECK(r.valid && r.preferred && r.preferred <= r.valid);
	{
		struct in6_addr pfx = a6("2001:db8::");

		CHECK(IN6_ARE_ADDR_EQUAL(&r.prefix, &pfx));
	}
	CHECK(r.mtu == 65520);
	CHECK(r.n_dns == 2);
	CHECK(IN6_ARE_ADDR_EQUAL(&r.dns[0], &ctx.ip6.dns[0]));
	CHECK(IN6_ARE_ADDR_EQUAL(&r.dns[1], &ctx.ip6.dns[1]));
	CHECK(r.n_search == 2);
	CHECK(!strcmp(r.search[0], "example.com"));
	CHECK(!strcmp(r.search[1], "test"));
	CHECK(r.has_sll && !memcmp(r.sll, our_mac, 6));

	/* No address yet: all-nodes */
	len = rs_build(m, false);
	CHECK(feed("::", m, len) == 1);
	CHECK(out.sent == 1);
	{
		struct in6_addr all = a6("ff02::1");

		CHECK(IN6_ARE_ADDR_EQUAL(&out.dst, &all));
	}

	/* Link-local gateway is the source */
	ctx.ip6.gw = a6("fe80::1");
	CHECK(feed("fe80::5", m, len) == 1);
	{
		struct in6_addr gw = a6("fe80::1");

		CHECK(out.sent == 1 && IN6_ARE_ADDR_EQUAL(&out.src, &gw));
	}
	ctx_init();

	/* Options switched off */
	ctx.no_dhcp_dns = 1;
	ctx.no_dhcp_dns_search = 1;
	ctx.no_dhcpv6 = 1;
	ctx.mtu = 0;
	CHECK(feed("fe80::5", m, len) == 1);
	r = ra_parse(out.msg, out.len);
	CHECK(r.ok && r.flags == 0 && r.n_dns == 0 && r.n_search == 0);
	CHECK(r.mtu == 0 && r.has_prefix && r.has_sll);
	ctx_init();

	/* MTU below the IPv6 minimum: not sent */
	ctx.mtu = 576;
	CHECK(feed("fe80::5", m, len) == 1);
	r = ra_parse(out.msg, out.len);
	CHECK(r.ok && r.mtu == 0);
	ctx_init();
}

static void test_rs_bad(void)
{
	uint8_t m[64];
	size_t len;

	/* Source link-layer address from :: is invalid, RFC 4861 6.1.1 */
	len = rs_build(m, true);
	CHECK(feed("::", m, len) == 1 && !out.sent);

	/* Option of length 0 */
	len = rs_build(m, true);
	m[9] = 0;
	CHECK(feed("fe80::5", m, len) == 1 && !out.sent);

	/* Option running past the end */
	len = rs_build(m, true);
	m[9] = 2;
	CHECK(feed("fe80::5", m, len) == 1 && !out.sent);

	/* Option header cut in half */
	len = rs_build(m, false);
	m[8] = 1;
	CHECK(feed("fe80::5", m, 9) == 1 && !out.sent);

	/* Truncated body */
	len = rs_build(m, false);
	CHECK(feed("fe80::5", m, 6) == 1 && !out.sent);
	CHECK(feed("fe80::5", m, 3) == 0 && !out.sent);
	CHECK(feed("fe80::5", m, 0) == 0 && !out.sent);

	/* Non-zero code */
	len = rs_build(m, false);
	m[1] = 1;
	CHECK(feed("fe80::5", m, len) == 1 && !out.sent);

	/* Switched off */
	len = rs_build(m, false);
	ctx.no_ra = 1;
	CHECK(feed("fe80::5", m, len) == 1 && !out.sent);
	ctx_init();
	ctx.no_ndp = 1;
	CHECK(feed("fe80::5", m, len) == 1 && !out.sent);
	ctx_init();

	/* Multicast source */
	CHECK(feed("ff02::1", m, len) == 1 && !out.sent);
}

static void test_ns(void)
{
	struct in6_addr guest = a6("2001:db8::2"), t;
	uint8_t m[64];
	size_t len;

	/* Gateway: router flag */
	len = ns_build(m, "2001:db8::1", true);
	CHECK(feed("2001:db8::2", m, len) == 1);
	CHECK(out.sent == 1 && out.len == 32);
	t = a6("2001:db8::1");
	CHECK(IN6_ARE_ADDR_EQUAL(&out.src, &t));
	CHECK(IN6_ARE_ADDR_EQUAL(&out.dst, &guest));
	CHECK(out.msg[0] == NA && out.msg[1] == 0);
	CHECK(out.msg[4] == 0xe0);
	CHECK(!memcmp(out.msg + 8, &t, 16));
	CHECK(out.msg[24] == 2 && out.msg[25] == 1);
	CHECK(!memcmp(out.msg + 26, our_mac, 6));

	/* Router link-local */
	len = ns_build(m, "fe80::1:2", false);
	CHECK(feed("fe80::5", m, len) == 1 && out.sent == 1);
	CHECK(out.msg[4] == 0xe0);

	/* Anybody else: proxied, solicited and override only */
	len = ns_build(m, "2001:db8:1::1", false);
	CHECK(feed("2001:db8::2", m, len) == 1 && out.sent == 1);
	CHECK(out.msg[4] == 0x60);
	t = a6("2001:db8:1::1");
	CHECK(!memcmp(out.msg + 8, &t, 16));

	/* DAD probe: never answered */
	len = ns_build(m, "2001:db8::77", false);
	CHECK(feed("::", m, len) == 1 && !out.sent);
	len = ns_build(m, "fe80::5", false);
	CHECK(feed("::", m, len) == 1 && !out.sent);

	/* The guest's own addresses */
	len = ns_build(m, "2001:db8::2", false);
	CHECK(feed("fe80::5", m, len) == 1 && !out.sent);
	ctx.ip6.addr_ll_seen = a6("fe80::5");
	len = ns_build(m, "fe80::5", false);
	CHECK(feed("2001:db8::2", m, len) == 1 && !out.sent);
	len = ns_build(m, "fe80::6", false);
	CHECK(feed("fe80::6", m, len) == 1 && !out.sent);
	ctx_init();

	/* Multicast target */
	len = ns_build(m, "ff02::1", false);
	CHECK(feed("fe80::5", m, len) == 1 && !out.sent);
}

static void test_ns_bad(void)
{
	uint8_t m[64];
	size_t len;

	len = ns_build(m, "2001:db8::1", false);
	CHECK(feed("fe80::5", m, 23) == 1 && !out.sent);
	CHECK(feed("fe80::5", m, 8) == 1 && !out.sent);

	len = ns_build(m, "2001:db8::1", true);
	m[25] = 0;
	CHECK(feed("fe80::5", m, len) == 1 && !out.sent);

	len = ns_build(m, "2001:db8::1", true);
	m[25] = 2;
	CHECK(feed("fe80::5", m, len) == 1 && !out.sent);

	/* Trailing byte that can't be an option */
	len = ns_build(m, "2001:db8::1", false);
	CHECK(feed("fe80::5", m, len + 1) == 1 && !out.sent);

	len = ns_build(m, "2001:db8::1", false);
	m[1] = 3;
	CHECK(feed("fe80::5", m, len) == 1 && !out.sent);

	/* Source link-layer address in a DAD probe */
	len = ns_build(m, "2001:db8::1", true);
	CHECK(feed("::", m, len) == 1 && !out.sent);

	ctx.no_ndp = 1;
	len = ns_build(m, "2001:db8::1", false);
	CHECK(feed("fe80::5", m, len) == 1 && !out.sent);
	ctx_init();
}

static void test_other_types(void)
{
	uint8_t m[64] = { 0 };
	int t;

	for (t = 0; t < 256; t++) {
		m[0] = (uint8_t)t;
		if (t >= 133 && t <= 137)
			CHECK(feed("fe80::5", m, 64) == 1);
		else
			CHECK(feed("fe80::5", m, 64) == 0);
		CHECK(!out.sent || t == RS || t == NS);
	}
}

static void test_dnssl_limits(void)
{
	struct ra_parsed r;
	uint8_t m[16];
	size_t len;
	int i;

	/* Six names of 253 characters: they can't all fit in 1240 bytes */
	for (i = 0; i < MAXDNSRCH; i++) {
		char *n = ctx.dns_search[i].n;
		int j;

		for (j = 0; j < 253; j++)
			n[j] = (j % 10 == 9) ? '.' : (char)('a' + i);
		n[253] = 0;
	}
	len = rs_build(m, false);
	CHECK(feed("fe80::5", m, len) == 1 && out.sent);
	CHECK(out.len <= IPV6_MIN_MTU - 40);
	r = ra_parse(out.msg, out.len);
	CHECK(r.ok && r.n_search >= 3 && r.n_search < 6 && r.has_sll);

	/* Malformed names are skipped */
	ctx_init();
	strcpy(ctx.dns_search[0].n, "bad..name");
	strcpy(ctx.dns_search[1].n, "good.name");
	memset(ctx.dns_search[2].n, 'x', 64);
	ctx.dns_search[2].n[64] = 0;
	CHECK(feed("fe80::5", m, len) == 1 && out.sent);
	r = ra_parse(out.msg, out.len);
	CHECK(r.ok && r.n_search == 1 && !strcmp(r.search[0], "good.name"));

	/* Only malformed names: no DNSSL at all */
	ctx.dns_search[1].n[0] = 0;
	strcpy(ctx.dns_search[1].n, ".");
	CHECK(feed("fe80::5", m, len) == 1 && out.sent);
	r = ra_parse(out.msg, out.len);
	CHECK(r.ok && r.n_search == 0);
	ctx_init();
}

static void test_timer(void)
{
	struct timespec now = { .tv_sec = 1000 };

	memset(&out, 0, sizeof(out));
	ndp_timer(&ctx, &now);
	CHECK(!out.sent);		/* guest not seen yet */

	ctx.ip6.addr_ll_seen = a6("fe80::5");
	ndp_timer(&ctx, &now);
	CHECK(out.sent == 1 && ra_parse(out.msg, out.len).ok);

	memset(&out, 0, sizeof(out));
	now.tv_sec += RA_INTERVAL_MIN - 1;
	ndp_timer(&ctx, &now);
	CHECK(!out.sent);
	now.tv_sec += RA_INTERVAL_MAX;
	ndp_timer(&ctx, &now);
	CHECK(out.sent == 1);
	ctx_init();
}

/* Lifetimes: finite while following, infinite with --no-follow */
static void test_lifetimes(void)
{
	struct ra_parsed r;
	uint8_t m[16];
	size_t len;

	len = rs_build(m, false);
	CHECK(feed("fe80::5", m, len) == 1 && out.sent == 1);
	r = ra_parse(out.msg, out.len);
	CHECK(r.ok && r.n_prefix == 1 && r.lifetime == 9000);
	CHECK(r.valid == 7200 && r.preferred == 1800);
	CHECK(r.n_dns == 2 && r.dns_lifetime[0] == 1800 &&
	      r.dns_lifetime[1] == 1800);
	CHECK(r.n_search == 2 && r.search_lifetime[0] == 1800);

	ctx.no_follow = 1;
	CHECK(feed("fe80::5", m, len) == 1 && out.sent == 1);
	r = ra_parse(out.msg, out.len);
	CHECK(r.ok && r.valid == 0xffffffff && r.preferred == 0xffffffff);
	CHECK(r.dns_lifetime[0] == 0xffffffff);
	CHECK(r.search_lifetime[1] == 0xffffffff);
	ctx_init();
}

/* Local mode: no prefix, no M flag, fe80::1 is the router */
static void test_local(void)
{
	struct in6_addr fe80_1 = a6("fe80::1");
	struct ra_parsed r;
	uint8_t m[64];
	size_t len;

	ctx.ip6.local = 1;
	ctx.ip6.addr = ctx.ip6.addr_seen = in6addr_any;
	ctx.ip6.gw = ctx.ip6.addr_ll = fe80_1;

	len = rs_build(m, false);
	CHECK(feed("fe80::5", m, len) == 1 && out.sent == 1);
	CHECK(IN6_ARE_ADDR_EQUAL(&out.src, &fe80_1));
	r = ra_parse(out.msg, out.len);
	CHECK(r.ok && !r.has_prefix && r.lifetime == 9000);
	CHECK(r.flags == RA_FLAG_OTHER);
	CHECK(r.n_dns == 2 && r.n_search == 2 && r.has_sll);

	/* We answer for fe80::1 as a router */
	len = ns_build(m, "fe80::1", false);
	CHECK(feed("fe80::5", m, len) == 1 && out.sent == 1);
	CHECK(out.msg[4] == 0xe0);
	ctx_init();
}

/* Before a renumbering test: the guest was seen, and told about the
 * configuration now in ctx. Return: a copy of it, to pass as "old"
 */
static struct ip6_ctx renumber_old(void)
{
	struct ip6_ctx old;

	ctx.ip6.addr_ll_seen = a6("fe80::5");
	old = ctx.ip6;

	/* Whatever the guest was told last: one RA, as if solicited */
	memset(&out, 0, sizeof(out));
	ndp_ra_build(&ctx, NULL, false);
	return old;
}

static bool has_prefix(const struct ra_parsed *r, const char *p,
		       uint32_t valid, uint32_t preferred)
{
	struct in6_addr a = a6(p);
	int i;

	for (i = 0; i < r->n_prefix; i++) {
		if (IN6_ARE_ADDR_EQUAL(&r->prefixes[i], &a))
			return r->valids[i] == valid &&
			       r->preferreds[i] == preferred;
	}
	return false;
}

static bool has_dns(const struct ra_parsed *r, const char *addr,
		    uint32_t lifetime)
{
	struct in6_addr a = a6(addr);
	int i;

	for (i = 0; i < r->n_dns; i++) {
		if (IN6_ARE_ADDR_EQUAL(&r->dns[i], &a))
			return r->dns_lifetime[i] == lifetime;
	}
	return false;
}

static bool has_search(const struct ra_parsed *r, const char *name,
		       uint32_t lifetime)
{
	int i;

	for (i = 0; i < r->n_search; i++) {
		if (!strcmp(r->search[i], name))
			return r->search_lifetime[i] == lifetime;
	}
	return false;
}

static void test_renumber(void)
{
	struct in6_addr all = a6("ff02::1"), router = a6("fe80::1:2");
	struct timespec now = { .tv_sec = 5000 };
	struct ip6_ctx old;
	struct ra_parsed r;

	/* Guest not seen yet: nothing, it will solicit */
	ctx_init();
	old = renumber_old();
	ctx.ip6.addr_ll_seen = in6addr_any;
	ctx.ip6.addr = a6("2001:db8:5::2");
	ndp_renumber(&ctx, &old);
	CHECK(!out.sent);

	/* Switched off, or IPv6 disabled: nothing */
	ctx_init();
	old = renumber_old();
	ctx.no_ra = 1;
	ndp_renumber(&ctx, &old);
	CHECK(!out.sent);
	ctx.no_ra = 0;
	ctx.ifi6 = 0;
	ndp_renumber(&ctx, &old);
	CHECK(!out.sent);

	/* New prefix, one nameserver and one domain gone, same router: one
	 * RA to all nodes with the new prefix, the old one withdrawn
	 */
	ctx_init();
	old = renumber_old();
	ctx.ip6.addr = a6("2001:db8:5::2");
	ctx.ip6.dns[1] = in6addr_any;
	ctx.dns_search[1].n[0] = 0;
	ndp_renumber(&ctx, &old);
	CHECK(out.sent == 1);
	CHECK(IN6_ARE_ADDR_EQUAL(&outs[0].src, &router));
	CHECK(IN6_ARE_ADDR_EQUAL(&outs[0].dst, &all));
	CHECK(outs[0].len <= IPV6_MIN_MTU - 40);
	r = ra_parse(outs[0].msg, outs[0].len);
	CHECK(r.ok && r.lifetime == 9000 && r.n_prefix == 2);
	CHECK(has_prefix(&r, "2001:db8:5::", 7200, 1800));
	CHECK(has_prefix(&r, "2001:db8::", 0, 0));
	/* the new prefix comes first */
	CHECK(r.has_prefix && r.valid == 7200);
	CHECK(r.n_dns == 2 && has_dns(&r, "2001:db8:1::1", 1800) &&
	      has_dns(&r, "2001:db8:1::53", 0));
	CHECK(r.n_search == 2 && has_search(&r, "example.com", 1800) &&
	      has_search(&r, "test", 0));
	CHECK(r.mtu == 65520 && r.has_sll);

	/* The next unsolicited RA comes sooner, then back to 200-600 s */
	memset(&out, 0, sizeof(out));
	ndp_ra_next = now.tv_sec + 500;
	ndp_timer(&ctx, &now);
	CHECK(!out.sent);
	now.tv_sec += RA_INTERVAL_CHANGE - 1;
	ndp_timer(&ctx, &now);
	CHECK(!out.sent);
	now.tv_sec++;
	ndp_timer(&ctx, &now);
	CHECK(out.sent == 1);
	r = ra_parse(out.msg, out.len);
	/* ...and withdraws nothing: what was sent last is the new list */
	CHECK(r.ok && r.n_prefix == 1 && r.n_dns == 1 && r.n_search == 1);
	CHECK(ndp_ra_next >= now.tv_sec + RA_INTERVAL_MIN);

	/* A domain comes back with different case and a final dot: not
	 * withdrawn in the same breath
	 */
	ctx_init();
	old = renumber_old();
	strcpy(ctx.dns_search[0].n, "EXAMPLE.com.");
	ndp_renumber(&ctx, &old);
	CHECK(out.sent == 1);
	r = ra_parse(outs[0].msg, outs[0].len);
	CHECK(r.ok && r.n_prefix == 1 && r.n_search == 2);
	CHECK(has_search(&r, "EXAMPLE.com", 1800) &&
	      has_search(&r, "test", 1800));

	/* Nothing changed in IPv6 (the lead calls us for the search list):
	 * one RA, nothing withdrawn
	 */
	ctx_init();
	old = renumber_old();
	ndp_renumber(&ctx, &old);
	CHECK(out.sent == 1);
	r = ra_parse(outs[0].msg, outs[0].len);
	CHECK(r.ok && r.n_prefix == 1 && r.valid == 7200 && r.n_dns == 2 &&
	      r.dns_lifetime[1] == 1800);

	/* Same /64, another address: the prefix stays */
	ctx_init();
	old = renumber_old();
	ctx.ip6.addr = a6("2001:db8::77");
	ndp_renumber(&ctx, &old);
	r = ra_parse(outs[0].msg, outs[0].len);
	CHECK(out.sent == 1 && r.ok && r.n_prefix == 1 && r.valid == 7200);

	/* Router moved (link-local gateways): final RA from the old one with
	 * router lifetime 0 and the withdrawals, then the new one
	 */
	ctx_init();
	ctx.ip6.gw = a6("fe80::a");
	old = renumber_old();
	ctx.ip6.gw = a6("fe80::b");
	ctx.ip6.addr = a6("2001:db8:5::2");
	ctx.ip6.dns[0] = a6("2001:db8:5::53");
	ctx.ip6.dns[1] = in6addr_any;
	ndp_renumber(&ctx, &old);
	CHECK(out.sent == 2);
	{
		struct in6_addr a = a6("fe80::a"), b = a6("fe80::b");

		CHECK(IN6_ARE_ADDR_EQUAL(&outs[0].src, &a));
		CHECK(IN6_ARE_ADDR_EQUAL(&outs[1].src, &b));
		CHECK(IN6_ARE_ADDR_EQUAL(&outs[0].dst, &all) &&
		      IN6_ARE_ADDR_EQUAL(&outs[1].dst, &all));
	}
	r = ra_parse(outs[0].msg, outs[0].len);
	CHECK(r.ok && r.lifetime == 0 && r.n_prefix == 1 &&
	      has_prefix(&r, "2001:db8::", 0, 0));
	CHECK(r.n_dns == 2 && has_dns(&r, "2001:db8:1::1", 0) &&
	      has_dns(&r, "2001:db8:1::53", 0));
	CHECK(r.n_search == 0 && !r.mtu && r.has_sll);
	r = ra_parse(outs[1].msg, outs[1].len);
	CHECK(r.ok && r.lifetime == 9000 && r.n_prefix == 1 &&
	      has_prefix(&r, "2001:db8:5::", 7200, 1800));
	CHECK(r.n_dns == 1 && has_dns(&r, "2001:db8:5::53", 1800));
	CHECK(r.n_search == 2 && r.mtu == 65520);

	/* Router moved, prefix and resolvers didn't: the final RA withdraws
	 * nothing but the default route
	 */
	ctx_init();
	ctx.ip6.gw = a6("fe80::a");
	old = renumber_old();
	ctx.ip6.gw = a6("fe80::b");
	ndp_renumber(&ctx, &old);
	CHECK(out.sent == 2);
	r = ra_parse(outs[0].msg, outs[0].len);
	CHECK(r.ok && r.lifetime == 0 && !r.n_prefix && !r.n_dns &&
	      !r.n_search);

	/* Host lost its network: to local mode, and back */
	ctx_init();
	old = renumber_old();
	ctx.ip6.local = 1;
	ctx.ip6.addr = in6addr_any;
	ctx.ip6.gw = ctx.ip6.addr_ll = a6("fe80::1");
	memset(ctx.ip6.dns, 0, sizeof(ctx.ip6.dns));
	ndp_renumber(&ctx, &old);
	CHECK(out.sent == 2);
	r = ra_parse(outs[0].msg, outs[0].len);
	CHECK(r.ok && r.lifetime == 0 && has_prefix(&r, "2001:db8::", 0, 0));
	CHECK(has_dns(&r, "2001:db8:1::1", 0));
	r = ra_parse(outs[1].msg, outs[1].len);
	CHECK(r.ok && r.lifetime == 9000 && !r.n_prefix && !r.n_dns);
	CHECK(r.flags == RA_FLAG_OTHER);
	{
		struct in6_addr fe80_1 = a6("fe80::1");

		CHECK(IN6_ARE_ADDR_EQUAL(&outs[1].src, &fe80_1));
	}

	old = ctx.ip6;
	{
		struct in6_addr seen = ctx.ip6.addr_ll_seen;

		ctx_init();
		ctx.ip6.addr_ll_seen = seen;
	}
	memset(&out, 0, sizeof(out));
	ndp_renumber(&ctx, &old);
	CHECK(out.sent == 2);
	r = ra_parse(outs[0].msg, outs[0].len);
	CHECK(r.ok && r.lifetime == 0 && !r.n_prefix && !r.n_dns);
	r = ra_parse(outs[1].msg, outs[1].len);
	CHECK(r.ok && r.lifetime == 9000 &&
	      has_prefix(&r, "2001:db8::", 7200, 1800));
	CHECK(r.flags == (RA_FLAG_MANAGED | RA_FLAG_OTHER));

	/* Longest search lists, all replaced, everything else too: both
	 * RAs within the minimum MTU, and they parse
	 */
	ctx_init();
	ctx.ip6.gw = a6("fe80::a");
	for (int i = 0; i < MAXDNSRCH; i++) {
		char *n = ctx.dns_search[i].n;

		memset(n, 'a' + i, 253);
		n[63] = n[127] = n[191] = '.';
		n[253] = 0;
	}
	ctx_init();
	old = renumber_old();
	for (int i = 0; i < MAXDNSRCH; i++)
		ctx.dns_search[i].n[0] = (char)('n' + i);
	ctx.ip6.addr = a6("2001:db8:5::2");
	ctx.ip6.dns[0] = a6("2001:db8:5::53");
	ctx.ip6.dns[1] = a6("2001:db8:5::54");
	ctx.ip6.dns[2] = a6("2001:db8:5::55");
	old.dns[2] = a6("2001:db8:1::54");
	ndp_renumber(&ctx, &old);
	CHECK(out.sent == 1);
	CHECK(outs[0].len <= IPV6_MIN_MTU - 40);
	r = ra_parse(outs[0].msg, outs[0].len);
	CHECK(r.ok && r.n_prefix == 2 && r.n_dns == 6 && r.has_sll);
	CHECK(r.n_search >= 3);

	ctx_init();
	ndp_ra_next = 0;
	ndp_ra_changed = false;
}

/* Random input: must never crash, replies must parse */
static void test_fuzz(void)
{
	uint8_t m[256];
	unsigned int seed = 1;
	int i;

	for (i = 0; i < 200000; i++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(m)), j;

		for (j = 0; j < len; j++)
			m[j] = (uint8_t)rand_r(&seed);
		if (len && rand_r(&seed) % 2)
			m[0] = (uint8_t)(rand_r(&seed) % 2 ? RS : NS);
		if (len > 1 && rand_r(&seed) % 2)
			m[1] = 0;
		/* make option walks more likely to get far */
		for (j = 8; j + 1 < len && rand_r(&seed) % 4; j += 8)
			m[j + 1] = (uint8_t)(rand_r(&seed) % 3);

		feed(i % 2 ? "fe80::5" : "::", m, len);
		if (out.sent && out.msg[0] == RA)
			CHECK(ra_parse(out.msg, out.len).ok);
		else if (out.sent)
			CHECK(out.msg[0] == NA && out.len == 32);
	}
}

int main(void)
{
	log_init("ndp_test", getenv("VERBOSE") != NULL, 0);
	log_set_level(1, 1, 0);

	ctx_init();

	test_rs();
	test_rs_bad();
	test_ns();
	test_ns_bad();
	test_other_types();
	test_dnssl_limits();
	test_timer();
	test_lifetimes();
	test_local();
	test_renumber();
	test_fuzz();

	printf("ndp_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
