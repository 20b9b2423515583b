#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# 15_static.sh - Static analysis: `make cppcheck` and `make clang-tidy` must
# report nothing (their disabled checks are justified in the Makefile and
# .clang-tidy). No namespaces: this reads the sources only.

set -eu
. "$(dirname "$0")/../lib/common.sh"

cd "$TOP"
for tool in cppcheck clang-tidy; do
	if ! command -v "$tool" >/dev/null; then
		skip "static_$tool" "$tool is not installed"
		continue
	fi
	if out=$(make -s "$tool" 2>&1); then
		pass "static_$tool"
	else
		fail "static_$tool" "$(echo "$out" | grep -E 'warning|error' | head -3 | tr '\n' ' ')"
	fi
done

# seccomp.sh (run by the build) rejects what would make the allow-list
# wrong: a malformed annotation, a name that isn't a system call, a call in
# an annotated function that its annotation misses, a name nothing uses
S=$TMP/seccomp
mkdir -p "$S"
sc_rejects() {
	local name=$1; shift
	printf '%s\n' "$@" > "$S/$name.c"
	if CC="${CC:-cc}" "$TOP/seccomp.sh" "$S/$name.h" "$S/$name.c" \
	   >"$S/$name.out" 2>&1; then
		fail "seccomp_sh_rejects_$name" "accepted: $*"
	else
		pass "seccomp_sh_rejects_$name ($(head -1 "$S/$name.out"))"
	fi
}
sc_rejects malformed '/* #syscalls read, write! */' 'static void f(void)' '{' '}'
sc_rejects not_a_syscall '/* #syscalls: read no_such_call */' \
	'static void f(int fd)' '{' '	read(fd, 0, 0);' '}'
sc_rejects missing '/* #syscalls: read */' 'static void f(int fd)' '{' \
	'	read(fd, 0, 0);' '	unlink("x");' '}'
sc_rejects unused '/* #syscalls: read mkdir */' 'static void f(int fd)' '{' \
	'	read(fd, 0, 0);' '}'
printf '%s\n' '/* #syscalls: read epoll_wait|epoll_pwait */' \
	'static void f(int fd)' '{' '	read(fd, 0, 0);' \
	'	epoll_wait(fd, 0, 0, 0);	/* "write(" in a comment */' '}' \
	> "$S/good.c"
if CC="${CC:-cc}" "$TOP/seccomp.sh" "$S/good.h" "$S/good.c" >"$S/good.out" 2>&1 \
   && grep -q '/\* epoll_wait \*/' "$S/good.h"; then
	pass seccomp_sh_accepts_good
else
	fail seccomp_sh_accepts_good "$(head -2 "$S/good.out" | tr '\n' ' ')"
fi
