#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# 16_fuzz.sh - libFuzzer with AddressSanitizer and UBSan on the whole tap
# input path (test/fuzz/fuzz_tap.c) for FUZZ_SECONDS (default 30), starting
# from valid frames of every kind we parse. Any crash, leak, sanitizer
# report or timeout fails the case. Frames are fed in-process; the L4
# handlers open real sockets for what the frames ask, so the fuzzer runs in
# a network namespace of its own with nothing but a loopback device that is
# down: nothing it sends can go anywhere.

set -eu
. "$(dirname "$0")/../lib/common.sh"

if ! command -v clang >/dev/null; then
	skip fuzz_tap "clang (libFuzzer) is not installed"
	exit 0
fi

cd "$TOP/test/fuzz"
rm -f crash-* leak-* timeout-*
python3 make_seeds.py seeds
if ! make -s fuzz_tap >"$TMP/build.log" 2>&1; then
	fail fuzz_tap_build "$(tail -3 "$TMP/build.log" | tr '\n' ' ')"
	exit 0
fi
pass fuzz_tap_build

if unshare --net make -s run T="${FUZZ_SECONDS:-30}" >"$TMP/fuzz.log" 2>&1; then
	pass "fuzz_tap: $(grep -o 'number_of_executed_units: [0-9]*' "$TMP/fuzz.log" | cut -d' ' -f2) inputs, no finding"
else
	grep -E 'ERROR|runtime error|SUMMARY' "$TMP/fuzz.log" | head -5
	fail fuzz_tap "finding: $(ls crash-* leak-* timeout-* 2>/dev/null | head -1)"
fi
