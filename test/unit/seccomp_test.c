// SPDX-License-Identifier: AGPL-3.0-or-later

/* seccomp_test.c - The seccomp filter of isolation.c is enforced
 *
 * Includes isolation.c, and installs the very filter passt or pasta install
 * (isolate_seccomp(), built from the generated seccomp.h) in forked
 * children, which then make one system call each: an allowed one must
 * work, one off the list (or from the x32 ABI) must kill the child with
 * SIGSYS. Prints "N passed, M failed", exits 1 on any failure.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "../../isolation.c"

static unsigned int passed, failed;

/* Stubs: isolate_seccomp() logs nothing, the rest isn't called here */
int log_trace;
void logmsg(int pri, const char *fmt, ...)
{
	(void)pri;
	(void)fmt;
}
void log_syslog_open(void)
{
}

enum call {
	CALL_WRITEV,		/* allowed in both modes (log, tap) */
	CALL_MKDIR,		/* allowed in neither */
	CALL_EXECVE,		/* allowed in neither */
	CALL_SETNS,		/* pasta only */
	CALL_GETPID,		/* allowed in neither */
	CALL_X32_WRITE,		/* write, but through the x32 ABI */
	CALL_FORK,		/* clone(), but not with the flags of ns_call() */
};

static const char *call_str[] = {
	"writev", "mkdir", "execve", "setns", "getpid", "x32 write",
	"fork (clone with other flags)",
};

/**
 * run() - Fork, install the filter of a mode, make one call, report
 * @pasta:	Filter of pasta if set, of passt otherwise
 * @call:	System call to make
 * @killed:	Expect the child to die with SIGSYS if set, exit 0 otherwise
 */
static void run(int pasta, enum call call, int killed)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}

	if (!pid) {
		char *argv[] = { "/bin/true", NULL };

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    isolate_seccomp(pasta))
			_exit(2);

		switch (call) {
		case CALL_WRITEV: {
			struct iovec iov = { .iov_base = "", .iov_len = 0 };

			if (writev(STDOUT_FILENO, &iov, 1) < 0)
				syscall(SYS_exit_group, 3);
			break;
		}
		case CALL_MKDIR:
			mkdir("/nonexistent/seccomp_test", 0700);
			break;
		case CALL_EXECVE:
			execve(argv[0], argv, NULL);
			break;
		case CALL_SETNS:
			/* EBADF, but only if the filter lets it through */
			syscall(SYS_setns, -1, 0);
			break;
		case CALL_GETPID:
			syscall(SYS_getpid);
			break;
		case CALL_FORK:
			/* the child, if any, would exit right away */
			syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
			break;
		case CALL_X32_WRITE:
#if defined(__x86_64__)
			syscall(SECCOMP_X32_BIT | SYS_write, STDOUT_FILENO,
				"", 0);
#else
			raise(SIGSYS);	/* nothing to test: same result */
#endif
			break;
		}
		/* Not _exit(): the sanitizers' wrapper makes calls of its own */
		syscall(SYS_exit_group, 0);
	}

	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		exit(1);
	}

	if (killed ? (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) :
		     (WIFEXITED(status) && !WEXITSTATUS(status))) {
		passed++;
		return;
	}

	failed++;
	printf("FAIL: %s filter, %s: expected %s, got %s %i\n",
	       pasta ? "pasta" : "passt", call_str[call],
	       killed ? "SIGSYS" : "exit 0",
	       WIFSIGNALED(status) ? "signal" : "exit status",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

int main(void)
{
	int pasta;

	for (pasta = 0; pasta < 2; pasta++) {
		run(pasta, CALL_WRITEV, 0);
		run(pasta, CALL_MKDIR, 1);
		run(pasta, CALL_EXECVE, 1);
		run(pasta, CALL_GETPID, 1);
		run(pasta, CALL_X32_WRITE, 1);
		run(pasta, CALL_FORK, 1);
	}
	run(0, CALL_SETNS, 1);
	run(1, CALL_SETNS, 0);

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
