#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/81_pasta_auto_fwd.sh - pasta's automatic port forwarding
# (-t auto -u auto -T auto -U auto, the defaults) between the host namespace
# and pasta's namespace, through the local bypass
#
#  ns "host" (test user runs pasta)          pasta namespace
#   loopback clients             <-- auto -->  servers started after pasta:
#                                                8500 on 0.0.0.0
#                                                8501 on 127.0.0.1
#                                                8502 on [::]
#   server started after pasta:  <-- auto -->  loopback clients
#     8510 on 127.0.0.1
#   server started before pasta: (kept)        server on the same port:
#     8520 on 127.0.0.1 "host-8520"              8520 "ns-8520"
#
#  second instance, attached: pasta --config-net PID, PID an unshare -rUn
#  sleep of the test user, in which a UDP echo server (8530) and a TCP
#  server (8531) were started before pasta
#
# Checks:
# - a server started in the namespace after pasta (0.0.0.0, [::]) answers on
#   the host's loopback within 2 s of listening; one bound to the
#   namespace's 127.0.0.1 only stays private (man page, --host-lo-to-ns-lo:
#   the host's loopback reaches the namespace's public address); when it
#   exits,
#   pasta's socket on the host goes away (ss -ltn) within 2 s, and the
#   connection is refused
# - the same for a server started in the host namespace (-T auto): reached
#   from the namespace's loopback, released there
# - a port bound on one side is never taken over: with a server on the
#   host's 127.0.0.1:8520 and one in the namespace on 8520, the host's own
#   server keeps answering on the host side, for longer than pasta's scan
#   interval, and the namespace's on the namespace side
# - UDP (and TCP) ports bound in a namespace before pasta attaches to it
#   are forwarded from the host's loopback (-u auto reads the bound ports
#   when pasta starts)
# - UDP ports bound after pasta started, on either side, are forwarded
#   within 2 s (-u auto, -U auto), and released when the server goes
#
# Target runtime: under a minute.

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/tcp.sh"
. "$TOP/test/lib/splice.sh"

for t in socat ss; do
	if ! command -v $t >/dev/null; then
		skip pasta_auto_fwd "$t not installed"
		exit 0
	fi
done

P_ANY=8500 P_LO=8501 P_V6=8502 P_HOST=8510 P_KEEP=8520
P_ATT_UDP=8530 P_ATT_TCP=8531 P_UDP_NS=8540 P_UDP_HOST=8541
LIMIT_MS=2000
start=$(date +%s)

topo_setup
tcp_tool_install
splice_tool_install

# appears NAME WRAPPER ADDR PORT EXPECTED: pass NAME if ADDR:PORT answers
# EXPECTED where WRAPPER runs within LIMIT_MS
appears() {
	local name=$1 ms; shift
	if ms=$(wait_ms $LIMIT_MS answers "$@"); then
		echo "  $name: after $ms ms"
		pass "$name"
	else
		fail "$name" "$3:$2 did not answer '$4' within $LIMIT_MS ms"
	fi
}

# released NAME WRAPPER ADDR PORT: pass NAME if nothing listens on PORT where
# WRAPPER runs within LIMIT_MS, and a connection to ADDR:PORT is refused
released() {
	local name=$1 w=$2 a=$3 p=$4 ms
	if ! ms=$(wait_ms $LIMIT_MS tcp_port_free "$w" "$p"); then
		fail "$name" "port $p still bound after $LIMIT_MS ms: $("$w" ss -Hltnp "sport = :$p" | tr '\n' ' ')"
	elif ! refused "$w" "$a" "$p"; then
		fail "$name" "port $p unbound after $ms ms, but $a:$p does not refuse"
	else
		echo "  $name: after $ms ms"
		pass "$name"
	fi
}

# stop NAME: stop a server started with bg NAME, bounded
stop() {
	local p
	p=$(cat "$TMP/$1.pid")
	kill "$p" 2>/dev/null || true
	wait_for 3 pid_gone "$p" || kill -9 "$p" 2>/dev/null || true
}

# --- A server on the host's loopback before pasta starts: its port stays
# the host's
line_server hkeep host_user "TCP4-LISTEN:$P_KEEP,bind=127.0.0.1" host-$P_KEEP
wait_for 5 tcp_listening in_host $P_KEEP || true

if ! pasta_start --config-net; then
	fail pasta_auto_start "pasta did not start"
	exit 0
fi
wait_for 5 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev eth0 | grep -q '$HOST6/' && ! nsenter -t $NS_PID -n ip -6 addr show dev eth0 | grep -q tentative" || true
sleep 1

# --- -t auto: servers in the namespace after pasta, three kinds of binding
# one at a time, each timed from the moment it listens
line_server nsany in_ns "TCP4-LISTEN:$P_ANY" ns-$P_ANY
wait_for 5 tcp_listening in_ns $P_ANY || true
appears pasta_auto_t_any_reachable in_host 127.0.0.1 $P_ANY ns-$P_ANY
line_server nslo in_ns "TCP4-LISTEN:$P_LO,bind=127.0.0.1" ns-$P_LO
wait_for 5 tcp_listening in_ns $P_LO || true
sleep 2		# two scans: the port is forwarded by now
if answers in_host 127.0.0.1 $P_LO ns-$P_LO; then
	fail pasta_auto_t_lo_private "a server on the namespace's 127.0.0.1 answered on the host's loopback"
else
	pass pasta_auto_t_lo_private
fi
line_server nsv6 in_ns "TCP6-LISTEN:$P_V6,ipv6only=0" ns-$P_V6
wait_for 5 tcp_listening in_ns $P_V6 || true
appears pasta_auto_t_v6_reachable6 in_host ::1 $P_V6 ns-$P_V6
appears pasta_auto_t_v6_reachable4 in_host 127.0.0.1 $P_V6 ns-$P_V6

stop nsany
released pasta_auto_t_any_released in_host 127.0.0.1 $P_ANY
stop nslo
released pasta_auto_t_lo_released in_host 127.0.0.1 $P_LO
stop nsv6
released pasta_auto_t_v6_released in_host ::1 $P_V6

# --- -T auto: a server in the host namespace after pasta
line_server hlo host_user "TCP4-LISTEN:$P_HOST,bind=127.0.0.1" host-$P_HOST
wait_for 5 tcp_listening in_host $P_HOST || true
appears pasta_auto_T_reachable in_ns 127.0.0.1 $P_HOST host-$P_HOST
stop hlo
released pasta_auto_T_released in_ns 127.0.0.1 $P_HOST

# --- -u auto, -U auto: UDP echo servers started after pasta, both sides
udp_free() { ! "$1" ss -Hlun "sport = :$2" | grep -q .; }
udp_auto() {
	local name=$1 srv=$2 cli=$3 port=$4
	bg "udp$port" "$srv" timeout 60 "$SPLICE_PY" "$TMP/splice_tool.py" \
		udp-echo 0.0.0.0 "$port"
	wait_for 5 udp_bound "$srv" "$port" || true
	if wait_ms $LIMIT_MS udp_bound "$cli" "$port" >/dev/null; then
		tcp_expect "$name" '^echoed=100/100 corrupt=0 unknown=0 ' \
			splice_tool "$cli" udp-bulk 127.0.0.1 "$port" 100 512
	else
		fail "$name" "UDP port $port not bound on the other side within $LIMIT_MS ms"
	fi
	stop "udp$port"
	if wait_ms $((LIMIT_MS + 1000)) udp_free "$cli" "$port" >/dev/null; then
		pass "${name}_released"
	else
		fail "${name}_released" "UDP port $port still bound: $($cli ss -Hlun "sport = :$port" | tr '\n' ' ')"
	fi
}
udp_auto pasta_auto_u_after_start in_ns in_host $P_UDP_NS
udp_auto pasta_auto_U_after_start host_user in_ns $P_UDP_HOST

# --- Not taken over: a server in the namespace on the port the host's
# server had before pasta started. pasta may have bound the namespace's
# loopback for it (-T auto), so the namespace's server binds what it can:
# any address, else the namespace's own global address
line_server nskeep in_ns "TCP4-LISTEN:$P_KEEP" ns-$P_KEEP
if ! wait_for 2 tcp_listening in_ns $P_KEEP ||
   ! in_ns ss -Hltnp "sport = :$P_KEEP" | grep -q socat; then
	stop nskeep
	line_server nskeep in_ns "TCP4-LISTEN:$P_KEEP,bind=$HOST4" ns-$P_KEEP
	wait_for 5 sh -c "nsenter -t $NS_PID -n ss -Hltnp 'sport = :$P_KEEP' | grep -q socat" || true
fi
keep_addr=$(in_ns ss -Hltnp "sport = :$P_KEEP" | awk '/socat/ { print $4 }')
echo "  namespace server bound to $keep_addr"
sleep 3		# more than one scan of bound ports
ok=1
for _ in 1 2 3 4 5; do
	answers in_host 127.0.0.1 $P_KEEP host-$P_KEEP || ok=0
done
if [ $ok = 1 ] && in_host ss -Hltnp "sport = :$P_KEEP" | grep -q socat; then
	pass pasta_auto_host_port_kept
else
	fail pasta_auto_host_port_kept "host side: $(tcp_tool in_host line 127.0.0.1 $P_KEEP hi 2>&1 | tr '\n' ' '), listeners: $(in_host ss -Hltnp "sport = :$P_KEEP" | tr '\n' ' ')"
fi
ka=${keep_addr%:*}
[ "$ka" != "0.0.0.0" ] && [ "$ka" != "*" ] || ka=127.0.0.1
tcp_expect pasta_auto_ns_port_kept "^ns-$P_KEEP\$" tcp_tool in_ns line "$ka" $P_KEEP hi
if ! pid_gone "$PASTA_PID"; then
	pass pasta_auto_alive
else
	fail pasta_auto_alive "pasta exited: $(tail -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi
pasta_stop

# --- UDP auto at start: pasta attaches to a namespace where a UDP echo
# server (and a TCP server) already run
bg uns host_user unshare --user --map-root-user --net -- sleep 600
UNS_PID=$(cat "$TMP/uns.pid")
# unshare execs sleep once the namespaces and the ID map are in place
wait_for 5 sh -c "[ \"\$(cat /proc/$UNS_PID/comm)\" = sleep ]" || true
in_uns() { $_BG_EXEC nsenter -t "$UNS_PID" -n -- "$@"; }
in_uns ip link set lo up
bg uecho in_uns timeout 600 "$SPLICE_PY" "$TMP/splice_tool.py" udp-echo 0.0.0.0 $P_ATT_UDP
line_server utcp in_uns "TCP4-LISTEN:$P_ATT_TCP" ns-$P_ATT_TCP
wait_for 5 udp_bound in_uns $P_ATT_UDP || true
wait_for 5 tcp_listening in_uns $P_ATT_TCP || true
bg pasta_att host_user "$PASTA" -f --config-net "$UNS_PID"
ATT_PID=$(cat "$TMP/pasta_att.pid")
if wait_for 10 udp_bound in_host $P_ATT_UDP; then
	tcp_expect pasta_auto_u_at_start '^echoed=100/100 corrupt=0 unknown=0 ' \
		splice_tool in_host udp-bulk 127.0.0.1 $P_ATT_UDP 100 512
else
	fail pasta_auto_u_at_start "UDP port $P_ATT_UDP not bound in the host namespace 10 s after pasta started: $(tail -3 "$TMP/pasta_att.log" | tr '\n' ' ')"
fi
wait_for 5 tcp_listening in_host $P_ATT_TCP || true
tcp_expect pasta_auto_t_at_start "^ns-$P_ATT_TCP\$" \
	tcp_tool in_host line 127.0.0.1 $P_ATT_TCP hi
kill "$ATT_PID" 2>/dev/null || true
wait_for 5 pid_gone "$ATT_PID" || kill -9 "$ATT_PID" 2>/dev/null || true

echo "pasta auto forwarding case: $(( $(date +%s) - start ))s"
