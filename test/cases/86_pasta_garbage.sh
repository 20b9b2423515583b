#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/86_pasta_garbage.sh - after a hostile namespace floods pasta
# with SYNs and UDP datagrams that never become a real exchange, pasta's
# descriptors go back to the idle count within the longest timeout of such
# flows (30 s for a UDP flow nobody answered, 10 s for a handshake) plus
# 10 s, and it still serves a real connection
#
#  ns "remote": 203.0.113.1, no servers on the flooded ports (mostly)
#  ns "host":   pasta --config-net
#                 '--> pasta's namespace: flood.py on eth0 (AF_PACKET, root),
#                      4000 frames in at most 5 s

set -eu
. "$(dirname "$0")/../lib/common.sh"

PYTHON=$(command -v python3 || true)
if [ -z "$PYTHON" ]; then
	skip pasta_garbage "python3 not installed"
	exit 0
fi
start=$(date +%s)

topo_setup
if ! pasta_start --config-net -t none -u none -T none -U none; then
	fail pasta_garbage_start "pasta did not start"
	exit 0
fi
wait_for 5 sh -c "nsenter -t $NS_PID -n ip -4 route show default | grep -q ." || true
fds() { ls "/proc/$PASTA_PID/fd" 2>/dev/null | wc -l; }
idle=$(fds)

in_ns timeout 30 "$PYTHON" "$TOP/test/lib/flood.py" eth0 $HOST4 $REMOTE_LO4 \
	4000 5 || true
peak=$(fds)
echo "  pasta descriptors: $idle idle, $peak after the flood"

t0=$(date +%s)
if wait_for 40 sh -c "[ \$(ls /proc/$PASTA_PID/fd | wc -l) -le $idle ]"; then
	pass "pasta_garbage_fds_back (after $(( $(date +%s) - t0 )) s, $peak at the peak)"
else
	fail pasta_garbage_fds_back "$(fds) descriptors 40 s after the flood, $idle idle, $peak at the peak"
fi

check pasta_garbage_alive kill -0 "$PASTA_PID"
bg httpd in_remote busybox httpd -f -p 8000 -h /etc
wait_for 5 sh -c "ip netns exec $NS_REMOTE ss -Hltn 'sport = :8000' | grep -q ." || true
check pasta_garbage_still_serves in_ns timeout 10 curl -sS -o /dev/null \
	--max-time 5 "http://$REMOTE_LO4:8000/hostname"
echo "pasta garbage case: $(( $(date +%s) - start ))s"
