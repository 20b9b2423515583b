#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/70_udp_icmp_pasta.sh - UDP and ICMP echo translation and DNS
# forwarding, through pasta
#
#  ns "remote"                                ns "host" (test user runs pasta)
#   lo 203.0.113.1, 2001:db8:1::1              eth0 198.51.100.2, 2001:db8::2
#     dns_server.py :53                        resolv.conf: 203.0.113.1,
#     socat UDP echo :7777                                  2001:db8:1::1
#     iperf3 -s :5201                          pasta --config-net
#     (port 9 closed)                            --dns-forward 192.0.2.53
#   eth0 198.51.100.1, 2001:db8::1               --dns-forward 2001:db8:53::53
#     socat UDP echo :7777                       -u 10001,10003
#     tcpdump icmp                               |
#     socat clients -> 198.51.100.2:10001/3      pasta namespace (root, nsenter):
#                                                  ping, busybox nslookup,
#                                                  python3 UDP clients, iperf3,
#                                                  socat UDP echo :10001 :10003
#                                                  tcpdump icmp on eth0
#
# Checks: ping/ping -6 with identifiers and sequence numbers intact (both
# captures compared), a 100-ping burst; DNS A/AAAA straight to the remote
# and through --dns-forward (the query must reach the first resolver of
# the host's resolv.conf, dns_server.py logs it); UDP echo of 1, 1472, 9000
# and 65000 bytes over IPv4 and IPv6; inbound -u forwarding with replies;
# ICMP port unreachable seen as ECONNREFUSED; iperf3 -u at 1 Gbit/s with
# under 1% loss; 10000 flows in a burst, pasta alive and a new flow working.
#
# Not checked: expiry of old UDP flows. It is only observable from here as
# the socket count of pasta dropping (/proc/PID/fd), and that happens after
# the flow timeout (180 s in passt's design, as in the reference), longer
# than this case may take. The fd count after the burst is printed.

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/udp.sh"

for t in socat ping tcpdump busybox iperf3; do
	if ! command -v $t >/dev/null; then
		skip udp_icmp_pasta "$t not installed"
		exit 0
	fi
done

topo_setup
udp_client_write
if ! udp_remote_servers; then
	fail udp_icmp_pasta_servers "echo/DNS servers did not start in the remote namespace"
	exit 0
fi

if ! pasta_start --config-net --dns-forward $DNS_FWD4 --dns-forward $DNS_FWD6 \
		 -u $UDP_FWD_PORT4,$UDP_FWD_PORT6; then
	fail udp_icmp_pasta_start "pasta did not start"
	exit 0
fi
# addresses (IPv6 leaves tentative state) and routes in place
wait_for 10 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev eth0 scope global | grep -q '$HOST6/' && \
	! nsenter -t $NS_PID -n ip -6 addr show | grep -q tentative && \
	nsenter -t $NS_PID -n ip -6 route show default | grep -q ." || true

# --- ICMP echo, with captures on both sides of pasta ---------------------
bg tcpdump_ns in_ns tcpdump --immediate-mode -Z root -U -n -i eth0 -w "$TMP/ns.pcap" icmp or icmp6
bg tcpdump_remote in_remote tcpdump --immediate-mode -Z root -U -n -i eth0 -w "$TMP/remote.pcap" icmp or icmp6
wait_for 5 grep -q 'listening on' "$TMP/tcpdump_ns.log" || true
wait_for 5 grep -q 'listening on' "$TMP/tcpdump_remote.log" || true
sleep 1		# "listening" is printed a little before capture starts

for dst in $REMOTE4 $REMOTE_LO4 $REMOTE6 $REMOTE_LO6; do
	fam=4; case $dst in *:*) fam=6 ;; esac
	name=pasta_ping${fam}_${dst//[.:]/_}
	in_ns timeout 20 ping -$fam -c 5 -i 0.2 -W 2 $dst > "$TMP/$name.out" 2>&1 || true
	cat "$TMP/$name.out"
	check $name ping_seq_ok "$TMP/$name.out" 5
done
sleep 0.5
kill "$(cat "$TMP/tcpdump_ns.pid")" "$(cat "$TMP/tcpdump_remote.pid")" 2>/dev/null || true
wait_for 5 sh -c "! kill -0 $(cat "$TMP/tcpdump_ns.pid") && ! kill -0 $(cat "$TMP/tcpdump_remote.pid")" || true
# the remote capture only sees traffic on its eth0, which is all of it:
# 203.0.113.1 and 2001:db8:1::1 are reached through it as well
check pasta_ping_ids icmp_ids_ok "$TMP/ns.pcap" "$TMP/remote.pcap"
icmp_ids_summary "$TMP/ns.pcap" "$TMP/remote.pcap"

for dst in $REMOTE_LO4 $REMOTE_LO6; do
	fam=4; case $dst in *:*) fam=6 ;; esac
	name=pasta_ping${fam}_burst
	in_ns timeout 30 ping -$fam -c 100 -i 0.01 -W 2 -q $dst > "$TMP/$name.out" 2>&1 || true
	cat "$TMP/$name.out"
	check $name grep -q '100 packets transmitted, 100 received' "$TMP/$name.out"
done

# --- DNS ---------------------------------------------------------------
# dns_check NAME TYPE QNAME SERVER EXPECTED RESOLVER: busybox nslookup of
# QNAME via SERVER answers EXPECTED, and dns_server.py got the query on
# RESOLVER. The forwarded lookups use a name of their own, so the log tells
# which resolver each of them reached.
dns_check() {
	local name=$1 type=$2 q=$3 srv=$4 exp=$5 at=$6
	in_ns timeout 15 busybox nslookup -type=$type $q $srv > "$TMP/$name.out" 2>&1 || true
	cat "$TMP/$name.out"
	if ! nslookup_ok "$TMP/$name.out" $exp; then
		fail $name "no $exp in the answer: $(tr '\n' ' ' < "$TMP/$name.out" | head -c 200)"
	elif ! grep -q "^QUERY $at .* $q ${type^^}\$" "$TMP/dns.log"; then
		fail $name "the query did not reach the resolver at $at"
	else
		pass $name
	fi
}
# Straight to the remote's server, while --dns-forward is in effect: only
# the answers to forwarded queries may be translated back
dns_check pasta_dns4_a a $DNS_NAME $REMOTE_LO4 $DNS_A $REMOTE_LO4
dns_check pasta_dns4_aaaa aaaa $DNS_NAME $REMOTE_LO4 $DNS_AAAA $REMOTE_LO4
dns_check pasta_dns6_a a $DNS_NAME $REMOTE_LO6 $DNS_A $REMOTE_LO6
dns_check pasta_dns6_aaaa aaaa $DNS_NAME $REMOTE_LO6 $DNS_AAAA $REMOTE_LO6
# --dns-forward: to the first resolver of resolv.conf of each IP version
dns_check pasta_dns_forward4_a a $DNS_FWD_NAME $DNS_FWD4 $DNS_FWD_A $REMOTE_LO4
dns_check pasta_dns_forward4_aaaa aaaa $DNS_FWD_NAME $DNS_FWD4 $DNS_FWD_AAAA $REMOTE_LO4
dns_check pasta_dns_forward6_a a $DNS_FWD_NAME $DNS_FWD6 $DNS_FWD_A $REMOTE_LO6
dns_check pasta_dns_forward6_aaaa aaaa $DNS_FWD_NAME $DNS_FWD6 $DNS_FWD_AAAA $REMOTE_LO6
echo "--- DNS server log:"; cat "$TMP/dns.log" || true

# --- UDP echo, sizes up to 65000 bytes ----------------------------------
for dst in $REMOTE_LO4 $REMOTE_LO6; do
	fam=4; case $dst in *:*) fam=6 ;; esac
	for sz in $UDP_SIZES; do
		check pasta_udp${fam}_echo_$sz udp_client in_ns echo $dst $UDP_ECHO_PORT $sz
	done
done
# Not to 198.51.100.1 / 2001:db8::1: that is the gateway of the namespace,
# and UDP to the gateway goes to the host's loopback (--map-gw, man page)

# --- Inbound: -u ports, from the remote to a server in the namespace ----
udp_echo_server ns_echo4 in_ns 0.0.0.0 $UDP_FWD_PORT4
udp_echo_server ns_echo6 in_ns :: $UDP_FWD_PORT6
wait_for 5 sh -c "nsenter -t $NS_PID -n ss -uln | grep -q ':$UDP_FWD_PORT6 '" || true
# From the remote's lo addresses, and from its eth0 addresses, which are
# the namespace's gateway: the reply goes to the gateway address then, and
# must not be mapped to the host (no loopback address was involved, see
# "Handling of traffic with local destination and source addresses")
for sz in 1 1472 9000; do
	check pasta_udp4_inbound_$sz udp_client in_remote echo $HOST4 $UDP_FWD_PORT4 $sz $REMOTE_LO4
	check pasta_udp6_inbound_$sz udp_client in_remote echo $HOST6 $UDP_FWD_PORT6 $sz $REMOTE_LO6
done
check pasta_udp4_inbound_from_gw udp_client in_remote echo $HOST4 $UDP_FWD_PORT4 100 $REMOTE4
check pasta_udp6_inbound_from_gw udp_client in_remote echo $HOST6 $UDP_FWD_PORT6 100 $REMOTE6

# --- ICMP port unreachable -> ECONNREFUSED ------------------------------
check pasta_udp4_refused udp_client in_ns refused $REMOTE_LO4 $UDP_CLOSED_PORT
check pasta_udp6_refused udp_client in_ns refused $REMOTE_LO6 $UDP_CLOSED_PORT

# --- iperf3 -u at 1 Gbit/s ---------------------------------------------
# iperf3's own datagram size, as `iperf3 -u -b 1G` picks it from the path
# (large at MTU 65520: the host's veth fragments them, the remote's kernel
# reassembles). IPERF_LEN=1400 gives ~89000 datagrams per second instead:
# CPU-bound on a 2-core machine shared by sender, receiver and pasta, that
# case is measured by test/perf/udp.sh, not asserted here. A single 3 s run
# is noisy, so the better of two runs counts; both are printed. -w 4M: the
# receiving socket is not what drops datagrams.
IPERF_LEN=${IPERF_LEN:-}
best=
for run in 1 2; do
	bg iperf3_server$run in_remote iperf3 -s -1 -B $REMOTE_LO4 -p 5201
	wait_for 5 sh -c "ip netns exec $NS_REMOTE ss -tln | grep -q ':5201 '" || true
	in_ns timeout 30 iperf3 -c $REMOTE_LO4 -p 5201 -u -b 1G ${IPERF_LEN:+-l $IPERF_LEN} \
		-w 4M -t 3 --json > "$TMP/iperf3.json" 2>&1 || true
	loss=$("$PYTHON" -c '
import json, sys
try:
	j = json.load(open(sys.argv[1]))
	s = j["end"]["sum"]
	print("%.3f %.1f %d %d" % (s["lost_percent"], s["bits_per_second"] / 1e6,
				   s["lost_packets"], s["packets"]))
except Exception as e:
	print("error %s" % e)
' "$TMP/iperf3.json")
	echo "iperf3 -u -b 1G ${IPERF_LEN:+-l $IPERF_LEN }run $run: loss % / Mbit/s / lost / packets: $loss"
	case "$loss" in
	error*|"") head -c 300 "$TMP/iperf3.json"; echo ;;
	*) if [ -z "$best" ] || "$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "${loss%% *}" "${best%% *}"; then
		best=$loss
	   fi ;;
	esac
	wait_for 5 pid_gone "$(cat "$TMP/iperf3_server$run.pid")" || true
done
if [ -z "$best" ]; then
	fail pasta_udp_iperf3 "no iperf3 result"
elif "$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1 else 1)' "${best%% *}"; then
	echo "iperf3 -u: loss ${best%% *}% at $(echo "$best" | cut -d' ' -f2) Mbit/s"
	pass pasta_udp_iperf3
else
	fail pasta_udp_iperf3 "loss ${best%% *}% (1% or more) in the better of two runs"
fi

# --- Flow table pressure: 10000 destination ports in a burst ------------
fds_before=$(ls "/proc/$PASTA_PID/fd" 2>/dev/null | wc -l)
udp_client in_ns burst $REMOTE_LO4 20000 10000 || true
sleep 1
fds_after=$(ls "/proc/$PASTA_PID/fd" 2>/dev/null | wc -l)
echo "pasta file descriptors: $fds_before before the burst, $fds_after after"
if kill -0 "$PASTA_PID" 2>/dev/null && ! pid_gone "$PASTA_PID"; then
	pass pasta_udp_flows_alive
else
	fail pasta_udp_flows_alive "pasta exited: $(tail -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi
check pasta_udp_flows_new_flow udp_client in_ns echo $REMOTE_LO4 $UDP_ECHO_PORT 1000
check pasta_udp_flows_new_flow6 udp_client in_ns echo $REMOTE_LO6 $UDP_ECHO_PORT 1000
