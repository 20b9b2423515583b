#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/71_udp_icmp_passt_guest.sh - UDP and ICMP echo translation and
# DNS forwarding, from a qemu guest behind passt
#
#  ns "remote"                               ns "host" (test user)
#   lo 203.0.113.1, 2001:db8:1::1             eth0 198.51.100.2, 2001:db8::2
#     dns_server.py :53                       resolv.conf: 203.0.113.1, ...
#     socat UDP echo :7777                    passt -f -s SOCK -p passt.pcap
#     (port 9 closed)                           --dns-forward 192.0.2.53
#   eth0 198.51.100.1, 2001:db8::1              --dns-forward 2001:db8:53::53
#     tcpdump icmp (remote.pcap)                -u 10001,10003,10005
#     python3 clients -> 198.51.100.2:10001/3     ^ UNIX stream socket
#                                               qemu guest (TCG): /test.sh
#                                                 udhcpc, SLAAC, busybox ping,
#                                                 nslookup, socat clients,
#                                                 socat echo :10001 :10003
#
# One passt, one guest boot. The guest runs its clients in sequence and
# prints one "UDPTEST NAME PASS|FAIL" line per check (udp_guest_lib); then
# it starts UDP echo servers for the forwarded ports, prints
# "UDPTEST-READY", and waits (bounded) for a datagram on port 10005 while
# the host side runs the inbound checks from the remote namespace.
# Identifiers and sequence numbers of ICMP echo are compared between
# passt's own capture (-p, the guest side) and tcpdump in the remote.

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/guest.sh"
. "$TOP/test/lib/udp.sh"

UDP_DONE_PORT=10005

guest_require udp_icmp_passt_guest socat tcpdump || exit 0

topo_setup
udp_client_write
if ! udp_remote_servers; then
	fail udp_icmp_guest_servers "echo/DNS servers did not start in the remote namespace"
	exit 0
fi
DIR=$(user_dir dir)
SOCK=$DIR/passt.sock
PCAP=$DIR/passt.pcap

bg passt host_user "$PASST" -f -s "$SOCK" -P "$DIR/passt.pid" -p "$PCAP" \
	--dns-forward $DNS_FWD4 --dns-forward $DNS_FWD6 \
	-u $UDP_FWD_PORT4,$UDP_FWD_PORT6,$UDP_DONE_PORT
if ! wait_for 10 test -S "$SOCK"; then
	fail udp_icmp_guest_start "passt did not create $SOCK: $(tail -3 "$TMP/passt.log" | tr '\n' ' ')"
	exit 0
fi
PASST_PID=$(cat "$DIR/passt.pid")

bg tcpdump_remote in_remote tcpdump --immediate-mode -Z root -U -n -i eth0 -w "$TMP/remote.pcap" icmp or icmp6
wait_for 5 grep -q 'listening on' "$TMP/tcpdump_remote.log" || true
sleep 1		# "listening" is printed a little before capture starts

# The checks the guest runs, in order; the names are those of the results
PINGS="$REMOTE4 $REMOTE_LO4 $REMOTE6 $REMOTE_LO6"
{
	udp_guest_lib
	cat <<EOF
$(guest_net_up)
ip addr show dev eth0

for dst in $PINGS; do
	fam=4; case \$dst in *:*) fam=6 ;; esac
	n=guest_ping\${fam}_\$(echo \$dst | tr '.:' '__')
	timeout 30 ping -\$fam -c 5 -i 0.2 -W 5 \$dst > /tmp/ping.out 2>&1
	cat /tmp/ping.out
	ping_seq_ok /tmp/ping.out 5; result \$n \$? "\$(tail -2 /tmp/ping.out | head -1)"
done
# From the link-local source, as a guest sends before DAD of its global
# address completes: the replies must come back to that address
ll=\$(ip -6 addr show dev eth0 scope link | sed -n 's/.*inet6 \\([^/]*\\).*/\\1/p' | head -1)
timeout 30 ping -6 -c 5 -i 0.2 -W 5 -I "\$ll%eth0" $REMOTE_LO6 > /tmp/ping.out 2>&1
cat /tmp/ping.out
ping_seq_ok /tmp/ping.out 5; result guest_ping6_from_link_local \$? "\$(tail -2 /tmp/ping.out | head -1)"
r=\$(echo ll-udp | timeout 10 socat -T 3 - "UDP6:[$REMOTE_LO6]:$UDP_ECHO_PORT,bind=[\$ll%eth0]" 2>&1)
[ "\$r" = ll-udp ]; result guest_udp6_from_link_local \$? "\$r"

for dst in $REMOTE_LO4 $REMOTE_LO6; do
	fam=4; case \$dst in *:*) fam=6 ;; esac
	timeout 60 ping -\$fam -c 100 -i 0.01 -W 5 -q \$dst > /tmp/ping.out 2>&1
	cat /tmp/ping.out
	grep -q '100 packets transmitted, 100 packets received' /tmp/ping.out
	result guest_ping\${fam}_burst \$? "\$(grep transmitted /tmp/ping.out)"
done

dns_lookup guest_dns4_a a $DNS_NAME $REMOTE_LO4 $DNS_A
dns_lookup guest_dns4_aaaa aaaa $DNS_NAME $REMOTE_LO4 $DNS_AAAA
dns_lookup guest_dns6_a a $DNS_NAME $REMOTE_LO6 $DNS_A
dns_lookup guest_dns6_aaaa aaaa $DNS_NAME $REMOTE_LO6 $DNS_AAAA
dns_lookup guest_dns_forward4_a a $DNS_FWD_NAME $DNS_FWD4 $DNS_FWD_A
dns_lookup guest_dns_forward4_aaaa aaaa $DNS_FWD_NAME $DNS_FWD4 $DNS_FWD_AAAA
dns_lookup guest_dns_forward6_a a $DNS_FWD_NAME $DNS_FWD6 $DNS_FWD_A
dns_lookup guest_dns_forward6_aaaa aaaa $DNS_FWD_NAME $DNS_FWD6 $DNS_FWD_AAAA

for sz in $UDP_SIZES; do
	udp_echo guest_udp4_echo_\$sz $REMOTE_LO4 $UDP_ECHO_PORT \$sz
	udp_echo guest_udp6_echo_\$sz $REMOTE_LO6 $UDP_ECHO_PORT \$sz
done

udp_refused guest_udp4_refused $REMOTE_LO4 $UDP_CLOSED_PORT
udp_refused guest_udp6_refused $REMOTE_LO6 $UDP_CLOSED_PORT

# inbound: echo servers on the forwarded ports, until the host is done
socat -b 65536 UDP4-RECVFROM:$UDP_FWD_PORT4,reuseaddr,fork PIPE &
s4=\$!
socat -b 65536 UDP6-RECVFROM:$UDP_FWD_PORT6,ipv6only=1,reuseaddr,fork PIPE &
s6=\$!
sleep 1
echo UDPTEST-READY
timeout 120 socat -u UDP4-RECVFROM:$UDP_DONE_PORT,reuseaddr /dev/null
echo UDPTEST-DONE
kill \$s4 \$s6
EOF
} > "$TMP/guest.sh"

GUEST_CHECKS=
for dst in $PINGS; do
	fam=4; case $dst in *:*) fam=6 ;; esac
	GUEST_CHECKS="$GUEST_CHECKS guest_ping${fam}_${dst//[.:]/_}"
done
GUEST_CHECKS="$GUEST_CHECKS guest_ping6_from_link_local guest_udp6_from_link_local guest_ping4_burst guest_ping6_burst"
for v in 4 6 _forward4 _forward6; do
	GUEST_CHECKS="$GUEST_CHECKS guest_dns${v}_a guest_dns${v}_aaaa"
done
for sz in $UDP_SIZES; do
	GUEST_CHECKS="$GUEST_CHECKS guest_udp4_echo_$sz guest_udp6_echo_$sz"
done
GUEST_CHECKS="$GUEST_CHECKS guest_udp4_refused guest_udp6_refused"

start=$(date +%s)
guest_start guest "$SOCK" "$TMP/guest.sh"
if ! guest_wait guest '^UDPTEST-READY' 240; then
	fail guest_udp_icmp_run "the guest did not get through its checks in 240 s"
	guest_console guest
	udp_guest_results "$TMP/guest.console" $GUEST_CHECKS
	guest_stop
	exit 0
fi
echo "guest ran its client checks in $(( $(date +%s) - start ))s"

# Inbound, from the remote: to the host's addresses, forwarded to the guest
for sz in 1 1472 9000; do
	check guest_udp4_inbound_$sz udp_client in_remote echo $HOST4 $UDP_FWD_PORT4 $sz $REMOTE_LO4
	check guest_udp6_inbound_$sz udp_client in_remote echo $HOST6 $UDP_FWD_PORT6 $sz $REMOTE_LO6
done
check guest_udp4_inbound_from_gw udp_client in_remote echo $HOST4 $UDP_FWD_PORT4 100 $REMOTE4
check guest_udp6_inbound_from_gw udp_client in_remote echo $HOST6 $UDP_FWD_PORT6 100 $REMOTE6
# let the guest finish
in_remote timeout 5 socat -u - UDP4:$HOST4:$UDP_DONE_PORT,bind=$REMOTE_LO4 <<< "done" || true
guest_wait guest '^GUEST-TEST rc=' 30 || true
guest_console guest
echo "guest finished in $(( $(date +%s) - start ))s"

udp_guest_results "$TMP/guest.console" $GUEST_CHECKS

# the forwarded queries reached the first resolver of each IP version
check guest_dns_forward4_resolver grep -q "^QUERY $REMOTE_LO4 .* $DNS_FWD_NAME A\$" "$TMP/dns.log"
check guest_dns_forward6_resolver grep -q "^QUERY $REMOTE_LO6 .* $DNS_FWD_NAME AAAA\$" "$TMP/dns.log"
echo "--- DNS server log:"; cat "$TMP/dns.log" || true

if kill -0 "$PASST_PID" 2>/dev/null && ! pid_gone "$PASST_PID"; then
	pass guest_udp_icmp_passt_alive
else
	fail guest_udp_icmp_passt_alive "passt exited: $(tail -3 "$TMP/passt.log" | tr '\n' ' ')"
fi

guest_exit guest 30 || guest_stop guest
# stop passt and tcpdump so that both captures are complete
kill "$PASST_PID" "$(cat "$TMP/tcpdump_remote.pid")" 2>/dev/null || true
wait_for 5 pid_gone "$PASST_PID" || true
wait_for 5 pid_gone "$(cat "$TMP/tcpdump_remote.pid")" || true
check guest_ping_ids icmp_ids_ok "$PCAP" "$TMP/remote.pcap"
icmp_ids_summary "$PCAP" "$TMP/remote.pcap"
