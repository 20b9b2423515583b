// SPDX-License-Identifier: AGPL-3.0-or-later

/* netlink.c - rtnetlink queries on the host, configuration in the namespace
 *
 * Theory of operation: passt and pasta mirror the host's configuration, so
 * at start-up they ask the kernel, over rtnetlink (NETLINK_ROUTE, see
 * rtnetlink(7) and netlink(7)), for the interface carrying the default
 * route, its gateway, addresses, MAC address and MTU. pasta with
 * --config-net then writes addresses, a default route, MAC, MTU and link
 * state into the target namespace. No library: requests are built by hand.
 *
 * Following the host (follow.c), the same queries run again, confined, from
 * the timer: interface, address and gateway on nl_sock, interface names and
 * indices through RTM_GETLINK (if_nametoindex() and friends need ioctl()),
 * every address of the host for flows bound to one that went away; and
 * pasta_ns_update() adds and removes addresses and routes on nl_sock_ns.
 * Both sockets stay open for the whole life of the process. Addresses and
 * routes travel as struct nl_entry, in bounded sets (NL_SET_MAX) that pasta
 * compares to know what to add and what to remove.
 *
 * Two sockets: nl_sock lives in the init namespace, nl_sock_ns in the target
 * one. A netlink socket stays bound to the namespace it was created in, so
 * nl_sock_ns is opened by an ns_call() child that joins the namespace and
 * leaves the descriptor in our (shared) table.
 *
 * Every request is synchronous: one static request buffer, a fresh sequence
 * number, then we read replies into one static NL_BUF_SIZE buffer until the
 * request's NLMSG_ERROR (the ACK: error 0, or -errno) or, for dumps, its
 * NLMSG_DONE. Replies with another sequence number (leftovers of an earlier
 * request) or not sent by the kernel (port id 0) are ignored. Each receive
 * is bounded by NL_RECV_TIMEOUT_S and the number of datagrams per request by
 * NL_RECV_MAX, so a silent or endless peer can't hang us.
 *
 * Replies are treated as untrusted input all the same: every message and
 * attribute length is checked against the bytes received before it is
 * used, and values are copied out with memcpy(), never dereferenced in
 * place. Malformed messages are skipped, truncated datagrams fail the
 * request with -EMSGSIZE.
 */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/if_addr.h>
#include <linux/ip.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "util.h"
#include "log.h"
#include "netlink.h"

/* Receive buffer: the kernel sizes dump datagrams to at most 32 KiB (and
 * usually to the page size), so 64 KiB holds any datagram with room to spare
 */
#define NL_BUF_SIZE		(64 * 1024)

/* Request buffer: the largest request is a header, a fixed struct and two
 * 16-byte addresses plus a few 4-byte attributes
 */
#define NL_REQ_SIZE		512

/* Datagrams read for one request: a dump of ~100-byte routes at 16 KiB per
 * datagram, this covers well over a million routes
 */
#define NL_RECV_MAX		16384

/* The kernel answers within microseconds: a second means it won't */
#define NL_RECV_TIMEOUT_S	1

/* Metric of an IPv6 route added without one (IP6_RT_PRIO_USER: its header
 * clashes with netinet/in.h)
 */
#define NL_RT6_PRIO_DEFAULT	1024

int nl_sock = -1;
int nl_sock_ns = -1;

static uint32_t nl_seq;

static union {
	struct nlmsghdr nh;
	char b[NL_BUF_SIZE];
} nl_rx;

static union {
	struct nlmsghdr nh;
	char b[NL_REQ_SIZE];
} nl_req;

/**
 * struct nl_ns_arg - Argument and result for nl_sock_init_ns() in a child
 * @c:		Execution context
 * @fd:		Socket created in the target namespace, -1 on failure
 * @err:	errno value on failure
 * @what:	Step that failed
 */
static struct nl_ns_arg {
	const struct ctx *c;
	int fd;
	int err;
	const char *what;
} nl_ns_arg;

/**
 * nl_sock_open() - Open and bind a NETLINK_ROUTE socket in this namespace
 * @what:	Set to the step that failed, on failure
 *
 * Return: socket, or -errno on failure
 */
static int nl_sock_open(const char **what)
{
	struct timeval tv = { .tv_sec = NL_RECV_TIMEOUT_S, .tv_usec = 0 };
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
	int s, ret;

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0) {
		*what = "socket";
		return -errno;
	}

	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		*what = "SO_RCVTIMEO";
		goto fail;
	}

	/* nl_pid 0: the kernel picks our port id */
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr))) {
		*what = "bind";
		goto fail;
	}

	return s;

fail:
	ret = -errno;
	close(s);
	return ret;
}

/**
 * nl_sock_init_ns() - Open the netlink socket in the target namespace
 * @arg:	struct nl_ns_arg, shared with the parent
 *
 * Runs in an ns_call() child: it must not exit through die(), the parent
 * reports errors.
 *
 * Return: 0 on success, 1 on failure (details in @arg)
 */
static int nl_sock_init_ns(void *arg)
{
	struct nl_ns_arg *a = (struct nl_ns_arg *)arg;
	int ret;

	ret = ns_enter(a->c);
	if (ret) {
		a->err = -ret;
		a->what = "setns";
		return 1;
	}

	ret = nl_sock_open(&a->what);
	if (ret < 0) {
		a->err = -ret;
		return 1;
	}

	a->fd = ret;
	return 0;
}

/**
 * nl_sock_init() - Open the netlink socket for one side, die() on failure
 * @c:		Execution context
 * @ns:		0: nl_sock in the init namespace, 1: nl_sock_ns in the
 *		target namespace (c->pasta_netns_fd)
 */
void nl_sock_init(const struct ctx *c, int ns)
{
	const char *what = "socket";
	int ret;

	if (!ns) {
		ret = nl_sock_open(&what);
		if (ret < 0)
			die("Failed to open netlink socket (%s): %s",
			    what, strerror(-ret));
		nl_sock = ret;
		return;
	}

	nl_ns_arg.c = c;
	nl_ns_arg.fd = -1;
	nl_ns_arg.err = EIO;
	nl_ns_arg.what = "child";

	ret = ns_call(nl_sock_init_ns, &nl_ns_arg);
	if (ret < 0)
		die("Failed to open netlink socket in namespace: "
		    "can't run child: %s", strerror(-ret));
	if (ret || nl_ns_arg.fd < 0)
		die("Failed to open netlink socket in namespace (%s): %s",
		    nl_ns_arg.what, strerror(nl_ns_arg.err));

	nl_sock_ns = nl_ns_arg.fd;
}

/**
 * nl_req_init() - Start a request in nl_req, with its fixed header
 * @type:	Message type (RTM_*)
 * @flags:	Flags besides NLM_F_REQUEST
 * @hdr:	Fixed family header (rtmsg, ifaddrmsg, ifinfomsg)
 * @hdr_len:	Its size
 */
static void nl_req_init(uint16_t type, uint16_t flags,
			const void *hdr, size_t hdr_len)
{
	memset(&nl_req, 0, sizeof(nl_req));
	nl_req.nh.nlmsg_len = NLMSG_LENGTH(hdr_len);
	nl_req.nh.nlmsg_type = type;
	nl_req.nh.nlmsg_flags = NLM_F_REQUEST | flags;
	nl_req.nh.nlmsg_seq = ++nl_seq;
	memcpy(NLMSG_DATA(&nl_req.nh), hdr, hdr_len);
}

/**
 * nl_req_attr() - Append an attribute to the request in nl_req
 * @type:	Attribute type
 * @data:	Payload
 * @len:	Payload length
 *
 * Return: 0 on success, -ENOBUFS if it doesn't fit (a bug: sizes are fixed)
 */
static int nl_req_attr(uint16_t type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(nl_req.nh.nlmsg_len);
	struct rtattr rta;

	if (off > sizeof(nl_req) || RTA_SPACE(len) > sizeof(nl_req) - off) {
		err("netlink: request attribute %u doesn't fit", type);
		return -ENOBUFS;
	}

	rta.rta_type = type;
	rta.rta_len = RTA_LENGTH(len);
	memcpy(nl_req.b + off, &rta, sizeof(rta));
	memcpy(nl_req.b + off + RTA_LENGTH(0), data, len);
	nl_req.nh.nlmsg_len = off + RTA_SPACE(len);

	return 0;
}

/**
 * nl_attr_next() - Read the next attribute of a list, checking it fits
 * @p:		Cursor into the list, advanced past the attribute
 * @left:	Bytes left from @p, updated
 * @type:	Attribute type, set on success (flag bits masked out)
 * @data:	Payload, set on success
 * @len:	Payload length, set on success
 *
 * Return: 1 if an attribute was read, 0 at the end or on a malformed one
 */
static int nl_attr_next(const char **p, size_t *left, unsigned int *type,
			const char **data, size_t *len)
{
	struct rtattr rta;
	size_t step;

	if (*left < sizeof(rta))
		return 0;

	memcpy(&rta, *p, sizeof(rta));
	if (rta.rta_len < RTA_LENGTH(0) || rta.rta_len > *left)
		return 0;

	*type = rta.rta_type & NLA_TYPE_MASK;
	*data = *p + RTA_LENGTH(0);
	*len = rta.rta_len - RTA_LENGTH(0);

	step = MIN((size_t)RTA_ALIGN(rta.rta_len), *left);
	*p += step;
	*left -= step;

	return 1;
}

/**
 * nl_attrs() - Find the attribute list of a message after its fixed header
 * @nh:		Message, whose nlmsg_len was checked against the datagram
 * @hdr_len:	Size of the fixed header after struct nlmsghdr
 * @left:	Length of the attribute list, set on success
 *
 * Return: start of the attribute list, NULL if the message is too short
 *	   for its fixed header
 */
static const char *nl_attrs(const struct nlmsghdr *nh, size_t hdr_len,
			    size_t *left)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(hdr_len);

	if (nh->nlmsg_len < NLMSG_HDRLEN + hdr_len)
		return NULL;

	*left = nh->nlmsg_len > off ? nh->nlmsg_len - off : 0;
	return (const char *)nh + MIN(off, (size_t)nh->nlmsg_len);
}

/**
 * nl_get_u32() - Read a 32-bit attribute in host order
 * @data:	Payload
 * @len:	Payload length, must be exactly 4
 * @v:		Value, set on success
 *
 * Return: 0 on success, -1 on a wrong length
 */
static int nl_get_u32(const char *data, size_t len, uint32_t *v)
{
	if (len != sizeof(*v))
		return -1;

	memcpy(v, data, sizeof(*v));
	return 0;
}

/**
 * nl_af_len() - Address length for a family
 * @af:		AF_INET or AF_INET6
 *
 * Return: 4, 16, or 0 for any other family
 */
static size_t nl_af_len(sa_family_t af)
{
	if (af == AF_INET)
		return sizeof(struct in_addr);
	if (af == AF_INET6)
		return sizeof(struct in6_addr);
	return 0;
}

typedef void (*nl_cb_t)(const struct nlmsghdr *nh, void *arg);

/**
 * nl_do() - Send the request in nl_req, read replies until ACK or DONE
 * @s:		Netlink socket
 * @cb:		Called for each reply to this request other than ACK/DONE,
 *		with nlmsg_len already checked; may be NULL
 * @arg:	Argument for @cb
 *
 * Following the host (follow.c, pasta_ns_update()), this runs at run time,
 * confined, from the timer.
 *
 * Return: 0 on success, -errno from the kernel's ACK, or a local -errno
 */
/* #syscalls: sendto recvfrom */
static int nl_do(int s, nl_cb_t cb, void *arg)
{
	uint32_t seq = nl_req.nh.nlmsg_seq;
	int truncated = 0;
	unsigned int i;
	ssize_t n;

	if (s < 0)
		return -EBADF;

	do
		n = send(s, nl_req.b, nl_req.nh.nlmsg_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != nl_req.nh.nlmsg_len)
		return -EIO;

	for (i = 0; i < NL_RECV_MAX; i++) {
		struct sockaddr_nl from = { .nl_family = AF_UNSPEC };
		socklen_t fromlen = sizeof(from);
		const char *p = nl_rx.b;
		size_t left;

		n = recvfrom(s, nl_rx.b, sizeof(nl_rx), MSG_TRUNC,
			     (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;
			return -errno;
		}

		/* Only the kernel (port id 0) may answer us */
		if (fromlen < sizeof(from) || from.nl_family != AF_NETLINK ||
		    from.nl_pid != 0)
			continue;

		left = (size_t)n;
		if (left > sizeof(nl_rx)) {
			/* Messages past the end are lost: keep reading to
			 * the end of the request, then fail it
			 */
			warn("netlink: truncated reply (%zu bytes)", left);
			truncated = 1;
			left = sizeof(nl_rx);
		}

		while (left >= sizeof(struct nlmsghdr)) {
			const struct nlmsghdr *nh;
			size_t step;

			nh = (const struct nlmsghdr *)p;
			if (nh->nlmsg_len < sizeof(*nh) ||
			    nh->nlmsg_len > left)
				break;	/* malformed: drop the rest */

			step = MIN((size_t)NLMSG_ALIGN(nh->nlmsg_len), left);
			p += step;
			left -= step;

			if (nh->nlmsg_seq != seq)
				continue;

			if (nh->nlmsg_type == NLMSG_DONE)
				return truncated ? -EMSGSIZE : 0;

			if (nh->nlmsg_type == NLMSG_ERROR) {
				int e;

				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(e)))
					return -EPROTO;
				memcpy(&e, NLMSG_DATA(nh), sizeof(e));
				if (e > 0 || e < -4095)
					return -EPROTO;
				if (!e && truncated)
					return -EMSGSIZE;
				return e;
			}

			if (cb && !truncated)
				cb(nh, arg);
		}
	}

	return -ETIMEDOUT;
}

/**
 * struct nl_route_q - Query for, and result of, a default route search
 * @af:		Address family
 * @ifi:	Output interface to match, 0 for any
 * @need_gw:	Skip routes without a gateway
 * @found:	A matching route was found
 * @oif:	Its output interface
 * @gw:		Its gateway, if @has_gw
 * @has_gw:	@gw is set
 */
struct nl_route_q {
	sa_family_t af;
	unsigned int ifi;
	int need_gw;
	int found;
	unsigned int oif;
	unsigned char gw[sizeof(struct in6_addr)];
	int has_gw;
};

/**
 * nl_route_nexthops() - Pick a nexthop of RTA_MULTIPATH matching a query
 * @q:		Query, result filled on a match
 * @p:		RTA_MULTIPATH payload: struct rtnexthop, each with attributes
 * @left:	Payload length
 */
static void nl_route_nexthops(struct nl_route_q *q, const char *p,
			      size_t left)
{
	size_t alen = nl_af_len(q->af);

	while (left >= sizeof(struct rtnexthop)) {
		int has_gw = 0, ifindex;
		struct rtnexthop nhop;
		const char *attr;
		size_t aleft, step;

		memcpy(&nhop, p, sizeof(nhop));
		if (nhop.rtnh_len < sizeof(nhop) || nhop.rtnh_len > left)
			return;

		attr = p + RTNH_ALIGN(sizeof(nhop));
		aleft = nhop.rtnh_len > RTNH_ALIGN(sizeof(nhop)) ?
			nhop.rtnh_len - RTNH_ALIGN(sizeof(nhop)) : 0;
		ifindex = nhop.rtnh_ifindex;

		step = MIN((size_t)RTNH_ALIGN(nhop.rtnh_len), left);
		p += step;
		left -= step;

		if (ifindex <= 0 || (q->ifi && (unsigned int)ifindex != q->ifi))
			continue;

		for (;;) {
			unsigned int type;
			const char *data;
			size_t len;

			if (!nl_attr_next(&attr, &aleft, &type, &data, &len))
				break;
			if (type == RTA_GATEWAY && len == alen) {
				memcpy(q->gw, data, alen);
				has_gw = 1;
			}
		}

		if (q->need_gw && !has_gw)
			continue;

		q->oif = (unsigned int)ifindex;
		q->has_gw = has_gw;
		q->found = 1;
		return;
	}
}

/**
 * struct nl_route_attrs - Attributes of a route message we look at
 * @table:	Routing table (RTA_TABLE, or rtm_table)
 * @oif:	Output interface, 0 if none
 * @prio:	Metric, 0 if none
 * @dst:	Destination, NULL for a default route
 * @gw:		Gateway, NULL if none
 * @mp:		Nexthops of a multipath route, NULL if none
 * @mp_len:	Their length
 */
struct nl_route_attrs {
	uint32_t table, oif, prio;
	const char *dst, *gw, *mp;
	size_t mp_len;
};

/**
 * nl_route_parse() - Read a route message of family @af
 * @nh:		RTM_NEWROUTE message, whose length was checked
 * @af:		Address family asked for
 * @rtm:	Its fixed header, set on success
 * @r:		Its attributes, set on success
 *
 * Return: 0 on success, -1 for another family or message type, or a
 *	   malformed attribute
 */
static int nl_route_parse(const struct nlmsghdr *nh, sa_family_t af,
			  struct rtmsg *rtm, struct nl_route_attrs *r)
{
	size_t left, alen = nl_af_len(af);
	const char *p;

	if (nh->nlmsg_type != RTM_NEWROUTE)
		return -1;
	p = nl_attrs(nh, sizeof(*rtm), &left);
	if (!p)
		return -1;
	memcpy(rtm, NLMSG_DATA(nh), sizeof(*rtm));
	if (rtm->rtm_family != af)
		return -1;

	memset(r, 0, sizeof(*r));
	r->table = rtm->rtm_table;
	for (;;) {
		unsigned int type;
		const char *data;
		size_t len;

		if (!nl_attr_next(&p, &left, &type, &data, &len))
			break;

		switch (type) {
		case RTA_TABLE:		/* ids > 255: rtm_table is COMPAT */
			if (nl_get_u32(data, len, &r->table))
				return -1;
			break;
		case RTA_OIF:
			if (nl_get_u32(data, len, &r->oif))
				return -1;
			break;
		case RTA_PRIORITY:
			if (nl_get_u32(data, len, &r->prio))
				return -1;
			break;
		case RTA_DST:
			if (len != alen)
				return -1;
			r->dst = data;
			break;
		case RTA_GATEWAY:
			if (len != alen)
				return -1;
			r->gw = data;
			break;
		case RTA_MULTIPATH:
			r->mp = data;
			r->mp_len = len;
			break;
		default:
			break;
		}
	}

	return 0;
}

/**
 * nl_route_cb() - Check one RTM_NEWROUTE reply against a default route query
 * @nh:		Message
 * @arg:	struct nl_route_q
 */
static void nl_route_cb(const struct nlmsghdr *nh, void *arg)
{
	struct nl_route_q *q = (struct nl_route_q *)arg;
	struct nl_route_attrs r;
	struct rtmsg rtm;

	if (q->found || nl_route_parse(nh, q->af, &rtm, &r))
		return;

	if (rtm.rtm_dst_len || rtm.rtm_type != RTN_UNICAST ||
	    r.table != RT_TABLE_MAIN)
		return;

	if (r.mp) {
		nl_route_nexthops(q, r.mp, r.mp_len);
		return;
	}

	if (!r.oif || r.oif > INT_MAX || (q->ifi && r.oif != q->ifi))
		return;
	if (q->need_gw && !r.gw)
		return;

	q->oif = r.oif;
	q->has_gw = !!r.gw;
	if (r.gw)
		memcpy(q->gw, r.gw, nl_af_len(q->af));
	q->found = 1;
}

/**
 * nl_route_dump() - Search the main table for a default route
 * @s:		Netlink socket
 * @q:		Query, result filled on success
 *
 * Return: 0 if the dump completed (check q->found), -errno otherwise
 */
static int nl_route_dump(int s, struct nl_route_q *q)
{
	struct rtmsg rtm = { .rtm_family = q->af };

	if (!nl_af_len(q->af))
		return -EAFNOSUPPORT;

	nl_req_init(RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));
	return nl_do(s, nl_route_cb, q);
}

/**
 * struct nl_routed_q - Interfaces with usable routes, for nl_get_ext_if()
 * @af:		Address family
 * @oif:	First interface seen, 0 if none
 * @many:	Routes through more than one interface
 */
struct nl_routed_q {
	sa_family_t af;
	unsigned int oif;
	int many;
};

/**
 * nl_routed_cb() - Note the interface of a usable route
 * @nh:		Message
 * @arg:	struct nl_routed_q
 *
 * Usable: a unicast route of the main table via an interface other than
 * loopback, and for IPv6 not to a link-local or multicast destination
 * (every interface has those).
 */
static void nl_routed_cb(const struct nlmsghdr *nh, void *arg)
{
	struct nl_routed_q *q = (struct nl_routed_q *)arg;
	struct nl_route_attrs r;
	struct rtmsg rtm;

	if (nl_route_parse(nh, q->af, &rtm, &r) ||
	    rtm.rtm_type != RTN_UNICAST || r.table != RT_TABLE_MAIN ||
	    !r.oif || r.oif > INT_MAX || r.oif == LOOPBACK_IFI)
		return;

	if (q->af == AF_INET6 && r.dst && rtm.rtm_dst_len >= 8 &&
	    ((unsigned char)r.dst[0] == 0xff ||
	     ((unsigned char)r.dst[0] == 0xfe &&
	      ((unsigned char)r.dst[1] & 0xc0) == 0x80)))
		return;

	if (!q->oif)
		q->oif = r.oif;
	else if (q->oif != r.oif)
		q->many = 1;
}

/**
 * nl_get_ext_if() - Interface to take the configuration from
 * @s:		Netlink socket
 * @af:		Address family
 *
 * Man page, -a and -g: the interface of the first default route in the
 * main table or, without default routes, the only interface with any route.
 *
 * Return: interface index (of the first nexthop, for multipath), 0 if none
 */
unsigned int nl_get_ext_if(int s, sa_family_t af)
{
	struct nl_routed_q rq = { .af = af };
	struct nl_route_q q = { .af = af };
	struct rtmsg rtm = { .rtm_family = af };
	int ret;

	ret = nl_route_dump(s, &q);
	if (ret) {
		warn("netlink: route dump failed: %s", strerror(-ret));
		return 0;
	}
	if (q.found)
		return q.oif;

	nl_req_init(RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));
	if (nl_do(s, nl_routed_cb, &rq) || rq.many)
		return 0;

	return rq.oif;
}

/**
 * nl_route_get_def() - Gateway of the default route via an interface
 * @s:		Netlink socket
 * @ifi:	Interface index
 * @af:		Address family
 * @gw:		Gateway, struct in_addr or struct in6_addr, set on success
 *
 * Return: 0 on success, -ENOENT if there's no such route, -errno on failure
 */
int nl_route_get_def(int s, unsigned int ifi, sa_family_t af, void *gw)
{
	struct nl_route_q q = { .af = af, .ifi = ifi, .need_gw = 1 };
	int ret;

	ret = nl_route_dump(s, &q);
	if (ret)
		return ret;
	if (!q.found || !q.has_gw)
		return -ENOENT;

	memcpy(gw, q.gw, nl_af_len(af));
	return 0;
}

/**
 * nl_route_req() - Add or delete a unicast route in the main table
 * @s:		Netlink socket
 * @type:	RTM_NEWROUTE or RTM_DELROUTE
 * @flags:	Request flags besides NLM_F_REQUEST and NLM_F_ACK
 * @ifi:	Output interface
 * @af:		Address family
 * @r:		Route: destination, prefix length, gateway, metric
 *
 * Our routes are RTPROT_BOOT, as "ip route add" makes them, with the scope
 * it picks: link without gateway, universe with one. A deletion names the
 * same protocol and scope, so that it can't hit the route that replaced it
 * (IPv4 takes a deletion without gateway for any route to the prefix).
 *
 * Return: 0 on success, -errno from the kernel or a local one
 */
static int nl_route_req(int s, uint16_t type, uint16_t flags, unsigned int ifi,
			sa_family_t af, const struct nl_entry *r)
{
	struct rtmsg rtm = {
		.rtm_flags	= r->onlink ? RTNH_F_ONLINK : 0,
		.rtm_family	= af,
		.rtm_dst_len	= (unsigned char)r->plen,
		.rtm_table	= RT_TABLE_MAIN,
		.rtm_protocol	= RTPROT_BOOT,
		.rtm_scope	= r->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
		.rtm_type	= RTN_UNICAST,
	};
	size_t alen = nl_af_len(af);
	uint32_t oif = ifi;
	int ret;

	if (!alen)
		return -EAFNOSUPPORT;
	if (r->plen < 0 || (size_t)r->plen > alen * 8)
		return -EINVAL;

	nl_req_init(type, NLM_F_ACK | flags, &rtm, sizeof(rtm));
	if ((ret = nl_req_attr(RTA_OIF, &oif, sizeof(oif))) ||
	    (r->plen && (ret = nl_req_attr(RTA_DST, r->a, alen))) ||
	    (r->has_gw && (ret = nl_req_attr(RTA_GATEWAY, r->gw, alen))) ||
	    (r->prio && (ret = nl_req_attr(RTA_PRIORITY, &r->prio,
					   sizeof(r->prio)))))
		return ret;

	return nl_do(s, NULL, NULL);
}

/**
 * nl_route_add() - Add a unicast route in the main table
 * @s:		Netlink socket
 * @ifi:	Output interface
 * @af:		Address family
 * @r:		Route; with @r->onlink, the gateway is reachable on the link
 *		although it's outside every prefix there (RTNH_F_ONLINK)
 * @replace:	Replace a route to the same destination with the same metric
 *		(NLM_F_REPLACE) instead of failing
 *
 * Return: 0 on success, -EEXIST if the route exists (only without
 *	   @replace), -errno on failure
 */
int nl_route_add(int s, unsigned int ifi, sa_family_t af,
		 const struct nl_entry *r, int replace)
{
	return nl_route_req(s, RTM_NEWROUTE, NLM_F_CREATE |
			    (replace ? NLM_F_REPLACE : NLM_F_EXCL), ifi, af, r);
}

/**
 * nl_route_del() - Delete a route added by nl_route_add()
 * @s:		Netlink socket
 * @ifi:	Output interface
 * @af:		Address family
 * @r:		Route, as given to nl_route_add()
 *
 * Return: 0 on success, -ESRCH if there's no such route, -errno on failure
 */
int nl_route_del(int s, unsigned int ifi, sa_family_t af,
		 const struct nl_entry *r)
{
	return nl_route_req(s, RTM_DELROUTE, 0, ifi, af, r);
}

/**
 * struct nl_addr_attrs - What we read from an address message
 * @ifa:	Fixed header
 * @a:		Our address: IFA_LOCAL, else IFA_ADDRESS (with a peer,
 *		IFA_ADDRESS is the peer)
 * @flags:	IFA_FLAGS (all 32 bits), else ifa_flags (8 bits)
 */
struct nl_addr_attrs {
	struct ifaddrmsg ifa;
	const char *a;
	uint32_t flags;
};

/**
 * nl_addr_parse() - Read an address message of family @af
 * @nh:		Message, whose length was checked
 * @af:		Address family asked for
 * @r:		Fixed header, address and flags, set on success
 *
 * The one reader of RTM_NEWADDR: address queries, copies and lists.
 *
 * Return: 0 on success, -1 for another message type or family, a message
 *	   without address, or a malformed attribute
 */
static int nl_addr_parse(const struct nlmsghdr *nh, sa_family_t af,
			 struct nl_addr_attrs *r)
{
	const char *p, *local = NULL, *address = NULL;
	size_t left, alen = nl_af_len(af);

	if (nh->nlmsg_type != RTM_NEWADDR || !alen)
		return -1;
	p = nl_attrs(nh, sizeof(r->ifa), &left);
	if (!p)
		return -1;
	memcpy(&r->ifa, NLMSG_DATA(nh), sizeof(r->ifa));
	if (r->ifa.ifa_family != af)
		return -1;

	r->flags = r->ifa.ifa_flags;
	for (;;) {
		unsigned int type;
		const char *data;
		size_t len;

		if (!nl_attr_next(&p, &left, &type, &data, &len))
			break;

		switch (type) {
		case IFA_FLAGS:
			if (nl_get_u32(data, len, &r->flags))
				return -1;
			break;
		case IFA_LOCAL:
			if (len != alen)
				return -1;
			local = data;
			break;
		case IFA_ADDRESS:
			if (len != alen)
				return -1;
			address = data;
			break;
		default:
			break;
		}
	}

	r->a = local ? local : address;
	return r->a ? 0 : -1;
}

/**
 * struct nl_addr_q - Query for, and result of, an address search
 * @af:		Address family
 * @ifi:	Interface index
 * @addr:	First global, usable address
 * @prefix_len:	Its prefix length
 * @found:	@addr is set
 * @addr_ll:	First link-local address (IPv6)
 * @found_ll:	@addr_ll is set
 */
struct nl_addr_q {
	sa_family_t af;
	unsigned int ifi;
	unsigned char addr[sizeof(struct in6_addr)];
	int prefix_len;
	int found;
	unsigned char addr_ll[sizeof(struct in6_addr)];
	int found_ll;
};

/**
 * nl_addr_cb() - Check one RTM_NEWADDR reply against an address query
 * @nh:		Message
 * @arg:	struct nl_addr_q
 */
static void nl_addr_cb(const struct nlmsghdr *nh, void *arg)
{
	struct nl_addr_q *q = (struct nl_addr_q *)arg;
	size_t alen = nl_af_len(q->af);
	struct nl_addr_attrs r;

	if (nl_addr_parse(nh, q->af, &r) || r.ifa.ifa_index != q->ifi)
		return;

	if (r.ifa.ifa_scope == RT_SCOPE_LINK && q->af == AF_INET6) {
		if (!q->found_ll) {
			memcpy(q->addr_ll, r.a, alen);
			q->found_ll = 1;
		}
		return;
	}

	if (r.ifa.ifa_scope != RT_SCOPE_UNIVERSE || q->found)
		return;
	if (r.flags & (IFA_F_DEPRECATED | IFA_F_DADFAILED))
		return;

	memcpy(q->addr, r.a, alen);
	q->prefix_len = r.ifa.ifa_prefixlen;
	q->found = 1;
}

/**
 * nl_addr_get() - First global address of an interface, and link-local one
 * @s:		Netlink socket
 * @ifi:	Interface index
 * @af:		Address family
 * @addr:	Global address (struct in_addr or in6_addr), set if found; may
 *		be NULL if only @addr_ll is wanted
 * @prefix_len:	Its prefix length, set if found, may be NULL
 * @addr_ll:	IPv6 only: first link-local address, set if found, may be
 *		NULL
 *
 * IPv4 takes IFA_LOCAL over IFA_ADDRESS (they differ for peer addresses);
 * deprecated addresses, and ones that failed duplicate address detection,
 * are skipped for @addr.
 *
 * Return: 0 if @addr (or, with @addr NULL, @addr_ll) was found, -ENOENT if
 *	   not, -errno on failure
 */
int nl_addr_get(int s, unsigned int ifi, sa_family_t af,
		void *addr, int *prefix_len, void *addr_ll)
{
	struct nl_addr_q q = { .af = af, .ifi = ifi };
	struct ifaddrmsg ifa = { .ifa_family = af };
	size_t alen = nl_af_len(af);
	int ret;

	if (!alen)
		return -EAFNOSUPPORT;

	nl_req_init(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
	ret = nl_do(s, nl_addr_cb, &q);
	if (ret)
		return ret;

	if (addr_ll && q.found_ll)
		memcpy(addr_ll, q.addr_ll, alen);

	if (!addr)
		return q.found_ll ? 0 : -ENOENT;

	if (!q.found)
		return -ENOENT;

	memcpy(addr, q.addr, alen);
	if (prefix_len)
		*prefix_len = q.prefix_len;

	return 0;
}

/**
 * nl_addr_req() - Add or delete an address
 * @s:		Netlink socket
 * @type:	RTM_NEWADDR or RTM_DELADDR
 * @flags:	Request flags besides NLM_F_REQUEST and NLM_F_ACK
 * @ifi:	Interface index
 * @af:		Address family
 * @e:		Address and prefix length
 *
 * Return: 0 on success, -errno from the kernel or a local one
 */
static int nl_addr_req(int s, uint16_t type, uint16_t flags, unsigned int ifi,
		       sa_family_t af, const struct nl_entry *e)
{
	struct ifaddrmsg ifa = {
		.ifa_family	= af,
		.ifa_prefixlen	= (unsigned char)e->plen,
		.ifa_scope	= RT_SCOPE_UNIVERSE,
		.ifa_index	= ifi,
	};
	size_t alen = nl_af_len(af);
	uint32_t aflags = 0;
	int ret;

	if (!alen)
		return -EAFNOSUPPORT;
	if (e->plen < 0 || (size_t)e->plen > alen * 8)
		return -EINVAL;

	/* The namespace gets the host's own address: duplicate address
	 * detection (RFC 4862 5.4) would only delay it, or fail it, if the
	 * host answers
	 */
	if (af == AF_INET6 && type == RTM_NEWADDR) {
		aflags = IFA_F_NODAD;
		ifa.ifa_flags = IFA_F_NODAD;
	}

	nl_req_init(type, NLM_F_ACK | flags, &ifa, sizeof(ifa));
	if ((ret = nl_req_attr(IFA_LOCAL, e->a, alen)) ||
	    (ret = nl_req_attr(IFA_ADDRESS, e->a, alen)))
		return ret;
	if (aflags && (ret = nl_req_attr(IFA_FLAGS, &aflags, sizeof(aflags))))
		return ret;

	return nl_do(s, NULL, NULL);
}

/**
 * nl_addr_add() - Add an address to an interface
 * @s:		Netlink socket
 * @ifi:	Interface index
 * @af:		Address family
 * @e:		Address and prefix length
 *
 * Return: 0 on success, -EEXIST if the address is there already (for IPv6:
 *	   with any prefix length), -errno on failure
 */
int nl_addr_add(int s, unsigned int ifi, sa_family_t af,
		const struct nl_entry *e)
{
	return nl_addr_req(s, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
			   ifi, af, e);
}

/**
 * nl_addr_del() - Remove an address from an interface
 * @s:		Netlink socket
 * @ifi:	Interface index
 * @af:		Address family
 * @e:		Address and prefix length
 *
 * Return: 0 on success, -EADDRNOTAVAIL if it's not there, -errno on failure
 */
int nl_addr_del(int s, unsigned int ifi, sa_family_t af,
		const struct nl_entry *e)
{
	return nl_addr_req(s, RTM_DELADDR, 0, ifi, af, e);
}

/**
 * struct nl_link_q - Query for, and result of, a link lookup
 * @ifi:	Interface index, 0 to look up @name
 * @found:	A link matched: @ifi is set
 * @name:	IFLA_IFNAME, NUL-terminated, if @has_name
 * @has_name:	@name is set
 * @mac:	IFLA_ADDRESS, if @has_mac
 * @has_mac:	@mac is set
 * @mtu:	IFLA_MTU, if @has_mtu
 * @has_mtu:	@mtu is set
 */
struct nl_link_q {
	unsigned int ifi;
	int found;
	char name[IFNAMSIZ];
	int has_name;
	unsigned char mac[6];
	int has_mac;
	uint32_t mtu;
	int has_mtu;
};

/**
 * nl_link_cb() - Read index, name, MAC address and MTU of an RTM_NEWLINK
 * @nh:		Message
 * @arg:	struct nl_link_q
 */
static void nl_link_cb(const struct nlmsghdr *nh, void *arg)
{
	struct nl_link_q *q = (struct nl_link_q *)arg;
	struct ifinfomsg ifi;
	const char *p;
	size_t left;

	if (nh->nlmsg_type != RTM_NEWLINK || q->found)
		return;

	p = nl_attrs(nh, sizeof(ifi), &left);
	if (!p)
		return;
	memcpy(&ifi, NLMSG_DATA(nh), sizeof(ifi));

	/* A lookup by name gets only the link of that name back */
	if (ifi.ifi_index <= 0 ||
	    (q->ifi && (unsigned int)ifi.ifi_index != q->ifi))
		return;
	q->ifi = (unsigned int)ifi.ifi_index;
	q->found = 1;

	for (;;) {
		unsigned int type;
		const char *data;
		size_t len;

		if (!nl_attr_next(&p, &left, &type, &data, &len))
			break;

		if (type == IFLA_ADDRESS && len == sizeof(q->mac)) {
			memcpy(q->mac, data, sizeof(q->mac));
			q->has_mac = 1;
		} else if (type == IFLA_MTU && !nl_get_u32(data, len, &q->mtu)) {
			q->has_mtu = 1;
		} else if (type == IFLA_IFNAME) {
			/* NUL-terminated by the kernel: don't rely on it */
			size_t n = strnlen(data, len);

			if (n && n < sizeof(q->name)) {
				memcpy(q->name, data, n);
				q->name[n] = '\0';
				q->has_name = 1;
			}
		}
	}
}

/**
 * nl_link_get() - Look up one link, by index or, with @q->ifi 0, by name
 * @s:		Netlink socket
 * @q:		Query, results filled on success
 * @name:	Name to look up if @q->ifi is 0, NULL otherwise
 *
 * Return: 0 on success, -errno on failure (-ENODEV: no such link)
 */
static int nl_link_get(int s, struct nl_link_q *q, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	size_t len;
	int ret;

	if (q->ifi > INT_MAX || (!q->ifi && !name))
		return -ENODEV;
	ifi.ifi_index = (int)q->ifi;

	nl_req_init(RTM_GETLINK, NLM_F_ACK, &ifi, sizeof(ifi));
	if (!q->ifi) {
		len = strnlen(name, IFNAMSIZ);
		if (!len || len >= IFNAMSIZ)
			return -ENODEV;
		if ((ret = nl_req_attr(IFLA_IFNAME, name, len + 1)))
			return ret;
	}

	ret = nl_do(s, nl_link_cb, q);
	if (ret)
		return ret;

	return q->found ? 0 : -ENODEV;
}

/**
 * nl_link_get_mtu() - Get the MTU of a link
 * @s:		Netlink socket
 * @ifi:	Interface index
 *
 * Return: MTU, or -errno on failure
 */
int nl_link_get_mtu(int s, unsigned int ifi)
{
	struct nl_link_q q = { .ifi = ifi };
	int ret;

	if (!ifi)
		return -ENODEV;
	ret = nl_link_get(s, &q, NULL);
	if (ret)
		return ret;
	if (!q.has_mtu)
		return -ENOENT;

	return q.mtu > INT_MAX ? INT_MAX : (int)q.mtu;
}

/**
 * nl_link_name() - Name of an interface, through netlink (no ioctl)
 * @s:		Netlink socket
 * @ifi:	Interface index
 * @name:	Result, IFNAMSIZ bytes, NUL-terminated ("" on failure)
 *
 * if_indextoname() would need ioctl() on a socket: netlink works confined.
 *
 * Return: 0 on success, -ENODEV if there's no such interface, -errno on
 *	   failure
 */
int nl_link_name(int s, unsigned int ifi, char *name)
{
	struct nl_link_q q = { .ifi = ifi };
	int ret;

	name[0] = '\0';
	if (!ifi)
		return -ENODEV;

	ret = nl_link_get(s, &q, NULL);
	if (ret)
		return ret;
	if (!q.has_name)
		return -ENOENT;

	memcpy(name, q.name, sizeof(q.name));
	return 0;
}

/**
 * nl_link_index() - Index of an interface by name, through netlink
 * @s:		Netlink socket
 * @name:	Interface name
 *
 * if_nametoindex() would need ioctl() on a socket: netlink works confined.
 *
 * Return: interface index, 0 if there's no such interface (or on failure)
 */
unsigned int nl_link_index(int s, const char *name)
{
	struct nl_link_q q = { .ifi = 0 };

	if (nl_link_get(s, &q, name))
		return 0;

	return q.ifi;
}

/**
 * nl_link_set() - Change flags and attributes of an existing link
 * @s:		Netlink socket
 * @ifi:	Interface index
 * @flags:	Flags to set (ifi_flags)
 * @change:	Mask of flags to change (ifi_change)
 * @mac:	New MAC address (6 bytes), or NULL
 * @mtu:	New MTU, or 0 to keep it
 *
 * Return: 0 on success, -errno on failure
 */
static int nl_link_set(int s, unsigned int ifi, unsigned int flags,
		       unsigned int change, const void *mac, int mtu)
{
	struct ifinfomsg ifm = {
		.ifi_family	= AF_UNSPEC,
		.ifi_flags	= flags,
		.ifi_change	= change,
	};
	int ret;

	if (!ifi || ifi > INT_MAX)
		return -ENODEV;
	ifm.ifi_index = (int)ifi;

	/* No NLM_F_CREATE: modify the link with this index only */
	nl_req_init(RTM_NEWLINK, NLM_F_ACK, &ifm, sizeof(ifm));
	if (mac && (ret = nl_req_attr(IFLA_ADDRESS, mac, 6)))
		return ret;
	if (mtu > 0) {
		uint32_t m = (uint32_t)mtu;

		if ((ret = nl_req_attr(IFLA_MTU, &m, sizeof(m))))
			return ret;
	}

	return nl_do(s, NULL, NULL);
}

/**
 * nl_link_set_mac() - Set the MAC address of a link
 * @s:		Netlink socket
 * @ifi:	Interface index
 * @mac:	MAC address, 6 bytes
 *
 * Return: 0 on success, -errno on failure
 */
int nl_link_set_mac(int s, unsigned int ifi, const void *mac)
{
	return nl_link_set(s, ifi, 0, 0, mac, 0);
}

/**
 * nl_link_up() - Bring a link up, optionally setting its MTU
 * @s:		Netlink socket
 * @ifi:	Interface index
 * @mtu:	MTU to set, or 0 (or less) to keep it
 *
 * Return: 0 on success, -errno on failure
 */
int nl_link_up(int s, unsigned int ifi, int mtu)
{
	return nl_link_set(s, ifi, IFF_UP, IFF_UP, NULL, mtu);
}

/**
 * nl_link_set_txqlen() - Set the transmit queue length of a link
 * @s:		Netlink socket
 * @ifi:	Interface index
 * @qlen:	Queue length, in frames
 *
 * Return: 0 on success, -errno on failure
 */
int nl_link_set_txqlen(int s, unsigned int ifi, uint32_t qlen)
{
	struct ifinfomsg ifm = { .ifi_family = AF_UNSPEC };
	int ret;

	if (!ifi || ifi > INT_MAX)
		return -ENODEV;
	ifm.ifi_index = (int)ifi;

	nl_req_init(RTM_NEWLINK, NLM_F_ACK, &ifm, sizeof(ifm));
	if ((ret = nl_req_attr(IFLA_TXQLEN, &qlen, sizeof(qlen))))
		return ret;

	return nl_do(s, NULL, NULL);
}

/**
 * nl_req_nest() - Open a nested attribute in the request in nl_req
 * @type:	Attribute type
 * @off:	Its offset, set on success, for nl_req_nest_end()
 *
 * Return: 0 on success, -ENOBUFS if it doesn't fit
 */
static int nl_req_nest(uint16_t type, size_t *off)
{
	*off = NLMSG_ALIGN(nl_req.nh.nlmsg_len);
	return nl_req_attr(type, "", 0);
}

/**
 * nl_req_nest_end() - Close a nested attribute: its length covers the rest
 * @off:	Offset from nl_req_nest()
 */
static void nl_req_nest_end(size_t off)
{
	struct rtattr rta;

	memcpy(&rta, nl_req.b + off, sizeof(rta));
	rta.rta_len = (unsigned short)(nl_req.nh.nlmsg_len - off);
	memcpy(nl_req.b + off, &rta, sizeof(rta));
}

/**
 * nl_link_promote_secondaries() - Keep IPv4 addresses of a subnet when its
 *				   primary address is removed
 * @s:		Netlink socket
 * @ifi:	Interface index
 *
 * The first IPv4 address of a subnet on a link is its primary, the next
 * ones secondaries, and removing the primary removes them all unless the
 * promote_secondaries setting (ip-sysctl.rst) of the link is on. Following
 * the host, a new address in the same subnet is added before the old one
 * goes: it has to survive. Set through IFLA_AF_SPEC, as "ip link" would: no
 * /proc/sys in the namespace is needed.
 *
 * Return: 0 on success, -errno on failure
 */
int nl_link_promote_secondaries(int s, unsigned int ifi)
{
	struct ifinfomsg ifm = { .ifi_family = AF_UNSPEC };
	uint32_t on = 1;
	size_t spec, inet, conf;
	int ret;

	if (!ifi || ifi > INT_MAX)
		return -ENODEV;
	ifm.ifi_index = (int)ifi;

	nl_req_init(RTM_NEWLINK, NLM_F_ACK, &ifm, sizeof(ifm));
	if ((ret = nl_req_nest(IFLA_AF_SPEC, &spec)) ||
	    (ret = nl_req_nest(AF_INET, &inet)) ||
	    (ret = nl_req_nest(IFLA_INET_CONF, &conf)) ||
	    (ret = nl_req_attr(IPV4_DEVCONF_PROMOTE_SECONDARIES, &on,
			       sizeof(on))))
		return ret;
	nl_req_nest_end(conf);
	nl_req_nest_end(inet);
	nl_req_nest_end(spec);

	return nl_do(s, NULL, NULL);
}

/**
 * nl_entry_key() - Compare address (or destination), prefix length, metric
 * @af:		Address family
 * @x:		One address, or route
 * @y:		The other
 *
 * What identifies a route to the kernel (with table and TOS, always main and
 * 0 here): NLM_F_REPLACE replaces the route with the same key. An IPv6 route
 * added without metric gets NL_RT6_PRIO_DEFAULT.
 *
 * Return: 1 if they're the same, 0 otherwise
 */
static int nl_entry_key(sa_family_t af, const struct nl_entry *x,
			const struct nl_entry *y)
{
	uint32_t px = x->prio, py = y->prio;

	if (af == AF_INET6) {
		px = px ? px : NL_RT6_PRIO_DEFAULT;
		py = py ? py : NL_RT6_PRIO_DEFAULT;
	}

	return x->plen == y->plen && px == py &&
	       !memcmp(x->a, y->a, nl_af_len(af));
}

/**
 * nl_entry_eq() - Compare two addresses, or routes, of a family
 * @af:		Address family
 * @x:		One
 * @y:		The other
 *
 * Return: 1 if address (or destination), prefix length, gateway and metric
 *	   are the same, 0 otherwise
 */
static int nl_entry_eq(sa_family_t af, const struct nl_entry *x,
		       const struct nl_entry *y)
{
	return nl_entry_key(af, x, y) && x->has_gw == y->has_gw &&
	       (!x->has_gw || !memcmp(x->gw, y->gw, nl_af_len(af)));
}

/**
 * nl_set_init() - Empty a set of addresses or routes
 * @set:	Set
 * @af:		Address family of its entries
 */
void nl_set_init(struct nl_set *set, sa_family_t af)
{
	memset(set, 0, sizeof(*set));
	set->af = af;
}

/**
 * nl_set_has() - Look up an address or route in a set
 * @set:	Set
 * @e:		Entry, compared by nl_entry_eq()
 *
 * Return: 1 if it's there, 0 if not
 */
int nl_set_has(const struct nl_set *set, const struct nl_entry *e)
{
	int i;

	for (i = 0; i < set->n; i++) {
		if (nl_entry_eq(set->af, &set->e[i], e))
			return 1;
	}

	return 0;
}

/**
 * nl_set_has_key() - Look up a route with the same key in a set
 * @set:	Set
 * @e:		Route
 *
 * Return: 1 if @set has a route to the same destination with the same
 *	   metric (whatever the gateway), 0 if not
 */
int nl_set_has_key(const struct nl_set *set, const struct nl_entry *e)
{
	int i;

	for (i = 0; i < set->n; i++) {
		if (nl_entry_key(set->af, &set->e[i], e))
			return 1;
	}

	return 0;
}

/**
 * nl_set_put() - Add an address or route to a set, unless it's there
 * @set:	Set
 * @e:		Entry
 *
 * Return: 0 on success (also if it was there), -ENOSPC if the set is full
 *	   (counted in @set->dropped)
 */
int nl_set_put(struct nl_set *set, const struct nl_entry *e)
{
	if (nl_set_has(set, e))
		return 0;

	if (set->n >= NL_SET_MAX) {
		set->dropped++;
		return -ENOSPC;
	}

	set->e[set->n++] = *e;
	return 0;
}

/**
 * struct nl_collect - Interface and set for nl_addr_collect_cb() and
 *		       nl_route_collect_cb()
 * @ifi:	Interface entries must belong to
 * @set:	Set to add them to, with the family asked for
 * @scope:	Scope of addresses to collect
 */
struct nl_collect {
	unsigned int ifi;
	struct nl_set *set;
	unsigned char scope;
};

/**
 * nl_addr_collect_cb() - Collect an address of an interface, of one scope
 * @nh:		RTM_NEWADDR message
 * @arg:	struct nl_collect
 */
static void nl_addr_collect_cb(const struct nlmsghdr *nh, void *arg)
{
	struct nl_collect *q = (struct nl_collect *)arg;
	struct nl_entry e = { .plen = 0 };
	struct nl_addr_attrs r;

	if (nl_addr_parse(nh, q->set->af, &r) || r.ifa.ifa_index != q->ifi ||
	    r.ifa.ifa_scope != q->scope)
		return;

	/* Global ones still in duplicate address detection (or that failed
	 * it) aren't the interface's yet: link-local ones are wanted then
	 */
	if (r.flags & IFA_F_DADFAILED ||
	    (q->scope == RT_SCOPE_UNIVERSE && r.flags & IFA_F_TENTATIVE))
		return;

	memcpy(e.a, r.a, nl_af_len(q->set->af));
	e.plen = r.ifa.ifa_prefixlen;
	nl_set_put(q->set, &e);
}

/**
 * nl_addr_collect() - Add the global addresses of an interface to a set
 * @s:		Netlink socket
 * @ifi:	Interface index
 * @set:	Set, of the address family to dump
 *
 * Addresses still in duplicate address detection, or that failed it, are
 * left out: they aren't the interface's yet.
 *
 * Return: 0 on success, -errno if the dump failed
 */
int nl_addr_collect(int s, unsigned int ifi, struct nl_set *set)
{
	struct nl_collect q = { .ifi = ifi, .set = set,
				.scope = RT_SCOPE_UNIVERSE };
	struct ifaddrmsg ifa = { .ifa_family = set->af };

	if (!nl_af_len(set->af))
		return -EAFNOSUPPORT;

	nl_req_init(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
	return nl_do(s, nl_addr_collect_cb, &q);
}

/**
 * nl_addr_ll_nodad() - Skip duplicate address detection for the IPv6
 *			link-local addresses of an interface
 * @s:		Netlink socket
 * @ifi:	Interface index
 *
 * The kernel makes the link-local address when the link goes up, and keeps
 * it tentative for a second or more (RFC 4862 5.4): the namespace couldn't
 * talk to its gateway, the link-local fe80::1 in local mode, meanwhile. On
 * the tap only we answer: nobody else could have the address. The address
 * is replaced by itself, with IFA_F_NODAD, as the 2026 release does.
 *
 * Return: 0 on success, -errno on failure
 */
int nl_addr_ll_nodad(int s, unsigned int ifi)
{
	static struct nl_set ll;
	struct nl_collect q = { .ifi = ifi, .set = &ll,
				.scope = RT_SCOPE_LINK };
	struct ifaddrmsg ifa = { .ifa_family = AF_INET6 };
	int i, ret;

	nl_set_init(&ll, AF_INET6);
	nl_req_init(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
	if ((ret = nl_do(s, nl_addr_collect_cb, &q)))
		return ret;

	for (i = 0; i < ll.n; i++) {
		ret = nl_addr_req(s, RTM_NEWADDR, NLM_F_REPLACE, ifi,
				  AF_INET6, &ll.e[i]);
		if (ret)
			return ret;
	}

	return 0;
}

/**
 * nl_route_collect_cb() - Collect a unicast route of an interface
 * @nh:		RTM_NEWROUTE message
 * @arg:	struct nl_collect
 */
static void nl_route_collect_cb(const struct nlmsghdr *nh, void *arg)
{
	struct nl_collect *q = (struct nl_collect *)arg;
	sa_family_t af = q->set->af;
	struct nl_entry e = { .plen = 0 };
	size_t alen = nl_af_len(af);
	struct nl_route_attrs r;
	struct rtmsg rtm;

	if (nl_route_parse(nh, af, &rtm, &r))
		return;

	/* Routes the kernel made for addresses come back with the addresses:
	 * copy the others (static, boot, RA, DHCP...); nexthops on several
	 * links (multipath) are left out
	 */
	if (rtm.rtm_type != RTN_UNICAST || rtm.rtm_protocol == RTPROT_KERNEL ||
	    r.mp || r.table != RT_TABLE_MAIN || r.oif != q->ifi)
		return;
	if (af == AF_INET6 && r.dst &&
	    IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)(const void *)r.dst))
		return;

	if (r.dst)
		memcpy(e.a, r.dst, alen);
	e.plen = rtm.rtm_dst_len;
	if (r.gw) {
		memcpy(e.gw, r.gw, alen);
		e.has_gw = 1;
		/* "onlink" on the host: the gateway is outside the
		 * prefixes there, and will be in the namespace
		 */
		e.onlink = !!(rtm.rtm_flags & RTNH_F_ONLINK);
	}
	e.prio = r.prio;
	nl_set_put(q->set, &e);
}

/**
 * nl_route_collect() - Add the unicast routes of an interface to a set
 * @s:		Netlink socket
 * @ifi:	Interface index, output interface of the routes
 * @set:	Set, of the address family to dump
 *
 * Return: 0 on success, -errno if the dump failed
 */
int nl_route_collect(int s, unsigned int ifi, struct nl_set *set)
{
	struct rtmsg rtm = { .rtm_family = set->af };
	struct nl_collect q = { .ifi = ifi, .set = set };

	if (!nl_af_len(set->af))
		return -EAFNOSUPPORT;

	nl_req_init(RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));
	return nl_do(s, nl_route_collect_cb, &q);
}

/**
 * struct nl_addr_list_q - Result of nl_addr_list()
 * @af:		Address family
 * @addrs:	Array of struct in_addr or struct in6_addr
 * @max:	Its entries
 * @n:		Entries stored
 * @full:	Some didn't fit
 */
struct nl_addr_list_q {
	sa_family_t af;
	unsigned char *addrs;
	int max;
	int n;
	int full;
};

/**
 * nl_addr_list_cb() - Store an address, unless it's stored already
 * @nh:		RTM_NEWADDR message
 * @arg:	struct nl_addr_list_q
 */
static void nl_addr_list_cb(const struct nlmsghdr *nh, void *arg)
{
	struct nl_addr_list_q *q = (struct nl_addr_list_q *)arg;
	size_t alen = nl_af_len(q->af);
	struct nl_addr_attrs r;
	int i;

	if (nl_addr_parse(nh, q->af, &r) || (r.flags & IFA_F_DADFAILED))
		return;

	for (i = 0; i < q->n; i++) {
		if (!memcmp(q->addrs + (size_t)i * alen, r.a, alen))
			return;
	}

	if (q->n >= q->max) {
		q->full = 1;
		return;
	}
	memcpy(q->addrs + (size_t)q->n * alen, r.a, alen);
	q->n++;
}

/**
 * nl_addr_list() - Addresses of one family on every interface
 * @s:		Netlink socket
 * @af:		AF_INET or AF_INET6
 * @addrs:	Result: array of struct in_addr or struct in6_addr
 * @max:	Entries in @addrs
 *
 * Every address a socket could be bound to: any scope (loopback and
 * link-local included), tentative and deprecated ones too, each once even
 * if several interfaces have it. Only addresses that failed duplicate
 * address detection are left out: they can't be bound to.
 *
 * Return: number of addresses stored, -ENOSPC if there were more than @max
 *	   (the list is incomplete: don't conclude that an address is gone),
 *	   other negative error codes on failure
 */
int nl_addr_list(int s, sa_family_t af, void *addrs, int max)
{
	struct nl_addr_list_q q = { .af = af, .addrs = addrs, .max = max };
	struct ifaddrmsg ifa = { .ifa_family = af };
	int ret;

	if (!nl_af_len(af))
		return -EAFNOSUPPORT;
	if (max < 0)
		return -EINVAL;

	nl_req_init(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
	ret = nl_do(s, nl_addr_list_cb, &q);
	if (ret)
		return ret;

	return q.full ? -ENOSPC : q.n;
}
