// SPDX-License-Identifier: AGPL-3.0-or-later

/* dhcp_test.c - Unit tests for the DHCP server and the ARP responder
 *
 * Build and run (from test/unit):
 *   cc -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -pedantic -Werror \
 *      -fsanitize=address,undefined -fno-omit-frame-pointer \
 *      -I../.. dhcp_test.c -o dhcp_test && ./dhcp_test
 *
 * The modules are included as source, so their static functions and buffers
 * are visible here. The functions they need from the rest of passt are
 * stubbed: packet_get_do() is a strict bounds-checked accessor, and
 * tap_udp4_send()/tap_send_single() capture the reply, which the tests then
 * parse back and check field by field. Requests are copied to the very end
 * of a static buffer, so that any read past them hits AddressSanitizer's
 * redzone.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <arpa/inet.h>

#include "../../dhcp.c"
#include "../../util.c"
#include "../../arp.c"
#include "../../packet.c"
#include "../../log.c"
#include "unit.h"

/* Stubs ------------------------------------------------------------------ */

static int verbose;

static struct {
	int n;
	struct in_addr srcs[4];		/* of the first four replies */
	struct in_addr src, dst;
	in_port_t sport, dport;
	uint8_t data[4096];
	size_t len;
} sent;

void tap_udp4_send(const struct ctx *c, struct in_addr src, in_port_t sport,
		   struct in_addr dst, in_port_t dport,
		   const void *in, size_t len)
{
	(void)c;
	if (sent.n < 4)
		sent.srcs[sent.n] = src;
	sent.n++;
	sent.src = src;
	sent.dst = dst;
	sent.sport = sport;
	sent.dport = dport;
	if (len > sizeof(sent.data)) {
		fprintf(stderr, "reply too long: %zu\n", len);
		exit(1);
	}
	memcpy(sent.data, in, len);
	sent.len = len;
}

void tap_send_single(const struct ctx *c, const void *frame, size_t len)
{
	(void)c;
	sent.n++;
	if (len > sizeof(sent.data))
		exit(1);
	memcpy(sent.data, frame, len);
	sent.len = len;
}

/* Harness ---------------------------------------------------------------- */

static uint8_t arena[70000];

/* Feed @len bytes to @fn, placed at the end of the arena */
static int feed(int (*fn)(const struct ctx *, const struct pool *),
		const struct ctx *c, const uint8_t *pkt, size_t len)
{
	uint8_t *base = arena + sizeof(arena) - len;

	memcpy(base, pkt, len);
	sent.n = 0;
	sent.len = 0;
	{
		PACKET_POOL_P1(p, base, len);
		return fn(c, &p);
	}
}

static struct ctx ctx;

static void ctx_setup(void)
{
	memset(&ctx, 0, sizeof(ctx));
	inet_pton(AF_INET, "198.51.100.2", &ctx.ip4.addr);
	inet_pton(AF_INET, "198.51.100.1", &ctx.ip4.gw);
	ctx.ip4.prefix_len = 24;
	inet_pton(AF_INET, "198.51.100.53", &ctx.ip4.dns[0]);
	inet_pton(AF_INET, "203.0.113.53", &ctx.ip4.dns[1]);
	ctx.mtu = 1500;
	strcpy(ctx.dns_search[0].n, "example.com");
	strcpy(ctx.dns_search[1].n, "sub.example.com.");
	strcpy(ctx.dns_search[2].n, "example.org");
	memcpy(ctx.mac, "\x9a\x55\x9a\x55\x9a\x55", 6);
	ctx.ifi4 = 1;
}

static const uint8_t chaddr[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* Request builder: UDP header + BOOTP + options */
struct req {
	uint8_t b[2048];
	size_t len;
};

static void req_init(struct req *r, uint8_t type)
{
	memset(r, 0, sizeof(*r));
	r->b[0] = 0x00; r->b[1] = 68;		/* sport */
	r->b[2] = 0x00; r->b[3] = 67;		/* dport */
	r->b[8 + DHCP_OFF_OP] = BOOTREQUEST;
	r->b[8 + DHCP_OFF_HTYPE] = 1;
	r->b[8 + DHCP_OFF_HLEN] = 6;
	memcpy(r->b + 8 + DHCP_OFF_XID, "\xde\xad\xbe\xef", 4);
	memcpy(r->b + 8 + DHCP_OFF_FLAGS, "\x80\x00", 2);
	memcpy(r->b + 8 + DHCP_OFF_CHADDR, chaddr, 6);
	put_be32(r->b + 8 + DHCP_OFF_COOKIE, DHCP_MAGIC);
	r->len = 8 + DHCP_OFF_OPTIONS;
	if (type) {
		r->b[r->len++] = OPT_MSG_TYPE;
		r->b[r->len++] = 1;
		r->b[r->len++] = type;
	}
}

static void req_opt(struct req *r, uint8_t code, const void *v, uint8_t len)
{
	r->b[r->len++] = code;
	r->b[r->len++] = len;
	memcpy(r->b + r->len, v, len);
	r->len += len;
}

/* Finish: end option, UDP length = whole thing */
static void req_end(struct req *r)
{
	r->b[r->len++] = OPT_END;
	put_be16(r->b + 4, (uint16_t)r->len);
}

/* Parsed reply options, concatenated per RFC 3396 */
struct parsed {
	int seen[256];
	uint8_t val[256][2048];
	size_t len[256];
	int end;
};

static int parse_reply(struct parsed *o)
{
	size_t off = DHCP_OFF_OPTIONS;

	memset(o, 0, sizeof(*o));
	if (sent.len < DHCP_OFF_OPTIONS)
		return -1;
	while (off < sent.len) {
		uint8_t code = sent.data[off++], l;

		if (code == OPT_PAD)
			continue;
		if (code == OPT_END) {
			o->end = 1;
			return 0;
		}
		if (off >= sent.len)
			return -1;
		l = sent.data[off++];
		if (off + l > sent.len)
			return -1;
		if (o->len[code] + l > sizeof(o->val[code]))
			return -1;
		memcpy(o->val[code] + o->len[code], sent.data + off, l);
		o->len[code] += l;
		o->seen[code]++;
		off += l;
	}
	return -1;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static int opt_is_ip(const struct parsed *o, int code, const char *s)
{
	uint32_t v;

	if (o->len[code] != 4)
		return 0;
	memcpy(&v, o->val[code], 4);
	return v == ip(s);
}

/* Decode RFC 1035 names with compression from @d, @len: writes
 * "name1 name2 ..." to @out. Return: number of names, -1 on error
 */
static int decode_search(const uint8_t *d, size_t len, char *out, size_t osz)
{
	size_t off = 0, o = 0;
	int n = 0;

	out[0] = 0;
	while (off < len) {
		size_t p = off, hops = 0;
		int jumped = 0;

		if (n)
			o += (size_t)snprintf(out + o, osz - o, " ");
		for (;;) {
			uint8_t l;

			if (p >= len || hops++ > 255)
				return -1;
			l = d[p];
			if ((l & 0xc0) == 0xc0) {
				size_t target;

				if (p + 1 >= len)
					return -1;
				target = ((size_t)(l & 0x3f) << 8) | d[p + 1];
				if (target >= p)	/* only backwards */
					return -1;
				if (!jumped)
					off = p + 2;
				jumped = 1;
				p = target;
				continue;
			}
			if (!l) {
				if (!jumped)
					off = p + 1;
				break;
			}
			if (p + 1 + l > len)
				return -1;
			o += (size_t)snprintf(out + o, osz - o, "%.*s.",
					      (int)l, (const char *)d + p + 1);
			p += 1 + l;
		}
		if (o && out[o - 1] == '.')
			out[--o] = 0;
		n++;
	}
	return n;
}

/* Tests ------------------------------------------------------------------ */

static void check_common_reply(uint8_t type)
{
	struct parsed o;

	CHECK(sent.n == 1);
	CHECK(sent.src.s_addr == ip("198.51.100.1"));
	CHECK(sent.dst.s_addr == htonl(INADDR_BROADCAST));
	CHECK(sent.sport == 67 && sent.dport == 68);
	CHECK(sent.len >= 300);
	CHECK(sent.len <= 576 - 28);
	CHECK(sent.data[DHCP_OFF_OP] == BOOTREPLY);
	CHECK(sent.data[DHCP_OFF_HTYPE] == 1 && sent.data[DHCP_OFF_HLEN] == 6);
	CHECK(!memcmp(sent.data + DHCP_OFF_XID, "\xde\xad\xbe\xef", 4));
	CHECK(!memcmp(sent.data + DHCP_OFF_FLAGS, "\x80\x00", 2));
	CHECK(!memcmp(sent.data + DHCP_OFF_CHADDR, chaddr, 6));
	CHECK(get_be32(sent.data + DHCP_OFF_COOKIE) == DHCP_MAGIC);
	CHECK(parse_reply(&o) == 0);
	CHECK(o.end);
	CHECK(o.len[OPT_MSG_TYPE] == 1 && o.val[OPT_MSG_TYPE][0] == type);
	CHECK(opt_is_ip(&o, OPT_SERVER_ID, "198.51.100.1"));
}

static void check_full_options(int lease)
{
	struct parsed o;
	char names[1024];

	parse_reply(&o);
	if (lease && ctx.no_follow) {
		CHECK(o.len[OPT_LEASE_TIME] == 4 &&
		      get_be32(o.val[OPT_LEASE_TIME]) == 0xffffffff);
		CHECK(!o.seen[OPT_RENEWAL_TIME] && !o.seen[OPT_REBINDING_TIME]);
	} else if (lease) {
		/* Following the host: short lease, RFC 2131 4.4.5 T1, T2 */
		CHECK(o.len[OPT_LEASE_TIME] == 4 &&
		      get_be32(o.val[OPT_LEASE_TIME]) == 120);
		CHECK(o.len[OPT_RENEWAL_TIME] == 4 &&
		      get_be32(o.val[OPT_RENEWAL_TIME]) == 60);
		CHECK(o.len[OPT_REBINDING_TIME] == 4 &&
		      get_be32(o.val[OPT_REBINDING_TIME]) == 105);
	} else {
		CHECK(!o.seen[OPT_LEASE_TIME] && !o.seen[OPT_RENEWAL_TIME] &&
		      !o.seen[OPT_REBINDING_TIME]);
	}
	CHECK(opt_is_ip(&o, OPT_NETMASK, "255.255.255.0"));
	CHECK(opt_is_ip(&o, OPT_BROADCAST, "198.51.100.255"));
	CHECK(opt_is_ip(&o, OPT_ROUTER, "198.51.100.1"));
	CHECK(o.len[OPT_MTU] == 2 && get_be16(o.val[OPT_MTU]) == 1500);
	CHECK(o.len[OPT_DNS] == 8 &&
	      !memcmp(o.val[OPT_DNS], "\xc6\x33\x64\x35\xcb\x00\x71\x35", 8));
	CHECK(o.len[OPT_DOMAIN_NAME] == 11 &&
	      !memcmp(o.val[OPT_DOMAIN_NAME], "example.com", 11));
	CHECK(decode_search(o.val[OPT_DOMAIN_SEARCH], o.len[OPT_DOMAIN_SEARCH],
			    names, sizeof(names)) == 3);
	CHECK(!strcmp(names, "example.com sub.example.com example.org"));
	/* compression: 13, then 6 (sub + pointer), then 13 (no match) */
	CHECK(o.len[OPT_DOMAIN_SEARCH] == 13 + 6 + 13);
}

static void test_discover(void)
{
	struct req r;

	req_init(&r, DHCPDISCOVER);
	req_opt(&r, 55, "\x01\x03\x06\x0f\x1a\x1c\x77", 7);
	req_opt(&r, 61, "\x01\x52\x54\x00\x12\x34\x56", 7);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	check_common_reply(DHCPOFFER);
	CHECK(!memcmp(sent.data + DHCP_OFF_YIADDR, "\xc6\x33\x64\x02", 4));
	CHECK(!memcmp(sent.data + DHCP_OFF_CIADDR, "\0\0\0\0", 4));
	check_full_options(1);
}

static void test_request(void)
{
	struct parsed o;
	struct req r;
	uint32_t a;

	/* SELECTING: server id and requested address */
	req_init(&r, DHCPREQUEST);
	a = ip("198.51.100.1");
	req_opt(&r, OPT_SERVER_ID, &a, 4);
	a = ip("198.51.100.2");
	req_opt(&r, OPT_REQUESTED_ADDR, &a, 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	check_common_reply(DHCPACK);
	CHECK(!memcmp(sent.data + DHCP_OFF_YIADDR, "\xc6\x33\x64\x02", 4));
	check_full_options(1);

	/* Another server selected: no answer */
	req_init(&r, DHCPREQUEST);
	a = ip("198.51.100.99");
	req_opt(&r, OPT_SERVER_ID, &a, 4);
	a = ip("198.51.100.2");
	req_opt(&r, OPT_REQUESTED_ADDR, &a, 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	CHECK(sent.n == 0);

	/* INIT-REBOOT for another address: NAK */
	req_init(&r, DHCPREQUEST);
	a = ip("10.0.0.5");
	req_opt(&r, OPT_REQUESTED_ADDR, &a, 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	check_common_reply(DHCPNAK);
	CHECK(!memcmp(sent.data + DHCP_OFF_YIADDR, "\0\0\0\0", 4));
	parse_reply(&o);
	CHECK(!o.seen[OPT_LEASE_TIME] && !o.seen[OPT_ROUTER] &&
	      !o.seen[OPT_NETMASK] && !o.seen[OPT_DNS]);

	/* RENEWING with our address in ciaddr: ACK, ciaddr copied */
	req_init(&r, DHCPREQUEST);
	memcpy(r.b + 8 + DHCP_OFF_CIADDR, "\xc6\x33\x64\x02", 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	check_common_reply(DHCPACK);
	CHECK(!memcmp(sent.data + DHCP_OFF_CIADDR, "\xc6\x33\x64\x02", 4));
	CHECK(!memcmp(sent.data + DHCP_OFF_YIADDR, "\xc6\x33\x64\x02", 4));

	/* RENEWING another address: NAK */
	req_init(&r, DHCPREQUEST);
	memcpy(r.b + 8 + DHCP_OFF_CIADDR, "\x0a\x00\x00\x05", 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	check_common_reply(DHCPNAK);
	CHECK(!memcmp(sent.data + DHCP_OFF_CIADDR, "\0\0\0\0", 4));

	/* Requested address with a bad length: dropped */
	req_init(&r, DHCPREQUEST);
	req_opt(&r, OPT_REQUESTED_ADDR, "\xc6\x33\x64", 3);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 0);
	CHECK(sent.n == 0);
}

/* --no-follow: infinite lease, as before following existed */
static void test_no_follow(void)
{
	struct req r;

	ctx.no_follow = 1;
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	check_common_reply(DHCPOFFER);
	check_full_options(1);

	req_init(&r, DHCPREQUEST);
	memcpy(r.b + 8 + DHCP_OFF_CIADDR, "\xc6\x33\x64\x02", 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	check_common_reply(DHCPACK);
	check_full_options(1);
	ctx.no_follow = 0;
}

/* The host's address and gateway changed: the guest's renewal, reboot or
 * late selection gets what RFC 2131 4.3.2 says, with server identifiers a
 * client that checks them accepts
 */
static void test_renumbered(void)
{
	struct parsed o;
	struct req r;
	uint32_t a;

	dhcp_init();

	/* Offer from the old configuration: identifier 198.51.100.1 */
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	check_common_reply(DHCPOFFER);

	/* follow.c rewrites the context */
	inet_pton(AF_INET, "203.0.113.7", &ctx.ip4.addr);
	inet_pton(AF_INET, "203.0.113.1", &ctx.ip4.gw);

	/* RENEWING the old address: two NAKs, current identifier first */
	req_init(&r, DHCPREQUEST);
	memcpy(r.b + 8 + DHCP_OFF_CIADDR, "\xc6\x33\x64\x02", 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	CHECK(sent.n == 2);
	CHECK(sent.srcs[0].s_addr == ip("203.0.113.1"));
	CHECK(sent.srcs[1].s_addr == ip("198.51.100.1"));
	CHECK(parse_reply(&o) == 0 && o.val[OPT_MSG_TYPE][0] == DHCPNAK);
	CHECK(opt_is_ip(&o, OPT_SERVER_ID, "198.51.100.1"));
	CHECK(!memcmp(sent.data + DHCP_OFF_YIADDR, "\0\0\0\0", 4));
	CHECK(!memcmp(sent.data + DHCP_OFF_CIADDR, "\0\0\0\0", 4));

	/* INIT-REBOOT with the old address: same */
	req_init(&r, DHCPREQUEST);
	a = ip("198.51.100.2");
	req_opt(&r, OPT_REQUESTED_ADDR, &a, 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	CHECK(sent.n == 2);
	CHECK(parse_reply(&o) == 0 && o.val[OPT_MSG_TYPE][0] == DHCPNAK);

	/* SELECTING our old offer (old identifier), old address: NAK */
	req_init(&r, DHCPREQUEST);
	a = ip("198.51.100.1");
	req_opt(&r, OPT_SERVER_ID, &a, 4);
	a = ip("198.51.100.2");
	req_opt(&r, OPT_REQUESTED_ADDR, &a, 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	CHECK(sent.n == 2);

	/* Still another server's identifier: quiet */
	req_init(&r, DHCPREQUEST);
	a = ip("198.51.100.99");
	req_opt(&r, OPT_SERVER_ID, &a, 4);
	a = ip("203.0.113.7");
	req_opt(&r, OPT_REQUESTED_ADDR, &a, 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 0);

	/* Back to DISCOVER: the new address, the new identifier */
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	CHECK(sent.n == 1 && sent.src.s_addr == ip("203.0.113.1"));
	CHECK(!memcmp(sent.data + DHCP_OFF_YIADDR, "\xcb\x00\x71\x07", 4));
	CHECK(parse_reply(&o) == 0 && opt_is_ip(&o, OPT_ROUTER, "203.0.113.1"));
	CHECK(opt_is_ip(&o, OPT_SERVER_ID, "203.0.113.1"));

	/* ...and from now on, one NAK only: the offer had the same one */
	req_init(&r, DHCPREQUEST);
	memcpy(r.b + 8 + DHCP_OFF_CIADDR, "\xc6\x33\x64\x02", 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 1);

	/* RENEWING the new address: ACK */
	req_init(&r, DHCPREQUEST);
	memcpy(r.b + 8 + DHCP_OFF_CIADDR, "\xcb\x00\x71\x07", 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 1);
	CHECK(parse_reply(&o) == 0 && o.val[OPT_MSG_TYPE][0] == DHCPACK);

	/* Only the gateway changed: renewal ACKed with the new router,
	 * a request naming the identifier of our last offer too
	 */
	inet_pton(AF_INET, "203.0.113.254", &ctx.ip4.gw);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 1);
	CHECK(parse_reply(&o) == 0 && o.val[OPT_MSG_TYPE][0] == DHCPACK);
	CHECK(opt_is_ip(&o, OPT_ROUTER, "203.0.113.254"));
	CHECK(opt_is_ip(&o, OPT_SERVER_ID, "203.0.113.254"));
	req_init(&r, DHCPREQUEST);
	a = ip("203.0.113.1");
	req_opt(&r, OPT_SERVER_ID, &a, 4);
	a = ip("203.0.113.7");
	req_opt(&r, OPT_REQUESTED_ADDR, &a, 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 1);
	CHECK(parse_reply(&o) == 0 && o.val[OPT_MSG_TYPE][0] == DHCPACK);

	ctx_setup();
	dhcp_init();
}

/* Local mode: 169.254.2.1/16, router and server identifier 169.254.2.2 */
static void test_local(void)
{
	struct parsed o;
	struct req r;

	ctx.ip4.local = 1;
	inet_pton(AF_INET, "169.254.2.1", &ctx.ip4.addr);
	inet_pton(AF_INET, "169.254.2.2", &ctx.ip4.gw);
	ctx.ip4.prefix_len = 16;
	memset(ctx.ip4.dns, 0, sizeof(ctx.ip4.dns));

	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	CHECK(sent.n == 1 && sent.src.s_addr == ip("169.254.2.2"));
	CHECK(!memcmp(sent.data + DHCP_OFF_YIADDR, "\xa9\xfe\x02\x01", 4));
	CHECK(parse_reply(&o) == 0 && o.val[OPT_MSG_TYPE][0] == DHCPOFFER);
	CHECK(opt_is_ip(&o, OPT_SERVER_ID, "169.254.2.2"));
	CHECK(opt_is_ip(&o, OPT_ROUTER, "169.254.2.2"));
	CHECK(opt_is_ip(&o, OPT_NETMASK, "255.255.0.0"));
	CHECK(opt_is_ip(&o, OPT_BROADCAST, "169.254.255.255"));
	CHECK(!o.seen[OPT_CLASSLESS_ROUTES] && !o.seen[OPT_DNS]);
	CHECK(get_be32(o.val[OPT_LEASE_TIME]) == 120);

	/* Selected, then renewed */
	req_init(&r, DHCPREQUEST);
	req_opt(&r, OPT_SERVER_ID, "\xa9\xfe\x02\x02", 4);
	req_opt(&r, OPT_REQUESTED_ADDR, "\xa9\xfe\x02\x01", 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 1);
	CHECK(parse_reply(&o) == 0 && o.val[OPT_MSG_TYPE][0] == DHCPACK);

	/* The host got a network: the local lease is refused */
	ctx_setup();
	req_init(&r, DHCPREQUEST);
	memcpy(r.b + 8 + DHCP_OFF_CIADDR, "\xa9\xfe\x02\x01", 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 2);
	CHECK(sent.srcs[0].s_addr == ip("198.51.100.1"));
	CHECK(parse_reply(&o) == 0 && o.val[OPT_MSG_TYPE][0] == DHCPNAK);
	CHECK(opt_is_ip(&o, OPT_SERVER_ID, "169.254.2.2"));

	ctx_setup();
	dhcp_init();
}

static void test_inform_release(void)
{
	struct req r;

	req_init(&r, DHCPINFORM);
	memcpy(r.b + 8 + DHCP_OFF_CIADDR, "\xc6\x33\x64\x02", 4);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	check_common_reply(DHCPACK);
	CHECK(!memcmp(sent.data + DHCP_OFF_YIADDR, "\0\0\0\0", 4));
	CHECK(!memcmp(sent.data + DHCP_OFF_CIADDR, "\xc6\x33\x64\x02", 4));
	check_full_options(0);

	req_init(&r, DHCPRELEASE);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	CHECK(sent.n == 0);

	req_init(&r, DHCPDECLINE);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	CHECK(sent.n == 0);

	req_init(&r, 42);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	CHECK(sent.n == 0);
}

static void test_malformed(void)
{
	struct req r;
	size_t l;

	/* Zero-length and tiny packets */
	req_init(&r, 0);
	CHECK(feed(dhcp, &ctx, r.b, 0) == 0);
	CHECK(feed(dhcp, &ctx, (const uint8_t *)"\0\x44\0\x43\0\x08", 6) == 0);

	/* UDP header only */
	CHECK(feed(dhcp, &ctx, (const uint8_t *)"\0\x44\0\x43\0\x08\0\0", 8)
	      == 0);

	/* UDP length beyond the packet, and below the header */
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	put_be16(r.b + 4, (uint16_t)(r.len + 1));
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 0 && sent.n == 0);
	put_be16(r.b + 4, 7);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 0 && sent.n == 0);

	/* UDP length shorter than the packet: the message type is cut off */
	req_init(&r, 0);
	l = r.len;
	req_opt(&r, OPT_MSG_TYPE, "\x01", 1);
	req_end(&r);
	put_be16(r.b + 4, (uint16_t)l);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 0);

	/* ...and cut in the middle of an option: malformed */
	put_be16(r.b + 4, (uint16_t)(l + 2));
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 0 && sent.n == 0);

	/* Option running past the end */
	req_init(&r, DHCPDISCOVER);
	r.b[r.len++] = 12;
	r.b[r.len++] = 10;
	memcpy(r.b + r.len, "abc", 3);
	r.len += 3;
	put_be16(r.b + 4, (uint16_t)r.len);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 0 && sent.n == 0);

	/* Huge option length on the very last byte */
	req_init(&r, DHCPDISCOVER);
	r.b[r.len++] = 12;
	r.b[r.len++] = 255;
	put_be16(r.b + 4, (uint16_t)r.len);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 0 && sent.n == 0);

	/* Option code as the very last byte, no length */
	req_init(&r, DHCPDISCOVER);
	r.b[r.len++] = 12;
	put_be16(r.b + 4, (uint16_t)r.len);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 0 && sent.n == 0);

	/* Option 255 "with a length": end, the rest is padding */
	req_init(&r, DHCPDISCOVER);
	r.b[r.len++] = 255;
	r.b[r.len++] = 200;
	r.b[r.len++] = 0xff;
	put_be16(r.b + 4, (uint16_t)r.len);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 1);

	/* Options 0..254 all present, all with maximum length but fitting */
	req_init(&r, DHCPDISCOVER);
	{
		static uint8_t big[65000];
		size_t n = 0, i;
		uint8_t v[255];

		memset(v, 0xab, sizeof(v));
		memcpy(big, r.b, r.len);
		n = r.len;
		for (i = 1; i < 255 && n + 257 < sizeof(big) - 1; i++) {
			if (i == OPT_MSG_TYPE || i == OPT_SERVER_ID ||
			    i == OPT_REQUESTED_ADDR || i == OPT_MAX_MSG_SIZE)
				continue;
			big[n++] = (uint8_t)i;
			big[n++] = 255;
			memcpy(big + n, v, 255);
			n += 255;
		}
		big[n++] = OPT_END;
		put_be16(big + 4, (uint16_t)n);
		CHECK(feed(dhcp, &ctx, big, n) == 1 && sent.n == 1);
	}

	/* Missing magic cookie */
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	r.b[8 + DHCP_OFF_COOKIE] = 0;
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 0);

	/* BOOTP without cookie at all: 236 bytes, and truncated BOOTP */
	req_init(&r, DHCPDISCOVER);
	put_be16(r.b + 4, 8 + 236);
	CHECK(feed(dhcp, &ctx, r.b, 8 + 236) == 1 && sent.n == 0);
	put_be16(r.b + 4, 8 + 235);
	CHECK(feed(dhcp, &ctx, r.b, 8 + 235) == 0 && sent.n == 0);

	/* Missing message type */
	req_init(&r, 0);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 0);

	/* Message type with bad length, or twice */
	req_init(&r, 0);
	req_opt(&r, OPT_MSG_TYPE, "\x01\x01", 2);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 0 && sent.n == 0);
	req_init(&r, 0);
	req_opt(&r, OPT_MSG_TYPE, "", 0);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 0 && sent.n == 0);
	req_init(&r, DHCPDISCOVER);
	req_opt(&r, OPT_MSG_TYPE, "\x03", 1);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 0 && sent.n == 0);

	/* Not a request, not Ethernet */
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	r.b[8 + DHCP_OFF_OP] = BOOTREPLY;
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 0);
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	r.b[8 + DHCP_OFF_HLEN] = 16;
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 0);
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	r.b[8 + DHCP_OFF_HTYPE] = 6;
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 0);

	/* Options without an end option, filling the packet exactly */
	req_init(&r, DHCPDISCOVER);
	req_opt(&r, 12, "host", 4);
	put_be16(r.b + 4, (uint16_t)r.len);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 1);

	/* --no-dhcp */
	ctx.no_dhcp = 1;
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1 && sent.n == 0);
	ctx.no_dhcp = 0;
}

static void test_options_config(void)
{
	struct parsed o;
	char names[4096], exp[4096] = "";
	struct req r;
	size_t i, need;
	int n;

	/* No DNS, no search */
	ctx.no_dhcp_dns = ctx.no_dhcp_dns_search = 1;
	ctx.mtu = 0;
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	check_common_reply(DHCPOFFER);
	parse_reply(&o);
	CHECK(!o.seen[OPT_DNS] && !o.seen[OPT_DOMAIN_NAME] &&
	      !o.seen[OPT_DOMAIN_SEARCH] && !o.seen[OPT_MTU]);
	CHECK(sent.len == 300);
	ctx.no_dhcp_dns = ctx.no_dhcp_dns_search = 0;
	ctx.mtu = 1500;

	/* Prefix lengths: /32 has no broadcast, /0 netmask */
	ctx.ip4.prefix_len = 32;
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	parse_reply(&o);
	CHECK(opt_is_ip(&o, OPT_NETMASK, "255.255.255.255"));
	CHECK(!o.seen[OPT_BROADCAST]);
	ctx.ip4.prefix_len = 17;
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	parse_reply(&o);
	CHECK(opt_is_ip(&o, OPT_NETMASK, "255.255.128.0"));
	CHECK(opt_is_ip(&o, OPT_BROADCAST, "198.51.127.255"));
	ctx.ip4.prefix_len = 24;

	/* Long search list: 6 different names of 60+ characters */
	for (i = 0; i < MAXDNSRCH; i++) {
		snprintf(ctx.dns_search[i].n, DNS_NAME_MAX,
			 "%c%s.%c%s.test", (char)('a' + i),
			 "23456789012345678901234567890123456789012345678901234567890",
			 (char)('k' + i), "bcdefgh");
		snprintf(exp + strlen(exp), sizeof(exp) - strlen(exp),
			 "%s%s", i ? " " : "", ctx.dns_search[i].n);
	}
	ctx.dns_search[MAXDNSRCH].n[0] = 0;

	/* Default maximum size: 119 doesn't fit, the rest is there */
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	check_common_reply(DHCPOFFER);
	parse_reply(&o);
	CHECK(o.seen[OPT_DNS] && o.seen[OPT_DOMAIN_NAME] && o.seen[OPT_MTU]);
	CHECK(!o.seen[OPT_DOMAIN_SEARCH]);

	/* With option 57 = 1500: split over several instances */
	req_init(&r, DHCPDISCOVER);
	req_opt(&r, OPT_MAX_MSG_SIZE, "\x05\xdc", 2);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	CHECK(sent.n == 1 && sent.len <= 1500 - 28);
	parse_reply(&o);
	CHECK(o.end);
	CHECK(o.seen[OPT_DOMAIN_SEARCH] >= 2);
	n = decode_search(o.val[OPT_DOMAIN_SEARCH], o.len[OPT_DOMAIN_SEARCH],
			  names, sizeof(names));
	CHECK(n == MAXDNSRCH);
	CHECK(!strcmp(names, exp));
	/* "test" is shared: a pointer (2) instead of 4test0 (6) */
	need = 0;
	for (i = 0; i < MAXDNSRCH; i++)
		need += strlen(ctx.dns_search[i].n) + 2;
	CHECK(o.len[OPT_DOMAIN_SEARCH] == need - (MAXDNSRCH - 1) * 4);

	/* Maximum-size names (253 characters, 4 labels of 63 + dots) */
	for (i = 0; i < MAXDNSRCH; i++) {
		char *s = ctx.dns_search[i].n;

		memset(s, 'a' + (int)i, 253);
		s[63] = s[127] = s[191] = '.';
		s[253] = 0;
	}
	req_init(&r, DHCPDISCOVER);
	req_opt(&r, OPT_MAX_MSG_SIZE, "\xff\xff", 2);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	parse_reply(&o);
	CHECK(o.end);
	CHECK(o.len[OPT_DOMAIN_SEARCH] == MAXDNSRCH * 255);
	CHECK(o.len[OPT_DOMAIN_NAME] == 253);
	n = decode_search(o.val[OPT_DOMAIN_SEARCH], o.len[OPT_DOMAIN_SEARCH],
			  names, sizeof(names));
	CHECK(n == MAXDNSRCH);

	/* Invalid names are skipped: empty label, label > 63, too long */
	strcpy(ctx.dns_search[0].n, "bad..name");
	memset(ctx.dns_search[1].n, 'x', 64);
	ctx.dns_search[1].n[64] = 0;
	memset(ctx.dns_search[2].n, 'y', 255);
	ctx.dns_search[2].n[255] = 0;
	strcpy(ctx.dns_search[3].n, ".");
	strcpy(ctx.dns_search[4].n, "ok.example.");
	strcpy(ctx.dns_search[5].n, "OK.Example");
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	parse_reply(&o);
	CHECK(o.len[OPT_DOMAIN_NAME] == 10 &&
	      !memcmp(o.val[OPT_DOMAIN_NAME], "ok.example", 10));
	n = decode_search(o.val[OPT_DOMAIN_SEARCH], o.len[OPT_DOMAIN_SEARCH],
			  names, sizeof(names));
	CHECK(n == 2 && !strcmp(names, "ok.example ok.example"));
	CHECK(o.len[OPT_DOMAIN_SEARCH] == 12 + 2);

	ctx_setup();
}

/* Host name (12) and client FQDN (81): present, encoded, flags, room */
static void test_names(void)
{
	static const uint8_t wire[] = "\x06" "guest1" "\x07" "example" "\x03" "org";
	uint8_t cfqdn[] = { FQDN_FLAG_S | FQDN_FLAG_E, 0, 0, 1, 'x', 0 };
	struct parsed o;
	struct req r;
	size_t i;

	/* Not configured: neither option */
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	parse_reply(&o);
	CHECK(!o.seen[OPT_HOSTNAME] && !o.seen[OPT_CLIENT_FQDN]);

	strcpy(ctx.hostname, "guest1");
	strcpy(ctx.fqdn, "guest1.example.org");

	/* OFFER and ACK both carry them: the name as text, the FQDN with
	 * N and E set, S clear, RCODEs 255, then the name in wire format
	 */
	for (i = 0; i < 2; i++) {
		req_init(&r, i ? DHCPREQUEST : DHCPDISCOVER);
		req_end(&r);
		CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
		check_common_reply(i ? DHCPACK : DHCPOFFER);
		parse_reply(&o);
		CHECK(o.end);
		CHECK(o.seen[OPT_HOSTNAME] == 1 && o.len[OPT_HOSTNAME] == 6 &&
		      !memcmp(o.val[OPT_HOSTNAME], "guest1", 6));
		CHECK(o.seen[OPT_CLIENT_FQDN] == 1);
		CHECK(o.len[OPT_CLIENT_FQDN] == 3 + sizeof(wire));
		CHECK(o.val[OPT_CLIENT_FQDN][0] == (FQDN_FLAG_N | FQDN_FLAG_E));
		CHECK(o.val[OPT_CLIENT_FQDN][1] == 255 &&
		      o.val[OPT_CLIENT_FQDN][2] == 255);
		CHECK(!memcmp(o.val[OPT_CLIENT_FQDN] + 3, wire, sizeof(wire)));
	}

	/* The client asks us to update its A RR: O says we didn't */
	req_init(&r, DHCPDISCOVER);
	req_opt(&r, OPT_CLIENT_FQDN, cfqdn, sizeof(cfqdn));
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	parse_reply(&o);
	CHECK(o.val[OPT_CLIENT_FQDN][0] ==
	      (FQDN_FLAG_N | FQDN_FLAG_E | FQDN_FLAG_O));

	/* Truncated option 81 from the client: no O, nothing read past it */
	req_init(&r, DHCPDISCOVER);
	req_opt(&r, OPT_CLIENT_FQDN, cfqdn, 0);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	parse_reply(&o);
	CHECK(o.val[OPT_CLIENT_FQDN][0] == (FQDN_FLAG_N | FQDN_FLAG_E));

	/* A final dot changes nothing in wire format */
	strcpy(ctx.fqdn, "guest1.example.org.");
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	parse_reply(&o);
	CHECK(o.len[OPT_CLIENT_FQDN] == 3 + sizeof(wire) &&
	      !memcmp(o.val[OPT_CLIENT_FQDN] + 3, wire, sizeof(wire)));

	/* Longest names: host name of 253 characters, FQDN of 250 (252 wire
	 * bytes: the most option 81 holds). Within 576 bytes, both can't fit
	 * with the rest: the FQDN and the options after it are left out, and
	 * the reply stays in bounds
	 */
	memset(ctx.hostname, 'h', 253);
	ctx.hostname[63] = ctx.hostname[127] = ctx.hostname[191] = '.';
	ctx.hostname[253] = 0;
	memcpy(ctx.fqdn, ctx.hostname, sizeof(ctx.fqdn));
	ctx.fqdn[0] = 'f';
	ctx.fqdn[FQDN_LEN_MAX] = 0;
	req_init(&r, DHCPDISCOVER);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	CHECK(sent.len <= DHCP_MSG_SIZE_MIN - DHCP_IP_UDP_LEN);
	parse_reply(&o);
	CHECK(o.end && o.len[OPT_HOSTNAME] == 253 && !o.seen[OPT_CLIENT_FQDN]);

	/* ...with room (option 57), both, and the whole search list */
	req_init(&r, DHCPDISCOVER);
	req_opt(&r, OPT_MAX_MSG_SIZE, "\xff\xff", 2);
	req_end(&r);
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	parse_reply(&o);
	CHECK(o.end && o.len[OPT_HOSTNAME] == 253);
	CHECK(o.seen[OPT_CLIENT_FQDN] == 1 &&
	      o.len[OPT_CLIENT_FQDN] == 3 + FQDN_LEN_MAX + 2);
	CHECK(o.val[OPT_CLIENT_FQDN][3] == 63 &&
	      o.val[OPT_CLIENT_FQDN][3 + FQDN_LEN_MAX + 1] == 0);
	CHECK(o.seen[OPT_DOMAIN_SEARCH]);

	/* One more character doesn't fit option 81 (conf.c refuses it) */
	ctx.fqdn[FQDN_LEN_MAX] = 'f';
	ctx.fqdn[FQDN_LEN_MAX + 1] = 0;
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	parse_reply(&o);
	CHECK(o.end && !o.seen[OPT_CLIENT_FQDN] && o.seen[OPT_DOMAIN_SEARCH]);

	/* An invalid FQDN (conf.c refuses it: defence in depth) is left out */
	memset(ctx.fqdn, 'x', 64);
	ctx.fqdn[64] = 0;
	CHECK(feed(dhcp, &ctx, r.b, r.len) == 1);
	parse_reply(&o);
	CHECK(o.end && !o.seen[OPT_CLIENT_FQDN]);

	ctx_setup();
}

static void test_fuzz(void)
{
	static uint8_t buf[1500];
	struct req r;
	unsigned int seed = 1;
	int i, j;

	req_init(&r, DHCPREQUEST);
	req_opt(&r, OPT_REQUESTED_ADDR, "\xc6\x33\x64\x02", 4);
	req_opt(&r, OPT_MAX_MSG_SIZE, "\x05\xdc", 2);
	req_opt(&r, 55, "\x01\x03\x06\x0f\x1a\x1c\x77", 7);
	req_end(&r);

	for (i = 0; i < 200000; i++) {
		size_t len = r.len;

		memcpy(buf, r.b, r.len);
		for (j = rand_r(&seed) % 8; j >= 0; j--)
			buf[rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		if (rand_r(&seed) % 4 == 0)
			len = (size_t)rand_r(&seed) % (r.len + 1);
		if (rand_r(&seed) % 2 == 0)
			put_be16(buf + 4, (uint16_t)len);
		if (len >= 8 + DHCP_OFF_OPTIONS && rand_r(&seed) % 2)
			put_be32(buf + 8 + DHCP_OFF_COOKIE, DHCP_MAGIC);
		feed(dhcp, &ctx, buf, len);
		if (sent.n)
			CHECK(sent.len >= 300 && sent.len <= sizeof(sent.data));
	}
	for (i = 0; i < 100000; i++) {
		size_t len = (size_t)rand_r(&seed) % 64;

		for (j = 0; j < (int)len; j++)
			buf[j] = (uint8_t)rand_r(&seed);
		feed(arp, &ctx, buf, len);
	}
}

/* ARP -------------------------------------------------------------------- */

static size_t arp_req(uint8_t *b, uint16_t op, const char *spa,
		      const char *tpa)
{
	uint32_t s = ip(spa), t = ip(tpa);

	memcpy(b, "\x00\x01\x08\x00\x06\x04", 6);
	put_be16(b + 6, op);
	memcpy(b + 8, chaddr, 6);
	memcpy(b + 14, &s, 4);
	memset(b + 18, 0, 6);
	memcpy(b + 24, &t, 4);
	return 28;
}

static void test_arp(void)
{
	static const uint8_t exp[60] = {
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56,	/* dst: requester */
		0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55,	/* src: c->mac */
		0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
		0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55,	/* sha */
		198, 51, 100, 1,			/* spa: asked */
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56,	/* tha */
		198, 51, 100, 2,			/* tpa */
	};
	uint8_t b[64];
	size_t l;

	l = arp_req(b, 1, "198.51.100.2", "198.51.100.1");
	CHECK(feed(arp, &ctx, b, l) == 1);
	CHECK(sent.n == 1 && sent.len == 60 && !memcmp(sent.data, exp, 60));

	/* Trailing padding from the guest is fine */
	memset(b + l, 0, 18);
	CHECK(feed(arp, &ctx, b, l + 18) == 1 && sent.n == 1);

	/* Any other address: answered too */
	l = arp_req(b, 1, "198.51.100.2", "203.0.113.1");
	CHECK(feed(arp, &ctx, b, l) == 1 && sent.n == 1);
	CHECK(!memcmp(sent.data + 14 + 14, "\xcb\x00\x71\x01", 4));

	/* Guest's own address, configured or seen */
	l = arp_req(b, 1, "198.51.100.2", "198.51.100.2");
	CHECK(feed(arp, &ctx, b, l) == 1 && sent.n == 0);
	inet_pton(AF_INET, "198.51.100.77", &ctx.ip4.addr_seen);
	l = arp_req(b, 1, "198.51.100.5", "198.51.100.77");
	CHECK(feed(arp, &ctx, b, l) == 1 && sent.n == 0);
	ctx.ip4.addr_seen.s_addr = 0;

	/* Probe (RFC 5227) for the guest's address */
	l = arp_req(b, 1, "0.0.0.0", "198.51.100.2");
	CHECK(feed(arp, &ctx, b, l) == 1 && sent.n == 0);

	/* Gratuitous: sender == target */
	l = arp_req(b, 1, "198.51.100.9", "198.51.100.9");
	CHECK(feed(arp, &ctx, b, l) == 1 && sent.n == 0);

	/* Replies, other hardware or protocol types: ignored */
	l = arp_req(b, 2, "198.51.100.2", "198.51.100.1");
	CHECK(feed(arp, &ctx, b, l) == 1 && sent.n == 0);
	l = arp_req(b, 1, "198.51.100.2", "198.51.100.1");
	b[1] = 6;
	CHECK(feed(arp, &ctx, b, l) == 1 && sent.n == 0);
	l = arp_req(b, 1, "198.51.100.2", "198.51.100.1");
	b[4] = 16;
	CHECK(feed(arp, &ctx, b, l) == 1 && sent.n == 0);

	/* Multicast sender hardware address */
	l = arp_req(b, 1, "198.51.100.2", "198.51.100.1");
	b[8] = 0x01;
	CHECK(feed(arp, &ctx, b, l) == 1 && sent.n == 0);

	/* Truncated */
	l = arp_req(b, 1, "198.51.100.2", "198.51.100.1");
	CHECK(feed(arp, &ctx, b, 27) == 0 && sent.n == 0);
	CHECK(feed(arp, &ctx, b, 7) == 0 && sent.n == 0);
	CHECK(feed(arp, &ctx, b, 0) == 0 && sent.n == 0);
}

int main(int argc, char **argv)
{
	verbose = argc > 1 && !strcmp(argv[1], "-v");
	/* Every log call formats its message (trace included): printed with -v */
	log_init("dhcp_test", verbose, 0);
	log_set_level(1, 1, 0);

	ctx_setup();
	dhcp_init();

	test_discover();
	test_request();
	test_no_follow();
	test_renumbered();
	test_local();
	test_inform_release();
	test_malformed();
	test_options_config();
	test_names();
	test_arp();

	verbose = 0;
	log_set_stderr(0);
	test_fuzz();

	printf("dhcp_test: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
