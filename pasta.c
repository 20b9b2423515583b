// SPDX-License-Identifier: AGPL-3.0-or-later

/* pasta.c - Network namespace handling: create, join, spawn, watch
 *
 * Theory of operation: pasta serves a network namespace through a tap device
 * living in that namespace, and translates what the namespace sends into
 * ordinary Layer-4 sockets in the namespace pasta was started from (the
 * "init" namespace, from the point of view of the target).
 *
 * The main process therefore never joins the target network namespace: its
 * sockets, created for the whole lifetime of the process, must belong to the
 * init namespace, and a process can only have one network namespace at a
 * time. The few descriptors that must belong to the target namespace (the
 * tap device, the netlink socket used to configure it) are created by short
 * clone() helpers (ns_call(), util.c) that share our memory and descriptor
 * table, join the target namespace with setns(), create the descriptor and
 * exit. A descriptor keeps the namespace it was created in, so the main
 * process can then use it from the init namespace.
 *
 * setns(CLONE_NEWNET) needs CAP_SYS_ADMIN in the user namespace owning the
 * target network namespace. An unprivileged user has that only inside a user
 * namespace it created (or whose owner it is), so the main process joins the
 * target user namespace first (unless --netns-only): joining a user namespace
 * gives a process the full capability set in it, and the helpers inherit
 * that. Joining a user namespace doesn't change the network namespace, which
 * is what keeps the sockets of the main process where they belong.
 *
 * Without a target, pasta creates the namespaces itself: a forked child
 * unshares a new user and network namespace, maps our user and group to root
 * in it, and waits on a pipe. The main process opens the namespaces of the
 * child through /proc/<pid>/ns/, sets up the tap device and the addresses,
 * and only then (pasta_child_run()) lets the child execute the command, so
 * that the command finds a working network from its first instruction. The
 * command's exit status becomes pasta's own (pasta_sigchld()).
 *
 * With a target given as PATH or NAME (a namespace bound to the filesystem,
 * as "ip netns add" does), pasta watches the directory with inotify and
 * exits when the file goes away, unless --no-netns-quit is given. With a PID
 * as target, a timer checks once a second (NS_QUIT_PERIOD_S) whether that
 * process still exists: there is no descriptor to wait on for an arbitrary
 * process that isn't our child without pidfd, which needs Linux 5.3, and the
 * check is cheap.
 *
 * With --config-net, pasta gives the tap the configuration the host has:
 * address, default route, and (unless -a, -g or --no-copy-*) every global
 * address and route of the host interface; in local mode, with no host
 * interface to copy, 169.254.2.1/16 via 169.254.2.2 and a default route via
 * fe80::1. When the host changes (follow.c), pasta_ns_update() brings the tap
 * to the new configuration with the same code as at start (pasta_ns_ip()):
 * what's new first, then what we had added and isn't wanted any longer goes.
 * What we added is recorded (NL_SET_MAX entries of each kind per IP version)
 * so that nothing else is ever removed.
 *
 * Limits: the child gets at most NS_READY_TIMEOUT_MS to create its
 * namespaces, and the inotify handler reads at most NS_QUIT_READS buffers of
 * events per wake-up, so that the loop keeps running whatever happens in the
 * directory.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/if_tun.h>
#include <linux/nsfs.h>

#include "util.h"
#include "log.h"
#include "netlink.h"
#include "pasta.h"
#include "tap.h"

#define NS_READY_TIMEOUT_MS	(10 * 1000)	/* unshare() and maps: fast */
#define NS_QUIT_PERIOD_S	1		/* PID target liveness check */
#define NS_QUIT_READS		16		/* inotify buffers per wake-up */
#define NS_MTU_DEFAULT		MTU_MAX		/* tap MTU without -m */
#define NS_PREFIX_LEN6_DEFAULT	64		/* RFC 4291 2.5.4 */
#define NS_PREFIX_LEN4_DEFAULT	24		/* conf.c normally sets it */
#define PASTA_TAP_TXQLEN	10000	/* frames: ~10 ms at 1 Mpps */
#define NS_ID_MAP_LEN		64		/* "0 4294967295 1\n" fits */

/* Go-ahead pipe towards the spawned child, write end; -1 if none */
static int pasta_go_fd = -1;

/* Liveness timer for a PID target, -1 if none */
static int pasta_quit_timer_fd = -1;

/**
 * enum pasta_child_stage - Set-up step of the spawned child, for errors
 */
enum pasta_child_stage {
	STAGE_READY = 0,
	STAGE_PDEATHSIG,
	STAGE_UNSHARE,
	STAGE_UID_MAP,
	STAGE_SETGROUPS,
	STAGE_GID_MAP,
};

/**
 * struct pasta_child_msg - What the child tells the parent over the pipe
 * @stage:	enum pasta_child_stage that failed, STAGE_READY if none
 * @err:	errno of the failure
 */
struct pasta_child_msg {
	int stage;
	int err;
};

static const char *pasta_stage_str[] = {
	[STAGE_READY]		= "set up namespaces",
	[STAGE_PDEATHSIG]	= "set parent death signal",
	[STAGE_UNSHARE]		= "create user and network namespace",
	[STAGE_UID_MAP]		= "write uid_map in new user namespace",
	[STAGE_SETGROUPS]	= "deny setgroups in new user namespace",
	[STAGE_GID_MAP]		= "write gid_map in new user namespace",
};

/**
 * write_file() - Write a whole string to a file, in one write() call
 * @path:	File to write, e.g. /proc/self/uid_map
 * @s:		String to write
 *
 * The kernel parses uid_map and gid_map in a single write: a partial write
 * is an error.
 *
 * Return: 0 on success, -errno on failure
 */
static int write_file(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	n = write(fd, s, len);
	if (n < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	close(fd);

	return (size_t)n == len ? 0 : -EIO;
}

/**
 * write_all() - Write a whole buffer to a pipe, retrying on EINTR
 * @fd:		Pipe, write end
 * @buf:	Data
 * @len:	Length of @buf, at most PIPE_BUF (atomic)
 *
 * Return: 0 on success, -errno on failure
 */
static int write_all(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = write(fd, buf, len);
	} while (n < 0 && errno == EINTR);

	if (n < 0)
		return -errno;

	return (size_t)n == len ? 0 : -EIO;
}

/**
 * pasta_child_report() - Tell the parent how set-up went, in the child
 * @fd:		Ready pipe, write end
 * @stage:	Failed stage, or STAGE_READY
 * @err:	errno for a failure, 0 otherwise
 *
 * Exits (without running atexit handlers of the parent) on failure
 */
static void pasta_child_report(int fd, enum pasta_child_stage stage, int err)
{
	struct pasta_child_msg msg = { .stage = stage, .err = err };

	if (write_all(fd, &msg, sizeof(msg)) || stage != STAGE_READY)
		_exit(EXIT_FAILURE);
}

/**
 * pasta_child_exec() - Wait for the go-ahead, then run the command
 * @c:		Execution context
 * @go_fd:	Go-ahead pipe, read end
 *
 * Doesn't return: exits with 1 if the parent went away without a go-ahead,
 * 127 (as shells do) if the command can't be executed.
 */
static void pasta_child_exec(const struct ctx *c, int go_fd)
{
	char *sh_argv[3] = { NULL, NULL, NULL };
	char *const *argv;
	const char *shell;
	sigset_t set;
	ssize_t n;
	char go;
	int sig;

	do {
		n = read(go_fd, &go, 1);
	} while (n < 0 && errno == EINTR);

	if (n != 1)
		_exit(EXIT_FAILURE);
	close(go_fd);

	/* Ignored signals and the signal mask survive execve(): the command
	 * must not inherit what the main process set up for itself
	 */
	for (sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	}
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);

	if (c->pasta_child_argc > 0) {
		argv = c->pasta_child_argv;
	} else {
		shell = getenv("SHELL");
		if (!shell || !*shell)
			shell = "/bin/sh";

		/* An interactive shell, as if started from the terminal */
		sh_argv[0] = (char *)(uintptr_t)shell;
		if (isatty(STDIN_FILENO))
			sh_argv[1] = "-i";
		argv = sh_argv;
	}

	execvp(argv[0], argv);

	fprintf(stderr, "Failed to start command or shell %s: %s\n",
		argv[0], strerror(errno));
	_exit(127);
}

/**
 * pasta_child_setup() - Create and map namespaces, in the spawned child
 * @c:		Execution context
 * @ready_fd:	Ready pipe, write end
 * @go_fd:	Go-ahead pipe, read end
 * @ppid:	PID of the main process
 * @uid:	User to map to root in the new user namespace
 * @gid:	Group to map to root in the new user namespace
 *
 * Doesn't return
 */
static void pasta_child_setup(const struct ctx *c, int ready_fd, int go_fd,
			      pid_t ppid, uid_t uid, gid_t gid)
{
	char map[NS_ID_MAP_LEN];
	int rc;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM))
		pasta_child_report(ready_fd, STAGE_PDEATHSIG, errno);

	/* The main process might have died before prctl() took effect */
	if (getppid() != ppid)
		_exit(EXIT_FAILURE);

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
		pasta_child_report(ready_fd, STAGE_UNSHARE, errno);

	/* user_namespaces(7), "User and group ID mappings": a process may
	 * map its own effective IDs, and needs to deny setgroups(2) before
	 * it may write gid_map
	 */
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
	if ((rc = write_file("/proc/self/uid_map", map)))
		pasta_child_report(ready_fd, STAGE_UID_MAP, -rc);

	if ((rc = write_file("/proc/self/setgroups", "deny")))
		pasta_child_report(ready_fd, STAGE_SETGROUPS, -rc);

	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
	if ((rc = write_file("/proc/self/gid_map", map)))
		pasta_child_report(ready_fd, STAGE_GID_MAP, -rc);

	pasta_child_report(ready_fd, STAGE_READY, 0);
	close(ready_fd);

	pasta_child_exec(c, go_fd);
}

/**
 * pasta_start_ns() - Create user and network namespace, spawn the command
 * @c:		Execution context
 *
 * The command (or shell) is started only by pasta_child_run(). Dies on
 * failure.
 */
void pasta_start_ns(struct ctx *c)
{
	int ready[2], go[2], rc, status;
	struct pasta_child_msg msg;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	pid_t ppid = getpid();
	struct pollfd pfd;
	ssize_t n;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		die("Cannot create pipes to spawn namespace: %s",
		    strerror(errno));

	/* Flush now: the child must not write out our buffered output */
	fflush(stdout);
	fflush(stderr);

	pid = fork();
	if (pid < 0)
		die("Cannot fork to create namespace: %s", strerror(errno));

	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		pasta_child_setup(c, ready[1], go[0], ppid, uid, gid);
	}

	close(ready[1]);
	close(go[0]);

	pfd.fd = ready[0];
	pfd.events = POLLIN;
	do {
		rc = poll(&pfd, 1, NS_READY_TIMEOUT_MS);
	} while (rc < 0 && errno == EINTR);

	if (rc <= 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		die("Timed out waiting for namespace creation");
	}

	do {
		n = read(ready[0], &msg, sizeof(msg));
	} while (n < 0 && errno == EINTR);
	close(ready[0]);

	if (n != sizeof(msg)) {
		waitpid(pid, &status, 0);
		die("Namespace set-up process exited unexpectedly");
	}

	if (msg.stage != STAGE_READY) {
		waitpid(pid, &status, 0);
		if (msg.stage < 0 || msg.stage >= (int)ARRAY_SIZE(pasta_stage_str))
			msg.stage = STAGE_READY;
		die("Cannot %s: %s", pasta_stage_str[msg.stage],
		    strerror(msg.err));
	}

	pasta_go_fd = go[1];
	c->pasta_child_pid = pid;

	snprintf(c->netns_path, sizeof(c->netns_path), "/proc/%i/ns/net",
		 (int)pid);
	snprintf(c->userns_path, sizeof(c->userns_path), "/proc/%i/ns/user",
		 (int)pid);

	/* We're the parent of the command: going to background would make
	 * the command an orphan (killed by its parent death signal) and its
	 * exit status unreachable
	 */
	c->foreground = 1;

	debug("Spawned namespace holder, PID %i", (int)pid);
}

/**
 * pasta_ns_check_type() - Check that @fd refers to a namespace of @type
 * @fd:		Namespace file descriptor
 * @type:	CLONE_NEWNET or CLONE_NEWUSER
 *
 * Return: 0 if it does, or if the kernel can't tell (before Linux 4.11),
 *	   -EINVAL if it doesn't
 */
static int pasta_ns_check_type(int fd, int type)
{
	int rc = ioctl(fd, NS_GET_NSTYPE);

	if (rc < 0)
		return errno == ENOTTY ? 0 : -EINVAL;

	return rc == type ? 0 : -EINVAL;
}

/**
 * pasta_open_ns() - Open the target netns, join the target user namespace
 * @c:		Execution context
 *
 * Dies on failure
 */
void pasta_open_ns(struct ctx *c)
{
	struct stat self, target;
	int fd;

	fd = open(c->netns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("Cannot open network namespace %s: %s", c->netns_path,
		    strerror(errno));
	if (pasta_ns_check_type(fd, CLONE_NEWNET))
		die("%s is not a network namespace", c->netns_path);
	c->pasta_netns_fd = fd;

	if (c->netns_only || !c->userns_path[0])
		return;

	fd = open(c->userns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("Cannot open user namespace %s: %s", c->userns_path,
		    strerror(errno));
	if (pasta_ns_check_type(fd, CLONE_NEWUSER))
		die("%s is not a user namespace", c->userns_path);
	c->pasta_userns_fd = fd;

	/* setns() into the user namespace we are already in fails with
	 * EINVAL: nothing to do then
	 */
	if (!stat("/proc/self/ns/user", &self) && !fstat(fd, &target) &&
	    self.st_dev == target.st_dev && self.st_ino == target.st_ino)
		return;

	if (setns(fd, CLONE_NEWUSER))
		die("Cannot join user namespace %s: %s", c->userns_path,
		    strerror(errno));
}

/**
 * struct pasta_tap_arg - Argument and result of pasta_tap_open_ns()
 * @c:		Execution context
 * @fd:		tap device descriptor, on success
 * @ifi:	Interface index in the namespace, on success
 * @what:	Failed step, on failure
 * @err:	errno of the failure
 */
struct pasta_tap_arg {
	struct ctx *c;
	int fd;
	unsigned int ifi;
	const char *what;
	int err;
};

/**
 * pasta_tap_open_ns() - Create the tap device, in an ns_call() child
 * @arg:	struct pasta_tap_arg
 *
 * Return: 0 on success, -errno on failure (details in @arg)
 */
static int pasta_tap_open_ns(void *arg)
{
	struct pasta_tap_arg *a = (struct pasta_tap_arg *)arg;
	struct ctx *c = a->c;
	struct ifreq ifr;
	int rc, fd;

	if ((rc = ns_enter(c))) {
		a->what = "join network namespace";
		a->err = -rc;
		return rc;
	}

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		a->what = "open /dev/net/tun";
		a->err = errno;
		return -a->err;
	}

	/* An empty name lets the kernel pick one (tap%d). A virtio-net header
	 * in front of each frame carries offloads (tap_offload_init()): a
	 * kernel that refuses it gets the plain tap
	 */
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (!c->no_tap_offload)
		ifr.ifr_flags |= IFF_VNET_HDR;
	memcpy(ifr.ifr_name, c->pasta_ifname, sizeof(ifr.ifr_name) - 1);

	rc = ioctl(fd, TUNSETIFF, &ifr);
	if (rc && (ifr.ifr_flags & IFF_VNET_HDR)) {
		debug("tap: no virtio-net header: %s", strerror(errno));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		rc = ioctl(fd, TUNSETIFF, &ifr);
	}
	if (rc) {
		a->what = "create tap device (TUNSETIFF)";
		a->err = errno;
		close(fd);
		return -a->err;
	}
	tap_offload_init(fd, !!(ifr.ifr_flags & IFF_VNET_HDR));
	ifr.ifr_name[sizeof(ifr.ifr_name) - 1] = '\0';
	memcpy(c->pasta_ifname, ifr.ifr_name, sizeof(c->pasta_ifname));

	a->ifi = if_nametoindex(c->pasta_ifname);
	if (!a->ifi) {
		a->what = "get tap interface index";
		a->err = errno;
		close(fd);
		return -a->err;
	}

	a->fd = fd;
	return 0;
}

/**
 * pasta_tap_open() - Create the tap device in the target namespace
 * @c:		Execution context
 *
 * Return: 0, dies on failure
 */
int pasta_tap_open(struct ctx *c)
{
	struct pasta_tap_arg a = { .c = c, .fd = -1, .what = NULL };
	int rc;

	rc = ns_call(pasta_tap_open_ns, &a);
	if (rc || a.fd < 0) {
		if (a.what)
			die("Cannot %s in namespace: %s", a.what,
			    strerror(a.err));
		die("Cannot create tap device in namespace: %s",
		    strerror(rc < 0 ? -rc : EIO));
	}

	if (a.fd > FD_REF_MAX)
		die("tap device descriptor %i too large", a.fd);

	c->fd_tap = a.fd;
	c->pasta_ifi = a.ifi;

	debug("tap device %s, index %u in namespace", c->pasta_ifname,
	      c->pasta_ifi);

	return 0;
}

/* What --config-net put on the tap, for each IP version ([0]: IPv4, [1]:
 * IPv6). Following the host, what we added and isn't wanted any longer is
 * removed, and nothing else: not the link-local addresses of the kernel, not
 * what a user added in the namespace. Addresses and routes that were there
 * before we tried to add them aren't ours either.
 */
static struct nl_set pasta_ns_addrs[2];
static struct nl_set pasta_ns_routes[2];

/* Scratch for pasta_ns_ip(): wanted now, and what's ours after a change */
static struct nl_set pasta_want_addrs;
static struct nl_set pasta_want_routes;
static struct nl_set pasta_ns_kept;

/**
 * pasta_ns_msg() - Report a failure to add or remove an address or a route
 * @fatal:	Start-up, and the configured address or the default route:
 *		die(); otherwise (copies, or following the host) warn()
 * @c:		Execution context
 * @af:		Address family
 * @route:	@e is a route, not an address
 * @e:		Address or route
 * @what:	"add" or "remove"
 * @rc:		Negative error code
 */
static void pasta_ns_msg(int fatal, const struct ctx *c, sa_family_t af,
			 int route, const struct nl_entry *e, const char *what,
			 int rc)
{
	char a[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN];
	char dst[INET6_ADDRSTRLEN + sizeof("/128")];

	inet_ntop(af, e->a, a, sizeof(a));
	inet_ntop(af, e->gw, gw, sizeof(gw));
	if (route && !e->plen)
		snprintf(dst, sizeof(dst), "default");
	else
		snprintf(dst, sizeof(dst), "%s/%i", a, e->plen);

	logmsg(fatal ? LOG_ERR : LOG_WARNING,
	       "Cannot %s %s %s%s%s on %s in namespace: %s", what,
	       route ? "route" : "address", dst, e->has_gw ? " via " : "",
	       e->has_gw ? gw : "", c->pasta_ifname, strerror(-rc));
	if (fatal)
		exit(EXIT_FAILURE);
}

/**
 * pasta_ns_want() - Addresses and routes the configuration asks for
 * @c:		Execution context
 * @af:		Address family
 * @addr_first:	Set if the first address is the configured one
 * @route_first: Set if the first route is the default one
 *
 * Fills pasta_want_addrs with the configured address (in local mode:
 * 169.254.2.1/16 for IPv4, none for IPv6), then, with copy_addrs, the global
 * addresses of the host interface; pasta_want_routes with the default route
 * via the configured gateway (in local mode 169.254.2.2, or fe80::1, on the
 * tap), then, with copy_routes, the routes of the host interface. Nothing
 * is copied in local mode: c->ifi4 or c->ifi6 is loopback then, and its
 * 127.0.0.1 doesn't belong on the tap. An IP version without interface wants
 * nothing.
 */
static void pasta_ns_want(const struct ctx *c, sa_family_t af,
			  int *addr_first, int *route_first)
{
	unsigned int ifi = af == AF_INET6 ? c->ifi6 : c->ifi4;
	int local, copy_addrs, copy_routes, plen, rc;
	struct nl_entry e;
	const char *ifname;

	nl_set_init(&pasta_want_addrs, af);
	nl_set_init(&pasta_want_routes, af);
	*addr_first = *route_first = 0;
	if (!ifi)
		return;

	memset(&e, 0, sizeof(e));
	if (af == AF_INET) {
		plen = c->ip4.prefix_len;
		if (plen <= 0 || plen > 32)
			plen = NS_PREFIX_LEN4_DEFAULT;

		if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.addr)) {
			memcpy(e.a, &c->ip4.addr, sizeof(c->ip4.addr));
			e.plen = plen;
			*addr_first = !nl_set_put(&pasta_want_addrs, &e);
		}

		memset(&e, 0, sizeof(e));
		if (!IN4_IS_ADDR_UNSPECIFIED(&c->ip4.gw)) {
			uint32_t mask = htonl(0xffffffffU << (32 - plen));

			memcpy(e.gw, &c->ip4.gw, sizeof(c->ip4.gw));
			e.has_gw = 1;
			/* -a outside the gateway's subnet: on-link anyway */
			e.onlink = !!((c->ip4.addr.s_addr ^
				       c->ip4.gw.s_addr) & mask);
			*route_first = !nl_set_put(&pasta_want_routes, &e);
		}

		local = c->ip4.local;
		copy_addrs = c->ip4.copy_addrs;
		copy_routes = c->ip4.copy_routes;
		ifname = c->ip4.ifname_out;
	} else {
		plen = c->ip6.prefix_len;
		if (plen <= 0 || plen > 128)
			plen = NS_PREFIX_LEN6_DEFAULT;

		if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.addr)) {
			memcpy(e.a, &c->ip6.addr, sizeof(c->ip6.addr));
			e.plen = plen;
			*addr_first = !nl_set_put(&pasta_want_addrs, &e);
		}

		memset(&e, 0, sizeof(e));
		if (!IN6_IS_ADDR_UNSPECIFIED(&c->ip6.gw)) {
			memcpy(e.gw, &c->ip6.gw, sizeof(c->ip6.gw));
			e.has_gw = 1;
			e.onlink = !IN6_IS_ADDR_LINKLOCAL(&c->ip6.gw) &&
				   !ip6_prefix_eq(&c->ip6.addr, &c->ip6.gw,
						  plen);
			*route_first = !nl_set_put(&pasta_want_routes, &e);
		}

		local = c->ip6.local;
		copy_addrs = c->ip6.copy_addrs;
		copy_routes = c->ip6.copy_routes;
		ifname = c->ip6.ifname_out;
	}

	if (local)
		return;

	/* Man page, --config-net: every global address and route of the
	 * host interface, after the ones above (the same ones: counted once)
	 */
	if (copy_addrs &&
	    (rc = nl_addr_collect(nl_sock, ifi, &pasta_want_addrs)))
		warn("Cannot read IPv%c addresses of %s to copy: %s",
		     af == AF_INET ? '4' : '6', ifname, strerror(-rc));
	if (copy_routes &&
	    (rc = nl_route_collect(nl_sock, ifi, &pasta_want_routes)))
		warn("Cannot read IPv%c routes of %s to copy: %s",
		     af == AF_INET ? '4' : '6', ifname, strerror(-rc));

	if (pasta_want_addrs.dropped || pasta_want_routes.dropped)
		warn("--config-net: %i addresses and %i routes of %s left out, "
		     "beyond the %i of each copied", pasta_want_addrs.dropped,
		     pasta_want_routes.dropped, ifname, NL_SET_MAX);
}

/**
 * pasta_ns_add() - Put wanted addresses, or routes, on the tap
 * @c:		Execution context
 * @route:	Routes, not addresses
 * @have:	What's ours on the tap so far
 * @want:	What we want there now
 * @required:	The first entry of @want is the configured address, or the
 *		default route: failing it at start-up is fatal
 * @start:	Start-up, not an update
 * @ours:	Set for each entry of @want that's ours now
 *
 * Routes without gateway go first: they make the gateways of the others
 * reachable. At start-up a route that's there already stays as it is (and
 * isn't ours); afterwards, a route to the same destination with the same
 * metric is replaced (NLM_F_REPLACE): the default route moves to the new
 * gateway in one step.
 */
static void pasta_ns_add(const struct ctx *c, int route,
			 const struct nl_set *have, const struct nl_set *want,
			 int required, int start, unsigned char *ours)
{
	size_t alen = want->af == AF_INET6 ? sizeof(struct in6_addr) :
					     sizeof(struct in_addr);
	int i, j, pass, rc;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < want->n; i++) {
			const struct nl_entry *e = &want->e[i];

			if (route ? e->has_gw != pass : pass)
				continue;

			if (route) {
				rc = nl_route_add(nl_sock_ns, c->pasta_ifi,
						  want->af, e, !start);
				ours[i] = !rc || (rc == -EEXIST &&
						  nl_set_has(have, e));
				if (rc && rc != -EEXIST)
					pasta_ns_msg(start && required && !i,
						     c, want->af, 1, e, "add",
						     rc);
				continue;
			}

			/* IPv6 keeps one prefix length per address: ours
			 * with the old one goes first, or we'd keep it
			 */
			for (j = 0; want->af == AF_INET6 && j < have->n; j++) {
				const struct nl_entry *h = &have->e[j];

				if (h->plen != e->plen &&
				    !memcmp(h->a, e->a, alen) &&
				    (rc = nl_addr_del(nl_sock_ns, c->pasta_ifi,
						      AF_INET6, h)) &&
				    rc != -EADDRNOTAVAIL)
					pasta_ns_msg(0, c, AF_INET6, 0, h,
						     "remove", rc);
			}

			rc = nl_addr_add(nl_sock_ns, c->pasta_ifi, want->af, e);
			ours[i] = !rc || (rc == -EEXIST && nl_set_has(have, e));
			if (rc && rc != -EEXIST)
				pasta_ns_msg(start && required && !i, c,
					     want->af, 0, e, "add", rc);
		}
	}
}

/**
 * pasta_ns_prune() - Remove what's ours on the tap and no longer wanted
 * @c:		Execution context
 * @route:	Routes, not addresses
 * @have:	What's ours on the tap, updated
 * @want:	What we want there now
 * @ours:	Entries of @want that are ours, from pasta_ns_add()
 */
static void pasta_ns_prune(const struct ctx *c, int route,
			   struct nl_set *have, const struct nl_set *want,
			   const unsigned char *ours)
{
	int i, rc;

	nl_set_init(&pasta_ns_kept, want->af);
	for (i = 0; i < want->n; i++) {
		if (ours[i])
			nl_set_put(&pasta_ns_kept, &want->e[i]);
	}

	for (i = 0; i < have->n; i++) {
		const struct nl_entry *h = &have->e[i];

		if (nl_set_has(want, h))
			continue;

		/* A wanted route with the same key replaced it: deleting it
		 * without gateway, IPv6 would delete the new one
		 */
		if (route && nl_set_has_key(want, h))
			continue;

		if (route)
			rc = nl_route_del(nl_sock_ns, c->pasta_ifi, want->af,
					  h);
		else
			rc = nl_addr_del(nl_sock_ns, c->pasta_ifi, want->af,
					 h);

		/* Gone already (with an address, its routes go too) */
		if (!rc || rc == (route ? -ESRCH : -EADDRNOTAVAIL))
			continue;

		/* Still there, still ours: try again next time */
		pasta_ns_msg(0, c, want->af, route, h, "remove", rc);
		nl_set_put(&pasta_ns_kept, h);
	}

	*have = pasta_ns_kept;
}

/**
 * pasta_ns_ip() - Make addresses and routes of one IP version on the tap
 *		   match the configuration
 * @c:		Execution context
 * @af:		Address family
 * @start:	Start-up (dies if the configured address or the default route
 *		can't be set), not an update (only warns)
 *
 * New addresses go first, so that the tap always has one of each IP version
 * in use (IPv4 flushes every route of a link that loses its last address),
 * then routes, then what's stale: routes, addresses. Link state and MTU are
 * left alone.
 */
static void pasta_ns_ip(const struct ctx *c, sa_family_t af, int start)
{
	unsigned char ours_addrs[NL_SET_MAX] = { 0 };
	unsigned char ours_routes[NL_SET_MAX] = { 0 };
	int v6 = af == AF_INET6, addr_first, route_first;

	pasta_ns_want(c, af, &addr_first, &route_first);

	pasta_ns_add(c, 0, &pasta_ns_addrs[v6], &pasta_want_addrs,
		     addr_first, start, ours_addrs);
	pasta_ns_add(c, 1, &pasta_ns_routes[v6], &pasta_want_routes,
		     route_first, start, ours_routes);

	pasta_ns_prune(c, 1, &pasta_ns_routes[v6], &pasta_want_routes,
		       ours_routes);
	pasta_ns_prune(c, 0, &pasta_ns_addrs[v6], &pasta_want_addrs,
		       ours_addrs);
}

/**
 * pasta_ns_conf() - Set up loopback, and with --config-net the tap device
 * @c:		Execution context
 *
 * Dies on failure
 */
void pasta_ns_conf(struct ctx *c)
{
	int rc;

	/* Index 1 is always loopback: it's the first device of a netns */
	if ((rc = nl_link_up(nl_sock_ns, 1, 0)))
		die("Cannot bring up loopback in namespace: %s",
		    strerror(-rc));

	if (c->splice_only)	/* no tap device: loopback is all there is */
		return;

	/* A longer transmit queue absorbs bursts from the namespace while
	 * we're busy elsewhere: frames dropped there are lost for UDP. Not
	 * fatal: the default queue works, just with more loss under load.
	 */
	if ((rc = nl_link_set_txqlen(nl_sock_ns, c->pasta_ifi,
				     PASTA_TAP_TXQLEN)))
		debug("Cannot set transmit queue length of %s: %s",
		      c->pasta_ifname, strerror(-rc));

	if (!mac_is_zero(c->ns_mac)) {
		rc = nl_link_set_mac(nl_sock_ns, c->pasta_ifi, c->ns_mac);
		if (rc)
			die("Cannot set MAC address of %s in namespace: %s",
			    c->pasta_ifname, strerror(-rc));
	}

	if (!c->pasta_conf_ns)
		return;

	rc = nl_link_up(nl_sock_ns, c->pasta_ifi,
			c->mtu ? c->mtu : NS_MTU_DEFAULT);
	if (rc)
		die("Cannot bring up %s in namespace: %s", c->pasta_ifname,
		    strerror(-rc));

	/* Following the host, a new IPv4 address of the same subnet comes
	 * before the old one goes, as a secondary: it must survive that. Not
	 * fatal: only a renumbering within a subnet needs it.
	 */
	if (c->ifi4 &&
	    (rc = nl_link_promote_secondaries(nl_sock_ns, c->pasta_ifi)))
		debug("Cannot set promote_secondaries on %s: %s",
		      c->pasta_ifname, strerror(-rc));

	if (c->ifi4)
		pasta_ns_ip(c, AF_INET, 1);
	if (c->ifi6) {
		if ((rc = nl_addr_ll_nodad(nl_sock_ns, c->pasta_ifi)))
			debug("Cannot skip duplicate address detection for "
			      "link-local addresses of %s: %s",
			      c->pasta_ifname, strerror(-rc));
		pasta_ns_ip(c, AF_INET6, 1);
	}
}

/**
 * pasta_child_run() - Let the spawned command start, if there is one
 * @c:		Execution context
 */
void pasta_child_run(struct ctx *c)
{
	int rc;

	if (pasta_go_fd < 0)
		return;

	if ((rc = write_all(pasta_go_fd, "g", 1)))
		die("Cannot start command in namespace: %s", strerror(-rc));

	close(pasta_go_fd);
	pasta_go_fd = -1;

	debug("Command in namespace started, PID %i", (int)c->pasta_child_pid);
}

/**
 * pasta_sigchld() - Reap children, exit with the command's status if it quit
 * @c:		Execution context
 *
 * Return: 0, doesn't return if the spawned command terminated
 */
/* #syscalls:pasta wait4 exit_group */
int pasta_sigchld(struct ctx *c)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (!c->pasta_child_pid || pid != c->pasta_child_pid)
			continue;

		if (WIFEXITED(status)) {
			debug("Command in namespace exited with status %i",
			      WEXITSTATUS(status));
			exit(WEXITSTATUS(status));
		}

		if (WIFSIGNALED(status)) {
			debug("Command in namespace killed by signal %i",
			      WTERMSIG(status));
			/* As shells report it */
			exit(128 + WTERMSIG(status));
		}
	}

	return 0;
}

/**
 * pasta_netns_quit_init() - Watch for the target namespace to go away
 * @c:		Execution context, with epoll descriptor ready
 *
 * Dies on failure
 */
void pasta_netns_quit_init(struct ctx *c)
{
	union epoll_ref ref = { .type = EPOLL_TYPE_NSQUIT_INOTIFY };
	char dir[PATH_MAX];
	char *slash;
	int fd, rc;

	if (c->netns_base[0]) {
		/* The watch is on the directory: the file is a mountpoint of
		 * nsfs, and a watch on it would see nsfs, not the unlink
		 */
		memcpy(dir, c->netns_path, sizeof(dir));
		dir[sizeof(dir) - 1] = '\0';
		slash = strrchr(dir, '/');
		if (!slash)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';

		fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (fd < 0)
			die("Cannot create inotify instance: %s",
			    strerror(errno));

		if (inotify_add_watch(fd, dir, IN_DELETE) < 0)
			die("Cannot watch namespace directory %s: %s", dir,
			    strerror(errno));

		ref.fd = fd;
		if ((rc = epoll_add(c->epollfd, EPOLLIN, ref)))
			die("Cannot add namespace watch to epoll: %s",
			    strerror(-rc));

		debug("Watching %s for deletion of %s", dir, c->netns_base);
		return;
	}

	if (c->pasta_pid > 0) {
		struct itimerspec it = {
			.it_value	= { .tv_sec = NS_QUIT_PERIOD_S },
			.it_interval	= { .tv_sec = NS_QUIT_PERIOD_S },
		};

		fd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_NONBLOCK | TFD_CLOEXEC);
		if (fd < 0)
			die("Cannot create namespace liveness timer: %s",
			    strerror(errno));

		if (timerfd_settime(fd, 0, &it, NULL))
			die("Cannot set namespace liveness timer: %s",
			    strerror(errno));

		ref.type = EPOLL_TYPE_NSQUIT_TIMER;
		ref.fd = fd;
		if ((rc = epoll_add(c->epollfd, EPOLLIN, ref)))
			die("Cannot add namespace liveness timer to epoll: %s",
			    strerror(-rc));

		pasta_quit_timer_fd = fd;
	}
}

/**
 * pasta_netns_quit_gone() - Is this inotify event the deletion of the netns?
 * @mask:	Event mask
 * @wd:		Watch descriptor (there's one watch)
 * @name:	File name, not NUL-terminated
 * @len:	Its length
 * @arg:	Execution context
 *
 * Return: true if the namespace file was deleted
 */
static bool pasta_netns_quit_gone(uint32_t mask, int wd, const char *name,
				  size_t len, void *arg)
{
	const struct ctx *c = (const struct ctx *)arg;

	(void)wd;
	return (mask & IN_DELETE) &&
	       len == strnlen(c->netns_base, sizeof(c->netns_base)) &&
	       !memcmp(name, c->netns_base, len);
}

/**
 * pasta_netns_quit_handler() - Exit if the target namespace file is deleted
 * @c:		Execution context
 * @inotify_fd:	inotify descriptor, watching the directory of the netns
 */
/* #syscalls:pasta exit_group */
void pasta_netns_quit_handler(struct ctx *c, int inotify_fd)
{
	if (!inotify_each(inotify_fd, NS_QUIT_READS, pasta_netns_quit_gone, c) ||
	    c->no_netns_quit)
		return;

	info("Namespace %s is gone, exiting", c->netns_base);
	exit(EXIT_SUCCESS);
}

/**
 * pasta_netns_quit_timer() - Exit if the process given as target is gone
 * @c:		Execution context
 */
/* #syscalls:pasta read kill exit_group */
void pasta_netns_quit_timer(struct ctx *c)
{
	uint64_t expired;

	if (pasta_quit_timer_fd >= 0 &&
	    read(pasta_quit_timer_fd, &expired, sizeof(expired)) < 0 &&
	    errno != EAGAIN)
		warn_ratelimit("Namespace liveness timer: %s",
			       strerror(errno));

	if (c->pasta_pid <= 0 || c->no_netns_quit)
		return;

	if (kill(c->pasta_pid, 0) == -1 && errno == ESRCH) {
		info("Namespace of process %i is gone, exiting",
		     (int)c->pasta_pid);
		exit(EXIT_SUCCESS);
	}
}

/**
 * pasta_ns_update() - Apply a changed configuration to the namespace
 * @c:		Execution context, with the new configuration
 * @old4:	IPv4 configuration before the change
 * @old6:	IPv6 configuration before the change
 *
 * Only with --config-net: otherwise the namespace isn't ours to configure.
 * What the old configuration put on the tap is in pasta_ns_addrs and
 * pasta_ns_routes, with the copies of the host's addresses and routes that
 * @old4 and @old6 don't tell: those only go to the log. Runs confined, from
 * the timer: netlink requests only (see nl_do()), and failures only warn.
 */
void pasta_ns_update(struct ctx *c, const struct ip4_ctx *old4,
		     const struct ip6_ctx *old6)
{
	char o4[INET_ADDRSTRLEN], n4[INET_ADDRSTRLEN];
	char o6[INET6_ADDRSTRLEN], n6[INET6_ADDRSTRLEN];

	if (!c->pasta_conf_ns || c->splice_only || !c->pasta_ifi)
		return;

	debug("Updating %s in namespace: %s%s -> %s%s, %s%s -> %s%s",
	      c->pasta_ifname,
	      inet_ntop(AF_INET, &old4->addr, o4, sizeof(o4)),
	      old4->local ? " (local)" : "",
	      inet_ntop(AF_INET, &c->ip4.addr, n4, sizeof(n4)),
	      c->ip4.local ? " (local)" : "",
	      inet_ntop(AF_INET6, &old6->addr, o6, sizeof(o6)),
	      old6->local ? " (local)" : "",
	      inet_ntop(AF_INET6, &c->ip6.addr, n6, sizeof(n6)),
	      c->ip6.local ? " (local)" : "");

	pasta_ns_ip(c, AF_INET, 0);
	pasta_ns_ip(c, AF_INET6, 0);
}
