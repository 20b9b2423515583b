// SPDX-License-Identifier: AGPL-3.0-or-later

/* log.c - Logging to standard error, the system logger and/or a file
 *
 * Theory of operation: until set-up is done, messages go to standard error,
 * so that a configuration error is one readable line on the terminal. Later,
 * passt logs to the system logger (if there is one: messages are dropped
 * when nothing listens, we never block or fail on it), to
 * standard error with -e, and to a log file with -l, which is bounded by
 * --log-size: when full, it is truncated and starts over (a rotated copy
 * would need a second file name; a log that never grows past its bound is
 * what matters on a long-running host).
 *
 * The system logger socket is connected before confinement (isolation.c):
 * once we're in an empty filesystem, /dev/log can't be reached any longer.
 * That's also why this isn't syslog(3), which reconnects by path, and
 * formats time stamps reading the time zone file, lazily: messages go out
 * with a plain send(), without time stamp (the logger adds its own).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "log.h"

int log_trace;

static int log_level = LOG_INFO;	/* most verbose priority logged */
static int log_stderr = 1;
static int log_syslog;
static int log_sock = -1;		/* connected to /dev/log */
static pid_t log_pid;			/* in system logger messages */
static int log_fd = -1;
static size_t log_size;
static size_t log_written;
static const char *log_ident = "passt";
static struct timespec log_start;

/**
 * log_init() - Set identity and initial destinations
 * @ident:	Program name in messages
 * @to_stderr:	Log to standard error
 * @to_syslog:	Log to the system logger
 */
void log_init(const char *ident, int to_stderr, int to_syslog)
{
	log_ident = ident;
	log_stderr = to_stderr;
	log_set_syslog(to_syslog);
	clock_gettime(CLOCK_MONOTONIC, &log_start);
}

/**
 * log_set_level() - Apply -d, --trace, -q
 */
void log_set_level(int debug, int trace, int quiet)
{
	if (trace) {
		log_trace = 1;
		log_level = LOG_DEBUG;
	} else if (debug) {
		log_level = LOG_DEBUG;
	} else if (quiet) {
		log_level = LOG_WARNING;
	} else {
		log_level = LOG_INFO;
	}
}

/**
 * log_set_stderr() - Enable or disable messages on standard error
 */
void log_set_stderr(int on)
{
	log_stderr = on;
}

/**
 * log_syslog_open() - Connect to the system logger, if there is one
 *
 * Called before confinement: /dev/log is out of reach afterwards
 */
void log_syslog_open(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX,
				 .sun_path = "/dev/log" };
	int fd;

	if (log_sock >= 0)
		return;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;

	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return;
	}

	log_sock = fd;
}

/**
 * log_set_syslog() - Enable or disable the system logger
 * @on:		Enable if set: call after going to background (PID changes)
 */
void log_set_syslog(int on)
{
	if (on) {
		log_syslog_open();
		log_pid = getpid();
	}
	log_syslog = on;
}

/**
 * log_syslog_send() - Send a message to the system logger, if connected
 * @pri:	Priority
 * @msg:	Message
 */
/* #syscalls: sendto */
static void log_syslog_send(int pri, const char *msg)
{
	char buf[BUFSIZ + 128];
	int n;

	if (log_sock < 0)
		return;

	/* RFC 3164 4.1, without TIMESTAMP and HOSTNAME: the logger fills in
	 * its own, which is what it does for local messages anyway
	 */
	n = snprintf(buf, sizeof(buf), "<%i>%s[%i]: %s", LOG_DAEMON | pri,
		     log_ident, (int)log_pid, msg);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;

	send(log_sock, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/**
 * log_open_file() - Log to @path, bounded to @size bytes
 *
 * Return: 0 on success, -errno on failure
 */
int log_open_file(const char *path, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
			    O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;

	log_fd = fd;
	log_size = size;
	log_written = 0;
	return 0;
}

/**
 * log_file_write() - Append a line to the log file, starting over when full
 */
/* #syscalls: ftruncate write */
static void log_file_write(const char *line, size_t len)
{
	if (log_written + len > log_size) {
		if (ftruncate(log_fd, 0) == 0)
			log_written = 0;
		else
			return;
	}

	if (write(log_fd, line, len) == (ssize_t)len)
		log_written += len;
}

/**
 * logmsg() - Log a message with priority @pri
 */
/* #syscalls: write clock_gettime */
void logmsg(int pri, const char *fmt, ...)
{
	char msg[BUFSIZ], line[BUFSIZ + 64];
	struct timespec now;
	int saved_errno = errno;
	va_list ap;
	int n;

	if (pri > log_level)
		return;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_syslog)
		log_syslog_send(pri, msg);

	if (log_stderr) {
		if (log_level == LOG_DEBUG) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			fprintf(stderr, "%lli.%04li: %s\n",
				(long long)(now.tv_sec - log_start.tv_sec),
				(now.tv_nsec / 100000) % 10000, msg);
		} else {
			fprintf(stderr, "%s\n", msg);
		}
	}

	if (log_fd >= 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		n = snprintf(line, sizeof(line), "%lli %s: %s\n",
			     (long long)now.tv_sec, log_ident, msg);
		if (n > 0)
			log_file_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}

	errno = saved_errno;
}
