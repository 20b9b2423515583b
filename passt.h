/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * passt.h - Execution context shared by every module, epoll references
 *
 * One struct ctx holds the whole configuration: conf.c fills it, the loop in
 * passt.c owns it, every other module reads it (and tap.c updates the few
 * "seen" fields that reflect what the guest actually uses).
 */

#ifndef PASST_H
#define PASST_H

#include <stdbool.h>
#include <stdint.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/types.h>
#include <sys/un.h>

#include "fwd.h"

#define VERSION			"0.1"
#ifndef PASST_VERSION			/* the Makefile gives the git version */
#define PASST_VERSION		VERSION
#endif

/* Fixed limits, each with its reason */
#define MAXNS			3	/* resolv.conf(5): MAXNS nameservers */
#define MAXDNSRCH		6	/* resolv.conf(5): search list entries */
#define DNS_NAME_MAX		256	/* RFC 1035 2.3.4: 255 octets + NUL */
/* RFC 4702 2.1: DHCP option 81 holds 3 bytes of flags and RCODEs, so at most
 * 252 bytes of name in wire format: 250 characters without a final dot
 */
#define FQDN_LEN_MAX		250
#define MTU_MAX			65520	/* 65535 minus headers, 16-aligned */
#define ETH_MIN_MTU		68	/* RFC 791: every host takes 68 */
#define IPV6_MIN_MTU		1280	/* RFC 8200 5 */
#define UNIX_SOCK_MAX		64	/* /tmp/passt_1.socket .. _64 */
#define UNIX_PATH_MAX		108	/* sizeof(sun_path) */
#define PASTA_CHILD_ARGS_MAX	128	/* Command and arguments to spawn */

/**
 * enum epoll_type - Kind of file descriptor behind an epoll reference
 */
enum epoll_type {
	EPOLL_TYPE_NONE = 0,
	EPOLL_TYPE_TAP_LISTEN,		/* passt: listening UNIX socket */
	EPOLL_TYPE_TAP_PASST,		/* passt: connected qemu socket */
	EPOLL_TYPE_TAP_PASTA,		/* pasta: tap device */
	EPOLL_TYPE_TCP,			/* TCP connected socket, tap side */
	EPOLL_TYPE_TCP_SPLICE,		/* TCP spliced socket */
	EPOLL_TYPE_TCP_LISTEN,		/* TCP listening socket */
	EPOLL_TYPE_TCP_TIMER,		/* per-connection timerfd */
	EPOLL_TYPE_UDP,			/* UDP socket */
	EPOLL_TYPE_PING,		/* ICMP/ICMPv6 ping socket */
	EPOLL_TYPE_NSQUIT_INOTIFY,	/* pasta: netns directory watch */
	EPOLL_TYPE_NSQUIT_TIMER,	/* pasta: netns liveness timer */
	EPOLL_TYPE_SIGNAL,		/* signalfd (SIGCHLD, SIGTERM, ...) */
	EPOLL_TYPE_FOLLOW_NL,		/* host rtnetlink notifications */
	EPOLL_TYPE_FOLLOW_INOTIFY,	/* resolv.conf directory watch */
	EPOLL_NUM_TYPES,
};

/**
 * union epoll_ref - Tagged reference stored as epoll data: never a pointer
 * @type:	enum epoll_type
 * @fd:		File descriptor number (fits 24 bits: see passt.c check)
 * @data:	Protocol-specific bits (connection index, port, flags...)
 * @u64:	Whole value, as given to epoll_ctl()
 */
union epoll_ref {
	struct {
		uint32_t type:8;
		int32_t fd:24;
		uint32_t data;
	};
	uint64_t u64;
};
_Static_assert(sizeof(union epoll_ref) == sizeof(uint64_t),
	       "epoll reference must fit epoll_data");

#define FD_REF_BITS		24
#define FD_REF_MAX		((1 << (FD_REF_BITS - 1)) - 1)

enum passt_modes {
	MODE_PASST,
	MODE_PASTA,
};

/* Loopback is interface 1 in every network namespace (the kernel's
 * LOOPBACK_IFINDEX)
 */
#define LOOPBACK_IFI		1

/* How local mode shows as an interface name in messages */
#define LOCAL_MODE_STR		"none (local mode)"

/**
 * struct ip4_ctx - IPv4 configuration and observed state
 * @addr:	Address assigned to the guest (DHCP yiaddr)
 * @addr_seen:	Last source address seen from the guest
 * @prefix_len:	Prefix length (DHCP option 1)
 * @gw:		Default gateway (DHCP option 3), also source for mapped
 *		local traffic
 * @dns:	Nameservers handed out, zero-terminated
 * @dns_match:	--dns-forward address, as seen by the guest (or 0)
 * @dns_host:	Host resolver that @dns_match maps to
 * @map_host_lo: --map-host-loopback address (default: @gw), or 0
 * @map_guest_addr: --map-guest-addr address, or 0
 * @addr_out:	-o/--outbound: source address for outbound sockets, or 0
 * @ifname_bind: --outbound-if4: interface outbound sockets bind to, or ""
 * @copy_addrs:	--config-net copies all addresses (no -a, --no-copy-addrs)
 * @copy_routes: --config-net copies all routes (no -g, --no-copy-routes)
 * @ifname_out:	Host interface the configuration was derived from
 * @local:	Local mode: no host interface to derive from, the guest
 *		gets 169.254.2.1/16 and the gateway 169.254.2.2
 */
struct ip4_ctx {
	struct in_addr addr;
	struct in_addr addr_seen;
	int prefix_len;
	struct in_addr gw;
	struct in_addr dns[MAXNS + 1];
	struct in_addr dns_match;
	struct in_addr dns_host;
	struct in_addr map_host_lo;
	struct in_addr map_guest_addr;
	struct in_addr addr_out;
	char ifname_bind[IFNAMSIZ];
	int copy_addrs;
	int copy_routes;
	char ifname_out[IFNAMSIZ];
	int local;
};

/**
 * struct ip6_ctx - IPv6 configuration and observed state
 * @addr:	Global address assigned (DHCPv6), prefix announced in RAs
 * @addr_seen:	Last global source address seen from the guest
 * @addr_ll:	Host's link-local address on the outbound interface
 * @addr_ll_seen: Last link-local source address seen from the guest
 * @prefix_len:	Prefix length of @addr on the host (RA prefix is /64)
 * @gw:		Default gateway on the host, source of RAs and DHCPv6
 * @dns:	Nameservers handed out, terminated by an unspecified address
 * @dns_match:	--dns-forward address, as seen by the guest (or ::)
 * @dns_host:	Host resolver that @dns_match maps to
 * @map_host_lo: --map-host-loopback address (default: @gw), or ::
 * @map_guest_addr: --map-guest-addr address, or ::
 * @addr_out:	-o/--outbound: source address for outbound sockets, or ::
 * @ifname_bind: --outbound-if6: interface outbound sockets bind to, or ""
 * @copy_addrs:	As for IPv4
 * @copy_routes: As for IPv4
 * @ifname_out:	Host interface the configuration was derived from
 * @local:	Local mode: no host interface to derive from, no global
 *		address, the gateway (and our link-local address) fe80::1
 */
struct ip6_ctx {
	struct in6_addr addr;
	struct in6_addr addr_seen;
	struct in6_addr addr_ll;
	struct in6_addr addr_ll_seen;
	int prefix_len;
	struct in6_addr gw;
	struct in6_addr dns[MAXNS + 1];
	struct in6_addr dns_match;
	struct in6_addr dns_host;
	struct in6_addr map_host_lo;
	struct in6_addr map_guest_addr;
	struct in6_addr addr_out;
	char ifname_bind[IFNAMSIZ];
	int copy_addrs;
	int copy_routes;
	char ifname_out[IFNAMSIZ];
	int local;
};

/**
 * struct fqdn - One entry of the DNS search list
 * @n:		Domain name, NUL-terminated, empty for the end of the list
 */
struct fqdn {
	char n[DNS_NAME_MAX];
};

/**
 * struct ctx - Execution context
 */
struct ctx {
	enum passt_modes mode;

	/* Logging and process handling */
	int debug;			/* -d */
	int trace;			/* --trace (implies debug) */
	int quiet;			/* -q */
	int foreground;			/* -f */
	int force_stderr;		/* -e */
	char log_file[PATH_MAX];	/* -l */
	size_t log_size;		/* --log-size */
	char pcap[PATH_MAX];		/* -p */
	char pid_file[PATH_MAX];	/* -P */
	uid_t uid;			/* --runas */
	gid_t gid;
	int one_off;			/* -1: quit when the guest goes */
	int stats_delay;		/* --stats: seconds between reports */
	int freebind;			/* --freebind: forwarded ports */
	int fd_tap_given;		/* passt -F/--fd: connected socket */
	char hostname[DNS_NAME_MAX];	/* -H: DHCP option 12 */
	char fqdn[DNS_NAME_MAX];	/* --fqdn: DHCP 81, DHCPv6 39 */
	int chroot_fallback;		/* --chroot-fallback */

	/* File descriptors owned by the loop */
	int epollfd;
	int fd_tap_listen;		/* passt: listening UNIX socket */
	int fd_tap;			/* qemu connection or tap device */

	/* passt */
	char sock_path[UNIX_PATH_MAX];	/* -s */

	/* Layer 2 */
	unsigned char mac[6];		/* -M: our address towards the guest */
	unsigned char mac_guest[6];	/* last seen guest source MAC */
	int mtu;			/* -m: 0 means no MTU option sent */

	/* Layer 3: ifi4 == 0 means IPv4 is disabled, same for IPv6 */
	unsigned int ifi4;		/* host interface index for IPv4 */
	unsigned int ifi6;		/* host interface index for IPv6 */
	struct ip4_ctx ip4;
	struct ip6_ctx ip6;
	struct fqdn dns_search[MAXDNSRCH + 1];	/* -S, terminated by "" */
	int no_dns;			/* -D none */
	int no_dns_search;		/* -S none */

	/* Services, and which nameserver/search data they hand out */
	int no_dhcp;
	int no_dhcpv6;
	int no_ndp;
	int no_ra;
	int no_dhcp_dns;		/* pasta default 1, passt default 0 */
	int no_dhcp_dns_search;		/* pasta default 1, passt default 0 */
	int no_map_gw;
	int no_follow;			/* --no-follow: host snapshot at start */

	/* Protocols */
	int no_tcp;
	int no_udp;
	int no_icmp;

	/* Port forwarding: _in is host (init) to guest/namespace,
	 * _out (pasta -T, -U) is namespace to init
	 */
	struct fwd_ports tcp_fwd_in;
	struct fwd_ports tcp_fwd_out;
	struct fwd_ports udp_fwd_in;
	struct fwd_ports udp_fwd_out;

	/* pasta */
	char pasta_ifname[IFNAMSIZ];	/* -I: tap device name in the ns */
	unsigned int pasta_ifi;		/* its index in the namespace */
	int pasta_conf_ns;		/* --config-net */
	int no_copy_routes;		/* --no-copy-routes (deprecated) */
	int no_copy_addrs;		/* --no-copy-addrs (deprecated) */
	int host_lo_to_ns_lo;		/* --host-lo-to-ns-lo */
	int no_splice;			/* --no-splice */
	int splice_only;		/* --splice-only: no tap device */
	unsigned char ns_mac[6];	/* --ns-mac-addr, zero if unset */
	int netns_only;			/* --netns-only */
	int no_netns_quit;		/* --no-netns-quit */
	char netns_dir[PATH_MAX];	/* --nsrun-dir */
	char netns_base[PATH_MAX];	/* NAME given, or file name in PATH */
	char netns_path[PATH_MAX];	/* target network namespace */
	char userns_path[PATH_MAX];	/* --userns, or of PID */
	pid_t pasta_pid;		/* PID given as target */
	int pasta_netns_fd;		/* target netns, -1 if none yet */
	int pasta_userns_fd;		/* target userns, -1 if none */
	int pasta_child_argc;		/* command to spawn, if any */
	char *pasta_child_argv[PASTA_CHILD_ARGS_MAX + 1];
	pid_t pasta_child_pid;		/* spawned command, 0 if none */
	int no_tap_offload;		/* --no-tap-offload */
};

#endif /* PASST_H */
