/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * qrap.c - Connect qemu to passt through an inherited socket descriptor
 *
 * Theory of operation: qemu's "socket" network back-end can use a stream
 * socket it inherits as a numbered file descriptor ("-netdev socket,fd=N"),
 * and it frames every Ethernet frame on it with a 32-bit big-endian length,
 * which is exactly what passt speaks on its UNIX domain socket. qrap is the
 * glue for a qemu that can't connect to a UNIX socket by itself:
 *
 *   qrap FDNUM QEMU_CMD [ARG]...
 *
 * 1. connect to passt: the path in $PASST_SOCKET if set, otherwise the
 *    first of /tmp/passt_1.socket .. /tmp/passt_64.socket (the names passt
 *    probes when started without -s) that accepts us. passt serves one
 *    guest at a time and closes further connections right away, so after
 *    connecting we wait QRAP_PROBE_MS for a hang-up before we believe it;
 * 2. move the connected socket to descriptor FDNUM, without close-on-exec;
 * 3. unless the arguments already hand FDNUM to a socket back-end
 *    ("-net socket,...,fd=FDNUM" or "-netdev socket,...,fd=FDNUM"), append
 *
 *      -device virtio-net-pci,netdev=hostnet0,x-txburst=4096
 *      -netdev socket,fd=FDNUM,id=hostnet0
 *
 *    (a virtio NIC, with a transmit burst large enough for passt's batches);
 * 4. execvp() QEMU_CMD: qemu keeps our PID, so whoever started qrap still
 *    sees qemu's exit status.
 *
 * Limits: QRAP_ARGS_MAX arguments, no dynamic allocation. Errors print one
 * line to standard error and exit non-zero; nothing is executed then.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "passt.h"

#define QRAP_ARGS_MAX		4096	/* argv entries we pass on to qemu */
#define QRAP_EXTRA_ARGS		4	/* -device ... -netdev ... */
#define QRAP_PROBE_MS		100	/* passt hangs up at once if busy */
#define QRAP_FD_MIN		3	/* 0, 1, 2 stay qemu's stdio */
#define QRAP_FD_MAX		1023	/* well below any RLIMIT_NOFILE */
#define QRAP_NETDEV_ID		"hostnet0"
#define QRAP_SOCK_ENV		"PASST_SOCKET"
#define QRAP_SOCK_FMT		"/tmp/passt_%i.socket"

static char *qrap_argv[QRAP_ARGS_MAX + QRAP_EXTRA_ARGS + 1];
static char qrap_device[64];
static char qrap_netdev[64];

/**
 * usage() - Print usage and exit with failure
 * @name:	Name we were invoked as
 */
static void usage(const char *name)
{
	fprintf(stderr,
		"Usage: %s FDNUM QEMU_CMD [ARG]...\n"
		"\n"
		"Connect to passt's UNIX domain socket ($%s, or the first\n"
		"of /tmp/passt_1.socket to /tmp/passt_%i.socket accepting us),\n"
		"make it file descriptor FDNUM (%i to %i) and run QEMU_CMD.\n"
		"Unless ARGs already contain a socket back-end with fd=FDNUM,\n"
		"add: -device virtio-net-pci,netdev=%s,x-txburst=4096\n"
		"     -netdev socket,fd=FDNUM,id=%s\n",
		name, QRAP_SOCK_ENV, UNIX_SOCK_MAX, QRAP_FD_MIN, QRAP_FD_MAX,
		QRAP_NETDEV_ID, QRAP_NETDEV_ID);
	exit(EXIT_FAILURE);
}

/**
 * qrap_parse_fd() - Parse a descriptor number, strictly decimal
 * @s:		String from the command line
 *
 * Return: descriptor number, or -1 if @s isn't one we can use
 */
static int qrap_parse_fd(const char *s)
{
	char *end;
	long n;

	if (!*s || *s < '0' || *s > '9')
		return -1;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || *end || n < QRAP_FD_MIN || n > QRAP_FD_MAX)
		return -1;

	return (int)n;
}

/**
 * qrap_try() - Connect to one path, check that passt keeps us
 * @path:	UNIX domain socket path
 * @quiet:	Don't report failures (probing the default paths)
 *
 * Return: connected socket, or -1 on failure
 */
static int qrap_try(const char *path, int quiet)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	int s, rc;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "qrap: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);

	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		fprintf(stderr, "qrap: can't create UNIX socket: %s\n",
			strerror(errno));
		exit(EXIT_FAILURE);
	}

	if (connect(s, (struct sockaddr *)&addr, sizeof(addr))) {
		if (!quiet)
			fprintf(stderr, "qrap: can't connect to %s: %s\n",
				path, strerror(errno));
		close(s);
		return -1;
	}

	/* passt doesn't send anything before the guest does: readability or
	 * a hang-up within the probe time means we were turned away
	 */
	pfd.fd = s;
	pfd.events = POLLIN | POLLRDHUP;
	pfd.revents = 0;
	do
		rc = poll(&pfd, 1, QRAP_PROBE_MS);
	while (rc < 0 && errno == EINTR);

	if (rc > 0 && (pfd.revents & (POLLIN | POLLRDHUP | POLLHUP |
				      POLLERR))) {
		char b;

		if (recv(s, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) {
			if (!quiet)
				fprintf(stderr, "qrap: %s closed the "
					"connection: passt already has a "
					"guest?\n", path);
			close(s);
			return -1;
		}
	}

	return s;
}

/**
 * qrap_connect() - Find passt's socket and connect to it
 * @path:	Filled with the path we connected to
 * @len:	Size of @path
 *
 * Return: connected socket, exits on failure
 */
static int qrap_connect(char *path, size_t len)
{
	const char *env = getenv(QRAP_SOCK_ENV);
	int i, s;

	if (env && *env) {
		if ((s = qrap_try(env, 0)) < 0)
			exit(EXIT_FAILURE);
		snprintf(path, len, "%s", env);
		return s;
	}

	for (i = 1; i <= UNIX_SOCK_MAX; i++) {
		snprintf(path, len, QRAP_SOCK_FMT, i);
		if ((s = qrap_try(path, 1)) >= 0)
			return s;
	}

	fprintf(stderr, "qrap: no passt accepting connections at "
		QRAP_SOCK_FMT " to " QRAP_SOCK_FMT " (is passt running? "
		"set %s for another path)\n", 1, UNIX_SOCK_MAX, QRAP_SOCK_ENV);
	exit(EXIT_FAILURE);
}

/**
 * qrap_opt_has_fd() - Does a -net/-netdev value select a socket on our fd?
 * @val:	Option value, such as "socket,id=n0,fd=5"
 * @fd:		Descriptor number we pass
 *
 * Return: 1 if @val is a socket back-end using @fd, 0 otherwise
 */
static int qrap_opt_has_fd(const char *val, int fd)
{
	const char *p;
	char want[32];
	size_t n;

	/* the type is the first field, or given as "type=socket" */
	if (strncmp(val, "socket,", strlen("socket,")) &&
	    strcmp(val, "socket") &&
	    !strstr(val, ",type=socket") &&
	    strncmp(val, "type=socket", strlen("type=socket")))
		return 0;

	n = (size_t)snprintf(want, sizeof(want), "fd=%i", fd);
	for (p = val; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (!strncmp(p, want, n) && (p[n] == ',' || !p[n]))
			return 1;
	}

	return 0;
}

/**
 * qrap_args_have_fd() - Do qemu's arguments already use our descriptor?
 * @argc:	Number of qemu arguments
 * @argv:	qemu arguments, command excluded
 * @fd:		Descriptor number we pass
 *
 * Return: 1 if a socket back-end with fd=@fd is configured, 0 otherwise
 */
static int qrap_args_have_fd(int argc, char **argv, int fd)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (a[0] == '-' && a[1] == '-')	/* qemu takes -x and --x */
			a++;

		if (!strcmp(a, "-net") || !strcmp(a, "-netdev")) {
			if (i + 1 < argc)
				val = argv[++i];
		} else if (!strncmp(a, "-net=", strlen("-net="))) {
			val = a + strlen("-net=");
		} else if (!strncmp(a, "-netdev=", strlen("-netdev="))) {
			val = a + strlen("-netdev=");
		}

		if (val && qrap_opt_has_fd(val, fd))
			return 1;
	}

	return 0;
}

/**
 * main() - Entry point: connect, move descriptor, exec qemu
 * @argc:	Argument count
 * @argv:	FDNUM QEMU_CMD [ARG]...
 *
 * Return: doesn't return on success, EXIT_FAILURE otherwise
 */
int main(int argc, char **argv)
{
	char path[UNIX_PATH_MAX + 1];
	int fd, s, i, n = 0;

	if (argc < 3 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		usage(argv[0]);

	if ((fd = qrap_parse_fd(argv[1])) < 0) {
		fprintf(stderr, "qrap: invalid descriptor number '%s': "
			"expected %i to %i\n", argv[1], QRAP_FD_MIN,
			QRAP_FD_MAX);
		return EXIT_FAILURE;
	}

	if (argc - 2 > QRAP_ARGS_MAX) {
		fprintf(stderr, "qrap: too many qemu arguments (%i, "
			"maximum %i)\n", argc - 2, QRAP_ARGS_MAX);
		return EXIT_FAILURE;
	}

	for (i = 2; i < argc; i++)
		qrap_argv[n++] = argv[i];

	if (!qrap_args_have_fd(argc - 3, argv + 3, fd)) {
		snprintf(qrap_device, sizeof(qrap_device),
			 "virtio-net-pci,netdev=%s,x-txburst=4096",
			 QRAP_NETDEV_ID);
		snprintf(qrap_netdev, sizeof(qrap_netdev),
			 "socket,fd=%i,id=%s", fd, QRAP_NETDEV_ID);
		qrap_argv[n++] = "-device";
		qrap_argv[n++] = qrap_device;
		qrap_argv[n++] = "-netdev";
		qrap_argv[n++] = qrap_netdev;
	}
	qrap_argv[n] = NULL;

	s = qrap_connect(path, sizeof(path));

	if (s == fd) {
		/* socket() gave us FDNUM itself: just keep it across exec */
		if (fcntl(s, F_SETFD, 0)) {
			fprintf(stderr, "qrap: can't clear close-on-exec on "
				"descriptor %i: %s\n", fd, strerror(errno));
			return EXIT_FAILURE;
		}
	} else if (dup2(s, fd) < 0) {	/* dup2() clears close-on-exec */
		fprintf(stderr, "qrap: can't move socket to descriptor %i: "
			"%s\n", fd, strerror(errno));
		return EXIT_FAILURE;
	}

	fprintf(stderr, "qrap: connected to %s, descriptor %i\n", path, fd);

	execvp(qrap_argv[0], qrap_argv);
	fprintf(stderr, "qrap: can't execute %s: %s\n", qrap_argv[0],
		strerror(errno));
	return EXIT_FAILURE;
}
