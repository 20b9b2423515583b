#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/72_dns_stub.sh - DNS to the gateway address reaches the host's
# resolver, also when that is a loopback stub (127.0.0.53, as with
# systemd-resolved), over UDP and TCP; --dns-host picks another one
#
#  ns "host"  resolv.conf: nameserver 127.0.0.53    (test user runs pasta)
#    dns_server.py and dns_tcp.py on 127.0.0.53:53
#     |
#     +-- pasta --config-net --dhcp-dns            pasta namespace
#           busybox udhcpc: DNS option = 198.51.100.1 (the gateway, standing
#           for the host), never 127.0.0.53
#           busybox nslookup / dns_client.py tcp -> 198.51.100.1:53
#             -> 127.0.0.53:53 in "host", answers come back from .1
#  ns "remote": dns_server.py on 203.0.113.1:53, for --dns-host
#
# Nothing here targets an address outside the namespaces the case makes.

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/udp.sh"

for t in busybox python3; do
	if ! command -v $t >/dev/null; then
		skip dns_stub "$t not installed"
		exit 0
	fi
done
PYTHON=$(command -v python3)
start=$(date +%s)

topo_setup
cat > "/etc/netns/$NS_HOST/resolv.conf" <<EOT
nameserver 127.0.0.53
search $SEARCH
EOT
STUB=127.0.0.53
bg stub in_host "$PYTHON" "$TOP/test/lib/dns_server.py" -t 300 \
	-l "$TMP/dns.log" $STUB
bg stub_tcp in_host "$PYTHON" "$TOP/test/lib/dns_tcp.py" "$TOP/test/lib" \
	$STUB 53 "$TMP/dns.log"
bg remote_dns in_remote "$PYTHON" "$TOP/test/lib/dns_server.py" -t 300 \
	-l "$TMP/dns.log" $REMOTE_LO4
wait_for 5 sh -c "ip netns exec $NS_HOST ss -Hlun 'sport = :53' | grep -q ." || true
wait_for 5 sh -c "ip netns exec $NS_HOST ss -Hltn 'sport = :53' | grep -q ." || true

# lookup NAME PROTO SERVER EXPECTED-FROM: an A query for $DNS_NAME through
# SERVER answers $DNS_A, and the resolver log shows it at EXPECTED-FROM
lookup() {
	local name=$1 proto=$2 srv=$3 at=$4 out
	out=$(in_ns timeout 15 "$PYTHON" "$TOP/test/lib/dns_client.py" \
		"$proto" "$srv" "$DNS_NAME" 2>&1) || true
	echo "  $name: $out"
	if ! echo "$out" | grep -q "^$proto answer: $DNS_A\$"; then
		fail "$name" "$(echo "$out" | tail -1)"
	elif ! grep -q "QUERY $at " "$TMP/dns.log"; then
		fail "$name" "answered, but not by the resolver at $at"
	else
		pass "$name"
	fi
	: > "$TMP/dns.log"
}

if ! pasta_start --config-net --dhcp-dns; then
	fail dns_stub_start "pasta did not start"
	exit 0
fi
lookup dns_stub_gw_udp udp $GW4 $STUB
lookup dns_stub_gw_tcp tcp $GW4 $STUB

# What the namespace is told: the gateway, not the host's loopback
cat > "$TMP/udhcpc.sh" <<'EOT'
#!/bin/sh
[ "$1" = bound ] && echo "dns=$dns" >> "$UDHCPC_OUT"
exit 0
EOT
chmod 755 "$TMP/udhcpc.sh"
in_ns env UDHCPC_OUT="$TMP/udhcpc.out" timeout 20 busybox udhcpc -f -q -n \
	-t 5 -i eth0 -s "$TMP/udhcpc.sh" >/dev/null 2>&1 || true
check dns_stub_dhcp_gives_gw grep -qx "dns=$GW4" "$TMP/udhcpc.out"
pasta_stop

# --dns-host: queries to the gateway go to that resolver instead
if ! pasta_start --config-net --dns-host $REMOTE_LO4; then
	fail dns_stub_dns_host_start "pasta did not start"
	exit 0
fi
lookup dns_stub_dns_host_udp udp $GW4 $REMOTE_LO4
pasta_stop

echo "DNS stub case: $(( $(date +%s) - start ))s"
