# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/tcp.sh - Helpers of the TCP cases (60_tcp_pasta, 61_tcp_passt_guest),
# sourced after common.sh.
#
#  ns "remote": busybox httpd, socat servers, tcp_tool.py servers
#     |  veth
#  ns "host": passt / pasta under test, a server on its loopback only
#     |  tap (pasta) or UNIX socket (passt + qemu)
#  pasta namespace / qemu guest: the kernel's own TCP stack, real clients
#
# The judges are real programs (curl, socat, iperf3, busybox nc) and a small
# Python tool, written to $TMP/tcp_tool.py by tcp_tool_install, for what
# they can't tell apart: a reset from an orderly close, a refused connection
# from a timeout, a half-closed socket still reading, many connections at
# once. Every wait in the tool is bounded by a socket timeout or an alarm.

# Port plan, in one place. Remote namespace servers:
TCP_P_HTTP=8000		# busybox httpd: index.html and the big file
TCP_P_UP=8001		# socat sink: upload, sha256 of what arrived
TCP_P_MULTI=8002	# socat fork: 1 MiB per connection
TCP_P_HALF=8003		# socat fork: "wc -c" of the request, then 1 MiB
TCP_P_RST=8004		# tcp_tool.py serve-rst: reads, then RST (SO_LINGER 0)
TCP_P_CLOSED=8005	# nothing listens here, in no namespace
TCP_P_STREAM=8006	# endless stream, for the killed-client checks
TCP_P_IPERF=5201	# iperf3 -s
TCP_P_HOSTLO=7777	# host namespace, 127.0.0.1 only: --no-map-gw check
# Forwarded inbound (-t), servers in the pasta namespace / guest:
TCP_FWD_OPTS="-t 8080 -t 2222:22 -t $HOST4/9100 -t 9000-9005,~9003 -t 8081"
TCP_P_HALF_IN=8081	# same server as TCP_P_HALF, in the namespace/guest

TCP_PY=${TCP_PY:-/usr/bin/python3}
[ -x "$TCP_PY" ] || TCP_PY=python3

# Sizes
TCP_BIG_MB=${TCP_BIG_MB:-256}
TCP_MULTI_N=${TCP_MULTI_N:-200}
TCP_HALF_REQ=100000	# bytes a half-closing client sends before SHUT_WR

# tcp_listening WRAPPER PORT: something listens on TCP PORT where WRAPPER
# (in_remote, in_host, in_ns) runs
tcp_listening() {
	"$1" ss -Htln "sport = :$2" 2>/dev/null | grep -q .
}

# tcp_fd_count PID: number of open file descriptors of PID
tcp_fd_count() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# tcp_files: random payloads in $TMP/www (readable by all): big (TCP_BIG_MB
# MiB), one (1 MiB), and index.html; their sha256 in TCP_SHA_BIG, TCP_SHA_ONE
tcp_files() {
	mkdir -p "$TMP/www"
	head -c "$((TCP_BIG_MB * 1048576))" /dev/urandom > "$TMP/www/big"
	head -c 1048576 /dev/urandom > "$TMP/www/one"
	echo "tcp-test-index" > "$TMP/www/index.html"
	chmod 755 "$TMP/www"
	chmod 644 "$TMP/www"/*
	TCP_SHA_BIG=$(sha256sum < "$TMP/www/big" | cut -d' ' -f1)
	TCP_SHA_ONE=$(sha256sum < "$TMP/www/one" | cut -d' ' -f1)
}

# tcp_remote_servers: start the servers of the remote namespace (port plan
# above); returns 1 if one of them does not listen within 5 s
tcp_remote_servers() {
	local p
	bg httpd in_remote busybox httpd -f -p "$TCP_P_HTTP" -h "$TMP/www"
	bg multi in_remote socat -t 30 \
		"TCP6-LISTEN:$TCP_P_MULTI,ipv6only=0,reuseaddr,fork,backlog=512" \
		"OPEN:$TMP/www/one,rdonly"
	bg half in_remote socat -t 30 \
		"TCP6-LISTEN:$TCP_P_HALF,ipv6only=0,reuseaddr,fork" \
		"SYSTEM:wc -c; cat $TMP/www/one"
	bg rst in_remote timeout 600 "$TCP_PY" "$TMP/tcp_tool.py" serve-rst \
		"$TCP_P_RST"
	bg stream in_remote socat -u \
		"TCP6-LISTEN:$TCP_P_STREAM,ipv6only=0,reuseaddr,fork" /dev/zero
	bg iperf in_remote iperf3 -s -p "$TCP_P_IPERF"
	for p in $TCP_P_HTTP $TCP_P_MULTI $TCP_P_HALF $TCP_P_RST \
		 $TCP_P_STREAM $TCP_P_IPERF; do
		wait_for 5 tcp_listening in_remote "$p" || {
			echo "remote server on port $p did not start"
			return 1
		}
	done
}

# tcp_upload_sink NAME PORT: one-shot sink in the remote namespace on PORT:
# the sha256 of what it receives ends up in $TMP/NAME.sha
tcp_upload_sink() {
	local name=$1 port=$2
	rm -f "$TMP/$name.sha"
	bg "$name" in_remote sh -c "exec socat -u \
		TCP6-LISTEN:$port,ipv6only=0,reuseaddr - | sha256sum | \
		cut -d' ' -f1 > $TMP/$name.sha.tmp && \
		mv $TMP/$name.sha.tmp $TMP/$name.sha"
	wait_for 5 tcp_listening in_remote "$port"
}

# tcp_iperf_rate LOGFILE: receiver bitrate (Mbits/sec) of an iperf3 -f m run
tcp_iperf_rate() {
	tr -d '\r' < "$1" | awk '/receiver/ { for (i = 1; i < NF; i++)
		if ($(i + 1) == "Mbits/sec") r = $i } END { print r + 0 }'
}

# tcp_rate_nonzero RATE: RATE (a decimal number) is above zero
tcp_rate_nonzero() {
	awk -v r="$1" 'BEGIN { exit !(r > 0) }'
}

# tcp_tool_install: write $TMP/tcp_tool.py (see its usage line)
tcp_tool_install() {
	cat > "$TMP/tcp_tool.py" <<'EOF'
# SPDX-License-Identifier: AGPL-3.0-or-later
"""tcp_tool.py - TCP client and server checks for the passt test cases.

Usage: tcp_tool.py halfclose HOST PORT NSEND
       tcp_tool.py rst HOST PORT
       tcp_tool.py refused HOST PORT
       tcp_tool.py multi HOST PORT N [STALL_S [TOTAL_S]]
       tcp_tool.py line HOST PORT [REQUEST]
       tcp_tool.py echo HOST PORT COUNT
       tcp_tool.py abort HOST PORT N
       tcp_tool.py serve-rst PORT

Each client prints one result line and exits 0 if it could judge, the shell
compares the result. Every blocking call is bounded in time.
"""
import hashlib
import selectors
import signal
import socket
import struct
import sys
import time


def conn(host, port, timeout=10):
    """Connected socket to HOST:PORT, either family"""
    return socket.create_connection((host, int(port)), timeout=timeout)


def halfclose(host, port, nsend):
    """Send NSEND bytes, SHUT_WR, read the whole answer: 'N\\n' + payload"""
    s = conn(host, port)
    s.settimeout(30)
    s.sendall(b'q' * int(nsend))
    s.shutdown(socket.SHUT_WR)
    data = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    nl = data.find(b'\n')
    count = data[:nl].strip().decode() if nl >= 0 else '?'
    rest = bytes(data[nl + 1:]) if nl >= 0 else b''
    print('count=%s len=%d sha=%s' %
          (count, len(rest), hashlib.sha256(rest).hexdigest()))


def rst(host, port):
    """Send a request, read: expect ECONNRESET rather than a clean EOF"""
    t0 = time.monotonic()
    s = conn(host, port)
    s.settimeout(10)
    try:
        s.sendall(b'hello\n')
        while True:
            b = s.recv(65536)
            if not b:
                print('eof %.2fs' % (time.monotonic() - t0))
                return
    except ConnectionResetError:
        print('reset %.2fs' % (time.monotonic() - t0))
    except socket.timeout:
        print('timeout %.2fs' % (time.monotonic() - t0))
    except OSError as e:
        print('error %s %.2fs' % (e.strerror, time.monotonic() - t0))


def refused(host, port):
    """Connect to a port without server: how, and how fast, it fails"""
    t0 = time.monotonic()
    try:
        s = conn(host, port, timeout=10)
    except ConnectionRefusedError:
        print('refused %.2fs' % (time.monotonic() - t0))
        return
    except ConnectionResetError:
        # Accepted on the way (a forwarded port) and reset so fast that
        # connect() itself reports it: the same outcome as connected-reset
        print('connected-reset %.2fs' % (time.monotonic() - t0))
        return
    except socket.timeout:
        print('timeout %.2fs' % (time.monotonic() - t0))
        return
    except OSError as e:
        print('error %s %.2fs' % (e.strerror, time.monotonic() - t0))
        return
    # The connection was accepted on the way (a forwarded port): what
    # happens next tells whether the far end refused it
    try:
        s.settimeout(10)
        s.sendall(b'hello\n')
        b = s.recv(65536)
        what = 'connected-eof' if not b else 'connected-data'
    except ConnectionResetError:
        what = 'connected-reset'
    except ConnectionRefusedError:
        what = 'connected-refused'
    except socket.timeout:
        what = 'connected-timeout'
    except OSError as e:
        what = 'connected-error-' + str(e.errno)
    print('%s %.2fs' % (what, time.monotonic() - t0))


def line(host, port, req=None):
    """First line the server sends, after sending REQ if given"""
    s = conn(host, port, timeout=5)
    s.settimeout(5)
    if req:
        s.sendall(req.encode() + b'\n')
    data = b''
    while b'\n' not in data:
        b = s.recv(4096)
        if not b:
            break
        data += b
    print(data.split(b'\n')[0].decode(errors='replace'))


def multi(host, port, n, stall_s=None, total_s=120):
    """N concurrent connections, each read to EOF: how many of each sha.
    Gives up after TOTAL_S seconds, or STALL_S without a byte on any."""
    n, total_s = int(n), float(total_s)
    stall_s = float(stall_s) if stall_s else total_s
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
        s.setblocking(False)
        s.connect_ex((host, int(port)))
        st = {'h': hashlib.sha256(), 'len': 0, 'err': None}
        sel.register(s, selectors.EVENT_READ, st)
        socks.append(st)
    pending = n
    t0 = last = time.monotonic()
    while pending:
        now = time.monotonic()
        if now - last > stall_s or now - t0 > total_s:
            break
        for key, _ in sel.select(timeout=1):
            s, st = key.fileobj, key.data
            try:
                b = s.recv(262144)
            except BlockingIOError:
                continue
            except OSError as e:
                b = b''
                st['err'] = e.strerror
            last = time.monotonic()
            if b:
                st['h'].update(b)
                st['len'] += len(b)
                continue
            sel.unregister(s)
            s.close()
            pending -= 1
    res = {}
    for st in socks:
        k = 'err:%s' % st['err'] if st['err'] else \
            '%s:%d' % (st['h'].hexdigest(), st['len'])
        res[k] = res.get(k, 0) + 1
    print('unfinished=%d' % pending)
    for k, v in sorted(res.items()):
        print('%d %s' % (v, k))


def echo(host, port, count):
    """COUNT messages of 1 to 1400 bytes, each echoed back before the next
    is sent: a request-response exchange, small reads on every hop"""
    count = int(count)
    s = socket.create_connection((host, int(port)), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0, done = time.monotonic(), 0
    try:
        for i in range(count):
            msg = hashlib.sha256(i.to_bytes(4, 'big')).digest() * 44
            msg = msg[:1 + (i * 37) % 1400]
            s.sendall(msg)
            got = b''
            while len(got) < len(msg):
                b = s.recv(len(msg) - len(got))
                if not b:
                    raise OSError('EOF')
                got += b
            if got != msg:
                break
            done += 1
    except OSError:
        pass
    print('echoed=%d/%d seconds=%.2f' % (done, count, time.monotonic() - t0))


def abort(host, port, n):
    """N concurrent connections, each reset by us (SO_LINGER 0) after
    reading a different amount (0 to 1 MiB): the relay in between must drop
    its pair, with whatever it still holds, and leak nothing"""
    n = int(n)
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
        s.settimeout(10)
        try:
            s.connect((host, int(port)))
        except OSError:
            s.close()
            continue
        socks.append((s, (i * 7919) % 1048577))
    reset = 0
    for s, want in socks:
        got = 0
        try:
            while got < want:
                b = s.recv(min(262144, want - got))
                if not b:
                    break
                got += len(b)
        except OSError:
            pass
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack('ii', 1, 0))
        s.close()
        reset += 1
    print('reset=%d/%d' % (reset, n))


def serve_rst(port):
    """Accept connections, read a little, close with a RST (SO_LINGER 0)"""
    ls = socket.socket(socket.AF_INET6)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('::', int(port)))
    ls.listen(16)
    while True:
        s, _ = ls.accept()
        s.settimeout(5)
        try:
            s.recv(100)
        except OSError:
            pass
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack('ii', 1, 0))
        s.close()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if not cmd.startswith('serve'):
        signal.alarm(150)
    f = {'halfclose': halfclose, 'rst': rst, 'refused': refused,
         'multi': multi, 'line': line, 'echo': echo, 'abort': abort,
         'serve-rst': serve_rst}[cmd]
    f(*args)


if __name__ == '__main__':
    main()
EOF
}

# tcp_expect NAME REGEX CMD...: pass NAME if CMD succeeds and its output
# matches the extended regular expression REGEX (whole output, one line
# after another joined by spaces), fail with what it printed otherwise
tcp_expect() {
	local name=$1 re=$2 out; shift 2
	out=$("$@" 2>&1 | tr '\n' ' ' | sed 's/ *$//') || true
	echo "  $name: $out"
	if echo "$out" | grep -qE -- "$re"; then
		pass "$name"
	else
		fail "$name" "expected /$re/, got: $(echo "$out" | cut -c1-200)"
	fi
}

# tcp_ns_servers WRAPPER: the inbound servers behind the forwarded ports,
# where WRAPPER runs (in_ns): each reads a request line and answers
# "ns-PORT"; 8081 is the half-close server; 9003 listens but is excluded
# from forwarding; 9001 sends a banner and closes at once, without reading
tcp_ns_servers() {
	local w=$1 p
	for p in 8080 22 9100 9002 9003; do
		bg "nssrv$p" "$w" socat "TCP6-LISTEN:$p,ipv6only=0,reuseaddr,fork" \
			"SYSTEM:read l; echo ns-$p"
	done
	bg nssrv9001 "$w" socat "TCP6-LISTEN:9001,ipv6only=0,reuseaddr,fork" \
		"SYSTEM:echo ns-9001"
	bg nshalf "$w" socat -t 30 \
		"TCP6-LISTEN:$TCP_P_HALF_IN,ipv6only=0,reuseaddr,fork" \
		"SYSTEM:wc -c; cat $TMP/www/one"
	for p in 8080 22 9100 9001 9002 9003 $TCP_P_HALF_IN; do
		wait_for 5 tcp_listening "$w" "$p" || {
			echo "namespace server on port $p did not start"
			return 1
		}
	done
}

# tcp_tool WRAPPER ARGS...: run the Python tool where WRAPPER runs, bounded
tcp_tool() {
	local w=$1; shift
	"$w" timeout 160 "$TCP_PY" "$TMP/tcp_tool.py" "$@"
}

# tcp_fast RESULT: the time in a tool result ("refused 0.01s") is under 2 s
tcp_fast() {
	echo "$1" | grep -qE ' [01]\.[0-9]+s$'
}

# tcp_inbound PREFIX ADDR: inbound checks from the remote namespace (to
# ADDR, the host's address) and from the host namespace's loopback, to the
# servers of tcp_ns_servers behind $TCP_FWD_OPTS
tcp_inbound() {
	local pre=$1 a=$2
	tcp_expect "${pre}_in_8080_remote" '^ns-8080$' tcp_tool in_remote line "$a" 8080 hi
	tcp_expect "${pre}_in_8080_hostlo" '^ns-8080$' tcp_tool in_host line 127.0.0.1 8080 hi
	tcp_expect "${pre}_in_2222_to_22_remote" '^ns-22$' tcp_tool in_remote line "$a" 2222 hi
	tcp_expect "${pre}_in_2222_to_22_hostlo" '^ns-22$' tcp_tool in_host line 127.0.0.1 2222 hi
	tcp_expect "${pre}_in_addr_9100_remote" '^ns-9100$' tcp_tool in_remote line "$a" 9100 hi
	tcp_expect "${pre}_in_addr_9100_host" '^ns-9100$' tcp_tool in_host line "$a" 9100 hi
	# bound to $a only: nothing listens on the loopback
	tcp_expect "${pre}_in_addr_9100_not_lo" '^refused ' tcp_tool in_host refused 127.0.0.1 9100
	tcp_expect "${pre}_in_range_9002_remote" '^ns-9002$' tcp_tool in_remote line "$a" 9002 hi
	tcp_expect "${pre}_in_range_9002_hostlo" '^ns-9002$' tcp_tool in_host line 127.0.0.1 9002 hi
	# a server that talks first and closes at once (banner, inetd style)
	tcp_expect "${pre}_in_banner_close_remote" '^ns-9001$' tcp_tool in_remote line "$a" 9001
	tcp_expect "${pre}_in_banner_close_hostlo" '^ns-9001$' tcp_tool in_host line 127.0.0.1 9001
	tcp_expect "${pre}_in_excluded_9003_remote" '^refused ' tcp_tool in_remote refused "$a" 9003
	tcp_expect "${pre}_in_excluded_9003_hostlo" '^refused ' tcp_tool in_host refused 127.0.0.1 9003
	tcp_expect "${pre}_in_halfclose_remote" "^count=$TCP_HALF_REQ len=1048576 sha=$TCP_SHA_ONE\$" \
		tcp_tool in_remote halfclose "$a" "$TCP_P_HALF_IN" "$TCP_HALF_REQ"
	tcp_expect "${pre}_in_halfclose_hostlo" "^count=$TCP_HALF_REQ len=1048576 sha=$TCP_SHA_ONE\$" \
		tcp_tool in_host halfclose 127.0.0.1 "$TCP_P_HALF_IN" "$TCP_HALF_REQ"
	# Forwarded port, no server behind it: the host side accepts before
	# the namespace/guest can refuse, so the client can only see the
	# refusal as a reset right after connecting (or, if the forwarder
	# checked first, a refused connect), within 2 s either way
	tcp_expect "${pre}_in_noserver_9004_remote" '^(refused|connected-reset) [01]\.[0-9]+s$' \
		tcp_tool in_remote refused "$a" 9004
}

# tcp_since T0: seconds elapsed since T0 (date +%s%N), with two decimals
tcp_since() {
	awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'
}
