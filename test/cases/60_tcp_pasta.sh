#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/60_tcp_pasta.sh - TCP translation over the tap path, pasta
#
#  ns "remote" 198.51.100.1, 2001:db8::1, lo 203.0.113.1
#   httpd :8000, socat :8001 (upload sink) :8002 (1 MiB each) :8003
#   (half-close) :8006 (endless), tcp_tool serve-rst :8004, iperf3 :5201
#     |  veth
#  ns "host" 198.51.100.2, 2001:db8::2, socat on 127.0.0.1:7777, [::1]:7777
#   pasta --config-net -t 8080 -t 2222:22 -t 198.51.100.2/9100
#         -t 9000-9005,~9003 -t 8081 -u none -T none -U none
#     |  tap
#  pasta namespace: clients (curl, socat, iperf3, tcp_tool.py), and
#   servers on 8080 22 9100 9002 9003 (read a line, answer "ns-PORT"),
#   9001 (banner "ns-9001", then close), 8081 (half-close)
#
# The remote's veth addresses, 198.51.100.1 and 2001:db8::1, are also the
# gateway addresses: by default pasta maps connections to them to the host's
# loopback (checked with a server that only listens there, :7777), so
# the outbound checks of the first instance target the remote's loopback
# addresses 203.0.113.1 and 2001:db8:1::1, routed through the gateway; a
# second instance, with --no-map-gw, checks curl to 198.51.100.1 and
# [2001:db8::1], and that :7777 is then out of reach.
#
# Outbound: curl; 256 MiB down and up, both families, sha256 compared; 200
# concurrent 1 MiB downloads.
# Inbound through each form of -t, from the remote and from the host's
# loopback (the latter takes pasta's splice path). Half-close, RST,
# refused connections; iperf3 both ways; a client killed mid-transfer
# leaves no socket behind in pasta; the gateway address maps to the host's
# loopback unless --no-map-gw.
#
# Only -t is under test: -u none -T none -U none keep UDP and reverse
# forwarding out of the way. Target runtime: well under 3 minutes.

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/tcp.sh"

PASTA_OPTS="--config-net $TCP_FWD_OPTS -u none -T none -U none"
start=$(date +%s)

topo_setup
tcp_tool_install
tcp_files
if ! tcp_remote_servers; then
	fail tcp_pasta_servers "servers in the remote namespace did not start"
	exit 0
fi
bg hostlo in_host socat \
	"TCP4-LISTEN:$TCP_P_HOSTLO,bind=127.0.0.1,reuseaddr,fork" "SYSTEM:echo host-lo"
bg hostlo6 in_host socat \
	"TCP6-LISTEN:$TCP_P_HOSTLO,bind=[::1],reuseaddr,fork" "SYSTEM:echo host-lo"
wait_for 5 tcp_listening in_host "$TCP_P_HOSTLO" || true

# shellcheck disable=SC2086
if ! pasta_start $PASTA_OPTS; then
	fail tcp_pasta_start "pasta did not start"
	exit 0
fi
wait_for 5 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev eth0 | grep -q '$HOST6/' && ! nsenter -t $NS_PID -n ip -6 addr show dev eth0 | grep -q tentative" || true
if ! tcp_ns_servers in_ns; then
	fail tcp_pasta_ns_servers "servers in the pasta namespace did not start"
	exit 0
fi

# --- Outbound: HTTP with curl to the remote's loopback addresses (routed
# through the gateway, not the gateway itself: see the header)
tcp_expect tcp_pasta_curl4_remote_lo '^tcp-test-index$' \
	in_ns curl -sS --max-time 10 "http://$REMOTE_LO4:$TCP_P_HTTP/index.html"
tcp_expect tcp_pasta_curl6_remote_lo '^tcp-test-index$' \
	in_ns curl -sS --max-time 10 -g "http://[$REMOTE_LO6]:$TCP_P_HTTP/index.html"

# --- Bulk: TCP_BIG_MB MiB down (curl) and up (socat), both families
for fam in 4 6; do
	if [ $fam = 4 ]; then a=$REMOTE_LO4; else a="[$REMOTE_LO6]"; fi
	t0=$(date +%s%N)
	tcp_expect "tcp_pasta_download${fam}_${TCP_BIG_MB}M" "^$TCP_SHA_BIG\$" \
		in_ns timeout 90 sh -c "curl -sS --max-time 80 -g 'http://$a:$TCP_P_HTTP/big' | sha256sum | cut -d' ' -f1"
	echo "  download: $(tcp_since "$t0") s"

	tcp_upload_sink "up$fam" $((8010 + fam)) || true
	t0=$(date +%s%N)
	in_ns timeout 90 socat -u "OPEN:$TMP/www/big,rdonly" \
		"TCP:$a:$((8010 + fam))" || true
	wait_for 20 test -s "$TMP/up$fam.sha" || true
	echo "  upload: $(tcp_since "$t0") s"
	tcp_expect "tcp_pasta_upload${fam}_${TCP_BIG_MB}M" "^$TCP_SHA_BIG\$" \
		cat "$TMP/up$fam.sha"
done

# --- 200 concurrent connections, 1 MiB each
tcp_expect tcp_pasta_concurrent_${TCP_MULTI_N}x1M \
	"^unfinished=0 $TCP_MULTI_N $TCP_SHA_ONE:1048576\$" \
	tcp_tool in_ns multi "$REMOTE_LO4" "$TCP_P_MULTI" "$TCP_MULTI_N"

# --- Half-close, RST, refused, outbound
tcp_expect tcp_pasta_halfclose4 "^count=$TCP_HALF_REQ len=1048576 sha=$TCP_SHA_ONE\$" \
	tcp_tool in_ns halfclose "$REMOTE_LO4" "$TCP_P_HALF" "$TCP_HALF_REQ"
tcp_expect tcp_pasta_halfclose6 "^count=$TCP_HALF_REQ len=1048576 sha=$TCP_SHA_ONE\$" \
	tcp_tool in_ns halfclose "$REMOTE_LO6" "$TCP_P_HALF" "$TCP_HALF_REQ"
tcp_expect tcp_pasta_rst4 '^reset ' tcp_tool in_ns rst "$REMOTE_LO4" "$TCP_P_RST"
tcp_expect tcp_pasta_rst6 '^reset ' tcp_tool in_ns rst "$REMOTE_LO6" "$TCP_P_RST"
tcp_expect tcp_pasta_refused4 '^refused [01]\.[0-9]+s$' \
	tcp_tool in_ns refused "$REMOTE_LO4" "$TCP_P_CLOSED"
tcp_expect tcp_pasta_refused6 '^refused [01]\.[0-9]+s$' \
	tcp_tool in_ns refused "$REMOTE_LO6" "$TCP_P_CLOSED"

# --- Inbound, every form of -t
tcp_inbound tcp_pasta "$HOST4"

# --- iperf3, both directions, both families
for fam in 4 6; do
	if [ $fam = 4 ]; then a=$REMOTE_LO4; else a=$REMOTE_LO6; fi
	for dir in "" -R; do
		n=tcp_pasta_iperf3_ipv$fam${dir:+_reverse}
		if in_ns timeout 20 iperf3 -c "$a" -p "$TCP_P_IPERF" -t 3 -f m \
			$dir > "$TMP/$n.out" 2>&1; then
			r=$(tcp_iperf_rate "$TMP/$n.out")
			echo "  $n: $r Mbits/s"
			if tcp_rate_nonzero "$r"; then pass "$n"; else
				fail "$n" "zero throughput"; fi
		else
			fail "$n" "$(tail -2 "$TMP/$n.out" | tr '\n' ' ')"
		fi
	done
done

# --- A client killed mid-transfer leaves nothing behind in pasta
sleep 1
fd0=$(tcp_fd_count "$PASTA_PID")
bg killme in_ns socat -u "TCP:$REMOTE_LO4:$TCP_P_STREAM" /dev/null
kp=$(cat "$TMP/killme.pid")
running() { [ "$(tcp_fd_count "$PASTA_PID")" -gt "$fd0" ]; }
if wait_for 5 running; then
	sleep 1
	fd1=$(tcp_fd_count "$PASTA_PID")
	kill -9 "$kp" 2>/dev/null || true
	t0=$(date +%s)
	back() { [ "$(tcp_fd_count "$PASTA_PID")" -le "$fd0" ]; }
	if wait_for 150 back; then
		echo "  pasta fds: $fd0 idle, $fd1 during transfer, $(tcp_fd_count "$PASTA_PID") $(( $(date +%s) - t0 ))s after the kill"
		pass tcp_pasta_killed_client_no_leak
	else
		fail tcp_pasta_killed_client_no_leak "pasta has $(tcp_fd_count "$PASTA_PID") fds 150 s after the kill, $fd0 before"
	fi
else
	kill -9 "$kp" 2>/dev/null || true
	fail tcp_pasta_killed_client_no_leak "the transfer did not start"
fi

# --- The gateway address maps to the host's loopback: 7777 listens there
# only
tcp_expect tcp_pasta_map_gw '^host-lo$' tcp_tool in_ns line "$GW4" "$TCP_P_HOSTLO"
tcp_expect tcp_pasta_map_gw6 '^host-lo$' tcp_tool in_ns line "$GW6" "$TCP_P_HOSTLO"

# --- Second instance, --no-map-gw: the gateway address is the remote's
# address again, and the host's loopback is out of reach through it
pasta_stop
# the servers of the first namespace would keep it alive
for n in nssrv8080 nssrv22 nssrv9100 nssrv9001 nssrv9002 nssrv9003 nshalf; do
	kill "$(cat "$TMP/$n.pid")" 2>/dev/null || true
done
# shellcheck disable=SC2086
if ! pasta_start $PASTA_OPTS --no-map-gw; then
	fail tcp_pasta_no_map_gw_start "pasta --no-map-gw did not start"
	exit 0
fi
wait_for 5 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev eth0 | grep -q '$HOST6/' && ! nsenter -t $NS_PID -n ip -6 addr show dev eth0 | grep -q tentative" || true
if ! tcp_ns_servers in_ns; then
	fail tcp_pasta_no_map_gw_ns_servers "servers in the namespace did not start"
	exit 0
fi
tcp_expect tcp_pasta_no_map_gw '^(refused|timeout|error) ' \
	tcp_tool in_ns refused "$GW4" "$TCP_P_HOSTLO"
tcp_expect tcp_pasta_no_map_gw6 '^(refused|timeout|error) ' \
	tcp_tool in_ns refused "$GW6" "$TCP_P_HOSTLO"
tcp_expect tcp_pasta_curl4 '^tcp-test-index$' \
	in_ns curl -sS --max-time 10 "http://$REMOTE4:$TCP_P_HTTP/index.html"
tcp_expect tcp_pasta_curl6 '^tcp-test-index$' \
	in_ns curl -sS --max-time 10 -g "http://[$REMOTE6]:$TCP_P_HTTP/index.html"

# inbound again: the remote's connections come from the gateway address,
# which --no-map-gw leaves alone in both directions
tcp_inbound tcp_pasta_no_map_gw "$HOST4"

echo "tcp pasta case: $(( $(date +%s) - start ))s"
