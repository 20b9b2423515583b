#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# 41_passt_daemon.sh - passt as a daemon, in the "host" namespace of the
# topology, as the test user, no guest:
#   - without -f it goes to the background as soon as its socket is ready
#     (no waiting for qemu), writes the daemon's PID with -P; terminated, it
#     leaves its socket (confined, it can't reach the path any longer), and
#     the next start on the same path replaces the stale one
#   - with no -s it picks the first free /tmp/passt_N.socket, and a second
#     instance the next one
#   - --one-off: quits when the first guest disconnects
#   - -l: logs to the file, bounded by --log-size; no system logger needed
#   - -F: serves a guest on an inherited connected socket, quits with it

set -eu
. "$(dirname "$0")/../lib/common.sh"
topo_setup
D=$(user_dir d)

# Background start: returns at once, PID file names a live passt
start=$(date +%s%N)
if host_user timeout 5 "$PASST" -s "$D/p.sock" -P "$D/p.pid" -q; then
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	pass "passt_daemon_returns (${ms} ms)"
else
	fail passt_daemon_returns "passt did not return within 5 s"
fi
pid=$(cat "$D/p.pid" 2>/dev/null || true)
echo "$pid" > "$TMP/daemon.pid"	# cleanup kills it if a check fails
check passt_daemon_pidfile test -n "$pid" -a -d "/proc/$pid"
check passt_daemon_is_passt grep -q passt "/proc/$pid/comm"
check passt_daemon_socket test -S "$D/p.sock"
check passt_daemon_accepts in_host socat -u /dev/null UNIX-CONNECT:"$D/p.sock"
kill "$pid"
wait_for 5 pid_gone "$pid" && pass passt_daemon_sigterm || \
	fail passt_daemon_sigterm "still running"
if host_user timeout 5 "$PASST" -s "$D/p.sock" -P "$D/p2.pid" -q; then
	pid2=$(cat "$D/p2.pid" 2>/dev/null || true)
	echo "$pid2" > "$TMP/daemon2.pid"
	check passt_daemon_stale_socket_replaced \
		in_host socat -u /dev/null UNIX-CONNECT:"$D/p.sock"
	kill "$pid2" 2>/dev/null || true
else
	fail passt_daemon_stale_socket_replaced "second start on $D/p.sock failed"
fi

# Default socket paths: first free one, then the next
host_user "$PASST" -q -P "$D/a.pid"
host_user "$PASST" -q -P "$D/b.pid"
a=$(cat "$D/a.pid"); b=$(cat "$D/b.pid")
echo "$a" > "$TMP/a.pid"; echo "$b" > "$TMP/b.pid"
sa=$(in_host ss -xlpn 2>/dev/null | grep "pid=$a," | grep -o '/tmp/passt_[0-9]*\.socket' | head -1)
sb=$(in_host ss -xlpn 2>/dev/null | grep "pid=$b," | grep -o '/tmp/passt_[0-9]*\.socket' | head -1)
if [ -n "$sa" ] && [ -n "$sb" ] && [ "$sa" != "$sb" ]; then
	pass "passt_default_socket ($sa, $sb)"
else
	fail passt_default_socket "got '$sa' and '$sb'"
fi
kill "$a" "$b" 2>/dev/null || true

# --one-off: the first guest goes, so does passt
bg oneoff host_user "$PASST" -f -1 -s "$D/o.sock"
wait_for 5 test -S "$D/o.sock" || true
in_host socat -u /dev/null UNIX-CONNECT:"$D/o.sock" || true
if wait_for 5 pid_gone "$(cat "$TMP/oneoff.pid")"; then
	pass passt_one_off_exits
else
	fail passt_one_off_exits "still running after the guest left"
fi

# Log file, bounded: -d --log-size 20k, many connections to log about
bg logger host_user "$PASST" -d -f -l "$D/log" --log-size 20k -s "$D/l.sock"
lpid=$(cat "$TMP/logger.pid")
wait_for 5 test -S "$D/l.sock" || true
for i in $(seq 1 200); do
	in_host socat -u /dev/null UNIX-CONNECT:"$D/l.sock" 2>/dev/null || true
done
check passt_log_file_written grep -q "Client connect" "$D/log"
size=$(stat -c %s "$D/log")
if [ "$size" -le 20480 ]; then
	pass "passt_log_file_bounded ($size bytes)"
else
	fail passt_log_file_bounded "$size bytes > 20480"
fi
check passt_log_alive kill -0 "$lpid"

# -F/--fd: a connected socket from the parent; it answers ARP on it, and
# quits once it closes
check passt_fd_arp_and_exit host_user timeout 20 python3 \
	"$TOP/test/lib/passt_fd.py" "$PASST" "$GW4"
check passt_fd_not_a_socket sh -c "! $PASST -f -F 0 2>/dev/null"
