/* SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * log.h - Logging to standard error, syslog and/or a log file
 */

#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>

#define LOGFILE_SIZE_DEFAULT	(1024 * 1024UL)	/* --log-size default */
#define LOGFILE_SIZE_MIN	(5UL * 4096)	/* room for a few lines */

void logmsg(int pri, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void logmsg_always(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#define err(...)	logmsg(LOG_ERR, __VA_ARGS__)
#define warn(...)	logmsg(LOG_WARNING, __VA_ARGS__)
#define info(...)	logmsg(LOG_INFO, __VA_ARGS__)
#define debug(...)	logmsg(LOG_DEBUG, __VA_ARGS__)

/* Per-packet messages: only with --trace (flows opening and closing are
 * debug(): -d shows them, as the 2026 release does)
 */
extern int log_trace;
#define trace(...)							\
	do {								\
		if (log_trace)						\
			logmsg(LOG_DEBUG, __VA_ARGS__);			\
	} while (0)

/* Setup errors: one clear line, exit non-zero */
#define die(...)							\
	do {								\
		logmsg(LOG_ERR, __VA_ARGS__);				\
		exit(EXIT_FAILURE);					\
	} while (0)

/* Rate-limited message for the packet path: at most one per second per
 * call site, with a count of the ones suppressed
 */
#define warn_ratelimit(...)						\
	do {								\
		static time_t rl_last_;					\
		static unsigned long rl_missed_;			\
		time_t rl_now_ = time(NULL);				\
		if (rl_now_ != rl_last_) {				\
			if (rl_missed_)					\
				logmsg(LOG_WARNING, "(%lu similar "	\
				       "messages suppressed)",		\
				       rl_missed_);			\
			logmsg(LOG_WARNING, __VA_ARGS__);		\
			rl_last_ = rl_now_;				\
			rl_missed_ = 0;					\
		} else {						\
			rl_missed_++;					\
		}							\
	} while (0)

void log_init(const char *ident, int to_stderr, int to_syslog);
void log_set_level(int debug, int trace, int quiet);
void log_set_stderr(int on);
int log_open_file(const char *path, size_t size, const char *version);
void log_startup_done(int force_stderr);
int log_debug_on(void);
void log_set_syslog(int on);
void log_syslog_open(void);

#endif /* LOG_H */
