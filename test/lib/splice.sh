# SPDX-License-Identifier: AGPL-3.0-or-later
# shellcheck shell=bash
#
# test/lib/splice.sh - Helpers of the pasta local bypass and automatic
# forwarding cases (80_pasta_splice, 81_pasta_auto_fwd, 82_pasta_attach),
# sourced after common.sh (and tcp.sh, for tcp_tool and tcp_expect)
#
#  ns "host": loopback servers and clients, pasta under test
#     |  loopback to loopback: pasta's bypass (splice(2) for TCP,
#     |  recvmmsg(2)/sendmmsg(2) for UDP), not the tap device
#  pasta namespace: loopback servers and clients
#
# The UDP checks need a client that can tell a lost datagram (UDP may drop,
# even on loopback, when a socket buffer is full) from a damaged or
# misdirected one: splice_tool.py, written to $TMP by splice_tool_install,
# sends sequence-numbered datagrams whose content is derived from the
# sequence number, keeps a bounded window of them in flight, resends what
# was not echoed within a short time (a bounded number of times), and checks
# every echo byte for byte. Every wait in it is bounded.

SPLICE_PY=${SPLICE_PY:-/usr/bin/python3}
[ -x "$SPLICE_PY" ] || SPLICE_PY=python3

# splice_tool_install: write $TMP/splice_tool.py (see its usage line)
splice_tool_install() {
	cat > "$TMP/splice_tool.py" <<'EOF'
# SPDX-License-Identifier: AGPL-3.0-or-later
"""splice_tool.py - UDP checks for the pasta bypass test cases.

Usage: splice_tool.py udp-echo ADDR PORT
       splice_tool.py udp-bulk HOST PORT COUNT SIZE
       splice_tool.py udp-stream HOST PORT COUNT SIZE
       splice_tool.py udp-sink ADDR PORT COUNT SIZE SECONDS

udp-echo:   echo server, every datagram back to its sender, one socket
udp-bulk:   COUNT datagrams of SIZE bytes (8-byte sequence number, then
            bytes derived from it), at most WINDOW in flight; a datagram
            not echoed within RESEND_S is sent again, at most RETRIES
            times. Prints "echoed=E/COUNT corrupt=C unknown=U resent=R
            seconds=S" and exits 0 if every datagram came back intact.
udp-stream: COUNT datagrams, one way, no echo (paced to the sink).
udp-sink:   receives up to COUNT datagrams for at most SECONDS (or until
            one second of silence after the first), checks each one, and
            prints "received=N/COUNT corrupt=C duplicate=D".
"""
import hashlib
import socket
import sys
import time

WINDOW = 64
RESEND_S = 0.3
RETRIES = 8
DEADLINE_S = 90


def payload(seq, size):
    """Content of datagram SEQ: the sequence number, then a keyed pattern"""
    head = seq.to_bytes(8, 'big')
    pat = hashlib.sha256(head).digest()
    body = (pat * (size // len(pat) + 1))[:max(size - 8, 0)]
    return (head + body)[:size]


def sock(addr):
    """UDP socket of the family of ADDR, big buffers"""
    s = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET,
                      socket.SOCK_DGRAM)
    for o in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        try:
            s.setsockopt(socket.SOL_SOCKET, o, 4 << 20)
        except OSError:
            pass
    return s


def udp_echo(addr, port):
    """Echo every datagram to its sender"""
    s = sock(addr)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    while True:
        data, peer = s.recvfrom(65536)
        try:
            s.sendto(data, peer)
        except OSError:
            pass


def udp_bulk(host, port, count, size):
    """Pipelined echo of COUNT sequence-numbered datagrams, with resends"""
    count, size = int(count), int(size)
    s = sock(host)
    s.connect((host, int(port)))
    s.settimeout(0.05)
    t0 = time.monotonic()
    inflight = {}		# seq -> (last send time, sends)
    done = set()
    nxt = corrupt = unknown = resent = 0
    failed = False
    while len(done) < count and time.monotonic() - t0 < DEADLINE_S:
        now = time.monotonic()
        while nxt < count and len(inflight) < WINDOW:
            try:
                s.send(payload(nxt, size))
            except OSError:
                pass
            inflight[nxt] = (now, 1)
            nxt += 1
        for seq, (ts, n) in list(inflight.items()):
            if now - ts > RESEND_S:
                if n > RETRIES:
                    failed = True
                    break
                try:
                    s.send(payload(seq, size))
                except OSError:
                    pass
                inflight[seq] = (now, n + 1)
                resent += 1
        if failed:
            break
        try:
            while True:
                data = s.recv(65536)
                seq = int.from_bytes(data[:8], 'big') if len(data) >= 8 else -1
                if seq < 0 or seq >= nxt:
                    unknown += 1
                elif data != payload(seq, size):
                    corrupt += 1
                elif seq in inflight:
                    del inflight[seq]
                    done.add(seq)
                s.settimeout(0)
        except (socket.timeout, BlockingIOError):
            pass
        except ConnectionRefusedError:
            time.sleep(0.05)
        s.settimeout(0.05)
    print('echoed=%d/%d corrupt=%d unknown=%d resent=%d seconds=%.2f' %
          (len(done), count, corrupt, unknown, resent,
           time.monotonic() - t0))
    sys.exit(0 if len(done) == count and not corrupt and not unknown else 1)


def udp_stream(host, port, count, size):
    """COUNT datagrams one way, paced a little so that a sink can follow"""
    count, size = int(count), int(size)
    s = sock(host)
    s.connect((host, int(port)))
    for seq in range(count):
        try:
            s.send(payload(seq, size))
        except OSError:
            time.sleep(0.001)
        if seq % 32 == 31:
            time.sleep(0.0005)
    print('sent=%d' % count)


def udp_sink(addr, port, count, size, seconds):
    """Receive and check the datagrams of udp-stream"""
    count, size = int(count), int(size)
    s = sock(addr)
    s.bind((addr, int(port)))
    s.settimeout(1)
    end = time.monotonic() + float(seconds)
    seen = set()
    corrupt = dup = 0
    started = False
    while len(seen) < count and time.monotonic() < end:
        try:
            data = s.recv(65536)
        except socket.timeout:
            if started:
                break
            continue
        started = True
        seq = int.from_bytes(data[:8], 'big') if len(data) >= 8 else -1
        if seq < 0 or seq >= count or data != payload(seq, size):
            corrupt += 1
        elif seq in seen:
            dup += 1
        else:
            seen.add(seq)
    print('received=%d/%d corrupt=%d duplicate=%d' %
          (len(seen), count, corrupt, dup))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    f = {'udp-echo': udp_echo, 'udp-bulk': udp_bulk,
         'udp-stream': udp_stream, 'udp-sink': udp_sink}[cmd]
    f(*args)


if __name__ == '__main__':
    main()
EOF
}

# splice_tool WRAPPER ARGS...: run the Python tool where WRAPPER runs, bounded
splice_tool() {
	local w=$1; shift
	"$w" timeout 120 "$SPLICE_PY" "$TMP/splice_tool.py" "$@"
}

# udp_bound WRAPPER PORT: something is bound to UDP PORT where WRAPPER runs
udp_bound() {
	"$1" ss -Huan "sport = :$2" 2>/dev/null | grep -q .
}

# tcp_port_free WRAPPER PORT: nothing listens on TCP PORT where WRAPPER runs
tcp_port_free() {
	! tcp_listening "$@"
}

# ns_dev_bytes WRAPPER DEV: rx + tx bytes of DEV where WRAPPER runs (ip -s:
# netlink answers for the namespace we are in, /sys for the one it was
# mounted in)
ns_dev_bytes() {
	"$1" ip -s link show dev "$2" 2>/dev/null | awk '
		/RX:|TX:/ { getline; s += $1 } END { print s + 0 }'
}

# fd_pipes PID: number of pipe file descriptors of PID
fd_pipes() {
	find "/proc/$1/fd" -mindepth 1 -lname 'pipe:*' 2>/dev/null | wc -l
}

# elapsed_ms T0: milliseconds since T0 (date +%s%N)
elapsed_ms() {
	echo $(( ($(date +%s%N) - $1) / 1000000 ))
}

# wait_ms MS CMD...: poll CMD every 50 ms until it succeeds or MS pass;
# prints the milliseconds it took (or "timeout"), returns CMD's last status
wait_ms() {
	local ms=$1 t0; shift
	t0=$(date +%s%N)
	while :; do
		if "$@" >/dev/null 2>&1; then
			elapsed_ms "$t0"
			return 0
		fi
		if [ "$(elapsed_ms "$t0")" -ge "$ms" ]; then
			echo timeout
			return 1
		fi
		sleep 0.05
	done
}

# answers WRAPPER ADDR PORT EXPECTED: a connection to ADDR:PORT where WRAPPER
# runs gets the line EXPECTED
answers() {
	[ "$(tcp_tool "$1" line "$2" "$3" hi 2>/dev/null)" = "$4" ]
}

# refused WRAPPER ADDR PORT: the connection is refused
refused() {
	tcp_tool "$1" refused "$2" "$3" 2>/dev/null | grep -q '^refused '
}

# line_server NAME WRAPPER LISTEN-ADDRESS TEXT: socat answering TEXT
line_server() {
	bg "$1" "$2" socat "$3,reuseaddr,fork" "SYSTEM:read l; echo $4"
}
