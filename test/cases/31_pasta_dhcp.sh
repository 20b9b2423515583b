#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/31_pasta_dhcp.sh - Real clients configure pasta's namespace from
# pasta's built-in DHCP, NDP (RA, NA), DHCPv6 and ARP
#
#  ns "host": eth0 198.51.100.2/24, 2001:db8::2/64, gw .1 / ::1
#             resolv.conf: 203.0.113.1, search example.org
#     |
#     +-- pasta --dhcp-dns --dhcp-search -- sleep   (no --config-net), one
#         fresh instance per client, eth0 brought up by hand:
#
#  1. busybox udhcpc  -> 198.51.100.2, 255.255.255.0, router 198.51.100.1,
#                        MTU 65520, DNS 203.0.113.1, search example.org
#     then, address set by hand: arping 198.51.100.1 gets replies, and a UDP
#     datagram to it leaves the gateway resolved in the kernel's ARP table
#  2. ISC dhclient -4 -> the same lease
#  3. kernel SLAAC    -> a global address in 2001:db8::/64 from the RA
#     then a UDP datagram to 2001:db8::1 leaves it resolved by NDP (NS/NA)
#  4. dhclient -6     -> 2001:db8::2 via DHCPv6, DNS 2001:db8:1::1, search
#                        example.org
#  5. pasta -H guest1 --fqdn guest1.example.org: udhcpc gets host name
#     (option 12) and client FQDN (81), dhclient -6 the client FQDN (39);
#     test/lib/dhcp_names.py checks their raw bytes (RFC 4702/4704 flags:
#     N set, O when the client asked for S); an --fqdn past 250 characters
#     is refused at start
#
# The clients only record what they were offered (own scripts, files under
# $TMP); UDP datagrams go to the "remote" namespace of the topology, port 9.

set -eu
. "$(dirname "$0")/../lib/common.sh"

IF=eth0
MASK4=255.255.255.0
MTU=65520
PASTA_OPTS=(--dhcp-dns --dhcp-search)

topo_setup

# Recording script for both clients: on a bound lease, dump the variables
# the client passes (udhcpc: ip, subnet, ...; dhclient: new_*), atomically
# so that a poll never sees half a file
mkscript() {
	local name=$1
	cat > "$TMP/$name.sh" <<-EOT
		#!/bin/sh
		ev=\${reason:-\$1}
		echo "event \$ev" >> "$TMP/$name.events"
		case "\$ev" in
		bound|renew|BOUND|BOUND6|REBOOT|REBOOT6|RENEW|RENEW6)
			env | grep -E '^(ip|subnet|router|mtu|dns|domain|search|hostname|opt81|fqdn|new_[a-z0-9_]*)=' > "$TMP/$name.tmp"
			mv "$TMP/$name.tmp" "$TMP/$name.rec"
			;;
		esac
		exit 0
	EOT
	chmod 755 "$TMP/$name.sh"
}

# has FILE KEY VALUE: VALUE is one of the space-separated words of KEY=
has() {
	grep "^$2=" "$1" | head -1 | cut -d= -f2- | tr ' ' '\n' | grep -qxF "$3"
}

# fresh_pasta NAME: new pasta instance with eth0 up in its namespace
fresh_pasta() {
	pasta_stop
	if ! pasta_start "${PASTA_OPTS[@]}"; then
		fail "$1" "pasta did not start"
		return 1
	fi
	in_ns ip link set "$IF" up
}

# link_local_ready: the namespace has a non-tentative link-local address
link_local_ready() {
	in_ns ip -6 addr show dev "$IF" scope link | grep -q inet6 &&
	! in_ns ip -6 addr show dev "$IF" | grep -q tentative
}

# neigh_ok ADDR: kernel resolved ADDR on eth0 to a link-layer address
neigh_ok() {
	in_ns ip neigh show "$1" dev "$IF" | grep -q lladdr &&
	! in_ns ip neigh show "$1" dev "$IF" | grep -Eq 'FAILED|INCOMPLETE'
}

# udp_poke 4|6 ADDR: one datagram to ADDR port 9 from the namespace, which
# makes the kernel resolve the next hop (where it goes next does not matter)
udp_poke() {
	local a=$2
	[ "$1" = 6 ] && a="[$2]"
	in_ns timeout 3 sh -c "echo x | socat -u - UDP$1-SENDTO:$a:9" || \
	in_ns timeout 3 bash -c "echo x > /dev/udp/$2/9" || true
}

# --- 1. busybox udhcpc, ARP ---------------------------------------------------
mkscript udhcpc
if fresh_pasta udhcpc_start; then
	in_ns timeout 30 busybox udhcpc -i "$IF" -n -q -f -t 5 -T 2 \
		-O mtu -O search -s "$TMP/udhcpc.sh" >"$TMP/udhcpc.log" 2>&1 || true
	R=$TMP/udhcpc.rec
	if [ ! -s "$R" ]; then
		fail udhcpc_lease "no lease: $(tail -3 "$TMP/udhcpc.log" | tr '\n' ' ')"
	else
		cat "$R"
		check udhcpc_ip has "$R" ip "$HOST4"
		check udhcpc_subnet has "$R" subnet "$MASK4"
		check udhcpc_router has "$R" router "$GW4"
		check udhcpc_mtu has "$R" mtu "$MTU"
		check udhcpc_dns has "$R" dns "$REMOTE_LO4"
		if grep -q '^search=' "$R"; then
			check udhcpc_search has "$R" search "$SEARCH"
		else
			fail udhcpc_search "no search list (option 119) with --dhcp-search"
		fi
	fi

	# ARP: configure what DHCP gave, then ask for the gateway
	in_ns ip addr add "$HOST4/$HOST_PLEN4" dev "$IF"
	check arping_gw in_ns timeout 10 arping -c 3 -w 8 -I "$IF" "$GW4"
	udp_poke 4 "$GW4"
	check arp_neigh_gw wait_for 5 neigh_ok "$GW4"
	in_ns ip neigh show || true
fi

# --- 2. ISC dhclient -4 -------------------------------------------------------
mkscript dhc4
cat > "$TMP/dhclient.conf" <<EOT
timeout 20;
retry 5;
request subnet-mask, broadcast-address, routers, domain-name-servers,
	domain-name, domain-search, interface-mtu,
	dhcp6.name-servers, dhcp6.domain-search, dhcp6.fqdn;
EOT
if fresh_pasta dhclient4_start; then
	bg dhc4 in_ns dhclient -4 -d -1 -v -cf "$TMP/dhclient.conf" \
		-sf "$TMP/dhc4.sh" -lf "$TMP/dhc4.leases" \
		-pf "$TMP/dhc4-own.pidfile" "$IF"
	R=$TMP/dhc4.rec
	if ! wait_for 30 test -s "$R"; then
		fail dhclient4_lease "no lease: $(tail -3 "$TMP/dhc4.log" | tr '\n' ' ')"
	else
		cat "$R"
		check dhclient4_ip has "$R" new_ip_address "$HOST4"
		check dhclient4_subnet has "$R" new_subnet_mask "$MASK4"
		check dhclient4_router has "$R" new_routers "$GW4"
		check dhclient4_mtu has "$R" new_interface_mtu "$MTU"
		check dhclient4_dns has "$R" new_domain_name_servers "$REMOTE_LO4"
		check dhclient4_search sh -c "grep '^new_domain_search=' '$R' | grep -q '$SEARCH'"
	fi
	kill "$(cat "$TMP/dhc4.pid")" 2>/dev/null || true
fi

# --- 3. SLAAC from the RA, NDP neighbour resolution ---------------------------
if fresh_pasta slaac_start; then
	if wait_for 10 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev $IF scope global dynamic | grep -q 'inet6 2001:db8::'"; then
		pass slaac_addr
		# DAD done on it, so that it can be a source address
		wait_for 5 sh -c "! nsenter -t $NS_PID -n ip -6 addr show dev $IF | grep -q tentative" || true
		in_ns ip -6 addr show dev "$IF"
		in_ns ip -6 route show
		udp_poke 6 "$GW6"
		check ndp_neigh_gw wait_for 5 neigh_ok "$GW6"
		in_ns ip -6 neigh show || true
	else
		fail slaac_addr "no global 2001:db8::/64 address from the RA in 10 s"
		in_ns ip -6 addr show dev "$IF" || true
		skip ndp_neigh_gw "no global IPv6 address to send from"
	fi
fi

# --- 4. ISC dhclient -6 -------------------------------------------------------
mkscript dhc6
if fresh_pasta dhclient6_start; then
	wait_for 10 link_local_ready || true
	bg dhc6 in_ns dhclient -6 -d -1 -v -cf "$TMP/dhclient.conf" \
		-sf "$TMP/dhc6.sh" -lf "$TMP/dhc6.leases" \
		-pf "$TMP/dhc6-own.pidfile" "$IF"
	R=$TMP/dhc6.rec
	if ! wait_for 30 test -s "$R"; then
		fail dhclient6_lease "no lease: $(tail -3 "$TMP/dhc6.log" | tr '\n' ' ')"
	else
		cat "$R"
		check dhclient6_addr has "$R" new_ip6_address "$HOST6"
		check dhclient6_dns has "$R" new_dhcp6_name_servers "$REMOTE_LO6"
		check dhclient6_search sh -c "grep '^new_dhcp6_domain_search=' '$R' | grep -q '$SEARCH'"
	fi
	kill "$(cat "$TMP/dhc6.pid")" 2>/dev/null || true
fi

# --- 5. host name and FQDN: udhcpc, dhclient -6, raw bytes --------------------
PASTA_OPTS=(--dhcp-dns --dhcp-search -H guest1 --fqdn guest1.example.org)
mkscript names4
if fresh_pasta names_start; then
	in_ns timeout 30 busybox udhcpc -i "$IF" -n -q -f -t 5 -T 2 \
		-O hostname -O 81 -s "$TMP/names4.sh" >"$TMP/names4.log" 2>&1 || true
	R=$TMP/names4.rec
	if [ ! -s "$R" ]; then
		fail udhcpc_names_lease "no lease: $(tail -3 "$TMP/names4.log" | tr '\n' ' ')"
	else
		grep -E '^(hostname|opt81|fqdn)=' "$R" || true
		check udhcpc_hostname has "$R" hostname guest1
		# busybox hands option 81 to the script as hex: flags 0c
		# (N, E), RCODEs ff ff, then 6guest1 7example 3org 0
		check udhcpc_fqdn sh -c "grep -Eiq '^opt81=0cffff06677565737431076578616d706c65036f726700$' '$R'"
	fi

	check raw_dhcp4_names sh -c "nsenter -t $NS_PID -n -- python3 '$TOP/test/lib/dhcp_names.py' 4 $IF > '$TMP/raw4' && cat '$TMP/raw4' && grep -qx 'opt12 guest1' '$TMP/raw4' && grep -qx 'opt81 flags=0x0c rcode1=255 rcode2=255 name=guest1.example.org.' '$TMP/raw4'"
	check raw_dhcp4_override sh -c "nsenter -t $NS_PID -n -- python3 '$TOP/test/lib/dhcp_names.py' 4 $IF --client-s | grep -qx 'opt81 flags=0x0e rcode1=255 rcode2=255 name=guest1.example.org.'"
fi

mkscript names6
if fresh_pasta names6_start; then
	wait_for 10 link_local_ready || true
	check raw_dhcp6_fqdn sh -c "nsenter -t $NS_PID -n -- python3 '$TOP/test/lib/dhcp_names.py' 6 $IF > '$TMP/raw6' && cat '$TMP/raw6' && grep -qx 'opt39 flags=0x04 name=guest1.example.org.' '$TMP/raw6'"
	check raw_dhcp6_override sh -c "nsenter -t $NS_PID -n -- python3 '$TOP/test/lib/dhcp_names.py' 6 $IF --client-s | grep -qx 'opt39 flags=0x06 name=guest1.example.org.'"

	bg names6 in_ns dhclient -6 -d -1 -v -cf "$TMP/dhclient.conf" \
		-sf "$TMP/names6.sh" -lf "$TMP/names6.leases" \
		-pf "$TMP/names6-own.pidfile" "$IF"
	R=$TMP/names6.rec
	if ! wait_for 30 test -s "$R"; then
		fail dhclient6_names_lease "no lease: $(tail -3 "$TMP/names6.log" | tr '\n' ' ')"
	elif grep -q '^new_dhcp6_fqdn=' "$R"; then
		grep '^new_dhcp6_fqdn=' "$R"
		# as bytes: flags 4 (N), then 6guest1 7example 3org 0
		check dhclient6_fqdn grep -qx 'new_dhcp6_fqdn=4:6:67:75:65:73:74:31:7:65:78:61:6d:70:6c:65:3:6f:72:67:0' "$R"
	else
		skip dhclient6_fqdn "this dhclient doesn't pass option 39 to its script (raw check above)"
	fi
	kill "$(cat "$TMP/names6.pid")" 2>/dev/null || true
fi
pasta_stop

# Refused at start: an FQDN that doesn't fit option 81, a bad host name
long=$(printf 'a%.0s.' $(seq 125))b
check fqdn_too_long_refused sh -c "! ip netns exec $NS_HOST setpriv --reuid=$TEST_UID --regid=$TEST_GID --clear-groups -- timeout 10 '$PASTA' --fqdn '$long' -- true"
check hostname_bad_refused sh -c "! ip netns exec $NS_HOST setpriv --reuid=$TEST_UID --regid=$TEST_GID --clear-groups -- timeout 10 '$PASTA' -H 'bad..name' -- true"
