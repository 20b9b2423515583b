#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/50_malformed.sh - passt survives hostile frames from its guest
#
#  ns "host" ($NS_HOST)                              ns "remote"
#   test/malformed.py (root) --UNIX socket--> passt (test user) --veth--> ...
#   plays a broken qemu:                       eth0 198.51.100.2/24
#   frames with lying lengths at every layer   default via 198.51.100.1
#
# Every group of hostile frames (see test/malformed.py) goes on its own
# connection; length prefixes passt can't honour (4 GiB, 2 GiB, 64 KiB and
# more) each get a connection of their own too, as they desynchronise the
# stream, and passt must close those. After each group: passt is still
# running, and on a fresh connection a proper DHCPDISCOVER still gets an
# OFFER for the host's address. Some single frames that a parser honouring
# their lengths must discard get no answer. At the end, the debug log must
# say that frames were dropped.

set -eu
. "$(dirname "$0")/../lib/common.sh"

PY=$(command -v python3 || true)
if [ -z "$PY" ]; then
	skip malformed "python3 not installed"
	exit 0
fi
if [ ! -x "$PASST" ]; then
	skip malformed "no passt binary at $PASST (build it first)"
	exit 0
fi

topo_setup

# passt runs as the test user: its socket needs a directory it can write
SOCK=$(user_dir sock)/m.sock

bg passt host_user "$PASST" -f -d -s "$SOCK"
PASST_PID=$(cat "$TMP/passt.pid")
if ! wait_for 10 test -S "$SOCK"; then
	fail malformed_start "no socket at $SOCK: $(tail -3 "$TMP/passt.log" | tr '\n' ' ')"
	exit 0
fi

# mal CMD...: the hostile guest, as root in the host namespace (root may
# connect to the test user's socket)
mal() { in_host "$PY" "$TOP/test/malformed.py" "$SOCK" "$@"; }

alive() { kill -0 "$PASST_PID"; }

check malformed_baseline_dhcp mal dhcp "$HOST4"

for g in eth zero_len ipv4 ipv6 udp tcp dhcp ndp dhcpv6 arp reset; do
	# sending may fail half-way if passt dies: the checks below tell
	mal send "$g" >>"$TMP/malformed.out" 2>&1 || true
	check "malformed_${g}_alive" alive
	check "malformed_${g}_dhcp" mal dhcp "$HOST4"
done

for g in len_4g len_2g len_64k len_64k_odd len_128k; do
	check "malformed_${g}_closed" mal expect-close "$g"
	check "malformed_${g}_alive" alive
	check "malformed_${g}_dhcp" mal dhcp "$HOST4"
done

# Frames a careful parser must not answer (RFC 4861 6.1.1, 7.1.1; RFC 2132),
# after controls showing that the same messages, well formed, are answered
for f in rs_good ns_good dhcp_good; do
	check "malformed_control_${f}_answered" mal expect-answer "$f"
done
for f in rs_optlen0 ns_optlen0 rs_opt_past_end ns_truncated dhcp_53_len0 \
	 dhcp_1byte dhcp_53_past_end; do
	check "malformed_${f}_no_answer" mal expect-silent "$f"
done
check malformed_silent_alive alive
check malformed_silent_dhcp mal dhcp "$HOST4"

# lines naming our temporary directory (the socket path) don't count
log_drops() {
	grep -vF "$TMP" "$TMP/passt.log" | \
		grep -qi 'drop\|malformed\|invalid\|bad'
}
check malformed_log_mentions_drops log_drops

echo "--- hostile guest output"
cat "$TMP/malformed.out"
echo "--- passt log (last 30 lines)"
tail -30 "$TMP/passt.log"
