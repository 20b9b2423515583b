#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/40_passt_guest.sh - A qemu guest behind passt configures itself
# with passt's built-in DHCP, NDP (SLAAC) and ARP, as a real guest does.
#
#  ns "remote"                  ns "host"
#   eth0 198.51.100.1/24 <-veth-> eth0 198.51.100.2/24, 2001:db8::2/64
#        2001:db8::1/64           passt -f -s $TMP/dir/passt.sock -p ...pcap
#                                   ^ UNIX stream socket
#                                 qemu guest 1, then guest 2 (TCG, test user)
#                                   eth0: DHCP   198.51.100.2/24 via .1,
#                                         MTU 65520, DNS 203.0.113.1
#                                         SLAAC  2001:db8::/64
#
# passt runs without --one-off: the second guest connects after the first
# one powered off, and must get its configuration again. The capture that
# passt writes (-p) must show the DHCP exchange.

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/guest.sh"

guest_require passt_guest || exit 0

topo_setup
mkdir "$TMP/dir"
chown "$TEST_UID:$TEST_GID" "$TMP/dir"
SOCK=$TMP/dir/passt.sock
PCAP=$TMP/dir/passt.pcap

bg passt host_user "$PASST" -f -s "$SOCK" -P "$TMP/dir/passt.pid" -p "$PCAP"
if ! wait_for 10 test -S "$SOCK"; then
	fail passt_guest_start "passt did not create $SOCK: $(tail -3 "$TMP/passt.log" | tr '\n' ' ')"
	exit 0
fi
PASST_PID=$(cat "$TMP/passt.pid")

# What the guest runs: DHCP, then wait (bounded) for a SLAAC address out of
# passt's router advertisement, then resolve the gateway with ARP (arping
# and the kernel's neighbour table)
cat > "$TMP/guest1.sh" <<EOF
echo "== udhcpc"
$(guest_net_up)
echo "== ip addr"; ip addr
echo "== ip route"; ip route
echo "== ip -6 route"; ip -6 route
echo "== arping"
arping -c 2 -w 10 -I eth0 $GW4
# arping uses a packet socket and leaves the neighbour table alone: let the
# kernel's own ARP resolve the gateway (the reply of the ping is not judged)
echo "== ping"
ping -c 1 -W 5 $GW4 || true
echo "== ip neigh"; ip neigh
EOF
cat > "$TMP/guest2.sh" <<EOF
echo "== udhcpc"
udhcpc -i eth0 -n -q -t 5 -T 3 -O mtu -s /usr/share/udhcpc/default.script
EOF

# console_has NAME REGEX: the guest's console has a matching line
console_has() { tr -d '\r' < "$TMP/$1.console" | grep -qE -- "$2"; }

start=$(date +%s)
guest_start guest1 "$SOCK" "$TMP/guest1.sh"
if ! guest_wait guest1 '^GUEST-TEST rc=' "$GUEST_TIMEOUT"; then
	fail passt_guest_boot "guest 1 did not finish /test.sh in ${GUEST_TIMEOUT}s"
	guest_console guest1
	guest_stop
	exit 0
fi
echo "guest 1 ran its test in $(( $(date +%s) - start ))s"
guest_console guest1
pass passt_guest_boot

dhcp="^DHCP ip=$HOST4 "
check passt_guest_dhcp_address console_has guest1 "^DHCP ip=$HOST4 mask=$HOST_PLEN4 "
check passt_guest_dhcp_router console_has guest1 "^DHCP .* router=$GW4( |$)"
check passt_guest_dhcp_mtu console_has guest1 "^DHCP .* mtu=65520( |$)"
check passt_guest_dhcp_dns console_has guest1 "^DHCP .* dns=([^ ]*,)?${REMOTE_LO4//./\\.}(,| |$)"
check passt_guest_addr4 console_has guest1 "inet $HOST4/$HOST_PLEN4 .*eth0"
check passt_guest_route4 console_has guest1 "^default via $GW4 dev eth0"
check passt_guest_slaac console_has guest1 \
	'inet6 2001:db8::[0-9a-f:]+/64 scope global'
check passt_guest_route6 console_has guest1 '^default via fe80::[0-9a-f:]+ dev eth0'
check passt_guest_arp console_has guest1 "[Rr]eply from $GW4 "
check passt_guest_neigh console_has guest1 "^$GW4 dev eth0 lladdr [0-9a-f:]{17}"

if guest_exit guest1 30; then
	pass passt_guest_poweroff
else
	fail passt_guest_poweroff "qemu still running 30s after the guest's test"
	guest_stop guest1
fi

# passt must have survived the guest disconnecting, and serve a new one
sleep 1
if ! kill -0 "$PASST_PID" 2>/dev/null; then
	fail passt_guest_reconnect "passt exited after the first guest left: $(tail -3 "$TMP/passt.log" | tr '\n' ' ')"
else
	guest_start guest2 "$SOCK" "$TMP/guest2.sh"
	if guest_wait guest2 '^GUEST-TEST rc=' "$GUEST_TIMEOUT" && \
	   console_has guest2 "$dhcp"; then
		pass passt_guest_reconnect
	else
		fail passt_guest_reconnect "second guest got no DHCP lease"
		guest_console guest2
	fi
	guest_exit guest2 30 || guest_stop guest2

	# A third guest through qrap and qemu's -netdev socket,fd=
	sleep 1
	GUEST_QRAP=1 guest_start guest3 "$SOCK" "$TMP/guest2.sh"
	if guest_wait guest3 '^GUEST-TEST rc=' "$GUEST_TIMEOUT" && \
	   console_has guest3 "$dhcp"; then
		pass passt_guest_qrap
	else
		fail passt_guest_qrap "guest through qrap got no DHCP lease: $(tail -3 "$TMP/guest3.log" 2>/dev/null | tr '\n' ' ')"
		guest_console guest3
	fi
	guest_exit guest3 30 || guest_stop guest3
fi

# The capture file: readable by tcpdump, with the DHCP exchange in it
if ! command -v tcpdump >/dev/null; then
	skip passt_guest_pcap "tcpdump not installed"
else
	tcpdump -nr "$PCAP" > "$TMP/pcap.txt" 2>&1 || true
	echo "--- capture (first lines):"; head -20 "$TMP/pcap.txt"
	check passt_guest_pcap grep -q 'BOOTP/DHCP' "$TMP/pcap.txt"
fi
