#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/73_guest_addrs.sh - replies go to the address the guest used:
# a second (static) address besides the assigned one, both in use at once,
# and the link-local address (a guest whose global address is still
# tentative sends from it)
#
#  ns "remote": 203.0.113.1, 2001:db8:1::1 (ping, UDP echo)
#  ns "host":   pasta --config-net
#                 '--> pasta's namespace: eth0 198.51.100.2 (assigned) and
#                      198.51.100.50 (static), 2001:db8::2, 2001:db8::50 and
#                      its fe80:: address; pings from two addresses at once,
#                      UDP from the static one, ping6 from the link-local one,
#                      TCP to the gateway's link-local address (the host)

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/udp.sh"

start=$(date +%s)
topo_setup
udp_client_write
if ! udp_remote_servers; then
	fail guest_addrs_servers "echo servers did not start in the remote namespace"
	exit 0
fi
if ! pasta_start --config-net; then
	fail guest_addrs_start "pasta did not start"
	exit 0
fi
in_ns ip addr add 198.51.100.50/24 dev eth0
in_ns ip addr add 2001:db8::50/64 dev eth0 nodad
wait_for 10 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev eth0 scope link | grep -q inet6 && ! nsenter -t $NS_PID -n ip -6 addr show | grep -q tentative" || true
LL=$(in_ns ip -6 -o addr show dev eth0 scope link | awk '{ print $4 }' | cut -d/ -f1)

# two_pings NAME FAM DST A1 A2: ping DST from A1 and A2 at the same time,
# every echo request of both gets its reply
two_pings() {
	local name=$1 fam=$2 dst=$3 a1=$4 a2=$5
	in_ns timeout 20 ping -$fam -q -c 20 -i 0.05 -W 2 -I "$a1" "$dst" > "$TMP/$name.1" 2>&1 &
	local p1=$!
	in_ns timeout 20 ping -$fam -q -c 20 -i 0.05 -W 2 -I "$a2" "$dst" > "$TMP/$name.2" 2>&1 &
	local p2=$!
	wait $p1 $p2 || true
	if grep -q '20 received' "$TMP/$name.1" && grep -q '20 received' "$TMP/$name.2"; then
		pass "$name"
	else
		fail "$name" "$(grep -h received "$TMP/$name.1" "$TMP/$name.2" | tr '\n' ' ')"
	fi
}
two_pings guest_addrs_ping4_two_sources 4 $REMOTE_LO4 $HOST4 198.51.100.50
two_pings guest_addrs_ping6_two_sources 6 $REMOTE_LO6 $HOST6 2001:db8::50

# UDP from the static address only: replies come back to it
check guest_addrs_udp4_static udp_client in_ns echo $REMOTE_LO4 $UDP_ECHO_PORT 100 198.51.100.50
check guest_addrs_udp6_static udp_client in_ns echo $REMOTE_LO6 $UDP_ECHO_PORT 100 2001:db8::50

# From the link-local address to a global one, as a guest does before DAD
# of its global address completes
if [ -n "$LL" ]; then
	in_ns timeout 20 ping -6 -q -c 5 -i 0.2 -W 2 -I "$LL%eth0" $REMOTE_LO6 > "$TMP/ll.out" 2>&1 || true
	check guest_addrs_ping6_from_link_local grep -q '5 received' "$TMP/ll.out"
else
	fail guest_addrs_ping6_from_link_local "no link-local address in the namespace"
fi

# The gateway's link-local address (ours, the router in our advertisements)
# stands for the host like the gateway's global address: a server on the
# host's ::1 answers there
GWLL=$(in_host ip -6 -o addr show dev eth0 scope link | awk '{ print $4 }' | cut -d/ -f1)
bg lo_srv host_user socat TCP6-LISTEN:8733,bind=[::1],reuseaddr,fork SYSTEM:"echo host-lo"
wait_for 5 sh -c "ip netns exec $NS_HOST ss -Hltn 'sport = :8733' | grep -q ." || true
out=$(in_ns timeout 10 socat -T 5 - "TCP6:[$GWLL%eth0]:8733" </dev/null 2>&1) || true
if [ "$out" = host-lo ]; then
	pass guest_addrs_gateway_link_local
else
	fail guest_addrs_gateway_link_local "[$GWLL%eth0]:8733: $out"
fi
echo "guest addresses case: $(( $(date +%s) - start ))s"
