#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/74_follow_pasta.sh - pasta --config-net follows the host:
# changes made to the "host" namespace under a running pasta reach the
# pasta namespace within 5 s (issue 14)
#
#  ns "remote": lo 203.0.113.1-3, 2001:db8:1::1-3 (DNS, UDP echo, TCP line
#     |         and echo servers); eth0 198.51.100.1 .254, 2001:db8::1 ::fe
#     |         2001:db8:5::1; eth1 192.0.2.1, 2001:db8:3::1
#     |  veth eth0, veth eth1
#  ns "host": eth0 198.51.100.2/24, 2001:db8::2/64, eth1 down; /etc is
#             $TMP/etc for pasta (test/lib/follow.sh says why)
#    pasta "main"   --config-net -d --dns-forward 192.0.2.53
#                   --dns-forward 2001:db8:53::53          follows
#    pasta "fixed"  the same with -a, -g (both versions), --dns-host: those
#                   values never change
#    pasta "frozen" the same with --no-follow: nothing changes
#    pasta "prev"   the build before follow.c, for the wakeup comparison
#
# Steps, one after the other on the same "main" instance; after each one,
# its configuration (bounded poll) and new connections from inside: TCP,
# UDP, ping to the remote's loopback addresses, DNS through the
# --dns-forward addresses, reaching the resolver resolv.conf now names,
# all within 5 s of the change:
#   1. resolv.conf rewritten in place          (DNS to 203.0.113.2)
#   2. resolv.conf replaced by rename          (DNS to 203.0.113.3)
#   3. gateway replaced, both versions         (a stream across it intact)
#   4. address replaced, both versions         (connections from the old
#                                               address are reset)
#   5. 1000 netlink events in one "ip -batch", ending with an address
#      change: one reconfiguration (two at most)
#   6. IPv6 prefix renumbered 2001:db8:: -> 2001:db8:5:: (an IPv4 stream
#      across it intact)
#   7. eth0 down (local mode: 169.254.2.1/16 via 169.254.2.2, fe80::1),
#      then eth1 up with 192.0.2.2/24, 2001:db8:3::2/64
#   8. a new pasta on a host without any route (local mode), then the host
#      gets one; its /etc/resolv.conf is a symlink, the target replaced by
#      rename
# Before the steps: the wakeups of an idle pasta in 10 s (voluntary context
# switches) following, with --no-follow, and of the previous build.
#
# Nothing here targets an address outside the namespaces the case makes.

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/udp.sh"
. "$TOP/test/lib/follow.sh"

for t in socat ping busybox python3; do
	if ! command -v $t >/dev/null; then
		skip follow_pasta "$t not installed"
		exit 0
	fi
done
start=$(date +%s)

topo_setup
# Deleting the primary IPv4 address keeps the secondary ones (the default
# of systemd's sysctl.d, not of the kernel)
in_host sysctl -qw net.ipv4.conf.all.promote_secondaries=1
in_host sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
udp_client_write
follow_stream_write
follow_etc_setup
if ! follow_remote_setup; then
	fail follow_pasta_servers "servers did not start in the remote namespace"
	exit 0
fi

FWD="--dns-forward $DNS_FWD4 --dns-forward $DNS_FWD6"
NO_FOLLOW=${NO_FOLLOW---no-follow}	# empty: scaffolding runs on older builds
# shellcheck disable=SC2086
if ! follow_pasta_start main --config-net -d $FWD || \
   ! follow_pasta_start fixed --config-net $FWD -a 198.51.100.20 \
	-g $GW4 -a 2001:db8::20 -g $GW6 --dns-host ${FOLLOW_NS4[0]} \
	--dns-host ${FOLLOW_NS6[0]} || \
   ! follow_pasta_start frozen --config-net -d $NO_FOLLOW $FWD; then
	fail follow_pasta_start "pasta did not start"
	exit 0
fi
for i in main fixed frozen; do
	wait_for 10 sh -c "nsenter -t ${FP_NS[$i]} -n ip -6 addr show dev eth0 scope global | grep -q inet6 && \
		! nsenter -t ${FP_NS[$i]} -n ip -6 addr show | grep -q tentative && \
		nsenter -t ${FP_NS[$i]} -n ip -6 route show default | grep -q ." || true
	follow_state $i
done

# Everything works before anything changes
end=$(( $(follow_now_ms) + 10000 ))
follow_reach_all follow_pasta_start 46 "$end" main ${FOLLOW_NS4[0]} ${FOLLOW_NS6[0]}

# --- No busy loop: wakeups of idle instances over 10 s ---------------------
if prev=$(follow_prev_build); then
	# shellcheck disable=SC2086
	if ! follow_pasta_start prev --bin "$prev" --config-net $FWD; then
		skip follow_pasta_idle_vs_prev_build "the previous build ($prev) did not start"
		prev=
	fi
else
	echo "previous build: $prev"
	skip follow_pasta_idle_vs_prev_build "no previous build: $prev"
	prev=
fi
sleep 2
declare -A v0=() v1=() dhcp=()
for i in main frozen ${prev:+prev}; do v0[$i]=$(follow_vcsw "${FP_PID[$i]}"); done
sleep 10
for i in main frozen ${prev:+prev}; do
	v1[$i]=$(follow_vcsw "${FP_PID[$i]}")
	echo "  idle 10 s, $i: $(( v1[$i] - v0[$i] )) voluntary context switches"
done
w_main=$(( v1[main] - v0[main] ))
w_frozen=$(( v1[frozen] - v0[frozen] ))
# a little slack for the other processes of a loaded machine
if [ $w_main -le $(( w_frozen * 12 / 10 + 3 )) ]; then
	pass follow_pasta_idle_vs_no_follow
else
	fail follow_pasta_idle_vs_no_follow "$w_main wakeups in 10 s following, $w_frozen with --no-follow"
fi
if [ -n "$prev" ]; then
	w_prev=$(( v1[prev] - v0[prev] ))
	if [ $w_main -le $(( w_prev * 12 / 10 + 3 )) ]; then
		pass follow_pasta_idle_vs_prev_build
	else
		fail follow_pasta_idle_vs_prev_build "$w_main wakeups in 10 s, $w_prev with the build before follow.c"
	fi
	follow_pasta_stop prev
fi

# after_change PREFIX FAMILIES DNS4 DNS6: the connectivity checks of a step,
# against the 5 s deadline from $T0
after_change() {
	follow_reach_all "$1" $(( T0 + FOLLOW_DEADLINE * 1000 )) main "$2" "$3" "$4"
}

# fixed_kept: the instance given -a and -g still has those
fixed_kept() {
	{ follow_has_addr fixed 198.51.100.20/32 || \
	  follow_has_addr fixed 198.51.100.20/24; } && \
	fns fixed ip -o -6 addr show | grep -q ' inet6 2001:db8::20/' && \
	follow_has_gw fixed $GW4 && follow_has_gw fixed $GW6
}

# frozen_kept: the --no-follow instance still has the start configuration
frozen_kept() {
	follow_has_addr frozen $HOST4/$HOST_PLEN4 && \
	follow_has_addr frozen $HOST6/$HOST_PLEN6 && \
	follow_has_gw frozen $GW4 && follow_has_gw frozen $GW6
}

# untouched STEP: the fixed and the --no-follow instances didn't move
untouched() {
	check follow_pasta_$1_fixed_kept fixed_kept
	check follow_pasta_$1_no_follow_unchanged frozen_kept
}

# --- 1. resolv.conf rewritten in place ------------------------------------
echo "--- resolv.conf rewritten in place"
follow_stream_start resolv main $REMOTE_LO4
T0=$(follow_now_ms)
follow_resolv_inplace "$FOLLOW_ETC/resolv.conf" 1
after_change follow_pasta_resolv_inplace "" ${FOLLOW_NS4[1]} ${FOLLOW_NS6[1]}
follow_reach follow_pasta_resolv_inplace_dns4 $(( T0 + 5000 )) \
	follow_dns main $DNS_FWD4 ${FOLLOW_NS4[1]}
follow_reach follow_pasta_resolv_inplace_dns6 $(( T0 + 5000 )) \
	follow_dns main $DNS_FWD6 ${FOLLOW_NS6[1]}
# --dns-host given: the fixed instance still asks the first resolver
follow_reach follow_pasta_resolv_inplace_fixed_dns_host $(( T0 + 5000 )) \
	follow_dns fixed $DNS_FWD4 ${FOLLOW_NS4[0]}
follow_reach follow_pasta_resolv_inplace_no_follow_dns $(( T0 + 5000 )) \
	follow_dns frozen $DNS_FWD4 ${FOLLOW_NS4[0]}

# --- 2. resolv.conf replaced by rename ------------------------------------
echo "--- resolv.conf replaced by rename"
T0=$(follow_now_ms)
follow_resolv_rename "$FOLLOW_ETC/resolv.conf" 2
follow_reach follow_pasta_resolv_rename_dns4 $(( T0 + 5000 )) \
	follow_dns main $DNS_FWD4 ${FOLLOW_NS4[2]}
follow_reach follow_pasta_resolv_rename_dns6 $(( T0 + 5000 )) \
	follow_dns main $DNS_FWD6 ${FOLLOW_NS6[2]}
check follow_pasta_resolv_stream_intact follow_stream_end resolv
grep -E -- "$FOLLOW_CHANGE_RE" "$TMP/pasta_main.log" || true

# --- 3. gateway replaced ---------------------------------------------------
echo "--- gateway replaced"
follow_stream_start gw4 main $REMOTE_LO4
follow_stream_start gw6 main $REMOTE_LO6
T0=$(follow_now_ms)
in_host ip route replace default via 198.51.100.254
in_host ip -6 route replace default via 2001:db8::fe
follow_wait_state follow_pasta_gw_config $FOLLOW_DEADLINE \
	follow_has_gw main 198.51.100.254 -- follow_has_gw main 2001:db8::fe || \
	follow_state main
after_change follow_pasta_gw 46 ${FOLLOW_NS4[2]} ${FOLLOW_NS6[2]}
check follow_pasta_gw_stream4_intact follow_stream_end gw4
check follow_pasta_gw_stream6_intact follow_stream_end gw6
untouched gw

# --- 4. address replaced ---------------------------------------------------
echo "--- address replaced"
# from the addresses that go away (not from a SLAAC address of the
# namespace's own, which stays)
follow_stream_start old4 main $REMOTE_LO4 $HOST4
follow_stream_start old6 main $REMOTE_LO6 $HOST6
T0=$(follow_now_ms)
in_host ip addr add 198.51.100.3/24 dev eth0
in_host ip addr add 2001:db8::3/64 dev eth0 nodad
in_host ip addr del $HOST4/$HOST_PLEN4 dev eth0
in_host ip addr del $HOST6/$HOST_PLEN6 dev eth0
# (promote_secondaries: 198.51.100.3 stays; the default route is put back
# in case the kernel flushed it with the primary address)
in_host ip route replace default via 198.51.100.254
in_host ip -6 route replace default via 2001:db8::fe
follow_wait_state follow_pasta_addr_config $FOLLOW_DEADLINE \
	follow_has_addr main 198.51.100.3/24 -- follow_has_addr main 2001:db8::3/64 -- \
	follow_no_addr main $HOST4 -- follow_no_addr main $HOST6 -- \
	follow_has_gw main 198.51.100.254 -- follow_has_gw main 2001:db8::fe || \
	follow_state main
after_change follow_pasta_addr 46 ${FOLLOW_NS4[2]} ${FOLLOW_NS6[2]}
# Connections from the address that went away: reset, not left hanging
# (spec: flows bound to a host address that went away are reset)
for f in 4 6; do
	if wait_for 10 sh -c "grep -q '^stream error' $TMP/stream_old$f.log"; then
		:
	fi
	follow_stream_end old$f >/dev/null || true
	if grep -qE '^stream error.*(ConnectionReset|BrokenPipe|Errno 104|Errno 32)' "$TMP/stream_old$f.log"; then
		pass follow_pasta_addr_old_conn${f}_reset
	else
		# a reset sent to an address the namespace no longer has is
		# dropped there: the counters tell
		fail follow_pasta_addr_old_conn${f}_reset "$(tail -1 "$TMP/stream_old$f.log"); namespace: $(fns main nstat -az IpInAddrErrors Ip6InAddrErrors 2>/dev/null | awk '/InAddrErrors/ { printf "%s %s ", $1, $2 }')"
	fi
done
untouched addr

# --- 5. 1000 events in a burst, one reconfiguration ------------------------
echo "--- 1000 netlink events in a burst"
sleep 2		# nothing pending
r0=$(follow_log_lines main "$FOLLOW_RECONF_RE")
{
	for i in $(seq 1 499); do
		echo "address add 198.51.100.77/24 dev eth0"
		echo "address del 198.51.100.77/24 dev eth0"
	done
	echo "address add 198.51.100.4/24 dev eth0"
	echo "address del 198.51.100.3/24 dev eth0"
} > "$TMP/burst.batch"
T0=$(follow_now_ms)
in_host ip -batch "$TMP/burst.batch"
in_host ip route replace default via 198.51.100.254
echo "  ip -batch of $(wc -l < "$TMP/burst.batch") commands: $(( $(follow_now_ms) - T0 )) ms"
follow_wait_state follow_pasta_burst_config $FOLLOW_DEADLINE \
	follow_has_addr main 198.51.100.4/24 -- follow_no_addr main 198.51.100.3 -- \
	follow_no_addr main 198.51.100.77 -- follow_has_gw main 198.51.100.254 || \
	follow_state main
sleep 3		# anything late would show up now
r1=$(follow_log_lines main "$FOLLOW_RECONF_RE")
n=$(( r1 - r0 ))
echo "  reconfigurations logged (\"$FOLLOW_RECONF_RE\"): $n"
if [ $n -ge 1 ] && [ $n -le 2 ]; then
	pass "follow_pasta_burst_coalesced ($n)"
else
	fail follow_pasta_burst_coalesced "$n reconfigurations for one burst of 1000 events (1 or 2 expected)"
fi
after_change follow_pasta_burst 4 ${FOLLOW_NS4[2]} ""
check follow_pasta_burst_alive kill -0 "${FP_PID[main]}"

# --- 6. IPv6 prefix renumbered ---------------------------------------------
echo "--- IPv6 prefix renumbered"
follow_stream_start renum4 main $REMOTE_LO4
T0=$(follow_now_ms)
in_host ip addr add 2001:db8:5::2/64 dev eth0 nodad
in_host ip -6 route replace default via 2001:db8:5::1
in_host ip addr del 2001:db8::3/64 dev eth0
follow_wait_state follow_pasta_renumber_config $FOLLOW_DEADLINE \
	follow_has_addr main 2001:db8:5::2/64 -- follow_no_addr main 2001:db8::3 -- \
	follow_has_gw main 2001:db8:5::1 || follow_state main
after_change follow_pasta_renumber 6 "" ${FOLLOW_NS6[2]}
check follow_pasta_renumber_stream4_intact follow_stream_end renum4
untouched renumber

# --- 7. interface down, then another one up --------------------------------
echo "--- eth0 down, eth1 up"
T0=$(follow_now_ms)
in_host ip link set eth0 down
# no route left: local mode (169.254.2.1/16 via 169.254.2.2, fe80::1)
follow_wait_state follow_pasta_ifdown_local_config $FOLLOW_DEADLINE \
	follow_has_addr main 169.254.2.1/16 -- follow_has_gw main 169.254.2.2 -- \
	follow_has_gw main fe80::1 -- follow_no_addr main 198.51.100.4 || true
echo "  with eth0 down:"
follow_state main
T0=$(follow_now_ms)
in_host ip link set eth1 up
in_host ip addr add $FOLLOW_L2_HOST4/24 dev eth1
in_host ip addr add $FOLLOW_L2_HOST6/64 dev eth1 nodad
in_host ip route replace default via $FOLLOW_L2_GW4
in_host ip -6 route replace default via $FOLLOW_L2_GW6
follow_wait_state follow_pasta_ifswitch_config $FOLLOW_DEADLINE \
	follow_has_addr main $FOLLOW_L2_HOST4/24 -- follow_has_addr main $FOLLOW_L2_HOST6/64 -- \
	follow_has_gw main $FOLLOW_L2_GW4 -- follow_has_gw main $FOLLOW_L2_GW6 -- \
	follow_no_addr main 198.51.100.4 -- follow_no_addr main 2001:db8:5::2 || \
	follow_state main
after_change follow_pasta_ifswitch 46 ${FOLLOW_NS4[2]} ${FOLLOW_NS6[2]}
untouched ifswitch
# What the DHCP servers of the instances say now: the new address and
# router, the fixed ones, the ones at start with an infinite lease
for i in main fixed frozen; do
	dhcp[$i]=$(follow_dhcp_probe $i || true)
	echo "  DHCP of $i: ${dhcp[$i]}"
done
check follow_pasta_ifswitch_dhcp_follows sh -c "echo '${dhcp[main]}' | \
	grep -q '^ip=$FOLLOW_L2_HOST4 router=$FOLLOW_L2_GW4 lease=[0-9]* '"
check follow_pasta_ifswitch_dhcp_fixed_kept sh -c "echo '${dhcp[fixed]}' | \
	grep -q '^ip=198.51.100.20 router=$GW4 '"
check follow_pasta_ifswitch_dhcp_no_follow_unchanged sh -c "echo '${dhcp[frozen]}' | \
	grep -q '^ip=$HOST4 router=$GW4 lease=4294967295 '"
check follow_pasta_no_follow_silent sh -c "! grep -qE -- '$FOLLOW_CHANGE_RE' $TMP/pasta_frozen.log"
echo "--- changes logged by the main instance:"
grep -E -- "$FOLLOW_CHANGE_RE" "$TMP/pasta_main.log" || true
for i in main fixed frozen; do follow_pasta_stop $i; done

# --- 8. no route at start, then one ---------------------------------------
echo "--- host without any route at start"
in_host ip link set eth1 down
in_host ip addr flush dev eth1
in_host ip addr flush dev eth0
in_host ip -4 route show
in_host ip -6 route show
# /etc/resolv.conf a symlink, as with systemd-resolved: the target is
# replaced by rename in its own directory
E2=$TMP/etc2
R2=$TMP/run2
follow_etc_setup "$E2"
mkdir -p "$R2"
chmod 755 "$R2"
rm -f "$E2/resolv.conf"
follow_resolv_inplace "$R2/resolv.conf" 0
ln -s "$R2/resolv.conf" "$E2/resolv.conf"
# shellcheck disable=SC2086
if follow_pasta_start local --etc "$E2" --config-net -d $FWD; then
	follow_wait_state follow_pasta_local_start_config 5 \
		follow_has_addr local 169.254.2.1/16 -- follow_has_gw local 169.254.2.2 -- \
		follow_has_gw local fe80::1 || true
	follow_state local
	T0=$(follow_now_ms)
	in_host ip link set eth0 up
	in_host ip addr add $HOST4/$HOST_PLEN4 dev eth0
	in_host ip addr add $HOST6/$HOST_PLEN6 dev eth0 nodad
	in_host ip route add default via $GW4
	in_host ip -6 route add default via $GW6
	follow_wait_state follow_pasta_local_route_config $FOLLOW_DEADLINE \
		follow_has_addr local $HOST4/$HOST_PLEN4 -- follow_has_addr local $HOST6/$HOST_PLEN6 -- \
		follow_has_gw local $GW4 -- follow_has_gw local $GW6 -- \
		follow_no_addr local 169.254.2.1 || follow_state local
	follow_reach_all follow_pasta_local_route $(( T0 + FOLLOW_DEADLINE * 1000 )) \
		local 46 ${FOLLOW_NS4[0]} ${FOLLOW_NS6[0]}

	T0=$(follow_now_ms)
	follow_resolv_rename "$R2/resolv.conf" 1
	follow_reach follow_pasta_resolv_symlink_target_dns4 $(( T0 + 5000 )) \
		follow_dns local $DNS_FWD4 ${FOLLOW_NS4[1]}
	echo "--- changes logged by the local-mode instance:"
	grep -E -- "$FOLLOW_CHANGE_RE" "$TMP/pasta_local.log" || true
	follow_pasta_stop local
else
	fail follow_pasta_local_start "pasta did not start on a host without routes: $(grep -v '^$' "$TMP/pasta_local.log" | tail -2 | tr '\n' ' ')"
fi

echo "follow pasta case: $(( $(date +%s) - start ))s"
