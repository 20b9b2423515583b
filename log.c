// SPDX-License-Identifier: AGPL-3.0-or-later

/* log.c - Logging to standard error, the system logger and/or a file
 *
 * Theory of operation: until set-up is done, messages go to standard error,
 * so that a configuration error is one readable line on the terminal. Once
 * set-up is done (log_startup_done()), passt logs to the system logger
 * when running in background without -l (messages are dropped when nothing
 * listens: we never block or fail on it), to standard error
 * in foreground or with -e, and, with -l, to the log file only: nothing
 * more is written to standard error then, unless -e asks for it.
 *
 * Time stamps are seconds since start, with four decimals ("12.0345: "),
 * on every line of the log file and on standard error with -d or --trace.
 *
 * The log file opens with a header line, "NAME VERSION: PATH (PID)", and
 * never grows past --log-size. When a line doesn't fit, the older half of
 * the lines after the header is dropped: the newer half is copied down,
 * right after the header, through a static buffer (pread(), pwrite()), and
 * the file is cut (ftruncate()). Line boundaries are kept, the newest lines
 * always survive, and it works on any file system (tmpfs has no
 * FALLOC_FL_COLLAPSE_RANGE, and collapsing goes by whole blocks anyway).
 * Rotating costs a copy of half the file once every half file written:
 * on average, each byte is written twice.
 *
 * The system logger socket is connected before confinement (isolation.c):
 * once we're in an empty filesystem, /dev/log can't be reached any longer.
 * That's also why this isn't syslog(3), which reconnects by path, and
 * formats time stamps reading the time zone file, lazily: messages go out
 * with a plain send(), without time stamp (the logger adds its own).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "log.h"
#include "util.h"

int log_trace;

#define LOG_COPY_BUF		(16 * 1024)	/* rotation: bytes per copy */
#define LOG_HDR_MAX		(PATH_MAX + 128) /* name, version, path, PID */

static int log_level = LOG_INFO;	/* most verbose priority logged */
static int log_stderr = 1;
static int log_syslog;
static int log_sock = -1;		/* connected to /dev/log */
static pid_t log_pid;			/* in system logger messages */
static int log_fd = -1;
static size_t log_size;			/* --log-size */
static size_t log_written;		/* current size of the file */
static size_t log_hdr_len;		/* header line, kept on rotation */
static const char *log_ident = "passt";
static struct timespec log_start;
static char log_copy_buf[LOG_COPY_BUF];

/**
 * log_init() - Set identity and initial destinations, start the clock
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
 * log_set_level() - Apply -d, --trace, -q (conf.c kept the last one given)
 * @debug:	-d: debug messages too
 * @trace:	--trace: per-packet messages too
 * @quiet:	-q: warnings and errors only
 */
void log_set_level(int debug, int trace, int quiet)
{
	log_trace = trace;
	if (trace || debug)
		log_level = LOG_DEBUG;
	else if (quiet)
		log_level = LOG_WARNING;
	else
		log_level = LOG_INFO;
}

/**
 * log_set_stderr() - Enable or disable messages on standard error
 * @on:		Enable if non-zero
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
 * @fmt:	Format string
 * @ap:		Arguments
 */
/* #syscalls: sendto */
static void log_syslog_send(int pri, const char *fmt, va_list ap)
{
	char buf[BUFSIZ + 128];
	int n, m;

	if (log_sock < 0)
		return;

	/* RFC 3164 4.1, without TIMESTAMP and HOSTNAME: the logger fills in
	 * its own, which is what it does for local messages anyway
	 */
	n = snprintf(buf, sizeof(buf), "<%i>%s[%i]: ", LOG_DAEMON | pri,
		     log_ident, (int)log_pid);
	if (n <= 0 || (size_t)n >= sizeof(buf))
		return;
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	if ((size_t)n + (size_t)m >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	else
		n += m;

	send(log_sock, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/**
 * log_debug_on() - Are debug messages logged? Spares formatting them
 *
 * Return: non-zero with -d or --trace
 */
int log_debug_on(void)
{
	return log_level >= LOG_DEBUG;
}

/**
 * log_startup_done() - Set-up is over: with a log file, it gets everything
 * @force_stderr:	-e: keep writing to standard error as well
 */
void log_startup_done(int force_stderr)
{
	if (log_fd >= 0 && !force_stderr)
		log_stderr = 0;
}

/**
 * log_open_file() - Log to @path, bounded to @size bytes, write the header
 * @path:	Log file
 * @size:	Bound for the file size, at least LOGFILE_SIZE_MIN
 * @version:	Version string for the header line
 *
 * Return: 0 on success, -errno on failure
 */
int log_open_file(const char *path, size_t size, const char *version)
{
	char hdr[LOG_HDR_MAX], exe[PATH_MAX];
	ssize_t n;
	int fd, len;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;

	/* The binary that is running, as the kernel knows it */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		snprintf(exe, sizeof(exe), "%s", "(unknown path)");
	else
		exe[n] = '\0';

	len = snprintf(hdr, sizeof(hdr), "%s %s: %s (%li)\n", log_ident,
		       version, exe, (long)getpid());
	if (len < 0 || (size_t)len >= sizeof(hdr) ||
	    (size_t)len > size / 4 ||
	    write(fd, hdr, (size_t)len) != len) {
		int ret = len < 0 || (size_t)len >= size / 4 ? -ENAMETOOLONG
							   : -errno;

		close(fd);
		return ret;
	}

	log_fd = fd;
	log_size = size;
	log_written = log_hdr_len = (size_t)len;
	return 0;
}

/**
 * log_file_rotate() - Drop older lines to make room for @need bytes
 * @need:	Length of the line to be written
 *
 * Keeps the header and the newest lines: at most half of the room after the
 * header, and less if @need wouldn't fit otherwise. On any error, starts
 * over with just the header.
 */
/* #syscalls: pread64 pwrite64 ftruncate */
static void log_file_rotate(size_t need)
{
	size_t room = log_size - log_hdr_len, keep = room / 2, from, to, i;
	ssize_t n;

	if (need > room)
		return;		/* can't happen: lines are shorter */
	keep = keep < room - need ? keep : room - need;

	/* First whole line at or after the cut: look for the newline just
	 * before it, so that a line starting right at the cut is kept
	 */
	from = log_written - keep - 1;
	for (;;) {
		if (from >= log_written)
			goto restart;
		n = pread(log_fd, log_copy_buf,
			  MIN(sizeof(log_copy_buf), log_written - from),
			  (off_t)from);
		if (n <= 0)
			goto restart;
		for (i = 0; i < (size_t)n && log_copy_buf[i] != '\n'; i++)
			;
		from += i;
		if (i < (size_t)n)
			break;
	}
	from++;		/* past the newline */

	/* Copy down: we only ever move data towards the start */
	for (to = log_hdr_len; from < log_written; ) {
		n = pread(log_fd, log_copy_buf,
			  MIN(sizeof(log_copy_buf), log_written - from),
			  (off_t)from);
		if (n <= 0 || pwrite(log_fd, log_copy_buf, (size_t)n,
				     (off_t)to) != n)
			goto restart;
		from += (size_t)n;
		to += (size_t)n;
	}

	if (ftruncate(log_fd, (off_t)to))
		goto restart;
	log_written = to;
	return;

restart:
	if (!ftruncate(log_fd, (off_t)log_hdr_len))
		log_written = log_hdr_len;
}

/**
 * log_file_write() - Append a line to the log file, making room if needed
 * @line:	Line, with its newline
 * @len:	Length of @line
 */
/* #syscalls: pwrite64 */
static void log_file_write(const char *line, size_t len)
{
	ssize_t n;

	if (log_written + len > log_size)
		log_file_rotate(len);
	if (log_written + len > log_size)
		return;

	/* No O_APPEND: Linux appends with pwrite() on such files */
	n = pwrite(log_fd, line, len, (off_t)log_written);
	if (n > 0)
		log_written += (size_t)n;
}

/* Tags for the log file, by priority, all of the same width */
static const char *const log_tags[] = {
	[LOG_EMERG] = "ERROR:   ",	[LOG_ALERT] = "ERROR:   ",
	[LOG_CRIT] = "ERROR:   ",	[LOG_ERR] = "ERROR:   ",
	[LOG_WARNING] = "WARNING: ",	[LOG_NOTICE] = "info:    ",
	[LOG_INFO] = "info:    ",	[LOG_DEBUG] = "         ",
};

/**
 * log_time() - Write the time stamp: seconds since start, four decimals
 * @buf:	Buffer
 * @size:	Size of @buf
 *
 * Return: length written
 */
/* #syscalls: clock_gettime */
static size_t log_time(char *buf, size_t size)
{
	struct timespec now;
	long long sec;
	long frac;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	sec = (long long)(now.tv_sec - log_start.tv_sec);
	frac = now.tv_nsec - log_start.tv_nsec;
	if (frac < 0) {
		sec--;
		frac += 1000000000L;
	}

	n = snprintf(buf, size, "%lli.%04li: ", sec, frac / 100000);
	return n < 0 ? 0 : MIN((size_t)n, size - 1);
}

/**
 * log_vmsg() - Log a message
 * @pri:	Priority
 * @force:	Log even if the level is lower (--stats with -q)
 * @fmt:	Format string
 * @ap:		Arguments
 */
/* #syscalls: writev */
static void log_vmsg(int pri, bool force, const char *fmt, va_list ap)
{
	char line[BUFSIZ + 64];
	int saved_errno = errno;
	size_t tlen, pre, len;
	const char *tag;
	ssize_t ret;
	int n;

	if (pri > log_level && !force)
		return;

	if (log_syslog) {
		va_list aq;

		va_copy(aq, ap);
		log_syslog_send(pri, fmt, aq);
		va_end(aq);
	}

	if (!log_stderr && log_fd < 0)
		goto out;

	/* One line for the file: time stamp, tag, message, newline (cut to
	 * the buffer if longer). Standard error gets the message, after the
	 * time stamp only when debugging.
	 */
	tlen = log_time(line, sizeof(line));
	tag = pri >= 0 && pri <= LOG_DEBUG ? log_tags[pri] : "";
	pre = tlen + (size_t)snprintf(line + tlen, sizeof(line) - tlen, "%s",
				      tag);
	n = vsnprintf(line + pre, sizeof(line) - pre - 1, fmt, ap);
	len = pre + (n < 0 ? 0 : MIN((size_t)n, sizeof(line) - pre - 2));
	line[len++] = '\n';

	if (log_fd >= 0)
		log_file_write(line, len);

	if (log_stderr) {
		struct iovec iov[2] = {
			{ .iov_base = line, .iov_len = tlen },
			{ .iov_base = line + pre, .iov_len = len - pre },
		};

		if (log_level == LOG_DEBUG)
			ret = writev(STDERR_FILENO, iov, 2);
		else
			ret = writev(STDERR_FILENO, iov + 1, 1);
		(void)ret;	/* nowhere left to complain */
	}

out:
	errno = saved_errno;
}

/**
 * logmsg() - Log a message with priority @pri, if the level allows
 * @pri:	Priority
 * @fmt:	Format string
 */
void logmsg(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(pri, false, fmt, ap);
	va_end(ap);
}

/**
 * logmsg_always() - Log an informational message, even with -q (--stats)
 * @fmt:	Format string
 */
void logmsg_always(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_NOTICE, true, fmt, ap);
	va_end(ap);
}
