// SPDX-License-Identifier: AGPL-3.0-or-later

/* fwd.c - Port forwarding tables, parsed from -t -u -T -U specifications
 *
 * Theory of operation: each of -t/-u (and pasta's -T/-U) fills one
 * struct fwd_ports: a 65536-bit map of ports to listen on, a per-port delta
 * giving the target port (modulo 2^16, so that a translation never needs a
 * second table), and a per-port index into a short list of bind addresses.
 *
 * A specification is "none", or the grammar:
 *
 *	spec	:= [ [ addr ] [ "%" ifname ] "/" ] item { "," item }
 *	item	:= range [ ":" target ] | "~" range | "all" [ ":" toaddr ]
 *		 | "auto"
 *	target	:= range | toaddr | toaddr "/" range
 *	range	:= port [ "-" port ]
 *
 * with ports 1..65535, FIRST <= LAST, and a target range, if any, as long as
 * the range it translates. A target address (IPv6 optionally in brackets)
 * replaces the guest's address as destination of forwarded traffic; a
 * connection keeps its IP version, so the bind address, if given, must be
 * of the same version, and without one only that version listens.
 *
 * Exclusions ("~") apply to the ranges of the same specification. "all",
 * or a list made only of exclusions, adds every other non-ephemeral port
 * (RFC 6335 6) as best effort: ports we can't bind are skipped silently
 * (fwd_port_quiet()), unless none could be bound at all. "auto" (pasta
 * only) makes the loop follow the ports bound on the other side, all of
 * them or, with ranges in the same list, only those (auto_allow).
 *
 * Each accepted specification is a rule, kept as text (FWD_RULES_MAX per
 * table) so that messages can name it. Repeated options accumulate. A
 * specification is parsed into a scratch table first and merged only when
 * all of it is valid, so a rejected one leaves the table untouched. A port
 * given by two rules, or twice in one, is a conflict (FWD_ERR_CONFLICT),
 * even with the same target: one of them would silently lose. There's one
 * delta, one bind and one target address index per port, so even rules
 * for different bind addresses can't share a port. "auto" is a rule that
 * covers the whole table.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "fwd.h"

#define PORT_MAX		(NUM_PORTS - 1)
#define FWD_ADDR_STRLEN		(INET6_ADDRSTRLEN + IFNAMSIZ)	/* addr%ifname */
#define FWD_SNIP_LEN		24	/* excerpt of bad input in messages */
#define FWD_ITEM_LEN		(INET6_ADDRSTRLEN * 2 + 32)	/* one item,
							 * "first-last:[toaddr]/tofirst-tolast" */


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
 * fwd_port_clear() - Mark @port as not forwarded ("auto": port went away)
 * @fwd:	Forwarding table
 * @port:	Port number, out-of-range values are ignored
 *
 * The port's bind address stays: "ADDR/auto" applies to it if it comes back.
 */
void fwd_port_clear(struct fwd_ports *fwd, unsigned int port)
{
	if (port > PORT_MAX)
		return;

	fwd->map[port / 8] &= (uint8_t)~(1U << (port % 8));
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
 * fwd_pton() - Parse an IPv4 or IPv6 address, IPv6 optionally in brackets
 * @s:		Address, NUL-terminated
 * @af:		Set to AF_INET or AF_INET6
 * @a4:		Set if IPv4
 * @a6:		Set if IPv6
 *
 * Return: 0 on success, -1 if @s isn't an address
 */
static int fwd_pton(const char *s, int *af, struct in_addr *a4,
		    struct in6_addr *a6)
{
	char buf[INET6_ADDRSTRLEN];
	size_t len = strlen(s);

	if (len > 2 && s[0] == '[' && s[len - 1] == ']') {
		if (len - 2 >= sizeof(buf))
			return -1;
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, a6) != 1)
			return -1;
		*af = AF_INET6;
		return 0;
	}

	if (inet_pton(AF_INET, s, a4) == 1) {
		*af = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a6) == 1) {
		*af = AF_INET6;
		return 0;
	}

	return -1;
}

/**
 * fwd_parse_addr() - Parse the "addr[%ifname]/" prefix of a specification
 * @spec:	Whole specification
 * @a:		Parsed address
 * @rest:	Set to the start of the port list
 * @err:	Buffer for the explanation
 * @errlen:	Its size
 *
 * The first '/' can also belong to a target ("5000:192.0.2.5/6000"): a
 * prefix with a ',' in it, or one that isn't an address but has a ':' (a
 * port followed by a target), is no bind address.
 *
 * Return: 1 if there was an address, 0 if not, -1 on error
 */
static int fwd_parse_addr(const char *spec, struct fwd_addr *a,
			  const char **rest, char *err, size_t errlen)
{
	const char *slash = strchr(spec, '/'), *comma = strchr(spec, ',');
	char buf[FWD_ADDR_STRLEN], snip[FWD_SNIP_LEN], *pct;
	size_t len;

	*rest = spec;
	if (!slash || (comma && comma < slash))
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

	/* "addr%ifname/" or "%ifname/": bound to an interface too */
	pct = strchr(buf, '%');
	if (pct) {
		size_t iflen = strlen(pct + 1);

		if (!iflen || iflen >= IFNAMSIZ) {
			fwd_err(err, errlen, "invalid interface name '%s'",
				fwd_snip(snip, pct + 1, iflen));
			return -1;
		}
		memcpy(a->ifname, pct + 1, iflen + 1);
		*pct = '\0';
		if (pct == buf) {
			*rest = slash + 1;
			return 1;	/* any address, on that interface */
		}
	}

	if (fwd_pton(buf, &a->af, &a->a4, &a->a6)) {
		if (!pct && strchr(buf, ':') && buf[0] != '[' &&
		    buf[0] >= '0' && buf[0] <= '9') {
			memset(a, 0, sizeof(*a));
			return 0;	/* "port:toaddr/toport" */
		}
		fwd_err(err, errlen, "invalid address '%s'",
			fwd_snip(snip, buf, strlen(buf)));
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

		if (a->af != b->af || strcmp(a->ifname, b->ifname))
			continue;
		if (!a->af)
			return i + 1;
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
 * struct fwd_scratch - One specification being parsed, before merging
 * @map:	Ports given in non-excluded items
 * @excl:	Ports given in "~" items
 * @quiet:	Ports from "all" or an exclusion-only list (best effort)
 * @delta:	Target port delta for ports in @map
 * @to_idx:	Target address index for ports in @map
 * @to:		Target address table: a copy of the one in the table, plus
 *		addresses this specification adds
 * @to_count:	Entries used in @to
 */
static struct fwd_scratch {
	uint8_t map[NUM_PORTS / 8];
	uint8_t excl[NUM_PORTS / 8];
	uint8_t quiet[NUM_PORTS / 8];
	uint16_t delta[NUM_PORTS];
	uint8_t to_idx[NUM_PORTS];
	struct fwd_to to[FWD_TO_MAX];
	int to_count;
} fwd_scratch;

/**
 * fwd_parse_to() - Parse a target address, find or add it in the scratch
 * @s:		Scratch state
 * @str:	Address, NUL-terminated
 * @bind:	Bind address of the specification, or NULL
 * @err:	Buffer for the explanation
 * @errlen:	Its size
 *
 * Return: 1 + index into the target table, -1 on error
 */
static int fwd_parse_to(struct fwd_scratch *s, const char *str,
			const struct fwd_addr *bind, char *err, size_t errlen)
{
	char snip[FWD_SNIP_LEN];
	struct fwd_to to;
	int i;

	memset(&to, 0, sizeof(to));
	if (fwd_pton(str, &to.af, &to.a4, &to.a6)) {
		fwd_err(err, errlen, "invalid target address '%s'",
			fwd_snip(snip, str, SIZE_MAX));
		return -1;
	}

	if ((to.af == AF_INET && !to.a4.s_addr) ||
	    (to.af == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&to.a6))) {
		fwd_err(err, errlen, "target address '%s' is unspecified",
			fwd_snip(snip, str, SIZE_MAX));
		return -1;
	}

	/* A connection keeps its IP version from listener to target */
	if (bind && bind->af && bind->af != to.af) {
		fwd_err(err, errlen, "can't forward from an IPv%i bind address "
			"to IPv%i target '%s'", bind->af == AF_INET ? 4 : 6,
			to.af == AF_INET ? 4 : 6,
			fwd_snip(snip, str, SIZE_MAX));
		return -1;
	}

	for (i = 0; i < s->to_count && i < FWD_TO_MAX; i++) {
		if (s->to[i].af == to.af &&
		    !memcmp(&s->to[i].a6, &to.a6, sizeof(to.a6)) &&
		    s->to[i].a4.s_addr == to.a4.s_addr)
			return i + 1;
	}

	if (s->to_count >= FWD_TO_MAX) {
		fwd_err(err, errlen, "too many target addresses (at most %i)",
			FWD_TO_MAX);
		return -1;
	}

	s->to[s->to_count++] = to;
	return s->to_count;
}

/**
 * fwd_rule_text() - Excerpt of a specification for the rule table
 * @buf:	Destination, FWD_RULE_TEXT bytes
 * @spec:	Specification
 */
static void fwd_rule_text(char *buf, const char *spec)
{
	size_t i;

	for (i = 0; i < FWD_RULE_TEXT - 1 && spec[i]; i++)
		buf[i] = (spec[i] >= 0x20 && spec[i] < 0x7f) ? spec[i] : '?';
	buf[i] = '\0';

	if (spec[i])	/* truncated */
		memcpy(buf + FWD_RULE_TEXT - 4, "...", 4);
}

/**
 * fwd_rule_of() - Text of the rule forwarding @port in @fwd
 * @fwd:	Forwarding table
 * @port:	Port, forwarded
 *
 * Return: rule text, "?" if unknown
 */
static const char *fwd_rule_of(const struct fwd_ports *fwd, unsigned int port)
{
	int i = fwd->rule_idx[port];

	if (!i || i > fwd->rule_count || i > FWD_RULES_MAX)
		return "?";

	return fwd->rules[i - 1];
}

/**
 * fwd_parse_item() - Parse one item of the port list into the scratch table
 * @s:		Scratch state
 * @item:	Item, NUL-terminated
 * @bind:	Bind address of the specification, or NULL
 * @spec:	Whole specification, for messages
 * @flags:	FWD_ITEM_* flags, updated
 * @all_to:	Set to the target index of "all:toaddr"
 * @err:	Buffer for the explanation
 * @errlen:	Its size
 *
 * Return: 0 on success, FWD_ERR_SYNTAX or FWD_ERR_CONFLICT
 */
#define FWD_ITEM_INCLUDE	(1U << 0)	/* a port range */
#define FWD_ITEM_EXCLUDE	(1U << 1)	/* "~" range */
#define FWD_ITEM_ALL		(1U << 2)	/* "all" */
#define FWD_ITEM_AUTO		(1U << 3)	/* "auto" */
#define FWD_ITEM_MAPPED		(1U << 4)	/* a range with a target */
static int fwd_parse_item(struct fwd_scratch *s, const char *item,
			  const struct fwd_addr *bind, const char *spec,
			  unsigned int *flags, int *all_to,
			  char *err, size_t errlen)
{
	unsigned int port, first, last, tfirst, tlast;
	char snip[FWD_SNIP_LEN], rspec[FWD_RULE_TEXT];
	const char *p = item, *colon, *slash;
	int exclude = 0, to_idx = 0;

	if (!strcmp(item, "auto")) {
		*flags |= FWD_ITEM_AUTO;
		return 0;
	}

	if (!strncmp(item, "all", 3) && (!item[3] || item[3] == ':')) {
		if (*flags & FWD_ITEM_ALL) {
			fwd_err(err, errlen, "'all' given twice");
			return FWD_ERR_SYNTAX;
		}
		*flags |= FWD_ITEM_ALL;
		if (item[3] == ':') {
			*all_to = fwd_parse_to(s, item + 4, bind, err, errlen);
			if (*all_to < 0)
				return FWD_ERR_SYNTAX;
		}
		return 0;
	}

	if (*p == '~') {
		exclude = 1;
		p++;
	}

	if (fwd_parse_range(&p, &first, &last, err, errlen))
		return FWD_ERR_SYNTAX;

	tfirst = first;
	tlast = last;
	if (*p == ':') {
		if (exclude) {
			fwd_err(err, errlen, "excluded ports can't have a "
				"target ('~%u:...')", first);
			return FWD_ERR_SYNTAX;
		}
		p++;
		colon = p;
		slash = strrchr(colon, '/');

		if (slash) {			/* toaddr/tofirst[-tolast] */
			char buf[INET6_ADDRSTRLEN + 2];
			size_t len = (size_t)(slash - colon);

			if (!len || len >= sizeof(buf)) {
				fwd_err(err, errlen, "invalid target address "
					"'%s'", fwd_snip(snip, colon, len));
				return FWD_ERR_SYNTAX;
			}
			memcpy(buf, colon, len);
			buf[len] = '\0';
			to_idx = fwd_parse_to(s, buf, bind, err, errlen);
			if (to_idx < 0)
				return FWD_ERR_SYNTAX;
			p = slash + 1;
		} else if (strpbrk(colon, ".:[")) {	/* toaddr */
			to_idx = fwd_parse_to(s, colon, bind, err, errlen);
			if (to_idx < 0)
				return FWD_ERR_SYNTAX;
			p = colon + strlen(colon);
		}

		if (slash || !to_idx) {
			if (fwd_parse_range(&p, &tfirst, &tlast, err, errlen))
				return FWD_ERR_SYNTAX;

			if (tlast - tfirst != last - first) {
				fwd_err(err, errlen, "target range %u-%u has a "
					"different size than %u-%u",
					tfirst, tlast, first, last);
				return FWD_ERR_SYNTAX;
			}
		}
		*flags |= FWD_ITEM_MAPPED;
	}

	if (*p) {
		fwd_err(err, errlen, "unexpected '%s'",
			fwd_snip(snip, p, SIZE_MAX));
		return FWD_ERR_SYNTAX;
	}

	*flags |= exclude ? FWD_ITEM_EXCLUDE : FWD_ITEM_INCLUDE;

	for (port = first; port <= last; port++) {
		if (exclude) {
			fwd_bit_set(s->excl, port);
			continue;
		}

		if (fwd_bit_isset(s->map, port)) {
			fwd_rule_text(rspec, spec);
			fwd_err(err, errlen, "port %u given twice in '%s'",
				port, rspec);
			return FWD_ERR_CONFLICT;
		}
		fwd_bit_set(s->map, port);
		s->delta[port] = (uint16_t)((tfirst - first) & PORT_MAX);
		s->to_idx[port] = (uint8_t)to_idx;
	}

	return 0;
}

/**
 * fwd_parse_auto() - Merge a specification with "auto" into @fwd
 * @fwd:	Forwarding table
 * @spec:	Specification, for the rule table and messages
 * @flags:	FWD_ITEM_* flags of its items
 * @addr_idx:	Bind address index, 0 for any
 * @err:	Buffer for the explanation
 * @errlen:	Its size
 *
 * Return: 0 on success, FWD_ERR_SYNTAX or FWD_ERR_CONFLICT
 */
static int fwd_parse_auto(struct fwd_ports *fwd, const char *spec,
			  unsigned int flags, int addr_idx,
			  char *err, size_t errlen)
{
	struct fwd_scratch *s = &fwd_scratch;
	char rspec[FWD_RULE_TEXT];
	unsigned int port;

	if (flags & (FWD_ITEM_ALL | FWD_ITEM_MAPPED)) {
		fwd_err(err, errlen, "'auto' can't be combined with 'all' or "
			"with port translations");
		return FWD_ERR_SYNTAX;
	}

	if (fwd->mode != FWD_UNSET) {
		fwd_rule_text(rspec, spec);
		if (fwd->mode == FWD_NONE) {
			fwd_err(err, errlen, "'%s' can't be combined with "
				"'none'", rspec);
			return FWD_ERR_SYNTAX;
		}
		fwd_err(err, errlen, "'%s' and earlier '%s' overlap ('auto' "
			"takes a table of its own)", rspec,
			fwd->rule_count ? fwd->rules[0] : "?");
		return FWD_ERR_CONFLICT;
	}

	fwd->mode = FWD_AUTO;
	fwd->auto_restrict = !!(flags & (FWD_ITEM_INCLUDE | FWD_ITEM_EXCLUDE));
	for (port = 1; port <= PORT_MAX; port++) {
		int ok = !(flags & FWD_ITEM_INCLUDE) ||
			 fwd_bit_isset(s->map, port);

		if (fwd_bit_isset(s->excl, port))
			ok = 0;
		if (ok && fwd->auto_restrict)
			fwd_bit_set(fwd->auto_allow, port);
		fwd->addr_idx[port] = (uint8_t)addr_idx;
		fwd->rule_idx[port] = 1;
	}

	fwd_rule_text(fwd->rules[0], spec);
	fwd->rule_count = 1;
	return 0;
}

/**
 * fwd_parse() - Parse one -t/-u/-T/-U argument into @fwd
 * @fwd:	Forwarding table, accumulating repeated options
 * @spec:	Specification, see the theory of operation above
 * @pasta:	Non-zero in pasta mode ("auto" allowed)
 * @err:	Buffer for a one-line explanation on failure, may be NULL
 * @errlen:	Its size
 *
 * Return: 0 on success, FWD_ERR_SYNTAX for an invalid specification,
 *	   FWD_ERR_CONFLICT if it overlaps itself or an earlier one (@err
 *	   names both), with @fwd unchanged on failure
 */
int fwd_parse(struct fwd_ports *fwd, const char *spec, int pasta,
	      char *err, size_t errlen)
{
	struct fwd_scratch *s = &fwd_scratch;
	char snip[FWD_SNIP_LEN], rspec[FWD_RULE_TEXT];
	int have_addr, addr_idx = 0, all_to = 0, ret;
	char item[FWD_ITEM_LEN];
	unsigned int flags = 0;
	struct fwd_addr addr;
	unsigned int port;
	const char *p;

	if (!spec || !*spec) {
		fwd_err(err, errlen, "empty specification");
		return FWD_ERR_SYNTAX;
	}

	if (!strcmp(spec, "none")) {
		if (fwd->mode == FWD_NONE || fwd->mode == FWD_UNSET) {
			fwd->mode = FWD_NONE;
			return 0;
		}
		fwd_err(err, errlen, "'none' can't be combined with other "
			"specifications for the same option");
		return FWD_ERR_SYNTAX;
	}

	if (fwd->mode == FWD_NONE) {
		fwd_err(err, errlen, "port list can't be combined with "
			"'none'");
		return FWD_ERR_SYNTAX;
	}

	have_addr = fwd_parse_addr(spec, &addr, &p, err, errlen);
	if (have_addr < 0)
		return FWD_ERR_SYNTAX;

	if (have_addr) {
		addr_idx = fwd_addr_find(fwd, &addr);
		if (addr_idx < 0) {
			fwd_err(err, errlen, "too many bind addresses (at "
				"most %i)", FWD_ADDR_MAX);
			return FWD_ERR_SYNTAX;
		}
	}

	if (!*p) {
		fwd_err(err, errlen, "missing port list");
		return FWD_ERR_SYNTAX;
	}

	memset(s, 0, sizeof(*s));
	memcpy(s->to, fwd->to, sizeof(s->to));
	s->to_count = fwd->to_count;

	for (;;) {
		size_t len = strcspn(p, ",");

		if (!len) {
			fwd_err(err, errlen, p[len] ? "empty item" :
				"trailing comma");
			return FWD_ERR_SYNTAX;
		}
		if (len >= sizeof(item)) {
			fwd_err(err, errlen, "item too long at '%s'",
				fwd_snip(snip, p, len));
			return FWD_ERR_SYNTAX;
		}
		memcpy(item, p, len);
		item[len] = '\0';

		ret = fwd_parse_item(s, item, have_addr ? &addr : NULL, spec,
				     &flags, &all_to, err, errlen);
		if (ret)
			return ret;

		p += len;
		if (!*p)
			break;
		p++;	/* ',' */
	}

	if (flags & FWD_ITEM_AUTO) {
		if (!pasta) {
			fwd_err(err, errlen, "'auto' is only valid in pasta "
				"mode");
			return FWD_ERR_SYNTAX;
		}
		ret = fwd_parse_auto(fwd, spec, flags, addr_idx, err, errlen);
		if (!ret && have_addr && addr_idx > fwd->addr_count)
			fwd->addr[fwd->addr_count++] = addr;
		return ret;
	}

	if (fwd->mode == FWD_AUTO) {
		fwd_rule_text(rspec, spec);
		fwd_err(err, errlen, "'%s' and earlier '%s' overlap ('auto' "
			"takes a table of its own)", rspec,
			fwd->rule_count ? fwd->rules[0] : "auto");
		return FWD_ERR_CONFLICT;
	}

	if (fwd->rule_count >= FWD_RULES_MAX) {
		fwd_err(err, errlen, "too many forwarding rules (at most %i "
			"per option)", FWD_RULES_MAX);
		return FWD_ERR_SYNTAX;
	}

	/* "all", or only exclusions: every other non-ephemeral port, best
	 * effort (RFC 6335 6)
	 */
	if ((flags & FWD_ITEM_ALL) || !(flags & FWD_ITEM_INCLUDE)) {
		for (port = 1; port < PORT_EPHEMERAL_MIN; port++) {
			if (fwd_bit_isset(s->excl, port) ||
			    fwd_bit_isset(s->map, port))
				continue;
			fwd_bit_set(s->map, port);
			fwd_bit_set(s->quiet, port);
			s->to_idx[port] = (uint8_t)all_to;
		}
	}

	/* Check against earlier options before touching @fwd */
	for (port = 1; port <= PORT_MAX; port++) {
		if (!fwd_bit_isset(s->map, port) ||
		    fwd_bit_isset(s->excl, port) ||
		    !fwd_bit_isset(fwd->map, port))
			continue;

		fwd_rule_text(rspec, spec);
		fwd_err(err, errlen, "'%s' and earlier '%s' both forward port "
			"%u", rspec, fwd_rule_of(fwd, port), port);
		return FWD_ERR_CONFLICT;
	}

	if (have_addr && addr_idx > fwd->addr_count)
		fwd->addr[fwd->addr_count++] = addr;
	memcpy(fwd->to, s->to, sizeof(fwd->to));
	fwd->to_count = s->to_count;
	fwd_rule_text(fwd->rules[fwd->rule_count++], spec);

	for (port = 1; port <= PORT_MAX; port++) {
		if (!fwd_bit_isset(s->map, port) ||
		    fwd_bit_isset(s->excl, port))
			continue;

		fwd_bit_set(fwd->map, port);
		if (fwd_bit_isset(s->quiet, port))
			fwd_bit_set(fwd->quiet, port);
		fwd->delta[port] = s->delta[port];
		fwd->addr_idx[port] = (uint8_t)addr_idx;
		fwd->to_idx[port] = s->to_idx[port];
		fwd->rule_idx[port] = (uint8_t)fwd->rule_count;
	}

	fwd->mode = FWD_SPEC;
	return 0;
}

/**
 * fwd_target_addr() - Target address given for @port, if any
 * @fwd:	Forwarding table
 * @port:	Port number on the listening side
 *
 * Return: target address, NULL if the guest's own address is the target
 */
const struct fwd_to *fwd_target_addr(const struct fwd_ports *fwd,
				     unsigned int port)
{
	int i;

	if (port > PORT_MAX)
		return NULL;

	i = fwd->to_idx[port];
	if (!i || i > fwd->to_count || i > FWD_TO_MAX)
		return NULL;

	return &fwd->to[i - 1];
}

/**
 * fwd_to_is_loopback() - Is a target address a loopback one?
 * @to:		Target address
 *
 * Return: 1 for 127.0.0.0/8 and ::1, 0 otherwise
 */
int fwd_to_is_loopback(const struct fwd_to *to)
{
	if (to->af == AF_INET)
		return (ntohl(to->a4.s_addr) >> 24) == 127;

	return IN6_IS_ADDR_LOOPBACK(&to->a6);
}

/**
 * fwd_port_quiet() - Is @port best effort ("all", exclusions only)?
 * @fwd:	Forwarding table
 * @port:	Port number
 *
 * Return: 1 if binding failures for @port aren't to be reported
 */
int fwd_port_quiet(const struct fwd_ports *fwd, unsigned int port)
{
	if (port > PORT_MAX)
		return 0;

	return fwd_bit_isset(fwd->quiet, port);
}

/**
 * fwd_auto_filter() - Keep only the ports an "auto" rule may forward
 * @fwd:	Forwarding table, FWD_AUTO
 * @want:	Bitmap of bound ports found on the other side, filtered
 */
void fwd_auto_filter(const struct fwd_ports *fwd, uint8_t *want)
{
	unsigned int i;

	if (!fwd->auto_restrict)
		return;

	for (i = 0; i < NUM_PORTS / 8; i++)
		want[i] &= fwd->auto_allow[i];
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

/**
 * fwd_bind_addr() - Bind address given for @port, if any
 * @fwd:	Forwarding table
 * @port:	Port number on the listening side
 *
 * Return: bind address (possibly with af 0: interface only), NULL if none
 */
const struct fwd_addr *fwd_bind_addr(const struct fwd_ports *fwd,
				     unsigned int port)
{
	int i;

	if (port > PORT_MAX)
		return NULL;

	i = fwd->addr_idx[port];
	if (!i || i > fwd->addr_count || i > FWD_ADDR_MAX)
		return NULL;

	return &fwd->addr[i - 1];
}

/**
 * fwd_port_af() - Should @port listen on IP version @af?
 * @fwd:	Forwarding table
 * @port:	Port number on the listening side
 * @af:		AF_INET or AF_INET6
 *
 * A bind address, or a target address, fixes the IP version: connections
 * and datagrams keep theirs from listener to target.
 *
 * Return: 1 if a socket for @af is needed, 0 otherwise
 */
int fwd_port_af(const struct fwd_ports *fwd, unsigned int port, int af)
{
	const struct fwd_addr *a = fwd_bind_addr(fwd, port);
	const struct fwd_to *to = fwd_target_addr(fwd, port);

	if (a && a->af && a->af != af)
		return 0;
	if (to && to->af != af)
		return 0;

	return 1;
}
