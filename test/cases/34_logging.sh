#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/34_logging.sh - Log file, its bound, time stamps, --stats,
# --trace with -q
#
#  ns "remote": TCP port 9 (socat, discards), 203.0.113.1 / 198.51.100.1
#     |
#  ns "host": pasta -l FILE ... -- sleep  (as the test user), one instance
#     per check; from its namespace, TCP connections (socat) to "remote"
#     make traffic and flow lines
#
#  1. -l: the file starts with "pasta VERSION: PATH (PID)", has the start-up
#     messages and, after start-up, the flow lines; stderr stays silent
#     after start-up (nothing new once the namespace is up)
#  2. -d: "SECONDS.FRACTION: " time stamps on stderr and in the file
#  3. --log-size at its minimum with --trace and a lot of traffic: the file
#     never grows past it, keeps its header, and ends with the newest lines
#  4. --stats 1: about one line a second while there's traffic, with -q too
#  5. --trace -q and -q --trace, -d -q: accepted (the last one wins)

set -eu
. "$(dirname "$0")/../lib/common.sh"

topo_setup
D=$(user_dir logs)
LOG_MIN=20480		# LOGFILE_SIZE_MIN in log.h

bg sink in_remote socat -u TCP-LISTEN:9,fork,reuseaddr OPEN:/dev/null
wait_for 5 sh -c "ip netns exec $NS_REMOTE ss -Htln | grep -q ':9 '" || true

# conns N: N short TCP connections from pasta's namespace to "remote"
conns() {
	local i
	for i in $(seq "$1"); do
		in_ns timeout 3 socat -u - "TCP4:$REMOTE4:9" </dev/null \
			>/dev/null 2>&1 || true
	done
}

# --- 1. -l: header, every message, stderr silent after start-up -------------
if pasta_start --config-net -d -l "$D/one.log"; then
	sleep 0.5
	before=$(wc -c < "$TMP/pasta.log")
	conns 3
	sleep 0.5
	after=$(wc -c < "$TMP/pasta.log")
	head -3 "$D/one.log"
	hdr=$(head -1 "$D/one.log")
	check log_header sh -c "echo '$hdr' | grep -Eq '^pasta [^ ]+: /[^ ]*passt \\($PASTA_PID\\)\$'"
	check log_startup_msgs grep -q 'Outbound interface\|Namespace interface\|tap device' "$D/one.log"
	check log_flow_lines grep -Eq 'TCP flow [0-9]+ opened: guest \[198\.51\.100\.2\]:[0-9]+ <-> \[198\.51\.100\.1\]:9' "$D/one.log"
	check log_flow_closed grep -Eq 'TCP flow [0-9]+ (closed|reset)' "$D/one.log"
	if [ "$before" = "$after" ] && ! grep -q 'TCP flow' "$TMP/pasta.log"; then
		pass log_stderr_silent
	else
		fail log_stderr_silent "stderr grew from $before to $after bytes after start-up"
	fi
	# 2. time stamps, file and stderr (-d)
	check log_time_file sh -c "sed -n '2,\$p' '$D/one.log' | grep -Evq '^[0-9]+\\.[0-9]{4}: ' && exit 1 || exit 0"
	check log_time_stderr grep -Eq '^[0-9]+\.[0-9]{4}: ' "$TMP/pasta.log"
	pasta_stop
fi

# Without -d: no time stamps on stderr, file still has them
if pasta_start --config-net -l "$D/two.log"; then
	sleep 0.3
	pasta_stop
	check log_plain_stderr sh -c "! grep -Eq '^[0-9]+\\.[0-9]{4}: ' '$TMP/pasta.log'"
	check log_time_file_info grep -Eq '^[0-9]+\.[0-9]{4}: ' "$D/two.log"
fi

# --- 3. --log-size: bounded, header kept, newest lines kept ------------------
if pasta_start --config-net --trace -l "$D/small.log" --log-size "$LOG_MIN"; then
	max=0
	for round in 1 2 3 4 5 6; do
		conns 15
		s=$(stat -c %s "$D/small.log")
		[ "$s" -gt "$max" ] && max=$s
	done
	conns 1
	sleep 0.3
	s=$(stat -c %s "$D/small.log"); [ "$s" -gt "$max" ] && max=$s
	last_port=$(grep -Eo 'TCP flow [0-9]+ opened: guest \[[0-9.]+\]:[0-9]+' "$D/small.log" | tail -1 | grep -Eo '[0-9]+$' || true)
	pid=$PASTA_PID
	pasta_stop
	opened=$(grep -c 'TCP flow .* opened' "$D/small.log" || true)
	echo "largest size seen $max, final $(stat -c %s "$D/small.log"), flows opened in file: $opened"
	check logsize_bound test "$max" -le "$LOG_MIN"
	check logsize_header sh -c "head -1 '$D/small.log' | grep -q '^pasta .*: /.* ($pid)\$'"
	# rotated: far fewer flow lines than the 91 connections made, and the
	# last connection's lines are there
	check logsize_rotated test "${opened:-0}" -lt 91
	# rotation keeps about half the file, not just the header
	final=$(stat -c %s "$D/small.log")
	check logsize_kept_half test "$final" -ge $((LOG_MIN / 3))
	check logsize_newest sh -c "tail -5 '$D/small.log' | grep -q 'TCP flow\|closed\|Received signal'"
	check logsize_whole_lines sh -c "sed -n '2,\$p' '$D/small.log' | grep -Evq '^[0-9]+\\.[0-9]{4}: ' && exit 1 || exit 0"
	[ -n "$last_port" ] && echo "newest flow port $last_port"
fi

# --- 4. --stats 1: about one line a second, with -q too ----------------------
for q in "" "-q"; do
	name=stats${q:+_quiet}
	# shellcheck disable=SC2086 # $q is empty or one word
	if pasta_start --config-net $q --stats 1 -l "$D/$name.log"; then
		t0=$(date +%s)
		while [ $(( $(date +%s) - t0 )) -lt 4 ]; do
			conns 1
			sleep 0.2
		done
		pasta_stop
		n=$(grep -c 'stats: tap frames in' "$D/$name.log" || true)
		grep 'stats:' "$D/$name.log" | tail -2
		check "${name}_lines" test "${n:-0}" -ge 2 -a "${n:-0}" -le 6
		check "${name}_tcp" grep -q 'stats: tap frames in [0-9]*, out [0-9]*, dropped [0-9]*; TCP connections [0-9]*, spliced [0-9]*' "$D/$name.log"
	fi
done

# --- 5. level options: accepted in any order, the last one wins -------------
if pasta_start --config-net --trace -q -l "$D/tq.log"; then
	conns 1; sleep 0.3; pasta_stop
	check trace_then_quiet sh -c "! grep -q 'TCP flow' '$D/tq.log'"
else
	fail trace_then_quiet "pasta --trace -q refused"
fi
if pasta_start --config-net -q --trace -l "$D/qt.log"; then
	conns 1; sleep 0.3; pasta_stop
	check quiet_then_trace grep -q 'TCP flow' "$D/qt.log"
else
	fail quiet_then_trace "pasta -q --trace refused"
fi
check debug_then_quiet host_user timeout 10 "$PASTA" -d -q --config-net -- true
