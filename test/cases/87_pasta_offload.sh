#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/87_pasta_offload.sh - Offloads on pasta's tap: TCP and UDP
# super-segments both ways, partial checksums, at any MTU
#
#  ns "remote" 198.51.100.1, 2001:db8::1, lo 203.0.113.1, 2001:db8:1::1
#   busybox httpd :8000 (the 64 MiB file), socat upload sinks :8101 and up,
#   udp_count.py :8020 (counts UDP datagrams and their sizes), udp_burst.py
#     |  veth
#  ns "host": pasta --config-net -m MTU [--no-tap-offload] -d -l LOG
#     |  tap (virtio-net header with offloads, or plain)
#  pasta namespace: curl, socat, a UDP_SEGMENT sender (python3), ethtool,
#   udp_count.py on :8030 (-u 8030)
#
# 1. For MTU 1500, 9000 and 65520, offloads on and off: 64 MiB down (curl)
#    and up (socat), IPv4, and at MTU 1500 also IPv6, sha256 compared; with
#    offloads on at MTU 1500 the counters pasta logs at exit show
#    super-segments both ways, with --no-tap-offload none.
# 2. UDP at MTU 1500: the namespace sends with UDP_SEGMENT (10
#    super-datagrams of 8 x 1000 bytes): the remote gets the 80 datagrams of
#    1000 bytes, intact, with offloads (pasta splits the USO frames) and
#    without; the remote sends a burst of 80 datagrams to a -u port: the
#    namespace gets them all, intact (with USO, pasta merges datagrams read
#    in one batch into super-datagrams, the kernel cuts them again).
# 3. The namespace turns offloads off on its side (ethtool -K eth0 tx off
#    tso off gso off sg off): transfers still complete, nothing comes in as
#    a super-segment.
# 4. --pcap with offloads at MTU 1500: the capture holds super-frames (IP
#    length above the MTU), TCP both families and UDP both ways, and every
#    TCP and UDP checksum in it is correct.
# 5. Malformed virtio-net headers (gso_size 0 or absurd, hdr_len or
#    csum_start/csum_offset beyond the frame, unknown gso_type, GSO on a
#    non-TCP/UDP packet, GSO type not matching the packet) are dropped and
#    counted: test/unit/tap_test feeds them through tap_frames_handle(), the
#    path frames read from the tap take (a namespace can't write a header
#    of its choice: the kernel builds it), and test/fuzz fuzzes the header.

set -eu
TCP_BIG_MB=64
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/tcp.sh"

start=$(date +%s)
topo_setup
# the link to the remote is never the bottleneck, nor the MTU under test
in_remote ip link set eth0 mtu 65520
in_host ip link set eth0 mtu 65520
tcp_files
bg httpd in_remote busybox httpd -f -p "$TCP_P_HTTP" -h "$TMP/www"
wait_for 5 tcp_listening in_remote "$TCP_P_HTTP" || true

cat > "$TMP/udp_count.py" <<'EOF'
# udp_count.py ADDR PORT SECS: count datagrams for SECS seconds (until 0.5 s
# of silence after the first), print "n=COUNT distinct=D bad=B sizes=S,..."
# where D counts distinct datagrams made of one repeated byte, B the others
import socket, sys, time
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(0.5)
end, n, bad, sizes, seen = time.time() + float(sys.argv[3]), 0, 0, set(), set()
print("ready", flush=True)
while time.time() < end:
    try:
        d = s.recv(65535)
    except socket.timeout:
        if n:
            break
        continue
    n += 1
    sizes.add(len(d))
    if d and d.count(d[0]) == len(d):
        seen.add(d[0])
    else:
        bad += 1
print("n=%d distinct=%d bad=%d sizes=%s" % (n, len(seen), bad,
      ",".join(str(x) for x in sorted(sizes))))
EOF
cat > "$TMP/udp_gso_send.py" <<'EOF'
# udp_gso_send.py ADDR PORT: 10 sends of 8 x 1000 bytes with UDP_SEGMENT
# 1000, each datagram one repeated byte, 80 different ones
import socket, sys, time
UDP_SEGMENT = 103
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET,
                  socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, 1000)
for i in range(10):
    s.sendto(b"".join(bytes([i * 8 + j]) * 1000 for j in range(8)),
             (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.01)
EOF
cat > "$TMP/udp_burst.py" <<'EOF'
# udp_burst.py ADDR PORT: 80 datagrams of 1000 bytes back to back (pasta
# reads them in batches: super-datagrams towards the namespace), each one
# repeated byte, 80 different ones
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET,
                  socket.SOCK_DGRAM)
for i in range(80):
    s.sendto(bytes([i]) * 1000, (sys.argv[1], int(sys.argv[2])))
EOF
chmod 644 "$TMP"/*.py

LOGD=$(user_dir logs)

# offload_counters LOG: "in=N out=M" from the counters pasta logs at exit
offload_counters() {
	sed -n 's/.*offloads: \([0-9]*\) super-segments in, \([0-9]*\) out.*/in=\1 out=\2/p' "$1" | tail -1
}

# up_sink PORT: one-shot upload sink in "remote", into $TMP/upPORT.data (socat
# itself is the recorded PID: nothing outlives the case)
up_sink() {
	bg "up$1" in_remote timeout 90 socat -u \
		"TCP6-LISTEN:$1,ipv6only=0,reuseaddr" "CREATE:$TMP/up$1.data"
	wait_for 5 tcp_listening in_remote "$1" || true
}

# up_sha PORT: sha256 of what the sink on PORT received, once it is done
up_sha() {
	local p
	p=$(cat "$TMP/up$1.pid")
	wait_for 20 pid_gone "$p" || kill "$p" 2>/dev/null || true
	sha256sum < "$TMP/up$1.data" | cut -d' ' -f1
	rm -f "$TMP/up$1.data"
}

# transfers TAG FAMILIES: 64 MiB down and up for each family, to a new
# upload port each time (a sink left over by a failed run keeps its own)
UP_PORT=8100
transfers() {
	local tag=$1 fam a
	for fam in $2; do
		UP_PORT=$((UP_PORT + 1))
		if [ $fam = 4 ]; then a=$REMOTE_LO4; else a="[$REMOTE_LO6]"; fi
		tcp_expect "offload_${tag}_down$fam" "^$TCP_SHA_BIG\$" \
			in_ns timeout 60 sh -c "curl -sS --max-time 50 -g 'http://$a:$TCP_P_HTTP/big' | sha256sum | cut -d' ' -f1"
		up_sink "$UP_PORT"
		in_ns timeout 60 socat -u "OPEN:$TMP/www/big,rdonly" \
			"TCP:$a:$UP_PORT" || true
		tcp_expect "offload_${tag}_up$fam" "^$TCP_SHA_BIG\$" \
			up_sha "$UP_PORT"
	done
}

# udp_gso TAG: the UDP_SEGMENT sender in the namespace, and what the remote
# counted; then a burst from the remote to the namespace (-u 8030)
udp_gso() {
	local tag=$1
	rm -f "$TMP/udpc.log" "$TMP/udpn.log"
	bg udpc in_remote timeout 20 python3 "$TMP/udp_count.py" "$REMOTE_LO4" 8020 15
	wait_for 5 grep -q ready "$TMP/udpc.log" || true
	in_ns timeout 10 python3 "$TMP/udp_gso_send.py" "$REMOTE_LO4" 8020 || true
	wait_for 18 grep -q '^n=' "$TMP/udpc.log" || true
	tcp_expect "offload_${tag}_udp_segment_out" \
		'^n=80 distinct=80 bad=0 sizes=1000$' grep '^n=' "$TMP/udpc.log"

	bg udpn in_ns timeout 20 python3 "$TMP/udp_count.py" 0.0.0.0 8030 15
	wait_for 5 grep -q ready "$TMP/udpn.log" || true
	in_remote timeout 10 python3 "$TMP/udp_burst.py" "$HOST4" 8030 || true
	wait_for 18 grep -q '^n=' "$TMP/udpn.log" || true
	tcp_expect "offload_${tag}_udp_burst_in" \
		'^n=80 distinct=80 bad=0 sizes=1000$' grep '^n=' "$TMP/udpn.log"
}

# --- 1. and 2.: each MTU, offloads on and off --------------------------------
for mtu in 1500 9000 65520; do
	for off in on off; do
		opt=
		[ $off = off ] && opt=--no-tap-offload
		log="$LOGD/pasta-$mtu-$off.log"
		# shellcheck disable=SC2086
		if ! pasta_start --config-net -m "$mtu" $opt -d -l "$log" \
			-t none -u 8030 -T none -U none; then
			fail "offload_${mtu}_${off}_start" "pasta did not start"
			continue
		fi
		wait_for 5 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev eth0 scope global | grep -q inet6 && ! nsenter -t $NS_PID -n ip -6 addr show dev eth0 | grep -q tentative" || true
		if [ $mtu = 1500 ]; then fams="4 6"; else fams=4; fi
		transfers "${mtu}_$off" "$fams"
		[ $mtu = 1500 ] && udp_gso "${mtu}_$off"
		pasta_stop
		c=$(offload_counters "$log")
		echo "  MTU $mtu, offloads $off: $c"
		if [ $mtu = 1500 ] && [ $off = on ]; then
			check offload_1500_on_super_segments_used \
				sh -c "echo '$c' | grep -Eq '^in=[1-9][0-9]* out=[1-9][0-9]*$'"
		elif [ $off = off ]; then
			check "offload_${mtu}_off_no_super_segments" \
				sh -c "echo '$c' | grep -q '^in=0 out=0$'"
		fi
	done
done

# --- 3. The namespace turns its offloads off ------------------------------------
log="$LOGD/pasta-ethtool.log"
if pasta_start --config-net -m 1500 -d -l "$log" -t none -u 8030 -T none -U none; then
	if in_ns ethtool -K eth0 tx off tso off gso off sg off >"$TMP/ethtool.out" 2>&1; then
		transfers ns_ethtool_off 4
		udp_gso ns_ethtool_off
		pasta_stop
		c=$(offload_counters "$log")
		echo "  namespace offloads off: $c"
		check offload_ns_ethtool_off_nothing_in \
			sh -c "echo '$c' | grep -Eq '^in=0 '"
	else
		fail offload_ns_ethtool "ethtool -K failed: $(cat "$TMP/ethtool.out")"
		pasta_stop
	fi
else
	fail offload_ns_ethtool_start "pasta did not start"
fi

# --- 4. Captures: super-frames with correct checksums ---------------------------
pcapf="$LOGD/offload.pcap"
if pasta_start --config-net -m 1500 --pcap "$pcapf" -t none -u 8030 -T none -U none; then
	wait_for 5 sh -c "nsenter -t $NS_PID -n ip -6 addr show dev eth0 scope global | grep -q inet6 && ! nsenter -t $NS_PID -n ip -6 addr show dev eth0 | grep -q tentative" || true
	for a in "$REMOTE_LO4" "[$REMOTE_LO6]"; do
		in_ns timeout 30 curl -sS --max-time 20 -g -o /dev/null \
			"http://$a:$TCP_P_HTTP/one" || true
	done
	up_sink 8019
	in_ns timeout 30 socat -u "OPEN:$TMP/www/one,rdonly" \
		"TCP:$REMOTE_LO4:8019" || true
	up_sha 8019 >/dev/null
	udp_gso pcap
	pasta_stop
	# tcpdump checks TCP and UDP checksums over IPv4 and IPv6 with -vv
	tcpdump -nn -vv -r "$pcapf" 2>/dev/null > "$TMP/pcap.txt" || true
	big=$(grep -Ec 'length ([2-9][0-9]{3}|[1-9][0-9]{4})\)' "$TMP/pcap.txt" || true)
	good=$(grep -Ec '(cksum|udp sum) 0x[0-9a-f]* \(correct\)|\[udp sum ok\]' "$TMP/pcap.txt" || true)
	bad=$(grep -Ec 'incorrect|bad udp cksum' "$TMP/pcap.txt" || true)
	v6=$(grep -c '2001:db8:1::1\.8000 > .*(correct)' "$TMP/pcap.txt" || true)
	echo "  capture: $big frames above the MTU, $good correct checksums ($v6 IPv6 TCP), $bad incorrect"
	check offload_pcap_super_frames test "$big" -gt 0
	check offload_pcap_checksums_correct sh -c "[ $bad = 0 ] && [ $good -gt 0 ] && [ $v6 -gt 0 ]"
else
	fail offload_pcap_start "pasta did not start"
fi

# --- 5. Malformed virtio-net headers: dropped and counted -----------------------
make -s -C "$TOP/test/unit" tap_test >/dev/null 2>&1 || true
check offload_malformed_vnet_dropped_counted "$TOP/test/unit/tap_test"

echo "pasta offload case: $(( $(date +%s) - start ))s"
