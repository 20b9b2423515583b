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

/* Captured reply */
static struct {
	int sent;
	struct in6_addr src, dst;
	uint8_t msg[2048];
	size_t len;
} out;

void tap_icmp6_send(const struct ctx *c, const struct in6_addr *src,
		    const struct in6_addr *dst, const void *in, size_t len)
{
	(void)c;
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
	uint32_t mtu;
	int n_dns;
	struct in6_addr dns[8];
	char search[16][256];
	int n_search;
	int has_sll;
	uint8_t sll[6];
};

static void dns_names_parse(const uint8_t *d, size_t len, struct ra_parsed *r)
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
		if (r->n_search < 16)
			strcpy(r->search[r->n_search++], name);
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
			if (olen != 32)
				return r;
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
			for (size_t i = 8; i < olen; i += 16)
				memcpy(&r.dns[r.n_dns++], m + off + i, 16);
			break;
		case OPT_DNSSL:
			dns_names_parse(m + off + 8, olen - 8, &r);
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
	test_fuzz();

	printf("ndp_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
