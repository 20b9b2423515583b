#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/85_pasta_fd_limit.sh - pasta at its descriptor limit: inbound
# connections past it are refused at once, never left hanging, without a
# busy loop, and descriptors come back when the clients go
#
#  ns "remote": 600 clients at once --> 198.51.100.2:9000 (host)
#  ns "host":   pasta -t 9000, hard limit of 256 descriptors (prlimit)
#                 '--> echo server on 9000 in pasta's namespace
#
# Checks: every client is served or refused, none times out (5 s); pasta
# uses under 5% of a CPU while holding the connections (3 s); its
# descriptors are back at the idle count within 20 s of the clients closing.

set -eu
. "$(dirname "$0")/../lib/common.sh"

for t in prlimit python3; do
	if ! command -v $t >/dev/null; then
		skip pasta_fd_limit "$t not installed"
		exit 0
	fi
done
PYTHON=$(command -v python3)
N=600 LIMIT=256 PORT=9000
start=$(date +%s)

topo_setup
bg pasta host_user prlimit --nofile=$LIMIT:$LIMIT "$PASTA" -f --config-net \
	-t $PORT -u none -T none -U none -- sleep 600
PASTA_PID=$(cat "$TMP/pasta.pid")
NS_PID=
for _ in $(seq 50); do
	NS_PID=$(pgrep -P "$PASTA_PID" -x sleep 2>/dev/null | head -1) || true
	[ -n "$NS_PID" ] && break
	sleep 0.1
done
if [ -z "$NS_PID" ]; then
	fail pasta_fd_limit_start "pasta did not start: $(tail -2 "$TMP/pasta.log" | tr '\n' ' ')"
	exit 0
fi
echo "$NS_PID" > "$TMP/nschild.pid"

bg echo_srv in_ns timeout 120 socat TCP4-LISTEN:$PORT,fork,reuseaddr,backlog=1024 EXEC:cat
wait_for 5 sh -c "nsenter -t $NS_PID -n ss -Hltn 'sport = :$PORT' | grep -q ." || true
sleep 1
fds() { ls "/proc/$PASTA_PID/fd" 2>/dev/null | wc -l; }
idle=$(fds)

bg flood in_remote timeout 60 "$PYTHON" "$TOP/test/lib/conn_flood.py" \
	$HOST4 $PORT $N 5 12
wait_for 10 grep -q '^served=' "$TMP/flood.log" || true
res=$(grep '^served=' "$TMP/flood.log" || echo "no result")
echo "  $N clients, pasta limit $LIMIT descriptors: $res"
case "$res" in
*" timeout=0") pass "pasta_fd_limit_no_silence ($res)" ;;
*) fail pasta_fd_limit_no_silence "$res" ;;
esac

# CPU while holding: utime + stime of pasta over 3 s, in clock ticks
ticks() { awk '{ print $14 + $15 }' "/proc/$PASTA_PID/stat"; }
t0=$(ticks); sleep 3; t1=$(ticks)
hz=$(getconf CLK_TCK)
pct=$(( (t1 - t0) * 100 / (3 * hz) ))
if [ $pct -lt 5 ]; then
	pass "pasta_fd_limit_cpu_idle (${pct}%)"
else
	fail pasta_fd_limit_cpu_idle "pasta used ${pct}% of a CPU holding the connections"
fi

wait_for 30 pid_gone "$(cat "$TMP/flood.pid")" || true
if wait_for 20 sh -c "[ \$(ls /proc/$PASTA_PID/fd | wc -l) -le $idle ]"; then
	pass "pasta_fd_limit_fds_back ($(fds), idle $idle)"
else
	fail pasta_fd_limit_fds_back "$(fds) descriptors, $idle when idle"
fi
if grep -q 'descriptor limit reached' "$TMP/pasta.log" &&
   [ "$(grep -c 'descriptor limit reached' "$TMP/pasta.log")" -le 3 ]; then
	pass pasta_fd_limit_logged_once
else
	fail pasta_fd_limit_logged_once "$(grep -c 'descriptor limit reached' "$TMP/pasta.log") lines"
fi
echo "pasta fd limit case: $(( $(date +%s) - start ))s"
