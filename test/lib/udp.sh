# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/udp.sh - Shared pieces of the UDP, ICMP echo and DNS forwarding
# cases, sourced after common.sh (and guest.sh, for the guest parts)
#
#  ns "remote" ($NS_REMOTE)
#   lo 203.0.113.1, 2001:db8:1::1:
#     dns_server.py      port 53     A/AAAA for $DNS_NAME, log $TMP/dns.log
#     socat UDP echo     port $UDP_ECHO_PORT (v4 and v6), one child/datagram
#   (port $UDP_CLOSED_PORT is closed on purpose: ICMP port unreachable)
#
# The clients run on the other side of pasta (pasta namespace) or passt
# (qemu guest): python3 in the namespace (udp_client.py, written to $TMP by
# udp_client_write), socat and busybox in the guest (udp_guest_lib). Every
# client is bounded by a timeout, and every server is started with bg(), so
# that cleanup() kills exactly those.

UDP_ECHO_PORT=${UDP_ECHO_PORT:-7777}
UDP_CLOSED_PORT=${UDP_CLOSED_PORT:-9}
UDP_FWD_PORT4=${UDP_FWD_PORT4:-10001}	# forwarded inbound (-u), IPv4 server
UDP_FWD_PORT6=${UDP_FWD_PORT6:-10003}	# forwarded inbound (-u), IPv6 server
UDP_SIZES=${UDP_SIZES:-"1 1472 9000 65000"}
DNS_NAME=www.example.org		# as in dns_server.py's ZONE
DNS_A=192.0.2.80
DNS_AAAA=2001:db8:2::80
DNS_FWD_NAME=fwd.example.org		# only looked up through --dns-forward
DNS_FWD_A=192.0.2.81
DNS_FWD_AAAA=2001:db8:2::81
DNS_FWD4=192.0.2.53			# --dns-forward addresses: nothing there
DNS_FWD6=2001:db8:53::53
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 python3 | head -1)}

# udp_echo_server NAME WRAPPER ADDR PORT: socat echo server (a pipe sends
# every datagram back to its sender) bound to ADDR:PORT, started with bg in
# WRAPPER (in_remote, in_ns). -b: datagrams up to 65535 bytes in one read
udp_echo_server() {
	local name=$1 wrap=$2 addr=$3 port=$4
	case "$addr" in
	*:*) bg "$name" "$wrap" socat -b 65536 \
		"UDP6-RECVFROM:$port,bind=[$addr],ipv6only=1,reuseaddr,fork" PIPE ;;
	*) bg "$name" "$wrap" socat -b 65536 \
		"UDP4-RECVFROM:$port,bind=$addr,reuseaddr,fork" PIPE ;;
	esac
}

# udp_remote_servers: echo servers and the DNS responder in the remote ns;
# waits (bounded) until all of them are bound
udp_remote_servers() {
	udp_echo_server echo4 in_remote $REMOTE_LO4 $UDP_ECHO_PORT
	udp_echo_server echo6 in_remote $REMOTE_LO6 $UDP_ECHO_PORT
	# on the gateway addresses too (what a ping/DNS target also is)
	udp_echo_server echo4gw in_remote $REMOTE4 $UDP_ECHO_PORT
	udp_echo_server echo6gw in_remote $REMOTE6 $UDP_ECHO_PORT
	bg dns in_remote "$PYTHON" "$TOP/test/lib/dns_server.py" -t 900 \
		-l "$TMP/dns.log" $REMOTE_LO4 $REMOTE_LO6
	wait_for 10 sh -c "ip netns exec $NS_REMOTE ss -uln | grep -q '$REMOTE_LO4:53 ' && \
		ip netns exec $NS_REMOTE ss -uln | grep -q '$REMOTE_LO6\]:53 ' && \
		[ \$(ip netns exec $NS_REMOTE ss -uln | grep -c ':$UDP_ECHO_PORT ') -ge 4 ]"
}

# udp_client_write: write $TMP/udp_client.py, the namespace-side client:
#   udp_client.py echo ADDR PORT SIZE [SRC]
#                                         random SIZE bytes, reply identical
#   udp_client.py refused ADDR PORT       ECONNREFUSED seen within 5 s
#   udp_client.py burst ADDR PORT0 COUNT  one datagram to each of COUNT
#                                         ports from PORT0, within 20 s
udp_client_write() {
	cat > "$TMP/udp_client.py" <<'EOF'
import os, socket, sys, time

def sock(addr):
	fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
	return socket.socket(fam, socket.SOCK_DGRAM)

mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == 'echo':
	size = int(sys.argv[4])
	data = os.urandom(size)
	s = sock(addr)
	if len(sys.argv) > 5:		# source address
		s.bind((sys.argv[5], 0))
	s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
	s.settimeout(1)
	for attempt in range(3):	# UDP: allow two losses, not three
		s.sendto(data, (addr, port))
		try:
			while True:
				got, peer = s.recvfrom(70000)
				if got == data:
					print('echo %d bytes ok from %s' % (size, peer[0]))
					sys.exit(0)
				print('echo mismatch: sent %d bytes, got %d' % (size, len(got)))
				sys.exit(1)
		except socket.timeout:
			continue
	print('echo %d bytes: no reply' % size)
	sys.exit(1)
elif mode == 'refused':
	s = sock(addr)
	s.settimeout(5)
	s.connect((addr, port))
	end = time.monotonic() + 5
	try:
		while time.monotonic() < end:
			s.send(b'anybody there?')
			try:
				s.recv(100)
				print('unexpected reply')
				sys.exit(1)
			except socket.timeout:
				continue
	except ConnectionRefusedError as e:
		print('ECONNREFUSED: %s' % e)
		sys.exit(0)
	print('no ECONNREFUSED within 5 s')
	sys.exit(1)
elif mode == 'burst':
	count = int(sys.argv[4])
	s = sock(addr)
	s.setblocking(False)
	end = time.monotonic() + 20
	sent = errs = 0
	for p in range(port, port + count):
		if time.monotonic() > end:
			break
		try:
			s.sendto(b'x', (addr, p))
			sent += 1
		except OSError:
			errs += 1
	print('burst: %d sent, %d errors' % (sent, errs))
	sys.exit(0 if sent == count else 1)
EOF
}

# udp_client WRAPPER ARGS...: run udp_client.py in WRAPPER, bounded
udp_client() {
	local wrap=$1; shift
	$wrap timeout 30 "$PYTHON" "$TMP/udp_client.py" "$@"
}

# ping_seq_ok FILE COUNT: FILE (output of iputils or busybox ping) shows a
# reply for every sequence number of COUNT requests, none twice, no DUP!
ping_seq_ok() {
	local file=$1 count=$2 seqs first
	if grep -q 'DUP!' "$file"; then
		echo "duplicate replies"; return 1
	fi
	seqs=$(grep -oE '(icmp_)?seq=[0-9]+' "$file" | sed 's/.*=//' | sort -n)
	# iputils counts from 1, busybox from 0
	first=$(echo "$seqs" | head -1)
	case "$first" in
	0|1) ;;
	*) echo "no replies"; return 1 ;;
	esac
	if [ "$(echo $seqs)" != "$(echo $(seq "$first" $((first + count - 1))))" ]; then
		echo "sequence numbers: $(echo $seqs | head -c 300)"
		return 1
	fi
	return 0
}

# icmp_ids FILE: "request|reply ID SEQ DEST" lines of the echo messages in
# the tcpdump capture FILE, sorted; DEST is the request's destination (the
# reply's source)
icmp_ids() {
	tcpdump -nr "$1" 2>/dev/null | sed -nE \
		-e 's/.* IP6? ([^ ]+) > ([^ ]+): ICMP6?,? echo (request|reply), id ([0-9]+), seq ([0-9]+).*/\3 \4 \5 \1 \2/p' | \
		while read -r kind id sq src dst; do
			if [ "$kind" = request ]; then
				echo "request $id $sq $dst"
			else
				echo "reply $id $sq $src"
			fi
		done | sort -u
}

# icmp_ids_summary NSCAP REMOTECAP: counts of echo messages, for the log
icmp_ids_summary() {
	echo "ICMP echo messages (kind, destination) in the namespace/guest:"
	icmp_ids "$1" | awk '{ print $1, $4 }' | sort | uniq -c
	echo "and in the remote:"
	icmp_ids "$2" | awk '{ print $1, $4 }' | sort | uniq -c
}

# icmp_ids_ok NSCAP REMOTECAP: the echo requests the namespace sent reached
# the remote with the same identifiers and sequence numbers, and every one
# got a reply with them in the namespace
icmp_ids_ok() {
	local ns remote
	ns=$(icmp_ids "$1")
	remote=$(icmp_ids "$2")
	echo "namespace side:"; echo "$ns" | head -20
	echo "remote side:"; echo "$remote" | head -20
	[ -n "$ns" ] || return 1
	[ "$(echo "$ns" | grep '^request')" = "$(echo "$remote" | grep '^request')" ] || return 1
	[ "$(echo "$ns" | grep '^request' | cut -d' ' -f2-)" = \
	  "$(echo "$ns" | grep '^reply' | cut -d' ' -f2-)" ]
}

# nslookup_ok FILE ADDR: busybox nslookup output FILE has ADDR as an answer
# (after the "Name:" line: the server's own address is listed first)
nslookup_ok() {
	sed -n '/^Name:/,$p' "$1" | grep -qE "^Address( [0-9]+)?:[[:space:]]*$2\$"
}

# udp_guest_lib: shell functions for a guest's /test.sh, printed to stdout.
# Each check prints one "UDPTEST NAME PASS|FAIL DETAIL" line on the
# console; udp_guest_results turns those into pass/fail lines on the host.
udp_guest_lib() {
	cat <<'EOF'
# result NAME RC DETAIL...: the line the host side parses
result() {
	local n=$1 rc=$2; shift 2
	if [ "$rc" = 0 ]; then echo "UDPTEST $n PASS $*"; else echo "UDPTEST $n FAIL $*"; fi
}

# ping_seq_ok FILE COUNT: replies for busybox seq 0..COUNT-1, once each
ping_seq_ok() {
	grep -q 'DUP!' "$1" && return 1
	[ "$(grep -oE 'seq=[0-9]+' "$1" | sed 's/seq=//' | sort -n | tr '\n' ' ')" = \
	  "$(seq 0 $(($2 - 1)) | tr '\n' ' ')" ]
}

# udp_echo NAME ADDR PORT SIZE: random SIZE bytes through socat, reply
# identical; -t 2: wait that long for the reply after sending
udp_echo() {
	local n=$1 a=$2 p=$3 sz=$4 fam=UDP4 dst
	case "$a" in *:*) fam=UDP6; dst="[$a]" ;; *) dst=$a ;; esac
	head -c "$sz" /dev/urandom > /tmp/out.$sz
	rm -f /tmp/in.$sz
	timeout 10 socat -b 65536 -t 2 -T 5 - "$fam:$dst:$p" < /tmp/out.$sz > /tmp/in.$sz 2>/tmp/err.$sz
	if cmp -s /tmp/out.$sz /tmp/in.$sz; then
		result "$n" 0 "$sz bytes"
	else
		result "$n" 1 "sent $sz bytes, got $(wc -c < /tmp/in.$sz) back $(head -c 200 /tmp/err.$sz)"
	fi
}

# udp_refused NAME ADDR PORT: socat's read on the connected UDP socket
# fails with ECONNREFUSED after the ICMP port unreachable
udp_refused() {
	local n=$1 a=$2 p=$3 fam=UDP4 dst
	case "$a" in *:*) fam=UDP6; dst="[$a]" ;; *) dst=$a ;; esac
	echo probe | timeout 10 socat -t 3 - "$fam:$dst:$p" > /dev/null 2>/tmp/refused.err
	if grep -q 'Connection refused' /tmp/refused.err; then
		result "$n" 0 "ECONNREFUSED"
	else
		result "$n" 1 "no ECONNREFUSED: $(head -c 200 /tmp/refused.err)"
	fi
}

# dns_lookup NAME TYPE QNAME SERVER EXPECTED: busybox nslookup answer
dns_lookup() {
	local n=$1 t=$2 q=$3 srv=$4 exp=$5
	timeout 15 nslookup -type=$t "$q" "$srv" > /tmp/ns.out 2>&1
	if sed -n '/^Name:/,$p' /tmp/ns.out | grep -qE "^Address( [0-9]+)?:[[:space:]]*$exp\$"; then
		result "$n" 0 "$exp"
	else
		result "$n" 1 "$(tr '\n' ' ' < /tmp/ns.out | head -c 300)"
	fi
}
EOF
}

# udp_guest_results CONSOLE NAME...: pass/fail line for each NAME from the
# guest's UDPTEST lines; a missing line is a failure
udp_guest_results() {
	local con=$1 n line; shift
	for n in "$@"; do
		line=$(tr -d '\r' < "$con" | grep -E "^UDPTEST $n (PASS|FAIL)" | tail -1)
		case "$line" in
		"UDPTEST $n PASS"*) pass "$n" ;;
		"UDPTEST $n FAIL"*) fail "$n" "${line#UDPTEST $n FAIL }" ;;
		*) fail "$n" "no result from the guest" ;;
		esac
	done
}
