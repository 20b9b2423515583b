#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# seccomp.sh - Collect "#syscalls" annotations into seccomp.h
#
# Usage: seccomp.sh OUTPUT SOURCE...	(CC: compiler used for the build)
#
# Each function that makes system calls once passt or pasta are confined
# (the event loop and everything it calls) names them in a comment, inside
# or just above it:
#
#	/* #syscalls: read write */		both modes
#	/* #syscalls:pasta setns clone */	pasta only
#	/* #syscalls:passt accept4 */		passt only
#
# with the kernel's names (what strace shows, not the libc function:
# open() is openat, send() is sendto, exit() is exit_group). "a|b" takes
# the first of a and b that this architecture has (epoll_wait|epoll_pwait).
#
# The numbers come from the compiler's <sys/syscall.h>, for the
# architecture we build for: a name that isn't a system call there fails
# the build. The output lists, sorted and without duplicates, the numbers
# of each mode: isolation.c builds the BPF program from them.

set -eu

OUT=$1
shift
CC=${CC:-cc}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name number, for every __NR_name of this architecture
echo '#include <sys/syscall.h>' | $CC -dM -E - | \
	sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$/\1 \2/p' | \
	sort > "$tmp/table"

if [ ! -s "$tmp/table" ]; then
	echo "seccomp.sh: no system call numbers from $CC" >&2
	exit 1
fi

# mode name|alternative file:line, one per annotated name. A comment
# starting with "#syscalls" that doesn't parse fails the build: a typo
# mustn't silently leave a system call out
fail=0
for f in "$@"; do
	if grep -n '/\* *#syscalls' "$f" | \
	   grep -E -v '#syscalls(:passt|:pasta)?:?[[:space:]]+[a-z0-9_|]+([[:space:]]+[a-z0-9_|]+)*[[:space:]]*\*/' \
	   >&2; then
		echo "$f: malformed #syscalls annotation above" >&2
		fail=1
	fi
	grep -n '/\* *#syscalls' "$f" | \
	sed -E -n 's/^([0-9]+):.*#syscalls(:passt|:pasta)?:?[[:space:]]+(.*)\*\/.*$/\1 \2 \3/p' | \
	while read -r line mode names; do
		case "$mode" in
		:passt|:pasta) mode=${mode#:} ;;
		*) names="$mode $names"; mode=both ;;
		esac
		for n in $names; do
			echo "$mode $n $f:$line"
		done
	done
done > "$tmp/annotations"
[ $fail -eq 0 ] || exit 1

# Resolve names: first alternative this architecture knows
: > "$tmp/resolved"
while read -r mode names where; do
	found=
	for n in $(echo "$names" | tr '|' ' '); do
		num=$(awk -v n="$n" '$1 == n { print $2 }' "$tmp/table")
		if [ -n "$num" ]; then
			found="$n $num"
			break
		fi
	done
	if [ -z "$found" ]; then
		echo "$where: '$names' is not a system call on this architecture" >&2
		fail=1
		continue
	fi
	echo "$mode $found" >> "$tmp/resolved"
done < "$tmp/annotations"
[ $fail -eq 0 ] || exit 1

# Check each annotation against the function it belongs to: the calls of
# the C library and of our own wrappers in its body (comments and strings
# stripped), mapped to system calls by the table below, must all be listed
# in the annotation, and each name listed must come from one of them (or be
# one the kernel or libc makes on their own, see "implicit"). Functions
# without annotation aren't checked: they run before confinement, and if
# they don't, the test suite (which runs confined, where a missing call
# kills the daemon) and its strace check find them. main() mixes set-up and
# the loop: only the second direction is checked for it.
awk -v skip_missing="main" '
BEGIN {
	# C function: system calls it makes (x86_64 names, "|" alternatives
	# as in annotations are matched by any of their names)
	m["read"] = "read";		m["write"] = "write"
	m["readv"] = "readv";		m["writev"] = "writev"
	m["pread"] = "pread64";		m["pwrite"] = "pwrite64"
	m["recv"] = "recvfrom";		m["recvfrom"] = "recvfrom"
	m["recvmsg"] = "recvmsg";	m["recvmmsg"] = "recvmmsg"
	m["send"] = "sendto";		m["sendto"] = "sendto"
	m["sendmsg"] = "sendmsg";	m["sendmmsg"] = "sendmmsg"
	m["socket"] = "socket";		m["bind"] = "bind"
	m["listen"] = "listen";		m["connect"] = "connect"
	m["accept"] = "accept";		m["accept4"] = "accept4"
	m["shutdown"] = "shutdown";	m["close"] = "close"
	m["setsockopt"] = "setsockopt";	m["getsockopt"] = "getsockopt"
	m["getsockname"] = "getsockname"; m["getpeername"] = "getpeername"
	m["epoll_ctl"] = "epoll_ctl";	m["epoll_wait"] = "epoll_wait"
	m["timerfd_create"] = "timerfd_create"
	m["timerfd_settime"] = "timerfd_settime"
	m["splice"] = "splice";		m["pipe2"] = "pipe2"
	m["fcntl"] = "fcntl";		m["ioctl"] = "ioctl"
	m["lseek"] = "lseek";		m["ftruncate"] = "ftruncate"
	m["kill"] = "kill";		m["waitpid"] = "wait4"
	m["clone"] = "clone";		m["setns"] = "setns"
	m["exit"] = "exit_group";	m["_exit"] = "exit_group"
	m["die"] = "exit_group";	m["getrandom"] = "getrandom"
	m["clock_gettime"] = "clock_gettime"; m["poll"] = "poll"
	m["open"] = "openat";		m["openat"] = "openat"
	m["unlink"] = "unlink";		m["getpid"] = "getpid"
	m["readlinkat"] = "readlinkat";	m["inotify_init1"] = "inotify_init1"
	m["inotify_add_watch"] = "inotify_add_watch"
	m["fstat"] = "fstat";		m["stat"] = "stat"
	m["fprintf"] = "write";		m["vfprintf"] = "write"
	m["fputs"] = "write";		m["perror"] = "write"

	# Calls in annotated functions that only happen before confinement
	exempt["tcp_splice_ns_fill:open"] = "only with @open_proc: init"

	# Made without a call of that name: restart after a stopped
	# process resumes, the exit of a clone() child when its function
	# returns
	implicit["restart_syscall"] = 1
	implicit["exit"] = 1
	fail = 0
}

function flush(   name, k, n, alts, a, found, need, have, i, calls, c) {
	if (fn == "" || ann == "")
		return
	# annotated names, alternatives split
	n = split(ann, have_list, " ")
	for (k = 1; k <= n; k++) {
		split(have_list[k], alts, "|")
		for (a in alts)
			have[alts[a]] = have_list[k]
	}
	# calls in the body
	body = text
	gsub(/"([^"\\]|\\.)*"/, "\"\"", body)
	gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, " ", body)
	while (match(body, /[A-Za-z_][A-Za-z_0-9]*[ \t]*\(/)) {
		c = substr(body, RSTART, RLENGTH)
		sub(/[ \t]*\($/, "", c)
		body = substr(body, RSTART + RLENGTH)
		if (!(c in m) || ((fn ":" c) in exempt))
			continue
		need[m[c]] = c
	}
	for (c in need) {
		if (!(c in have) && fn != skip_missing) {
			printf "%s: %s() calls %s(): system call %s not in its #syscalls annotation\n", loc, fn, need[c], c > "/dev/stderr"
			fail = 1
		}
	}
	for (k = 1; k <= n; k++) {
		split(have_list[k], alts, "|")
		found = 0
		for (a in alts)
			if ((alts[a] in need) || (alts[a] in implicit))
				found = 1
		if (!found) {
			printf "%s: %s(): %s in #syscalls annotation, but nothing in it makes that call\n", loc, fn, have_list[k] > "/dev/stderr"
			fail = 1
		}
	}
	delete have; delete need
}

FNR == 1 { fn = ""; ann = ""; text = ""; inbody = 0 }

/\/\* *#syscalls/ {
	a = $0
	sub(/.*#syscalls(:passt|:pasta)?:?[ \t]+/, "", a)
	sub(/\*\/.*/, "", a)
	ann = ann " " a
	if (!inbody)
		loc = FILENAME ":" FNR
	next
}

!inbody && /^[a-z].*\(/ && !/;[ \t]*$/ {
	f = $0
	sub(/\(.*/, "", f)
	sub(/.*[ *]/, "", f)
	fn = f
	if (ann == "")
		loc = FILENAME ":" FNR
	next
}

/^\{/ { inbody = 1; text = ""; next }

inbody && /^\}/ {
	flush()
	inbody = 0; fn = ""; ann = ""; text = ""
	next
}

inbody { text = text "\n" $0 }

END { exit fail }
' "$@" || exit 1

list() {
	awk -v m="$1" '$1 == "both" || $1 == m { print $3, $2 }' \
		"$tmp/resolved" | sort -n -u
}

{
	echo "/* Generated by seccomp.sh from #syscalls annotations: don't edit */"
	echo
	echo "#ifndef SECCOMP_H"
	echo "#define SECCOMP_H"
	echo
	echo "#include <stdint.h>"
	for mode in passt pasta; do
		echo
		echo "static const uint32_t seccomp_list_$mode[] = {"
		list $mode | while read -r num name; do
			printf '\t%s,\t/* %s */\n' "$num" "$name"
		done
		echo "};"
	done
	echo
	echo "#endif /* SECCOMP_H */"
} > "$tmp/out"

# Don't touch the output if nothing changed: no needless rebuilds
if ! cmp -s "$tmp/out" "$OUT" 2>/dev/null; then
	cp "$tmp/out" "$OUT"
fi
