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
#           lo UP
#
# Everything is read back with ip(8) from inside pasta's namespace: nothing
# here sends traffic.

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
