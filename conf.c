// SPDX-License-Identifier: AGPL-3.0-or-later

/* conf.c - Command line and host-derived configuration
 *
 * Theory of operation: conf() fills struct ctx in three steps, and does
 * nothing else (no sockets besides the netlink query socket, no protocol
 * set-up: the loop in passt.c does that afterwards).
 *
 * 1. Options, with getopt_long(3). Parsing stops at the first non-option
 *    argument ("+" in the option string), so that a command given to pasta
 *    keeps its own options. Every bad value is one line on standard error
 *    naming the option, then exit status 1. Options of the other mode are
 *    rejected, not ignored: a silently ignored -t would be a surprise.
 *
 * 2. Host-derived defaults (conf_host.c: conf_host_init()), for each IP
 *    version not disabled by -4 or -6: addresses, routes, then DNS (-D and
 *    -S, or /etc/resolv.conf). Without a host interface for an IP version,
 *    local mode. The command line state is kept: follow.c derives the
 *    configuration again, the same way, when the host changes.
 *
 * pasta's positional arguments select the target namespace (PID, PATH,
 * NAME) or the command to spawn, see conf_pasta_target().
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "conf.h"
#include "fwd.h"
#include "log.h"
#include "netlink.h"
#include "passt.h"
#include "util.h"


#define DNS_LABEL_MAX		63		/* RFC 1035 2.3.4 */
#define DNS_NAME_LEN_MAX	253		/* RFC 1035 2.3.4, as text */
#define RUNAS_NAME_MAX		256		/* LOGIN_NAME_MAX on Linux */
#define LOG_SIZE_MAX		(1024UL * 1024 * 1024)	/* 1 GiB: sanity */
#define FWD_ERR_LEN		160

/* Default source MAC towards the guest: locally administered (IEEE 802
 * U/L bit set), the same for every instance, as the man page gives it
 */
static const unsigned char conf_mac_default[6] = {
	0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55
};

/* Long options without a short equivalent */
enum {
	OPT_TRACE = 256,
	OPT_LOG_SIZE,
	OPT_VERSION,
	OPT_RUNAS,
	OPT_USERNS,
	OPT_NETNS_ONLY,
	OPT_NO_NETNS_QUIT,
	OPT_NSRUN_DIR,
	OPT_CONFIG_NET,
	OPT_NS_MAC_ADDR,
	OPT_DNS_FORWARD,
	OPT_NO_DHCP_DNS,
	OPT_DHCP_DNS,
	OPT_NO_DHCP_SEARCH,
	OPT_DHCP_SEARCH,
	OPT_NO_TCP,
	OPT_NO_UDP,
	OPT_NO_ICMP,
	OPT_NO_DHCP,
	OPT_NO_NDP,
	OPT_NO_DHCPV6,
	OPT_NO_RA,
	OPT_NO_MAP_GW,
	OPT_NO_FOLLOW,
	OPT_NETNS,
	OPT_MAP_HOST_LO,
	OPT_MAP_GUEST_ADDR,
	OPT_DNS_HOST,
	OPT_HOST_LO_TO_NS_LO,
	OPT_NO_SPLICE,
	OPT_SPLICE_ONLY,
	OPT_NO_TAP_OFFLOAD,
	OPT_NO_COPY_ROUTES,
	OPT_NO_COPY_ADDRS,
	OPT_STATS,
	OPT_OUTBOUND_IF4,
	OPT_OUTBOUND_IF6,
	OPT_FREEBIND,
	OPT_FQDN,
	OPT_PRINT_CAPS,
	OPT_CHROOT_FALLBACK,
};

static const struct option conf_options[] = {
	{ "debug",		no_argument,		NULL, 'd' },
	{ "trace",		no_argument,		NULL, OPT_TRACE },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "foreground",		no_argument,		NULL, 'f' },
	{ "stderr",		no_argument,		NULL, 'e' },
	{ "log-file",		required_argument,	NULL, 'l' },
	{ "log-size",		required_argument,	NULL, OPT_LOG_SIZE },
	{ "runas",		required_argument,	NULL, OPT_RUNAS },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, OPT_VERSION },
	{ "pcap",		required_argument,	NULL, 'p' },
	{ "pid",		required_argument,	NULL, 'P' },
	{ "mtu",		required_argument,	NULL, 'm' },
	{ "address",		required_argument,	NULL, 'a' },
	{ "netmask",		required_argument,	NULL, 'n' },
	{ "mac-addr",		required_argument,	NULL, 'M' },
	{ "gateway",		required_argument,	NULL, 'g' },
	{ "interface",		required_argument,	NULL, 'i' },
	{ "dns",		required_argument,	NULL, 'D' },
	{ "dns-forward",	required_argument,	NULL, OPT_DNS_FORWARD },
	{ "search",		required_argument,	NULL, 'S' },
	{ "no-dhcp-dns",	no_argument,		NULL, OPT_NO_DHCP_DNS },
	{ "dhcp-dns",		no_argument,		NULL, OPT_DHCP_DNS },
	{ "no-dhcp-search",	no_argument,		NULL, OPT_NO_DHCP_SEARCH },
	{ "dhcp-search",	no_argument,		NULL, OPT_DHCP_SEARCH },
	{ "no-tcp",		no_argument,		NULL, OPT_NO_TCP },
	{ "no-udp",		no_argument,		NULL, OPT_NO_UDP },
	{ "no-icmp",		no_argument,		NULL, OPT_NO_ICMP },
	{ "no-dhcp",		no_argument,		NULL, OPT_NO_DHCP },
	{ "no-ndp",		no_argument,		NULL, OPT_NO_NDP },
	{ "no-dhcpv6",		no_argument,		NULL, OPT_NO_DHCPV6 },
	{ "no-ra",		no_argument,		NULL, OPT_NO_RA },
	{ "no-map-gw",		no_argument,		NULL, OPT_NO_MAP_GW },
	{ "no-follow",		no_argument,		NULL, OPT_NO_FOLLOW },
	{ "chroot-fallback",	no_argument,		NULL, OPT_CHROOT_FALLBACK },
	{ "ipv4-only",		no_argument,		NULL, '4' },
	{ "ipv6-only",		no_argument,		NULL, '6' },
	{ "one-off",		no_argument,		NULL, '1' },
	{ "socket",		required_argument,	NULL, 's' },
	{ "tcp-ports",		required_argument,	NULL, 't' },
	{ "udp-ports",		required_argument,	NULL, 'u' },
	{ "ns-ifname",		required_argument,	NULL, 'I' },
	{ "tcp-ns",		required_argument,	NULL, 'T' },
	{ "udp-ns",		required_argument,	NULL, 'U' },
	{ "userns",		required_argument,	NULL, OPT_USERNS },
	{ "netns-only",		no_argument,		NULL, OPT_NETNS_ONLY },
	{ "no-netns-quit",	no_argument,		NULL, OPT_NO_NETNS_QUIT },
	{ "nsrun-dir",		required_argument,	NULL, OPT_NSRUN_DIR },
	{ "config-net",		no_argument,		NULL, OPT_CONFIG_NET },
	{ "ns-mac-addr",	required_argument,	NULL, OPT_NS_MAC_ADDR },
	{ "netns",		required_argument,	NULL, OPT_NETNS },
	{ "map-host-loopback",	required_argument,	NULL, OPT_MAP_HOST_LO },
	{ "map-guest-addr",	required_argument,	NULL, OPT_MAP_GUEST_ADDR },
	{ "dns-host",		required_argument,	NULL, OPT_DNS_HOST },
	{ "host-lo-to-ns-lo",	no_argument,		NULL, OPT_HOST_LO_TO_NS_LO },
	{ "no-splice",		no_argument,		NULL, OPT_NO_SPLICE },
	{ "splice-only",	no_argument,		NULL, OPT_SPLICE_ONLY },
	{ "no-tap-offload",	no_argument,		NULL, OPT_NO_TAP_OFFLOAD },
	{ "no-copy-routes",	no_argument,		NULL, OPT_NO_COPY_ROUTES },
	{ "no-copy-addrs",	no_argument,		NULL, OPT_NO_COPY_ADDRS },
	{ "stats",		required_argument,	NULL, OPT_STATS },
	{ "outbound",		required_argument,	NULL, 'o' },
	{ "outbound-if4",	required_argument,	NULL, OPT_OUTBOUND_IF4 },
	{ "outbound-if6",	required_argument,	NULL, OPT_OUTBOUND_IF6 },
	{ "freebind",		no_argument,		NULL, OPT_FREEBIND },
	{ "hostname",		required_argument,	NULL, 'H' },
	{ "fqdn",		required_argument,	NULL, OPT_FQDN },
	{ "fd",			required_argument,	NULL, 'F' },
	{ "print-capabilities",	no_argument,		NULL, OPT_PRINT_CAPS },
	{ NULL, 0, NULL, 0 },
};

/* '+': stop at the first non-option. getopt_long() reports unknown options
 * and missing arguments itself: podman looks for its exact wording
 * ("unrecognized option '--map-guest-addr'") to retry without the option
 */
static const char conf_optstring[] = "+dqfel:hp:P:m:a:n:M:g:i:o:D:S:H:461s:"
				     "F:t:u:I:T:U:";



/**
 * usage() - Print help for both modes to standard output, exit
 * @name:	Program name, as invoked
 * @status:	Exit status
 */
static void usage(const char *name, int status)
{
	char nsrun[PATH_MAX];

	snprintf(nsrun, sizeof(nsrun), "/run/user/%u/netns",
		 (unsigned int)geteuid());

	printf("Usage: %s [OPTION]...\n", name);
	printf("       pasta [OPTION]... [PID|PATH|NAME]\n");
	printf("       pasta [OPTION]... [--] [COMMAND [ARG]...]\n\n");

	printf(
"Options for both passt and pasta:\n"
"  -d, --debug             Be verbose, don't run in background\n"
"      --trace             Be extra verbose, show single packets,\n"
"                          implies --debug\n"
"  -q, --quiet             Don't print informational messages\n"
"      --stats DELAY       Print statistics every DELAY seconds\n"
"  -f, --foreground        Don't run in background\n"
"  -e, --stderr            Log to standard error too\n"
"  -l, --log-file PATH     Log (only) to given file\n"
"      --log-size SIZE     Maximum size of log file, bytes, or with\n"
"                          k, M, G suffix; default: 1M\n"
"      --runas UID|UID:GID|LOGIN|LOGIN:GROUP\n"
"                          Run as given user and group if started as root\n"
"                          default: user \"nobody\"\n"
"  -h, --help              Display this help message and exit\n"
"      --version           Show version and exit\n"
"  -p, --pcap FILE         Capture tap-facing traffic to pcap FILE\n"
"  -P, --pid FILE          Write own PID to FILE\n"
"      --chroot-fallback   chroot() if pivot_root() fails (initramfs)\n"
"  -m, --mtu MTU           Assign MTU via DHCP and NDP, 68..65520,\n"
"                          0: don't send it; default: 65520\n"
"  -a, --address ADDR[/PREFIX]\n"
"                          Assign IPv4 or IPv6 ADDR, up to once each\n"
"                          default: address of the outbound interface\n"
"  -n, --netmask MASK      Assign IPv4 MASK, dot-decimal or bits\n"
"                          default: netmask of the matching host address\n"
"  -M, --mac-addr ADDR     Use source MAC address ADDR\n"
"                          default: 9a:55:9a:55:9a:55 (locally administered)\n"
"  -g, --gateway ADDR      Assign IPv4 or IPv6 gateway ADDR, up to once\n"
"                          each; default: gateway of the default route\n"
"  -i, --interface NAME    Interface for addresses and routes\n"
"                          default: --outbound-if4, --outbound-if6, or\n"
"                          interfaces with first default routes\n"
"  -o, --outbound ADDR     Source address of outbound sockets, IPv4 or\n"
"                          IPv6, up to once each; default: from routes\n"
"      --outbound-if4 NAME Bind IPv4 outbound sockets to interface NAME\n"
"      --outbound-if6 NAME Bind IPv6 outbound sockets to interface NAME\n"
"  -D, --dns ADDR          Use IPv4 or IPv6 ADDR as DNS resolver, can be\n"
"                          given multiple times; 'none': no resolvers\n"
"                          default: nameservers from " RESOLV_CONF "\n"
"      --dns-forward ADDR  Forward DNS queries (UDP and TCP, ports 53 and\n"
"                          853) sent to ADDR to --dns-host, up to once per\n"
"                          IP version\n"
"      --dns-host ADDR     Host resolver for --dns-forward\n"
"                          default: first nameserver from " RESOLV_CONF "\n"
"  -H, --hostname NAME     Hostname for the guest (DHCP option 12)\n"
"      --fqdn NAME         FQDN for the guest (DHCP 81, DHCPv6 39)\n"
"  -S, --search LIST       Space-separated list of search domains\n"
"                          'none': no search list\n"
"                          default: search list from " RESOLV_CONF "\n"
"      --no-dhcp-dns       (passt only) Don't send resolvers via\n"
"                          DHCP, DHCPv6 and NDP\n"
"      --dhcp-dns          (pasta only) Send resolvers via DHCP, DHCPv6\n"
"                          and NDP\n"
"      --no-dhcp-search    (passt only) Don't send the search list\n"
"      --dhcp-search       (pasta only) Send the search list\n"
	);
	printf(
"      --no-tcp            Disable TCP protocol handler\n"
"      --no-udp            Disable UDP protocol handler\n"
"      --no-icmp           Disable ICMP/ICMPv6 echo handler\n"
"      --no-dhcp           Disable DHCP server\n"
"      --no-ndp            Disable NDP responses\n"
"      --no-dhcpv6         Disable DHCPv6 server\n"
"      --no-ra             Disable router advertisements\n"
"      --freebind          Bind -t/-u ports to any address, even one\n"
"                          the host doesn't have (yet)\n"
"      --no-follow         Keep the host's configuration as found at\n"
"                          start: don't follow address, route and\n"
"                          resolver changes\n"
"      --no-map-gw         Don't map gateway address to the host\n"
"                          (same as --map-host-loopback none)\n"
"      --map-host-loopback ADDR|none\n"
"                          Guest traffic to ADDR reaches the host's\n"
"                          loopback; default: the gateway address\n"
"      --map-guest-addr ADDR|none\n"
"                          Guest traffic to ADDR reaches the host's own\n"
"                          address (the one the guest was assigned)\n"
"  -4, --ipv4-only         Enable IPv4 operation only\n"
"  -6, --ipv6-only         Enable IPv6 operation only\n"
"  -t, --tcp-ports SPEC    TCP port forwarding to guest or namespace\n"
"  -u, --udp-ports SPEC    UDP port forwarding to guest or namespace\n"
"                          can be given multiple times; SPEC can be:\n"
"                            none: don't forward any ports\n"
"                            [ADDR][%%IFNAME/]ITEM,... with ITEM one of:\n"
"                              PORT[-LAST][:TOPORT[-TOLAST]]\n"
"                              PORT[-LAST]:TOADDR[/TOPORT[-TOLAST]]\n"
"                                to TOADDR instead of the guest's address\n"
"                              ~PORT[-LAST]: exclude these ports\n"
"                              all[:TOADDR]: all other non-ephemeral\n"
"                                ports we can bind (best effort)\n"
"                              auto: (pasta only) ports bound in the\n"
"                                namespace, only the listed ones if any\n"
"                            only exclusions: as 'all' with exclusions\n"
"                          a port in two rules is an error\n"
"                          UDP follows TCP ports (without translation)\n"
"                          unless given; default: passt none, pasta auto\n"
	);
	printf(
"\n"
"passt only:\n"
"  -1, --one-off           Quit after handling one single client\n"
"  -F, --fd FD             Use FD, a connected stream socket, for the\n"
"                          guest; implies --one-off\n"
"      --print-capabilities\n"
"                          Print back-end capabilities (JSON), exit\n"
"  -s, --socket PATH       UNIX domain socket path\n"
"                          default: probe free path starting from\n"
"                          /tmp/passt_1.socket\n"
"\n"
"pasta only:\n"
"  -I, --ns-ifname NAME    Name of tap interface in namespace\n"
"                          default: same as outbound interface, or tap0\n"
"  -T, --tcp-ns SPEC       TCP port forwarding from namespace to init\n"
"  -U, --udp-ns SPEC       UDP port forwarding from namespace to init\n"
"                          SPEC as for -t, -u; default: auto\n"
"      --userns PATH|NAME  Target user namespace to join\n"
"      --netns PATH|NAME   Target network namespace to join, NAME under\n"
"                          /run/netns (or --nsrun-dir)\n"
"      --netns-only        Join or create only a network namespace\n"
"      --no-netns-quit     Don't quit if the namespace file goes away\n"
"      --nsrun-dir PATH    Directory for nsfs mountpoints\n"
"                          default: %s\n"
"      --config-net        Configure addresses, routes, tap in namespace\n"
"      --ns-mac-addr ADDR  Set MAC address ADDR on tap in namespace\n"
"      --host-lo-to-ns-lo  Connections to the host's loopback reach the\n"
"                          namespace's loopback, not its public address\n"
"      --no-splice         No loopback bypass for inbound connections\n"
"      --splice-only       No tap device: only forward loopback traffic\n"
"      --no-tap-offload    No checksum or segmentation offloads on the\n"
"                          tap device: one frame per segment\n"
"      --no-copy-routes    With --config-net, set up the default route\n"
"                          only (deprecated)\n"
"      --no-copy-addrs     With --config-net, set up one address only\n"
"                          (deprecated)\n"
"\n"
"pasta targets: PID of a process whose namespaces to join, PATH of a\n"
"network namespace file, NAME of one under --nsrun-dir, or a COMMAND to\n"
"run in a new namespace (default: $SHELL or /bin/sh).\n",
	nsrun);

	exit(status);
}

/**
 * conf_mode_only() - Reject an option of the other mode
 * @c:		Execution context
 * @mode:	Mode the option belongs to
 * @opt:	Option name, for the message
 */
static void conf_mode_only(const struct ctx *c, enum passt_modes mode,
			   const char *opt)
{
	if (c->mode == mode)
		return;

	die("%s is for %s mode only", opt,
	    mode == MODE_PASST ? "passt" : "pasta");
}

/**
 * conf_path() - Copy a file path option, made absolute, into @dst
 * @dst:	Destination, PATH_MAX bytes
 * @arg:	Option argument
 * @opt:	Option name, for messages
 *
 * Relative paths are resolved now, against the current directory: by the
 * time the file is opened, we might have changed directory.
 */
static void conf_path(char *dst, const char *arg, const char *opt)
{
	char cwd[PATH_MAX];
	int n;

	if (!*arg)
		die("Empty path for %s", opt);

	if (*arg == '/') {
		n = snprintf(dst, PATH_MAX, "%s", arg);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			die("Can't resolve relative path for %s: %s", opt,
			    strerror(errno));
		n = snprintf(dst, PATH_MAX, "%s/%s", cwd, arg);
	}

	if (n < 0 || n >= PATH_MAX)
		die("Path too long for %s: %.64s...", opt, arg);
}

/**
 * conf_log_size() - Parse --log-size: bytes, or with k, M, G suffix
 * @arg:	Option argument
 *
 * Return: size in bytes
 */
static size_t conf_log_size(const char *arg)
{
	char num[32];
	unsigned long v, mult = 1;
	size_t len = strlen(arg);

	if (len && len < sizeof(num)) {
		memcpy(num, arg, len + 1);
		switch (num[len - 1]) {
		case 'k': case 'K':
			mult = 1024;
			break;
		case 'm': case 'M':
			mult = 1024UL * 1024;
			break;
		case 'g': case 'G':
			mult = 1024UL * 1024 * 1024;
			break;
		}
		if (mult > 1)
			num[len - 1] = '\0';

		if (!str_to_uint(num, LOG_SIZE_MAX, &v) &&
		    v <= LOG_SIZE_MAX / mult &&
		    v * mult >= LOGFILE_SIZE_MIN)
			return v * mult;
	}

	die("Invalid size for --log-size: %.32s (must be %lu..%lu bytes)",
	    arg, LOGFILE_SIZE_MIN, LOG_SIZE_MAX);
}

/**
 * conf_id() - Parse a numeric ID, or look up a user or group name
 * @s:		ID or name
 * @group:	Look up a group, not a user
 * @id:	Result
 * @gid:	For a user: its primary group, if known, else unchanged
 *
 * Return: 0 on success, -1 if no such user or group
 */
static int conf_id(const char *s, int group, unsigned int *id,
		   unsigned int *gid)
{
	unsigned long v;

	if (!str_to_uint(s, (unsigned int)-2, &v)) {
		const struct passwd *pw;

		*id = (unsigned int)v;
		if (!group && (pw = getpwuid((uid_t)v)))
			*gid = pw->pw_gid;
		else if (!group)
			*gid = (unsigned int)v;
		return 0;
	}

	if (group) {
		const struct group *gr = getgrnam(s);

		if (!gr)
			return -1;
		*id = gr->gr_gid;
	} else {
		const struct passwd *pw = getpwnam(s);

		if (!pw)
			return -1;
		*id = pw->pw_uid;
		*gid = pw->pw_gid;
	}

	return 0;
}

/**
 * conf_runas() - Set UID and GID from --runas, or the default
 * @c:		Execution context
 * @arg:	--runas argument, NULL if not given
 *
 * Default, if started as root: user "nobody" (65534 if not in the user
 * database), else our own IDs, so that nothing changes.
 */
static void conf_runas(struct ctx *c, const char *arg)
{
	char user[RUNAS_NAME_MAX], *group;
	unsigned int uid, gid = 0, g;

	if (!arg) {
		if (geteuid() != 0) {
			c->uid = geteuid();
			c->gid = getegid();
			return;
		}

		if (conf_id("nobody", 0, &uid, &gid)) {
			uid = 65534;
			gid = 65534;
		}
		c->uid = uid;
		c->gid = gid;
		return;
	}

	if (!*arg || strlen(arg) >= sizeof(user))
		die("Invalid user for --runas: %.64s", arg);
	snprintf(user, sizeof(user), "%s", arg);

	group = strchr(user, ':');
	if (group)
		*group++ = '\0';

	if (!*user || conf_id(user, 0, &uid, &gid))
		die("Invalid user for --runas: %s (no such user)", user);

	if (group) {
		if (!*group || conf_id(group, 1, &g, &g))
			die("Invalid group for --runas: %s (no such group)",
			    group);
		gid = g;
	}

	c->uid = uid;
	c->gid = gid;
}

/**
 * conf_mac() - Parse a unicast MAC address option
 * @arg:	Option argument
 * @mac:	Result
 * @opt:	Option name, for messages
 */
static void conf_mac(const char *arg, unsigned char mac[6], const char *opt)
{
	if (strlen(arg) != MAC_STR_LEN - 1 || parse_mac(arg, mac) ||
	    !isxdigit((unsigned char)arg[0]))
		die("Invalid MAC address for %s: %.32s "
		    "(expected xx:xx:xx:xx:xx:xx)", opt, arg);

	/* IEEE 802-2014 8.2: I/G bit set means group (multicast) address */
	if (mac_is_zero(mac) || (mac[0] & 1))
		die("Invalid MAC address for %s: %s (must be unicast, "
		    "not zero)", opt, arg);
}

/**
 * conf_netmask() - Parse -n: dotted-decimal mask or prefix length
 * @arg:	Option argument
 *
 * Return: prefix length, 1..32
 */
static int conf_netmask(const char *arg)
{
	struct in_addr a;
	unsigned long v;
	uint32_t m;
	int len = 0;

	if (!str_to_uint(arg, 32, &v) && v)
		return (int)v;

	if (inet_pton(AF_INET, arg, &a) == 1) {
		m = ntohl(a.s_addr);
		while (m & 0x80000000U) {
			m <<= 1;
			len++;
		}
		if (len && !m)
			return len;
	}

	die("Invalid netmask for -n/--netmask: %.32s (must be 1..32 or a "
	    "dotted-decimal mask of contiguous bits)", arg);
}

/**
 * conf_addr() - Handle -a: IPv4 or IPv6 address to assign
 * @c:		Execution context
 * @o:		Command line state
 * @arg:	Option argument
 */
static void conf_addr(struct ctx *c, struct conf_opts *o, const char *arg)
{
	char buf[INET6_ADDRSTRLEN + 5];
	const char *slash = strchr(arg, '/');
	unsigned long plen = 0;
	struct in6_addr a6;
	struct in_addr a4;

	if (strlen(arg) >= sizeof(buf))
		die("Invalid address for -a/--address: %.64s", arg);
	snprintf(buf, sizeof(buf), "%s", arg);
	if (slash) {
		buf[slash - arg] = '\0';
		if (str_to_uint(slash + 1, 128, &plen))
			die("Invalid prefix length for -a/--address: %s",
			    arg);
	}

	if (inet_pton(AF_INET, buf, &a4) == 1) {
		if (o->a4_set)
			die("IPv4 address given twice with -a/--address");
		if (IN4_IS_ADDR_UNSPECIFIED(&a4) ||
		    IN4_IS_ADDR_BROADCAST(&a4) ||
		    IN4_IS_ADDR_MULTICAST(&a4) || IN4_IS_ADDR_LOOPBACK(&a4))
			die("Invalid address for -a/--address: %s (must be "
			    "a unicast, non-loopback address)", arg);
		if (slash) {
			if (!plen || plen > 32)
				die("Invalid prefix length for -a/--address: "
				    "%s (must be 1..32)", arg);
			if (o->prefix4)
				die("-a/--address %s: CIDR notation can't be "
				    "mixed with -n/--netmask", arg);
			o->cidr4 = 1;
			o->prefix4 = (int)plen;
		}
		c->ip4.addr = a4;
		o->a4_set = 1;
		return;
	}

	if (inet_pton(AF_INET6, buf, &a6) == 1) {
		if (o->a6_set)
			die("IPv6 address given twice with -a/--address");
		if (IN6_IS_ADDR_UNSPECIFIED(&a6) ||
		    IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_MULTICAST(&a6) ||
		    IN6_IS_ADDR_LINKLOCAL(&a6) || IN6_IS_ADDR_V4MAPPED(&a6))
			die("Invalid address for -a/--address: %s (must be "
			    "a global unicast address)", arg);
		/* Man page: an IPv6 prefix length is accepted, and 64 used */
		c->ip6.addr = a6;
		o->a6_set = 1;
		return;
	}

	die("Invalid address for -a/--address: %.64s (not an IPv4 or IPv6 "
	    "address)", arg);
}

/**
 * conf_outbound() - Handle -o/--outbound: source address of outbound sockets
 * @c:		Execution context
 * @arg:	IPv4 or IPv6 address
 */
static void conf_outbound(struct ctx *c, const char *arg)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, arg, &a4) == 1 &&
	    !IN4_IS_ADDR_UNSPECIFIED(&a4) && !IN4_IS_ADDR_BROADCAST(&a4) &&
	    !IN4_IS_ADDR_MULTICAST(&a4)) {
		c->ip4.addr_out = a4;
		return;
	}

	if (inet_pton(AF_INET6, arg, &a6) == 1 &&
	    !IN6_IS_ADDR_UNSPECIFIED(&a6) && !IN6_IS_ADDR_MULTICAST(&a6)) {
		c->ip6.addr_out = a6;
		return;
	}

	die("Invalid address for -o/--outbound: %.64s (must be a unicast "
	    "IPv4 or IPv6 address)", arg);
}

/**
 * conf_map_addr() - Parse --map-host-loopback, --map-guest-addr, --dns-host
 * @arg:	Option argument: an address, or "none" where @none_ok
 * @opt:	Option name, for messages
 * @none_ok:	"none" is accepted
 * @a4:		IPv4 result, left alone for IPv6 (zeroed for "none")
 * @a6:		IPv6 result, left alone for IPv4 (zeroed for "none")
 *
 * Return: AF_INET or AF_INET6 for an address, 0 for "none"
 */
static int conf_map_addr(const char *arg, const char *opt, int none_ok,
			 struct in_addr *a4, struct in6_addr *a6)
{
	struct in6_addr t6;
	struct in_addr t4;

	if (none_ok && !strcmp(arg, "none")) {
		a4->s_addr = htonl(INADDR_ANY);
		*a6 = in6addr_any;
		return 0;
	}

	if (inet_pton(AF_INET, arg, &t4) == 1 &&
	    !IN4_IS_ADDR_UNSPECIFIED(&t4) && !IN4_IS_ADDR_BROADCAST(&t4) &&
	    !IN4_IS_ADDR_MULTICAST(&t4) && !IN4_IS_ADDR_LOOPBACK(&t4)) {
		*a4 = t4;
		return AF_INET;
	}

	if (inet_pton(AF_INET6, arg, &t6) == 1 &&
	    !IN6_IS_ADDR_UNSPECIFIED(&t6) && !IN6_IS_ADDR_MULTICAST(&t6) &&
	    !IN6_IS_ADDR_LOOPBACK(&t6)) {
		*a6 = t6;
		return AF_INET6;
	}

	die("Invalid address for %s: %.64s (must be a unicast, non-loopback "
	    "IPv4 or IPv6 address%s)", opt, arg, none_ok ? ", or none" : "");
}

/**
 * conf_gw() - Handle -g: IPv4 or IPv6 gateway
 * @c:		Execution context
 * @o:		Command line state
 * @arg:	Option argument
 */
static void conf_gw(struct ctx *c, struct conf_opts *o, const char *arg)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, arg, &a4) == 1) {
		if (o->gw4_set)
			die("IPv4 gateway given twice with -g/--gateway");
		if (IN4_IS_ADDR_UNSPECIFIED(&a4) ||
		    IN4_IS_ADDR_BROADCAST(&a4) ||
		    IN4_IS_ADDR_MULTICAST(&a4) || IN4_IS_ADDR_LOOPBACK(&a4))
			die("Invalid gateway for -g/--gateway: %s (must be "
			    "a unicast, non-loopback address)", arg);
		c->ip4.gw = a4;
		o->gw4_set = 1;
		return;
	}

	if (inet_pton(AF_INET6, arg, &a6) == 1) {
		if (o->gw6_set)
			die("IPv6 gateway given twice with -g/--gateway");
		if (IN6_IS_ADDR_UNSPECIFIED(&a6) ||
		    IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_MULTICAST(&a6) ||
		    IN6_IS_ADDR_V4MAPPED(&a6))
			die("Invalid gateway for -g/--gateway: %s (must be "
			    "a unicast, non-loopback address)", arg);
		c->ip6.gw = a6;
		o->gw6_set = 1;
		return;
	}

	die("Invalid gateway for -g/--gateway: %.64s (not an IPv4 or IPv6 "
	    "address)", arg);
}

/**
 * conf_dns_opt() - Handle -D: resolver address, or "none"
 * @c:		Execution context
 * @o:		Command line state
 * @arg:	Option argument
 */
static void conf_dns_opt(struct ctx *c, struct conf_opts *o, const char *arg)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!strcmp(arg, "none")) {
		if (o->dns4_n || o->dns6_n)
			die("-D/--dns none can't be combined with addresses");
		c->no_dns = 1;
		o->dns_given = 1;
		return;
	}

	if (c->no_dns)
		die("-D/--dns %.64s can't be combined with -D none", arg);

	if (inet_pton(AF_INET, arg, &a4) == 1) {
		if (IN4_IS_ADDR_UNSPECIFIED(&a4) ||
		    IN4_IS_ADDR_BROADCAST(&a4) || IN4_IS_ADDR_MULTICAST(&a4))
			die("Invalid address for -D/--dns: %s", arg);
		if (o->dns4_n >= MAXNS)
			die("Too many IPv4 addresses for -D/--dns: %s "
			    "(at most %i)", arg, MAXNS);
		o->dns4[o->dns4_n++] = a4;
	} else if (inet_pton(AF_INET6, arg, &a6) == 1) {
		if (IN6_IS_ADDR_UNSPECIFIED(&a6) ||
		    IN6_IS_ADDR_MULTICAST(&a6))
			die("Invalid address for -D/--dns: %s", arg);
		if (o->dns6_n >= MAXNS)
			die("Too many IPv6 addresses for -D/--dns: %s "
			    "(at most %i)", arg, MAXNS);
		o->dns6[o->dns6_n++] = a6;
	} else {
		die("Invalid address for -D/--dns: %.64s (not an IPv4 or "
		    "IPv6 address)", arg);
	}

	o->dns_given = 1;
}

/**
 * conf_dns_forward() - Handle --dns-forward: address to map to resolver
 * @c:		Execution context
 * @arg:	Option argument
 */
static void conf_dns_forward(struct ctx *c, const char *arg)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, arg, &a4) == 1) {
		if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.dns_match))
			die("IPv4 address given twice with --dns-forward");
		if (IN4_IS_ADDR_UNSPECIFIED(&a4) ||
		    IN4_IS_ADDR_BROADCAST(&a4) || IN4_IS_ADDR_MULTICAST(&a4))
			die("Invalid address for --dns-forward: %s", arg);
		c->ip4.dns_match = a4;
	} else if (inet_pton(AF_INET6, arg, &a6) == 1) {
		if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.dns_match))
			die("IPv6 address given twice with --dns-forward");
		if (IN6_IS_ADDR_UNSPECIFIED(&a6) ||
		    IN6_IS_ADDR_MULTICAST(&a6))
			die("Invalid address for --dns-forward: %s", arg);
		c->ip6.dns_match = a6;
	} else {
		die("Invalid address for --dns-forward: %.64s (not an IPv4 "
		    "or IPv6 address)", arg);
	}
}

/**
 * conf_dns_name_ok() - Check a search domain: RFC 1035 2.3.4 sizes
 * @s:		Name, possibly with a trailing dot
 * @len:	Its length
 *
 * Labels are 1..63 characters of letters, digits, '-' and '_' (the latter
 * is common in practice), the whole name at most 253 characters.
 *
 * Return: 1 if usable, 0 if not
 */
int conf_dns_name_ok(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len && s[len - 1] == '.')
		len--;

	if (!len || len > DNS_NAME_LEN_MAX)
		return 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (!label)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return 0;
		if (++label > DNS_LABEL_MAX)
			return 0;
	}

	return 1;
}

/**
 * conf_search_add() - Append a domain to the search list, if it fits
 * @c:		Execution context
 * @s:		Name, not NUL-terminated
 * @len:	Its length
 *
 * Return: 0 if added, -1 if the list is full, -2 if the name is invalid
 */
int conf_search_add(struct ctx *c, const char *s, size_t len)
{
	int i;

	if (!conf_dns_name_ok(s, len))
		return -2;

	for (i = 0; i < MAXDNSRCH; i++) {
		if (!c->dns_search[i].n[0])
			break;
	}
	if (i >= MAXDNSRCH)
		return -1;

	memcpy(c->dns_search[i].n, s, len);
	c->dns_search[i].n[len] = '\0';
	c->dns_search[i + 1].n[0] = '\0';
	return 0;
}

/**
 * conf_search_opt() - Handle -S: space-separated search list, or "none"
 * @c:		Execution context
 * @o:		Command line state
 * @arg:	Option argument
 */
static void conf_search_opt(struct ctx *c, struct conf_opts *o,
			    const char *arg)
{
	const char *p = arg;

	if (!strcmp(arg, "none")) {
		if (o->search_n)
			die("-S/--search none can't be combined with names");
		c->no_dns_search = 1;
		o->search_given = 1;
		return;
	}

	if (c->no_dns_search)
		die("-S/--search can't be combined with -S none");

	while (*p) {
		size_t len;
		int ret;

		if (*p == ' ' || *p == '\t') {
			p++;
			continue;
		}

		len = strcspn(p, " \t");
		ret = conf_search_add(c, p, len);
		if (ret == -1)
			die("Too many domains for -S/--search (at most %i)",
			    MAXDNSRCH);
		if (ret == -2)
			die("Invalid domain for -S/--search: %.*s", 
			    (int)MIN(len, 64), p);
		o->search_n++;
		p += len;
	}

	if (!o->search_n)
		die("Empty list for -S/--search (use 'none' to disable)");

	o->search_given = 1;
}

/**
 * conf_ifname_ok() - Check an interface name for -I
 * @s:		Name
 *
 * Return: 1 if usable as a Linux interface name, 0 if not
 */
static int conf_ifname_ok(const char *s)
{
	size_t len = strlen(s);

	if (!len || len >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;

	for (; *s; s++) {
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) ||
		    !isprint((unsigned char)*s))
			return 0;
	}

	return 1;
}

/**
 * conf_fwd() - Parse one -t/-u/-T/-U option
 * @c:		Execution context
 * @fwd:	Table for this option
 * @arg:	Specification
 * @opt:	Option name, for messages
 */
static void conf_fwd(const struct ctx *c, struct fwd_ports *fwd,
		     const char *arg, const char *opt)
{
	char err[FWD_ERR_LEN];
	int ret;

	ret = fwd_parse(fwd, arg, c->mode == MODE_PASTA, err, sizeof(err));
	if (ret == FWD_ERR_CONFLICT)
		die("Conflicting %s rules: %s", opt, err);
	if (ret)
		die("Invalid port specification for %s '%.64s': %s", opt, arg,
		    err);
}

/**
 * conf_fwd_follow() - UDP follows TCP ports unless given (man page, -u)
 * @udp:	UDP table, not given on the command line
 * @tcp:	TCP table
 *
 * Ports are copied without translation, with their bind and target
 * addresses, best-effort flags and "auto" restrictions.
 */
static void conf_fwd_follow(struct fwd_ports *udp, const struct fwd_ports *tcp)
{
	memcpy(udp, tcp, sizeof(*udp));
	memset(udp->delta, 0, sizeof(udp->delta));
}

/**
 * conf_fwd_defaults() - Apply defaults to the port forwarding tables
 * @c:		Execution context
 * @o:		Command line state
 */
static void conf_fwd_defaults(struct ctx *c, const struct conf_opts *o)
{
	enum fwd_mode def = c->mode == MODE_PASTA ? FWD_AUTO : FWD_NONE;

	if (!o->udp_in_set && (c->tcp_fwd_in.mode == FWD_SPEC ||
			       c->tcp_fwd_in.mode == FWD_AUTO))
		conf_fwd_follow(&c->udp_fwd_in, &c->tcp_fwd_in);

	if (!o->udp_out_set && (c->tcp_fwd_out.mode == FWD_SPEC ||
				c->tcp_fwd_out.mode == FWD_AUTO))
		conf_fwd_follow(&c->udp_fwd_out, &c->tcp_fwd_out);

	if (c->tcp_fwd_in.mode == FWD_UNSET)
		c->tcp_fwd_in.mode = def;
	if (c->udp_fwd_in.mode == FWD_UNSET)
		c->udp_fwd_in.mode = def;
	if (c->tcp_fwd_out.mode == FWD_UNSET)
		c->tcp_fwd_out.mode = def;
	if (c->udp_fwd_out.mode == FWD_UNSET)
		c->udp_fwd_out.mode = def;
}

/**
 * conf_ns_path() - Resolve a namespace NAME or PATH to a path
 * @dst:	Destination, PATH_MAX bytes
 * @dir:	--nsrun-dir
 * @arg:	NAME (no '/') or PATH
 * @what:	For messages
 */
static void conf_ns_path(char *dst, const char *dir, const char *arg,
			 const char *what)
{
	int n;

	if (strchr(arg, '/'))
		n = snprintf(dst, PATH_MAX, "%s", arg);
	else
		n = snprintf(dst, PATH_MAX, "%s/%s", dir, arg);

	if (n < 0 || n >= PATH_MAX)
		die("Path too long for %s: %.64s...", what, arg);
}

/**
 * conf_is_ns_file() - Could @path be a namespace file, not a command?
 * @path:	Path
 *
 * nsfs files (bind mounts, /proc/PID/ns/net) are regular, empty, and not
 * executable; a command given with its path is executable.
 *
 * Return: 1 if @path exists and isn't an executable or a directory
 */
static int conf_is_ns_file(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return 0;

	if (S_ISDIR(st.st_mode))
		return 0;

	return !(S_ISREG(st.st_mode) && (st.st_mode & 0111));
}

/**
 * conf_pasta_target() - Handle pasta's positional arguments
 * @c:		Execution context
 * @o:		Command line state
 * @argc:	Remaining arguments
 * @argv:	Remaining arguments, NULL-terminated
 * @nsrun_set:	--nsrun-dir was given
 *
 * One all-digit argument is a PID; one existing namespace file (with a
 * '/') is a PATH; one existing entry under --nsrun-dir is a NAME. Anything
 * else is a command to spawn in a new namespace.
 */
static void conf_pasta_target(struct ctx *c, const struct conf_opts *o,
			      int argc, char **argv, int nsrun_set)
{
	char path[PATH_MAX];
	int i, target = 0;
	unsigned long pid;

	if (argc == 1 && !str_to_uint(argv[0], INT_MAX, &pid)) {
		if (!pid)
			die("Invalid PID as pasta target: 0");
		c->pasta_pid = (pid_t)pid;
		snprintf(c->netns_path, sizeof(c->netns_path),
			 "/proc/%lu/ns/net", pid);
		if (!o->userns)
			snprintf(c->userns_path, sizeof(c->userns_path),
				 "/proc/%lu/ns/user", pid);
		target = 1;
	} else if (argc == 1 && strchr(argv[0], '/') &&
		   conf_is_ns_file(argv[0])) {
		conf_ns_path(c->netns_path, c->netns_dir, argv[0],
			     "namespace PATH");
		snprintf(path, sizeof(path), "%s", argv[0]);
		snprintf(c->netns_base, sizeof(c->netns_base), "%s",
			 basename(path));
		target = 1;
	} else if (argc == 1 && !strchr(argv[0], '/')) {
		conf_ns_path(path, c->netns_dir, argv[0], "namespace NAME");

		/* ip-netns(8) keeps root's names in /run/netns */
		if (!conf_is_ns_file(path) && !nsrun_set && !geteuid())
			conf_ns_path(path, "/run/netns", argv[0],
				     "namespace NAME");

		if (conf_is_ns_file(path)) {
			memcpy(c->netns_path, path, sizeof(path));
			snprintf(c->netns_base, sizeof(c->netns_base), "%s",
				 argv[0]);
			target = 1;
		}
	}

	if (target) {
		if (o->userns)
			conf_ns_path(c->userns_path, c->netns_dir, o->userns,
				     "--userns");
		else if (!c->pasta_pid)
			c->netns_only = 1;
		return;
	}

	if (o->userns)
		die("--userns requires a PID, PATH or NAME target");

	if (argc > PASTA_CHILD_ARGS_MAX)
		die("Too many arguments for command to run: %i (at most %i)",
		    argc, PASTA_CHILD_ARGS_MAX);

	for (i = 0; i < argc; i++)
		c->pasta_child_argv[i] = argv[i];
	c->pasta_child_argv[argc] = NULL;
	c->pasta_child_argc = argc;
}

/**
 * conf_pasta_netns() - Handle --netns PATH|NAME
 * @c:		Execution context
 * @o:		Command line state
 * @nsrun_set:	--nsrun-dir was given
 *
 * A NAME (no '/') is under /run/netns, as with ip-netns(8), or under
 * --nsrun-dir if given. A procfs path (/proc/PID/ns/net) is watched like a
 * PID target: we quit when that process is gone. Without --userns, only the
 * network namespace is joined (man page, --netns-only).
 */
static void conf_pasta_netns(struct ctx *c, const struct conf_opts *o,
			     int nsrun_set)
{
	char path[PATH_MAX];
	unsigned long pid;
	char *end;

	conf_ns_path(c->netns_path, nsrun_set ? c->netns_dir : "/run/netns",
		     o->netns, "--netns");

	if (!strncmp(c->netns_path, "/proc/", strlen("/proc/"))) {
		errno = 0;
		pid = strtoul(c->netns_path + strlen("/proc/"), &end, 10);
		if (!errno && pid && pid <= INT_MAX && !strcmp(end, "/ns/net"))
			c->pasta_pid = (pid_t)pid;
	}

	if (!c->pasta_pid) {
		snprintf(path, sizeof(path), "%s", c->netns_path);
		snprintf(c->netns_base, sizeof(c->netns_base), "%s",
			 basename(path));
	}

	if (o->userns)
		conf_ns_path(c->userns_path, c->netns_dir, o->userns,
			     "--userns");
	else
		c->netns_only = 1;
}

/**
 * conf_fd_arg() - Find the descriptor passed with -F/--fd, before parsing
 * @argc:	Argument count
 * @argv:	Arguments
 *
 * Inherited descriptors are closed first thing (isolation.c), before the
 * options are parsed: the one the parent passed on purpose must stay. A
 * value that doesn't parse is left to conf() to report.
 *
 * Return: descriptor number given with -F/--fd, -1 if none
 */
int conf_fd_arg(int argc, char **argv)
{
	const char *v = NULL;
	unsigned long fd;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if ((!strcmp(argv[i], "-F") || !strcmp(argv[i], "--fd")) &&
		    i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], "--fd=", strlen("--fd=")))
			v = argv[i] + strlen("--fd=");
		else if (!strncmp(argv[i], "-F", 2) && argv[i][2])
			v = argv[i] + 2;
	}

	if (!v || str_to_uint(v, INT_MAX, &fd))
		return -1;

	return (int)fd;
}

/**
 * conf() - Fill the execution context from command line and host
 * @c:		Execution context, with @mode set, otherwise zeroed
 * @argc:	Argument count
 * @argv:	Options and arguments
 */
void conf(struct ctx *c, int argc, char **argv)
{
	int nsrun_set = 0, opt, n;
	static struct conf_opts o;
	const char *name;
	unsigned long v;

	c->fd_tap = c->fd_tap_listen = -1;
	c->pasta_netns_fd = c->pasta_userns_fd = -1;
	c->log_size = LOGFILE_SIZE_DEFAULT;
	c->mtu = MTU_MAX;

	name = c->mode == MODE_PASTA ? "pasta" : "passt";
	opterr = 1;	/* getopt's own messages: see conf_optstring */
	optind = 1;

	for (;;) {
		opt = getopt_long(argc, argv, conf_optstring, conf_options,
				  NULL);
		if (opt == -1)
			break;

		switch (opt) {
		/* -d, --trace and -q: the last one given sets the level, as
		 * in the 2026 release (--trace then -d keeps tracing)
		 */
		case 'd':
			c->debug = 1;
			c->quiet = 0;
			c->foreground = 1;
			break;
		case OPT_TRACE:
			c->trace = c->debug = 1;
			c->quiet = 0;
			c->foreground = 1;
			break;
		case 'q':
			c->quiet = 1;
			c->debug = c->trace = 0;
			break;
		case 'f':
			c->foreground = 1;
			break;
		case 'e':
			c->force_stderr = 1;
			break;
		case 'l':
			conf_path(c->log_file, optarg, "-l/--log-file");
			break;
		case OPT_LOG_SIZE:
			c->log_size = conf_log_size(optarg);
			break;
		case OPT_RUNAS:
			o.runas = optarg;
			break;
		case 'h':
			usage(argv[0], EXIT_SUCCESS);
			break;
		case OPT_VERSION:
			printf("%s %s\n", name, PASST_VERSION);
			exit(EXIT_SUCCESS);
			break;
		case 'p':
			conf_path(c->pcap, optarg, "-p/--pcap");
			break;
		case 'P':
			conf_path(c->pid_file, optarg, "-P/--pid");
			break;
		case 'm':
			if (str_to_uint(optarg, MTU_MAX, &v) ||
			    (v && v < ETH_MIN_MTU))
				die("Invalid MTU for -m/--mtu: %.32s "
				    "(must be %i..%i, or 0 to not send it)",
				    optarg, ETH_MIN_MTU, MTU_MAX);
			c->mtu = (int)v;
			break;
		case 'a':
			conf_addr(c, &o, optarg);
			break;
		case 'n':
			if (o.cidr4)
				die("-n/--netmask can't be mixed with CIDR "
				    "notation in -a/--address");
			o.prefix4 = conf_netmask(optarg);
			break;
		case 'M':
			conf_mac(optarg, c->mac, "-M/--mac-addr");
			o.mac_set = 1;
			break;
		case 'g':
			conf_gw(c, &o, optarg);
			break;
		case 'i':
			if (!*optarg || strlen(optarg) >= IFNAMSIZ)
				die("Invalid interface name for "
				    "-i/--interface: %.32s", optarg);
			if (!if_nametoindex(optarg))
				die("Invalid interface for -i/--interface: "
				    "%s (no such interface)", optarg);
			o.ifname = optarg;
			break;
		case 'D':
			conf_dns_opt(c, &o, optarg);
			break;
		case OPT_DNS_FORWARD:
			conf_dns_forward(c, optarg);
			break;
		case 'S':
			conf_search_opt(c, &o, optarg);
			break;
		case OPT_NO_DHCP_DNS:
			conf_mode_only(c, MODE_PASST, "--no-dhcp-dns");
			c->no_dhcp_dns = 1;
			o.dhcp_dns = 1;
			break;
		case OPT_DHCP_DNS:
			conf_mode_only(c, MODE_PASTA, "--dhcp-dns");
			c->no_dhcp_dns = 0;
			o.dhcp_dns = 1;
			break;
		case OPT_NO_DHCP_SEARCH:
			conf_mode_only(c, MODE_PASST, "--no-dhcp-search");
			c->no_dhcp_dns_search = 1;
			o.dhcp_search = 1;
			break;
		case OPT_DHCP_SEARCH:
			conf_mode_only(c, MODE_PASTA, "--dhcp-search");
			c->no_dhcp_dns_search = 0;
			o.dhcp_search = 1;
			break;
		case OPT_NO_TCP:
			c->no_tcp = 1;
			break;
		case OPT_NO_UDP:
			c->no_udp = 1;
			break;
		case OPT_NO_ICMP:
			c->no_icmp = 1;
			break;
		case OPT_NO_DHCP:
			c->no_dhcp = 1;
			break;
		case OPT_NO_NDP:
			c->no_ndp = 1;
			break;
		case OPT_NO_DHCPV6:
			c->no_dhcpv6 = 1;
			break;
		case OPT_NO_RA:
			c->no_ra = 1;
			break;
		case OPT_CHROOT_FALLBACK:
			c->chroot_fallback = 1;
			break;
		case OPT_NO_FOLLOW:
			c->no_follow = 1;
			break;
		case OPT_NO_MAP_GW:
			/* Same as --map-host-loopback none */
			c->no_map_gw = 1;
			c->ip4.map_host_lo.s_addr = htonl(INADDR_ANY);
			c->ip6.map_host_lo = in6addr_any;
			o.map_host_lo4 = o.map_host_lo6 = 1;
			break;
		case OPT_MAP_HOST_LO:
			n = conf_map_addr(optarg, "--map-host-loopback", 1,
					  &c->ip4.map_host_lo,
					  &c->ip6.map_host_lo);
			if (n != AF_INET6)
				o.map_host_lo4 = 1;
			if (n != AF_INET)
				o.map_host_lo6 = 1;
			break;
		case OPT_MAP_GUEST_ADDR:
			conf_map_addr(optarg, "--map-guest-addr", 1,
				      &c->ip4.map_guest_addr,
				      &c->ip6.map_guest_addr);
			break;
		case OPT_DNS_HOST:
			conf_map_addr(optarg, "--dns-host", 0,
				      &c->ip4.dns_host, &c->ip6.dns_host);
			break;
		case '4':
			if (o.v6_only)
				die("-4/--ipv4-only and -6/--ipv6-only are "
				    "mutually exclusive");
			o.v4_only = 1;
			break;
		case '6':
			if (o.v4_only)
				die("-6/--ipv6-only and -4/--ipv4-only are "
				    "mutually exclusive");
			o.v6_only = 1;
			break;
		case '1':
			conf_mode_only(c, MODE_PASST, "-1/--one-off");
			c->one_off = 1;
			break;
		case 's':
			conf_mode_only(c, MODE_PASST, "-s/--socket");
			if (!*optarg || strlen(optarg) >= UNIX_PATH_MAX)
				die("Invalid path for -s/--socket: %.64s "
				    "(must be 1..%i characters)", optarg,
				    UNIX_PATH_MAX - 1);
			snprintf(c->sock_path, sizeof(c->sock_path), "%s", optarg);
			break;
		case 't':
			o.tcp_in_set = 1;
			conf_fwd(c, &c->tcp_fwd_in, optarg, "-t/--tcp-ports");
			break;
		case 'u':
			o.udp_in_set = 1;
			conf_fwd(c, &c->udp_fwd_in, optarg, "-u/--udp-ports");
			break;
		case 'I':
			conf_mode_only(c, MODE_PASTA, "-I/--ns-ifname");
			if (!conf_ifname_ok(optarg))
				die("Invalid interface name for "
				    "-I/--ns-ifname: %.32s", optarg);
			snprintf(c->pasta_ifname, sizeof(c->pasta_ifname), "%s", optarg);
			break;
		case 'T':
			conf_mode_only(c, MODE_PASTA, "-T/--tcp-ns");
			o.tcp_out_set = 1;
			conf_fwd(c, &c->tcp_fwd_out, optarg, "-T/--tcp-ns");
			break;
		case 'U':
			conf_mode_only(c, MODE_PASTA, "-U/--udp-ns");
			o.udp_out_set = 1;
			conf_fwd(c, &c->udp_fwd_out, optarg, "-U/--udp-ns");
			break;
		case OPT_USERNS:
			conf_mode_only(c, MODE_PASTA, "--userns");
			if (!*optarg)
				die("Empty argument for --userns");
			o.userns = optarg;
			break;
		case OPT_NETNS_ONLY:
			conf_mode_only(c, MODE_PASTA, "--netns-only");
			c->netns_only = 1;
			break;
		case OPT_NO_NETNS_QUIT:
			conf_mode_only(c, MODE_PASTA, "--no-netns-quit");
			c->no_netns_quit = 1;
			break;
		case OPT_NSRUN_DIR:
			conf_mode_only(c, MODE_PASTA, "--nsrun-dir");
			conf_path(c->netns_dir, optarg, "--nsrun-dir");
			nsrun_set = 1;
			break;
		case OPT_CONFIG_NET:
			conf_mode_only(c, MODE_PASTA, "--config-net");
			c->pasta_conf_ns = 1;
			break;
		case OPT_NS_MAC_ADDR:
			conf_mode_only(c, MODE_PASTA, "--ns-mac-addr");
			conf_mac(optarg, c->ns_mac, "--ns-mac-addr");
			break;
		case OPT_STATS:
			if (str_to_uint(optarg, 3600UL * 24, &v) || !v)
				die("Invalid delay for --stats: %.32s (must be "
				    "1..86400 seconds)", optarg);
			c->stats_delay = (int)v;
			break;
		case 'o':
			conf_outbound(c, optarg);
			break;
		case OPT_OUTBOUND_IF4:
		case OPT_OUTBOUND_IF6:
			n = opt == OPT_OUTBOUND_IF4;
			if (!*optarg || strlen(optarg) >= IFNAMSIZ ||
			    !if_nametoindex(optarg))
				die("Invalid interface for --outbound-if%i: "
				    "%.32s (no such interface)", n ? 4 : 6,
				    optarg);
			snprintf(n ? c->ip4.ifname_bind : c->ip6.ifname_bind,
				 IFNAMSIZ, "%s", optarg);
			break;
		case OPT_FREEBIND:
			c->freebind = 1;
			break;
		case 'H':
			if (!conf_dns_name_ok(optarg, strlen(optarg)) ||
			    strlen(optarg) >= sizeof(c->hostname))
				die("Invalid hostname for -H/--hostname: %.64s",
				    optarg);
			snprintf(c->hostname, sizeof(c->hostname), "%s",
				 optarg);
			break;
		case OPT_FQDN:
			n = (int)strlen(optarg);
			if (n && optarg[n - 1] == '.')
				n--;
			if (!conf_dns_name_ok(optarg, strlen(optarg)) ||
			    n > FQDN_LEN_MAX)
				die("Invalid name for --fqdn: %.64s (labels of "
				    "1 to 63 letters, digits, '-', '_', %i "
				    "characters at most)", optarg, FQDN_LEN_MAX);
			snprintf(c->fqdn, sizeof(c->fqdn), "%s", optarg);
			break;
		case 'F':
			conf_mode_only(c, MODE_PASST, "-F/--fd");
			if (str_to_uint(optarg, INT_MAX, &v) || v <= 2 ||
			    fcntl((int)v, F_GETFD) < 0)
				die("Invalid descriptor for -F/--fd: %.32s (must "
				    "be an open descriptor above 2)", optarg);
			c->fd_tap_given = (int)v;
			c->one_off = 1;	/* man page: implies --one-off */
			break;
		case OPT_PRINT_CAPS:
			conf_mode_only(c, MODE_PASST, "--print-capabilities");
			/* vhost-user back-end capabilities: plain net, no
			 * optional features of that protocol in this build
			 */
			printf("{\n  \"type\": \"net\"\n}\n");
			exit(EXIT_SUCCESS);
			break;
		case OPT_NETNS:
			conf_mode_only(c, MODE_PASTA, "--netns");
			if (!*optarg)
				die("Empty argument for --netns");
			o.netns = optarg;
			break;
		case OPT_HOST_LO_TO_NS_LO:
			conf_mode_only(c, MODE_PASTA, "--host-lo-to-ns-lo");
			c->host_lo_to_ns_lo = 1;
			break;
		case OPT_NO_SPLICE:
			conf_mode_only(c, MODE_PASTA, "--no-splice");
			c->no_splice = 1;
			break;
		case OPT_NO_TAP_OFFLOAD:
			conf_mode_only(c, MODE_PASTA, "--no-tap-offload");
			c->no_tap_offload = 1;
			break;
		case OPT_SPLICE_ONLY:
			conf_mode_only(c, MODE_PASTA, "--splice-only");
			c->splice_only = 1;
			break;
		case OPT_NO_COPY_ROUTES:
			conf_mode_only(c, MODE_PASTA, "--no-copy-routes");
			c->no_copy_routes = 1;
			break;
		case OPT_NO_COPY_ADDRS:
			conf_mode_only(c, MODE_PASTA, "--no-copy-addrs");
			c->no_copy_addrs = 1;
			break;
		case '?':
		default:
			/* getopt_long() printed what's wrong, in its words */
			exit(EXIT_FAILURE);
			break;
		}
	}

	/* Defaults and consistency checks */
	if (o.v4_only && o.a6_set)
		die("IPv6 address given with -a/--address, but "
		    "-4/--ipv4-only too");
	if (o.v6_only && o.a4_set)
		die("IPv4 address given with -a/--address, but "
		    "-6/--ipv6-only too");

	if (c->mode == MODE_PASTA) {
		if (!o.dhcp_dns)
			c->no_dhcp_dns = 1;
		if (!o.dhcp_search)
			c->no_dhcp_dns_search = 1;

		if (!nsrun_set) {
			n = snprintf(c->netns_dir, sizeof(c->netns_dir),
				     "/run/user/%u/netns",
				     (unsigned int)geteuid());
			if (n < 0 || (size_t)n >= sizeof(c->netns_dir))
				die("Can't build --nsrun-dir default");
		}

		if (o.userns && c->netns_only)
			die("--userns and --netns-only are mutually "
			    "exclusive");
		if (c->no_splice && c->host_lo_to_ns_lo)
			die("--host-lo-to-ns-lo and --no-splice are mutually "
			    "exclusive");
		if (c->no_splice && c->splice_only)
			die("--no-splice and --splice-only are mutually "
			    "exclusive");
		if (c->splice_only && c->pasta_conf_ns)
			die("--config-net needs a tap device: it can't be "
			    "combined with --splice-only");

		if (o.netns) {
			if (optind < argc)
				die("--netns can't be given together with a "
				    "PID or a command: %.64s", argv[optind]);
			conf_pasta_netns(c, &o, nsrun_set);
		} else {
			conf_pasta_target(c, &o, argc - optind,
					  argv + optind, nsrun_set);
		}
	} else if (optind < argc) {
		die("Invalid argument: %.64s (passt takes no arguments, "
		    "see %s --help)", argv[optind], name);
	}

	conf_runas(c, o.runas);
	conf_fwd_defaults(c, &o);

	/* Man page, -M: a fixed, locally administered address by default */
	if (!o.mac_set)
		memcpy(c->mac, conf_mac_default, sizeof(c->mac));

	/* Man page, --no-copy-addrs, --no-copy-routes: implied by -a, -g */
	c->ip4.copy_addrs = !c->no_copy_addrs && !o.a4_set;
	c->ip6.copy_addrs = !c->no_copy_addrs && !o.a6_set;
	c->ip4.copy_routes = !c->no_copy_routes && !o.gw4_set;
	c->ip6.copy_routes = !c->no_copy_routes && !o.gw6_set;

	/* pasta --config-net sets addresses and routes itself, and rewrites
	 * them when the host changes: Router Advertisements on top would only
	 * add an autoconfigured address and a second default route, which
	 * would outlive a renumbering (RFC 4862 5.5.3 e). As the 2026 release:
	 * the namespace gets none.
	 */
	if (c->pasta_conf_ns)
		c->no_ra = 1;

	/* The guest's link-local address is learnt from its frames (tap.c) */
	c->ip6.addr_ll_seen = in6addr_any;

	/* Host-derived defaults: the same again whenever the host changes
	 * (follow.c), from the command line state kept here
	 */
	nl_sock_init(c, 0);
	conf_host_init(c, &o);

	if (c->ifi6 && c->mtu && c->mtu < IPV6_MIN_MTU)
		warn("MTU %i is below the IPv6 minimum of %i", c->mtu,
		     IPV6_MIN_MTU);

	if (c->mode == MODE_PASTA && !*c->pasta_ifname) {
		if (*c->ip4.ifname_out)
			snprintf(c->pasta_ifname, sizeof(c->pasta_ifname), "%s", c->ip4.ifname_out);
		else if (*c->ip6.ifname_out)
			snprintf(c->pasta_ifname, sizeof(c->pasta_ifname), "%s", c->ip6.ifname_out);
		else
			snprintf(c->pasta_ifname, sizeof(c->pasta_ifname), "%s", "tap0");
	}
}

