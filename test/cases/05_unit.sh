#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# 05_unit.sh - Unit tests of the parsers and responders (test/unit/*_test.c,
# built with AddressSanitizer and UBSan): one result line per program.
# No namespaces: these run the code on hand-made input, in this process.

set -eu
. "$(dirname "$0")/../lib/common.sh"

make -s -C "$TOP/test/unit" build
for t in "$TOP"/test/unit/*_test; do
	name=unit_$(basename "$t")
	if out=$("$t" 2>&1); then
		pass "$name: $(echo "$out" | tail -1)"
	else
		fail "$name" "$(echo "$out" | tail -3 | tr '\n' ' ')"
	fi
done
