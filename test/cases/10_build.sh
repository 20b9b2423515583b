#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/10_build.sh - The build: no allocator, binaries, no warnings
#
#  $PASST ............ nm -D --undefined-only: no malloc, calloc, realloc,
#                      free, strdup (nor any other allocating libc entry)
#  $TOP/pasta ........ a link to passt (argv[0] selects the mode)
#  $TOP/qrap ......... built, executable
#  clean copy of *.c *.h *.sh Makefile in $TMP: make -B WERROR=1 succeeds with
#                      nothing at all on stderr (no warning of any kind)
#
# No network, no namespaces.

set -eu
. "$(dirname "$0")/../lib/common.sh"

# --- allocator symbols --------------------------------------------------------
if [ ! -x "$PASST" ]; then
	fail build_no_allocator "$PASST not built"
else
	nm -D --undefined-only "$PASST" > "$TMP/undef" 2>&1 || true
	awk '{ sub(/@.*/, "", $NF); print $NF }' "$TMP/undef" | sort -u \
		> "$TMP/syms"
	if grep -qx '__libc_start_main' "$TMP/syms"; then
		pass build_nm_reads_binary
	else
		fail build_nm_reads_binary "no dynamic symbols read: $(head -2 "$TMP/undef" | tr '\n' ' ')"
	fi
	# what the issue names, then the rest of libc's allocating entries
	bad=$(grep -xE 'malloc|calloc|realloc|free|strdup' "$TMP/syms" | tr '\n' ' ') || true
	if [ -z "$bad" ]; then pass build_no_allocator
	else fail build_no_allocator "imports: $bad"; fi
	bad=$(grep -xE 'strndup|reallocarray|aligned_alloc|posix_memalign|memalign|valloc|pvalloc|asprintf|vasprintf|__asprintf_chk|__vasprintf_chk|getaddrinfo|open_memstream|scandir|get_current_dir_name|getline|getdelim' "$TMP/syms" | tr '\n' ' ') || true
	if [ -z "$bad" ]; then pass build_no_hidden_allocator
	else fail build_no_hidden_allocator "imports: $bad"; fi
fi

# --- binaries -----------------------------------------------------------------
check build_passt_built test -x "$TOP/passt"
if [ -L "$TOP/pasta" ] || [ "$TOP/pasta" -ef "$TOP/passt" ]; then
	check build_pasta_link test "$TOP/pasta" -ef "$TOP/passt"
else
	fail build_pasta_link "$TOP/pasta is not a link to passt"
fi
check build_qrap_built test -x "$TOP/qrap"

# --- warning-free build from a clean copy ---------------------------------------
B=$TMP/build
mkdir "$B"
cp "$TOP"/*.c "$TOP"/*.h "$TOP"/*.sh "$TOP"/Makefile "$B"/ 2>/dev/null || true
if [ ! -f "$B/Makefile" ]; then
	fail build_werror "no Makefile in $TOP"
elif (cd "$B" && timeout 300 make -s -B -j2 WERROR=1 >"$TMP/make.out" 2>"$TMP/make.err"); then
	if [ -s "$TMP/make.err" ] || grep -qi 'warning' "$TMP/make.out"; then
		fail build_werror "output: $(cat "$TMP/make.err" "$TMP/make.out" | head -5 | tr '\n' ' ')"
	else
		pass build_werror
	fi
	for b in passt pasta qrap; do
		check "build_copy_$b" test -x "$B/$b"
	done
else
	fail build_werror "make -B WERROR=1 failed: $(grep -m5 -E "error|warning|\*\*\*" "$TMP/make.err" | tr "\n" " ")"
fi

# --- make install / uninstall with prefix and DESTDIR ---------------------------
I=$TMP/inst
if (cd "$TOP" && make -s install DESTDIR="$I" prefix=/usr >"$TMP/inst.out" 2>&1); then
	for f in bin/passt bin/pasta bin/qrap share/man/man1/passt.1 \
		 share/man/man1/pasta.1 share/man/man1/qrap.1; do
		check "install_$(basename "$f")" test -e "$I/usr/$f"
	done
	check install_pasta_is_link test -L "$I/usr/bin/pasta"
	(cd "$TOP" && make -s uninstall DESTDIR="$I" prefix=/usr >/dev/null 2>&1) || true
	left=$(find "$I" -type f -o -type l | wc -l)
	[ "$left" = 0 ] && pass install_uninstall || \
		fail install_uninstall "$left files left after uninstall"
else
	fail install "make install failed: $(tail -3 "$TMP/inst.out" | tr '\n' ' ')"
fi
