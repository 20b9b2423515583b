#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/75_follow_passt_guest.sh - passt follows the host, and its
# qemu guest follows passt: a new IPv4 address through DHCP (the renewal of
# the old address gets a DHCPNAK, the client starts over), a renumbered
# IPv6 prefix through a router advertisement, new resolvers through
# --dns-forward (issue 14)
#
#  ns "remote": lo 203.0.113.1-3, 2001:db8:1::1-3 (DNS, UDP echo, TCP line
#     |         server, busybox httpd with a 4 MiB file); eth0 198.51.100.1,
#     |         2001:db8::1, 2001:db8:5::1
#     |  veth
#  ns "host": eth0 198.51.100.2/24, 2001:db8::2/64; /etc is $TMP/etc for
#     |       passt (test/lib/follow.sh says why)
#   passt -d --dns-forward 192.0.2.53 --dns-forward 2001:db8:53::53
#     |  UNIX socket
#  qemu guest (TCG): busybox udhcpc running all along (renews at T1),
#   SLAAC; checks TCP, UDP, ping, DNS through the --dns-forward addresses
#
# One guest boot:
#   1. baseline checks, the guest prints its lease time
#   2. the host's address is replaced (198.51.100.2 -> .3) and resolv.conf
#      replaced by rename (203.0.113.1 -> .2): within one lease, the guest
#      has 198.51.100.3 and its IPv4 checks pass; its DNS queries reach
#      203.0.113.2
#   3. the guest starts a slow IPv4 download (20 s), the host renumbers its
#      IPv6 prefix (2001:db8:: -> 2001:db8:5::): within one router
#      advertisement (sent at once, FOLLOW_RA_BOUND s), the guest has an
#      address in 2001:db8:5::/64, the old one deprecated, IPv6 checks
#      pass, and the download arrives intact
# Target runtime: under 4 minutes (the lease wait is half a lease).
#
# Nothing here targets an address outside the namespaces the case makes.

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/guest.sh"
. "$TOP/test/lib/udp.sh"
. "$TOP/test/lib/follow.sh"

guest_require follow_passt_guest socat busybox python3 || exit 0
FOLLOW_RA_BOUND=${FOLLOW_RA_BOUND:-10}
FOLLOW_LEASE_CAP=${FOLLOW_LEASE_CAP:-150}	# longest wait for a renewal, s
start=$(date +%s)

topo_setup
in_host sysctl -qw net.ipv4.conf.all.promote_secondaries=1
in_host sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
follow_etc_setup
if ! follow_remote_setup; then
	fail follow_passt_servers "servers did not start in the remote namespace"
	exit 0
fi
mkdir -p "$TMP/www"
head -c 4194304 /dev/urandom > "$TMP/www/big"
chmod 755 "$TMP/www"
chmod 644 "$TMP/www/big"
SHA_BIG=$(sha256sum < "$TMP/www/big" | cut -d' ' -f1)
bg httpd in_remote busybox httpd -f -p 8000 -h "$TMP/www"
wait_for 5 sh -c "ip netns exec $NS_REMOTE ss -Hltn | grep -q ':8000 '" || true

D=$(user_dir dir)
SOCK=$D/passt.sock
bg passt host_user_etc "$FOLLOW_ETC" "$PASST" -f -d -s "$SOCK" \
	--dns-forward $DNS_FWD4 --dns-forward $DNS_FWD6
if ! wait_for 10 test -S "$SOCK"; then
	fail follow_passt_start "passt did not start: $(tail -3 "$TMP/passt.log" | tr '\n' ' ')"
	exit 0
fi
PASST_PID=$(cat "$TMP/passt.pid")

cat > "$TMP/guest.sh" <<EOF
t() { echo "T \$*"; }
# try SECONDS CMD...: CMD until it succeeds, bounded
try() {
	n=\$((\$1 * 5)); shift
	while [ \$n -gt 0 ]; do
		"\$@" > /tmp/try.out 2>&1 && return 0
		sleep 0.2
		n=\$((n - 1))
	done
	return 1
}
# ck NAME CMD...: one "T NAME ok|fail ..." line
ck() {
	c=\$1; shift
	if try 5 "\$@"; then t \$c ok; else t \$c fail "\$(tail -1 /tmp/try.out)"; fi
}
tcp4() { [ "\$(socat -T 3 - TCP4:\$1:$FOLLOW_P_LINE,connect-timeout=3 </dev/null)" = tcp-ok ]; }
tcp6() { [ "\$(socat -T 3 - TCP6:[\$1]:$FOLLOW_P_LINE,connect-timeout=3 </dev/null)" = tcp-ok ]; }
udp4() { [ "\$(echo udp-ok | socat -T 2 - UDP4:\$1:$UDP_ECHO_PORT)" = udp-ok ]; }
udp6() { [ "\$(echo udp-ok | socat -T 2 - UDP6:[\$1]:$UDP_ECHO_PORT)" = udp-ok ]; }
png() { ping -c 1 -W 2 \$1; }
dns() { nslookup -type=a $DNS_FWD_NAME \$1 | sed -n '/^Name:/,\$p' | grep -q '$DNS_FWD_A'; }
checks4() {
	ck \${1}_tcp4 tcp4 $REMOTE_LO4
	ck \${1}_udp4 udp4 $REMOTE_LO4
	ck \${1}_ping4 png $REMOTE_LO4
	ck \${1}_dns4 dns $DNS_FWD4
}
checks6() {
	ck \${1}_tcp6 tcp6 $REMOTE_LO6
	ck \${1}_udp6 udp6 $REMOTE_LO6
	ck \${1}_ping6 png $REMOTE_LO6
	ck \${1}_dns6 dns $DNS_FWD6
}
addr4() { ip -4 -o addr show dev eth0 | awk '{ print \$4 }' | head -1; }
addr6() { ip -6 -o addr show dev eth0 scope global | grep -v -e tentative -e deprecated | awk '{ print \$4 }' | grep "^\$1" | head -1; }

# udhcpc stays in the foreground of a background job: it renews the lease
# at T1, and a DHCPNAK makes it start over
cat > /tmp/dhcp.sh <<'S'
#!/bin/sh
case "\$1" in
deconfig)
	ip -4 addr flush dev "\$interface"
	ip link set "\$interface" up
	echo "DHCPEV deconfig"
	;;
bound|renew)
	if ! ip -4 -o addr show dev "\$interface" | grep -q " \$ip/"; then
		ip -4 addr flush dev "\$interface"
		ip addr add "\$ip/\${mask:-24}" dev "\$interface"
	fi
	for r in \$router; do
		ip route replace default via "\$r" dev "\$interface"
		break
	done
	echo "DHCPEV \$1 ip=\$ip lease=\$lease router=\$router dns=\$dns"
	[ -f /tmp/lease ] || echo "\$lease" > /tmp/lease
	;;
*)
	echo "DHCPEV \$1"
	;;
esac
exit 0
S
chmod 755 /tmp/dhcp.sh
udhcpc -f -i eth0 -t 5 -T 3 -s /tmp/dhcp.sh &
n=0
while [ \$n -lt 150 ]; do
	[ -n "\$(addr4)" ] && [ -n "\$(addr6 2001:db8:)" ] && \
		ip -6 route show default | grep -q . && break
	sleep 0.2
	n=\$((n + 1))
done
ip -br addr
t lease \$(cat /tmp/lease 2>/dev/null)
t addr4_start \$(addr4)
t addr6_start \$(addr6 2001:db8:)
checks4 base
checks6 base
echo GUEST-READY-1

# 2. the host's IPv4 address changes: wait for the new lease
old=\$(addr4)
n=0
while [ \$n -lt $((FOLLOW_LEASE_CAP * 5 + 100)) ]; do
	a=\$(addr4)
	[ -n "\$a" ] && [ "\$a" != "\$old" ] && break
	sleep 0.2
	n=\$((n + 1))
done
t addr4_new \$(addr4)
checks4 addr
curl -sS --max-time 120 --limit-rate 200k http://$REMOTE_LO4:8000/big | \
	sha256sum | cut -d' ' -f1 > /tmp/dl.sha &
dl=\$!
sleep 1
echo GUEST-READY-2

# 3. the host's IPv6 prefix changes: wait for an address in the new one
n=0
while [ \$n -lt 300 ]; do
	[ -n "\$(addr6 2001:db8:5:)" ] && break
	sleep 0.2
	n=\$((n + 1))
done
t addr6_new \$(addr6 2001:db8:5:)
sleep 1
ip -6 addr show dev eth0
t addr6_old "\$(ip -6 -o addr show dev eth0 scope global | grep ' 2001:db8::' | grep -v deprecated | awk '{ print \$4 }' | tr '\n' ' ')"
checks6 renum
wait \$dl
t stream4 \$(cat /tmp/dl.sha)
EOF

guest_start guest "$SOCK" "$TMP/guest.sh"
if ! guest_wait guest '^GUEST-READY-1' 150; then
	fail follow_passt_guest_boot "the guest did not get its network up"
	guest_console guest
	exit 0
fi
echo "guest up after $(( $(date +%s) - start ))s"

# gt NAME: the rest of the guest's "T NAME ..." line
gt() {
	tr -d '\r' < "$TMP/guest.console" | sed -n "s/^T $1 //p" | head -1
}
# judge PREFIX...: pass/fail every "T PREFIX_x ok|fail" line of the guest
judge() {
	local p l n r
	for p in "$@"; do
		tr -d '\r' < "$TMP/guest.console" | grep "^T ${p}_" | \
		while read -r _ n r l; do
			if [ "$r" = ok ]; then
				pass "follow_passt_$n"
			else
				fail "follow_passt_$n" "$r $l"
			fi
		done
	done
}
judge base
LEASE=$(gt lease)
echo "  guest lease: ${LEASE:-?} s, start addresses $(gt addr4_start) $(gt addr6_start)"
case "$LEASE" in
''|*[!0-9]*) LEASE_WAIT=$FOLLOW_LEASE_CAP ;;
*) LEASE_WAIT=$(( LEASE + 10 < FOLLOW_LEASE_CAP ? LEASE + 10 : FOLLOW_LEASE_CAP )) ;;
esac

# --- 2. address replaced, resolv.conf replaced ------------------------------
echo "--- address replaced, resolv.conf replaced by rename"
n0=$(wc -l < "$TMP/dns.log")
T0=$(follow_now_ms)
in_host ip addr add 198.51.100.3/24 dev eth0
in_host ip addr del $HOST4/$HOST_PLEN4 dev eth0
in_host ip route replace default via $GW4
follow_resolv_rename "$FOLLOW_ETC/resolv.conf" 1
if guest_wait guest '^T addr4_new' "$LEASE_WAIT"; then
	el=$(( $(follow_now_ms) - T0 ))
	a=$(gt addr4_new)
	echo "  guest address $a after $el ms (lease ${LEASE:-?} s)"
	if [ "$a" != 198.51.100.3/24 ]; then
		fail follow_passt_addr4_renewed "the guest moved to '$a', not 198.51.100.3/24"
	elif [ -n "$LEASE" ] && [ "$LEASE" -lt 4294967295 ] && [ $el -le $(( (LEASE + 5) * 1000 )) ]; then
		pass "follow_passt_addr4_renewed ($el ms, lease $LEASE s)"
	else
		fail follow_passt_addr4_renewed "after $el ms, lease ${LEASE:-?} s"
	fi
else
	fail follow_passt_addr4_renewed "the guest still has its old address $LEASE_WAIT s after the change (lease ${LEASE:-?} s)"
	tr -d '\r' < "$TMP/guest.console" | grep -E '^(DHCPEV|udhcpc)' || true
fi
if ! guest_wait guest '^GUEST-READY-2' 60; then
	fail follow_passt_guest_run "the guest did not finish its IPv4 checks"
	guest_console guest
	exit 0
fi
judge addr
# the guest's queries to the --dns-forward address reached the new resolver
if tail -n +$((n0 + 1)) "$TMP/dns.log" | grep -q "^QUERY ${FOLLOW_NS4[1]} .* $DNS_FWD_NAME A\$"; then
	pass follow_passt_resolv_rename_dns4_new_resolver
else
	fail follow_passt_resolv_rename_dns4_new_resolver "queries reached: $(tail -n +$((n0 + 1)) "$TMP/dns.log" | grep " $DNS_FWD_NAME A" | cut -d' ' -f2 | sort | uniq -c | tr '\n' ' ')"
fi

# --- 3. IPv6 prefix renumbered, an IPv4 download across it ---------------
echo "--- IPv6 prefix renumbered"
n0=$(wc -l < "$TMP/dns.log")
T0=$(follow_now_ms)
in_host ip addr add 2001:db8:5::2/64 dev eth0 nodad
in_host ip -6 route replace default via 2001:db8:5::1
in_host ip addr del $HOST6/$HOST_PLEN6 dev eth0
if guest_wait guest '^T addr6_new' 70; then
	el=$(( $(follow_now_ms) - T0 ))
	a=$(gt addr6_new)
	echo "  guest address $a after $el ms"
	if [ -z "$a" ]; then
		fail follow_passt_renumber_addr6 "no address in 2001:db8:5::/64 in the guest after $el ms"
	elif [ $el -le $(( FOLLOW_RA_BOUND * 1000 )) ]; then
		pass "follow_passt_renumber_addr6 ($el ms)"
	else
		fail follow_passt_renumber_addr6 "$a after $el ms (bound: $FOLLOW_RA_BOUND s)"
	fi
else
	fail follow_passt_renumber_addr6 "the guest did not report within 70 s"
fi
if ! guest_wait guest '^T stream4' 150; then
	fail follow_passt_guest_run "the guest did not finish its IPv6 checks"
	guest_console guest
	exit 0
fi
old=$(gt addr6_old)
if [ -z "$old" ]; then
	pass follow_passt_renumber_old_deprecated
else
	fail follow_passt_renumber_old_deprecated "still preferred in the guest: $old"
fi
judge renum
if tail -n +$((n0 + 1)) "$TMP/dns.log" | grep -q "^QUERY ${FOLLOW_NS6[1]} .* $DNS_FWD_NAME A\$"; then
	pass follow_passt_renumber_dns6_resolver
else
	fail follow_passt_renumber_dns6_resolver "queries reached: $(tail -n +$((n0 + 1)) "$TMP/dns.log" | grep " $DNS_FWD_NAME A" | cut -d' ' -f2 | sort | uniq -c | tr '\n' ' ')"
fi
s=$(gt stream4)
if [ "$s" = "$SHA_BIG" ]; then
	pass follow_passt_renumber_stream4_intact
else
	fail follow_passt_renumber_stream4_intact "sha256 ${s:-none}, expected $SHA_BIG"
fi
check follow_passt_alive kill -0 "$PASST_PID"

guest_exit guest 30 || guest_stop guest
echo "--- guest console (results, DHCP events):"
tr -d '\r' < "$TMP/guest.console" | grep -E '^(T |GUEST|DHCPEV)' || true
echo "--- changes logged by passt:"
grep -E -- "$FOLLOW_CHANGE_RE" "$TMP/passt.log" || true
echo "follow passt guest case: $(( $(date +%s) - start ))s"
