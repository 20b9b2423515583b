#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/30_pasta_config_net.sh - pasta --config-net sets up the namespace
#
#  ns "host": eth0 198.51.100.2/24, 2001:db8::2/64      (test user runs pasta)
#     |
#     +-- pasta --config-net -- sleep           (new user + network namespace)
#           eth0 (tap, named like the host's outbound interface)
#             198.51.100.2/24, 2001:db8::2/64, MTU 65520, UP
#             default via 198.51.100.1, default via 2001:db8::1
#             and, with a second address and route on the host, copies of them
#           lo UP
#
# Last, local mode: the host namespace loses its addresses and routes, so
# there's no interface to take a configuration from, and the tap (tap0) gets
# 169.254.2.1/16, default via 169.254.2.2, default via fe80::1, nothing else
# (man page, "Local mode for disconnected setups"). With REF_PASTA set to the
# 2026 reference's pasta, its namespace is compared with ours.
#
# Everything is read back with ip(8) from inside pasta's namespace: nothing
# here sends traffic, except one ping to the gateway to learn our MAC.

set -eu
. "$(dirname "$0")/../lib/common.sh"

topo_setup
if ! pasta_start --config-net; then
	fail pasta_config_net_start "pasta --config-net did not start"
	exit 0
fi

IF=eth0

# Addresses and routes are configured before the child is spawned, but allow
# a little time anyway (and for IPv6 addresses to be listed)
wait_for 5 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev $IF | grep -q '$HOST6/'" || true

check pasta_config_net_ifname \
	in_ns ip link show dev "$IF"
check pasta_config_net_link_up \
	sh -c "nsenter -t $NS_PID -n ip -o link show dev $IF | grep -Eq '<([^>]*,)?UP[,>]'"
check pasta_config_net_mtu \
	sh -c "nsenter -t $NS_PID -n ip -o link show dev $IF | grep -q ' mtu 65520 '"
check pasta_config_net_addr4 \
	sh -c "nsenter -t $NS_PID -n ip -o -4 addr show dev $IF | grep -q ' inet $HOST4/$HOST_PLEN4 '"
check pasta_config_net_addr6 \
	sh -c "nsenter -t $NS_PID -n ip -o -6 addr show dev $IF scope global | grep -q ' inet6 $HOST6/$HOST_PLEN6 '"
check pasta_config_net_route4 \
	sh -c "nsenter -t $NS_PID -n ip -4 route show default | grep -q '^default via $GW4 dev $IF'"
check pasta_config_net_route6 \
	sh -c "nsenter -t $NS_PID -n ip -6 route show default | grep -q '^default via $GW6 dev $IF'"
check pasta_config_net_lo_up \
	sh -c "nsenter -t $NS_PID -n ip -o link show dev lo | grep -Eq '<([^>]*,)?UP[,>]'"

# Show what was checked, for the log
in_ns ip addr show || true
in_ns ip route show || true
in_ns ip -6 route show || true
pasta_stop

# --- Every global address and route of the host interface is copied, and
# the MAC we use towards the namespace is the fixed 9a:55:9a:55:9a:55
in_host ip addr add 198.51.100.3/24 dev eth0
in_host ip addr add 2001:db8::3/64 dev eth0 nodad
in_host ip route add 192.0.2.0/24 via $GW4 dev eth0
in_host ip -6 route add 2001:db8:77::/48 via $GW6 dev eth0
if ! pasta_start --config-net; then
	fail pasta_config_net_copy_start "pasta --config-net did not start"
	exit 0
fi
wait_for 5 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev $IF | grep -q '2001:db8::3/'" || true
check pasta_config_net_copy_addr4 \
	sh -c "nsenter -t $NS_PID -n ip -o -4 addr show dev $IF | grep -q ' inet 198.51.100.3/24 '"
check pasta_config_net_copy_addr6 \
	sh -c "nsenter -t $NS_PID -n ip -o -6 addr show dev $IF | grep -q ' inet6 2001:db8::3/64 '"
check pasta_config_net_copy_route4 \
	sh -c "nsenter -t $NS_PID -n ip -4 route show | grep -q '^192.0.2.0/24 via $GW4 dev $IF'"
check pasta_config_net_copy_route6 \
	sh -c "nsenter -t $NS_PID -n ip -6 route show | grep -q '^2001:db8:77::/48 via $GW6 dev $IF'"
# The namespace learns our MAC from ARP/NDP: ping the gateway once
in_ns ping -c1 -W2 "$GW4" >/dev/null 2>&1 || true
check pasta_config_net_default_mac \
	sh -c "nsenter -t $NS_PID -n ip neigh show $GW4 | grep -q 'lladdr 9a:55:9a:55:9a:55'"
pasta_stop

# -a and -g (and --no-copy-*) keep to what they say: one address, the
# default route only
if ! pasta_start --config-net -a 198.51.100.20 --no-copy-routes; then
	fail pasta_config_net_nocopy_start "pasta --config-net -a did not start"
	exit 0
fi
check pasta_config_net_a_no_copy \
	sh -c "! nsenter -t $NS_PID -n ip -o -4 addr show dev $IF | grep -q ' inet 198.51.100.3/'"
check pasta_config_net_no_copy_routes \
	sh -c "! nsenter -t $NS_PID -n ip -4 route show | grep -q '^192.0.2.0/24'"
pasta_stop
in_host ip route del 192.0.2.0/24 via $GW4 dev eth0
in_host ip -6 route del 2001:db8:77::/48 via $GW6 dev eth0
in_host ip addr del 198.51.100.3/24 dev eth0
in_host ip addr del 2001:db8::3/64 dev eth0

# -i on an interface without a default route: its address and subnet, no
# gateway
in_host ip link add dummy7 type veth peer name dummy7p
in_host ip link set dummy7p up
in_host ip addr add 192.0.2.10/24 dev dummy7
in_host ip link set dummy7 up
if pasta_start --config-net -i dummy7 -4; then
	check pasta_config_net_i_no_default_route_addr \
		sh -c "nsenter -t $NS_PID -n ip -o -4 addr show | grep -q ' inet 192.0.2.10/24 '"
	check pasta_config_net_i_no_default_route_none \
		sh -c "! nsenter -t $NS_PID -n ip -4 route show default | grep -q ."
	pasta_stop
else
	fail pasta_config_net_i_no_default_route_addr "pasta -i dummy7 did not start: $(tail -2 "$TMP/pasta.log" | tr '\n' ' ')"
fi
in_host ip link del dummy7

# --- Local mode: no address and no route on the host besides loopback, for
# either IP version (an address without route is still a template for the
# reference). Nothing is copied: c->ifi4 is loopback in local mode, and its
# 127.0.0.1 mustn't reach the tap
in_host ip addr flush dev eth0 scope global

# local_state: what local mode sets up, interface name left out
local_state() {
	local lif
	lif=$(in_ns ip -o link show | awk -F': ' '$2 != "lo" { print $2; exit }')
	in_ns ip -o addr show dev "$lif" scope global | awk '{ print $3, $4 }' | sort
	in_ns ip -4 route show default | awk '{ print $1, $2, $3 }'
	in_ns ip -6 route show default | awk '{ print $1, $2, $3 }' | sort -u
}

if pasta_start --config-net; then
	LIF=$(in_ns ip -o link show | awk -F': ' '$2 != "lo" { print $2; exit }')
	check pasta_config_net_local_addr4 \
		sh -c "nsenter -t $NS_PID -n ip -o -4 addr show dev $LIF | grep -q ' inet 169.254.2.1/16 '"
	check pasta_config_net_local_route4 \
		sh -c "nsenter -t $NS_PID -n ip -4 route show default | grep -q '^default via 169.254.2.2 dev $LIF'"
	check pasta_config_net_local_route6 \
		sh -c "nsenter -t $NS_PID -n ip -6 route show default | grep -q '^default via fe80::1 dev $LIF'"
	check pasta_config_net_local_no_addr6 \
		sh -c "! nsenter -t $NS_PID -n ip -6 addr show dev $LIF scope global | grep -q inet6"
	check pasta_config_net_local_no_copy \
		sh -c "! nsenter -t $NS_PID -n ip -o addr show dev $LIF | grep -Eq '127\.0\.0\.1|$HOST4|$HOST6/'"
	check pasta_config_net_local_ll_nodad \
		sh -c "nsenter -t $NS_PID -n ip -6 addr show dev $LIF scope link | grep -q nodad"
	local_state > "$TMP/local.ours"
	in_ns ip addr show || true
	in_ns ip route show || true
	in_ns ip -6 route show || true
	pasta_stop
else
	fail pasta_config_net_local_addr4 "pasta --config-net did not start without routes: $(tail -2 "$TMP/pasta.log" | tr '\n' ' ')"
fi

if [ -n "${REF_PASTA:-}" ] && [ -x "$REF_PASTA" ] && [ -f "$TMP/local.ours" ]; then
	# The reference picks its mode from its name: a "pasta" link to it
	ln -sf "$(readlink -f "$REF_PASTA")" "$TMP/pasta"
	if PASTA="$TMP/pasta" pasta_start --config-net; then
		sleep 1		# it configures IPv6 after the child starts
		local_state > "$TMP/local.ref"
		pasta_stop
		check pasta_config_net_local_as_reference \
			diff "$TMP/local.ref" "$TMP/local.ours"
	else
		fail pasta_config_net_local_as_reference "reference didn't start"
	fi
else
	skip pasta_config_net_local_as_reference "REF_PASTA not set"
fi
# Last section: the host namespace stays as it is, and goes with the case
