// SPDX-License-Identifier: AGPL-3.0-or-later

/* dhcpv6_test.c - Unit tests for dhcpv6.c: feed client messages, well-formed
 * and not, and parse the replies back
 *
 * Build and run (from test/unit):
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -g -fsanitize=address,undefined \
 *      -I../.. dhcpv6_test.c -o dhcpv6_test && ./dhcpv6_test
 *
 * dhcpv6.c is included, and what it needs from other modules is stubbed
 * here: tap_udp6_send() captures the reply, packet_get_do() does the bounds
 * check packet.c does.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../dhcpv6.c"
#include "../../util.c"
#include "../../packet.c"
#include "../../log.c"
#include "unit.h"

/* Captured reply */
static struct {
	int sent;
	struct in6_addr src, dst;
	in_port_t sport, dport;
	uint8_t msg[4096];
	size_t len;
} out;

void tap_udp6_send(const struct ctx *c,
		   const struct in6_addr *src, in_port_t sport,
		   const struct in6_addr *dst, in_port_t dport,
		   uint32_t flow, const void *in, size_t len)
{
	(void)c;
	(void)flow;
	out.sent++;
	out.src = *src;
	out.dst = *dst;
	out.sport = sport;
	out.dport = dport;
	if (len > sizeof(out.msg)) {
		fprintf(stderr, "reply too long: %zu\n", len);
		abort();
	}
	memcpy(out.msg, in, len);
	out.len = len;
}

static struct ctx ctx;
static const unsigned char our_mac[6] = { 0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55 };
static const uint8_t our_duid[10] = { 0, 3, 0, 1,
				      0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55 };
static const uint8_t client_duid[14] = { 0, 1, 0, 1, 0x2a, 0x2b, 0x2c, 0x2d,
					 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void ctx_init(void)
{
	memset(&ctx, 0, sizeof(ctx));
	memcpy(ctx.mac, our_mac, 6);
	ctx.ifi6 = 2;
	ctx.ip6.addr = a6("2001:db8::2");
	ctx.ip6.addr_ll = a6("fe80::1:2");
	ctx.ip6.gw = a6("2001:db8::1");
	ctx.ip6.dns[0] = a6("2001:db8:1::1");
	strcpy(ctx.dns_search[0].n, "example.com");
	strcpy(ctx.dns_search[1].n, "test.");
}

/* Message builder */
static uint8_t msg[4096];
static size_t mlen;

static void msg_start(uint8_t type)
{
	memset(msg, 0, sizeof(msg));
	put_be16(msg, 546);
	put_be16(msg + 2, 547);
	msg[8] = type;
	msg[9] = 0xab;
	msg[10] = 0xcd;
	msg[11] = 0xef;
	mlen = 12;
}

/* Returns offset of the option header */
static size_t opt(uint16_t code, const void *data, size_t len)
{
	size_t at = mlen;

	put_be16(msg + mlen, code);
	put_be16(msg + mlen + 2, (uint16_t)len);
	if (data)
		memcpy(msg + mlen + 4, data, len);
	mlen += 4 + len;
	return at;
}

static void opt_clientid(void)
{
	opt(OPT_CLIENTID, client_duid, sizeof(client_duid));
}

static void opt_serverid(const uint8_t *duid, size_t len)
{
	opt(OPT_SERVERID, duid, len);
}

/* IA_NA with IAID and an optional address */
static void opt_ia_na(uint32_t iaid, const char *addr)
{
	uint8_t d[12 + 28] = { 0 };
	size_t len = 12;

	put_be32(d, iaid);
	if (addr) {
		struct in6_addr a = a6(addr);

		put_be16(d + 12, OPT_IAADDR);
		put_be16(d + 14, 24);
		memcpy(d + 16, &a, 16);
		put_be32(d + 32, 3600);
		put_be32(d + 36, 7200);
		len += 28;
	}
	opt(OPT_IA_NA, d, len);
}

static int feed_to(const char *saddr, const char *daddr, size_t len)
{
	struct in6_addr s = a6(saddr), d = a6(daddr);
	PACKET_POOL_P1(p, msg, len);

	memset(&out, 0, sizeof(out));
	return dhcpv6(&ctx, &p, &s, &d);
}

static int feed(void)
{
	put_be16(msg + 4, (uint16_t)mlen);
	return feed_to("fe80::5", "ff02::1:2", mlen);
}

/* Parsed reply */
struct reply_parsed {
	int ok;
	int type;
	int has_serverid, serverid_ok, has_clientid, clientid_ok;
	int n_ia;
	uint32_t iaid[4], t1[4], t2[4];
	int ia_status[4];
	int n_addr[4];
	struct in6_addr addr[4][8];
	uint32_t pref[4][8], valid[4][8];
	int status;
	int rapid, preference;
	int n_dns;
	struct in6_addr dns[4];
	int n_search;
	char search[8][256];
	int n_fqdn, fqdn_flags;
	uint8_t fqdn[256];		/* name in wire format */
	size_t fqdn_len;
	uint32_t info_refresh;		/* 0: no option 32 */
	uint32_t sol_max_rt;		/* 0: no option 82 */
	int status_msg_len;
};

static int opts_parse(const uint8_t *m, size_t len, struct reply_parsed *r,
		      int ia)
{
	size_t off = 0;

	while (off < len) {
		uint16_t code, olen;
		const uint8_t *d;

		if (len - off < 4)
			return -1;
		code = get_be16(m + off);
		olen = get_be16(m + off + 2);
		if (olen > len - off - 4)
			return -1;
		d = m + off + 4;

		switch (code) {
		case OPT_SERVERID:
			r->has_serverid++;
			r->serverid_ok = olen == 10 && !memcmp(d, our_duid, 10);
			break;
		case OPT_CLIENTID:
			r->has_clientid++;
			r->clientid_ok = olen == sizeof(client_duid) &&
				!memcmp(d, client_duid, olen);
			break;
		case OPT_IA_NA: {
			int i = r->n_ia++;

			if (olen < 12 || ia >= 0 || i >= 4)
				return -1;
			r->iaid[i] = get_be32(d);
			r->t1[i] = get_be32(d + 4);
			r->t2[i] = get_be32(d + 8);
			r->ia_status[i] = -1;
			if (opts_parse(d + 12, olen - 12, r, i))
				return -1;
			break;
		}
		case OPT_IAADDR: {
			int j;

			if (olen != 24 || ia < 0 || r->n_addr[ia] >= 8)
				return -1;
			j = r->n_addr[ia]++;
			memcpy(&r->addr[ia][j], d, 16);
			r->pref[ia][j] = get_be32(d + 16);
			r->valid[ia][j] = get_be32(d + 20);
			break;
		}
		case OPT_STATUS_CODE:
			if (olen < 2)
				return -1;
			if (ia >= 0) {
				r->ia_status[ia] = get_be16(d);
			} else {
				r->status = get_be16(d);
				r->status_msg_len = olen - 2;
			}
			break;
		case OPT_INFO_REFRESH_TIME:
			if (olen != 4 || ia >= 0 || r->info_refresh)
				return -1;
			r->info_refresh = get_be32(d);
			break;
		case OPT_SOL_MAX_RT:
			if (olen != 4 || ia >= 0 || r->sol_max_rt)
				return -1;
			r->sol_max_rt = get_be32(d);
			break;
		case OPT_RAPID_COMMIT:
			if (olen)
				return -1;
			r->rapid = 1;
			break;
		case OPT_PREFERENCE:
			if (olen != 1)
				return -1;
			r->preference = d[0];
			break;
		case OPT_DNS_SERVERS:
			if (olen % 16)
				return -1;
			for (size_t i = 0; i < olen && r->n_dns < 4; i += 16)
				memcpy(&r->dns[r->n_dns++], d + i, 16);
			break;
		case OPT_DOMAIN_LIST: {
			size_t i = 0;

			while (i < olen) {
				char name[256] = "";
				size_t n = 0;

				while (i < olen && d[i]) {
					size_t l = d[i++];

					if (l > 63 || i + l > olen ||
					    n + l + 2 > sizeof(name))
						return -1;
					if (n)
						name[n++] = '.';
					memcpy(name + n, d + i, l);
					n += l;
					i += l;
				}
				if (i >= olen)
					return -1;	/* no root label */
				i++;
				if (r->n_search < 8)
					strcpy(r->search[r->n_search++], name);
			}
			break;
		}
		case OPT_CLIENT_FQDN:
			if (!olen || olen - 1U > sizeof(r->fqdn) || ia >= 0)
				return -1;
			r->n_fqdn++;
			r->fqdn_flags = d[0];
			r->fqdn_len = olen - 1U;
			memcpy(r->fqdn, d + 1, r->fqdn_len);
			break;
		default:
			return -1;
		}
		off += 4 + olen;
	}
	return 0;
}

static struct reply_parsed reply_parse(void)
{
	struct reply_parsed r = { 0 };
	struct in6_addr router = a6("fe80::1:2"), client = a6("fe80::5");

	r.status = -1;
	if (out.len < 4 || out.sport != 547 || out.dport != 546 ||
	    !IN6_ARE_ADDR_EQUAL(&out.src, &router) ||
	    !IN6_ARE_ADDR_EQUAL(&out.dst, &client) ||
	    memcmp(out.msg + 1, "\xab\xcd\xef", 3))
		return r;
	r.type = out.msg[0];
	if (opts_parse(out.msg + 4, out.len - 4, &r, -1))
		return r;
	r.ok = out.len <= IPV6_MIN_MTU - 48;
	return r;
}

static void test_solicit(void)
{
	struct in6_addr ours = a6("2001:db8::2");
	struct reply_parsed r;

	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt(8, "\0\0", 2);	/* elapsed time */
	opt_ia_na(0x01020304, NULL);
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.type == TYPE_ADVERTISE);
	CHECK(r.has_serverid == 1 && r.serverid_ok);
	CHECK(r.has_clientid == 1 && r.clientid_ok);
	CHECK(r.n_ia == 1 && r.iaid[0] == 0x01020304);
	CHECK(r.t1[0] == 60 && r.t2[0] == 96);
	CHECK(r.n_addr[0] == 1 && IN6_ARE_ADDR_EQUAL(&r.addr[0][0], &ours));
	CHECK(r.pref[0][0] == 120 && r.valid[0][0] == 120);
	CHECK(!r.sol_max_rt && !r.info_refresh);
	CHECK(r.preference == 255 && !r.rapid);
	CHECK(r.n_dns == 1 && IN6_ARE_ADDR_EQUAL(&r.dns[0], &ctx.ip6.dns[0]));
	CHECK(r.n_search == 2 && !strcmp(r.search[0], "example.com") &&
	      !strcmp(r.search[1], "test"));

	/* Rapid commit: straight to REPLY, with the option */
	opt(OPT_RAPID_COMMIT, NULL, 0);
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.type == TYPE_REPLY && r.rapid && !r.preference);
	CHECK(r.n_ia == 1 && r.n_addr[0] == 1);

	/* Two IA_NAs: the second one gets NoAddrsAvail */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt_ia_na(1, NULL);
	opt_ia_na(2, NULL);
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.n_ia == 2 && r.iaid[1] == 2);
	CHECK(r.n_addr[0] == 1 && r.n_addr[1] == 0);
	CHECK(r.ia_status[0] == -1 && r.ia_status[1] == STATUS_NOADDRSAVAIL);

	/* Options switched off */
	ctx.no_dhcp_dns = 1;
	ctx.no_dhcp_dns_search = 1;
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt_ia_na(1, NULL);
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && !r.n_dns && !r.n_search && r.n_addr[0] == 1);
	ctx_init();

	/* Server switched off */
	ctx.no_dhcpv6 = 1;
	CHECK(feed() == 1 && !out.sent);
	ctx_init();

	/* Not for us: ordinary UDP */
	put_be16(msg + 4, (uint16_t)mlen);
	CHECK(feed_to("fe80::5", "2001:db8:1::1", mlen) == 0 && !out.sent);
	CHECK(feed_to("fe80::5", "fe80::1:2", mlen) == 1 && out.sent);
	put_be16(msg + 2, 548);
	CHECK(feed_to("fe80::5", "ff02::1:2", mlen) == 0 && !out.sent);
	put_be16(msg + 2, 547);

	/* Server ID in a SOLICIT, no client ID */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt_serverid(our_duid, sizeof(our_duid));
	CHECK(feed() == 1 && !out.sent);
	msg_start(TYPE_SOLICIT);
	opt_ia_na(1, NULL);
	CHECK(feed() == 1 && !out.sent);

	/* No IA_NA: configuration only */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	CHECK(feed() == 1 && out.sent);
	r = reply_parse();
	CHECK(r.ok && r.n_ia == 0 && r.n_dns == 1);

	/* Unspecified source */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	put_be16(msg + 4, (uint16_t)mlen);
	CHECK(feed_to("::", "ff02::1:2", mlen) == 1 && !out.sent);
}

static void test_request(void)
{
	struct in6_addr ours = a6("2001:db8::2"), old = a6("2001:db8::99");
	static const uint8_t types[] = { TYPE_REQUEST, TYPE_RENEW };
	uint8_t other[10];
	struct reply_parsed r;
	unsigned int i;

	for (i = 0; i < sizeof(types); i++) {
		msg_start(types[i]);
		opt_clientid();
		opt_serverid(our_duid, sizeof(our_duid));
		opt_ia_na(7, "2001:db8::99");
		CHECK(feed() == 1 && out.sent == 1);
		r = reply_parse();
		CHECK(r.ok && r.type == TYPE_REPLY && r.serverid_ok &&
		      r.clientid_ok);
		CHECK(r.n_ia == 1 && r.iaid[0] == 7 && r.n_addr[0] == 2);
		CHECK(IN6_ARE_ADDR_EQUAL(&r.addr[0][0], &ours));
		CHECK(r.valid[0][0] == 120 && r.t1[0] == 60);
		CHECK(IN6_ARE_ADDR_EQUAL(&r.addr[0][1], &old));
		CHECK(r.valid[0][1] == 0 && r.pref[0][1] == 0);
		CHECK(r.n_dns == 1 && r.n_search == 2 && !r.preference);

		/* Our own address: not listed twice */
		msg_start(types[i]);
		opt_clientid();
		opt_serverid(our_duid, sizeof(our_duid));
		opt_ia_na(7, "2001:db8::2");
		CHECK(feed() == 1 && out.sent == 1);
		r = reply_parse();
		CHECK(r.ok && r.n_ia == 1 && r.n_addr[0] == 1);

		/* Another server's ID */
		memcpy(other, our_duid, sizeof(other));
		other[9] ^= 1;
		msg_start(types[i]);
		opt_clientid();
		opt_serverid(other, sizeof(other));
		opt_ia_na(7, NULL);
		CHECK(feed() == 1 && !out.sent);
		msg_start(types[i]);
		opt_clientid();
		opt_serverid(our_duid, 9);
		opt_ia_na(7, NULL);
		CHECK(feed() == 1 && !out.sent);

		/* No server ID */
		msg_start(types[i]);
		opt_clientid();
		opt_ia_na(7, NULL);
		CHECK(feed() == 1 && !out.sent);

		/* No client ID */
		msg_start(types[i]);
		opt_serverid(our_duid, sizeof(our_duid));
		opt_ia_na(7, NULL);
		CHECK(feed() == 1 && !out.sent);
	}

	/* REBIND: no server ID */
	msg_start(TYPE_REBIND);
	opt_clientid();
	opt_ia_na(7, "2001:db8::2");
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.type == TYPE_REPLY && r.n_ia == 1 && r.n_addr[0] == 1);
	opt_serverid(our_duid, sizeof(our_duid));
	CHECK(feed() == 1 && !out.sent);
}

static void test_confirm_release(void)
{
	struct reply_parsed r;

	msg_start(TYPE_CONFIRM);
	opt_clientid();
	opt_ia_na(7, "2001:db8::2");
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.type == TYPE_REPLY && r.status == STATUS_SUCCESS &&
	      !r.n_ia);

	msg_start(TYPE_CONFIRM);
	opt_clientid();
	opt_ia_na(7, "2001:db8:5::2");
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.status == STATUS_NOTONLINK);

	/* Nothing to confirm: no reply, RFC 8415 18.3.3 */
	msg_start(TYPE_CONFIRM);
	opt_clientid();
	opt_ia_na(7, NULL);
	CHECK(feed() == 1 && !out.sent);

	msg_start(TYPE_RELEASE);
	opt_clientid();
	opt_serverid(our_duid, sizeof(our_duid));
	opt_ia_na(7, "2001:db8::2");
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.type == TYPE_REPLY && r.status == STATUS_SUCCESS);

	msg_start(TYPE_DECLINE);
	opt_clientid();
	opt_serverid(our_duid, sizeof(our_duid));
	opt_ia_na(7, "2001:db8::2");
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.status == STATUS_SUCCESS);

	msg_start(TYPE_RELEASE);
	opt_clientid();
	opt_ia_na(7, "2001:db8::2");
	CHECK(feed() == 1 && !out.sent);

	/* Types we don't serve */
	msg_start(TYPE_ADVERTISE);
	opt_clientid();
	CHECK(feed() == 1 && !out.sent);
	msg_start(TYPE_REPLY);
	opt_clientid();
	CHECK(feed() == 1 && !out.sent);
	msg_start(12);	/* RELAY-FORW */
	CHECK(feed() == 1 && !out.sent);
}

static void test_info_request(void)
{
	struct reply_parsed r;

	msg_start(TYPE_INFORMATION_REQUEST);
	opt_clientid();
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.type == TYPE_REPLY && !r.n_ia && r.clientid_ok);
	CHECK(r.n_dns == 1 && r.n_search == 2);
	CHECK(r.info_refresh == 600);

	/* --no-follow: the default refresh time (a day) will do */
	ctx.no_follow = 1;
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.n_dns == 1 && !r.info_refresh);
	ctx_init();

	/* Client ID is optional here */
	msg_start(TYPE_INFORMATION_REQUEST);
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && !r.has_clientid && r.serverid_ok && r.n_dns == 1);

	/* Server ID: must be ours if present */
	opt_serverid(our_duid, sizeof(our_duid));
	CHECK(feed() == 1 && out.sent == 1);
	msg_start(TYPE_INFORMATION_REQUEST);
	opt_serverid(our_duid, 4);
	CHECK(feed() == 1 && !out.sent);

	/* No IAs allowed */
	msg_start(TYPE_INFORMATION_REQUEST);
	opt_clientid();
	opt_ia_na(7, NULL);
	CHECK(feed() == 1 && !out.sent);
	msg_start(TYPE_INFORMATION_REQUEST);
	opt(OPT_IA_PD, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	CHECK(feed() == 1 && !out.sent);
}

static void test_malformed(void)
{
	uint8_t big[200] = { 0 };
	size_t at;

	/* Option running past the end */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	at = opt(8, "\0\0", 2);
	put_be16(msg + at + 2, 3);
	CHECK(feed() == 1 && !out.sent);

	/* Option header cut short */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	mlen += 3;
	CHECK(feed() == 1 && !out.sent);

	/* Client ID running past the end */
	msg_start(TYPE_SOLICIT);
	at = mlen;
	opt_clientid();
	put_be16(msg + at + 2, 0xffff);
	CHECK(feed() == 1 && !out.sent);

	/* Empty or overlong client ID */
	msg_start(TYPE_SOLICIT);
	opt(OPT_CLIENTID, NULL, 0);
	CHECK(feed() == 1 && !out.sent);
	msg_start(TYPE_SOLICIT);
	opt(OPT_CLIENTID, big, 131);
	CHECK(feed() == 1 && !out.sent);
	msg_start(TYPE_SOLICIT);
	opt(OPT_CLIENTID, big, 130);
	CHECK(feed() == 1 && out.sent);

	/* Nested option of IA_NA running past the IA_NA */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	at = mlen;
	opt_ia_na(1, "2001:db8::2");
	put_be16(msg + at + 4 + 12 + 2, 25);
	CHECK(feed() == 1 && !out.sent);

	/* ... and a nested option header cut short */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	at = mlen;
	opt_ia_na(1, "2001:db8::2");
	put_be16(msg + at + 2, 12 + 3);
	mlen = at + 4 + 15;
	CHECK(feed() == 1 && !out.sent);

	/* IA_NA too short for IAID, T1, T2 */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt(OPT_IA_NA, "\0\0\0\1\0\0\0\0\0\0\0", 11);
	CHECK(feed() == 1 && !out.sent);

	/* Short IAADDR inside IA_NA in a REQUEST: ignored, still served */
	msg_start(TYPE_REQUEST);
	opt_clientid();
	opt_serverid(our_duid, sizeof(our_duid));
	at = mlen;
	opt_ia_na(1, "2001:db8::99");
	put_be16(msg + at + 2, 12 + 4 + 8);
	put_be16(msg + at + 4 + 12 + 2, 8);
	mlen = at + 4 + 12 + 4 + 8;
	CHECK(feed() == 1 && out.sent);
	CHECK(reply_parse().ok && reply_parse().n_addr[0] == 1);

	/* UDP length: longer than the datagram, shorter than the header */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	put_be16(msg + 4, (uint16_t)(mlen + 1));
	CHECK(feed_to("fe80::5", "ff02::1:2", mlen) == 1 && !out.sent);
	put_be16(msg + 4, 11);
	CHECK(feed_to("fe80::5", "ff02::1:2", mlen) == 1 && !out.sent);
	put_be16(msg + 4, 0);
	CHECK(feed_to("fe80::5", "ff02::1:2", mlen) == 1 && !out.sent);

	/* UDP length shorter than the datagram: trailing bytes ignored */
	put_be16(msg + 4, (uint16_t)mlen);
	msg[mlen] = 0xff;
	CHECK(feed_to("fe80::5", "ff02::1:2", mlen + 3) == 1 && out.sent);

	/* Cut anywhere: never read past the end */
	msg_start(TYPE_REQUEST);
	opt_clientid();
	opt_serverid(our_duid, sizeof(our_duid));
	opt_ia_na(1, "2001:db8::99");
	for (at = 0; at < mlen; at++) {
		static uint8_t copy[4096];
		struct in6_addr s = a6("fe80::5"), d = a6("ff02::1:2");
		PACKET_POOL_P1(p, copy, at);

		memcpy(copy, msg, at);
		put_be16(copy + 4, (uint16_t)mlen);
		memset(&out, 0, sizeof(out));
		dhcpv6(&ctx, &p, &s, &d);
		CHECK(!out.sent);
	}
}

/* Many IA_NAs from a hostile client: the reply must stay bounded */
static void test_many_ias(void)
{
	int i;

	msg_start(TYPE_SOLICIT);
	opt_clientid();
	for (i = 0; i < 70; i++)
		opt_ia_na((uint32_t)i, NULL);
	CHECK(feed() == 1);
	CHECK(!out.sent || out.len <= REPLY_MAX_LEN);

	msg_start(TYPE_REQUEST);
	opt_clientid();
	opt_serverid(our_duid, sizeof(our_duid));
	{
		uint8_t d[12 + 28 * 40] = { 0 };

		for (i = 0; i < 40; i++) {
			put_be16(d + 12 + 28 * i, OPT_IAADDR);
			put_be16(d + 14 + 28 * i, 24);
			d[16 + 28 * i] = 0x20;
			d[31 + 28 * i] = (uint8_t)i;
		}
		opt(OPT_IA_NA, d, sizeof(d));
	}
	CHECK(feed() == 1 && out.sent);
	CHECK(reply_parse().ok &&
	      reply_parse().n_addr[0] == 1 + IAADDR_RELEASE_MAX);
}

/* Long search list: the reply still fits the IPv6 minimum MTU */
static void test_long_search(void)
{
	struct reply_parsed r;
	int i, j;

	for (i = 0; i < MAXDNSRCH; i++) {
		for (j = 0; j < 253; j++)
			ctx.dns_search[i].n[j] = (j % 10 == 9) ? '.' :
						 (char)('a' + i);
		ctx.dns_search[i].n[253] = 0;
	}
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt_ia_na(1, NULL);
	CHECK(feed() == 1 && out.sent);
	r = reply_parse();
	CHECK(r.ok && r.n_addr[0] == 1 && r.n_search >= 3 && r.n_search < 6);
	ctx_init();
}

/* Client FQDN (39): in ADVERTISE, REPLY, and INFORMATION-REQUEST replies,
 * N set, O if the client asked for an update, name in wire format
 */
static void test_fqdn(void)
{
	static const uint8_t wire[] = "\x06" "guest1" "\x07" "example" "\x03" "org";
	static const uint8_t types[] = { TYPE_SOLICIT, TYPE_REQUEST,
					 TYPE_INFORMATION_REQUEST };
	static const uint8_t exp[] = { TYPE_ADVERTISE, TYPE_REPLY, TYPE_REPLY };
	struct reply_parsed r;
	size_t i;

	/* Not configured: no option */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt_ia_na(1, NULL);
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && !r.n_fqdn);

	strcpy(ctx.fqdn, "guest1.example.org");
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		msg_start(types[i]);
		opt_clientid();
		if (types[i] == TYPE_REQUEST)
			opt_serverid(our_duid, sizeof(our_duid));
		if (types[i] != TYPE_INFORMATION_REQUEST)
			opt_ia_na(1, NULL);
		CHECK(feed() == 1 && out.sent == 1);
		r = reply_parse();
		CHECK(r.ok && r.type == exp[i]);
		CHECK(r.n_fqdn == 1 && r.fqdn_flags == FQDN_FLAG_N);
		CHECK(r.fqdn_len == sizeof(wire) &&
		      !memcmp(r.fqdn, wire, sizeof(wire)));
		/* the rest is still there */
		CHECK(r.n_dns == 1 && r.n_search == 2);
	}

	/* Client's own option with S: we override it; with N only: not */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt_ia_na(1, NULL);
	opt(OPT_CLIENT_FQDN, "\x01\x01x\x00", 4);
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.n_fqdn == 1 &&
	      r.fqdn_flags == (FQDN_FLAG_N | FQDN_FLAG_O));
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt_ia_na(1, NULL);
	opt(OPT_CLIENT_FQDN, "\x04", 1);
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.fqdn_flags == FQDN_FLAG_N);

	/* Empty option from the client: nothing read beyond it */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt_ia_na(1, NULL);
	opt(OPT_CLIENT_FQDN, NULL, 0);
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.fqdn_flags == FQDN_FLAG_N);

	/* Longest name accepted by conf.c, final dot: 252 wire bytes */
	memset(ctx.fqdn, 'f', FQDN_LEN_MAX);
	ctx.fqdn[63] = ctx.fqdn[127] = ctx.fqdn[191] = '.';
	strcpy(ctx.fqdn + FQDN_LEN_MAX, ".");
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt_ia_na(1, NULL);
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.n_fqdn == 1 && r.fqdn_len == FQDN_LEN_MAX + 2 &&
	      r.fqdn[0] == 63 && !r.fqdn[FQDN_LEN_MAX + 1]);

	/* Invalid (label of 64): left out, the reply goes out all the same */
	memset(ctx.fqdn, 'x', 64);
	ctx.fqdn[64] = 0;
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && !r.n_fqdn && r.n_ia == 1 && r.n_search == 2);

	ctx.fqdn[0] = 0;
}

/* --no-follow: infinite lifetimes, T1 and T2, as before following */
static void test_no_follow(void)
{
	struct reply_parsed r;

	ctx.no_follow = 1;
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt_ia_na(1, NULL);
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.n_ia == 1 && r.n_addr[0] == 1);
	CHECK(r.t1[0] == 0xffffffff && r.t2[0] == 0xffffffff);
	CHECK(r.pref[0][0] == 0xffffffff && r.valid[0][0] == 0xffffffff);

	msg_start(TYPE_RENEW);
	opt_clientid();
	opt_serverid(our_duid, sizeof(our_duid));
	opt_ia_na(1, "2001:db8::2");
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.n_addr[0] == 1 && r.valid[0][0] == 0xffffffff);
	ctx_init();
}

/* The host's address changed: RENEW and REBIND of the old one get it back
 * with zero lifetimes, next to the new one; CONFIRM fails
 */
static void test_renumbered(void)
{
	struct in6_addr old = a6("2001:db8::2"), new = a6("2001:db8:5::2");
	static const uint8_t types[] = { TYPE_RENEW, TYPE_REBIND };
	struct reply_parsed r;
	unsigned int i;

	ctx.ip6.addr = new;
	for (i = 0; i < sizeof(types); i++) {
		msg_start(types[i]);
		opt_clientid();
		if (types[i] == TYPE_RENEW)
			opt_serverid(our_duid, sizeof(our_duid));
		opt_ia_na(3, "2001:db8::2");
		CHECK(feed() == 1 && out.sent == 1);
		r = reply_parse();
		CHECK(r.ok && r.type == TYPE_REPLY && r.n_ia == 1);
		CHECK(r.ia_status[0] == -1 && r.t1[0] == 60 && r.t2[0] == 96);
		CHECK(r.n_addr[0] == 2);
		CHECK(IN6_ARE_ADDR_EQUAL(&r.addr[0][0], &new) &&
		      r.pref[0][0] == 120 && r.valid[0][0] == 120);
		CHECK(IN6_ARE_ADDR_EQUAL(&r.addr[0][1], &old) &&
		      !r.pref[0][1] && !r.valid[0][1]);
	}

	msg_start(TYPE_CONFIRM);
	opt_clientid();
	opt_ia_na(3, "2001:db8::2");
	CHECK(feed() == 1 && out.sent == 1);
	r = reply_parse();
	CHECK(r.ok && r.status == STATUS_NOTONLINK);
	ctx_init();
}

/* Local mode: no global address to give */
static void test_local(void)
{
	struct in6_addr old = a6("2001:db8::2"), fe80_1 = a6("fe80::1");
	struct reply_parsed r;

	ctx.ip6.local = 1;
	ctx.ip6.addr = in6addr_any;
	ctx.ip6.gw = ctx.ip6.addr_ll = fe80_1;

	/* ADVERTISE: no IA, NoAddrsAvail with a message, SOL_MAX_RT 60 */
	msg_start(TYPE_SOLICIT);
	opt_clientid();
	opt_ia_na(1, NULL);
	put_be16(msg + 4, (uint16_t)mlen);
	CHECK(feed_to("fe80::5", "ff02::1:2", mlen) == 1 && out.sent == 1);
	CHECK(IN6_ARE_ADDR_EQUAL(&out.src, &fe80_1));
	out.src = a6("fe80::1:2");	/* what reply_parse() expects */
	r = reply_parse();
	CHECK(r.ok && r.type == TYPE_ADVERTISE && !r.n_ia);
	CHECK(r.status == STATUS_NOADDRSAVAIL && r.status_msg_len > 0);
	CHECK(r.sol_max_rt == 60 && r.preference == 255);
	CHECK(r.n_dns == 1 && r.n_search == 2);

	/* ...not with --no-follow: nothing will change */
	ctx.no_follow = 1;
	CHECK(feed_to("fe80::5", "ff02::1:2", mlen) == 1 && out.sent == 1);
	out.src = a6("fe80::1:2");
	r = reply_parse();
	CHECK(r.ok && r.status == STATUS_NOADDRSAVAIL && !r.sol_max_rt);
	ctx.no_follow = 0;

	/* Rapid commit: REPLY with the IA_NA, NoAddrsAvail in it */
	opt(OPT_RAPID_COMMIT, NULL, 0);
	put_be16(msg + 4, (uint16_t)mlen);
	CHECK(feed_to("fe80::5", "ff02::1:2", mlen) == 1 && out.sent == 1);
	out.src = a6("fe80::1:2");
	r = reply_parse();
	CHECK(r.ok && r.type == TYPE_REPLY && r.rapid && r.n_ia == 1);
	CHECK(r.ia_status[0] == STATUS_NOADDRSAVAIL && !r.n_addr[0]);
	CHECK(!r.t1[0] && !r.t2[0]);

	/* RENEW of the address from before: back with zero lifetimes,
	 * NoAddrsAvail for the IA
	 */
	msg_start(TYPE_RENEW);
	opt_clientid();
	opt_serverid(our_duid, sizeof(our_duid));
	opt_ia_na(1, "2001:db8::2");
	put_be16(msg + 4, (uint16_t)mlen);
	CHECK(feed_to("fe80::5", "ff02::1:2", mlen) == 1 && out.sent == 1);
	out.src = a6("fe80::1:2");
	r = reply_parse();
	CHECK(r.ok && r.type == TYPE_REPLY && r.n_ia == 1);
	CHECK(r.ia_status[0] == STATUS_NOADDRSAVAIL && r.n_addr[0] == 1);
	CHECK(IN6_ARE_ADDR_EQUAL(&r.addr[0][0], &old) && !r.valid[0][0] &&
	      !r.pref[0][0]);

	/* INFORMATION-REQUEST: as usual */
	msg_start(TYPE_INFORMATION_REQUEST);
	opt_clientid();
	put_be16(msg + 4, (uint16_t)mlen);
	CHECK(feed_to("fe80::5", "ff02::1:2", mlen) == 1 && out.sent == 1);
	out.src = a6("fe80::1:2");
	r = reply_parse();
	CHECK(r.ok && r.type == TYPE_REPLY && r.n_dns == 1 &&
	      r.n_search == 2 && r.info_refresh == 600);

	/* Sent to our link-local address, fe80::1: for us */
	msg_start(TYPE_INFORMATION_REQUEST);
	opt_clientid();
	put_be16(msg + 4, (uint16_t)mlen);
	CHECK(feed_to("fe80::5", "fe80::1", mlen) == 1 && out.sent == 1);
	ctx_init();
}

static void test_fuzz(void)
{
	unsigned int seed = 7;
	int i;

	for (i = 0; i < 200000; i++) {
		size_t j, n = (size_t)(rand_r(&seed) % 6);

		msg_start((uint8_t)(rand_r(&seed) % 13));
		if (rand_r(&seed) % 4)
			opt_clientid();
		if (rand_r(&seed) % 2)
			opt_serverid(our_duid, sizeof(our_duid));
		for (j = 0; j < n; j++) {
			uint8_t d[64];
			size_t k, l = (size_t)(rand_r(&seed) % sizeof(d));

			for (k = 0; k < l; k++)
				d[k] = (uint8_t)rand_r(&seed);
			if (l >= 16 && rand_r(&seed) % 2) {
				put_be16(d + 12, OPT_IAADDR);
				put_be16(d + 14, (uint16_t)(rand_r(&seed) % 40));
			}
			opt((uint16_t)(rand_r(&seed) % 30), d, l);
		}
		if (rand_r(&seed) % 4 == 0) {
			/* corrupt a length or cut */
			size_t pos = 12 + (size_t)rand_r(&seed) % (mlen - 11);

			if (pos < mlen)
				msg[pos] = (uint8_t)rand_r(&seed);
		}
		put_be16(msg + 4, (uint16_t)mlen);
		feed_to("fe80::5", "ff02::1:2",
			mlen - (rand_r(&seed) % 8 ? 0 : (size_t)rand_r(&seed) %
							   (mlen + 1)));
		if (out.sent)
			CHECK(reply_parse().ok);
	}
}

int main(void)
{
	log_init("dhcpv6_test", getenv("VERBOSE") != NULL, 0);
	log_set_level(1, 1, 0);

	ctx_init();
	dhcpv6_init(&ctx);

	test_solicit();
	test_request();
	test_no_follow();
	test_renumbered();
	test_local();
	test_confirm_release();
	test_info_request();
	test_malformed();
	test_many_ias();
	test_long_search();
	test_fqdn();
	strcpy(ctx.fqdn, "fuzz.example.org");
	test_fuzz();

	printf("dhcpv6_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
