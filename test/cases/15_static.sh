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
