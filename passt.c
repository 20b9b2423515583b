// SPDX-License-Identifier: AGPL-3.0-or-later

/* passt.c - Entry point and main loop of passt and pasta
 *
 * Theory of operation: one process, one thread, one epoll loop. The name we
 * are started with picks the mode: "pasta" (or "passt4netns") serves a
 * network namespace through a tap device, anything else serves a qemu guest
 * over a UNIX domain socket. After configuration (conf.c) and, for pasta,
 * namespace set-up (pasta.c), every descriptor is registered with epoll
 * with a tagged reference (passt.h: type, fd, protocol bits; never a
 * pointer), and events are dispatched by type to the module that owns the
 * descriptor. Signals arrive through a signalfd in the same loop, so there
 * are no asynchronous handlers. Protocols get a periodic timer tick.
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <limits.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "passt.h"
#include "util.h"
#include "log.h"
#include "conf.h"
#include "netlink.h"
#include "pasta.h"
#include "tap.h"
#include "pcap.h"
#include "dhcp.h"
#include "dhcpv6.h"
#include "ndp.h"
#include "tcp.h"
#include "tcp_splice.h"
#include "udp.h"
#include "follow.h"
#include "icmp.h"
#include "isolation.h"

#define EPOLL_EVENTS		8	/* events per epoll_wait(): fairness */
#define TIMER_INTERVAL_MS	1000	/* protocol timer tick */

static struct ctx c;	/* large (forwarding tables): static, not stack */
static int sock_created;	/* passt: unlink the socket at exit */
static int started_as_root;	/* UID 0 of the initial user namespace */
static int pidfile_fd = -1;	/* -P: opened before dropping privileges */

/**
 * exit_cleanup() - Remove our UNIX domain socket, report counters
 */
static void exit_cleanup(void)
{
	if (sock_created && c.fd_tap_listen >= 0)
		unlink(c.sock_path);

	debug("tap: %lu frames in, %lu sent, dropped: %lu bad length, "
	      "%lu bad Ethernet, %lu bad L3, %lu bad L4, %lu unhandled, "
	      "%lu not sent",
	      tap_stats.frames, tap_stats.sent, tap_stats.bad_len,
	      tap_stats.bad_eth, tap_stats.bad_l3, tap_stats.bad_l4,
	      tap_stats.unhandled, tap_stats.send_drop);
	debug("tap: offloads: %lu super-segments in, %lu out, %lu bad "
	      "virtio-net headers", tap_stats.gso_in, tap_stats.gso_out,
	      tap_stats.bad_vnet);
}

/**
 * stats_report() - With --stats, one line of counters, if anything changed
 * @now:	Current timestamp
 *
 * At most one line every --stats seconds, none if nothing happened since
 * the last one (as the man page says), and even with -q: the user asked.
 */
static void stats_report(const struct timespec *now)
{
	static unsigned long last_in = ULONG_MAX, last_out, last_drop;
	static int last_tcp, last_splice;
	static struct timespec last;
	unsigned long drop;
	int tcp, splice;

	if (!c.stats_delay ||
	    (last_in != ULONG_MAX &&
	     timespec_diff_ms(now, &last) < c.stats_delay * 1000LL))
		return;

	drop = tap_stats.bad_len + tap_stats.bad_eth + tap_stats.bad_l3 +
	       tap_stats.bad_l4 + tap_stats.unhandled + tap_stats.send_drop +
	       tap_stats.bad_vnet;
	tcp = c.no_tcp ? 0 : tcp_conns_active();
	splice = c.no_tcp ? 0 : tcp_splice_pairs_active();

	if (tap_stats.frames == last_in && tap_stats.sent == last_out &&
	    drop == last_drop && tcp == last_tcp && splice == last_splice)
		return;

	logmsg_always("stats: tap frames in %lu, out %lu, dropped %lu; "
		      "TCP connections %i, spliced %i",
		      tap_stats.frames, tap_stats.sent, drop, tcp, splice);

	last_in = tap_stats.frames;
	last_out = tap_stats.sent;
	last_drop = drop;
	last_tcp = tcp;
	last_splice = splice;
	last = *now;
}

/**
 * signals_init() - Route SIGCHLD, SIGTERM, SIGINT, SIGHUP through a
 *		    signalfd, ignore SIGPIPE
 *
 * Return: the signalfd
 */
static int signals_init(void)
{
	union epoll_ref ref = { .type = EPOLL_TYPE_SIGNAL };
	sigset_t mask;
	int fd;

	signal(SIGPIPE, SIG_IGN);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		die("Cannot block signals: %s", strerror(errno));

	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		die("Cannot create signalfd: %s", strerror(errno));

	ref.fd = fd;
	if (epoll_add(c.epollfd, EPOLLIN, ref))
		die("Cannot add signalfd to epoll: %s", strerror(errno));

	return fd;
}

/**
 * signal_handler() - Read pending signals and act on them
 * @fd:		signalfd
 */
/* #syscalls: read wait4 exit_group */
static void signal_handler(int fd)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			if (c.mode == MODE_PASTA)
				pasta_sigchld(&c);
			else
				while (waitpid(-1, NULL, WNOHANG) > 0)
					;
			break;
		case SIGUSR1:
			exit_cleanup();
			break;
		default:
			info("Received signal %u, exiting", si.ssi_signo);
			exit(EXIT_SUCCESS);
		}
	}
}

/**
 * rlimit_raise() - Raise the file descriptor soft limit to the hard one:
 *		    each connection needs descriptors
 */
static void rlimit_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;

	if (rl.rlim_max > FD_REF_MAX)
		rl.rlim_max = FD_REF_MAX;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/**
 * uid_is_init_root() - Are we UID 0 of the initial user namespace?
 *
 * UID 0 inside a user namespace (unshare -rU, a rootless container) is
 * only the owner of that namespace: it has no privileges over the host,
 * and "nobody" might not even be mapped there. The initial namespace maps
 * the whole ID range onto itself: "0 0 4294967295" in uid_map.
 *
 * Return: 1 if the effective UID is 0 and we're in the initial namespace
 */
static int uid_is_init_root(void)
{
	unsigned long first, lower, count;
	char buf[128];
	ssize_t n;
	int fd;

	if (geteuid() != 0)
		return 0;

	fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	if (fd < 0)	/* no /proc: assume the worst, drop privileges */
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';

	if (sscanf(buf, "%lu %lu %lu", &first, &lower, &count) != 3)
		return 1;

	return first == 0 && lower == 0 && count == 4294967295UL;
}

/**
 * drop_privileges() - If started as root, become --runas (or nobody)
 *
 * pasta that joined a user namespace has no privileges outside it (UID 0
 * there is just the namespace owner): nothing to drop, and the --runas IDs
 * wouldn't be mapped in it anyway.
 */
static void drop_privileges(void)
{
	if (!started_as_root ||
	    (c.mode == MODE_PASTA && !c.netns_only))
		return;

	if (setgroups(0, NULL) && errno != EPERM)
		die("Cannot drop supplementary groups: %s", strerror(errno));

	if (setgid(c.gid) || setuid(c.uid))
		die("Cannot change to UID %u, GID %u for --runas: %s",
		    (unsigned)c.uid, (unsigned)c.gid, strerror(errno));
}

/**
 * daemonize() - Fork to background, write the PID file, detach
 */
static void daemonize(void)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0)
		die("Cannot fork to background: %s", strerror(errno));

	if (pid) {
		sock_created = 0;	/* the child owns it now */
		if (pidfile_write(pidfile_fd, pid)) {
			/* The daemon is useless to a caller that can't find
			 * it: stop it, and say so with our exit status
			 */
			kill(pid, SIGKILL);
			fprintf(stderr, "Cannot write PID file %s\n",
				c.pid_file);
			_exit(EXIT_FAILURE);
		}
		_exit(EXIT_SUCCESS);
	}

	setsid();

	fd = isolate_devnull();	/* opened before confinement */
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (!c.force_stderr)
			dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/**
 * dispatch() - Hand one epoll event to its handler
 * @ref:	epoll reference
 * @ev:		epoll events
 * @sigfd:	signalfd
 * @now:	Current timestamp
 */
static void dispatch(union epoll_ref ref, uint32_t ev, int sigfd,
		     const struct timespec *now)
{
	switch (ref.type) {
	case EPOLL_TYPE_TAP_LISTEN:
		tap_listen_handler(&c, ev);
		break;
	case EPOLL_TYPE_TAP_PASST:
		if (c.fd_tap == ref.fd)
			tap_handler_passt(&c, ev, now);
		break;
	case EPOLL_TYPE_TAP_PASTA:
		tap_handler_pasta(&c, ev, now);
		break;
	case EPOLL_TYPE_SIGNAL:
		signal_handler(sigfd);
		break;
	case EPOLL_TYPE_NSQUIT_INOTIFY:
		pasta_netns_quit_handler(&c, ref.fd);
		break;
	case EPOLL_TYPE_NSQUIT_TIMER:
		pasta_netns_quit_timer(&c);
		break;
	case EPOLL_TYPE_FOLLOW_NL:
		follow_nl_handler(now);
		break;
	case EPOLL_TYPE_FOLLOW_INOTIFY:
		follow_inotify_handler(now);
		break;
	case EPOLL_TYPE_TCP:
		tcp_sock_handler(&c, ref, ev, now);
		break;
	case EPOLL_TYPE_TCP_SPLICE:
		tcp_splice_sock_handler(&c, ref, ev);
		break;
	case EPOLL_TYPE_TCP_LISTEN:
		tcp_listen_handler(&c, ref, now);
		break;
	case EPOLL_TYPE_TCP_TIMER:
		tcp_timer_handler(&c, ref);
		break;
	case EPOLL_TYPE_UDP:
		udp_sock_handler(&c, ref, ev, now);
		break;
	case EPOLL_TYPE_PING:
		icmp_sock_handler(&c, ref, ev, now);
		break;
	default:
		debug("Unexpected epoll reference type %u", ref.type);
		break;
	}
}

/**
 * dispatch_later() - Is this event one for the second pass of a round?
 * @ref:	epoll reference
 * @ev:		epoll events
 *
 * Spliced sockets that report a peer's FIN or hang-up are handled after the
 * other events of the same round: their shutdown() and the peer's wake-up
 * then don't delay data of other connections.
 *
 * Return: true for the second pass
 */
static bool dispatch_later(union epoll_ref ref, uint32_t ev)
{
	return ref.type == EPOLL_TYPE_TCP_SPLICE &&
	       (ev & (EPOLLRDHUP | EPOLLHUP));
}

/**
 * main() - Set up, then run the event loop
 * @argc:	Argument count
 * @argv:	Options and, for pasta, target or command
 *
 * Return: never returns: exits from handlers or on fatal errors
 */
/* #syscalls: epoll_wait|epoll_pwait clock_gettime restart_syscall */
int main(int argc, char **argv)
{
	struct epoll_event events[EPOLL_EVENTS];
	struct timespec now, last_timer;
	char argv0[PATH_MAX], *name;
	int sigfd, spawned;

	/* Nothing inherited stays open. A descriptor passed on purpose
	 * (a future -F/--fd) would be given here instead of -1.
	 */
	isolate_initial(conf_fd_arg(argc, argv));

	started_as_root = uid_is_init_root();
	snprintf(argv0, sizeof(argv0), "%s", argv[0]);
	name = basename(argv0);
	if (!strcmp(name, "pasta") || !strcmp(name, "passt4netns")) {
		c.mode = MODE_PASTA;
		log_init("pasta", 1, 0);
	} else {
		c.mode = MODE_PASST;
		log_init("passt", 1, 0);
	}

	c.epollfd = -1;
	conf(&c, argc, argv);
	log_set_level(c.debug, c.trace, c.quiet);

	if (*c.log_file) {
		int ret = log_open_file(c.log_file, c.log_size,
					 PASST_VERSION);

		if (ret)
			die("Cannot open log file %s for -l/--log-file: %s",
			    c.log_file, strerror(-ret));
	}

	pidfile_fd = pidfile_open(c.pid_file);
	if (pidfile_fd < -1)
		die("Cannot open PID file %s for -P/--pid: %s", c.pid_file,
		    strerror(-pidfile_fd));

	rlimit_raise();

	c.epollfd = epoll_create1(EPOLL_CLOEXEC);
	if (c.epollfd < 0)
		die("Cannot create epoll descriptor: %s", strerror(errno));

	if (c.mode == MODE_PASTA) {
		if (!*c.netns_path)
			pasta_start_ns(&c);
		pasta_open_ns(&c);
		nl_sock_init(&c, 1);
		if (!c.splice_only)
			pasta_tap_open(&c);
		pasta_ns_conf(&c);
	}

	if (!c.splice_only)
		tap_backend_init(&c);
	if (c.mode == MODE_PASST)
		sock_created = 1;
	atexit(exit_cleanup);

	if (c.mode == MODE_PASTA)
		pasta_netns_quit_init(&c);
	follow_init(&c);

	dhcp_init();
	if (c.ifi6)
		dhcpv6_init(&c);
	if (!c.no_tcp) {
		tcp_init(&c);
		tcp_splice_init(&c);
	}
	if (!c.no_udp)
		udp_init(&c);
	if (!c.no_icmp)
		icmp_init(&c);

	pcap_init(&c);
	conf_print(&c);

	/* Everything that can fail happens before we go to background: the
	 * caller (podman, libvirt) takes exit status 0 as "network ready".
	 * Confinement, see isolation.c: leave the caller's filesystem and
	 * namespaces, become --runas if root, drop capabilities. The socket
	 * path is out of reach from now on: it stays (a new start replaces
	 * a stale one).
	 */
	isolate_prefork(&c, started_as_root);
	sock_created = 0;
	drop_privileges();
	isolate_user(&c, started_as_root);

	/* pasta with a command of its own stays in the foreground: the
	 * command is our child, and we exit with its status
	 */
	spawned = c.mode == MODE_PASTA && c.pasta_child_pid;
	if (!c.foreground && !c.debug && !spawned) {
		daemonize();
		log_set_stderr(c.force_stderr);
		if (!*c.log_file)
			log_set_syslog(1);
	} else if (pidfile_write(pidfile_fd, getpid())) {
		die("Cannot write PID file %s for -P/--pid", c.pid_file);
	}
	if (pidfile_fd >= 0)
		close(pidfile_fd);

	/* With -l, from now on the log file alone gets our messages */
	log_startup_done(c.force_stderr);

	/* After forking: the signalfd wakes up epoll for the process that
	 * registered it
	 */
	sigfd = signals_init();

	if (c.mode == MODE_PASTA) {
		pasta_child_run(&c);
		pasta_sigchld(&c);	/* in case it's already gone */
	}

	/* Last step of confinement: the seccomp allow-list */
	isolate_postfork(&c);

	clock_gettime(CLOCK_MONOTONIC, &last_timer);

	for (;;) {
		long long elapsed;
		int n, i, pass;

		/* Wake up for the next timer tick, not a whole interval after
		 * the last event: tick periods stay close to one second
		 * (pasta's automatic port forwarding follows them)
		 */
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = timespec_diff_ms(&now, &last_timer);
		if (elapsed < 0)
			elapsed = 0;
		n = epoll_wait(c.epollfd, events, EPOLL_EVENTS,
			       elapsed >= TIMER_INTERVAL_MS ? 0 :
			       (int)(TIMER_INTERVAL_MS - elapsed));
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));

		clock_gettime(CLOCK_MONOTONIC, &now);

		for (pass = 0; pass < 2; pass++) {
			for (i = 0; i < n; i++) {
				union epoll_ref ref = {
					.u64 = events[i].data.u64
				};

				if (dispatch_later(ref, events[i].events) ==
				    !!pass)
					dispatch(ref, events[i].events, sigfd,
						 &now);
			}
		}

		/* Frames the handlers queued up go out once per wake-up */
		if (!c.no_tcp) {
			tcp_defer_handler(&c);
			tcp_splice_defer(&c);
		}

		if (timespec_diff_ms(&now, &last_timer) >= TIMER_INTERVAL_MS) {
			follow_timer(&c, &now);
			if (c.ifi6)
				ndp_timer(&c, &now);
			if (!c.no_tcp) {
				tcp_timer(&c, &now);
				tcp_splice_timer(&c, &now);
			}
			if (!c.no_udp)
				udp_timer(&c, &now);
			if (!c.no_icmp)
				icmp_timer(&c, &now);
			stats_report(&now);
			last_timer = now;
		}
	}
}
