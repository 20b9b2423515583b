#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/84_fwd_specs.sh - the 2026 forwarding spec forms, conflicting
# rules, and outbound binding (-o, --outbound-if4, --freebind), with pasta
# run by the test user in ns "host", and real clients (tcp_tool.py, socat)
#
#  ns "remote"                          ns "host" (pasta, test user)
#   203.0.113.1:8650 socat, answers       eth0 198.51.100.2/24
#     the peer's address (TCP, UDP)            198.51.100.3/24 (for -o)
#   clients -> 198.51.100.2:PORT               198.51.100.9/24 (added late:
#                                              --freebind)
#                                         pasta namespace (--config-net)
#                                           eth0 also 192.0.2.77/32: target
#                                           servers (socat) per check below
#
# Checks, each with its own pasta instance:
# - -t 8610:192.0.2.77/8611: from remote, 198.51.100.2:8610 reaches the
#   server on the namespace's second address, port 8611, not the one on its
#   main address; -t 8612:127.0.0.2/8613 reaches 127.0.0.2:8613 in the
#   namespace (loopback target: the splice path), from remote and from the
#   host's loopback; the same for UDP (-u 8614:192.0.2.77/8615,
#   -u 8616:127.0.0.2/8617)
# - -t 0.0.0.0/all in pasta: an unprivileged port (5000) is forwarded, low
#   ports pasta may not bind are skipped without a word
# - -t 8600-8610,auto: a server on 8605 started in the namespace is
#   forwarded within 2 s, one on 8620 is not (for 3 s after that)
# - -t 127.0.0.1/auto: a namespace server is forwarded on the host's
#   127.0.0.1 only (ss), and refused from remote
# - -t 0.0.0.0/~8641: 8640 forwarded, 8641 not
# - conflicts: -t 8080 -t 8080, -t 8000-8010 -t 8005, -t 8080,8080, and
#   -u 53 -u 50-60 exit 1 with exactly one line, naming both rules
#   (pasta and passt); an exclusion overlapping a later port is fine
# - nothing at all bound: -t 192.0.2.200/all (not a host address) exits 1
#   with one line
# - -o 198.51.100.3: the remote TCP and UDP servers see 198.51.100.3 as
#   the peer of connections made in the namespace
# - --outbound-if4 eth0: the connection succeeds
# - -o 198.51.100.99 (not a host address): the namespace's connection is
#   refused at once, pasta keeps running
# - --freebind -t 198.51.100.9/8660: pasta starts although the host has no
#   such address (without --freebind: exit 1), and once the address is
#   added, a client from remote reaches the namespace server through it
#
# Target runtime: under a minute.

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/tcp.sh"
. "$TOP/test/lib/splice.sh"

for t in socat ss; do
	if ! command -v $t >/dev/null; then
		skip fwd_specs "$t not installed"
		exit 0
	fi
done

OUT4=198.51.100.3
LATE4=198.51.100.9
NS2=192.0.2.77
P_PEER=8650
LIMIT_MS=2000

topo_setup
tcp_tool_install
splice_tool_install
in_host ip addr add $OUT4/24 dev eth0

# Remote servers answering the peer's address, TCP and UDP
bg rpeer in_remote socat "TCP4-LISTEN:$P_PEER,bind=$REMOTE_LO4,reuseaddr,fork" \
	'SYSTEM:read l; echo $SOCAT_PEERADDR'
bg rpeeru in_remote socat "UDP4-RECVFROM:$P_PEER,bind=$REMOTE_LO4,fork" \
	'SYSTEM:echo $SOCAT_PEERADDR'
wait_for 5 tcp_listening in_remote $P_PEER || true

# expect_line NAME WRAPPER ADDR PORT EXPECTED: pass NAME if the connection
# answers EXPECTED within LIMIT_MS
expect_line() {
	local name=$1 ms; shift
	if ms=$(wait_ms $LIMIT_MS answers "$@"); then
		echo "  $name: after $ms ms"
		pass "$name"
	else
		fail "$name" "$3:$2 did not answer '$4': $(tcp_tool "$1" line "$2" "$3" hi 2>&1 | head -1)"
	fi
}

# expect_refused NAME WRAPPER ADDR PORT: the connection is refused or reset
# at once (nothing forwarded, or nothing behind)
expect_refused() {
	tcp_expect "$1" '^(refused|connected-reset) [01]\.[0-9]+s$' \
		tcp_tool "$2" refused "$3" "$4"
}

# one_line_exit1 NAME WRAPPER CMD...: CMD, run by WRAPPER, exits 1 with exactly one line on
# stdout + stderr, matching $RE (set by the caller)
one_line_exit1() {
	local name=$1 w=$2 rc=0 out n; shift 2
	out=$("$w" timeout 20 "$@" 2>&1) || rc=$?
	n=$(printf '%s\n' "$out" | grep -c .) || true
	echo "  $name: rc=$rc: $out"
	if [ $rc -ne 1 ] || [ "$n" -ne 1 ]; then
		fail "$name" "exit $rc, $n lines: $(echo "$out" | head -3 | tr '\n' ' ')"
	elif ! echo "$out" | grep -qE -- "$RE"; then
		fail "$name" "'$out' does not match /$RE/"
	else
		pass "$name"
	fi
}

# no_warnings NAME: pasta's log has no binding complaint
no_warnings() {
	if grep -qiE "can't bind|Can.t bind" "$TMP/pasta.log"; then
		fail "$1" "$(grep -iE "bind" "$TMP/pasta.log" | head -2 | tr '\n' ' ')"
	else
		pass "$1"
	fi
}

restart() {
	pasta_stop
	pasta_start --config-net "$@"
}

# --- Conflicting rules: exit 1, one line naming both rules
RE='8080.*8080'
one_line_exit1 conflict_pasta_same_port host_user_pidns "$PASTA" -f \
	-t 8080 -t 8080 -- true
one_line_exit1 conflict_pasta_same_port_one_option host_user_pidns \
	"$PASTA" -f -t 8080,8080 -- true
RE="'8005'.*'8000-8010'"
one_line_exit1 conflict_pasta_range host_user_pidns "$PASTA" -f \
	-t 8000-8010 -t 8005 -- true
d=$(user_dir passt)
one_line_exit1 conflict_passt_range host_user "$PASST" -f -s "$d/sock" \
	-t 8000-8010 -t 8005
RE="'50-60'.*'53'"
one_line_exit1 conflict_passt_udp host_user "$PASST" -f -s "$d/sock" \
	-u 53 -u 50-60
RE='.'
one_line_exit1 nothing_bound_all host_user_pidns "$PASTA" -f \
	-t 192.0.2.200/all -u none -- true
one_line_exit1 nothing_bound_no_freebind host_user_pidns "$PASTA" -f \
	-t $LATE4/8660 -u none -- true

# --- Target addresses: the namespace's second address, and its loopback
if pasta_start --config-net -t 8610:$NS2/8611 -t 8612:127.0.0.2/8613 \
	-u 8614:$NS2/8615 -u 8616:127.0.0.2/8617 -T none -U none; then
	in_ns ip addr add $NS2/32 dev eth0
	line_server ns2 in_ns "TCP4-LISTEN:8611,bind=$NS2" ns2-8611
	line_server nsmain in_ns "TCP4-LISTEN:8610" nsmain-8610
	line_server nslo2 in_ns "TCP4-LISTEN:8613,bind=127.0.0.2" nslo2-8613
	wait_for 5 tcp_listening in_ns 8613 || true
	expect_line to_addr_remote in_remote $HOST4 8610 ns2-8611
	expect_line to_addr_hostlo in_host 127.0.0.1 8610 ns2-8611
	expect_line to_loopback_remote in_remote $HOST4 8612 nslo2-8613
	expect_line to_loopback_hostlo in_host 127.0.0.1 8612 nslo2-8613
	# IPv4 target: only IPv4 listens
	expect_refused to_addr_no_v6 in_host ::1 8610
	bg nsu2 in_ns socat "UDP4-RECVFROM:8615,bind=$NS2,fork" \
		'SYSTEM:echo ns2-udp'
	bg nsulo2 in_ns socat "UDP4-RECVFROM:8617,bind=127.0.0.2,fork" \
		'SYSTEM:echo nslo2-udp'
	wait_for 5 udp_bound in_ns 8615 || true
	wait_for 5 udp_bound in_ns 8617 || true
	tcp_expect to_addr_udp_remote '^ns2-udp$' \
		in_remote timeout 5 socat -T 3 - "UDP4:$HOST4:8614" <<<"hi"
	tcp_expect to_loopback_udp_remote '^nslo2-udp$' \
		in_remote timeout 5 socat -T 3 - "UDP4:$HOST4:8616" <<<"hi"
	tcp_expect to_loopback_udp_hostlo '^nslo2-udp$' \
		in_host timeout 5 socat -T 3 - "UDP4:127.0.0.1:8616" <<<"hi"
else
	fail to_addr "pasta did not start: $(head -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi

# --- all, in pasta
if restart -t 0.0.0.0/all -u none -T none -U none; then
	# "all" takes at most half of the descriptor limit (20000 here, as
	# in CI): ports from 1024 up to about 11000 fit
	line_server nshigh in_ns "TCP4-LISTEN:5000" ns-5000
	wait_for 5 tcp_listening in_ns 5000 || true
	expect_line all_high_port in_remote $HOST4 5000 ns-5000
	no_warnings all_quiet_low_ports
else
	fail all_pasta "pasta did not start: $(head -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi

# --- exclusion only
if restart -t 0.0.0.0/~8641 -u none -T none -U none; then
	line_server nsx0 in_ns "TCP4-LISTEN:8640" ns-8640
	line_server nsx1 in_ns "TCP4-LISTEN:8641" ns-8641
	wait_for 5 tcp_listening in_ns 8641 || true
	expect_line exclude_other_port in_remote $HOST4 8640 ns-8640
	expect_refused exclude_port_refused in_remote $HOST4 8641
	no_warnings exclude_quiet
else
	fail exclude_only "pasta did not start: $(head -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi

# --- RANGE,auto
if restart -t 8600-8610,auto -u none -T none -U none; then
	line_server nsa0 in_ns "TCP4-LISTEN:8605" ns-8605
	line_server nsa1 in_ns "TCP4-LISTEN:8620" ns-8620
	wait_for 5 tcp_listening in_ns 8620 || true
	expect_line auto_range_in in_host 127.0.0.1 8605 ns-8605
	sleep 3
	if tcp_listening in_host 8620; then
		fail auto_range_out "8620 forwarded: $(in_host ss -Hltn 'sport = :8620' | tr '\n' ' ')"
	else
		pass auto_range_out
	fi
else
	fail auto_range "pasta did not start: $(head -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi

# --- ADDR/auto
if restart -t 127.0.0.1/auto -u none -T none -U none; then
	line_server nsb in_ns "TCP-LISTEN:8630" ns-8630
	wait_for 5 tcp_listening in_ns 8630 || true
	expect_line auto_addr_lo in_host 127.0.0.1 8630 ns-8630
	l=$(in_host ss -Hltn 'sport = :8630' | awk '{ print $4 }' | sort | tr '\n' ' ')
	if [ "$l" = "127.0.0.1:8630 " ]; then
		pass auto_addr_only
	else
		fail auto_addr_only "listening: '$l'"
	fi
	expect_refused auto_addr_not_remote in_remote $HOST4 8630
else
	fail auto_addr "pasta did not start: $(head -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi

# --- -o: source address of outbound sockets
if restart -o $OUT4 -t none -u none -T none -U none; then
	tcp_expect outbound_tcp_source "^$OUT4\$" \
		tcp_tool in_ns line $REMOTE_LO4 $P_PEER hi
	# one datagram each, up to three: a lost one isn't what's checked
	tcp_expect outbound_udp_source "^$OUT4\$" \
		in_ns timeout 8 sh -c 'for i in 1 2 3; do
			out=$(echo hi | socat -T 2 - "UDP4:$1:$2")
			[ -n "$out" ] && { echo "$out"; exit 0; }
		done' sh "$REMOTE_LO4" "$P_PEER"
else
	fail outbound "pasta did not start: $(head -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi

# --- --outbound-if4
if restart --outbound-if4 eth0 -t none -u none -T none -U none; then
	tcp_expect outbound_if_eth0 "^$HOST4\$" \
		tcp_tool in_ns line $REMOTE_LO4 $P_PEER hi
else
	fail outbound_if "pasta did not start: $(head -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi
# -o with an address the host doesn't have: the guest's connection is
# refused (reset) at once, pasta goes on
if restart -o 198.51.100.99 -t none -u none -T none -U none; then
	expect_refused outbound_unbindable_refused in_ns $REMOTE_LO4 $P_PEER
	check outbound_unbindable_alive kill -0 "$PASTA_PID"
else
	fail outbound_unbindable "pasta did not start: $(head -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi

# --- --freebind: an address the host gets later
if restart --freebind -t $LATE4/8660 -u none -T none -U none; then
	line_server nsf in_ns "TCP4-LISTEN:8660" ns-8660
	wait_for 5 tcp_listening in_ns 8660 || true
	in_host ip addr add $LATE4/24 dev eth0
	expect_line freebind_late_address in_remote $LATE4 8660 ns-8660
else
	fail freebind "pasta did not start: $(head -3 "$TMP/pasta.log" | tr '\n' ' ')"
fi

pasta_stop
