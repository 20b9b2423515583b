// SPDX-License-Identifier: AGPL-3.0-or-later

/* fwd_test.c - Unit tests for the -t/-u/-T/-U specification parser
 *
 * Includes fwd.c directly, so the test needs nothing else from passt. Each
 * case parses one or more specifications into a fresh table and checks the
 * return value, then selected ports: whether they're set, their target,
 * their bind address. Prints "N passed, M failed", exits 1 on any failure.
 */

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>

#include "../../fwd.c"

static struct fwd_ports t;
static unsigned int passed, failed;
static char errbuf[256];

#define CHECK(cond, ...)						\
	do {								\
		if (cond) {						\
			passed++;					\
		} else {						\
			failed++;					\
			printf("FAIL %s:%d: ", __FILE__, __LINE__);	\
			printf(__VA_ARGS__);				\
			printf("\n");					\
		}							\
	} while (0)

/**
 * parse() - Reset the table and parse a NULL-terminated list of specs
 * @pasta:	Mode
 * @...:	Specifications, NULL-terminated
 *
 * Return: 0 if all were accepted, -1 at the first rejected one
 */
static int parse(int pasta, ...)
{
	const char *spec;
	va_list ap;
	int ret = 0;

	memset(&t, 0, sizeof(t));
	errbuf[0] = '\0';

	va_start(ap, pasta);
	while ((spec = va_arg(ap, const char *))) {
		ret = fwd_parse(&t, spec, pasta, errbuf, sizeof(errbuf));
		if (ret)
			break;
	}
	va_end(ap);

	return ret;
}

static unsigned int count(void)
{
	unsigned int p, n = 0;

	for (p = 0; p < NUM_PORTS; p++)
		n += (unsigned int)fwd_port_is_set(&t, p);

	return n;
}

/* Expect @spec to be rejected in @pasta mode, with an explanation */
static void bad(int pasta, const char *spec)
{
	int ret = parse(pasta, spec, (char *)NULL);

	CHECK(ret == FWD_ERR_SYNTAX, "'%s' (%s): %i, not a syntax error", spec,
	      pasta ? "pasta" : "passt", ret);
	CHECK(ret == 0 || (*errbuf && !strchr(errbuf, '\n')),
	      "'%s': no one-line explanation", spec);
	CHECK(ret == 0 || count() == 0, "'%s' rejected but left ports", spec);
}

/* Expect @b, after @a (or @a alone if @b is NULL), to be a conflict whose
 * one-line explanation names both rules, leaving the table as it was
 */
static void conflict(int pasta, const char *a, const char *b)
{
	unsigned int before = 0;
	int ret;

	if (b) {
		CHECK(!parse(pasta, a, NULL), "'%s': %s", a, errbuf);
		before = count();
		ret = fwd_parse(&t, b, pasta, errbuf, sizeof(errbuf));
	} else {
		ret = parse(pasta, a, NULL);
	}

	CHECK(ret == FWD_ERR_CONFLICT, "'%s' then '%s' (%s): %i, not a "
	      "conflict (%s)", a, b ? b : "-", pasta ? "pasta" : "passt", ret,
	      errbuf);
	CHECK(*errbuf && !strchr(errbuf, '\n'), "'%s' '%s': no one-line "
	      "explanation", a, b ? b : "-");
	CHECK(strstr(errbuf, a) && (!b || strstr(errbuf, b)),
	      "'%s' '%s': rules not named in '%s'", a, b ? b : "-", errbuf);
	CHECK(count() == before, "'%s' '%s': table changed", a, b ? b : "-");
}

static void test_examples(void)
{
	int pasta, i;

	for (pasta = 0; pasta <= 1; pasta++) {
		/* -t 22 */
		CHECK(!parse(pasta, "22", NULL), "22: %s", errbuf);
		CHECK(t.mode == FWD_SPEC, "22: mode %i", t.mode);
		CHECK(count() == 1 && fwd_port_is_set(&t, 22), "22: map");
		CHECK(fwd_target(&t, 22) == 22, "22: target");
		CHECK(t.addr_idx[22] == 0, "22: address");

		/* -t 22:23 */
		CHECK(!parse(pasta, "22:23", NULL), "22:23: %s", errbuf);
		CHECK(count() == 1 && fwd_target(&t, 22) == 23, "22:23");

		/* -t 22,25 */
		CHECK(!parse(pasta, "22,25", NULL), "22,25: %s", errbuf);
		CHECK(count() == 2 && fwd_port_is_set(&t, 22) &&
		      fwd_port_is_set(&t, 25) && fwd_target(&t, 25) == 25,
		      "22,25");

		/* -t 22-80 */
		CHECK(!parse(pasta, "22-80", NULL), "22-80: %s", errbuf);
		CHECK(count() == 59 && !fwd_port_is_set(&t, 21) &&
		      !fwd_port_is_set(&t, 81), "22-80: map");
		for (i = 22; i <= 80; i++)
			CHECK(fwd_target(&t, i) == (unsigned int)i, "22-80");

		/* -t 22-80:32-90, what the man page means by 22-80-32:90 */
		CHECK(!parse(pasta, "22-80:32-90", NULL), "%s", errbuf);
		CHECK(count() == 59, "22-80:32-90: map");
		CHECK(fwd_target(&t, 22) == 32 && fwd_target(&t, 80) == 90,
		      "22-80:32-90: targets");

		/* -t 192.0.2.1/22 */
		CHECK(!parse(pasta, "192.0.2.1/22", NULL), "%s", errbuf);
		CHECK(count() == 1 && t.addr_count == 1 &&
		      t.addr_idx[22] == 1 && t.addr[0].af == AF_INET &&
		      t.addr[0].a4.s_addr == htonl(0xc0000201),
		      "192.0.2.1/22");

		/* -t 192.0.2.1%eth0/22, -t %eth0/22, -t ::1%lo/22 */
		CHECK(!parse(pasta, "192.0.2.1%eth0/22", NULL), "%s", errbuf);
		CHECK(count() == 1 && t.addr_idx[22] == 1 &&
		      t.addr[0].af == AF_INET &&
		      !strcmp(t.addr[0].ifname, "eth0"), "192.0.2.1%%eth0/22");
		CHECK(!parse(pasta, "%eth0/22", NULL), "%s", errbuf);
		CHECK(count() == 1 && t.addr_idx[22] == 1 && !t.addr[0].af &&
		      !strcmp(t.addr[0].ifname, "eth0"), "%%eth0/22");
		CHECK(!parse(pasta, "::1%lo/22", NULL), "%s", errbuf);
		CHECK(count() == 1 && t.addr[0].af == AF_INET6 &&
		      !strcmp(t.addr[0].ifname, "lo"), "::1%%lo/22");

		/* -t 2000-5000,~3000-3010 */
		CHECK(!parse(pasta, "2000-5000,~3000-3010", NULL), "%s",
		      errbuf);
		CHECK(count() == 3001 - 11 && fwd_port_is_set(&t, 2999) &&
		      !fwd_port_is_set(&t, 3000) &&
		      !fwd_port_is_set(&t, 3010) &&
		      fwd_port_is_set(&t, 3011), "2000-5000,~3000-3010");

		/* -t 192.0.2.1/20-30,~25 */
		CHECK(!parse(pasta, "192.0.2.1/20-30,~25", NULL), "%s",
		      errbuf);
		CHECK(count() == 10 && !fwd_port_is_set(&t, 25) &&
		      t.addr_idx[20] == 1 && t.addr_idx[30] == 1,
		      "192.0.2.1/20-30,~25");

		/* -t ~20000-20010 */
		CHECK(!parse(pasta, "~20000-20010", NULL), "%s", errbuf);
		CHECK(!fwd_port_is_set(&t, 0) && fwd_port_is_set(&t, 1) &&
		      fwd_port_is_set(&t, 19999) &&
		      !fwd_port_is_set(&t, 20000) &&
		      !fwd_port_is_set(&t, 20010) &&
		      fwd_port_is_set(&t, 20011), "~20000-20010");
		CHECK(count() == 49151 - 11 && !fwd_port_is_set(&t, 49152),
		      "~: non-ephemeral ports only");
		CHECK(fwd_port_quiet(&t, 1) && fwd_port_quiet(&t, 49151),
		      "~: best effort");
	}
}

static void test_keywords(void)
{
	CHECK(!parse(0, "none", NULL) && t.mode == FWD_NONE && !count(),
	      "none");
	CHECK(!parse(1, "none", NULL) && t.mode == FWD_NONE, "pasta none");

	CHECK(!parse(0, "all", NULL) && t.mode == FWD_SPEC, "all");
	CHECK(count() == 49151 && fwd_port_is_set(&t, 1) &&
	      fwd_port_is_set(&t, 49151) && !fwd_port_is_set(&t, 49152),
	      "all: non-ephemeral ports");
	CHECK(fwd_port_quiet(&t, 80) && !fwd_target_addr(&t, 80), "all: quiet");
	CHECK(!parse(1, "all", NULL) && count() == 49151, "pasta: all");

	CHECK(!parse(1, "auto", NULL) && t.mode == FWD_AUTO && !count(),
	      "auto");
	bad(0, "auto");

	CHECK(!parse(0, "none", "none", NULL), "none twice");
	CHECK(parse(0, "none", "22", NULL) == -1, "none, 22");
	CHECK(parse(0, "22", "none", NULL) == -1, "22, none");
	conflict(0, "all", "22");
	conflict(1, "auto", "22");
	conflict(1, "22", "auto");
	CHECK(parse(1, "none", "auto", NULL) == -1, "none, auto");
	bad(0, "None");
	bad(0, "192.0.2.1%/22");
	bad(0, "%/22");
	bad(0, "192.0.2.1%averyveryverylongname/22");
	bad(0, "none,22");
	bad(0, "al");
}

static void test_accumulate(void)
{
	CHECK(!parse(0, "80", "443", NULL), "80, 443: %s", errbuf);
	CHECK(count() == 2 && fwd_port_is_set(&t, 80) &&
	      fwd_port_is_set(&t, 443), "80, 443");

	conflict(0, "80", "80");
	conflict(0, "22,22", NULL);
	conflict(0, "80", "80:8080");
	conflict(0, "22,22:23", NULL);
	conflict(0, "80", "192.0.2.1/80");

	/* A rejected spec leaves the table as it was */
	CHECK(parse(0, "80", "81,82,junk", NULL) == -1, "junk after 80");
	CHECK(count() == 1 && fwd_port_is_set(&t, 80), "rejected untouched");

	/* Exclusions are local to their specification */
	CHECK(!parse(1, "80", "~80", NULL), "80, ~80: %s", errbuf);
	CHECK(count() == 49151, "80, ~80 count %u", count());

	/* Same address reused, different ones get their own slot */
	CHECK(!parse(0, "192.0.2.1/22", "192.0.2.1/23", "2001:db8::1/24",
		     NULL), "%s", errbuf);
	CHECK(t.addr_count == 2 && t.addr_idx[22] == 1 &&
	      t.addr_idx[23] == 1 && t.addr_idx[24] == 2 &&
	      t.addr[1].af == AF_INET6, "address slots");
}

static void test_addresses(void)
{
	static const unsigned char a6[16] = {
		0x20, 0x01, 0x0d, 0xb8, [15] = 1
	};
	char spec[64];
	int i;

	CHECK(!parse(0, "2001:db8::1/22:23", NULL), "%s", errbuf);
	CHECK(t.addr_count == 1 && t.addr[0].af == AF_INET6 &&
	      !memcmp(&t.addr[0].a6, a6, 16) && fwd_target(&t, 22) == 23,
	      "IPv6 address with target");

	CHECK(!parse(1, "::/1-1024", NULL), "%s", errbuf);
	CHECK(count() == 1024 && t.addr_idx[1024] == 1, "::/1-1024");

	CHECK(!parse(0, "0.0.0.0/~22", NULL), "%s", errbuf);
	CHECK(count() == 49150 && t.addr_idx[1] == 1, "addr + exclusion only");

	bad(0, "192.0.2.1/");
	bad(0, "/22");
	bad(0, "192.0.2/22");
	bad(0, "192.0.2.256/22");
	bad(0, "localhost/22");
	bad(0, "2001:db8::g/22");
	bad(0, "192.0.2.1/192.0.2.2/22");
	bad(0, "22/80");
	bad(0, "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb/22");

	/* Bounded number of distinct addresses */
	memset(&t, 0, sizeof(t));
	for (i = 0; i < FWD_ADDR_MAX; i++) {
		snprintf(spec, sizeof(spec), "192.0.2.%i/%i", i + 1, i + 1);
		CHECK(!fwd_parse(&t, spec, 0, errbuf, sizeof(errbuf)),
		      "%s: %s", spec, errbuf);
	}
	CHECK(fwd_parse(&t, "192.0.2.100/100", 0, errbuf, sizeof(errbuf)),
	      "address table overflow accepted");
	CHECK(!fwd_parse(&t, "192.0.2.1/100", 0, errbuf, sizeof(errbuf)),
	      "known address rejected when table full: %s", errbuf);
}

static void test_bad(void)
{
	static const char *const cases[] = {
		"", "0", "65536", "70000", "99999999999999999999999",
		"18446744073709551617", "4294967318", "80-22", "0-10",
		"1-65536", "junk", "22junk", "22 ", " 22", "+22", "-22",
		"22-", "-", ",", "22,", ",22", "1,,2", "~", "~,22", "~~22",
		"22:", ":22", "22:0", "22:65536", "22::23", "22:23:24",
		"22-23:30", "22:30-31", "22-25:30-32", "22-25:32-30",
		"~22:23", "22-80-32:90", "22;23", "0x16", "22.0", "２２",
		"22\n", "22,\t23", "1-2-3", "22-~25",
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bad(0, cases[i]);
		bad(1, cases[i]);
	}

	CHECK(fwd_parse(&t, NULL, 0, NULL, 0) == -1, "NULL spec");
	CHECK(fwd_parse(&t, "junk", 0, NULL, 0) == -1, "NULL err buffer");
	CHECK(fwd_parse(&t, "junk", 0, errbuf, 1) == -1 && !*errbuf,
	      "tiny err buffer");
}

static void test_edges(void)
{
	CHECK(!parse(1, "1-65535", NULL), "%s", errbuf);
	CHECK(count() == 65535, "1-65535");

	CHECK(!parse(1, "65535:1", NULL), "%s", errbuf);
	CHECK(fwd_target(&t, 65535) == 1, "65535:1 wraps");

	CHECK(!parse(1, "1:65535", NULL), "%s", errbuf);
	CHECK(fwd_target(&t, 1) == 65535, "1:65535");

	CHECK(!parse(0, "00022", NULL), "leading zeroes: %s", errbuf);
	CHECK(fwd_port_is_set(&t, 22), "00022");

	CHECK(!parse(0, "50000-50010", NULL), "%s", errbuf);
	CHECK(count() == 11, "passt: explicit ephemeral ports allowed");

	CHECK(!parse(0, "22-22:23-23", NULL), "%s", errbuf);
	CHECK(fwd_target(&t, 22) == 23, "22-22:23-23");

	CHECK(!parse(1, "~1-65535", NULL) && count() == 0,
	      "everything excluded");

	/* Accessors */
	memset(&t, 0, sizeof(t));
	fwd_port_set(&t, 7);
	fwd_port_set(&t, 65536);
	fwd_port_set(&t, 0xffffffffU);
	CHECK(fwd_port_is_set(&t, 7) && count() == 1, "fwd_port_set");
	CHECK(!fwd_port_is_set(&t, 65536 + 7), "out of range is_set");
	t.delta[7] = 10;
	fwd_port_clear(&t, 7);
	CHECK(!fwd_port_is_set(&t, 7), "fwd_port_clear");
	fwd_port_clear(&t, 70000);
	CHECK(fwd_target(&t, 70000) == 70000, "out of range target");
}

/* fwd_scan() on /proc/net/tcp- and udp6-like content in a memfd */
static void test_scan(void)
{
	static const char tcp[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 100 0 0 10 0\n"
	"   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n"
	"   2: 0200A8C0:D431 0100A8C0:0050 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0 100 0 0 10 0\n"
	"   3: 00000000:0000 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4\n"
	"garbage line with : and : but nothing else\n"
	"   4: 00000000:1F91 00000000:0000 0A";	/* no newline: ignored */
	static const char udp6[] =
	"  sl  local_address                         remote_address                        st\n"
	"  10: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000\n"
	"  11: 00000000000000000000000001000000:1389 00000000000000000000000000000000:0000 01 00000000:00000000\n";
	uint8_t map[NUM_PORTS / 8] = { 0 }, ex[NUM_PORTS / 8] = { 0 };
	int fd = memfd_create("scan", 0), n;

	CHECK(fd >= 0, "memfd_create");
	if (fd < 0)
		return;
	CHECK(write(fd, tcp, sizeof(tcp) - 1) == (ssize_t)sizeof(tcp) - 1,
	      "write");
	fwd_bit_set(ex, 22);
	n = fwd_scan(fd, 0, map, ex);
	CHECK(n == 1 && fwd_bit_isset(map, 8080) && !fwd_bit_isset(map, 22) &&
	      !fwd_bit_isset(map, 0xd431) && !fwd_bit_isset(map, 0) &&
	      !fwd_bit_isset(map, 8081), "tcp scan: %i", n);
	n = fwd_scan(fd, 0, map, NULL);
	CHECK(n == 1 && fwd_bit_isset(map, 22), "tcp rescan: %i", n);
	close(fd);

	fd = memfd_create("scan6", 0);
	CHECK(write(fd, udp6, sizeof(udp6) - 1) == (ssize_t)sizeof(udp6) - 1,
	      "write");
	memset(map, 0, sizeof(map));
	n = fwd_scan(fd, 1, map, NULL);
	CHECK(n == 1 && fwd_bit_isset(map, 53) && !fwd_bit_isset(map, 5001),
	      "udp6 scan: %i", n);
	close(fd);
	CHECK(fwd_scan(-1, 0, map, NULL) == 0, "no descriptor");
}

/* Target addresses, "all" with a target, "auto" forms, exclusion-only */
static void test_2026_forms(void)
{
	const struct fwd_to *to;
	int pasta;

	for (pasta = 0; pasta <= 1; pasta++) {
		/* -t 0.0.0.0/5000:192.0.2.5/6000 */
		CHECK(!parse(pasta, "0.0.0.0/5000:192.0.2.5/6000", NULL),
		      "%s", errbuf);
		to = fwd_target_addr(&t, 5000);
		CHECK(count() == 1 && fwd_target(&t, 5000) == 6000 && to &&
		      to->af == AF_INET && to->a4.s_addr == htonl(0xc0000205),
		      "0.0.0.0/5000:192.0.2.5/6000");
		CHECK(t.addr_idx[5000] == 1 && t.addr[0].af == AF_INET,
		      "bind address kept");

		/* No bind address: the target's version listens only */
		CHECK(!parse(pasta, "22-23:192.0.2.7", NULL), "%s", errbuf);
		to = fwd_target_addr(&t, 23);
		CHECK(count() == 2 && fwd_target(&t, 23) == 23 && to &&
		      to->a4.s_addr == htonl(0xc0000207), "22-23:192.0.2.7");
		CHECK(fwd_port_af(&t, 22, AF_INET) &&
		      !fwd_port_af(&t, 22, AF_INET6), "target's version only");

		CHECK(!parse(pasta, "8080:127.0.0.2/80", NULL), "%s", errbuf);
		to = fwd_target_addr(&t, 8080);
		CHECK(to && fwd_to_is_loopback(to) && fwd_target(&t, 8080) == 80,
		      "8080:127.0.0.2/80");

		CHECK(!parse(pasta, "22:[2001:db8::5]/2222", NULL), "%s",
		      errbuf);
		to = fwd_target_addr(&t, 22);
		CHECK(to && to->af == AF_INET6 && to->a6.s6_addr[15] == 5 &&
		      fwd_target(&t, 22) == 2222, "22:[2001:db8::5]/2222");
		CHECK(!parse(pasta, "22:::1/23", NULL), "%s", errbuf);
		to = fwd_target_addr(&t, 22);
		CHECK(to && fwd_to_is_loopback(to) && fwd_target(&t, 22) == 23,
		      "22:::1/23");
		CHECK(!parse(pasta, "::/22:2001:db8::9", NULL), "%s", errbuf);
		to = fwd_target_addr(&t, 22);
		CHECK(to && to->af == AF_INET6 && t.addr[0].af == AF_INET6,
		      "::/22:2001:db8::9");

		/* Items with different targets, one table entry per address */
		CHECK(!parse(pasta, "22:192.0.2.1,23:192.0.2.2,24:192.0.2.1",
			     "25", NULL), "%s", errbuf);
		CHECK(t.to_count == 2 && t.to_idx[22] == t.to_idx[24] &&
		      t.to_idx[23] != t.to_idx[22] && !t.to_idx[25],
		      "target table");

		/* -t all:toaddr, -t 127.0.0.6/all:192.0.2.6, -t ::1/all */
		CHECK(!parse(pasta, "0.0.0.0/all:192.0.2.6", NULL), "%s",
		      errbuf);
		to = fwd_target_addr(&t, 1000);
		CHECK(count() == 49151 && to && to->a4.s_addr ==
		      htonl(0xc0000206) && fwd_port_quiet(&t, 1000),
		      "all:192.0.2.6");
		CHECK(!parse(pasta, "127.0.0.6/all:192.0.2.6", NULL), "%s",
		      errbuf);
		CHECK(!parse(pasta, "::1/all", NULL), "%s", errbuf);
		CHECK(count() == 49151 && t.addr[0].af == AF_INET6 &&
		      t.addr_idx[443] == 1, "::1/all");

		/* "all" with explicit ports and exclusions in the same list */
		CHECK(!parse(pasta, "50000:8080,all,~22", NULL), "%s", errbuf);
		CHECK(count() == 49151 && !fwd_port_is_set(&t, 22) &&
		      fwd_target(&t, 50000) == 8080 &&
		      !fwd_port_quiet(&t, 50000) && fwd_port_quiet(&t, 8080),
		      "50000:8080,all,~22");

		bad(pasta, "22:192.0.2.1/");
		bad(pasta, "22:0.0.0.0");
		bad(pasta, "22:::");
		bad(pasta, "22:192.0.2/23");
		bad(pasta, "22:host.example/23");
		bad(pasta, "192.0.2.1/22:2001:db8::1");
		bad(pasta, "::1/22:192.0.2.1/23");
		bad(pasta, "~22:192.0.2.1");
		bad(pasta, "all:");
		bad(pasta, "all:junk");
		bad(pasta, "all,all");
		bad(pasta, "all:192.0.2.1:22");
		bad(pasta, "alll");
		bad(pasta, "22,auto,all");
	}

	/* Bounded target table */
	{
		char spec[64];
		int i;

		memset(&t, 0, sizeof(t));
		for (i = 0; i < FWD_TO_MAX; i++) {
			snprintf(spec, sizeof(spec), "%i:192.0.2.%i", i + 1,
				 i + 1);
			CHECK(!fwd_parse(&t, spec, 0, errbuf, sizeof(errbuf)),
			      "%s: %s", spec, errbuf);
		}
		CHECK(fwd_parse(&t, "100:192.0.2.100", 0, errbuf,
				sizeof(errbuf)) == FWD_ERR_SYNTAX,
		      "target table overflow accepted");
		CHECK(!fwd_parse(&t, "100:192.0.2.1", 0, errbuf,
				 sizeof(errbuf)), "known target: %s", errbuf);

		/* Bounded rule table */
		memset(&t, 0, sizeof(t));
		for (i = 0; i < FWD_RULES_MAX; i++) {
			snprintf(spec, sizeof(spec), "%i", i + 1);
			CHECK(!fwd_parse(&t, spec, 0, errbuf, sizeof(errbuf)),
			      "%s: %s", spec, errbuf);
		}
		CHECK(fwd_parse(&t, "1000", 0, errbuf, sizeof(errbuf)) ==
		      FWD_ERR_SYNTAX && strstr(errbuf, "at most"),
		      "rule table overflow: %s", errbuf);
		CHECK(!fwd_port_is_set(&t, 1000), "overflow left a port");
	}

	/* pasta: "RANGE,auto", "ADDR/auto", "auto,~PORT" */
	CHECK(!parse(1, "8000-8010,auto", NULL), "%s", errbuf);
	{
		uint8_t want[NUM_PORTS / 8];

		memset(want, 0xff, sizeof(want));
		fwd_auto_filter(&t, want);
		CHECK(t.mode == FWD_AUTO && !count() && t.auto_restrict &&
		      fwd_bit_isset(want, 8000) && fwd_bit_isset(want, 8010) &&
		      !fwd_bit_isset(want, 7999) && !fwd_bit_isset(want, 8011),
		      "8000-8010,auto");

		CHECK(!parse(1, "auto,~22", NULL), "%s", errbuf);
		memset(want, 0xff, sizeof(want));
		fwd_auto_filter(&t, want);
		CHECK(!fwd_bit_isset(want, 22) && fwd_bit_isset(want, 23) &&
		      fwd_bit_isset(want, 60000), "auto,~22");

		CHECK(!parse(1, "auto", NULL), "%s", errbuf);
		memset(want, 0xff, sizeof(want));
		fwd_auto_filter(&t, want);
		CHECK(!t.auto_restrict && fwd_bit_isset(want, 22), "auto");
	}
	CHECK(!parse(1, "::1/auto", NULL), "%s", errbuf);
	CHECK(t.mode == FWD_AUTO && t.addr_count == 1 &&
	      t.addr[0].af == AF_INET6 && t.addr_idx[8080] == 1 &&
	      fwd_bind_addr(&t, 8080) == &t.addr[0], "::1/auto");
	fwd_port_set(&t, 8080);
	fwd_port_clear(&t, 8080);
	CHECK(fwd_bind_addr(&t, 8080) == &t.addr[0], "auto: address kept");
	CHECK(!parse(1, "127.0.0.1%lo/auto", NULL) && t.addr_count == 1,
	      "%s", errbuf);

	bad(0, "8000-8010,auto");
	bad(0, "::1/auto");
	bad(1, "8000:9000,auto");
	bad(1, "auto:192.0.2.1");
	bad(1, "127.0.0.1/auto:192.0.2.1");
	bad(1, "auto,all");
	CHECK(parse(1, "none", "auto", NULL) == FWD_ERR_SYNTAX, "none, auto");
}

/* Issue 13 item 5: overlapping rules, each named in one line */
static void test_conflicts(void)
{
	int pasta;

	for (pasta = 0; pasta <= 1; pasta++) {
		conflict(pasta, "8080", "8080");
		conflict(pasta, "8080,8080", NULL);
		conflict(pasta, "8000-8010", "8005");
		conflict(pasta, "8005", "8000-8010");
		conflict(pasta, "8000-8010", "8010-8020");
		conflict(pasta, "8000-8010,8005-8006", NULL);
		conflict(pasta, "8080:9090", "8080:9091");
		conflict(pasta, "127.0.0.1/8080", "8080");
		conflict(pasta, "127.0.0.1/8080", "127.0.0.1/8080");
		conflict(pasta, "192.0.2.1/22", "192.0.2.2/20-30");
		conflict(pasta, "all", "22");
		conflict(pasta, "22", "all");
		conflict(pasta, "all", "all");
		conflict(pasta, "~22", "80");
		conflict(pasta, "22:192.0.2.1", "22:192.0.2.2");

		/* Exclusions don't claim ports */
		CHECK(!parse(pasta, "8000-8010,~8005", "8005", NULL),
		      "exclusion then the port: %s", errbuf);
		CHECK(!parse(pasta, "~22", "22", NULL), "~22, 22: %s", errbuf);
		/* ...but an exclusion-only list means all other ports */
		conflict(pasta, "8000-8010", "~8005");
		CHECK(!parse(pasta, "8000-8010", "8011-8020", NULL), "%s",
		      errbuf);
		/* Ephemeral ports aren't part of "all" */
		CHECK(!parse(pasta, "all", "50000", NULL), "%s", errbuf);
	}

	conflict(1, "auto", "auto");
	conflict(1, "8000-8010,auto", "8005");
	conflict(1, "8000-8010,auto", "9000-9010,auto");
	conflict(1, "::1/auto", "127.0.0.1/auto");

	/* The rule text is an excerpt: long specs still give one line */
	CHECK(!parse(0, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,"
		     "21,22,23", NULL), "%s", errbuf);
	CHECK(fwd_parse(&t, "23", 0, errbuf, sizeof(errbuf)) ==
	      FWD_ERR_CONFLICT && strstr(errbuf, "...") &&
	      strlen(errbuf) < 160, "long rule: %s", errbuf);
}

int main(void)
{
	test_scan();
	test_examples();
	test_keywords();
	test_accumulate();
	test_addresses();
	test_bad();
	test_edges();
	test_2026_forms();
	test_conflicts();

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
