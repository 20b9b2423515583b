// SPDX-License-Identifier: AGPL-3.0-or-later

/* isolation.c - Confinement: what passt and pasta give up before the first
 *		 frame
 *
 * Theory of operation: passt and pasta parse every byte a guest or a
 * container sends. Whatever a bug in that parsing gives an attacker should
 * be as little as possible: no files, no privileges, a short list of system
 * calls. So, after set-up has opened everything the process will ever need
 * (listening or tap socket, pcap and log files, PID file, namespace handles,
 * /proc/net files that pasta's "auto" forwarding scans, the syslog socket,
 * /dev/null for daemonizing), and before the event loop reads a frame, in
 * this order (see doc/security.md for what each step takes away):
 *
 * 1. isolate_initial(), first thing in main(): close every descriptor we
 *    inherited, except standard input, output and error.
 *
 * 2. isolate_prefork(), after set-up: detach from the mount, IPC and UTS
 *    namespaces of the caller (passt started by a regular user first
 *    creates a user namespace of its own, owning nothing, to be allowed to
 *    do that), then pivot_root() into an empty, read-only tmpfs and drop
 *    the old root: no path reaches a host file any longer. The directory
 *    the tmpfs is mounted on is only a mount point in our own mount
 *    namespace: the host never sees it.
 *
 * 3. drop_privileges() (passt.c): started as root, become --runas.
 *
 * 4. isolate_user(): passt started as root now detaches into a user
 *    namespace of its own as well. Then: clear the capability bounding set
 *    and the ambient set, keep only the capabilities pasta needs at run
 *    time (none for passt), not dumpable (nobody ptraces us, no core dumps
 *    with guest data), no_new_privs.
 *
 * 5. isolate_postfork(), after going to background: install the seccomp
 *    filter. Its allow-list is generated at build time (seccomp.sh) from
 *    "#syscalls" comments next to the code making the calls, one list for
 *    each mode; anything else, or a system call for another architecture
 *    (or the x32 ABI on x86_64), kills the process.
 *
 * None of this costs anything per packet: the filter doesn't look at
 * arguments, so Linux (5.11 and later) caches its verdict for each system
 * call number and doesn't even run it for allowed calls.
 *
 * Limits: the filter is a linear list of comparisons, at most
 * SECCOMP_LIST_MAX entries (BPF jumps reach 255 instructions ahead).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "passt.h"
#include "util.h"
#include "log.h"
#include "isolation.h"
#include "seccomp.h"

/* Audit architecture of the system calls we make: the filter kills
 * anything else (a 32-bit call from a 64-bit process uses another table)
 */
#if defined(__x86_64__)
#define SECCOMP_AUDIT_ARCH	AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define SECCOMP_AUDIT_ARCH	AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define SECCOMP_AUDIT_ARCH	AUDIT_ARCH_AARCH64
#elif defined(__arm__) && defined(__ARMEL__)
#define SECCOMP_AUDIT_ARCH	AUDIT_ARCH_ARM
#elif defined(__riscv) && __riscv_xlen == 64
#define SECCOMP_AUDIT_ARCH	AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SECCOMP_AUDIT_ARCH	AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define SECCOMP_AUDIT_ARCH	AUDIT_ARCH_S390X
#elif defined(__loongarch64)
#define SECCOMP_AUDIT_ARCH	AUDIT_ARCH_LOONGARCH64
#else
#error "Unknown architecture: add its AUDIT_ARCH_ value to isolation.c"
#endif

/* x86_64: x32 system calls have the same audit architecture, and their
 * number ORed with this bit
 */
#define SECCOMP_X32_BIT		0x40000000U

/* Allow-list entries: BPF conditional jumps are 8 bits long */
#define SECCOMP_LIST_MAX	200

/* Instructions before and after the list: arch check, load, x32 check,
 * then kill and allow, then the check of clone() flags (and its own kill
 * and allow: BPF only jumps forward)
 */
#define SECCOMP_PROLOGUE	5
#define SECCOMP_EPILOGUE	8

/* Offsets of the two halves of the first argument, the flags of clone() */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SECCOMP_ARG0_LO		offsetof(struct seccomp_data, args[0])
#define SECCOMP_ARG0_HI		(offsetof(struct seccomp_data, args[0]) + 4)
#else
#define SECCOMP_ARG0_LO		(offsetof(struct seccomp_data, args[0]) + 4)
#define SECCOMP_ARG0_HI		offsetof(struct seccomp_data, args[0])
#endif

_Static_assert(ARRAY_SIZE(seccomp_list_passt) <= SECCOMP_LIST_MAX,
	       "seccomp allow-list for passt too long for one BPF jump");
_Static_assert(ARRAY_SIZE(seccomp_list_pasta) <= SECCOMP_LIST_MAX,
	       "seccomp allow-list for pasta too long for one BPF jump");

/* Candidate mount points for the empty tmpfs we pivot_root() into: any
 * existing directory will do, it's only covered in our mount namespace
 */
static const char *isolate_mnt_dirs[] = { "/tmp", "/run", "/dev", "/" };

static int isolate_devnull_fd = -1;	/* for daemonize(), see passt.c */
static int isolate_done;		/* set once the filesystem is gone */

/**
 * isolate_initial() - Close every inherited descriptor above stderr
 * @keep_fd:	Descriptor to leave open (one the user passes explicitly,
 *		e.g. a future -F/--fd option), -1 for none
 *
 * Called first thing in main(), before we open anything ourselves: what a
 * parent leaked to us (a terminal, a socket, a file) doesn't stay reachable.
 */
void isolate_initial(int keep_fd)
{
	unsigned int first = STDERR_FILENO + 1;
	long fd, max;

	if (keep_fd > STDERR_FILENO) {
		if (keep_fd > (int)first &&
		    syscall(SYS_close_range, first, keep_fd - 1, 0))
			goto fallback;
		first = (unsigned int)keep_fd + 1;
	}

	if (!syscall(SYS_close_range, first, ~0U, 0))
		return;

fallback:
	/* Before Linux 5.9: close them one by one, up to the soft limit */
	max = sysconf(_SC_OPEN_MAX);
	for (fd = STDERR_FILENO + 1; fd < max; fd++) {
		if (fd != keep_fd)
			close((int)fd);
	}
}

/**
 * isolate_write_file() - Write a short string to a /proc file in one go
 * @path:	File, e.g. /proc/self/uid_map
 * @s:		String
 *
 * Return: 0 on success, -1 on failure (errno set)
 */
static int isolate_write_file(const char *path, const char *s)
{
	ssize_t len = (ssize_t)strlen(s), n;
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;

	n = write(fd, s, (size_t)len);
	close(fd);

	if (n != len) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}

	return 0;
}

/**
 * isolate_userns() - Detach into a new user namespace, owning nothing
 *
 * We map our own user and group to themselves, so that what we see of
 * ourselves doesn't change. The new namespace gives us every capability in
 * it, which is what we need to create mount namespaces, and nothing over
 * the namespaces we came from: isolate_caps() drops them later.
 *
 * Return: 0 on success, -errno on failure
 */
static int isolate_userns(void)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];

	if (unshare(CLONE_NEWUSER))
		return -errno;

	/* user_namespaces(7): setgroups must be denied before gid_map can
	 * be written by an unprivileged process. A failure is not fatal:
	 * unmapped, we're the overflow user, which is even less.
	 */
	snprintf(map, sizeof(map), "%u %u 1", (unsigned)uid, (unsigned)uid);
	if (isolate_write_file("/proc/self/uid_map", map))
		debug("Cannot map UID in detached user namespace: %s",
		      strerror(errno));
	if (isolate_write_file("/proc/self/setgroups", "deny"))
		debug("Cannot deny setgroups in detached user namespace: %s",
		      strerror(errno));
	snprintf(map, sizeof(map), "%u %u 1", (unsigned)gid, (unsigned)gid);
	if (isolate_write_file("/proc/self/gid_map", map))
		debug("Cannot map GID in detached user namespace: %s",
		      strerror(errno));

	return 0;
}

/**
 * isolate_bset_drop() - Empty the capability bounding set, if we may
 *
 * Needs CAP_SETPCAP: without it (a regular user, no user namespace of our
 * own), nothing can be dropped, and there's nothing to gain from the
 * bounding set either, as execve() is not on the seccomp allow-list.
 */
static void isolate_bset_drop(void)
{
	int cap;

	for (cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EINVAL)
			break;	/* past CAP_LAST_CAP of this kernel */
	}
}

/**
 * isolate_caps() - Keep only the capabilities in @keep, clear the rest
 * @keep:	Bitmap of capabilities (1ULL << CAP_...) to keep, if we have them
 *
 * Return: 0 on success, -errno on failure
 */
static int isolate_caps(uint64_t keep)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uint64_t have;
	int i;

	if (syscall(SYS_capget, &hdr, data))
		return -errno;

	isolate_bset_drop();
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

	have = data[0].permitted | ((uint64_t)data[1].permitted << 32);
	keep &= have;	/* capset() can't add what we don't have */

	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		data[i].effective = (uint32_t)(keep >> (32 * i));
		data[i].permitted = (uint32_t)(keep >> (32 * i));
		data[i].inheritable = 0;
	}

	if (syscall(SYS_capset, &hdr, data))
		return -errno;

	return 0;
}

/**
 * isolate_fs() - pivot_root() into an empty, read-only tmpfs
 * @c:		Execution context (for --chroot-fallback)
 * @what:	Failed step, set on failure
 *
 * Return: 0 on success, -errno on failure
 */
static int isolate_fs(const struct ctx *c, const char **what)
{
	const char *dir = NULL;
	size_t i;

	/* Our mounts must not propagate back to the namespace we came from
	 * (started as root, that's the host's)
	 */
	*what = "make mounts private";
	if (mount("", "/", "", MS_REC | MS_PRIVATE, NULL))
		return -errno;

	*what = "mount empty tmpfs";
	for (i = 0; i < ARRAY_SIZE(isolate_mnt_dirs); i++) {
		if (!mount("", isolate_mnt_dirs[i], "tmpfs",
			   MS_RDONLY | MS_NODEV | MS_NOEXEC | MS_NOSUID,
			   "size=4k,nr_inodes=1,mode=0555")) {
			dir = isolate_mnt_dirs[i];
			break;
		}
	}
	if (!dir)
		return -errno;

	*what = "enter empty tmpfs";
	if (chdir(dir))
		return -errno;

	/* pivot_root(2): with the same directory as new and old root, the
	 * old root ends up stacked on top of the new one, in our working
	 * directory, and can be detached from there
	 */
	if (syscall(SYS_pivot_root, ".", ".")) {
		int ret = -errno;

		*what = "pivot_root into empty tmpfs";
		if (ret != -EINVAL || !c->chroot_fallback)
			return ret;

		/* An initramfs root can't be pivoted: chroot() instead.
		 * We can't get out: CAP_SYS_CHROOT goes, and chroot() is not
		 * on the seccomp allow-list.
		 */
		*what = "chroot into empty tmpfs (--chroot-fallback)";
		if (chroot("."))
			return -errno;
		warn("pivot_root() failed, confined with chroot() instead");
	} else {
		*what = "detach old root";
		if (umount2(".", MNT_DETACH))
			return -errno;
	}

	*what = "change to new root";
	if (chdir("/"))
		return -errno;

	return 0;
}

/**
 * isolate_prefork() - Detach from the caller's namespaces and filesystem
 * @c:			Execution context, set-up complete
 * @started_as_root:	UID 0 of the initial user namespace
 *
 * Dies on failure: everything here happens before we go to background, so
 * that the caller sees it in our exit status.
 */
void isolate_prefork(struct ctx *c, int started_as_root)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
	const char *what;
	int rc;

	/* What we'll need once the filesystem is gone */
	isolate_devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (!c->foreground && !c->debug && !*c->log_file)
		log_syslog_open();	/* we'll log there from background */

	/* passt run by a regular user: a user namespace of its own first,
	 * where it may create the others. Not for pasta: it already has one
	 * (the target's, it needs to stay there to join the target network
	 * namespace later), or with --netns-only it was told not to. Not as
	 * root either: we can do all this right away, and we detach the user
	 * namespace after changing to --runas (isolate_user()), as the new
	 * namespace would need --runas mapped in it otherwise.
	 */
	if (c->mode == MODE_PASST && !started_as_root &&
	    (rc = isolate_userns()))
		die("Cannot create user namespace for confinement: %s",
		    strerror(-rc));

	if (unshare(flags))
		die("Cannot detach mount, IPC and UTS namespaces: %s",
		    strerror(errno));

	if ((rc = isolate_fs(c, &what)))
		die("Cannot %s: %s", what, strerror(-rc));

	isolate_done = 1;

	/* Root can drop the bounding set now: after the UID change, it has
	 * nothing left to do it with, if no user namespace can be created
	 */
	if (started_as_root)
		isolate_bset_drop();
}

/**
 * isolate_user() - Detach the user namespace, drop capabilities, lock down
 * @c:			Execution context
 * @started_as_root:	UID 0 of the initial user namespace (now --runas)
 *
 * Dies on failure
 */
void isolate_user(const struct ctx *c, int started_as_root)
{
	uint64_t keep = 0;
	int rc;

	/* Started as root, we're --runas now: detach into a user namespace
	 * of our own too, as passt run by a regular user does. Where user
	 * namespaces are disabled, we have no capabilities left anyway.
	 */
	if (c->mode == MODE_PASST && started_as_root && unshare(CLONE_NEWUSER))
		debug("Cannot detach user namespace: %s", strerror(errno));

	if (c->mode == MODE_PASTA) {
		/* CAP_SYS_ADMIN: ns_call() helpers (util.c) setns() into the
		 * target network namespace at run time, to create sockets
		 * there for spliced TCP and UDP flows and "auto" listeners.
		 * That's only over the user namespace owning the target, the
		 * one we're in (or, with --netns-only, where we were
		 * started): it gives nothing over the host.
		 */
		keep |= 1ULL << CAP_SYS_ADMIN;

		/* CAP_NET_BIND_SERVICE: sockets in the namespace bind
		 * forwarded ports and the ports of clients of spliced UDP
		 * flows, which may be below 1024
		 */
		keep |= 1ULL << CAP_NET_BIND_SERVICE;

		/* CAP_NET_ADMIN: with --config-net, following the host means
		 * rewriting the namespace interface's addresses and routes
		 * (pasta_ns_update()), again over the target's user namespace
		 * only
		 */
		if (c->pasta_conf_ns && !c->no_follow)
			keep |= 1ULL << CAP_NET_ADMIN;
	}

	if ((rc = isolate_caps(keep)))
		die("Cannot drop capabilities: %s", strerror(-rc));

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		die("Cannot make process not dumpable: %s", strerror(errno));

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("Cannot set no_new_privs: %s", strerror(errno));
}

/**
 * isolate_seccomp() - Install the seccomp allow-list filter for a mode
 * @pasta:	Use the list of pasta if set, of passt otherwise
 *
 * The program: kill unless the architecture is ours, load the system call
 * number, kill x32 calls on x86_64, then one comparison per allowed number,
 * jumping to "allow"; falling through the list kills. clone(), if allowed
 * (pasta), jumps to a check of its flags instead: only those of ns_call()
 * pass, so no threads, no processes sharing less than our memory and
 * descriptors, no new namespaces. That's the only call the kernel can't
 * cache a verdict for, and it's rare (socket pool refills, new UDP flows).
 *
 * Return: 0 on success, -errno on failure
 */
int isolate_seccomp(int pasta)
{
	static struct sock_filter f[SECCOMP_PROLOGUE + SECCOMP_LIST_MAX +
				    SECCOMP_EPILOGUE];
	const uint32_t *list = pasta ? seccomp_list_pasta : seccomp_list_passt;
	size_t n = pasta ? ARRAY_SIZE(seccomp_list_pasta) :
			   ARRAY_SIZE(seccomp_list_passt);
	struct sock_fprog prog;
	size_t i, k = 0;

	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		 offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		 SECCOMP_AUDIT_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		 SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		 offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
	/* x32 numbers have bit 30 set: jump to the final kill */
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
		 SECCOMP_X32_BIT, (uint8_t)n, 0);
#else
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
#endif

	for (i = 0; i < n; i++) {
		/* jump over the rest of the list and the kill to "allow",
		 * and one further for clone(), to the check of its flags
		 */
		uint8_t jt = (uint8_t)(n - i);

#ifdef __NR_clone
		if (list[i] == __NR_clone)
			jt++;
#endif
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			 list[i], jt, 0);
	}

	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		 SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		 SECCOMP_RET_ALLOW);

	/* clone(): flags are a 64-bit argument, compared in two halves */
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		 SECCOMP_ARG0_HI);
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		 0, 0, 2);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		 SECCOMP_ARG0_LO);
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		 NS_CALL_CLONE_FLAGS, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		 SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		 SECCOMP_RET_ALLOW);

	prog.len = (unsigned short)k;
	prog.filter = f;

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
		return -errno;

	return 0;
}

/**
 * isolate_postfork() - Last step before the loop: the seccomp filter
 * @c:		Execution context
 *
 * Dies on failure
 */
void isolate_postfork(const struct ctx *c)
{
	int rc;

	if (isolate_devnull_fd >= 0) {	/* we didn't go to background */
		close(isolate_devnull_fd);
		isolate_devnull_fd = -1;
	}

	/* fork() keeps it, but it costs nothing to make sure */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	if ((rc = isolate_seccomp(c->mode == MODE_PASTA)))
		die("Cannot install seccomp filter: %s", strerror(-rc));
}

/**
 * isolate_devnull() - Take over the /dev/null descriptor opened for us
 *
 * Return: descriptor (the caller closes it), -1 if we couldn't open it
 */
int isolate_devnull(void)
{
	int fd = isolate_devnull_fd;

	isolate_devnull_fd = -1;
	return fd;
}

/**
 * isolate_confined() - Is the host filesystem out of reach already?
 *
 * Return: 1 after isolate_prefork(), 0 before
 */
int isolate_confined(void)
{
	return isolate_done;
}
