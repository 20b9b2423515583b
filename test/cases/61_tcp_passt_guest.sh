#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/61_tcp_passt_guest.sh - TCP translation over the tap path,
# passt with a qemu guest
#
#  ns "remote" 198.51.100.1, 2001:db8::1, lo 203.0.113.1
#   httpd :8000 (200 concurrent busybox wget of /one, 1 MiB, from the
#   guest: 200 socat processes would not fit in its RAM), socat :8003
#   (half-close) :8006
#   (endless) :8014 (upload sink), tcp_tool serve-rst :8004, iperf3 :5201,
#   :7001 "go" (opened once the host's inbound checks are done)
#     |  veth
#  ns "host" 198.51.100.2, 2001:db8::2
#   passt -s SOCK --no-map-gw -t 8080 -t 2222:22 -t 198.51.100.2/9100
#         -t 9000-9005,~9003 -t 8081 -u none
#     |  UNIX stream socket
#  qemu guest (TCG): busybox, curl, socat, iperf3; servers on 8080 22 9100
#   9002 9003 (read a line, answer "ns-PORT"), 9001 (banner, then close),
#   8081 (half-close)
#
# One passt, one guest boot for everything (TCG is slow). The guest's
# /test.sh configures itself (DHCP, SLAAC), starts its servers and prints
# GUEST-SERVERS-UP; the host runs the inbound checks from the remote and
# from its loopback, then opens :7001 in the remote namespace: the guest
# polls it (bounded) and only then runs its outbound checks, one after the
# other, printing a "T NAME RESULT..." line each, which the host judges.
# Last, the guest starts an endless download and prints "T kill-start":
# the host kills qemu with SIGKILL in the middle of it, and passt must come
# back to the number of file descriptors it had before the guest booted.
#
# --no-map-gw: the remote's veth addresses are also the gateway addresses,
# which passt would otherwise map to the host's loopback (60_tcp_pasta
# checks that mapping); here the guest reaches the remote at 198.51.100.1
# and 2001:db8::1 as well as at 203.0.113.1.
#
# Sizes, measured under TCG on a 2-core machine: the guest downloads 256 MiB
# in about 9 s, uploads them in 24 s with Debian's passt (61 s with ours at
# the time of writing; 126 to 200 s in later runs, under investigation: the
# upload's bound is 300 s), 200 x 1 MiB take 8-16 s: the full 256 MiB stays.
# Target runtime: under 6 minutes (about 2.5 minutes when all is well).

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/guest.sh"
. "$TOP/test/lib/tcp.sh"

guest_require tcp_passt_guest || exit 0

# The guest can't hold the big file (256 MiB of RAM): it streams it through
# sha256sum, downloading, and uploads /dev/urandom through tee into
# sha256sum. GUEST_BIG_MB: see the measurement in the header.
GUEST_BIG_MB=${GUEST_BIG_MB:-256}
TCP_BIG_MB=$GUEST_BIG_MB
start=$(date +%s)

topo_setup
tcp_tool_install
tcp_files
if ! tcp_remote_servers || ! tcp_upload_sink up4 8014; then
	fail tcp_passt_servers "servers in the remote namespace did not start"
	exit 0
fi

D=$(user_dir dir)
SOCK=$D/passt.sock
# shellcheck disable=SC2086
bg passt host_user "$PASST" -f -s "$SOCK" -P "$D/passt.pid" --no-map-gw \
	$TCP_FWD_OPTS -u none
if ! wait_for 10 test -S "$SOCK" || ! wait_for 5 test -s "$D/passt.pid"; then
	fail tcp_passt_start "passt did not start: $(tail -3 "$TMP/passt.log" | tr '\n' ' ')"
	exit 0
fi
PASST_PID=$(cat "$D/passt.pid")
sleep 0.5
fd0=$(tcp_fd_count "$PASST_PID")

cat > "$TMP/guest.sh" <<EOF
# T NAME RESULT: one result line for the host to judge
t() { echo "T \$*"; }
# now: hundredths of seconds since boot
now() { awk '{ printf "%d", \$1 * 100 }' /proc/uptime; }
since() { echo "\$(( (\$(now) - \$1) / 100 )).\$(( (\$(now) - \$1) % 100 / 10 ))s"; }

$(guest_net_up)
ip -br addr

head -c 1048576 /dev/urandom > /tmp/one
t one_sha \$(sha256sum < /tmp/one | cut -d' ' -f1)
for p in 8080 22 9100 9002 9003; do
	socat TCP6-LISTEN:\$p,ipv6only=0,reuseaddr,fork SYSTEM:"read l; echo ns-\$p" &
done
socat TCP6-LISTEN:9001,ipv6only=0,reuseaddr,fork SYSTEM:"echo ns-9001" &
socat -t 30 TCP6-LISTEN:$TCP_P_HALF_IN,ipv6only=0,reuseaddr,fork \
	SYSTEM:"wc -c; cat /tmp/one" &
n=0
while [ \$n -lt 50 ]; do
	[ \$(netstat -ltn | grep -cE ':(8080|22|9100|9001|9002|9003|$TCP_P_HALF_IN) ') -ge 7 ] && break
	sleep 0.2
	n=\$((n + 1))
done
echo GUEST-SERVERS-UP

# Wait (bounded) for the host to finish its inbound checks
n=0
while [ \$n -lt 240 ]; do
	[ "\$(timeout 5 socat -u TCP:$REMOTE4:7001,connect-timeout=2 - 2>/dev/null)" = go ] && break
	sleep 0.5
	n=\$((n + 1))
done
echo GUEST-GO

for a in $REMOTE4 $REMOTE_LO4 [$REMOTE6]; do
	t curl_\$a "\$(curl -sS -g --max-time 20 http://\$a:$TCP_P_HTTP/index.html 2>&1)"
done

t0=\$(now)
s=\$(curl -sS --max-time 200 http://$REMOTE4:$TCP_P_HTTP/big | sha256sum | cut -d' ' -f1)
t download4 \$s \$(since \$t0)

rm -f /tmp/up.fifo
mkfifo /tmp/up.fifo
sha256sum < /tmp/up.fifo | cut -d' ' -f1 > /tmp/up.sha &
sp=\$!
t0=\$(now)
head -c $((GUEST_BIG_MB * 1048576)) /dev/urandom | tee /tmp/up.fifo | \
	timeout 300 socat -u - TCP:$REMOTE4:8014
wait \$sp
t upload4 \$(cat /tmp/up.sha) \$(since \$t0)

t0=\$(now)
pids=
i=0
while [ \$i -lt $TCP_MULTI_N ]; do
	timeout 200 wget -q -O - http://$REMOTE4:$TCP_P_HTTP/one | sha256sum > /tmp/m.\$i &
	pids="\$pids \$!"
	i=\$((i + 1))
done
wait \$pids
cat /tmp/m.* | sort | uniq -c | while read c s x; do t multi \$c \$s; done
t multi_time \$(since \$t0)

head -c $TCP_HALF_REQ /dev/zero | timeout 60 socat -t 30 - TCP:$REMOTE4:$TCP_P_HALF > /tmp/hc
l=\$(head -n 1 /tmp/hc)
t halfclose count=\$(echo \$l) sha=\$(tail -c +\$((\${#l} + 2)) /tmp/hc | sha256sum | cut -d' ' -f1) len=\$(tail -c +\$((\${#l} + 2)) /tmp/hc | wc -c)

# curl tells a reset (56, "Connection reset by peer") from an orderly close
# (52, "Empty reply"); socat names the connect() error (curl says "Couldn't
# connect" for refused and unreachable alike)
t rst "\$(curl -sS --max-time 10 http://$REMOTE4:$TCP_P_RST/ 2>&1 | tail -1)"
t0=\$(now)
r=\$(timeout 20 socat -u TCP:$REMOTE4:$TCP_P_CLOSED,connect-timeout=10 - 2>&1 </dev/null | tail -1)
t refused \$(since \$t0) \$r

for a in $REMOTE4 $REMOTE6; do
	for r in "" -R; do
		timeout 30 iperf3 -c \$a -p $TCP_P_IPERF -t 3 -f m \$r > /tmp/ip 2>&1
		rc=\$?
		t iperf3_\$a\$r rc=\$rc \$(awk '/receiver/ { for (i = 1; i < NF; i++) if (\$(i + 1) == "Mbits/sec") r = \$i } END { print r + 0 }' /tmp/ip)
		[ \$rc = 0 ] || cat /tmp/ip
	done
done

t kill-start
timeout 300 socat -u TCP:$REMOTE4:$TCP_P_STREAM /dev/null
t kill-not-killed
EOF

guest_start guest "$SOCK" "$TMP/guest.sh"
if ! guest_wait guest '^GUEST-SERVERS-UP' 150; then
	fail tcp_passt_guest_boot "the guest did not start its servers"
	guest_console guest
	exit 0
fi
echo "guest up after $(( $(date +%s) - start ))s"
pass tcp_passt_guest_boot

# gt NAME: the rest of the guest's "T NAME ..." line
gt() {
	tr -d '\r' < "$TMP/guest.console" | sed -n "s/^T $1 //p" | head -1
}
# the remote's 1 MiB file, then the guest's own (its half-close server)
TCP_SHA_ONE_REMOTE=$TCP_SHA_ONE
TCP_SHA_ONE=$(gt one_sha)

# --- Inbound, every form of -t, while the guest waits
tcp_inbound tcp_passt "$HOST4"

# --- Outbound, run by the guest
bg go in_remote socat "TCP6-LISTEN:7001,ipv6only=0,reuseaddr,fork" "SYSTEM:echo go"
if ! guest_wait guest '^T kill-start' 480; then
	fail tcp_passt_guest_run "the guest did not finish its checks"
fi
echo "guest checks done after $(( $(date +%s) - start ))s"

# The guest computed the IPv4/IPv6 labels itself: [2001:db8::1] in brackets
tcp_expect tcp_passt_curl4 '^tcp-test-index$' gt "curl_$REMOTE4"
tcp_expect tcp_passt_curl4_remote_lo '^tcp-test-index$' gt "curl_$REMOTE_LO4"
tcp_expect tcp_passt_curl6 '^tcp-test-index$' gt "curl_\\[$REMOTE6\\]"
tcp_expect "tcp_passt_download4_${GUEST_BIG_MB}M" "^$TCP_SHA_BIG " gt download4
guest_up=$(gt upload4 | cut -d' ' -f1)
tcp_expect "tcp_passt_upload4_${GUEST_BIG_MB}M" "^${guest_up:-none}\$" cat "$TMP/up4.sha"
echo "  (upload, time in the guest: $(gt upload4 | cut -d' ' -f2))"
tcp_expect tcp_passt_concurrent_${TCP_MULTI_N}x1M "^$TCP_MULTI_N $TCP_SHA_ONE_REMOTE\$" gt multi
echo "  (concurrent: $(gt multi_time))"
tcp_expect tcp_passt_halfclose "^count=$TCP_HALF_REQ sha=$TCP_SHA_ONE_REMOTE len=1048576\$" gt halfclose
tcp_expect tcp_passt_rst '[Cc]onnection reset by peer' gt rst
tcp_expect tcp_passt_refused '^[01]\.[0-9]s .*[Cc]onnection refused' gt refused
for a in $REMOTE4 $REMOTE6; do
	for r in "" -R; do
		n=tcp_passt_iperf3_ipv$(case $a in *:*) echo 6 ;; *) echo 4 ;; esac)${r:+_reverse}
		tcp_expect "$n" '^rc=0 [0-9.]*[1-9][0-9.]*$' gt "iperf3_$a$r"
	done
done

# --- The guest dies mid-transfer: nothing left behind in passt
QEMU_PID=$(cat "$TMP/guest.pid")
sleep 2
fd1=$(tcp_fd_count "$PASST_PID")
kill -9 "$QEMU_PID" 2>/dev/null || true
t0=$(date +%s)
back() { [ "$(tcp_fd_count "$PASST_PID")" -le "$fd0" ]; }
if wait_for 150 back; then
	echo "  passt fds: $fd0 before the guest, $fd1 during the transfer, $(tcp_fd_count "$PASST_PID") $(( $(date +%s) - t0 ))s after qemu was killed"
	pass tcp_passt_killed_guest_no_leak
else
	fail tcp_passt_killed_guest_no_leak "passt has $(tcp_fd_count "$PASST_PID") fds 150 s after qemu was killed, $fd0 before the guest"
	ls -l "/proc/$PASST_PID/fd" || true
	in_host ss -tanp | grep "pid=$PASST_PID," | grep -v LISTEN || true
fi
if kill -0 "$PASST_PID" 2>/dev/null; then
	pass tcp_passt_survives_guest_kill
else
	fail tcp_passt_survives_guest_kill "passt exited"
fi

echo "--- guest console (results):"
tr -d '\r' < "$TMP/guest.console" | grep -E '^(T |GUEST)' || true
echo "tcp passt guest case: $(( $(date +%s) - start ))s"
