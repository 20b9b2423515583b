#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/75_follow_passt_guest.sh - passt follows the host, and its
# qemu guests follow passt: new IPv4 address and router through DHCP (the
# renewal of the old address gets a DHCPNAK, the client starts over), a
# renumbered IPv6 prefix through a router advertisement, new resolvers
# through --dns-forward; and a passt started on a host without any route
# (issue 14)
#
#  ns "remote": lo 203.0.113.1-3, 2001:db8:1::1-3 (DNS, UDP echo, TCP line
#     |         server, busybox httpd with a 4 MiB file); eth0 198.51.100.1
#     |         .254, 2001:db8::1, 2001:db8:5::1; eth1 192.0.2.1,
#     |         2001:db8:3::1; eth2 203.0.113.129/25, 2001:db8:6::1
#     |  veth eth0, eth1
#  ns "host": eth0 198.51.100.2/24, 2001:db8::2/64, eth1 down; /etc is
#     |       $TMP/etc for passt (test/lib/follow.sh says why)
#   passt -d --dns-forward 192.0.2.53 --dns-forward 2001:db8:53::53
#     |  UNIX socket
#  guest "guest" (qemu, TCG): busybox udhcpc running all along (renews at
#   T1), SLAAC; checks TCP, UDP, ping, DNS through the --dns-forward
#   addresses to the remote
#
#  ns "host2": only lo when its passt starts (local mode), later a veth
#     |       to the remote's eth2: 203.0.113.130/25, 2001:db8:6::2/64
#   passt, the same options, /etc is $TMP/etc2
#  guest "guestb": the same script, started at the same time
#
# Steps of "guest" (one boot):
#   1. baseline checks, the lease time
#   2. the host's address and gateway are replaced (198.51.100.2 -> .3,
#      via .1 -> via .254), resolv.conf replaced by rename (203.0.113.1 ->
#      .2): within one lease the guest has 198.51.100.3, its default route
#      via .254, its IPv4 checks pass, its DNS queries reach 203.0.113.2
#   3. the guest starts a slow IPv4 download (20 s); the host renumbers its
#      IPv6 prefix (2001:db8:: -> 2001:db8:5::) and resolv.conf is
#      rewritten in place (-> 203.0.113.3, 2001:db8:1::3): within one
#      router advertisement (sent at once: FOLLOW_RA_BOUND s) the guest has
#      an address in 2001:db8:5::/64, the old one deprecated, its IPv6
#      checks pass and reach 2001:db8:1::3; the download arrives intact
#   4. eth0 down, eth1 up with 192.0.2.2/24, 2001:db8:3::2/64: within one
#      lease, the guest has 192.0.2.2 and an address in 2001:db8:3::/64,
#      and its checks pass
# Meanwhile "guestb" starts with 169.254.2.1 (local mode); "host2" is given
# its link and routes when step 2 starts, and within one lease the guest
# has 203.0.113.130, an address in 2001:db8:6::/64, and its checks pass.
# Target runtime: under 4 minutes (each address change waits for T1, half
# a lease: 60 s with passt's 120 s leases while following).
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

# Link of "host2", once it gets one
H2_4=203.0.113.130
H2_GW4=203.0.113.129
H2_6=2001:db8:6::2
H2_GW6=2001:db8:6::1

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

# "host2": lo only, its link to the remote ready on the remote's side
NS_HOST2=pth2$$
FOLLOW_EXTRA_NS+=("$NS_HOST2")
ip netns add "$NS_HOST2"
ip netns exec "$NS_HOST2" ip link set lo up
ip netns exec "$NS_HOST2" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
ip link add "xr$$" type veth peer name "xh$$"
ip link set "xr$$" netns "$NS_REMOTE" name eth2
ip link set "xh$$" netns "$NS_HOST2" name eth0
in_remote ip link set eth2 up
in_remote ip addr add $H2_GW4/25 dev eth2
in_remote ip addr add $H2_GW6/64 dev eth2 nodad
follow_etc_setup "$TMP/etc2"

FWD="--dns-forward $DNS_FWD4 --dns-forward $DNS_FWD6"
D=$(user_dir dir)
SOCK=$D/passt.sock
SOCKB=$D/passtb.sock
# shellcheck disable=SC2086
bg passt host_user_etc "$FOLLOW_ETC" "$PASST" -f -d -s "$SOCK" $FWD
# shellcheck disable=SC2086
FOLLOW_NETNS=$NS_HOST2 bg passtb host_user_etc "$TMP/etc2" "$PASST" -f -d \
	-s "$SOCKB" $FWD
if ! wait_for 10 test -S "$SOCK"; then
	fail follow_passt_start "passt did not start: $(tail -3 "$TMP/passt.log" | tr '\n' ' ')"
	exit 0
fi
PASST_PID=$(cat "$TMP/passt.pid")
LOCAL_OK=1
if ! wait_for 10 test -S "$SOCKB"; then
	fail follow_passt_local_start "passt did not start on a host without routes: $(grep -v '^$' "$TMP/passtb.log" | tail -2 | tr '\n' ' ')"
	LOCAL_OK=0
fi

# The guests' script: helpers, DHCP all along, then the steps. $1 of the
# script: "a" (the main guest) or "b" (the local-mode one)
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
# addr6 PREFIX: a global, usable address starting with PREFIX
addr6() { ip -6 -o addr show dev eth0 scope global | grep -v -e tentative -e deprecated | awk '{ print \$4 }' | grep "^\$1" | head -1; }
gw4() { ip -4 route show default | awk '{ print \$3; exit }'; }
# wait4 OLD: until the IPv4 address is another one than OLD (bounded)
wait4() {
	n=0
	while [ \$n -lt $((FOLLOW_LEASE_CAP * 5 + 100)) ]; do
		a=\$(addr4)
		[ -n "\$a" ] && [ "\$a" != "\$1" ] && return 0
		sleep 0.2
		n=\$((n + 1))
	done
	return 1
}
# wait6 PREFIX [SECONDS]: until there is a usable address in PREFIX
wait6() {
	n=0
	while [ \$n -lt \$(( \${2:-60} * 5 )) ]; do
		[ -n "\$(addr6 \$1)" ] && return 0
		sleep 0.2
		n=\$((n + 1))
	done
	return 1
}

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
	echo "DHCPEV \$1 ip=\$ip mask=\$mask lease=\$lease router=\$router dns=\$dns"
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
	[ -n "\$(addr4)" ] && break
	sleep 0.2
	n=\$((n + 1))
done

if [ "\$1" = b ]; then
	# local mode: no global IPv6 address to wait for
	ip -br addr
	t lease \$(cat /tmp/lease 2>/dev/null)
	t addr4_start \$(addr4)
	t gw4_start \$(gw4)
	echo GUEST-READY-1
	wait4 \$(addr4)
	t addr4_new \$(addr4)
	t gw4_new \$(gw4)
	checks4 route
	wait6 $(echo $H2_6 | cut -d: -f1-3): 30
	t addr6_new \$(addr6 $(echo $H2_6 | cut -d: -f1-3):)
	checks6 route
	exit 0
fi

wait6 2001:db8: 30
ip -br addr
t lease \$(cat /tmp/lease 2>/dev/null)
t addr4_start \$(addr4)
t addr6_start \$(addr6 2001:db8:)
checks4 base
checks6 base
echo GUEST-READY-1

# 2. the host's IPv4 address and gateway change: wait for the new lease
wait4 \$(addr4)
t addr4_new \$(addr4)
t gw4_new \$(gw4)
checks4 addr
curl -sS --max-time 120 --limit-rate 200k http://$REMOTE_LO4:8000/big | \
	sha256sum | cut -d' ' -f1 > /tmp/dl.sha &
dl=\$!
sleep 1
echo GUEST-READY-2

# 3. the host's IPv6 prefix changes: wait for an address in the new one
wait6 2001:db8:5: 60
t addr6_new \$(addr6 2001:db8:5:)
sleep 1
ip -6 addr show dev eth0
t addr6_old "\$(ip -6 -o addr show dev eth0 scope global | grep ' 2001:db8::' | grep -v deprecated | awk '{ print \$4 }' | tr '\n' ' ')"
checks6 renum
wait \$dl
t stream4 \$(cat /tmp/dl.sha)
echo GUEST-READY-3

# 4. the host's interface changes
wait4 \$(addr4)
t addr4_switch \$(addr4)
t gw4_switch \$(gw4)
checks4 ifswitch
wait6 2001:db8:3: 30
t addr6_switch \$(addr6 2001:db8:3:)
checks6 ifswitch
EOF

# The first line of the script chooses the guest: a wrapper per guest
for g in a b; do
	{ echo "set -- $g"; cat "$TMP/guest.sh"; } > "$TMP/guest_$g.sh"
done
guest_start guest "$SOCK" "$TMP/guest_a.sh"
[ $LOCAL_OK = 1 ] && guest_start guestb "$SOCKB" "$TMP/guest_b.sh"

# gt [GUEST] NAME: the rest of the guest's "T NAME ..." line
gt() {
	local g=guest
	[ $# -gt 1 ] && { g=$1; shift; }
	tr -d '\r' < "$TMP/$g.console" | sed -n "s/^T $1 //p" | head -1
}
# judge GUEST CHECKPREFIX PREFIX...: pass/fail every "T PREFIX_x ok|fail"
# line of GUEST as CHECKPREFIX_PREFIX_x
judge() {
	local g=$1 cp=$2 p l n r
	shift 2
	for p in "$@"; do
		tr -d '\r' < "$TMP/$g.console" | grep "^T ${p}_" | \
		while read -r _ n r l; do
			if [ "$r" = ok ]; then
				pass "${cp}_$n"
			else
				fail "${cp}_$n" "$r $l"
			fi
		done
	done
}
# expect NAME WHAT EXPECTED: a value the guest reported
expect() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "'$2', expected '$3'"
	fi
}
# within_lease NAME EL LEASE: EL ms is within one lease of LEASE seconds
# (and a finite one: passt's infinite lease means it doesn't follow)
within_lease() {
	case "$3" in
	''|*[!0-9]*) fail "$1" "after $2 ms, but no lease time known" ;;
	*) if [ "$3" -lt 4294967295 ] && [ "$2" -le $(( ($3 + 5) * 1000 )) ]; then
		pass "$1 ($2 ms, lease $3 s)"
	   else
		fail "$1" "after $2 ms, lease $3 s"
	   fi ;;
	esac
}
# renewed NAME GUEST T0 LEASE PATTERN: the guest printed PATTERN within
# one lease of T0 (follow_now_ms); waits until LEASE_WAIT s after T0
renewed() {
	local name=$1 g=$2 t0=$3 lease=$4 pat=$5 wait
	wait=$(( ( t0 + LEASE_WAIT * 1000 - $(follow_now_ms) ) / 1000 ))
	[ $wait -gt 1 ] || wait=1
	if ! guest_wait "$g" "$pat" "$wait"; then
		fail "$name" "not $(( ($(follow_now_ms) - t0) / 1000 )) s after the change (lease ${lease:-?} s)"
		tr -d '\r' < "$TMP/$g.console" | grep -E '^(DHCPEV|udhcpc)' || true
		return 0
	fi
	within_lease "$name" $(( $(follow_now_ms) - t0 )) "$lease"
}
# b_watch: note when the local-mode guest reports its new address (in the
# background, while the main guest is being watched)
b_watch() {
	guest_wait guestb '^T addr4_new' "$FOLLOW_LEASE_CAP" && \
		follow_now_ms > "$TMP/b_renewed.ms"
}
# dns_reached NAME N0 RESOLVER: a query for $DNS_FWD_NAME after line N0 of
# the resolvers' log reached RESOLVER
dns_reached() {
	if tail -n +$(($2 + 1)) "$TMP/dns.log" | grep -q "^QUERY $3 .* $DNS_FWD_NAME A\$"; then
		pass "$1"
	else
		fail "$1" "queries reached: $(tail -n +$(($2 + 1)) "$TMP/dns.log" | grep " $DNS_FWD_NAME A" | cut -d' ' -f2 | sort | uniq -c | tr '\n' ' ')"
	fi
}

if ! guest_wait guest '^GUEST-READY-1' 150; then
	fail follow_passt_guest_boot "the guest did not get its network up"
	guest_console guest
	exit 0
fi
echo "guest up after $(( $(date +%s) - start ))s"
judge guest follow_passt base
LEASE=$(gt lease)
echo "  guest lease: ${LEASE:-?} s, start addresses $(gt addr4_start) $(gt addr6_start)"
case "$LEASE" in
''|*[!0-9]*) LEASE_WAIT=$FOLLOW_LEASE_CAP ;;
*) LEASE_WAIT=$(( LEASE + 10 < FOLLOW_LEASE_CAP ? LEASE + 10 : FOLLOW_LEASE_CAP )) ;;
esac

if [ $LOCAL_OK = 1 ]; then
	if guest_wait guestb '^GUEST-READY-1' 60; then
		LEASEB=$(gt guestb lease)
		expect follow_passt_local_start_addr4 "$(gt guestb addr4_start)" 169.254.2.1/16
		expect follow_passt_local_start_gw4 "$(gt guestb gw4_start)" 169.254.2.2
		echo "  local-mode guest lease: ${LEASEB:-?} s"
	else
		fail follow_passt_local_guest_boot "the local-mode guest got no address"
		guest_console guestb
		LOCAL_OK=0
	fi
fi

# --- 2. address and gateway replaced, resolv.conf replaced; host2 routed -
echo "--- address and gateway replaced, resolv.conf replaced by rename; host2 gets a route"
n0=$(wc -l < "$TMP/dns.log")
if [ $LOCAL_OK = 1 ]; then
	T0B=$(follow_now_ms)
	ip netns exec "$NS_HOST2" ip link set eth0 up
	ip netns exec "$NS_HOST2" ip addr add $H2_4/25 dev eth0
	ip netns exec "$NS_HOST2" ip addr add $H2_6/64 dev eth0 nodad
	ip netns exec "$NS_HOST2" ip route add default via $H2_GW4
	ip netns exec "$NS_HOST2" ip -6 route add default via $H2_GW6
	bg bwatch b_watch
fi
T0=$(follow_now_ms)
in_host ip addr add 198.51.100.3/24 dev eth0
in_host ip addr del $HOST4/$HOST_PLEN4 dev eth0
in_host ip route replace default via 198.51.100.254
follow_resolv_rename "$FOLLOW_ETC/resolv.conf" 1
renewed follow_passt_addr4_renewed guest "$T0" "$LEASE" '^T addr4_new' || true
if ! guest_wait guest '^GUEST-READY-2' 60; then
	fail follow_passt_guest_run "the guest did not finish its IPv4 checks"
	guest_console guest
	exit 0
fi
expect follow_passt_addr4_new "$(gt addr4_new)" 198.51.100.3/24
expect follow_passt_gw4_new "$(gt gw4_new)" 198.51.100.254
judge guest follow_passt addr
dns_reached follow_passt_resolv_rename_dns4_new_resolver "$n0" "${FOLLOW_NS4[1]}"

# --- 3. IPv6 prefix renumbered, resolv.conf rewritten in place ----------
echo "--- IPv6 prefix renumbered, resolv.conf rewritten in place"
n0=$(wc -l < "$TMP/dns.log")
T0=$(follow_now_ms)
in_host ip addr add 2001:db8:5::2/64 dev eth0 nodad
in_host ip -6 route replace default via 2001:db8:5::1
in_host ip addr del $HOST6/$HOST_PLEN6 dev eth0
follow_resolv_inplace "$FOLLOW_ETC/resolv.conf" 2
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
if ! guest_wait guest '^GUEST-READY-3' 150; then
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
judge guest follow_passt renum
dns_reached follow_passt_resolv_inplace_dns6_new_resolver "$n0" "${FOLLOW_NS6[2]}"
s=$(gt stream4)
if [ "$s" = "$SHA_BIG" ]; then
	pass follow_passt_renumber_stream4_intact
else
	fail follow_passt_renumber_stream4_intact "sha256 ${s:-none}, expected $SHA_BIG"
fi

# --- 4. interface down, another one up -----------------------------------
echo "--- eth0 down, eth1 up"
T0=$(follow_now_ms)
in_host ip link set eth0 down
in_host ip link set eth1 up
in_host ip addr add $FOLLOW_L2_HOST4/24 dev eth1
in_host ip addr add $FOLLOW_L2_HOST6/64 dev eth1 nodad
in_host ip route replace default via $FOLLOW_L2_GW4
in_host ip -6 route replace default via $FOLLOW_L2_GW6
renewed follow_passt_ifswitch_addr4_renewed guest "$T0" "$LEASE" '^T addr4_switch' || true
if guest_wait guest '^T addr6_switch' 40 && guest_wait guest '^GUEST-TEST' 60; then
	expect follow_passt_ifswitch_addr4 "$(gt addr4_switch)" $FOLLOW_L2_HOST4/24
	expect follow_passt_ifswitch_gw4 "$(gt gw4_switch)" $FOLLOW_L2_GW4
	a=$(gt addr6_switch)
	if [ -n "$a" ]; then
		pass "follow_passt_ifswitch_addr6 ($a)"
	else
		fail follow_passt_ifswitch_addr6 "no address in 2001:db8:3::/64 in the guest"
	fi
	judge guest follow_passt ifswitch
else
	fail follow_passt_guest_run "the guest did not finish its checks after the interface switch"
fi
check follow_passt_alive kill -0 "$PASST_PID"

# --- the local-mode guest ---------------------------------------------------
if [ $LOCAL_OK = 1 ]; then
	echo "--- local-mode passt, after host2 got its route"
	if wait_for "$FOLLOW_LEASE_CAP" test -s "$TMP/b_renewed.ms"; then
		within_lease follow_passt_local_route_addr4_renewed \
			$(( $(cat "$TMP/b_renewed.ms") - T0B )) "$LEASEB"
	else
		fail follow_passt_local_route_addr4_renewed "not $FOLLOW_LEASE_CAP s after the host got its route (lease ${LEASEB:-?} s)"
	fi
	if guest_wait guestb '^GUEST-TEST' 90; then
		expect follow_passt_local_route_addr4 "$(gt guestb addr4_new)" $H2_4/25
		expect follow_passt_local_route_gw4 "$(gt guestb gw4_new)" $H2_GW4
		a=$(gt guestb addr6_new)
		if [ -n "$a" ]; then
			pass "follow_passt_local_route_addr6 ($a)"
		else
			fail follow_passt_local_route_addr6 "no address in 2001:db8:6::/64 in the guest"
		fi
		judge guestb follow_passt_local route
	else
		fail follow_passt_local_guest_run "the local-mode guest did not finish"
	fi
fi

guest_exit guest 30 || guest_stop guest
[ $LOCAL_OK = 1 ] && { guest_exit guestb 30 || guest_stop guestb; }
for g in guest guestb; do
	[ -f "$TMP/$g.console" ] || continue
	echo "--- $g console (results, DHCP events):"
	tr -d '\r' < "$TMP/$g.console" | grep -E '^(T |GUEST|DHCPEV)' || true
done
for l in passt passtb; do
	echo "--- changes logged by $l:"
	grep -E -- "$FOLLOW_CHANGE_RE" "$TMP/$l.log" || true
done
echo "follow passt guest case: $(( $(date +%s) - start ))s"
