#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/77_follow_guest_proto.sh - Following the host, guest side: what
# pasta's DHCP, NDP and DHCPv6 tell the namespace about lifetimes, and how
# they answer a client that holds an address which isn't ours (any more)
#
#  ns "host": eth0 198.51.100.2/24, 2001:db8::2/64, gw .1 / ::1
#             resolv.conf: 203.0.113.1, 2001:db8:1::1, search example.org
#     |
#     +-- pasta --dhcp-dns --dhcp-search -- sleep   (no --config-net)
#     |     1. raw (test/lib/dhcp_follow.py): OFFER/ACK with lease 120 s,
#     |        T1 60 s, T2 105 s; DHCPNAK (server identifier = gateway) to a
#     |        REQUEST for 198.51.100.77 in RENEWING (ciaddr), INIT-REBOOT
#     |        (option 50) and SELECTING state, ACK for our address
#     |     2. raw: DHCPv6 IA_NA with T1 60, T2 96, lifetimes 120; a RENEW of
#     |        2001:db8::77 gets it back with zero lifetimes next to ours;
#     |        INFORMATION-REQUEST: refresh time 600; RA: prefix valid 7200 s,
#     |        preferred 1800 s, RDNSS and DNSSL 1800 s, and the kernel's
#     |        SLAAC address has finite lifetimes
#     |     3. busybox udhcpc: "lease time 120"; ISC dhclient -4 started with
#     |        a lease of 198.51.100.77 on file: INIT-REBOOT, DHCPNAK, EXPIRE,
#     |        then a new lease of 198.51.100.2, renewed (unicast) within T1;
#     |        ISC dhclient -6: lifetimes 120, RENEW6 within T1
#     +-- pasta --no-follow (if the option exists): infinite lease, lifetimes
#     |     and T1/T2, as before following existed
#
#  ns "offline" (lo only, no route): pasta there is in local mode, if it
#     starts at all (the option to start without a host interface comes
#     with local mode): udhcpc gets 169.254.2.1/16, router and server
#     identifier 169.254.2.2; RA without prefix, router lifetime 9000: the
#     default route is via fe80::1; DHCPv6 ADVERTISE with NoAddrsAvail and
#     SOL_MAX_RT 60
#
# A change of the host's configuration itself (and the RA withdrawing the
# old prefix that follows) is the subject of the follow cases; the unit
# tests (test/unit/ndp_test.c) drive ndp_renumber() with two configurations.

set -eu
. "$(dirname "$0")/../lib/common.sh"

IF=eth0
OLD4=198.51.100.77
OLD6=2001:db8::77
MASK4=255.255.255.0
PASTA_OPTS=(--dhcp-dns --dhcp-search)
NS_OFF=ptf$$

trap 'ip netns del "$NS_OFF" 2>/dev/null || true; rm -rf "/etc/netns/$NS_OFF"; cleanup' EXIT

topo_setup

# raw ARGS...: test/lib/dhcp_follow.py in pasta's namespace
raw() { in_ns timeout 15 python3 "$TOP/test/lib/dhcp_follow.py" "$@"; }

# fresh_pasta NAME [ARGS...]: new pasta with eth0 up in its namespace
fresh_pasta() {
	local name=$1; shift
	pasta_stop
	if ! pasta_start "$@"; then
		fail "$name" "pasta did not start"
		return 1
	fi
	in_ns ip link set "$IF" up
}

# link_local_ready: the namespace has a non-tentative link-local address
link_local_ready() {
	in_ns ip -6 addr show dev "$IF" scope link | grep -q inet6 &&
	! in_ns ip -6 addr show dev "$IF" | grep -q tentative
}

# --- 1. DHCP: lease times, NAK for other addresses ----------------------------
if fresh_pasta dhcp_start "${PASTA_OPTS[@]}"; then
	R=$TMP/offer
	raw 4 "$IF" discover > "$R" || true
	cat "$R"
	check dhcp_offer_lease_120 grep -q "type=2 .*yiaddr=$HOST4 sid=$GW4 lease=120 t1=60 t2=105" "$R"

	R=$TMP/select
	raw 4 "$IF" request --requested "$HOST4" --sid "$GW4" > "$R" || true
	cat "$R"
	check dhcp_ack_lease_120 grep -q "type=5 .*yiaddr=$HOST4 .*lease=120 t1=60 t2=105" "$R"

	# RFC 2131 4.3.2: RENEWING (ciaddr), INIT-REBOOT (option 50) and
	# SELECTING our offer, for an address that isn't ours: one NAK (the
	# gateway never changed, so no second one with an old identifier)
	R=$TMP/nak_renewing
	raw 4 "$IF" request --ciaddr "$OLD4" > "$R" || true
	cat "$R"
	check dhcp_nak_renewing sh -c "[ \$(grep -c 'type=6 src=$GW4 yiaddr=0.0.0.0 sid=$GW4 lease=-' '$R') = 1 ] && [ \$(wc -l < '$R') = 1 ]"

	R=$TMP/nak_reboot
	raw 4 "$IF" request --requested "$OLD4" > "$R" || true
	cat "$R"
	check dhcp_nak_init_reboot sh -c "[ \$(wc -l < '$R') = 1 ] && grep -q 'type=6 .*sid=$GW4' '$R'"

	R=$TMP/nak_selecting
	raw 4 "$IF" request --requested "$OLD4" --sid "$GW4" > "$R" || true
	check dhcp_nak_selecting grep -q "type=6 .*sid=$GW4" "$R"

	R=$TMP/ack_renewing
	raw 4 "$IF" request --ciaddr "$HOST4" > "$R" || true
	cat "$R"
	check dhcp_ack_renewing grep -q "type=5 .*yiaddr=$HOST4 .*lease=120" "$R"
fi

# --- 2. DHCPv6 and NDP: lifetimes, RENEW of another address -------------------
if fresh_pasta dhcpv6_start "${PASTA_OPTS[@]}"; then
	wait_for 10 link_local_ready || true

	R=$TMP/advertise
	raw 6 "$IF" solicit > "$R" || true
	cat "$R"
	check dhcpv6_t1_t2 grep -qx "ia t1=60 t2=96 status=-" "$R"
	check dhcpv6_lifetimes grep -qx "iaaddr $HOST6 pref=120 valid=120" "$R"

	R=$TMP/renew
	raw 6 "$IF" renew "$OLD6" > "$R" || true
	sed -n '/^--$/,$p' "$R"
	check dhcpv6_renew_ours sh -c "sed -n '/^--\$/,\$p' '$R' | grep -qx 'iaaddr $HOST6 pref=120 valid=120'"
	check dhcpv6_renew_old_zero sh -c "sed -n '/^--\$/,\$p' '$R' | grep -qx 'iaaddr $OLD6 pref=0 valid=0'"

	R=$TMP/info
	raw 6 "$IF" info > "$R" || true
	cat "$R"
	check dhcpv6_info_refresh grep -q "^dhcp6 type=7 .*info_refresh=600" "$R"

	R=$TMP/ra
	raw ra "$IF" > "$R" || true
	cat "$R"
	check ra_prefix_lifetimes grep -qx "prefix 2001:db8:: valid=7200 preferred=1800" "$R"
	check ra_rdnss_lifetime grep -qx "rdnss $REMOTE_LO6 lifetime=1800" "$R"
	check ra_dnssl_lifetime grep -qx "dnssl $SEARCH lifetime=1800" "$R"

	# The kernel's own SLAAC address: finite lifetimes, not "forever"
	if wait_for 10 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev $IF scope global dynamic | grep -q 'inet6 2001:db8::'"; then
		in_ns ip -6 addr show dev "$IF" scope global
		read -r v p <<< "$(in_ns ip -6 addr show dev "$IF" scope global dynamic | sed -n 's/.*valid_lft \([0-9]*\)sec preferred_lft \([0-9]*\)sec.*/\1 \2/p' | head -1)"
		check slaac_finite_lifetimes test "${v:-0}" -gt 0 -a "${v:-0}" -le 7200 -a "${p:-0}" -gt 0 -a "${p:-0}" -le 1800
	else
		fail slaac_finite_lifetimes "no SLAAC address in 10 s"
	fi
fi

# --- 3. Real clients: lease time, NAK and restart, renewal ---------------------

# Client scripts: record what the client passes (as 31_pasta_dhcp.sh), and
# for the IPv4 clients configure the address, so that the unicast renewal
# can leave. Nothing else is touched: the scripts run in the namespace only
# (nsenter -n), with the files of the machine around them
mkscript() {
	local name=$1
	cat > "$TMP/$name.sh" <<-EOT
		#!/bin/sh
		ev=\${reason:-\$1}
		echo "event \$ev \${new_ip_address:-}\${ip:-}\${new_ip6_address:-}" >> "$TMP/$name.events"
		case "\$ev" in
		bound|renew|BOUND|REBOOT|RENEW|BOUND6|RENEW6|REBOOT6)
			env | grep -E '^(ip|subnet|router|lease|new_[a-z0-9_]*)=' > "$TMP/$name.tmp"
			mv "$TMP/$name.tmp" "$TMP/$name.rec"
			;;
		esac
		case "\$ev" in
		bound|renew)
			ip -4 addr replace "\$ip/\$subnet" dev "\$interface" ;;
		BOUND|REBOOT|RENEW)
			ip -4 addr replace "\$new_ip_address/\$new_subnet_mask" dev "\$interface" ;;
		EXPIRE)
			[ -n "\${old_ip_address:-}" ] && ip -4 addr del "\$old_ip_address/\${old_subnet_mask:-32}" dev "\$interface" 2>/dev/null ;;
		esac
		exit 0
	EOT
	chmod 755 "$TMP/$name.sh"
}
mkscript udhcpc
mkscript dhc4
mkscript dhc6
cat > "$TMP/dhclient.conf" <<EOT
timeout 30;
retry 5;
request subnet-mask, broadcast-address, routers, domain-name-servers,
	dhcp-lease-time, dhcp-renewal-time, dhcp-rebinding-time;
EOT

if fresh_pasta clients_start "${PASTA_OPTS[@]}"; then
	# busybox udhcpc: lease time, as it logs it
	in_ns timeout 30 busybox udhcpc -i "$IF" -n -q -f -t 5 -T 2 \
		-s "$TMP/udhcpc.sh" >"$TMP/udhcpc.log" 2>&1 || true
	grep lease "$TMP/udhcpc.log" || true
	check udhcpc_lease_120 grep -q "lease of $HOST4 obtained from $GW4, lease time 120$" "$TMP/udhcpc.log"
	in_ns ip -4 addr flush dev "$IF"

	# ISC dhclient -4 with an unexpired lease of another address on file:
	# it starts in INIT-REBOOT (RFC 2131 3.2), gets a DHCPNAK, runs its
	# script with EXPIRE, starts over and gets ours
	now=$(date +%s)
	later=$(date -u -d "@$((now + 3600))" '+%w %Y/%m/%d %H:%M:%S')
	cat > "$TMP/dhc4.leases" <<-EOT
		lease {
		  interface "$IF";
		  fixed-address $OLD4;
		  option subnet-mask $MASK4;
		  option routers $GW4;
		  option dhcp-lease-time 3600;
		  option dhcp-message-type 5;
		  option dhcp-server-identifier $GW4;
		  renew $later;
		  rebind $later;
		  expire $later;
		}
	EOT
	wait_for 10 link_local_ready || true
	bg dhc4 in_ns dhclient -4 -d -v -cf "$TMP/dhclient.conf" \
		-sf "$TMP/dhc4.sh" -lf "$TMP/dhc4.leases" \
		-pf "$TMP/dhc4-own.pidfile" "$IF"
	bg dhc6 in_ns dhclient -6 -d -v -cf "$TMP/dhclient.conf" \
		-sf "$TMP/dhc6.sh" -lf "$TMP/dhc6.leases" \
		-pf "$TMP/dhc6-own.pidfile" "$IF"

	if wait_for 40 grep -q "^event BOUND $HOST4" "$TMP/dhc4.events"; then
		cat "$TMP/dhc4.events"
		grep -E 'DHCPNAK|DHCPREQUEST|DHCPACK' "$TMP/dhc4.log" || true
		check dhclient4_nak grep -q "DHCPNAK from $GW4" "$TMP/dhc4.log"
		check dhclient4_expire_then_bound sh -c "grep -n '' '$TMP/dhc4.events' | grep -E 'EXPIRE|BOUND $HOST4' | head -2 | tr '\n' ' ' | grep -Eq '^[0-9]+:event EXPIRE .*[0-9]+:event BOUND $HOST4'"
		check dhclient4_lease_120 grep -qx "new_dhcp_lease_time=120" "$TMP/dhc4.rec"
		check dhclient4_t1_t2 sh -c "grep -qx 'new_dhcp_renewal_time=60' '$TMP/dhc4.rec' && grep -qx 'new_dhcp_rebinding_time=105' '$TMP/dhc4.rec'"
	else
		fail dhclient4_nak "no lease after the NAK: $(tail -3 "$TMP/dhc4.log" | tr '\n' ' ')"
	fi

	if wait_for 30 grep -q "^event BOUND6" "$TMP/dhc6.events"; then
		grep -E '^new_(ip6_address|max_life|preferred_life|renew|rebind)=' "$TMP/dhc6.rec" || true
		check dhclient6_lifetimes_120 sh -c "grep -qx 'new_max_life=120' '$TMP/dhc6.rec' && grep -qx 'new_preferred_life=120' '$TMP/dhc6.rec'"
	else
		fail dhclient6_lifetimes_120 "no lease: $(tail -3 "$TMP/dhc6.log" | tr '\n' ' ')"
	fi

	# Renewals: dhclient picks T1 between 3/4 of ours and ours (45-60 s)
	# for IPv4; both unicast (IPv4) or multicast (IPv6) to us, both ACKed
	check dhclient4_renewed wait_for 80 grep -q "^event RENEW $HOST4" "$TMP/dhc4.events"
	check dhclient6_renewed wait_for 30 grep -q "^event RENEW6" "$TMP/dhc6.events"
	grep -E 'DHCPREQUEST|DHCPACK|RENEW|Reply' "$TMP/dhc4.log" "$TMP/dhc6.log" | tail -6 || true

	kill "$(cat "$TMP/dhc4.pid")" "$(cat "$TMP/dhc6.pid")" 2>/dev/null || true
fi

# --- 4. --no-follow: infinite, as before -------------------------------------
if ! "$PASTA" --help 2>/dev/null | grep -q -- '--no-follow'; then
	skip no_follow_infinite "this pasta has no --no-follow option yet"
elif fresh_pasta nofollow_start "${PASTA_OPTS[@]}" --no-follow; then
	wait_for 10 link_local_ready || true
	R=$TMP/nf_offer
	raw 4 "$IF" discover > "$R" || true
	cat "$R"
	check no_follow_dhcp_infinite grep -q "type=2 .*lease=4294967295 t1=- t2=-" "$R"
	R=$TMP/nf_adv
	raw 6 "$IF" solicit > "$R" || true
	check no_follow_dhcpv6_infinite sh -c "grep -qx 'ia t1=4294967295 t2=4294967295 status=-' '$R' && grep -qx 'iaaddr $HOST6 pref=4294967295 valid=4294967295' '$R'"
	R=$TMP/nf_ra
	raw ra "$IF" > "$R" || true
	check no_follow_ra_infinite grep -qx "prefix 2001:db8:: valid=4294967295 preferred=4294967295" "$R"
	R=$TMP/nf_info
	raw 6 "$IF" info > "$R" || true
	check no_follow_no_refresh grep -q "^dhcp6 type=7 .*info_refresh=-" "$R"
fi
pasta_stop

# --- 5. Local mode: a namespace without routes -------------------------------
ip netns add "$NS_OFF"
ip netns exec "$NS_OFF" ip link set lo up
mkdir -p "/etc/netns/$NS_OFF"
printf 'nameserver %s\n' "$REMOTE_LO4" > "/etc/netns/$NS_OFF/resolv.conf"

bg pasta ip netns exec "$NS_OFF" setpriv --reuid="$TEST_UID" \
	--regid="$TEST_GID" --clear-groups --inh-caps=-all -- \
	"$PASTA" -f "${PASTA_OPTS[@]}" -- sleep 600
PASTA_PID=$(cat "$TMP/pasta.pid")
NS_PID=
for _ in $(seq 100); do
	NS_PID=$(pgrep -P "$PASTA_PID" -x sleep 2>/dev/null | head -1) || true
	[ -n "$NS_PID" ] && [ "$(readlink "/proc/$NS_PID/ns/net")" != "$(readlink "/proc/$PASTA_PID/ns/net")" ] && break
	NS_PID=
	pid_gone "$PASTA_PID" && break
	sleep 0.1
done
if [ -z "$NS_PID" ]; then
	skip local_mode "pasta doesn't start without a host interface: $(tail -1 "$TMP/pasta.log")"
else
	echo "$NS_PID" > "$TMP/nschild.pid"
	# no host interface to take the name from: pasta picks its default
	IF=$(in_ns ip -o link show | awk -F': ' '$2 != "lo" { print $2; exit }')
	in_ns ip link set "$IF" up
	mkscript local4
	in_ns timeout 30 busybox udhcpc -i "$IF" -n -q -f -t 5 -T 2 \
		-s "$TMP/local4.sh" >"$TMP/local4.log" 2>&1 || true
	cat "$TMP/local4.rec" 2>/dev/null || true
	check local_dhcp_addr grep -qx "ip=169.254.2.1" "$TMP/local4.rec"
	check local_dhcp_router grep -qx "router=169.254.2.2" "$TMP/local4.rec"
	check local_dhcp_mask grep -qx "subnet=255.255.0.0" "$TMP/local4.rec"
	check local_dhcp_server_id grep -q "obtained from 169.254.2.2" "$TMP/local4.log"

	wait_for 10 link_local_ready || true
	R=$TMP/local_ra
	raw ra "$IF" > "$R" || true
	cat "$R"
	check local_ra_no_prefix sh -c "grep -q '^ra lifetime=9000 flags=0x40' '$R' && ! grep -q '^prefix' '$R'"
	check local_ra_default_route wait_for 5 sh -c "nsenter -t $NS_PID -n ip -6 route show default | grep -q 'via fe80::1 '"
	R=$TMP/local_adv
	raw 6 "$IF" solicit > "$R" || true
	cat "$R"
	check local_dhcpv6_noaddrs sh -c "grep -q '^dhcp6 type=2 status=2 sol_max_rt=60' '$R' && ! grep -q '^ia ' '$R'"
fi
pasta_stop
