// SPDX-License-Identifier: AGPL-3.0-or-later

/* fwd.c - Port forwarding tables, parsed from -t -u -T -U specifications
 *
 * Theory of operation: each of -t/-u (and pasta's -T/-U) fills one
 * struct fwd_ports: a 65536-bit map of ports to listen on, a per-port delta
 * giving the target port (modulo 2^16, so that a translation never needs a
 * second table), and a per-port index into a short list of bind addresses.
 *
 * A specification is one of the keywords "none", "all" (passt only: every
 * non-ephemeral port, RFC 6335 6) and "auto" (pasta only: the loop follows
 * ports bound on the other side), or the grammar:
 *
 *	spec	:= [ addr "/" ] item { "," item }
 *	item	:= range [ ":" range ] | "~" range
 *	range	:= port [ "-" port ]
 *
 * with ports 1..65535, FIRST <= LAST, and a target range, if any, as long as
 * the range it translates. Exclusions ("~") apply to the ranges of the same
 * specification; a specification made only of exclusions forwards every
 * other port (for passt, every other non-ephemeral one).
 *
 * Repeated options accumulate. A specification is parsed into a scratch
 * table first and merged only when all of it is valid, so a rejected one
 * leaves the table untouched. A port can't be forwarded twice to different
 * targets or from different bind addresses: there's one delta and one
 * address index per port, and silently picking one would be a surprise.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "fwd.h"

#define PORT_MAX		(NUM_PORTS - 1)
#define FWD_ADDR_STRLEN		INET6_ADDRSTRLEN
#define FWD_SNIP_LEN		24	/* excerpt of bad input in messages */

/**
 * struct fwd_scratch - One specification being parsed, before merging
 * @map:	Ports given in non-excluded items
 * @excl:	Ports given in "~" items
 * @delta:	Target port delta for ports in @map
 */
static struct fwd_scratch {
	uint8_t map[NUM_PORTS / 8];
	uint8_t excl[NUM_PORTS / 8];
	uint16_t delta[NUM_PORTS];
} fwd_scratch;

static void fwd_bit_set(uint8_t *map, unsigned int bit)
{
	map[bit / 8] |= (uint8_t)(1U << (bit % 8));
}

static int fwd_bit_isset(const uint8_t *map, unsigned int bit)
{
	return !!(map[bit / 8] & (1U << (bit % 8)));
}

/**
 * fwd_err() - Format a one-line explanation into @err, if given
 * @err:	Buffer, may be NULL
 * @errlen:	Its size
 * @fmt:	printf(3) format
 */
__attribute__((format(printf, 3, 4)))
static void fwd_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/**
 * fwd_snip() - Copy a printable excerpt of untrusted input for a message
 * @buf:	Destination, FWD_SNIP_LEN bytes
 * @s:		Input
 * @len:	Bytes of @s to consider, stops at NUL anyway
 *
 * Return: @buf, with non-printable bytes replaced by '?'
 */
static const char *fwd_snip(char *buf, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < FWD_SNIP_LEN - 1 && s[i]; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';

	return buf;
}

/**
 * fwd_port_is_set() - Is @port forwarded in @fwd?
 * @fwd:	Forwarding table
 * @port:	Port number, out-of-range values are never set
 *
 * Return: 1 if set, 0 otherwise
 */
int fwd_port_is_set(const struct fwd_ports *fwd, unsigned int port)
{
	if (port > PORT_MAX)
		return 0;

	return fwd_bit_isset(fwd->map, port);
}

/**
 * fwd_port_set() - Mark @port as forwarded, without translation
 * @fwd:	Forwarding table
 * @port:	Port number, out-of-range values are ignored
 */
void fwd_port_set(struct fwd_ports *fwd, unsigned int port)
{
	if (port > PORT_MAX)
		return;

	fwd_bit_set(fwd->map, port);
}

/**
 * fwd_port_clear() - Mark @port as not forwarded, reset its translation
 * @fwd:	Forwarding table
 * @port:	Port number, out-of-range values are ignored
 */
void fwd_port_clear(struct fwd_ports *fwd, unsigned int port)
{
	if (port > PORT_MAX)
		return;

	fwd->map[port / 8] &= (uint8_t)~(1U << (port % 8));
	fwd->delta[port] = 0;
	fwd->addr_idx[port] = 0;
}

/**
 * fwd_target() - Port that @port is forwarded to
 * @fwd:	Forwarding table
 * @port:	Port number on the listening side
 *
 * Return: target port, (port + delta) modulo 2^16; @port itself if out of
 *	   range
 */
unsigned int fwd_target(const struct fwd_ports *fwd, unsigned int port)
{
	if (port > PORT_MAX)
		return port;

	return (port + fwd->delta[port]) & PORT_MAX;
}

/**
 * fwd_parse_port() - Parse a decimal port number at *@p, advance *@p
 * @p:		Cursor into the specification
 * @port:	Parsed port, 1..65535
 *
 * Digits are accumulated with a bound, so that no length of input can
 * overflow: anything above 65535 is rejected, whatever follows.
 *
 * Return: 0 on success, -1 if there are no digits, -2 if out of range
 */
static int fwd_parse_port(const char **p, unsigned int *port)
{
	unsigned long v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -1;

	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > PORT_MAX) {
			while (*s >= '0' && *s <= '9')
				s++;
			*p = s;
			return -2;
		}
	}

	*p = s;
	if (!v)
		return -2;

	*port = (unsigned int)v;
	return 0;
}

/**
 * fwd_parse_range() - Parse "PORT" or "FIRST-LAST" at *@p, advance *@p
 * @p:		Cursor into the specification
 * @first:	First port of the range
 * @last:	Last port of the range (same as @first for a single port)
 * @err:	Buffer for the explanation
 * @errlen:	Its size
 *
 * Return: 0 on success, -1 on error, with @err set
 */
static int fwd_parse_range(const char **p, unsigned int *first,
			   unsigned int *last, char *err, size_t errlen)
{
	char snip[FWD_SNIP_LEN];
	const char *start = *p;
	int ret;

	ret = fwd_parse_port(p, first);
	if (ret == -1)
		goto bad;
	if (ret == -2)
		goto range;

	*last = *first;
	if (**p != '-')
		return 0;

	(*p)++;
	ret = fwd_parse_port(p, last);
	if (ret == -1)
		goto bad;
	if (ret == -2)
		goto range;

	if (*first > *last) {
		fwd_err(err, errlen, "invalid range %u-%u: first port is "
			"greater than last", *first, *last);
		return -1;
	}

	return 0;

bad:
	if (!**p || **p == ',' || **p == ':' || **p == '-')
		fwd_err(err, errlen, "missing port number");
	else
		fwd_err(err, errlen, "expected a port number at '%s'",
			fwd_snip(snip, *p, SIZE_MAX));
	return -1;
range:
	fwd_err(err, errlen, "port out of range at '%s' "
		"(must be 1..65535)", fwd_snip(snip, start, (size_t)(*p - start)));
	return -1;
}

/**
 * fwd_parse_addr() - Parse the "addr/" prefix of a specification
 * @spec:	Whole specification
 * @a:		Parsed address
 * @rest:	Set to the start of the port list
 * @err:	Buffer for the explanation
 * @errlen:	Its size
 *
 * Return: 1 if there was an address, 0 if not, -1 on error
 */
static int fwd_parse_addr(const char *spec, struct fwd_addr *a,
			  const char **rest, char *err, size_t errlen)
{
	const char *slash = strchr(spec, '/');
	char buf[FWD_ADDR_STRLEN], snip[FWD_SNIP_LEN];
	size_t len;

	*rest = spec;
	if (!slash)
		return 0;

	len = (size_t)(slash - spec);
	if (!len || len >= sizeof(buf)) {
		fwd_err(err, errlen, "invalid address '%s'",
			fwd_snip(snip, spec, len));
		return -1;
	}

	memcpy(buf, spec, len);
	buf[len] = '\0';

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, &a->a4) == 1) {
		a->af = AF_INET;
	} else if (inet_pton(AF_INET6, buf, &a->a6) == 1) {
		a->af = AF_INET6;
	} else {
		fwd_err(err, errlen, "invalid address '%s'",
			fwd_snip(snip, buf, len));
		return -1;
	}

	*rest = slash + 1;
	return 1;
}

/**
 * fwd_addr_find() - Look up or plan a slot for a bind address in @fwd
 * @fwd:	Forwarding table
 * @a:		Address
 *
 * Return: 1 + index of the address (possibly a new one, at @addr_count),
 *	   or -1 if the table is full
 */
static int fwd_addr_find(const struct fwd_ports *fwd, const struct fwd_addr *a)
{
	int i;

	for (i = 0; i < fwd->addr_count && i < FWD_ADDR_MAX; i++) {
		const struct fwd_addr *b = &fwd->addr[i];

		if (a->af != b->af)
			continue;
		if (a->af == AF_INET && a->a4.s_addr == b->a4.s_addr)
			return i + 1;
		if (a->af == AF_INET6 &&
		    !memcmp(&a->a6, &b->a6, sizeof(a->a6)))
			return i + 1;
	}

	if (fwd->addr_count >= FWD_ADDR_MAX)
		return -1;

	return fwd->addr_count + 1;
}

/**
 * fwd_parse_keyword() - Handle "none", "all", "auto"
 * @fwd:	Forwarding table
 * @spec:	Specification
 * @pasta:	Non-zero in pasta mode
 * @err:	Buffer for the explanation
 * @errlen:	Its size
 *
 * Return: 1 if handled, 0 if @spec is not a keyword, -1 on error
 */
static int fwd_parse_keyword(struct fwd_ports *fwd, const char *spec,
			     int pasta, char *err, size_t errlen)
{
	enum fwd_mode mode;
	unsigned int port;

	if (!strcmp(spec, "none")) {
		mode = FWD_NONE;
	} else if (!strcmp(spec, "all")) {
		if (pasta) {
			fwd_err(err, errlen, "'all' is only valid in passt "
				"mode (pasta has 'auto')");
			return -1;
		}
		mode = FWD_ALL;
	} else if (!strcmp(spec, "auto")) {
		if (!pasta) {
			fwd_err(err, errlen, "'auto' is only valid in pasta "
				"mode (passt has 'all')");
			return -1;
		}
		mode = FWD_AUTO;
	} else {
		return 0;
	}

	if (fwd->mode == mode)
		return 1;

	if (fwd->mode != FWD_UNSET) {
		fwd_err(err, errlen, "'%s' can't be combined with other "
			"specifications for the same option", spec);
		return -1;
	}

	fwd->mode = mode;
	if (mode == FWD_ALL) {
		for (port = 1; port < PORT_EPHEMERAL_MIN; port++)
			fwd_bit_set(fwd->map, port);
	}

	return 1;
}

/**
 * fwd_parse() - Parse one -t/-u/-T/-U argument into @fwd
 * @fwd:	Forwarding table, accumulating repeated options
 * @spec:	Specification, see the theory of operation above
 * @pasta:	Non-zero in pasta mode ("auto", not "all")
 * @err:	Buffer for a one-line explanation on failure, may be NULL
 * @errlen:	Its size
 *
 * Return: 0 on success, -1 on error (with @fwd unchanged)
 */
int fwd_parse(struct fwd_ports *fwd, const char *spec, int pasta,
	      char *err, size_t errlen)
{
	struct fwd_scratch *s = &fwd_scratch;
	unsigned int port, first, last, tfirst, tlast;
	int have_addr, addr_idx = 0, included = 0;
	char snip[FWD_SNIP_LEN];
	struct fwd_addr addr;
	const char *p;
	int ret;

	if (!spec || !*spec) {
		fwd_err(err, errlen, "empty specification");
		return -1;
	}

	ret = fwd_parse_keyword(fwd, spec, pasta, err, errlen);
	if (ret)
		return ret < 0 ? -1 : 0;

	if (fwd->mode != FWD_UNSET && fwd->mode != FWD_SPEC) {
		fwd_err(err, errlen, "port list can't be combined with 'none', "
			"'all' or 'auto'");
		return -1;
	}

	have_addr = fwd_parse_addr(spec, &addr, &p, err, errlen);
	if (have_addr < 0)
		return -1;

	if (have_addr) {
		addr_idx = fwd_addr_find(fwd, &addr);
		if (addr_idx < 0) {
			fwd_err(err, errlen, "too many bind addresses (at "
				"most %i)", FWD_ADDR_MAX);
			return -1;
		}
	}

	memset(s, 0, sizeof(*s));

	for (;;) {
		int exclude = 0;

		if (*p == '~') {
			exclude = 1;
			p++;
		}

		if (fwd_parse_range(&p, &first, &last, err, errlen))
			return -1;

		tfirst = first;
		tlast = last;
		if (*p == ':') {
			if (exclude) {
				fwd_err(err, errlen, "excluded ports can't "
					"have a target ('~%u:...')", first);
				return -1;
			}
			p++;
			if (fwd_parse_range(&p, &tfirst, &tlast, err, errlen))
				return -1;

			if (tlast - tfirst != last - first) {
				fwd_err(err, errlen, "target range %u-%u has a "
					"different size than %u-%u",
					tfirst, tlast, first, last);
				return -1;
			}
		}

		if (*p && *p != ',') {
			fwd_err(err, errlen, "unexpected '%s'",
				fwd_snip(snip, p, SIZE_MAX));
			return -1;
		}

		for (port = first; port <= last; port++) {
			uint16_t delta;

			if (exclude) {
				fwd_bit_set(s->excl, port);
				continue;
			}

			delta = (uint16_t)((tfirst - first) & PORT_MAX);
			if (fwd_bit_isset(s->map, port) &&
			    s->delta[port] != delta) {
				fwd_err(err, errlen, "port %u given twice with "
					"different targets", port);
				return -1;
			}
			fwd_bit_set(s->map, port);
			s->delta[port] = delta;
		}
		included |= !exclude;

		if (!*p)
			break;

		p++;	/* ',' */
		if (!*p) {
			fwd_err(err, errlen, "trailing comma");
			return -1;
		}
	}

	/* Only exclusions: everything else, non-ephemeral ports for passt */
	if (!included) {
		last = pasta ? PORT_MAX : PORT_EPHEMERAL_MIN - 1;
		for (port = 1; port <= last; port++)
			fwd_bit_set(s->map, port);
	}

	/* Check against earlier options before touching @fwd */
	for (port = 1; port <= PORT_MAX; port++) {
		if (!fwd_bit_isset(s->map, port) ||
		    fwd_bit_isset(s->excl, port) ||
		    !fwd_bit_isset(fwd->map, port))
			continue;

		if (fwd->delta[port] != s->delta[port] ||
		    fwd->addr_idx[port] != addr_idx) {
			fwd_err(err, errlen, "port %u already forwarded with "
				"a different target or address", port);
			return -1;
		}
	}

	if (have_addr && addr_idx > fwd->addr_count)
		fwd->addr[fwd->addr_count++] = addr;

	for (port = 1; port <= PORT_MAX; port++) {
		if (!fwd_bit_isset(s->map, port) ||
		    fwd_bit_isset(s->excl, port))
			continue;

		fwd_bit_set(fwd->map, port);
		fwd->delta[port] = s->delta[port];
		fwd->addr_idx[port] = (uint8_t)addr_idx;
	}

	fwd->mode = FWD_SPEC;
	return 0;
}

/* Automatic forwarding (pasta "auto"): which ports are bound on one side,
 * read from /proc/net/{tcp,tcp6,udp,udp6} of that side's namespace.
 * Lines look like (proc(5)):
 *   "  12: 0100007F:1F90 00000000:0000 0A ..." (IPv4, port 0x1f90)
 *   "   0: 00000000000000000000000000000000:0016 ... 0A ..." (IPv6)
 * TCP sockets count in state 0A (LISTEN), UDP sockets in state 07 (CLOSE,
 * i.e. bound and not connected).
 */
#define FWD_SCAN_STATE_TCP_LISTEN	0x0a
#define FWD_SCAN_STATE_UDP_UNCONN	0x07
#define FWD_SCAN_LINE_MAX		512	/* proc lines are ~150 bytes */

/**
 * fwd_scan_line() - Parse one line of /proc/net/{tcp,udp}[6]
 * @line:	NUL-terminated line
 * @state:	Socket state that counts
 * @port:	Local port, set on success
 *
 * Return: 1 if the line is a socket in @state, 0 otherwise
 */
static int fwd_scan_line(const char *line, unsigned int state,
			 unsigned int *port)
{
	unsigned int p, st;
	const char *colon;

	/* "sl:" then the local address, then ":PORT" */
	colon = strchr(line, ':');
	if (!colon)
		return 0;
	colon = strchr(colon + 1, ':');
	if (!colon)
		return 0;

	/* PORT, remote address, STATE */
	if (sscanf(colon + 1, "%4x %*s %2x", &p, &st) != 2)
		return 0;

	if (st != state || !p || p >= NUM_PORTS)
		return 0;

	*port = p;
	return 1;
}

/**
 * fwd_scan() - Add the bound ports listed in a /proc/net file to a map
 * @fd:		Open /proc/net/{tcp,udp}[6] descriptor, or -1 (nothing to do)
 * @udp:	1 for UDP (state "unconnected"), 0 for TCP (state LISTEN)
 * @map:	Bitmap to add ports to
 * @exclude:	Ports not to add (those we bound ourselves), or NULL
 *
 * Return: number of ports added, or -1 on read error
 */
/* #syscalls:pasta lseek read */
int fwd_scan(int fd, int udp, uint8_t *map, const uint8_t *exclude)
{
	unsigned int state = udp ? FWD_SCAN_STATE_UDP_UNCONN :
				   FWD_SCAN_STATE_TCP_LISTEN;
	char buf[8192], line[FWD_SCAN_LINE_MAX];
	size_t linelen = 0;
	int added = 0, first = 1;
	ssize_t n;

	if (fd < 0)
		return 0;

	if (lseek(fd, 0, SEEK_SET))
		return -1;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		ssize_t i;

		for (i = 0; i < n; i++) {
			unsigned int port;

			if (buf[i] != '\n') {
				if (linelen < sizeof(line) - 1)
					line[linelen++] = buf[i];
				continue;
			}

			line[linelen] = '\0';
			linelen = 0;
			if (first) {	/* header line */
				first = 0;
				continue;
			}
			if (!fwd_scan_line(line, state, &port))
				continue;
			if (exclude && fwd_bit_isset(exclude, port))
				continue;
			if (!fwd_bit_isset(map, port))
				added++;
			fwd_bit_set(map, port);
		}
	}

	return n < 0 ? -1 : added;
}
