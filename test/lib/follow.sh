# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/follow.sh - Helpers of the "follow the host" cases
# (74_follow_pasta, 75_follow_passt_guest), sourced after common.sh and
# udp.sh: a resolv.conf the test may rewrite, daemons started so that they
# read it, the changes made to the "host" namespace, and the checks made
# after each change, every one bounded in time.
#
#  ns "remote" ($NS_REMOTE)                 ns "host" ($NS_HOST)
#   lo 203.0.113.1 .2 .3                      eth0 198.51.100.2/24, 2001:db8::2/64
#      2001:db8:1::1 ::2 ::3                  eth1 (down, no address until the
#      dns_server.py on all six                    "interface down, another
#      TCP :$FOLLOW_P_LINE "tcp-ok"                 one up" step)
#      TCP :$FOLLOW_P_ECHO echo
#      UDP :$UDP_ECHO_PORT echo               passt/pasta in a private mount
#   eth0 198.51.100.1/24 and .254               namespace where /etc is
#        2001:db8::1/64 and ::fe                $FOLLOW_ETC: resolv.conf there
#        2001:db8:5::1/64 (renumbering)         is the test's to rewrite
#   eth1 192.0.2.1/24, 2001:db8:3::1/64  <-- veth --> host eth1
#
# Why a private mount namespace: "ip netns exec" bind-mounts the file
# /etc/netns/NAME/resolv.conf over /etc/resolv.conf. A bind-mounted file
# can't be replaced by rename (EBUSY), and inotify reports changes to it on
# the directory it really lives in, not on /etc. So the daemon runs with a
# directory of ours bind-mounted over the whole of /etc (with a copy of
# ld.so.cache, passwd, group, nsswitch.conf, hosts: all the daemon, setpriv
# and sleep may look for there): writes and renames in $FOLLOW_ETC are
# what the daemon's inotify watch on "/etc" sees, as they're the same
# directory. The machine's /etc is never touched.
#
# Log lines relied on (follow.c, with -d): every change at info level, one
# line containing "->" after "Following host"; every reconfiguration, at
# debug level, "$FOLLOW_RECONF_RE".

FOLLOW_P_LINE=8100	# remote: "tcp-ok" to anybody who connects
FOLLOW_P_ECHO=8101	# remote: TCP echo, for the streams across a change
FOLLOW_DEADLINE=${FOLLOW_DEADLINE:-5}	# seconds, pasta: acceptance text
FOLLOW_RECONF_RE=${FOLLOW_RECONF_RE:-'Following host: reconfiguring'}
FOLLOW_CHANGE_RE=${FOLLOW_CHANGE_RE:-'Following host.*->'}
FOLLOW_ETC=$TMP/etc

# Resolvers of the remote: the first is the one of the topology, the others
# are what resolv.conf is changed to
FOLLOW_NS4=(203.0.113.1 203.0.113.2 203.0.113.3)
FOLLOW_NS6=(2001:db8:1::1 2001:db8:1::2 2001:db8:1::3)

# Second link of the "host", for the interface change
FOLLOW_L2_HOST4=192.0.2.2
FOLLOW_L2_GW4=192.0.2.1
FOLLOW_L2_HOST6=2001:db8:3::2
FOLLOW_L2_GW6=2001:db8:3::1

declare -A FP_PID=() FP_NS=()

# follow_now_ms: monotonic enough wall clock, milliseconds
follow_now_ms() { date +%s%3N; }

# follow_etc_setup [DIR]: DIR (default $FOLLOW_ETC) readable by the test
# user, with the files looked up in /etc at start, and resolv.conf of the
# topology (first resolvers, search list)
follow_etc_setup() {
	local d=${1:-$FOLLOW_ETC} f
	mkdir -p "$d"
	chmod 755 "$d"
	for f in ld.so.cache passwd group nsswitch.conf hosts; do
		[ -e "/etc/$f" ] && cp -L "/etc/$f" "$d/$f"
	done
	follow_resolv_inplace "$d/resolv.conf" 0
}

# follow_resolv_text N: resolv.conf naming the Nth remote resolvers
follow_resolv_text() {
	printf 'nameserver %s\nnameserver %s\nsearch %s\n' \
		"${FOLLOW_NS4[$1]}" "${FOLLOW_NS6[$1]}" "$SEARCH"
}

# follow_resolv_inplace FILE N: rewrite FILE in place (same inode, as an
# editor saving with truncate and write does)
follow_resolv_inplace() {
	follow_resolv_text "$2" > "$1"
	chmod 644 "$1"
}

# follow_resolv_rename FILE N: write a new file next to FILE and rename it
# over FILE (what resolvconf, NetworkManager and systemd-resolved do)
follow_resolv_rename() {
	follow_resolv_text "$2" > "$1.new"
	chmod 644 "$1.new"
	mv -f "$1.new" "$1"
}

# host_user_etc DIR CMD...: like host_user, with DIR over /etc in a mount
# namespace of its own (see the header). Execs all the way down, as the
# wrappers of common.sh do, so that bg() records the PID of CMD itself.
# FOLLOW_NETNS: another network namespace than "host" to run in
host_user_etc() {
	local d=$1; shift
	$_BG_EXEC ip netns exec "${FOLLOW_NETNS:-$NS_HOST}" unshare -m -- sh -c \
		'mount --bind "$1" /etc || exit 1; shift; exec "$@"' sh "$d" \
		setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --clear-groups \
		--inh-caps=-all -- "$@"
}

# follow_pasta_start NAME [--etc DIR] [--bin PATH] ARGS...: start pasta (or
# the binary PATH) as the test user, /etc being DIR (default $FOLLOW_ETC),
# spawning a long sleep in its namespace. Sets FP_PID[NAME], FP_NS[NAME];
# log in $TMP/pasta_NAME.log. Returns 1 (after printing the log) if it does
# not come up within 10 s.
follow_pasta_start() {
	local name=$1 etc=$FOLLOW_ETC bin=$PASTA pid ns t=100
	shift
	while :; do
		case "${1:-}" in
		--etc) etc=$2; shift 2 ;;
		--bin) bin=$2; shift 2 ;;
		*) break ;;
		esac
	done
	bg "pasta_$name" host_user_etc "$etc" "$bin" -f "$@" -- sleep 600
	pid=$(cat "$TMP/pasta_$name.pid")
	while [ $t -gt 0 ]; do
		ns=$(pgrep -P "$pid" -x sleep 2>/dev/null | head -1) || true
		if [ -n "$ns" ] && [ -e "/proc/$ns/ns/net" ] && \
		   [ "$(readlink "/proc/$ns/ns/net")" != "$(readlink "/proc/$pid/ns/net")" ]; then
			echo "$ns" > "$TMP/nschild_$name.pid"
			FP_PID[$name]=$pid
			FP_NS[$name]=$ns
			return 0
		fi
		pid_gone "$pid" && break
		sleep 0.1
		t=$((t - 1))
	done
	echo "pasta $name did not come up; its log:"
	cat "$TMP/pasta_$name.log"
	return 1
}

# follow_pasta_stop NAME: stop that instance (SIGTERM, SIGKILL after 5 s)
# and the child it spawned
follow_pasta_stop() {
	local pid=${FP_PID[$1]:-} ns=${FP_NS[$1]:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || true
	wait_for 5 pid_gone "$pid" || kill -9 "$pid" 2>/dev/null || true
	wait_for 2 pid_gone "$pid" || true
	wait "$pid" 2>/dev/null || true
	[ -n "$ns" ] && kill -9 "$ns" 2>/dev/null || true
	rm -f "$TMP/pasta_$1.pid" "$TMP/nschild_$1.pid"
	FP_PID[$1]=
	FP_NS[$1]=
}

# fns NAME CMD...: run CMD as root in the network namespace of instance NAME
fns() {
	local n=$1; shift
	$_BG_EXEC nsenter -t "${FP_NS[$n]}" -n -- "$@"
}

# follow_remote_setup: addresses the changes move to, on the remote side,
# its second link towards the host (host side down, no address), and the
# servers: UDP echo and DNS (udp_remote_servers), DNS on the other resolver
# addresses too, the TCP line and echo servers. Returns 1 if a server
# doesn't come up within 10 s.
follow_remote_setup() {
	local i
	for i in 1 2; do
		in_remote ip addr add "${FOLLOW_NS4[$i]}/32" dev lo
		in_remote ip addr add "${FOLLOW_NS6[$i]}/128" dev lo nodad
	done
	in_remote ip addr add 198.51.100.254/24 dev eth0
	in_remote ip addr add 2001:db8::fe/64 dev eth0 nodad
	in_remote ip addr add 2001:db8:5::1/64 dev eth0 nodad

	ip link add "wr$$" type veth peer name "wh$$"
	ip link set "wr$$" netns "$NS_REMOTE" name eth1
	ip link set "wh$$" netns "$NS_HOST" name eth1
	in_remote ip link set eth1 up
	in_remote ip addr add "$FOLLOW_L2_GW4/24" dev eth1
	in_remote ip addr add "$FOLLOW_L2_GW6/64" dev eth1 nodad

	touch "$TMP/dns.log"
	udp_remote_servers || return 1
	bg dns_more in_remote "$PYTHON" "$TOP/test/lib/dns_server.py" -t 900 \
		-l "$TMP/dns.log" "${FOLLOW_NS4[1]}" "${FOLLOW_NS4[2]}" \
		"${FOLLOW_NS6[1]}" "${FOLLOW_NS6[2]}"
	bg line in_remote socat \
		"TCP6-LISTEN:$FOLLOW_P_LINE,ipv6only=0,reuseaddr,fork" \
		"SYSTEM:echo tcp-ok"
	bg echo_tcp in_remote socat \
		"TCP6-LISTEN:$FOLLOW_P_ECHO,ipv6only=0,reuseaddr,fork" PIPE
	wait_for 10 sh -c "ip netns exec $NS_REMOTE ss -Hltn | grep -q ':$FOLLOW_P_LINE ' && \
		ip netns exec $NS_REMOTE ss -Hltn | grep -q ':$FOLLOW_P_ECHO ' && \
		ip netns exec $NS_REMOTE ss -Huln | grep -q '${FOLLOW_NS4[2]}:53 '"
}

# --- Checks ---------------------------------------------------------------

# follow_state NAME: addresses and routes of instance NAME, for the log
follow_state() {
	echo "  [$1] $(fns "$1" ip -o addr show scope global | awk '{ print $2, $4 }' | tr '\n' ' ')"
	echo "  [$1] $(fns "$1" ip -4 route show default | tr '\n' ' ') $(fns "$1" ip -6 route show default | tr '\n' ' ')"
}

# follow_has_addr NAME ADDR/PLEN: instance NAME has ADDR/PLEN, not tentative
follow_has_addr() {
	local fam=-4
	case "$2" in *:*) fam=-6 ;; esac
	fns "$1" ip -o $fam addr show | grep -v tentative | \
		grep -q " inet6\? $2 "
}

# follow_no_addr NAME ADDR: instance NAME doesn't have ADDR (any length)
follow_no_addr() {
	! fns "$1" ip -o addr show | grep -q " inet6\? $2/"
}

# follow_has_gw NAME GW: the default route of instance NAME is via GW
follow_has_gw() {
	local fam=-4
	case "$2" in *:*) fam=-6 ;; esac
	fns "$1" ip $fam route show default | grep -q "^default via $2 "
}

# follow_wait_state CHECKNAME SECONDS PRED ARGS [-- PRED ARGS]...: poll until
# every PRED holds, bounded; pass/fail CHECKNAME, with the time it took.
# Returns 1 if they didn't hold in time (call it in a condition, or with
# "|| true", under set -e)
follow_wait_state() {
	local name=$1 secs=$2 t0 ok p
	shift 2
	t0=$(follow_now_ms)
	local end=$((t0 + secs * 1000))
	while :; do
		ok=1
		local preds=("$@")
		while [ ${#preds[@]} -gt 0 ]; do
			p=()
			while [ ${#preds[@]} -gt 0 ] && [ "${preds[0]}" != -- ]; do
				p+=("${preds[0]}"); preds=("${preds[@]:1}")
			done
			[ ${#preds[@]} -gt 0 ] && preds=("${preds[@]:1}")
			"${p[@]}" >/dev/null 2>&1 || { ok=0; FOLLOW_FAILED_PRED="${p[*]}"; break; }
		done
		[ $ok = 1 ] && break
		[ "$(follow_now_ms)" -ge $end ] && break
		sleep 0.1
	done
	if [ $ok = 1 ]; then
		pass "$name ($(( $(follow_now_ms) - t0 )) ms)"
		return 0
	fi
	fail "$name" "not within $secs s: $FOLLOW_FAILED_PRED"
	return 1
}

# follow_tcp INSTANCE ADDR: from the namespace of INSTANCE, the remote's
# line server at ADDR answers "tcp-ok"
follow_tcp() {
	local d
	case "$2" in *:*) d="TCP6:[$2]" ;; *) d="TCP4:$2" ;; esac
	[ "$(fns "$1" timeout 3 socat -T 2 - "$d:$FOLLOW_P_LINE,connect-timeout=2" \
		</dev/null 2>&1)" = tcp-ok ]
}

# follow_udp INSTANCE ADDR: 100 bytes echoed by the remote's server at ADDR
follow_udp() {
	fns "$1" timeout 5 "$PYTHON" "$TMP/udp_client.py" echo "$2" \
		"$UDP_ECHO_PORT" 100
}

# follow_ping INSTANCE ADDR: one echo reply from ADDR
follow_ping() {
	fns "$1" ping -c 1 -W 1 "$2"
}

# follow_dns INSTANCE SERVER RESOLVER: an A query for $DNS_FWD_NAME sent to
# SERVER (a --dns-forward address) is answered, and it reached RESOLVER
# (dns_server.py logs the address it got each query on)
follow_dns() {
	local n out
	n=$(wc -l < "$TMP/dns.log" 2>/dev/null || echo 0)
	out=$(fns "$1" timeout 5 busybox nslookup -type=a "$DNS_FWD_NAME" "$2" 2>&1) || true
	echo "$out" > "$TMP/nslookup.out"
	if ! nslookup_ok "$TMP/nslookup.out" "$DNS_FWD_A"; then
		echo "no answer: $(tr '\n' ' ' < "$TMP/nslookup.out" | head -c 150)"
		return 1
	fi
	sleep 0.1
	if ! tail -n +$((n + 1)) "$TMP/dns.log" | \
	     grep -q "^QUERY $3 .* $DNS_FWD_NAME A\$"; then
		echo "answered by another resolver: $(tail -n +$((n + 1)) "$TMP/dns.log" | grep " $DNS_FWD_NAME A" | cut -d' ' -f2 | sort -u | tr '\n' ' ')"
		return 1
	fi
}

# follow_reach CHECKNAME DEADLINE_MS FUNC INSTANCE ARGS...: FUNC INSTANCE
# ARGS succeeds at least once before DEADLINE_MS (see follow_now_ms); at
# least one attempt is made, each one bounded by FUNC itself. Always
# returns 0 (cases run with set -e): the result is the PASS/FAIL line
follow_reach() {
	local name=$1 end=$2 t0 n=0
	shift 2
	t0=$(follow_now_ms)
	while :; do
		n=$((n + 1))
		if "$@" >"$TMP/reach.out" 2>&1; then
			pass "$name"
			return 0
		fi
		[ "$(follow_now_ms)" -ge "$end" ] && break
		sleep 0.2
	done
	fail "$name" "$n attempts in $(( $(follow_now_ms) - t0 )) ms: $(tail -2 "$TMP/reach.out" | tr '\n' ' ' | head -c 200)"
	return 0
}

# follow_reach_all PREFIX DEADLINE_MS INSTANCE FAMILIES [DNS4 DNS6]: TCP,
# UDP, ping to the remote's loopback addresses for each of FAMILIES ("4",
# "6", "46"); DNS through the --dns-forward addresses, reaching the remote
# resolvers DNS4 / DNS6 if those are given
follow_reach_all() {
	local pfx=$1 end=$2 inst=$3 fams=$4 dns4=${5:-} dns6=${6:-}
	case "$fams" in *4*)
		follow_reach "${pfx}_tcp4" "$end" follow_tcp "$inst" "$REMOTE_LO4"
		follow_reach "${pfx}_udp4" "$end" follow_udp "$inst" "$REMOTE_LO4"
		follow_reach "${pfx}_ping4" "$end" follow_ping "$inst" "$REMOTE_LO4"
		[ -z "$dns4" ] || follow_reach "${pfx}_dns4" "$end" follow_dns "$inst" "$DNS_FWD4" "$dns4"
	esac
	case "$fams" in *6*)
		follow_reach "${pfx}_tcp6" "$end" follow_tcp "$inst" "$REMOTE_LO6"
		follow_reach "${pfx}_udp6" "$end" follow_udp "$inst" "$REMOTE_LO6"
		follow_reach "${pfx}_ping6" "$end" follow_ping "$inst" "$REMOTE_LO6"
		[ -z "$dns6" ] || follow_reach "${pfx}_dns6" "$end" follow_dns "$inst" "$DNS_FWD6" "$dns6"
	esac
	return 0
}

# follow_dhcp_probe INSTANCE: ask the DHCP server of INSTANCE (pasta serves
# one on its tap too) for a lease, without applying it: prints
# "ip=A router=R lease=L dns=D" (bounded, 15 s)
follow_dhcp_probe() {
	if [ ! -x "$TMP/dhcp_probe.sh" ]; then
		cat > "$TMP/dhcp_probe.sh" <<'S'
#!/bin/sh
[ "$1" = bound ] && echo "ip=$ip router=$router lease=$lease dns=$(echo $dns | tr ' ' ',')"
exit 0
S
		chmod 755 "$TMP/dhcp_probe.sh"
	fi
	fns "$1" timeout 15 busybox udhcpc -f -q -n -t 3 -T 2 -i eth0 \
		-s "$TMP/dhcp_probe.sh" 2>/dev/null | grep '^ip='
}

# --- Streams across a change ---------------------------------------------

# follow_stream_write: $TMP/follow_stream.py (see its docstring)
follow_stream_write() {
	cat > "$TMP/follow_stream.py" <<'EOF'
"""follow_stream.py ADDR PORT STOPFILE [MAXSECONDS [SOURCE]]

Connect to an echo server at ADDR:PORT and stream random bytes to it at
about 256 KiB/s, reading the echo back at the same time, until STOPFILE
exists (or MAXSECONDS, default 120, passed). Then half-close, read the rest
of the echo (10 s at most) and compare: prints one line, "stream ok N
bytes" (exit 0), or what went wrong (exit 1). Every wait is bounded.
SOURCE: the local address to connect from.
"""
import hashlib, os, select, socket, sys, time

addr, port, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
maxs = float(sys.argv[4]) if len(sys.argv) > 4 else 120
src = (sys.argv[5], 0) if len(sys.argv) > 5 else None
t0 = time.monotonic()
sent_h, got_h = hashlib.sha256(), hashlib.sha256()
sent = got = 0
try:
    s = socket.create_connection((addr, port), timeout=5,
                                 source_address=src)
    s.setblocking(False)
    print('stream connected from %s' % s.getsockname()[0], flush=True)
    chunk_t = time.monotonic()
    closing = None
    while True:
        now = time.monotonic()
        if closing is None and (os.path.exists(stop) or now - t0 > maxs):
            s.shutdown(socket.SHUT_WR)
            closing = now
        if closing is not None and now - closing > 10:
            print('stream: echo incomplete 10 s after the end: sent %d, got %d'
                  % (sent, got))
            sys.exit(1)
        want_w = closing is None and now >= chunk_t
        r, w, _ = select.select([s], [s] if want_w else [], [], 0.05)
        if w:
            b = os.urandom(16384)
            n = s.send(b)
            sent_h.update(b[:n])
            sent += n
            chunk_t = now + 0.0625
        if r:
            b = s.recv(65536)
            if not b:
                break
            got_h.update(b)
            got += len(b)
    if got == sent and got_h.digest() == sent_h.digest():
        print('stream ok %d bytes in %.1f s' % (sent, time.monotonic() - t0))
        sys.exit(0)
    print('stream corrupted: sent %d bytes, echoed %d, sha256 %s'
          % (sent, got, 'same' if got_h.digest() == sent_h.digest()
             else 'differs'))
except OSError as e:
    print('stream error after %.1f s, sent %d, got %d: %s: %s'
          % (time.monotonic() - t0, sent, got, type(e).__name__, e))
sys.exit(1)
EOF
}

# follow_stream_start NAME INSTANCE ADDR [SOURCE]: start a stream from the
# namespace of INSTANCE (from SOURCE, if given) to the remote's echo server
# at ADDR, in the background
follow_stream_start() {
	local name=$1 inst=$2 addr=$3 src=${4:-}
	rm -f "$TMP/stop_$name"
	bg "stream_$name" fns "$inst" timeout 200 "$PYTHON" \
		"$TMP/follow_stream.py" "$addr" "$FOLLOW_P_ECHO" "$TMP/stop_$name" \
		120 ${src:+"$src"}
	wait_for 5 grep -q 'stream connected' "$TMP/stream_$name.log"
}

# follow_stream_end NAME: stop the stream, wait for its verdict (15 s at
# most), print it; returns its status
follow_stream_end() {
	local pid
	pid=$(cat "$TMP/stream_$1.pid")
	touch "$TMP/stop_$1"
	wait_for 15 pid_gone "$pid" || kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	tail -1 "$TMP/stream_$1.log"
	grep -q '^stream ok' "$TMP/stream_$1.log"
}

# --- Logs and wakeups ----------------------------------------------------

# follow_log_lines NAME RE: number of lines of instance NAME's log matching RE
follow_log_lines() {
	grep -cE -- "$2" "$TMP/pasta_$1.log" 2>/dev/null || true
}

# follow_vcsw PID: voluntary context switches of PID so far
follow_vcsw() {
	awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"
}

# follow_prev_build: print the path of a pasta built from the commit before
# follow.c was added (cached in test/build/prev-REV/), for the wakeup
# comparison; PASTA_PREV overrides. Returns 1, printing why, if there's none
follow_prev_build() {
	local rev dir
	if [ -n "${PASTA_PREV:-}" ]; then
		echo "$PASTA_PREV"
		return 0
	fi
	command -v git >/dev/null || { echo "git not installed"; return 1; }
	rev=$(git -C "$TOP" log --diff-filter=A --format=%H -- follow.c 2>/dev/null | tail -1)
	[ -n "$rev" ] || { echo "no commit adds follow.c in this tree"; return 1; }
	rev=$(git -C "$TOP" rev-parse --short "$rev^") || { echo "no parent of $rev"; return 1; }
	dir=$TOP/test/build/prev-$rev
	if [ ! -x "$dir/pasta" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		if ! git -C "$TOP" archive "$rev" | tar -x -C "$dir" || \
		   ! make -s -C "$dir" passt pasta >"$dir/build.log" 2>&1; then
			echo "build of $rev failed: $(tail -2 "$dir/build.log" 2>/dev/null | tr '\n' ' ')"
			return 1
		fi
	fi
	chmod -R a+rX "$dir"
	echo "$dir/pasta"
}

# follow_save_logs: copy the daemons' logs to $LOGDIR (test/run sets it),
# named after the case, for the report of a failure: $TMP goes away
follow_save_logs() {
	local f case
	[ -n "${LOGDIR:-}" ] && [ -d "$LOGDIR" ] || return 0
	case=$(basename "$0" .sh)
	for f in "$TMP"/pasta_*.log "$TMP"/passt*.log "$TMP"/guest*.console; do
		[ -f "$f" ] && cp "$f" "$LOGDIR/$case.$(basename "$f")"
	done
	return 0
}
# Namespaces a case adds to the topology, deleted after cleanup()
FOLLOW_EXTRA_NS=()
follow_teardown() {
	local n
	for n in "${FOLLOW_EXTRA_NS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
trap 'follow_save_logs; cleanup; follow_teardown' EXIT
