#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/perf/udp.sh - UDP and ICMP echo benchmarks: throughput with loss,
# request/response latency, ping latency
#
# Topology and variants: see lib.sh. Client in the variant's namespace,
# servers in "remote" (203.0.113.1, 2001:db8:1::1):
#
#   ns (ours | ref | slirp | veth) --- host --- remote
#     iperf3 -c -u -b 0 [-R]   ------------>   iperf3 -s
#     rr -c -m udp_rr          ------------>   rr -s
#     ping                     ------------>   kernel
#
# Rows:
#   throughput: iperf3 -u -b 0 (as fast as the sender can) with datagrams of
#	1400 and 32000 bytes (32000: IPv4/IPv6 fragments on the remote link
#	only if its MTU were smaller; here it is 65520), ns->remote and
#	remote->ns (-R), IPv4 and IPv6 at MTU 65520; 1400 bytes, IPv4 at MTU
#	1500. Received Gbit/s and the loss percentage seen by the receiver.
#   UDP_RR: mean latency of a 64-byte datagram and its echo, back to back
#	for $PERF_T s (a reply missing after 200 ms is lost, not averaged)
#   ping: ping -c 200 -i 0.002 (root: raw ICMP socket in the namespace),
#	average round-trip time in us
#
# Standalone: test/perf/udp.sh (as root) runs only these rows.

UDP_CAT_TPUT="UDP throughput [Gbit/s received] and loss [%] (iperf3 -u -b 0)"
UDP_CAT_RR="UDP and ICMP echo latency [us] (lower is better)"

# udp_rows: declare the rows of the UDP/ICMP tables
udp_rows() {
	local len af dir d
	for len in 1400 32000; do
		for af in 4 6; do
			for dir in out in; do
				if [ $dir = out ]; then d="ns->remote"
				else d="remote->ns (-R)"; fi
				row "$UDP_CAT_TPUT" udp_${dir}_v${af}_${len}_65520 hi \
					"IPv$af $d, -l $len, MTU 65520"
				row "$UDP_CAT_TPUT" udp_${dir}_v${af}_${len}_65520_loss - \
					"  loss [%]"
			done
		done
	done
	for dir in out in; do
		if [ $dir = out ]; then d="ns->remote"
		else d="remote->ns (-R)"; fi
		row "$UDP_CAT_TPUT" udp_${dir}_v4_1400_1500 hi \
			"IPv4 $d, -l 1400, MTU 1500"
		row "$UDP_CAT_TPUT" udp_${dir}_v4_1400_1500_loss - "  loss [%]"
	done
	for af in 4 6; do
		row "$UDP_CAT_RR" udp_rr_v$af lo "UDP_RR 64 B, IPv$af: mean latency"
	done
	for af in 4 6; do
		row "$UDP_CAT_RR" ping_v$af lo "ICMP echo, IPv$af: ping avg rtt"
	done
}

# udp_iperf KEY ENABLED DST ARGS...: iperf3 UDP run, records received
# Gbit/s under KEY and loss under KEY_loss
udp_iperf() {
	local key=$1 on=$2 dst=$3 v loss
	shift 3
	IPERF_JSON=$PERF_RES/$VARIANT-$key.json
	if [ "$on" != 1 ]; then
		rec "$key" n/a
		rec "${key}_loss" n/a
		return 1
	fi
	# no -O here: UDP has no slow start, and iperf3 3.12 counts omitted
	# datagrams as lost (loss above 100%). sum_received: receiver's view
	if in_client iperf3 -c "$dst" -p $IPERF_PORT -t "$PERF_T" \
		-J -u -b 0 "$@" > "$IPERF_JSON" 2>&1 &&
	   v=$(json_get "$IPERF_JSON" "['end']['sum_received']['bits_per_second']") &&
	   loss=$(json_get "$IPERF_JSON" "['end']['sum_received']['lost_percent']"); then
		rec "$key" "$(awk -v b="$v" 'BEGIN { printf "%.2f", b / 1e9 }')"
		rec "${key}_loss" "$(awk -v l="$loss" 'BEGIN { printf "%.1f", l }')"
		return 0
	fi
	perf_log "$VARIANT $key: iperf3 failed: $(json_get "$IPERF_JSON" "['error']" || tail -1 "$IPERF_JSON")"
	rec "$key" n/a
	rec "${key}_loss" n/a
	iperf_server_restart
	return 1
}

# ping_run KEY ENABLED DST: records the average rtt in us
ping_run() {
	local key=$1 on=$2 dst=$3 out v
	if [ "$on" != 1 ]; then
		rec "$key" n/a
		return 1
	fi
	out=$(in_client_t 10 ping -q -n -c 200 -i 0.002 -W 1 "$dst" 2>&1)
	v=$(echo "$out" | sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
	if [ -n "$v" ]; then
		rec "$key" "$(awk -v a="$v" 'BEGIN { printf "%.1f", a * 1000 }')"
		return 0
	fi
	perf_log "$VARIANT $key: ping failed: $(echo "$out" | tail -2 | tr '\n' ' ')"
	rec "$key" n/a
	return 1
}

# udp_measure MTU: all UDP and ICMP rows for the current variant at MTU
udp_measure() {
	local mtu=$1 af dst on len
	if [ "$mtu" != 65520 ]; then
		udp_iperf udp_out_v4_1400_$mtu $HAVE4 $DST4 -l 1400
		udp_iperf udp_in_v4_1400_$mtu $HAVE4 $DST4 -l 1400 -R
		return 0
	fi
	for len in 1400 32000; do
		for af in 4 6; do
			if [ $af = 4 ]; then dst=$DST4 on=$HAVE4
			else dst=$DST6 on=$HAVE6; fi
			udp_iperf udp_out_v${af}_${len}_$mtu $on $dst -l $len
			udp_iperf udp_in_v${af}_${len}_$mtu $on $dst -l $len -R
		done
	done
	for af in 4 6; do
		if [ $af = 4 ]; then dst=$DST4 on=$HAVE4
		else dst=$DST6 on=$HAVE6; fi
		rr_run udp_rr_v$af $on mean_us -c $dst -m udp_rr -l 64
	done
	# reaching remote over TCP is not a precondition for ping: try anyway
	ping_run ping_v4 1 $DST4
	ping_run ping_v6 1 $DST6
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	. "$(dirname "$0")/lib.sh"
	. "$(dirname "$0")/tcp.sh"	# rr_run
	perf_main udp_rows -- udp_measure
fi
