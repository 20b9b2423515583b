// SPDX-License-Identifier: AGPL-3.0-or-later

/* PASST - Plug A Simple Socket Transport
 *  for qemu/UNIX domain socket mode
 *
 * PASTA - Pack A Subtle Tap Abstraction
 *  for network namespace/tap device mode
 *
 * dhcp.c - Minimal DHCP server (RFC 2131, options from RFC 2132)
 *
 * Theory of operation: there is exactly one client (the guest) and exactly
 * one lease, c->ip4.addr. So there is no lease table: every message is
 * answered from the configuration as it is at that moment, read from the
 * context, and nothing is cached between messages (after the host's
 * configuration changed and follow.c rewrote the context, the next reply
 * carries the new values, nothing needs to be rebuilt).
 *
 * - DHCPDISCOVER -> DHCPOFFER of c->ip4.addr
 * - DHCPREQUEST  -> DHCPACK, or DHCPNAK if the client asks for another
 *		     address (option 50 or ciaddr), or no answer if it selected
 *		     another server (option 54, RFC 2131 4.3.2)
 * - DHCPINFORM   -> DHCPACK with parameters only (no yiaddr, no lease time)
 * - DHCPDECLINE, DHCPRELEASE: nothing to do, ignored
 *
 * Lease time: with --no-follow the configuration never changes while we
 * run, and the lease is infinite (RFC 2132 9.2), as it always was. While we
 * follow the host, the address can change under the guest's feet, and a
 * DHCP server has no usable way to tell a bound client: FORCERENEW (RFC
 * 3203) needs authentication (RFC 3118, 6704) that common clients don't
 * implement. The client learns about it when it renews, so the lease is
 * short: DHCP_LEASE_FOLLOW, 120 seconds, with the RFC 2131 4.4.5 defaults
 * for T1 (half, 60 s, option 58) and T2 (7/8, 105 s, option 59). A new
 * address reaches the guest within about a minute: its renewal (RENEWING,
 * ciaddr set) or a reboot (INIT-REBOOT, option 50) names the old address,
 * which gets a DHCPNAK (RFC 2131 4.3.2), and the client goes back to
 * DHCPDISCOVER (udhcpc: straight to INIT-SELECTING after 3 s, dhclient: to
 * INIT, after running its script with EXPIRE, which removes the old
 * address). A changed gateway, netmask or nameserver comes with the ACK to
 * the next renewal. The cost: one request and one reply a minute, on a link
 * that goes nowhere (ISC dhclient randomises T1 between 3/4 of ours and
 * ours). A guest whose client exits after configuring the address (udhcpc
 * -q) keeps it, unless its script set the lease time as address lifetime
 * (Debian's dhclient-script does, but that client stays and renews): that
 * is what --no-follow is for.
 *
 * The server identifier of a DHCPNAK is checked by busybox udhcpc (1.35 at
 * least) against the one of the DHCPOFFER it accepted, and a NAK with any
 * other one is ignored ("wrong server ID"). The identifier is our gateway
 * address, and when the address changes, the gateway usually changes with
 * it: so we remember the identifier of our last DHCPOFFER, and if it's not
 * the current one, a DHCPNAK goes out once with each (a client that
 * restarted on the first one drops the second: its transaction ID is gone).
 * A request naming that old identifier (option 54) is for us as well.
 *
 * Local mode (c->ip4.local, no host interface): the lease is
 * 169.254.2.1/16 with router and server identifier 169.254.2.2, which are
 * just c->ip4.addr and c->ip4.gw: nothing here treats it differently.
 *
 * Replies carry, in this order, options 53 (message type), 54 (server
 * identifier: the gateway address), 51 (lease time), 1 (netmask),
 * 28 (broadcast address), 3 (router), 26 (MTU, with -m), 6 (nameservers),
 * 12 (host name, with -H), 81 (client FQDN, RFC 4702, with --fqdn),
 * 15 (domain name: first search list entry), 119 (domain search list,
 * RFC 3397, with label compression, split into several instances if longer
 * than 255 bytes as RFC 3396 describes), and 58 and 59 (T1 and T2, while
 * following). Unless the client announces a larger
 * maximum message size (option 57), replies are kept within the 576 bytes
 * every client must accept (RFC 2131 2: 312 bytes of options): options that
 * don't fit, from the end of the list above, are left out.
 *
 * Option 81 tells the client its name and that we update no DNS records
 * (N set, S clear, O set if the client asked us to: RFC 4702 2.1, 4).
 *
 * Every byte of the request is read through packet_get(), and the option
 * walk checks each length against the UDP length before using it. Option
 * overload (52) is ignored: we never look into sname and file.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#include "dhcp.h"
#include "log.h"
#include "packet.h"
#include "passt.h"
#include "tap.h"
#include "util.h"

/* RFC 2131 2, Figure 1: fixed-format part of the message */
#define DHCP_OFF_OP		0
#define DHCP_OFF_HTYPE		1
#define DHCP_OFF_HLEN		2
#define DHCP_OFF_HOPS		3
#define DHCP_OFF_XID		4
#define DHCP_OFF_SECS		8
#define DHCP_OFF_FLAGS		10
#define DHCP_OFF_CIADDR		12
#define DHCP_OFF_YIADDR		16
#define DHCP_OFF_SIADDR		20
#define DHCP_OFF_GIADDR		24
#define DHCP_OFF_CHADDR		28	/* 16 bytes */
#define DHCP_OFF_SNAME		44	/* 64 bytes */
#define DHCP_OFF_FILE		108	/* 128 bytes */
#define DHCP_OFF_COOKIE		236	/* RFC 2131 3: magic cookie */
#define DHCP_OFF_OPTIONS	240

#define DHCP_CHADDR_LEN		16
#define DHCP_MAGIC		0x63825363	/* RFC 2131 3, RFC 2132 2 */

#define BOOTREQUEST		1	/* RFC 951 */
#define BOOTREPLY		2
#define DHCP_HTYPE_ETHER	1	/* RFC 1700 hardware type */
#define DHCP_FLAG_BROADCAST	0x8000	/* RFC 2131 2, Figure 2 */

#define DHCP_SERVER_PORT	67
#define DHCP_CLIENT_PORT	68

/* RFC 2132 option codes */
#define OPT_PAD			0
#define OPT_NETMASK		1	/* RFC 2132 3.3 */
#define OPT_ROUTER		3	/* RFC 2132 3.5 */
#define OPT_CLASSLESS_ROUTES	121	/* RFC 3442 */
#define OPT_DNS			6	/* RFC 2132 3.8 */
#define OPT_HOSTNAME		12	/* RFC 2132 3.14 */
#define OPT_DOMAIN_NAME		15	/* RFC 2132 3.17 */
#define OPT_MTU			26	/* RFC 2132 5.1 */
#define OPT_BROADCAST		28	/* RFC 2132 5.3 */
#define OPT_REQUESTED_ADDR	50	/* RFC 2132 9.1 */
#define OPT_LEASE_TIME		51	/* RFC 2132 9.2 */
#define OPT_RENEWAL_TIME	58	/* RFC 2132 9.11: T1 */
#define OPT_REBINDING_TIME	59	/* RFC 2132 9.12: T2 */
#define OPT_MSG_TYPE		53	/* RFC 2132 9.6 */
#define OPT_SERVER_ID		54	/* RFC 2132 9.7 */
#define OPT_MAX_MSG_SIZE	57	/* RFC 2132 9.10 */
#define OPT_CLIENT_FQDN		81	/* RFC 4702 */
#define OPT_DOMAIN_SEARCH	119	/* RFC 3397 */
#define OPT_END			255

#define OPT_LEN_MAX		255	/* one length byte */

/* RFC 2132 9.6: DHCP message types */
#define DHCPDISCOVER		1
#define DHCPOFFER		2
#define DHCPREQUEST		3
#define DHCPDECLINE		4
#define DHCPACK			5
#define DHCPNAK			6
#define DHCPRELEASE		7
#define DHCPINFORM		8

#define DHCP_LEASE_INFINITE	0xffffffffU	/* RFC 2132 9.2 */

/* While following the host: short lease, RFC 2131 4.4.5 default T1 and T2
 * (see the theory of operation above for the choice)
 */
#define DHCP_LEASE_FOLLOW	120U			/* seconds */
#define DHCP_T1_FOLLOW		(DHCP_LEASE_FOLLOW / 2)
#define DHCP_T2_FOLLOW		(DHCP_LEASE_FOLLOW * 7 / 8)

/* RFC 4702 2.1: Client FQDN flags, and the deprecated RCODE fields, which
 * a server sets to 255 (RFC 4702 2.2)
 */
#define FQDN_FLAG_S		0x01	/* server updates the A RR */
#define FQDN_FLAG_O		0x02	/* server overrode the client's S */
#define FQDN_FLAG_E		0x04	/* name in DNS wire format */
#define FQDN_FLAG_N		0x08	/* server updates no RR at all */
#define FQDN_RCODE_SERVER	255
#define FQDN_HDR_LEN		3	/* flags, RCODE1, RCODE2 */

/* RFC 2131 2: a client must accept 576-byte datagrams, that is, 312 bytes
 * of options (including the cookie) after IP, UDP and BOOTP headers. RFC 951
 * BOOTP messages are at least 300 bytes: some clients and relays drop less.
 */
#define DHCP_IP_UDP_LEN		(IP4_HDR_LEN + UDP_HDR_LEN)
#define DHCP_MSG_SIZE_MIN	576	/* RFC 2131 2, RFC 2132 9.10 */
#define DHCP_BOOTP_MIN		300	/* RFC 951: 64 + 128 + 64 vend */

/* Worst case of the options we send, to size the reply buffer: fixed-size
 * options (classless routes: 16 bytes), up to MAXNS nameservers, a host
 * name and a domain name of up to 253 characters, a client FQDN of up to
 * 255 wire bytes, and MAXDNSRCH uncompressed search names of up to 255 wire
 * bytes each
 */
#define DHCP_SEARCH_WIRE_MAX	(MAXDNSRCH * (DNS_NAME_MAX - 1))
#define DHCP_OPTS_MAX		(3 + 6 + 6 + 6 + 6 + 6 + 6 + 6 + 16 + 4 + \
				 2 + 4 * MAXNS +			\
				 2 + 253 +				\
				 2 + FQDN_HDR_LEN + DNS_WIRE_MAX +	\
				 2 + 253 +				\
				 DHCP_SEARCH_WIRE_MAX +			\
				 2 * DIV_ROUND_UP(DHCP_SEARCH_WIRE_MAX,	\
						  OPT_LEN_MAX) +	\
				 1)
#define DHCP_REPLY_MAX		(DHCP_OFF_OPTIONS + DHCP_OPTS_MAX)

/* RFC 1035 3.1: wire format limits, and compression pointers (4.1.4) */
#define DNS_LABEL_MAX		63
#define DNS_WIRE_MAX		255
#define DNS_PTR_MASK		0xc0
#define DNS_PTR_OFF_MAX		0x3fff
/* At most one suffix per label, and labels are at least two bytes apart */
#define DHCP_SUFFIX_MAX		(MAXDNSRCH * (DNS_WIRE_MAX / 2 + 1))

/**
 * struct dhcp_opt - Option seen in a request
 * @count:	Number of instances (RFC 3396 would concatenate them)
 * @len:	Length of the first instance
 * @val:	First instance's value, in the packet, NULL if @len is 0
 */
struct dhcp_opt {
	unsigned int count;
	size_t len;
	const uint8_t *val;
};

/**
 * struct dhcp_suffix - Domain name suffix already written, for compression
 * @s:		Suffix text, not NUL-terminated
 * @len:	Length of @s
 * @off:	Offset of its wire encoding in the search list data
 */
struct dhcp_suffix {
	const char *s;
	size_t len;
	size_t off;
};

static uint8_t dhcp_reply_buf[DHCP_REPLY_MAX];
static uint8_t dhcp_search_buf[DHCP_SEARCH_WIRE_MAX];
static struct dhcp_suffix dhcp_suffixes[DHCP_SUFFIX_MAX];

/* Server identifier of our last DHCPOFFER (0: none yet): the one a client
 * that accepted it compares a DHCPNAK against, even after our gateway, and
 * so our identifier, changed
 */
static struct in_addr dhcp_sid_offered;

_Static_assert(DHCP_REPLY_MAX >= DHCP_BOOTP_MIN,
	       "reply buffer must hold a minimum BOOTP message");
_Static_assert(DHCP_SEARCH_WIRE_MAX <= DNS_PTR_OFF_MAX,
	       "every search list offset must fit a compression pointer");

/**
 * dhcp_name_check() - Length of a domain name without trailing dot, if valid
 * @name:	NUL-terminated name, at most DNS_NAME_MAX bytes with the NUL
 *
 * Return: length to encode, 0 if the name is empty, the root, or doesn't
 *	   fit the limits of RFC 1035 2.3.4 (labels of 1 to 63 octets, 255
 *	   octets in wire format)
 */
static size_t dhcp_name_check(const char *name)
{
	size_t len = strnlen(name, DNS_NAME_MAX), i, label = 0;

	if (len == DNS_NAME_MAX)
		return 0;

	if (len && name[len - 1] == '.')
		len--;

	/* Wire format: one length byte per label plus the root label */
	if (!len || len + 2 > DNS_WIRE_MAX)
		return 0;

	for (i = 0; i < len; i++) {
		if (name[i] != '.') {
			if (++label > DNS_LABEL_MAX)
				return 0;
			continue;
		}
		if (!label)
			return 0;
		label = 0;
	}

	return label ? len : 0;
}

/**
 * dhcp_search_encode() - Encode the search list as RFC 3397 option data
 * @c:		Execution context
 *
 * Names are encoded as in RFC 1035 3.1, and a suffix that already appears
 * is replaced by a compression pointer (RFC 1035 4.1.4) to its offset from
 * the start of the (concatenated) option data, as RFC 3397 2 allows.
 *
 * Return: length of the encoded list in dhcp_search_buf, 0 if empty
 */
static size_t dhcp_search_encode(const struct ctx *c)
{
	size_t n_suffixes = 0, pos = 0, i;

	for (i = 0; i < ARRAY_SIZE(c->dns_search); i++) {
		const char *name = c->dns_search[i].n;
		size_t len, start = 0;
		bool ptr = false;

		if (!*name)
			break;

		if (!(len = dhcp_name_check(name))) {
			trace("DHCP: invalid search domain, skipped");
			continue;
		}

		/* Worst case for this name: no compression */
		if (pos + len + 2 > sizeof(dhcp_search_buf))
			break;

		while (start < len) {
			const char *dot, *label = name + start;
			size_t j, llen;

			for (j = 0; j < n_suffixes; j++) {
				const struct dhcp_suffix *sx = &dhcp_suffixes[j];

				if (sx->len == len - start &&
				    !strncasecmp(sx->s, label, sx->len))
					break;
			}

			if (j < n_suffixes) {
				dhcp_search_buf[pos++] = DNS_PTR_MASK |
					(uint8_t)(dhcp_suffixes[j].off >> 8);
				dhcp_search_buf[pos++] =
					(uint8_t)dhcp_suffixes[j].off;
				ptr = true;
				break;
			}

			if (n_suffixes < ARRAY_SIZE(dhcp_suffixes)) {
				dhcp_suffixes[n_suffixes].s = label;
				dhcp_suffixes[n_suffixes].len = len - start;
				dhcp_suffixes[n_suffixes].off = pos;
				n_suffixes++;
			}

			dot = memchr(label, '.', len - start);
			llen = dot ? (size_t)(dot - label) : len - start;

			dhcp_search_buf[pos++] = (uint8_t)llen;
			memcpy(dhcp_search_buf + pos, label, llen);
			pos += llen;
			start += llen + 1;
		}

		if (!ptr)
			dhcp_search_buf[pos++] = 0;
	}

	return pos;
}

/**
 * dhcp_opt_put() - Append one option to the reply, if it fits
 * @buf:	Reply buffer
 * @pos:	Current offset in @buf, updated
 * @limit:	Offset we must not reach (room for the end option is kept)
 * @code:	Option code
 * @data:	Option value
 * @len:	Length of @data, at most 255
 *
 * Return: true if written, false if it doesn't fit
 */
static bool dhcp_opt_put(uint8_t *buf, size_t *pos, size_t limit,
			 uint8_t code, const void *data, size_t len)
{
	if (len > OPT_LEN_MAX || *pos + 2 + len > limit)
		return false;

	buf[(*pos)++] = code;
	buf[(*pos)++] = (uint8_t)len;
	memcpy(buf + *pos, data, len);
	*pos += len;

	return true;
}

/**
 * dhcp_opt_put_long() - Append an option split in instances of 255 bytes
 * @buf:	Reply buffer
 * @pos:	Current offset in @buf, updated
 * @limit:	Offset we must not reach
 * @code:	Option code
 * @data:	Option value
 * @len:	Length of @data
 *
 * RFC 3396 2: the client concatenates all instances of an option in order.
 * Either all the instances are written, or none.
 *
 * Return: true if written, false if it doesn't fit
 */
static bool dhcp_opt_put_long(uint8_t *buf, size_t *pos, size_t limit,
			      uint8_t code, const uint8_t *data, size_t len)
{
	size_t need = len + 2 * DIV_ROUND_UP(len, OPT_LEN_MAX), done = 0;

	if (!len || *pos + need > limit)
		return false;

	while (done < len) {
		size_t chunk = MIN(len - done, (size_t)OPT_LEN_MAX);

		dhcp_opt_put(buf, pos, limit, code, data + done, chunk);
		done += chunk;
	}

	return true;
}

/**
 * dhcp_names() - Write host name (12) and client FQDN (81) options, if set
 * @c:		Execution context
 * @fqdn_flags:	Flags for option 81, RFC 4702 2.1
 * @pos:	Current offset in dhcp_reply_buf, updated
 * @limit:	Offset we must not reach
 *
 * Both names were checked when parsing options (conf.c): labels of 1 to 63
 * bytes, 253 characters at most. A name that doesn't fit in the room the
 * client gives us is left out, and so are the options after it.
 */
static void dhcp_names(const struct ctx *c, uint8_t fqdn_flags, size_t *pos,
		       size_t limit)
{
	uint8_t v[FQDN_HDR_LEN + DNS_WIRE_MAX];
	size_t len;

	/* RFC 2132 3.14: the name, without terminating NUL */
	len = strnlen(c->hostname, sizeof(c->hostname));
	if (len && !dhcp_opt_put(dhcp_reply_buf, pos, limit, OPT_HOSTNAME,
				 c->hostname, len))
		trace("DHCP: no room for host name option");

	if (!*c->fqdn)
		return;

	/* RFC 4702 2.1, 2.2: flags, RCODE1, RCODE2, then the name, in
	 * canonical wire format (E set), fully qualified
	 */
	v[0] = fqdn_flags;
	v[1] = v[2] = FQDN_RCODE_SERVER;
	len = dns_name_encode(v + FQDN_HDR_LEN, sizeof(v) - FQDN_HDR_LEN,
			      c->fqdn);
	if (!len) {
		trace("DHCP: invalid FQDN, left out");
		return;
	}
	if (!dhcp_opt_put(dhcp_reply_buf, pos, limit, OPT_CLIENT_FQDN, v,
			  FQDN_HDR_LEN + len))
		trace("DHCP: no room for client FQDN option");
}

/**
 * dhcp_options() - Write the options of a reply
 * @c:		Execution context
 * @type:	DHCPOFFER, DHCPACK or DHCPNAK
 * @inform:	Reply to DHCPINFORM: no lease time (RFC 2131 4.3.5)
 * @fqdn_flags:	Flags for the Client FQDN option, if we send one
 * @sid:	Server identifier (option 54)
 * @pos:	Offset of the first option in dhcp_reply_buf, updated
 * @limit:	Offset the options must end before
 */
static void dhcp_options(const struct ctx *c, uint8_t type, bool inform,
			 uint8_t fqdn_flags, struct in_addr sid, size_t *pos,
			 size_t limit)
{
	uint8_t *b = dhcp_reply_buf;
	int plen = MAX(0, MIN(c->ip4.prefix_len, 32));
	uint32_t mask = plen ? ~0U << (32 - plen) : 0;
	uint8_t v[4 * MAXNS];
	size_t n, i;

	limit--;	/* for OPT_END */

	/* RFC 2131 4.3.1, Table 3: DHCPNAK carries only message type and
	 * server identifier (and, optionally, a message)
	 */
	dhcp_opt_put(b, pos, limit, OPT_MSG_TYPE, &type, 1);
	dhcp_opt_put(b, pos, limit, OPT_SERVER_ID, &sid, 4);
	if (type == DHCPNAK)
		goto end;

	if (!inform) {
		put_be32(v, c->no_follow ? DHCP_LEASE_INFINITE :
					   DHCP_LEASE_FOLLOW);
		dhcp_opt_put(b, pos, limit, OPT_LEASE_TIME, v, 4);
	}

	put_be32(v, mask);
	dhcp_opt_put(b, pos, limit, OPT_NETMASK, v, 4);

	/* RFC 3021: no broadcast address on /31 and /32 links */
	if (plen < 31) {
		put_be32(v, ntohl(c->ip4.addr.s_addr) | ~mask);
		dhcp_opt_put(b, pos, limit, OPT_BROADCAST, v, 4);
	}

	if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.gw))
		dhcp_opt_put(b, pos, limit, OPT_ROUTER, &c->ip4.gw, 4);

	/* A gateway outside the subnet (-a elsewhere) is on the link all the
	 * same: RFC 3442 classless routes, a /32 to the gateway without a
	 * router, then the default route via it. Clients that understand
	 * option 121 ignore option 3.
	 */
	if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.gw) &&
	    ((c->ip4.addr.s_addr ^ c->ip4.gw.s_addr) & htonl(mask))) {
		uint8_t r[5 + 4 + 1 + 4];

		r[0] = 32;
		memcpy(r + 1, &c->ip4.gw, 4);
		memset(r + 5, 0, 4);
		r[9] = 0;
		memcpy(r + 10, &c->ip4.gw, 4);
		dhcp_opt_put(b, pos, limit, OPT_CLASSLESS_ROUTES, r, sizeof(r));
	}

	if (c->mtu) {
		/* RFC 2132 5.1: 68 at least, and it's a 16-bit field */
		put_be16(v, (uint16_t)MIN(MAX(c->mtu, ETH_MIN_MTU), 65535));
		dhcp_opt_put(b, pos, limit, OPT_MTU, v, 2);
	}

	if (!c->no_dhcp_dns) {
		for (n = 0; n < MAXNS; n++) {
			if (IN4_IS_ADDR_UNSPECIFIED(&c->ip4.dns[n]))
				break;
			memcpy(v + 4 * n, &c->ip4.dns[n], 4);
		}
		if (n)
			dhcp_opt_put(b, pos, limit, OPT_DNS, v, 4 * n);
	}

	dhcp_names(c, fqdn_flags, pos, limit);

	if (!c->no_dhcp_dns_search) {
		size_t len = 0;

		/* RFC 2132 3.17: the first valid search domain */
		for (i = 0; i < ARRAY_SIZE(c->dns_search); i++) {
			const char *name = c->dns_search[i].n;

			if (!*name || (len = dhcp_name_check(name)))
				break;
		}
		if (len && !dhcp_opt_put(b, pos, limit, OPT_DOMAIN_NAME,
					 c->dns_search[i].n, len))
			trace("DHCP: no room for domain name option");

		len = dhcp_search_encode(c);
		if (len && !dhcp_opt_put_long(b, pos, limit, OPT_DOMAIN_SEARCH,
					      dhcp_search_buf, len))
			trace("DHCP: no room for domain search option");
	}

	/* RFC 2131 4.4.5: T1 and T2 default to what we say anyway, so these
	 * come last, and are the first to go if there's no room. Spelt out,
	 * they tell clients that would pick other values when to renew.
	 */
	if (!inform && !c->no_follow) {
		put_be32(v, DHCP_T1_FOLLOW);
		dhcp_opt_put(b, pos, limit, OPT_RENEWAL_TIME, v, 4);
		put_be32(v, DHCP_T2_FOLLOW);
		dhcp_opt_put(b, pos, limit, OPT_REBINDING_TIME, v, 4);
	}

end:
	b[(*pos)++] = OPT_END;
}

/**
 * dhcp_reply() - Build and send a reply
 * @c:		Execution context
 * @req:	Fixed part of the request, DHCP_OFF_OPTIONS bytes
 * @type:	DHCPOFFER, DHCPACK or DHCPNAK
 * @inform:	Reply to DHCPINFORM
 * @fqdn_flags:	Flags for the Client FQDN option, RFC 4702 2.1
 * @size:	Largest DHCP message the client accepts
 * @sid:	Server identifier, also the source address: our gateway
 *		address, or the one of our last DHCPOFFER for a DHCPNAK
 */
static void dhcp_reply(const struct ctx *c, const uint8_t *req, uint8_t type,
		       bool inform, uint8_t fqdn_flags, size_t size,
		       struct in_addr sid)
{
	uint8_t *b = dhcp_reply_buf;
	struct in_addr bcast = { .s_addr = htonl(INADDR_BROADCAST) };
	size_t pos = DHCP_OFF_OPTIONS;

	memset(b, 0, sizeof(dhcp_reply_buf));

	/* RFC 2131 4.3.1, Table 3 */
	b[DHCP_OFF_OP] = BOOTREPLY;
	b[DHCP_OFF_HTYPE] = DHCP_HTYPE_ETHER;
	b[DHCP_OFF_HLEN] = 6;
	memcpy(b + DHCP_OFF_XID, req + DHCP_OFF_XID, 4);
	memcpy(b + DHCP_OFF_FLAGS, req + DHCP_OFF_FLAGS, 2);
	memcpy(b + DHCP_OFF_GIADDR, req + DHCP_OFF_GIADDR, 4);
	memcpy(b + DHCP_OFF_CHADDR, req + DHCP_OFF_CHADDR, DHCP_CHADDR_LEN);

	if (type == DHCPACK)
		memcpy(b + DHCP_OFF_CIADDR, req + DHCP_OFF_CIADDR, 4);
	if (type != DHCPNAK && !inform)
		memcpy(b + DHCP_OFF_YIADDR, &c->ip4.addr, 4);

	put_be32(b + DHCP_OFF_COOKIE, DHCP_MAGIC);

	dhcp_options(c, type, inform, fqdn_flags, sid, &pos,
		     MIN(size, sizeof(dhcp_reply_buf)));

	if (pos < DHCP_BOOTP_MIN)
		pos = DHCP_BOOTP_MIN;	/* zeroes: pad options */

	tap_udp4_send(c, sid, DHCP_SERVER_PORT, bcast, DHCP_CLIENT_PORT,
		      b, pos);
}

/**
 * dhcp_sid_ours() - Is a server identifier one of ours?
 * @c:		Execution context
 * @sid:	Server identifier from a request (option 54)
 *
 * Return: true for our gateway address, and for the identifier of our last
 *	   DHCPOFFER, which the client may still be answering to after the
 *	   gateway changed
 */
static bool dhcp_sid_ours(const struct ctx *c, struct in_addr sid)
{
	return IN4_ARE_ADDR_EQUAL(&sid, &c->ip4.gw) ||
	       (!IN4_IS_ADDR_UNSPECIFIED(&dhcp_sid_offered) &&
		IN4_ARE_ADDR_EQUAL(&sid, &dhcp_sid_offered));
}

/**
 * dhcp_nak() - Refuse a request for an address that isn't (any more) ours
 * @c:		Execution context
 * @req:	Fixed part of the request, DHCP_OFF_OPTIONS bytes
 * @size:	Largest DHCP message the client accepts
 *
 * RFC 2131 4.3.2: the server identifier is mandatory, and some clients
 * (busybox udhcpc) ignore a DHCPNAK unless it's the one of the DHCPOFFER
 * they accepted: if our gateway changed since our last DHCPOFFER, send one
 * with each identifier. The first one a client takes restarts it with a new
 * transaction ID, so it drops the other one.
 */
static void dhcp_nak(const struct ctx *c, const uint8_t *req, size_t size)
{
	dhcp_reply(c, req, DHCPNAK, false, 0, size, c->ip4.gw);

	if (!IN4_IS_ADDR_UNSPECIFIED(&dhcp_sid_offered) &&
	    !IN4_ARE_ADDR_EQUAL(&dhcp_sid_offered, &c->ip4.gw)) {
		debug("DHCP: nak again with the identifier of our last offer");
		dhcp_reply(c, req, DHCPNAK, false, 0, size, dhcp_sid_offered);
	}
}

/**
 * dhcp() - Handle a DHCP message from the guest
 * @c:		Execution context
 * @p:		Pool whose packet 0 is the UDP header and payload of a datagram
 *		to port 67, bounded by the IPv4 total length
 *
 * Return: 1 if handled (answered or deliberately ignored), 0 if malformed
 *	   (truncated, inconsistent lengths, bad option encoding): the caller
 *	   counts it
 */
int dhcp(const struct ctx *c, const struct pool *p)
{
	struct dhcp_opt opts[256] = { 0 };
	size_t left, mlen, off, end, size;
	const struct dhcp_opt *o;
	const uint8_t *uh, *m;
	char mac[MAC_STR_LEN];
	uint8_t type, fqdn_flags;

	_Static_assert(ARRAY_SIZE(opts) == 256,
		       "option table must be indexable by any option code");

	if (c->no_dhcp)
		return 1;

	uh = packet_get(p, 0, 0, UDP_HDR_LEN, &left);
	if (!uh)
		goto bad;

	/* RFC 768: the length covers header and data; anything the IP packet
	 * carries beyond it isn't part of the datagram
	 */
	mlen = get_be16(uh + 4);
	if (mlen < UDP_HDR_LEN || mlen - UDP_HDR_LEN > left)
		goto bad;
	mlen -= UDP_HDR_LEN;
	end = UDP_HDR_LEN + mlen;

	if (mlen < DHCP_OFF_COOKIE)
		goto bad;
	if (mlen < DHCP_OFF_OPTIONS) {
		trace("DHCP: BOOTP message without options, ignored");
		return 1;
	}

	m = packet_get(p, 0, UDP_HDR_LEN, DHCP_OFF_OPTIONS, NULL);
	if (!m)
		goto bad;

	if (m[DHCP_OFF_OP] != BOOTREQUEST ||
	    m[DHCP_OFF_HTYPE] != DHCP_HTYPE_ETHER || m[DHCP_OFF_HLEN] != 6 ||
	    get_be32(m + DHCP_OFF_COOKIE) != DHCP_MAGIC) {
		trace("DHCP: not a DHCP request from Ethernet, ignored");
		return 1;
	}

	/* RFC 2132 2: walk the options, checking each length */
	for (off = UDP_HDR_LEN + DHCP_OFF_OPTIONS; off < end; ) {
		const uint8_t *code, *len, *val = NULL;

		if (!(code = packet_get(p, 0, off, 1, NULL)))
			goto bad;
		off++;

		if (*code == OPT_PAD)
			continue;
		if (*code == OPT_END)
			break;

		if (off >= end || !(len = packet_get(p, 0, off, 1, NULL)))
			goto bad;
		off++;

		if (*len) {
			if (*len > end - off ||
			    !(val = packet_get(p, 0, off, *len, NULL)))
				goto bad;
			off += *len;
		}

		if (!opts[*code].count++) {
			opts[*code].len = *len;
			opts[*code].val = val;
		}
	}

	o = &opts[OPT_MSG_TYPE];
	if (!o->count) {
		trace("DHCP: BOOTP request without message type, ignored");
		return 1;
	}
	if (o->count != 1 || o->len != 1)
		goto bad;
	type = o->val[0];

	/* RFC 2132 9.10: the client may accept more than 576 bytes */
	size = DHCP_MSG_SIZE_MIN;
	o = &opts[OPT_MAX_MSG_SIZE];
	if (o->count == 1 && o->len == 2)
		size = MAX(size, (size_t)get_be16(o->val));
	size -= DHCP_IP_UDP_LEN;

	/* RFC 4702 4: we never update DNS records. If the client asked us
	 * to update its A RR (S in its own option 81), say we overrode that.
	 */
	fqdn_flags = FQDN_FLAG_N | FQDN_FLAG_E;
	o = &opts[OPT_CLIENT_FQDN];
	if (o->count && o->len >= 1 && (o->val[0] & FQDN_FLAG_S))
		fqdn_flags |= FQDN_FLAG_O;

	mac_ntop(m + DHCP_OFF_CHADDR, mac, sizeof(mac));

	switch (type) {
	case DHCPDISCOVER:
		debug("DHCP: offer to discover");
		debug("    from %s", mac);
		dhcp_reply(c, m, DHCPOFFER, false, fqdn_flags, size,
			   c->ip4.gw);
		dhcp_sid_offered = c->ip4.gw;
		return 1;
	case DHCPREQUEST: {
		struct in_addr ciaddr, req;

		/* RFC 2131 4.3.2: a client that selected another server
		 * tells us by naming it: stay quiet
		 */
		o = &opts[OPT_SERVER_ID];
		if (o->count) {
			struct in_addr sid;

			if (o->count != 1 || o->len != 4)
				goto bad;
			memcpy(&sid, o->val, 4);
			if (!dhcp_sid_ours(c, sid)) {
				trace("DHCP: request for another server");
				return 1;
			}
		}

		memcpy(&ciaddr, m + DHCP_OFF_CIADDR, 4);
		if (!IN4_IS_ADDR_UNSPECIFIED(&ciaddr) &&
		    !IN4_ARE_ADDR_EQUAL(&ciaddr, &c->ip4.addr))
			goto nak;

		o = &opts[OPT_REQUESTED_ADDR];
		if (o->count) {
			if (o->count != 1 || o->len != 4)
				goto bad;
			memcpy(&req, o->val, 4);
			if (!IN4_ARE_ADDR_EQUAL(&req, &c->ip4.addr))
				goto nak;
		}

		debug("DHCP: ack to request");
		debug("    from %s", mac);
		dhcp_reply(c, m, DHCPACK, false, fqdn_flags, size, c->ip4.gw);
		return 1;
nak:
		/* RFC 2131 4.3.2: RENEWING or REBINDING (ciaddr), or
		 * INIT-REBOOT or SELECTING (option 50) for an address that
		 * isn't ours, or not any more: the client starts over
		 */
		debug("DHCP: nak to request for another address");
		debug("    from %s", mac);
		dhcp_nak(c, m, size);
		return 1;
	}
	case DHCPINFORM:
		debug("DHCP: ack to inform");
		debug("    from %s", mac);
		dhcp_reply(c, m, DHCPACK, true, fqdn_flags, size, c->ip4.gw);
		return 1;
	case DHCPDECLINE:
		/* RFC 2131 4.3.3: the address is in use by someone else?
		 * There's nobody else, and nothing else to give out.
		 */
		warn_ratelimit("DHCP: guest %s declined its address", mac);
		return 1;
	case DHCPRELEASE:
		trace("DHCP: release from %s, ignored", mac);
		return 1;
	default:
		trace("DHCP: message type %u, ignored", type);
		return 1;
	}

bad:
	trace("DHCP: malformed message, dropped");
	return 0;
}

/**
 * dhcp_init() - Forget the server identifier of earlier offers
 *
 * Nothing is precomputed: replies come from the context as it is when the
 * request arrives, so nothing needs to be called after the configuration
 * changed.
 */
void dhcp_init(void)
{
	dhcp_sid_offered.s_addr = 0;
}
