#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/perf/splice.sh - Benchmarks of pasta's local bypass (splice(2)):
# TCP between the host namespace's loopback and pasta's namespace
#
# Topology: "host" of lib.sh (the remote namespace is not involved).
# Variants, one column each:
#
#   ours, ref:  pasta --config-net [--host-lo-to-ns-lo] -t 5211,5311 -u none
#               -T none -U none (the option where the binary has it)
#               (ours: $PASTA, ref: $REF_PASTA)
#     ns "host"                               pasta namespace
#       iperf3 -c 127.0.0.1:5211  --splice--> iperf3 -s -B 127.0.0.1 (::1)
#       rr -c 127.0.0.1:5311      --splice--> rr -s -b 127.0.0.1 (::1)
#
#   loopback:   client and server both in "host", no pasta: what the
#               kernel's loopback does alone, the practical limit
#
# Rows:
#   throughput: iperf3 -t $PERF_T -O 1, the receiver's Gbit/s: host->ns
#	(the host side sends) and ns->host (-R), single stream and -P 2,
#	IPv4; single stream, IPv6
#   TCP_RR: 64-byte request and response on one connection, back to back
#	for $PERF_T s: mean microseconds (lower is better)
#   TCP_CRR: connect, 64-byte request/response, close, back to back for
#	$PERF_T s: connections per second (through pasta: a new spliced
#	connection, two sockets and their pipes, each time)
#
# Each value is the median of $PERF_RUNS runs (default 1).
# Standalone: test/perf/splice.sh (as root). test/perf/run calls
# splice_main after the other benchmarks, on the same topology.
# PERF_ONLY (e.g. "ours loop") selects variants here too; the names of the
# other benchmarks' variants that don't apply here (slirp, veth) are
# ignored.

SPLICE_CAT_TPUT="Spliced TCP throughput [Gbit/s] (iperf3, receiver side), host loopback <-> pasta namespace loopback"
SPLICE_CAT_RR="Spliced TCP latency [us] (lower is better) and connection rate [conn/s]"
SPLICE_VARIANTS="ours ref loop"
SPLICE_IPERF_PORT=5211
SPLICE_RR_PORT=5311

# splice_rows: declare the rows, in print order (own file: the columns
# differ from the other tables)
splice_rows() {
	SPLICE_ROWS=$PERF_RES/splice_rows
	: > "$SPLICE_ROWS"
	local p
	for p in 1 2; do
		echo "$SPLICE_CAT_TPUT|splice_out_v4_P$p|hi|IPv4 host->ns, -P $p" >> "$SPLICE_ROWS"
		echo "$SPLICE_CAT_TPUT|splice_in_v4_P$p|hi|IPv4 ns->host (-R), -P $p" >> "$SPLICE_ROWS"
	done
	echo "$SPLICE_CAT_TPUT|splice_out_v6_P1|hi|IPv6 host->ns, -P 1" >> "$SPLICE_ROWS"
	echo "$SPLICE_CAT_TPUT|splice_in_v6_P1|hi|IPv6 ns->host (-R), -P 1" >> "$SPLICE_ROWS"
	for af in 4 6; do
		echo "$SPLICE_CAT_RR|splice_rr_v$af|lo|TCP_RR 64 B, IPv$af: mean latency [us]" >> "$SPLICE_ROWS"
	done
	for af in 4 6; do
		echo "$SPLICE_CAT_RR|splice_crr_v$af|hi|TCP_CRR 64 B, IPv$af: connections [1/s]" >> "$SPLICE_ROWS"
	done
}

# in_server CMD...: where the servers of the current variant run: pasta's
# namespace, or "host" for the loopback variant
in_server() {
	case $VARIANT in
	loop)	in_host "$@" ;;
	*)	in_ns "$@" ;;
	esac
}

# splice_servers: iperf3 and rr servers on both loopback addresses, where
# in_server runs; return: non-zero if they don't listen within 5 s
splice_servers() {
	bg spl_iperf4 in_server iperf3 -s -p $SPLICE_IPERF_PORT -B 127.0.0.1
	bg spl_iperf6 in_server iperf3 -s -p $SPLICE_IPERF_PORT -B ::1
	bg spl_rr4 in_server "$RR" -s -b 127.0.0.1 -p $SPLICE_RR_PORT
	bg spl_rr6 in_server "$RR" -s -b ::1 -p $SPLICE_RR_PORT
	local t=50
	while [ $t -gt 0 ]; do
		[ "$(in_server ss -Hltn "sport = :$SPLICE_IPERF_PORT or sport = :$SPLICE_RR_PORT" | wc -l)" -ge 4 ] && return 0
		sleep 0.1
		t=$((t - 1))
	done
	perf_log "$VARIANT: splice servers did not start"
	return 1
}

# splice_servers_stop: stop what splice_servers started, bounded
splice_servers_stop() {
	local n p
	for n in spl_iperf4 spl_iperf6 spl_rr4 spl_rr6; do
		p=$(cat "$TMP/$n.pid" 2>/dev/null) || continue
		kill "$p" 2>/dev/null
		wait_for 3 pid_gone "$p" || kill -9 "$p" 2>/dev/null
		rm -f "$TMP/$n.pid"
	done
}

# splice_variant_start VARIANT: pasta with the forwarded ports (ours, ref),
# or nothing (loop); then the servers. Return: non-zero on failure
splice_variant_start() {
	VARIANT=$1
	perf_log "splice: starting $VARIANT"
	case $VARIANT in
	ours|ref)
		if [ $VARIANT = ours ]; then PASTA=$OURS_PASTA
		else PASTA=$REF_PASTA; fi
		# Loopback to loopback: since passt 2026, the host's loopback
		# reaches the namespace's public address unless told otherwise
		lo2lo=
		"$PASTA" --help 2>&1 | grep -q -- --host-lo-to-ns-lo &&
			lo2lo=--host-lo-to-ns-lo
		if [ ! -x "$PASTA" ] || ! pasta_start --config-net $lo2lo \
			-t $SPLICE_IPERF_PORT,$SPLICE_RR_PORT -u none -T none -U none; then
			perf_log "splice: $VARIANT: $PASTA did not start"
			cp "$TMP/pasta.log" "$PERF_RES/splice-$VARIANT.pasta.log" 2>/dev/null
			pasta_stop
			return 1
		fi
		# TIME_WAIT of pasta's connecting sockets in the namespace
		in_ns sysctl -qw net.ipv4.ip_local_port_range="10000 65000" || true
		in_ns sysctl -qw net.ipv4.tcp_tw_reuse=1 || true
		;;
	esac
	if ! splice_servers; then
		splice_variant_stop
		return 1
	fi
	# pasta's own listening sockets in "host"
	wait_for 5 tcp_listening in_host $SPLICE_IPERF_PORT || true
	wait_for 5 tcp_listening in_host $SPLICE_RR_PORT || true
	return 0
}

# splice_variant_stop: servers, then pasta
splice_variant_stop() {
	splice_servers_stop
	case $VARIANT in
	ours|ref) pasta_stop ;;
	esac
	VARIANT=
}

# splice_iperf KEY DST ARGS...: iperf3 client in "host" to DST, records the
# receiver's Gbit/s under KEY: the median of $PERF_RUNS runs
splice_iperf() {
	local key=$1 dst=$2 v json r vals=""
	shift 2
	for r in $(seq "$PERF_RUNS"); do
		json=$PERF_RES/$VARIANT-$key-$r.json
		if timeout -k 2 "$PERF_TIMEOUT" ip netns exec "$NS_HOST" \
			iperf3 -c "$dst" -p $SPLICE_IPERF_PORT -t "$PERF_T" \
			-O $PERF_OMIT -J "$@" > "$json" 2>&1 &&
		   v=$(json_get "$json" "['end']['sum_received']['bits_per_second']"); then
			vals="$vals $(awk -v b="$v" 'BEGIN { printf "%.2f", b / 1e9 }')"
			continue
		fi
		perf_log "splice: $VARIANT $key: iperf3 failed: $(json_get "$json" "['error']" || tail -1 "$json")"
		# the server may be stuck with the failed client
		splice_servers_stop
		splice_servers || true
	done
	# shellcheck disable=SC2086 # word splitting wanted
	rec "$key" "$(median $vals)"
}

# splice_rr KEY FIELD ARGS...: rr client in "host", records FIELD of its
# output under KEY: the median of $PERF_RUNS runs
splice_rr() {
	local key=$1 field=$2 out v r vals=""
	shift 2
	for r in $(seq "$PERF_RUNS"); do
		if out=$(timeout -k 2 "$PERF_TIMEOUT" ip netns exec "$NS_HOST" \
			"$RR" -p $SPLICE_RR_PORT -t "$PERF_T" "$@" 2>&1) &&
		   v=$(echo "$out" | tr ' ' '\n' | sed -n "s/^$field=//p") &&
		   [ -n "$v" ]; then
			vals="$vals $v"
			continue
		fi
		perf_log "splice: $VARIANT $key: rr failed: $(echo "$out" | tail -1)"
	done
	# shellcheck disable=SC2086
	rec "$key" "$(median $vals)"
}

# splice_measure: every row for the current variant
splice_measure() {
	local p af dst
	for p in 1 2; do
		splice_iperf splice_out_v4_P$p 127.0.0.1 -P $p
		splice_iperf splice_in_v4_P$p 127.0.0.1 -P $p -R
	done
	splice_iperf splice_out_v6_P1 ::1
	splice_iperf splice_in_v6_P1 ::1 -R
	for af in 4 6; do
		if [ $af = 4 ]; then dst=127.0.0.1; else dst=::1; fi
		splice_rr splice_rr_v$af mean_us -c $dst -m tcp_rr -l 64
		splice_rr splice_crr_v$af per_s -c $dst -m tcp_crr -l 64
	done
}

# splice_tables: the tables of the rows above: ours, reference, loopback
splice_tables() {
	local cat key label last="" o r l
	while IFS='|' read -r cat key _ label; do
		if [ "$cat" != "$last" ]; then
			echo
			echo "$cat"
			printf '%-46s %10s %10s %10s %9s %9s\n' "" \
				ours reference loopback ours/ref ours/loop
			last=$cat
		fi
		o=$(perf_value ours "$key")
		r=$(perf_value ref "$key")
		l=$(perf_value loop "$key")
		printf '%-46s %10s %10s %10s %9s %9s\n' "$label" "$o" "$r" "$l" \
			"$(ratio "$o" "$r")" "$(ratio "$o" "$l")"
	done < "$SPLICE_ROWS"
}

# splice_main: the whole splice run. Sets up the topology unless the caller
# (test/perf/run) already did; prints the tables and appends them to
# $PERF_RES/tables.txt
splice_main() {
	local v start
	if [ -z "${PERF_RES:-}" ] || ! ip netns list | grep -q "^$NS_HOST\\b"; then
		perf_setup
	fi
	splice_rows
	start=$(date +%s)
	for v in ${PERF_ONLY:-$SPLICE_VARIANTS}; do
		case $v in ours|ref|loop) ;; *) continue ;; esac
		splice_variant_start "$v" || continue
		splice_measure
		splice_variant_stop
	done
	{
		echo
		echo "pasta local bypass (splice), started $(date -u -d "@$start" '+%Y-%m-%d %H:%M UTC')"
		echo "ours: $OURS_PASTA ($(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)), reference: $REF_PASTA ($(perf_ref_version))"
		echo "loopback: client and server in the same namespace, no pasta"
		splice_tables
		echo
		echo "splice run time: $(( $(date +%s) - start ))s"
	} | tee -a "$PERF_RES/tables.txt"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	if [ "$(id -u)" != 0 ]; then
		echo "test/perf/splice.sh: must run as root (it creates network namespaces)" >&2
		exit 1
	fi
	. "$(dirname "$0")/lib.sh"
	splice_main
fi
