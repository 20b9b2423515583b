#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/perf/tcp.sh - TCP benchmarks: throughput, latency, connection rate
#
# Topology and variants: see lib.sh. Client in the variant's namespace,
# servers in "remote" (203.0.113.1, 2001:db8:1::1):
#
#   ns (ours | ref | slirp | veth) --- host --- remote
#     iperf3 -c [-R]    ------------------->   iperf3 -s
#     rr -c -m tcp_rr|tcp_crr  ------------>   rr -s
#
# Rows:
#   throughput ns->remote (iperf3), remote->ns (iperf3 -R), IPv4 and IPv6,
#	namespace MTU 65520 and 1500: receiver's Gbit/s over $PERF_T s,
#	after $PERF_OMIT s omitted (slow start)
#   pasta CPU: user plus system time of the pasta process (ours, no-offl,
#	reference) over each throughput run, from /proc/PID/stat, as percent
#	of one CPU per Gbit/s carried
#   TCP_RR: mean latency of a 64-byte request and 64-byte response on one
#	connection, back to back for $PERF_T s (MTU 65520 only)
#   TCP_CRR: connect, 64-byte request/response, close, back to back for
#	$PERF_T s: connections per second (MTU 65520 only)
#
# Standalone: test/perf/tcp.sh (as root) runs only these rows; test/perf/run
# runs everything with one bring-up of each variant.

TCP_CAT_TPUT="TCP throughput [Gbit/s] (iperf3, receiver side)"
TCP_CAT_RR="TCP latency [us] (lower is better) and connection rate [conn/s]"
TCP_CAT_CPU="pasta CPU [% of one CPU per Gbit/s] during the throughput runs (lower is better)"

# tcp_rows: declare the rows of the TCP tables
tcp_rows() {
	local mtu af
	for mtu in 65520 1500; do
		for af in 4 6; do
			row "$TCP_CAT_TPUT" tcp_out_v${af}_$mtu hi \
				"IPv$af ns->remote, MTU $mtu"
			row "$TCP_CAT_TPUT" tcp_in_v${af}_$mtu hi \
				"IPv$af remote->ns (-R), MTU $mtu"
		done
	done
	for mtu in 65520 1500; do
		for af in 4 6; do
			row "$TCP_CAT_CPU" tcp_out_v${af}_${mtu}_cpu lo \
				"IPv$af ns->remote, MTU $mtu"
			row "$TCP_CAT_CPU" tcp_in_v${af}_${mtu}_cpu lo \
				"IPv$af remote->ns (-R), MTU $mtu"
		done
	done
	for af in 4 6; do
		row "$TCP_CAT_RR" tcp_rr_v$af lo \
			"TCP_RR 64 B, IPv$af: mean latency [us]"
	done
	for af in 4 6; do
		row "$TCP_CAT_RR" tcp_crr_v$af hi \
			"TCP_CRR 64 B, IPv$af: connections [1/s]"
	done
}

# iperf_run KEY ENABLED DST ARGS...: one iperf3 client run, records the
# receiver's throughput in Gbit/s under KEY. Also sets IPERF_JSON.
iperf_run() {
	local key=$1 on=$2 dst=$3 v t0 c0 c1 g
	shift 3
	IPERF_JSON=$PERF_RES/$VARIANT-$key.json
	if [ "$on" != 1 ]; then
		rec "$key" n/a
		return 1
	fi
	t0=$(date +%s.%N)
	c0=$(pasta_cpu_ticks)
	if in_client iperf3 -c "$dst" -p $IPERF_PORT -t "$PERF_T" \
		-O $PERF_OMIT -J "$@" > "$IPERF_JSON" 2>&1 &&
	   v=$(json_get "$IPERF_JSON" "['end']['sum_received']['bits_per_second']"); then
		c1=$(pasta_cpu_ticks)
		g=$(awk -v b="$v" 'BEGIN { printf "%.2f", b / 1e9 }')
		rec "$key" "$g"
		# pasta's CPU over the whole run, omitted second included
		if [ -n "$c0" ]; then
			rec "${key}_cpu" "$(cpu_per_gbps "$c0" "$c1" \
				"$(awk -v a="$t0" -v b="$(date +%s.%N)" \
				'BEGIN { print b - a }')" "$g")"
		fi
		return 0
	fi
	perf_log "$VARIANT $key: iperf3 failed: $(json_get "$IPERF_JSON" "['error']" || tail -1 "$IPERF_JSON")"
	rec "$key" n/a
	iperf_server_restart
	return 1
}

# rr_run KEY ENABLED FIELD ARGS...: one rr client run, records FIELD of its
# output ("mean_us", "per_s") under KEY. Also sets RR_OUT (the whole line)
rr_run() {
	local key=$1 on=$2 field=$3 v
	shift 3
	RR_OUT=
	if [ "$on" != 1 ]; then
		rec "$key" n/a
		return 1
	fi
	if RR_OUT=$(in_client "$RR" -p $RR_PORT -t "$PERF_T" "$@" 2>&1) &&
	   v=$(echo "$RR_OUT" | tr ' ' '\n' | sed -n "s/^$field=//p") &&
	   [ -n "$v" ]; then
		rec "$key" "$v"
		return 0
	fi
	perf_log "$VARIANT $key: rr failed: $(echo "$RR_OUT" | tail -1)"
	rec "$key" n/a
	return 1
}

# tcp_measure MTU: all TCP rows for the current variant at MTU
tcp_measure() {
	local mtu=$1 af dst on
	for af in 4 6; do
		if [ $af = 4 ]; then dst=$DST4 on=$HAVE4
		else dst=$DST6 on=$HAVE6; fi
		iperf_run tcp_out_v${af}_$mtu $on $dst
		iperf_run tcp_in_v${af}_$mtu $on $dst -R
	done
	[ "$mtu" = 65520 ] || return 0
	for af in 4 6; do
		if [ $af = 4 ]; then dst=$DST4 on=$HAVE4
		else dst=$DST6 on=$HAVE6; fi
		rr_run tcp_rr_v$af $on mean_us -c $dst -m tcp_rr -l 64
		rr_run tcp_crr_v$af $on per_s -c $dst -m tcp_crr -l 64
	done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	. "$(dirname "$0")/lib.sh"
	perf_main tcp_rows -- tcp_measure
fi
