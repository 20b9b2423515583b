#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/32_pcap.sh - --pcap writes a capture that tcpdump reads cleanly
#
#  ns "host" (test user)
#     +-- pasta --pcap $TMP/cap/x.pcap -- sleep     (no --config-net)
#           eth0 up, busybox udhcpc: Discover, Offer, Request, ACK
#  pasta stopped, then:
#     tcpdump -r x.pcap        exits 0, no error, Ethernet link type
#     tcpdump -nvr x.pcap      shows the four DHCP messages ("BOOTP/DHCP")

set -eu
. "$(dirname "$0")/../lib/common.sh"

IF=eth0
topo_setup

# $TMP is root's: pasta runs as the test user and must create the file
mkdir "$TMP/cap"
chown "$TEST_UID:$TEST_GID" "$TMP/cap"
PCAP=$TMP/cap/x.pcap

if ! pasta_start --pcap "$PCAP"; then
	fail pcap_start "pasta --pcap did not start"
	exit 0
fi
in_ns ip link set "$IF" up

cat > "$TMP/udhcpc.sh" <<EOT
#!/bin/sh
[ "\$1" = bound ] && echo "\$ip" > "$TMP/udhcpc.rec"
exit 0
EOT
chmod 755 "$TMP/udhcpc.sh"
in_ns timeout 30 busybox udhcpc -i "$IF" -n -q -f -t 5 -T 2 \
	-s "$TMP/udhcpc.sh" >"$TMP/udhcpc.log" 2>&1 || true
check pcap_udhcpc_lease test -s "$TMP/udhcpc.rec"

pasta_stop

check pcap_file_exists test -s "$PCAP"

# Plain read: exit status 0, nothing on stderr but the "reading from" line
if tcpdump -r "$PCAP" >"$TMP/td.out" 2>"$TMP/td.err"; then
	if grep -v '^reading from file' "$TMP/td.err" | grep -q .; then
		fail pcap_tcpdump_read "$(grep -v '^reading from file' "$TMP/td.err" | head -3 | tr '\n' ' ')"
	else
		pass pcap_tcpdump_read
	fi
else
	fail pcap_tcpdump_read "tcpdump -r failed: $(head -3 "$TMP/td.err" | tr '\n' ' ')"
fi
check pcap_linktype grep -q 'link-type EN10MB' "$TMP/td.err"
cat "$TMP/td.err"

tcpdump -nvr "$PCAP" >"$TMP/tdv.out" 2>/dev/null || true
grep 'BOOTP/DHCP' "$TMP/td.out" || true
check pcap_dhcp_bootp grep -q 'BOOTP/DHCP' "$TMP/td.out"
for m in Discover Offer Request ACK; do
	check "pcap_dhcp_$m" grep -q "DHCP-Message (53), length 1: $m" "$TMP/tdv.out"
done
