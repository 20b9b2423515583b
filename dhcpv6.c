// SPDX-License-Identifier: AGPL-3.0-or-later

/* PASST - Plug A Simple Socket Transport
 *  for qemu/UNIX domain socket mode
 *
 * PASTA - Pack A Subtle Tap Abstraction
 *  for network namespace/tap device mode
 *
 * dhcpv6.c - Minimal stateful DHCPv6 server (RFC 8415)
 *
 * Theory of operation
 *
 * There is exactly one client and exactly one address to give it: the
 * host's own (c->ip6.addr). So the server keeps no bindings: every SOLICIT,
 * REQUEST, RENEW or REBIND gets that address in the first IA_NA, and any
 * other address the client names in an IA_NA is returned with zero
 * lifetimes so that it stops using it (RFC 8415 18.3.4, 18.3.5). Further
 * IA_NAs get NoAddrsAvail; IA_TA and IA_PD are not offered. CONFIRM
 * succeeds only for our address, RELEASE and DECLINE are acknowledged,
 * INFORMATION-REQUEST gets nameservers and the search list only. Replies
 * are built from the context as it is when the message arrives: after
 * follow.c changed it, the next reply has the new values, and nothing
 * needs to be rebuilt (the server DUID comes from our MAC address, which
 * doesn't follow the host).
 *
 * Lifetimes: with --no-follow, our configuration doesn't change while we
 * run: lifetimes are infinite, and so are T1 and T2 ("never renew"). While
 * following the host, the address can change, and the client learns about
 * it when it renews (a RECONFIGURE, RFC 8415 18.3.11, must be authenticated
 * with a key exchanged beforehand, RFC 8415 20.4, which few clients
 * support): preferred and valid lifetimes are 120 s, the same as
 * a DHCP lease, with T1 and T2 at the RFC 8415 21.4 recommendations, 0.5
 * and 0.8 times that: 60 s and 96 s. The renewal then names the old
 * address, which comes back with zero lifetimes, next to the new one. A
 * client that only asks for configuration (INFORMATION-REQUEST) is told to
 * ask again after IRT_MINIMUM, 600 s (Information Refresh Time, RFC 8415
 * 21.23), instead of the default of a day, for changed nameservers.
 *
 * Local mode (c->ip6.local, no host interface for IPv6): there's no global
 * address to give. An ADVERTISE then carries no IA_NA but a NoAddrsAvail
 * status (RFC 8415 18.3.1), which clients ignore except for the
 * SOL_MAX_RT option (RFC 8415 18.2.9): while following, that is set to its
 * minimum, 60 s, so that the client keeps soliciting often enough to get
 * the address once the host has one. REQUEST, RENEW and REBIND get the
 * IA_NA back with NoAddrsAvail, and the addresses it named with zero
 * lifetimes. INFORMATION-REQUEST is answered as usual.
 *
 * With --fqdn, replies that carry configuration also carry the Client FQDN
 * option (RFC 4704): we update no DNS records, so N is set, S clear, and O
 * set if the client's own option asked us to (RFC 4704 4.1, 6).
 *
 * The server DUID is a DUID-LL (RFC 8415 11.4) built from our MAC address,
 * so it is stable across restarts with the same configuration.
 *
 * We answer only messages sent to All_DHCP_Relay_Agents_and_Servers
 * (ff02::1:2) or to our own link-local address: anything else to port 547
 * is somebody else's business, and goes on as ordinary UDP.
 *
 * Limits: replies are built to fit the IPv6 minimum MTU (RFC 8200 5);
 * search list entries that don't fit are left out. Client DUIDs longer than
 * RFC 8415 11.1 allows (130 bytes with the type) are refused.
 *
 * Everything here comes from the guest: each option length is checked
 * against the UDP length, and that against the bytes received, before use,
 * with packet_get() as the only accessor.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "util.h"
#include "passt.h"
#include "packet.h"
#include "tap.h"
#include "log.h"
#include "dhcpv6.h"

#define DHCPV6_CLIENT_PORT	546	/* RFC 8415 7.2 */
#define DHCPV6_SERVER_PORT	547

/* Message types, RFC 8415 7.3 */
#define TYPE_SOLICIT		1
#define TYPE_ADVERTISE		2
#define TYPE_REQUEST		3
#define TYPE_CONFIRM		4
#define TYPE_RENEW		5
#define TYPE_REBIND		6
#define TYPE_REPLY		7
#define TYPE_RELEASE		8
#define TYPE_DECLINE		9
#define TYPE_INFORMATION_REQUEST 11

/* Option codes, RFC 8415 21, RFC 3646 3, 4 */
#define OPT_CLIENTID		1
#define OPT_SERVERID		2
#define OPT_IA_NA		3
#define OPT_IA_TA		4
#define OPT_IAADDR		5
#define OPT_PREFERENCE		7
#define OPT_STATUS_CODE		13
#define OPT_RAPID_COMMIT	14
#define OPT_DNS_SERVERS		23
#define OPT_DOMAIN_LIST		24
#define OPT_IA_PD		25
#define OPT_INFO_REFRESH_TIME	32	/* RFC 8415 21.23 */
#define OPT_CLIENT_FQDN		39	/* RFC 4704 4 */
#define OPT_SOL_MAX_RT		82	/* RFC 8415 21.24 */

/* RFC 4704 4.1: Client FQDN flags */
#define FQDN_FLAG_S		0x01	/* server updates the AAAA RR */
#define FQDN_FLAG_O		0x02	/* server overrode the client's S */
#define FQDN_FLAG_N		0x04	/* server updates no RR at all */

/* Status codes, RFC 8415 21.13 */
#define STATUS_SUCCESS		0
#define STATUS_NOADDRSAVAIL	2
#define STATUS_NOTONLINK	4

#define MSG_HDR_LEN		4	/* type, transaction ID: RFC 8415 8 */
#define OPT_HDR_LEN		4	/* code, length: RFC 8415 21.1 */
#define IA_NA_LEN		12	/* IAID, T1, T2: RFC 8415 21.4 */
#define IAADDR_LEN		24	/* address, lifetimes: RFC 8415 21.6 */

/* RFC 8415 11.1: DUID type (2 bytes) and up to 128 bytes of DUID */
#define DUID_MAX_LEN		130

/* RFC 8415 11.4: DUID-LL, type 3, hardware type 1 (Ethernet, RFC 826) */
#define DUID_TYPE_LL		3
#define DUID_HW_ETHERNET	1
#define DUID_LL_LEN		(2 + 2 + 6)

/* With --no-follow, our configuration never changes while we run: all ones
 * is infinity for lifetimes (RFC 8415 7.7), and T1/T2 at infinity mean
 * "never renew" (RFC 8415 21.4)
 */
#define LIFETIME_INFINITE	0xffffffffU

/* While following the host (see the theory of operation): lifetimes as the
 * DHCP lease, T1 and T2 as RFC 8415 21.4 recommends
 */
#define LIFETIME_FOLLOW		120U			/* seconds */
#define T1_FOLLOW		(LIFETIME_FOLLOW / 2)
#define T2_FOLLOW		(LIFETIME_FOLLOW * 4 / 5)
#define IRT_MINIMUM		600U	/* RFC 8415 7.6, 21.23 */
#define SOL_MAX_RT_MIN		60U	/* RFC 8415 21.24 */

/* RFC 8415 18.3.1: status message for the user, local mode */
#define NOADDRS_MSG		"no IPv6 address to assign"

/* RFC 8415 18.2.1: 255 makes the client request right away */
#define PREFERENCE_MAX		255

/* Largest reply: fits the IPv6 minimum MTU, with IPv6 and UDP headers */
#define REPLY_MAX_LEN		(IPV6_MIN_MTU - IP6_HDR_LEN - UDP_HDR_LEN)

/* The first IA_NA gets our address, and zero lifetimes for at most this
 * many other addresses the client asks about
 */
#define IAADDR_RELEASE_MAX	4

/**
 * struct dhcpv6_stats - Counters of dropped or ignored DHCPv6 input
 */
static struct dhcpv6_stats {
	unsigned long bad_len;		/* truncated datagram or option */
	unsigned long bad_msg;		/* missing or forbidden options */
	unsigned long other_server;	/* Server ID of another server */
	unsigned long unhandled;	/* message types we don't serve */
	unsigned long replies;		/* replies sent */
} dhcpv6_stats;

static uint8_t server_duid[DUID_LL_LEN];
static bool server_duid_set;

static uint8_t reply[REPLY_MAX_LEN];

/**
 * struct opt - Location of an option in packet 0 of the pool
 * @off:	Offset of the option data, after code and length
 * @len:	Length of option data
 */
struct opt {
	size_t off;
	size_t len;
};

/**
 * dhcpv6_type_str() - Name of a message type, for logging
 * @type:	Message type
 *
 * Return: static string
 */
static const char *dhcpv6_type_str(uint8_t type)
{
	switch (type) {
	case TYPE_SOLICIT:		return "SOLICIT";
	case TYPE_ADVERTISE:		return "ADVERTISE";
	case TYPE_REQUEST:		return "REQUEST";
	case TYPE_CONFIRM:		return "CONFIRM";
	case TYPE_RENEW:		return "RENEW";
	case TYPE_REBIND:		return "REBIND";
	case TYPE_REPLY:		return "REPLY";
	case TYPE_RELEASE:		return "RELEASE";
	case TYPE_DECLINE:		return "DECLINE";
	case TYPE_INFORMATION_REQUEST:	return "INFORMATION-REQUEST";
	default:			return "unknown";
	}
}

/**
 * dhcpv6_router_addr() - Our address: source of replies (same as NDP's)
 * @c:		Execution context
 *
 * Return: host's default gateway if link-local, else the link-local address
 *	   conf.c set up
 */
static const struct in6_addr *dhcpv6_router_addr(const struct ctx *c)
{
	if (IN6_IS_ADDR_LINKLOCAL(&c->ip6.gw))
		return &c->ip6.gw;

	return &c->ip6.addr_ll;
}

/**
 * dhcpv6_opts_check() - Check that options in [@off, @end) are well-formed
 * @p:		Pool with the UDP datagram as packet 0
 * @off:	Offset of the first option
 * @end:	End of the options (already checked against the packet)
 *
 * Return: 0 if each option fits exactly, -1 if one runs past @end
 */
static int dhcpv6_opts_check(const struct pool *p, size_t off, size_t end)
{
	while (off < end) {
		const uint8_t *o;
		size_t len;

		if (end - off < OPT_HDR_LEN)
			return -1;

		if (!(o = packet_get(p, 0, off, OPT_HDR_LEN, NULL)))
			return -1;

		len = get_be16(o + 2);
		if (len > end - off - OPT_HDR_LEN)
			return -1;

		off += OPT_HDR_LEN + len;
	}

	return 0;
}

/**
 * dhcpv6_opt() - Find the next option with a given code
 * @p:		Pool with the UDP datagram as packet 0
 * @off:	Where to start looking: first option, or past a previous one
 * @end:	End of the options (checked by dhcpv6_opts_check())
 * @code:	Option code
 * @o:		Location of the option data, set if found
 *
 * Return: true if found
 */
static bool dhcpv6_opt(const struct pool *p, size_t off, size_t end,
		       uint16_t code, struct opt *o)
{
	while (off < end && end - off >= OPT_HDR_LEN) {
		const uint8_t *h;
		size_t len;

		if (!(h = packet_get(p, 0, off, OPT_HDR_LEN, NULL)))
			return false;

		len = get_be16(h + 2);
		if (len > end - off - OPT_HDR_LEN)
			return false;

		if (get_be16(h) == code) {
			o->off = off + OPT_HDR_LEN;
			o->len = len;
			return true;
		}

		off += OPT_HDR_LEN + len;
	}

	return false;
}

/**
 * dhcpv6_opt_add() - Append an option header to the reply
 * @n:		Current length of the reply, updated
 * @code:	Option code
 * @len:	Length of the option data
 *
 * Return: pointer to the option data to fill in, NULL if it doesn't fit
 */
static uint8_t *dhcpv6_opt_add(size_t *n, uint16_t code, size_t len)
{
	uint8_t *o;

	if (len > UINT16_MAX || *n + OPT_HDR_LEN + len > sizeof(reply))
		return NULL;

	o = reply + *n;
	put_be16(o, code);
	put_be16(o + 2, (uint16_t)len);
	*n += OPT_HDR_LEN + len;

	return o + OPT_HDR_LEN;
}

/**
 * dhcpv6_status_add() - Append a Status Code option, RFC 8415 21.13
 * @n:		Current length of the reply, updated
 * @status:	Status code
 * @msg:	Message for the user, UTF-8, not NUL-terminated on the wire
 *		(clients only log it), NULL for none
 * @len:	Length of @msg
 *
 * Return: 0 on success, -1 if it doesn't fit
 */
static int dhcpv6_status_add(size_t *n, uint16_t status, const char *msg,
			     size_t len)
{
	uint8_t *o;

	if (!msg)
		len = 0;

	if (!(o = dhcpv6_opt_add(n, OPT_STATUS_CODE, 2 + len)))
		return -1;

	put_be16(o, status);
	if (len)
		memcpy(o + 2, msg, len);
	return 0;
}

/**
 * dhcpv6_u32_add() - Append an option holding one 32-bit value
 * @n:		Current length of the reply, updated
 * @code:	Option code
 * @v:		Value
 *
 * Return: 0 on success, -1 if it doesn't fit
 */
static int dhcpv6_u32_add(size_t *n, uint16_t code, uint32_t v)
{
	uint8_t *o;

	if (!(o = dhcpv6_opt_add(n, code, 4)))
		return -1;

	put_be32(o, v);
	return 0;
}

/**
 * dhcpv6_iaaddr_add() - Append an IA Address option, RFC 8415 21.6
 * @n:		Current length of the reply, updated
 * @addr:	Address
 * @lifetime:	Preferred and valid lifetime
 *
 * Return: 0 on success, -1 if it doesn't fit
 */
static int dhcpv6_iaaddr_add(size_t *n, const struct in6_addr *addr,
			     uint32_t lifetime)
{
	uint8_t *o;

	if (!(o = dhcpv6_opt_add(n, OPT_IAADDR, IAADDR_LEN)))
		return -1;

	memcpy(o, addr, sizeof(*addr));
	put_be32(o + 16, lifetime);	/* preferred */
	put_be32(o + 20, lifetime);	/* valid */
	return 0;
}

/**
 * dhcpv6_ia_na_add() - Answer one IA_NA of the client, RFC 8415 21.4
 * @c:		Execution context
 * @p:		Pool with the UDP datagram as packet 0
 * @ia:		Client's IA_NA option (length already checked)
 * @assign:	Put our address in this one (the first IA_NA only)
 * @n:		Current length of the reply, updated
 *
 * Return: 0 on success, -1 if the reply doesn't fit
 */
static int dhcpv6_ia_na_add(const struct ctx *c, const struct pool *p,
			    const struct opt *ia, bool assign, size_t *n)
{
	size_t start = *n, off, end = ia->off + ia->len;
	const uint8_t *iaid;
	unsigned int released = 0;
	struct opt a;
	uint8_t *o;

	if (!(iaid = packet_get(p, 0, ia->off, 4, NULL)))
		return -1;

	if (!(o = dhcpv6_opt_add(n, OPT_IA_NA, IA_NA_LEN)))
		return -1;

	memcpy(o, iaid, 4);	/* IAID is opaque: echo it as it is */

	/* Local mode: nothing to assign, RFC 8415 18.3.2 */
	if (IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr))
		assign = false;

	if (assign) {
		uint32_t t1 = c->no_follow ? LIFETIME_INFINITE : T1_FOLLOW;
		uint32_t t2 = c->no_follow ? LIFETIME_INFINITE : T2_FOLLOW;

		put_be32(o + 4, t1);
		put_be32(o + 8, t2);

		if (dhcpv6_iaaddr_add(n, &c->ip6.addr, c->no_follow ?
				      LIFETIME_INFINITE : LIFETIME_FOLLOW))
			return -1;
	} else {
		put_be32(o + 4, 0);
		put_be32(o + 8, 0);
	}

	/* RFC 8415 18.3.4, 18.3.5: addresses that aren't ours any more go
	 * back with zero lifetimes, whether we have another one or not
	 */
	for (off = ia->off + IA_NA_LEN;
	     released < IAADDR_RELEASE_MAX &&
	     dhcpv6_opt(p, off, end, OPT_IAADDR, &a);
	     off = a.off + a.len) {
		struct in6_addr addr;
		const uint8_t *v;

		if (a.len < IAADDR_LEN)
			continue;

		if (!(v = packet_get(p, 0, a.off, sizeof(addr), NULL)))
			break;
		memcpy(&addr, v, sizeof(addr));

		if (IN6_ARE_ADDR_EQUAL(&addr, &c->ip6.addr))
			continue;

		if (dhcpv6_iaaddr_add(n, &addr, 0))
			return -1;
		released++;
	}

	if (!assign && dhcpv6_status_add(n, STATUS_NOADDRSAVAIL, NULL, 0))
		return -1;

	/* Length of the IA_NA now includes the nested options */
	put_be16(reply + start + 2, (uint16_t)(*n - start - OPT_HDR_LEN));
	return 0;
}

/**
 * dhcpv6_fqdn_add() - Append the Client FQDN option, with --fqdn
 * @c:		Execution context
 * @p:		Pool with the UDP datagram as packet 0
 * @off:	Offset of the first option of the request
 * @end:	End of the options
 * @n:		Current length of the reply, updated
 *
 * The name was checked when parsing options: if it doesn't fit the reply
 * (it always does, see REPLY_MAX_LEN), it's left out.
 */
static void dhcpv6_fqdn_add(const struct ctx *c, const struct pool *p,
			    size_t off, size_t end, size_t *n)
{
	uint8_t flags = FQDN_FLAG_N, *o;
	const uint8_t *cflags;
	struct opt cl;
	size_t len;

	if (!*c->fqdn)
		return;

	/* RFC 4704 6: the client asked for an update (S): we overrode it */
	if (dhcpv6_opt(p, off, end, OPT_CLIENT_FQDN, &cl) && cl.len &&
	    (cflags = packet_get(p, 0, cl.off, 1, NULL)) &&
	    (*cflags & FQDN_FLAG_S))
		flags |= FQDN_FLAG_O;

	/* Header now, length once the name is encoded: flags, then the
	 * name in wire format without compression (RFC 4704 4.2)
	 */
	if (!(o = dhcpv6_opt_add(n, OPT_CLIENT_FQDN, 1))) {
		debug("DHCPv6: no room for client FQDN option");
		return;
	}
	*o = flags;
	len = dns_name_encode(reply + *n, sizeof(reply) - *n, c->fqdn);
	if (!len) {
		debug("DHCPv6: FQDN left out");
		*n -= OPT_HDR_LEN + 1;
		return;
	}
	*n += len;
	put_be16(o - 2, (uint16_t)(1 + len));
}

/**
 * dhcpv6_dns_add() - Append nameservers and search list, as configured
 * @c:		Execution context
 * @n:		Current length of the reply, updated
 */
static void dhcpv6_dns_add(const struct ctx *c, size_t *n)
{
	size_t start, len;
	uint8_t *o;
	int i;

	/* RFC 3646 3: DNS Recursive Name Server option */
	if (!c->no_dhcp_dns) {
		for (i = 0; i < MAXNS; i++) {
			if (IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns[i]))
				break;
		}

		if (i && (o = dhcpv6_opt_add(n, OPT_DNS_SERVERS,
					     (size_t)i * 16)))
			memcpy(o, c->ip6.dns, (size_t)i * 16);
	}

	/* RFC 3646 4: Domain Search List option, names in wire format */
	if (c->no_dhcp_dns_search || !c->dns_search[0].n[0])
		return;

	/* Header now, length once we know what fits */
	start = *n;
	if (!dhcpv6_opt_add(n, OPT_DOMAIN_LIST, 0))
		return;

	for (i = 0; i < MAXDNSRCH && c->dns_search[i].n[0]; i++) {
		len = dns_name_encode(reply + *n, sizeof(reply) - *n,
				      c->dns_search[i].n);
		if (!len) {
			debug("DHCPv6: search domain %.*s left out",
			      DNS_NAME_MAX, c->dns_search[i].n);
			continue;
		}
		*n += len;
	}

	if (*n == start + OPT_HDR_LEN)		/* nothing fit: drop it */
		*n = start;
	else
		put_be16(reply + start + 2,
			 (uint16_t)(*n - start - OPT_HDR_LEN));
}

/**
 * dhcpv6_confirm_status() - Are the client's addresses on our link?
 * @c:		Execution context
 * @p:		Pool with the UDP datagram as packet 0
 * @off:	Offset of the first option of the message
 * @end:	End of the options
 *
 * RFC 8415 18.3.3: only our address is appropriate for this link
 *
 * Return: STATUS_SUCCESS, STATUS_NOTONLINK, or -1 if there are no
 *	   addresses to check, or malformed IAs: then we don't reply
 */
static int dhcpv6_confirm_status(const struct ctx *c, const struct pool *p,
				 size_t off, size_t end)
{
	int status = -1;
	struct opt ia;

	for (; dhcpv6_opt(p, off, end, OPT_IA_NA, &ia);
	     off = ia.off + ia.len) {
		struct opt a;
		size_t aoff;

		for (aoff = ia.off + IA_NA_LEN;
		     dhcpv6_opt(p, aoff, ia.off + ia.len, OPT_IAADDR, &a);
		     aoff = a.off + a.len) {
			struct in6_addr addr;
			const uint8_t *v;

			if (a.len < IAADDR_LEN ||
			    !(v = packet_get(p, 0, a.off, sizeof(addr), NULL)))
				return -1;

			memcpy(&addr, v, sizeof(addr));
			if (!IN6_ARE_ADDR_EQUAL(&addr, &c->ip6.addr))
				return STATUS_NOTONLINK;

			status = STATUS_SUCCESS;
		}
	}

	return status;
}

/**
 * dhcpv6_init() - Build the server DUID from our MAC address
 * @c:		Execution context
 */
void dhcpv6_init(const struct ctx *c)
{
	/* RFC 8415 11.4: DUID-LL, no time: stable across restarts */
	put_be16(server_duid, DUID_TYPE_LL);
	put_be16(server_duid + 2, DUID_HW_ETHERNET);
	memcpy(server_duid + 4, c->mac, sizeof(c->mac));
	server_duid_set = true;
}

/**
 * dhcpv6_for_us() - Is a datagram to port 547 addressed to our server?
 * @c:		Execution context
 * @daddr:	Destination address
 *
 * Return: true for All_DHCP_Relay_Agents_and_Servers or our address
 */
static bool dhcpv6_for_us(const struct ctx *c, const struct in6_addr *daddr)
{
	struct in6_addr all;

	/* RFC 8415 7.1 */
	inet_pton(AF_INET6, "ff02::1:2", &all);

	return IN6_ARE_ADDR_EQUAL(daddr, &all) ||
	       IN6_ARE_ADDR_EQUAL(daddr, dhcpv6_router_addr(c));
}

/**
 * dhcpv6() - Handle a DHCPv6 message from the guest
 * @c:		Execution context
 * @p:		Pool with the UDP header and payload as packet 0
 * @saddr:	Source address of the datagram
 * @daddr:	Destination address of the datagram
 *
 * Return: 1 if the datagram was for our server (answered or dropped),
 *	   0 if it wasn't: the caller forwards it as ordinary UDP
 */
int dhcpv6(const struct ctx *c, const struct pool *p,
	   const struct in6_addr *saddr, const struct in6_addr *daddr)
{
	bool has_server_id, has_ia, rapid_commit = false, first = true;
	struct opt client_id = { 0 }, server_id, ia;
	const uint8_t *uh, *hdr, *v;
	size_t left, end, off, next, n;
	uint8_t type = 0, resp_type;
	uint8_t *o;
	int status = -1;

	if (!(uh = packet_get(p, 0, 0, UDP_HDR_LEN, &left)))
		return 0;

	if (get_be16(uh + 2) != DHCPV6_SERVER_PORT)
		return 0;

	if (!dhcpv6_for_us(c, daddr))
		return 0;

	/* RFC 8415 7.6: the server doesn't reply to anything else */
	if (c->no_dhcpv6)
		return 1;

	if (!server_duid_set)
		dhcpv6_init(c);

	/* UDP length: at least the header, at most what we have, RFC 768 */
	end = get_be16(uh + 4);
	if (end < UDP_HDR_LEN + MSG_HDR_LEN || end - UDP_HDR_LEN > left)
		goto too_short;

	if (!(hdr = packet_get(p, 0, UDP_HDR_LEN, MSG_HDR_LEN, NULL)))
		goto too_short;

	type = hdr[0];
	off = UDP_HDR_LEN + MSG_HDR_LEN;

	if (dhcpv6_opts_check(p, off, end))
		goto too_short;

	/* RFC 8415 16: the client always sends a Client Identifier, except
	 * in Information-request where it's optional
	 */
	if (dhcpv6_opt(p, off, end, OPT_CLIENTID, &client_id)) {
		if (!client_id.len || client_id.len > DUID_MAX_LEN)
			goto bad;
	} else if (type != TYPE_INFORMATION_REQUEST) {
		goto bad;
	}

	has_server_id = dhcpv6_opt(p, off, end, OPT_SERVERID, &server_id);
	if (has_server_id) {
		if (server_id.len != sizeof(server_duid) ||
		    !(v = packet_get(p, 0, server_id.off, server_id.len,
				     NULL)) ||
		    memcmp(v, server_duid, sizeof(server_duid))) {
			dhcpv6_stats.other_server++;
			return 1;
		}
	}

	/* Check IA_NAs, their nested options included */
	has_ia = false;
	for (next = off; dhcpv6_opt(p, next, end, OPT_IA_NA, &ia);
	     next = ia.off + ia.len) {
		if (ia.len < IA_NA_LEN ||
		    dhcpv6_opts_check(p, ia.off + IA_NA_LEN, ia.off + ia.len))
			goto too_short;
		has_ia = true;
	}

	switch (type) {
	case TYPE_SOLICIT:
		/* RFC 8415 16.2 */
		if (has_server_id)
			goto bad;
		/* RFC 8415 18.3.1, 21.14 */
		rapid_commit = dhcpv6_opt(p, off, end, OPT_RAPID_COMMIT, &ia);
		resp_type = rapid_commit ? TYPE_REPLY : TYPE_ADVERTISE;
		break;
	case TYPE_REQUEST:
	case TYPE_RENEW:
	case TYPE_RELEASE:
	case TYPE_DECLINE:
		/* RFC 8415 16.4, 16.6, 16.9, 16.10: must name us */
		if (!has_server_id)
			goto bad;
		resp_type = TYPE_REPLY;
		break;
	case TYPE_CONFIRM:
	case TYPE_REBIND:
		/* RFC 8415 16.5, 16.7 */
		if (has_server_id)
			goto bad;
		resp_type = TYPE_REPLY;
		break;
	case TYPE_INFORMATION_REQUEST:
		/* RFC 8415 16.12: no IA options */
		if (has_ia || dhcpv6_opt(p, off, end, OPT_IA_TA, &ia) ||
		    dhcpv6_opt(p, off, end, OPT_IA_PD, &ia))
			goto bad;
		resp_type = TYPE_REPLY;
		break;
	default:
		dhcpv6_stats.unhandled++;
		trace("DHCPv6: ignoring message type %u", type);
		return 1;
	}

	if (type == TYPE_CONFIRM &&
	    (status = dhcpv6_confirm_status(c, p, off, end)) < 0) {
		debug("DHCPv6: received CONFIRM without addresses, ignoring");
		return 1;
	}

	if (IN6_IS_ADDR_UNSPECIFIED(saddr) || IN6_IS_ADDR_MULTICAST(saddr))
		goto bad;

	/* RFC 8415 8: same transaction ID */
	reply[0] = resp_type;
	memcpy(reply + 1, hdr + 1, 3);
	n = MSG_HDR_LEN;

	/* RFC 8415 18.3: Server Identifier, Client Identifier as sent */
	if (!(o = dhcpv6_opt_add(&n, OPT_SERVERID, sizeof(server_duid))))
		goto full;
	memcpy(o, server_duid, sizeof(server_duid));

	if (client_id.len) {
		const uint8_t *id;

		if (!(id = packet_get(p, 0, client_id.off, client_id.len,
				      NULL)))
			goto too_short;
		if (!(o = dhcpv6_opt_add(&n, OPT_CLIENTID, client_id.len)))
			goto full;
		memcpy(o, id, client_id.len);
	}

	switch (type) {
	case TYPE_SOLICIT:
	case TYPE_REQUEST:
	case TYPE_RENEW:
	case TYPE_REBIND:
		/* RFC 8415 18.3.1: with no address for any IA, an ADVERTISE
		 * has no IA options, and says so at the top level
		 */
		if (resp_type == TYPE_ADVERTISE && has_ia &&
		    IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr)) {
			if (dhcpv6_status_add(&n, STATUS_NOADDRSAVAIL,
					      NOADDRS_MSG,
					      sizeof(NOADDRS_MSG) - 1))
				goto full;
		} else {
			for (next = off;
			     dhcpv6_opt(p, next, end, OPT_IA_NA, &ia);
			     next = ia.off + ia.len, first = false) {
				if (dhcpv6_ia_na_add(c, p, &ia, first, &n))
					goto full;
			}
		}

		if (rapid_commit && !dhcpv6_opt_add(&n, OPT_RAPID_COMMIT, 0))
			goto full;

		if (resp_type == TYPE_ADVERTISE) {
			if (!(o = dhcpv6_opt_add(&n, OPT_PREFERENCE, 1)))
				goto full;
			*o = PREFERENCE_MAX;
		}

		/* RFC 8415 18.2.9, 21.24: solicit again soon, to get the
		 * address the host may have by then
		 */
		if (!c->no_follow && IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr) &&
		    type == TYPE_SOLICIT &&
		    dhcpv6_u32_add(&n, OPT_SOL_MAX_RT, SOL_MAX_RT_MIN))
			goto full;

		dhcpv6_fqdn_add(c, p, off, end, &n);
		dhcpv6_dns_add(c, &n);
		break;
	case TYPE_INFORMATION_REQUEST:
		/* RFC 8415 21.23: ask again soon, nameservers may change */
		if (!c->no_follow &&
		    dhcpv6_u32_add(&n, OPT_INFO_REFRESH_TIME, IRT_MINIMUM))
			goto full;
		dhcpv6_fqdn_add(c, p, off, end, &n);
		dhcpv6_dns_add(c, &n);
		break;
	case TYPE_CONFIRM:
		if (dhcpv6_status_add(&n, (uint16_t)status, NULL, 0))
			goto full;
		break;
	case TYPE_DECLINE:
	case TYPE_RELEASE:
		/* RFC 8415 18.3.7, 18.3.8 */
		if (type == TYPE_DECLINE)
			warn_ratelimit("DHCPv6: guest declined the address "
				       "we assign: in use on its link?");
		if (dhcpv6_status_add(&n, STATUS_SUCCESS, NULL, 0))
			goto full;
		break;
	}

	debug("DHCPv6: received %s, sending %s", dhcpv6_type_str(type),
	      dhcpv6_type_str(resp_type));

	dhcpv6_stats.replies++;
	tap_udp6_send(c, dhcpv6_router_addr(c), DHCPV6_SERVER_PORT,
		      saddr, DHCPV6_CLIENT_PORT, 0, reply, n);
	return 1;

too_short:
	dhcpv6_stats.bad_len++;
	trace("DHCPv6: dropping truncated or malformed message");
	return 1;
bad:
	dhcpv6_stats.bad_msg++;
	trace("DHCPv6: dropping %s with missing or unexpected options",
	      dhcpv6_type_str(type));
	return 1;
full:
	/* Can't happen with a client ID of at most DUID_MAX_LEN bytes and
	 * the first IA_NA: further IAs just don't fit
	 */
	warn_ratelimit("DHCPv6: reply to %s doesn't fit, not sending",
		       dhcpv6_type_str(type));
	return 1;
}
