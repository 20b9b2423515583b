#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/80_pasta_splice.sh - pasta's local bypass: loopback traffic
# between the host namespace and pasta's namespace, TCP through splice(2),
# UDP through recvmmsg(2)/sendmmsg(2), never through the tap device
#
#  ns "host" (test user runs pasta)            pasta namespace
#   127.0.0.1 / ::1 servers:                    127.0.0.1 / ::1 servers:
#     8100 busybox httpd   <--- -T 8100 ---       curl 127.0.0.1:8100
#     8101 socat, 1 GiB    <--- -T 8101 ---       socat | sha256sum
#     8102 half-close      <--- -T 8102 ---       tcp_tool halfclose
#     8103 serve-rst       <--- -T 8103 ---       tcp_tool rst
#     8104 socat echo      <--- -T 8104 ---       tcp_tool echo
#     8400 UDP echo        <--- -U 8400 ---       splice_tool udp-bulk
#   curl 127.0.0.1:8200    --- -t 8200 --->     8200 busybox httpd
#   socat | sha256sum      --- -t 8201 --->     8201 socat, 1 GiB
#   tcp_tool halfclose     --- -t 8202 --->     8202 half-close
#   tcp_tool rst           --- -t 8203 --->     8203 serve-rst
#   tcp_tool multi (500)   --- -t 8204 --->     8204 socat fork, 4 MiB each
#   tcp_tool echo          --- -t 8205 --->     8205 socat echo
#   splice_tool udp-bulk   --- -u 8300 --->     8300 UDP echo
#
# pasta --config-net -t 8200-8205 -u 8300 -T 8100-8104 -U 8400
#
# Checks, IPv4 and IPv6 (127.0.0.1 and ::1 on both sides):
# - HTTP with curl in both directions
# - 1 GiB in both directions, sha256 compared, and the namespace's eth0
#   byte counters (rx + tx) move by less than 2 MiB meanwhile: the data did
#   not take the tap path
# - UDP: 20000 datagrams of 1400 bytes and 2000 of 16000 bytes, echoed,
#   sequence-numbered, resent when lost (a bounded number of times), every
#   echo compared byte for byte, in both directions; eth0 counters as above
# - half-close (the client shuts down its write side and still reads the
#   whole answer) and RST (ECONNRESET at the client) in both directions
# - 2000 messages of 1 to 1400 bytes, each echoed before the next one goes
#   (small reads at every hop: nothing may stall), both ways
# - 500 concurrent connections, 4 MiB each, all intact; then 200 that the
#   client resets after reading 0 to 1 MiB of its 4 MiB
# - no file descriptors (pipes included) left behind in pasta once the TCP
#   connections are closed (bounded wait), compared with the count after
#   a warm-up burst and the UDP checks (UDP flows keep their sockets until
#   they expire, minutes later, by design)
#
# Target runtime: about a minute.

set -eu
TCP_BIG_MB=${TCP_BIG_MB:-1024}
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/tcp.sh"
. "$TOP/test/lib/splice.sh"

for t in socat curl busybox; do
	if ! command -v $t >/dev/null; then
		skip pasta_splice "$t not installed"
		exit 0
	fi
done

P_T_HTTP=8100 P_T_BULK=8101 P_T_HALF=8102 P_T_RST=8103 P_T_ECHO=8104
P_t_HTTP=8200 P_t_BULK=8201 P_t_HALF=8202 P_t_RST=8203 P_t_MULTI=8204
P_t_ECHO=8205
P_u=8300 P_U=8400
MULTI_N=${MULTI_N:-500}
DEV_SLACK=$((2 * 1048576))	# eth0 bytes allowed during a bulk transfer
start=$(date +%s)

topo_setup
tcp_tool_install
splice_tool_install
tcp_files
head -c $((4 * 1048576)) /dev/urandom > "$TMP/www/four"
chmod 644 "$TMP/www/four"
SHA_FOUR=$(sha256sum < "$TMP/www/four" | cut -d' ' -f1)

# servers_lo WRAPPER PREFIX HTTP HALF RST ECHO: loopback servers where
# WRAPPER runs, both families: httpd, half-close, RST, echo
servers_lo() {
	local w=$1 pre=$2 http=$3 half=$4 rst=$5 echo=$6
	bg "${pre}httpd4" "$w" busybox httpd -f -p "127.0.0.1:$http" -h "$TMP/www"
	bg "${pre}httpd6" "$w" busybox httpd -f -p "[::1]:$http" -h "$TMP/www"
	bg "${pre}half4" "$w" socat -t 30 \
		"TCP4-LISTEN:$half,bind=127.0.0.1,reuseaddr,fork" \
		"SYSTEM:wc -c; cat $TMP/www/one"
	bg "${pre}half6" "$w" socat -t 30 \
		"TCP6-LISTEN:$half,bind=[::1],reuseaddr,fork" \
		"SYSTEM:wc -c; cat $TMP/www/one"
	# binds [::], dual-stack: both loopback addresses included
	bg "${pre}rst" "$w" timeout 600 "$TCP_PY" "$TMP/tcp_tool.py" serve-rst "$rst"
	bg "${pre}echo" "$w" socat -t 30 \
		"TCP6-LISTEN:$echo,ipv6only=0,reuseaddr,fork" PIPE
	for p in $http $half $rst $echo; do
		wait_for 5 tcp_listening "$w" "$p" || {
			echo "server on port $p did not start"
			return 1
		}
	done
}

# --- Host side servers, then pasta, then the namespace's servers
if ! servers_lo in_host h "$P_T_HTTP" "$P_T_HALF" "$P_T_RST" "$P_T_ECHO"; then
	fail pasta_splice_servers "servers in the host namespace did not start"
	exit 0
fi
bg hecho4 in_host timeout 600 "$SPLICE_PY" "$TMP/splice_tool.py" udp-echo 127.0.0.1 $P_U
bg hecho6 in_host timeout 600 "$SPLICE_PY" "$TMP/splice_tool.py" udp-echo ::1 $P_U

# Loopback to loopback on both sides: the servers in the namespace listen on
# its loopback only, which the host's loopback reaches with
# --host-lo-to-ns-lo (81_pasta_auto_fwd checks the default)
if ! pasta_start --config-net --host-lo-to-ns-lo -t 8200-8205 -u $P_u \
		 -T 8100-8104 -U $P_U; then
	fail pasta_splice_start "pasta did not start"
	exit 0
fi
wait_for 5 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev eth0 | grep -q '$HOST6/' && ! nsenter -t $NS_PID -n ip -6 addr show dev eth0 | grep -q tentative" || true
if ! servers_lo in_ns n "$P_t_HTTP" "$P_t_HALF" "$P_t_RST" "$P_t_ECHO"; then
	fail pasta_splice_ns_servers "servers in the namespace did not start"
	exit 0
fi
bg nmulti in_ns socat -t 30 \
	"TCP6-LISTEN:$P_t_MULTI,ipv6only=0,reuseaddr,fork,backlog=1024" \
	"OPEN:$TMP/www/four,rdonly"
bg necho4 in_ns timeout 600 "$SPLICE_PY" "$TMP/splice_tool.py" udp-echo 127.0.0.1 $P_u
bg necho6 in_ns timeout 600 "$SPLICE_PY" "$TMP/splice_tool.py" udp-echo ::1 $P_u
wait_for 5 tcp_listening in_ns $P_t_MULTI || true
wait_for 5 udp_bound in_ns $P_u || true
# pasta's own sockets: the forwarded ports, on each side
wait_for 5 tcp_listening in_host $P_t_HTTP || true
wait_for 5 tcp_listening in_ns $P_T_HTTP || true

# --- HTTP, both directions, both families
tcp_expect pasta_splice_curl4_ns_to_host '^tcp-test-index$' \
	in_ns curl -sS --max-time 10 "http://127.0.0.1:$P_T_HTTP/index.html"
tcp_expect pasta_splice_curl6_ns_to_host '^tcp-test-index$' \
	in_ns curl -sS --max-time 10 -g "http://[::1]:$P_T_HTTP/index.html"
tcp_expect pasta_splice_curl4_host_to_ns '^tcp-test-index$' \
	in_host curl -sS --max-time 10 "http://127.0.0.1:$P_t_HTTP/index.html"
tcp_expect pasta_splice_curl6_host_to_ns '^tcp-test-index$' \
	in_host curl -sS --max-time 10 -g "http://[::1]:$P_t_HTTP/index.html"

# --- UDP: sequence-numbered echo, both ways, both families. Before the
# idle count of file descriptors is taken: UDP flows keep their sockets
# until they expire, minutes later (by design), and are not a leak
# udp_bulk NAME WRAPPER ADDR PORT COUNT SIZE
udp_bulk() {
	local name=$1 w=$2 a=$3 p=$4 n=$5 sz=$6 d0 d1 out
	d0=$(ns_dev_bytes in_ns eth0)
	out=$(splice_tool "$w" udp-bulk "$a" "$p" "$n" "$sz" 2>&1) && rc=0 || rc=1
	d1=$(ns_dev_bytes in_ns eth0)
	echo "  $name: $out, eth0 of the namespace: $((d1 - d0)) bytes meanwhile"
	if [ $rc = 0 ]; then pass "$name"; else fail "$name" "$out"; fi
	if [ $((d1 - d0)) -lt $DEV_SLACK ]; then
		pass "${name}_bypasses_tap"
	else
		fail "${name}_bypasses_tap" "$((d1 - d0)) bytes through the namespace's eth0"
	fi
}
for a in 127.0.0.1 ::1; do
	fam=4; case $a in *:*) fam=6 ;; esac
	udp_bulk pasta_splice_udp${fam}_host_to_ns_20000x1400 in_host $a $P_u 20000 1400
	udp_bulk pasta_splice_udp${fam}_ns_to_host_20000x1400 in_ns $a $P_U 20000 1400
	udp_bulk pasta_splice_udp${fam}_host_to_ns_2000x16000 in_host $a $P_u 2000 16000
	udp_bulk pasta_splice_udp${fam}_ns_to_host_2000x16000 in_ns $a $P_U 2000 16000
done

# Idle file descriptors of pasta, after a burst of spliced connections (a
# pool of pre-opened pipes or sockets, if any, is filled by now) and once
# the count is steady: 4 equal samples in a row, 0.5 s apart, within 10 s
steady() {
	local n last=-1 same=0 t=20
	while [ $t -gt 0 ] && [ $same -lt 4 ]; do
		n=$(tcp_fd_count "$PASTA_PID")
		if [ "$n" = "$last" ]; then same=$((same + 1)); else same=1; fi
		last=$n
		sleep 0.5
		t=$((t - 1))
	done
}
tcp_tool in_host multi 127.0.0.1 $P_t_MULTI 50 15 100 > "$TMP/warmup.out" 2>&1 || true
echo "  warm-up, 50 connections: $(tr '\n' ' ' < "$TMP/warmup.out")"
steady
fd_idle=$(tcp_fd_count "$PASTA_PID")
pipes_idle=$(fd_pipes "$PASTA_PID")
echo "  pasta idle: $fd_idle fds, $pipes_idle of them pipes"

# bulk NAME SRVWRAP CLIWRAP ADDR PORT: one-shot server sending the big file
# on ADDR:PORT where SRVWRAP runs, client where CLIWRAP runs reading it to
# EOF: sha256 compared, and the namespace's eth0 counters
bulk() {
	local name=$1 sw=$2 cw=$3 a=$4 p=$5 fam=TCP4 ca=$4 d0 d1 t0 sha
	case $a in *:*) fam=TCP6; a="[$a]"; ca="[$ca]" ;; esac
	bg "$name" "$sw" timeout 90 socat -u "OPEN:$TMP/www/big,rdonly" \
		"$fam-LISTEN:$p,bind=$a,reuseaddr"
	if ! wait_for 5 tcp_listening "$sw" "$p"; then
		fail "$name" "server did not start"
		return
	fi
	d0=$(ns_dev_bytes in_ns eth0)
	t0=$(date +%s%N)
	sha=$("$cw" timeout 60 sh -c "socat -u $fam:$ca:$p STDOUT | sha256sum" | cut -d' ' -f1) || true
	d1=$(ns_dev_bytes in_ns eth0)
	echo "  $name: $(tcp_since "$t0") s, eth0 of the namespace: $((d1 - d0)) bytes meanwhile"
	if [ "$sha" != "$TCP_SHA_BIG" ]; then
		fail "$name" "sha256 $sha, expected $TCP_SHA_BIG"
	else
		pass "$name"
	fi
	if [ $((d1 - d0)) -lt $DEV_SLACK ]; then
		pass "${name}_bypasses_tap"
	else
		fail "${name}_bypasses_tap" "$((d1 - d0)) bytes through the namespace's eth0"
	fi
	wait_for 5 pid_gone "$(cat "$TMP/$name.pid")" || true
}

# --- 1 GiB both ways, both families
bulk "pasta_splice_bulk4_host_to_ns_${TCP_BIG_MB}M" in_host in_ns 127.0.0.1 $P_T_BULK
bulk "pasta_splice_bulk6_host_to_ns_${TCP_BIG_MB}M" in_host in_ns ::1 $P_T_BULK
bulk "pasta_splice_bulk4_ns_to_host_${TCP_BIG_MB}M" in_ns in_host 127.0.0.1 $P_t_BULK
bulk "pasta_splice_bulk6_ns_to_host_${TCP_BIG_MB}M" in_ns in_host ::1 $P_t_BULK

# --- Half-close and RST, both ways, both families
for a in 127.0.0.1 ::1; do
	fam=4; case $a in *:*) fam=6 ;; esac
	tcp_expect pasta_splice_halfclose${fam}_ns_to_host \
		"^count=$TCP_HALF_REQ len=1048576 sha=$TCP_SHA_ONE\$" \
		tcp_tool in_ns halfclose $a $P_T_HALF "$TCP_HALF_REQ"
	tcp_expect pasta_splice_halfclose${fam}_host_to_ns \
		"^count=$TCP_HALF_REQ len=1048576 sha=$TCP_SHA_ONE\$" \
		tcp_tool in_host halfclose $a $P_t_HALF "$TCP_HALF_REQ"
	tcp_expect pasta_splice_rst${fam}_ns_to_host '^reset ' \
		tcp_tool in_ns rst $a $P_T_RST
	tcp_expect pasta_splice_rst${fam}_host_to_ns '^reset ' \
		tcp_tool in_host rst $a $P_t_RST
	tcp_expect pasta_splice_echo${fam}_ns_to_host '^echoed=2000/2000 ' \
		tcp_tool in_ns echo $a $P_T_ECHO 2000
	tcp_expect pasta_splice_echo${fam}_host_to_ns '^echoed=2000/2000 ' \
		tcp_tool in_host echo $a $P_t_ECHO 2000
done

# --- 500 concurrent connections, 4 MiB each
fd_peak=0
peak() {
	local n
	while kill -0 "$1" 2>/dev/null; do
		n=$(tcp_fd_count "$PASTA_PID")
		[ "$n" -le "$fd_peak" ] || fd_peak=$n
		sleep 0.2
	done
	echo "$fd_peak" > "$TMP/fdpeak"
}
t0=$(date +%s%N)
tcp_tool in_host multi 127.0.0.1 $P_t_MULTI "$MULTI_N" 15 100 > "$TMP/multi.out" 2>&1 &
mp=$!
peak $mp &
pp=$!
wait $mp || true
wait $pp || true
out=$(tr '\n' ' ' < "$TMP/multi.out" | sed 's/ *$//')
echo "  pasta_splice_concurrent: $out ($(tcp_since "$t0") s, pasta peak $(cat "$TMP/fdpeak" 2>/dev/null) fds)"
if echo "$out" | grep -qE "^unfinished=0 $MULTI_N $SHA_FOUR:4194304\$"; then
	pass "pasta_splice_concurrent_${MULTI_N}x4M"
else
	fail "pasta_splice_concurrent_${MULTI_N}x4M" "$(echo "$out" | cut -c1-300)"
fi

# --- 200 connections reset by their client half-way, pipes still full
tcp_expect pasta_splice_client_resets '^reset=200/200$' \
	tcp_tool in_host abort 127.0.0.1 $P_t_MULTI 200

# --- Nothing left behind: back to the idle count of fds and pipes
back() {
	[ "$(tcp_fd_count "$PASTA_PID")" -le "$fd_idle" ] &&
	[ "$(fd_pipes "$PASTA_PID")" -le "$pipes_idle" ]
}
t0=$(date +%s)
if wait_for 60 back; then
	echo "  pasta fds back to $(tcp_fd_count "$PASTA_PID") ($(fd_pipes "$PASTA_PID") pipes) after $(( $(date +%s) - t0 )) s"
	pass pasta_splice_no_fd_leak
else
	fail pasta_splice_no_fd_leak "pasta has $(tcp_fd_count "$PASTA_PID") fds ($(fd_pipes "$PASTA_PID") pipes) 60 s after the last connection, $fd_idle ($pipes_idle) when idle"
fi

if ! pid_gone "$PASTA_PID"; then
	pass pasta_splice_alive
else
	fail pasta_splice_alive "pasta exited: $(tail -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi

echo "pasta splice case: $(( $(date +%s) - start ))s"
