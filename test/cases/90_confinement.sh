#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# 90_confinement.sh - What a running passt or pasta can still reach
# (isolation.c, doc/security.md), read from /proc/PID of the daemon, for
# both modes and both start-ups, and the rarer paths that must keep working
# under the seccomp filter
#
#  ns "remote": socat TCP and UDP echo servers (203.0.113.1)
#     |  veth
#  ns "host": with descriptor 7 open on /etc/hostname (inherited, must go)
#     pasta --config-net -t auto -u auto -T auto -- sleep 600   (test user)
#     pasta --config-net -- sleep 600                          (root)
#     passt -s SOCK -P PID                                     (test user)
#     passt -s SOCK -P PID                                     (root: nobody)
#
# For each: Seccomp: 2, NoNewPrivs: 1, effective capabilities none (passt)
# or at most CAP_NET_BIND_SERVICE and CAP_SYS_ADMIN (pasta, in its own user
# namespace), empty bounding, ambient and inheritable sets, /proc/PID/root
# an empty directory, working directory "/", a mount namespace of its own,
# a user namespace that isn't the host's (passt: a detached one; pasta: the
# target's), no inherited descriptor, and not dumpable (the test user can't
# read /proc/PID/environ of its own process). passt started as root runs as
# nobody.
#
# Then, confined: SIGHUP and SIGTERM end pasta and passt with status 0 (not
# 159, "Bad system call", which is how a seccomp kill shows), a port bound
# in pasta's namespace after start is forwarded (auto rescan, TCP splice,
# timers), UDP and ping through pasta, passt's log file rotation, and
# passt's messages to the system logger from background.
# Finally, with strace if installed: every system call pasta and passt make
# after installing the filter is on the allow-list of seccomp.h (a call off
# the list would kill them: the check names it instead).

set -eu
. "$(dirname "$0")/../lib/common.sh"

for t in socat ping; do
	if ! command -v $t >/dev/null; then
		skip confinement "$t not installed"
		exit 0
	fi
done

topo_setup
D=$(user_dir d)

bg remote_tcp in_remote socat TCP-LISTEN:8000,bind=$REMOTE_LO4,fork,reuseaddr \
	SYSTEM:'echo remote-tcp'
# -T 3: the child forked for a UDP client ends once it's idle
bg remote_udp in_remote socat -T 3 UDP-LISTEN:8001,bind=$REMOTE_LO4,fork,reuseaddr \
	PIPE

# status_field PID FIELD: value of FIELD in /proc/PID/status
status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# caps_within VALUE MASK: hexadecimal VALUE has no bit outside MASK
caps_within() { [ $(( 0x$1 & ~$2 )) -eq 0 ]; }

# confinement_check NAME PID MAXCAPS USERNS_EXPECT
#   USERNS_EXPECT: "detached" (not the host's), or a /proc/PID/ns/user to
#   be equal to
confinement_check() {
	local name=$1 pid=$2 maxcaps=$3 userns=$4 v bad=

	if [ ! -d "/proc/$pid" ]; then
		fail "${name}_running" "PID $pid is gone"
		return
	fi

	v=$(status_field "$pid" Seccomp)
	[ "$v" = 2 ] && pass "${name}_seccomp" || fail "${name}_seccomp" "Seccomp: $v"
	v=$(status_field "$pid" NoNewPrivs)
	[ "$v" = 1 ] && pass "${name}_no_new_privs" || \
		fail "${name}_no_new_privs" "NoNewPrivs: $v"

	v=$(status_field "$pid" CapEff)
	if caps_within "$v" "$maxcaps"; then
		pass "${name}_caps_effective ($v)"
	else
		fail "${name}_caps_effective" "CapEff: $v, allowed: $maxcaps"
	fi
	for f in CapPrm CapInh CapAmb CapBnd; do
		v=$(status_field "$pid" $f)
		case $f in
		CapPrm) caps_within "$v" "$maxcaps" || bad="$bad $f=$v" ;;
		*) [ $(( 0x$v )) -eq 0 ] || bad="$bad $f=$v" ;;
		esac
	done
	[ -z "$bad" ] && pass "${name}_caps_sets" || fail "${name}_caps_sets" "$bad"

	v=$(ls -A "/proc/$pid/root/" 2>&1) || true
	[ -z "$v" ] && pass "${name}_root_empty" || \
		fail "${name}_root_empty" "$(echo "$v" | head -3 | tr '\n' ' ')"
	v=$(readlink "/proc/$pid/cwd")
	[ "$v" = / ] && pass "${name}_cwd" || fail "${name}_cwd" "$v"
	[ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] \
		&& pass "${name}_mount_ns" || \
		fail "${name}_mount_ns" "shares our mount namespace"

	v=$(readlink "/proc/$pid/ns/user")
	if [ "$userns" = detached ]; then
		[ "$v" != "$(readlink /proc/self/ns/user)" ] && \
			pass "${name}_userns_detached" || \
			fail "${name}_userns_detached" "in the host's, $v"
	else
		[ "$v" = "$(readlink "$userns")" ] && \
			pass "${name}_userns_target" || \
			fail "${name}_userns_target" "$v"
	fi

	if ls -l "/proc/$pid/fd/" | grep -q hostname; then
		fail "${name}_inherited_fd_closed" \
			"$(ls -l "/proc/$pid/fd/" | grep hostname)"
	else
		pass "${name}_inherited_fd_closed"
	fi
}

# not_dumpable NAME PID: the test user can't read /proc/PID/environ of its
# own process (it could if the process were dumpable)
not_dumpable() {
	if as_user cat "/proc/$2/environ" >/dev/null 2>&1; then
		fail "${1}_not_dumpable" "test user reads /proc/$2/environ"
	else
		pass "${1}_not_dumpable"
	fi
}

# A descriptor a careless parent leaks: it must not reach the daemon
exec 7</etc/hostname

# Capabilities pasta keeps over the target's user namespace: CAP_SYS_ADMIN
# (21) and CAP_NET_BIND_SERVICE (10), and with --config-net CAP_NET_ADMIN
# (12) to follow the host, unless --no-follow
PASTA_CAPS=$(( (1 << 10) | (1 << 21) ))
PASTA_CAPS_CONF=$(( PASTA_CAPS | (1 << 12) ))

# wait_seccomp PID: the filter is the last step of start-up, after the PID
# file is written
wait_seccomp() {
	wait_for 5 sh -c "[ \"\$(awk '/^Seccomp:/ { print \$2 }' /proc/$1/status 2>/dev/null)\" = 2 ]"
}

# pasta, test user, --no-follow: no CAP_NET_ADMIN
pasta_start --config-net --no-follow -t none -u none -T none -U none
wait_seccomp "$PASTA_PID" || true
v=$(status_field "$PASTA_PID" CapEff)
if caps_within "$v" "$PASTA_CAPS"; then
	pass "pasta_no_follow_no_net_admin ($v)"
else
	fail pasta_no_follow_no_net_admin "CapEff: $v"
fi
pasta_stop

# pasta, test user: target user namespace (the spawned child's)
pasta_start --config-net -t auto -u auto -T auto
wait_seccomp "$PASTA_PID" || true
confinement_check pasta_user "$PASTA_PID" "$PASTA_CAPS_CONF" \
	"/proc/$NS_PID/ns/user"
not_dumpable pasta_user "$PASTA_PID"
exec 7<&-

# Rare paths, confined: a port bound in the namespace after start (auto
# rescan by the timer, TCP splice, pipes; the server listens on any address:
# the host's loopback reaches the namespace's public one), UDP and ping to
# the remote
bg ns_tcp in_ns socat TCP4-LISTEN:8100,fork,reuseaddr \
	SYSTEM:'echo ns-tcp'
if wait_for 10 sh -c "ip netns exec $NS_HOST socat -T 2 - TCP:127.0.0.1:8100 </dev/null 2>/dev/null | grep -q ns-tcp"; then
	pass pasta_confined_auto_rescan_splice
else
	fail pasta_confined_auto_rescan_splice "port 8100 bound in the namespace not forwarded in 10 s"
fi
v=$(in_ns socat -T 2 - TCP:$REMOTE_LO4:8000 </dev/null 2>&1) || true
[ "$v" = remote-tcp ] && pass pasta_confined_tcp || fail pasta_confined_tcp "$v"
v=$(echo udp-hello | in_ns socat -T 2 - UDP:$REMOTE_LO4:8001 2>&1) || true
[ "$v" = udp-hello ] && pass pasta_confined_udp || fail pasta_confined_udp "$v"
check pasta_confined_ping in_ns ping -c 1 -W 2 $REMOTE_LO4

# SIGHUP: exits with 0, not killed by the filter
kill -HUP "$PASTA_PID"
rc=0
if wait_for 5 pid_gone "$PASTA_PID"; then
	wait "$PASTA_PID" || rc=$?
	[ $rc -eq 0 ] && pass pasta_confined_sighup || \
		fail pasta_confined_sighup "exit status $rc$([ $rc = 159 ] && echo ': killed by seccomp (SIGSYS)')"
else
	fail pasta_confined_sighup "still running 5 s after SIGHUP"
fi
pasta_stop

# pasta, root: spawns its own user namespace, stays root only in there
exec 7</etc/hostname
bg pasta_root in_host "$PASTA" -f --config-net -- sleep 600
exec 7<&-
rpid=$(cat "$TMP/pasta_root.pid")
child=
wait_for 10 sh -c "pgrep -P $rpid -x sleep" && child=$(pgrep -P "$rpid" -x sleep | head -1)
echo "$child" > "$TMP/pasta_root_child.pid"
if [ -n "$child" ] && wait_seccomp "$rpid"; then
	confinement_check pasta_root "$rpid" "$PASTA_CAPS_CONF" \
		"/proc/$child/ns/user"
else
	fail pasta_root_running "$(tail -3 "$TMP/pasta_root.log" | tr '\n' ' ')"
fi
kill -TERM "$rpid" 2>/dev/null || true
rc=0
if wait_for 5 pid_gone "$rpid"; then
	wait "$rpid" || rc=$?
	[ $rc -eq 0 ] && pass pasta_confined_sigterm || \
		fail pasta_confined_sigterm "exit status $rc"
else
	fail pasta_confined_sigterm "still running 5 s after SIGTERM"
fi
[ -n "$child" ] && kill -9 "$child" 2>/dev/null || true

# passt, test user: a user namespace of its own, detached
exec 7</etc/hostname
host_user timeout 5 "$PASST" -q -s "$D/u.sock" -P "$D/u.pid" || true
exec 7<&-
upid=$(cat "$D/u.pid" 2>/dev/null || true)
echo "$upid" > "$TMP/passt_user.pid"
if [ -n "$upid" ]; then
	wait_seccomp "$upid" || true
	confinement_check passt_user "$upid" 0 detached
	not_dumpable passt_user "$upid"
	check passt_user_accepts in_host socat -u /dev/null UNIX-CONNECT:"$D/u.sock"
	check passt_user_alive_after_client test -d "/proc/$upid"
	kill "$upid"
	wait_for 5 pid_gone "$upid" && pass passt_user_sigterm || \
		fail passt_user_sigterm "still running"
else
	fail passt_user_running "no PID file"
fi

# passt, root: becomes nobody, then detaches a user namespace
exec 7</etc/hostname
in_host timeout 5 "$PASST" -q -s "$D/r.sock" -P "$D/r.pid" || true
exec 7<&-
rpid=$(cat "$D/r.pid" 2>/dev/null || true)
echo "$rpid" > "$TMP/passt_root.pid"
if [ -n "$rpid" ]; then
	wait_seccomp "$rpid" || true
	confinement_check passt_root "$rpid" 0 detached
	v=$(status_field "$rpid" Uid)
	[ "$v" = "$(id -u nobody)" ] && pass "passt_root_runas_nobody" || \
		fail passt_root_runas_nobody "UID $v"
	kill "$rpid"
	wait_for 5 pid_gone "$rpid" && pass passt_root_sigterm || \
		fail passt_root_sigterm "still running"
else
	fail passt_root_running "no PID file"
fi

# passt in the foreground: SIGHUP exits with 0; the log file rotates at
# --log-size while confined (ftruncate)
bg passt_fg host_user "$PASST" -f -d -l "$D/fg.log" --log-size 20k \
	-s "$D/f.sock"
fpid=$(cat "$TMP/passt_fg.pid")
wait_for 5 test -S "$D/f.sock" || true
for i in $(seq 1 150); do
	in_host socat -u /dev/null UNIX-CONNECT:"$D/f.sock" 2>/dev/null || true
done
size=$(stat -c %s "$D/fg.log" 2>/dev/null || echo 0)
if [ -d "/proc/$fpid" ] && [ "$size" -le 20480 ] && \
   grep -q "Client connect" "$D/fg.log"; then
	pass "passt_confined_log_rotation ($size bytes)"
else
	fail passt_confined_log_rotation "size $size, running: $([ -d /proc/$fpid ] && echo yes || echo no)"
fi
kill -HUP "$fpid"
rc=0
if wait_for 5 pid_gone "$fpid"; then
	wait "$fpid" || rc=$?
	[ $rc -eq 0 ] && pass passt_confined_sighup || \
		fail passt_confined_sighup "exit status $rc$([ $rc = 159 ] && echo ': killed by seccomp (SIGSYS)')"
else
	fail passt_confined_sighup "still running 5 s after SIGHUP"
fi

# System logger, confined: passt in background without -l logs through the
# socket it connected before confinement. /dev/log is a socat receiver here,
# in a mount namespace of the test's own (tmpfs over /dev, with /dev/null)
if command -v unshare >/dev/null; then
	L=$TMP/devlog
	mkdir -p "$L"
	in_host unshare -m sh -c "
		mount -t tmpfs none '$L' && touch '$L/null' &&
		mount --bind /dev/null '$L/null' || exit 1
		socat -u UNIX-RECV:'$L/log' OPEN:'$TMP/syslog.txt',creat,append &
		echo \$! > '$TMP/syslogd.pid'
		for i in 1 2 3 4 5 6 7 8 9 10; do
			[ -S '$L/log' ] && break; sleep 0.1
		done
		mount --bind '$L' /dev &&
		exec timeout 5 '$PASST' -s '$D/sl.sock' -P '$D/sl.pid'" \
		>"$TMP/syslog_start.log" 2>&1 || true
	slpid=$(cat "$D/sl.pid" 2>/dev/null || true)
	echo "$slpid" > "$TMP/passt_syslog.pid"
	if [ -n "$slpid" ]; then
		in_host socat -u /dev/null UNIX-CONNECT:"$D/sl.sock" || true
		if wait_for 5 grep -q "^<30>passt\[$slpid\]: Client connected" \
		   "$TMP/syslog.txt"; then
			pass passt_confined_syslog
		else
			fail passt_confined_syslog "got: $(tail -2 "$TMP/syslog.txt" 2>/dev/null | tr '\n' ' ')"
		fi
		check passt_confined_syslog_alive test -d "/proc/$slpid"
		kill "$slpid" 2>/dev/null || true
	else
		fail passt_confined_syslog "didn't start: $(tail -2 "$TMP/syslog_start.log" | tr '\n' ' ')"
	fi
	kill "$(cat "$TMP/syslogd.pid" 2>/dev/null)" 2>/dev/null || true
fi

# strace: what's called once confined is on the allow-list of the mode
if ! command -v strace >/dev/null; then
	skip confinement_strace "strace not installed"
	exit 0
fi

# allowed MODE: the allow-list of MODE in seccomp.h, one name a line
allowed() {
	sed -n "/seccomp_list_$1\[\]/,/^};/p" "$TOP/seccomp.h" | \
		sed -n 's|.*/\* \([a-z0-9_]*\) \*/.*|\1|p' | sort -u
}

# strace_check NAME MODE TRACE: calls after PR_SET_SECCOMP in TRACE
strace_check() {
	local name=$1 mode=$2 trace=$3 used extra

	# processes first seen after the filter are ns_call() children
	used=$(awk '!($1 in seen) { seen[$1] = 1; if (any) on[$1] = 1 }
		    /PR_SET_SECCOMP/ { on[$1] = 1; any = 1; next }
		    on[$1] && $2 ~ /^[a-z_0-9]+\(/ { sub(/\(.*/, "", $2); print $2 }
		    on[$1] && $2 == "<..." && $3 != "prctl" { print $3 }' \
		    "$trace" | sort -u)
	if [ -z "$used" ]; then
		fail "$name" "no system calls traced after the filter"
		return
	fi
	extra=$(comm -23 <(echo "$used") <(allowed "$mode") | tr '\n' ' ')
	if grep -q "killed by SIGSYS" "$trace"; then
		fail "$name" "killed by SIGSYS; calls not on the list: $extra"
	elif [ -n "$extra" ]; then
		fail "$name" "calls not on the list: $extra"
	else
		pass "$name ($(echo "$used" | wc -l) of $(allowed "$mode" | wc -l) listed calls seen)"
	fi
}

bg pasta_st in_host strace -f -qq -o "$TMP/pasta.strace" \
	setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --clear-groups \
	--inh-caps=-all -- "$PASTA" -f --config-net -t auto -u auto -T auto \
	-- sleep 600
spid=$(cat "$TMP/pasta_st.pid")	# strace, parent of pasta
wait_for 10 sh -c "grep -q PR_SET_SECCOMP $TMP/pasta.strace" || true
tpid=$(pgrep -P "$spid" -x pasta | head -1) || true
NS_PID=
[ -n "$tpid" ] && NS_PID=$(pgrep -P "$tpid" -x sleep | head -1) || true
echo "$tpid" > "$TMP/st_pasta.pid"
echo "$NS_PID" > "$TMP/st_child.pid"
bg ns_tcp2 in_ns socat TCP-LISTEN:8101,bind=127.0.0.1,fork,reuseaddr \
	SYSTEM:'echo ns-tcp'
wait_for 10 sh -c "ip netns exec $NS_HOST socat -T 2 - TCP:127.0.0.1:8101 </dev/null 2>/dev/null | grep -q ns-tcp" || true
in_ns socat -T 2 - TCP:$REMOTE_LO4:8000 </dev/null >/dev/null 2>&1 || true
echo x | in_ns socat -T 2 - UDP:$REMOTE_LO4:8001 >/dev/null 2>&1 || true
in_ns ping -c 1 -W 2 $REMOTE_LO4 >/dev/null 2>&1 || true
sleep 2		# a few timer ticks
[ -n "$tpid" ] && kill -TERM "$tpid" 2>/dev/null || true
wait_for 5 pid_gone "$spid" || kill -9 "$spid" 2>/dev/null || true
[ -n "$NS_PID" ] && kill -9 "$NS_PID" 2>/dev/null || true
strace_check pasta_strace_allowlist pasta "$TMP/pasta.strace"

bg passt_st in_host strace -f -qq -o "$TMP/passt.strace" \
	setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --clear-groups \
	--inh-caps=-all -- "$PASST" -f -s "$D/st.sock"
spid=$(cat "$TMP/passt_st.pid")	# strace, parent of passt
wait_for 10 sh -c "grep -q PR_SET_SECCOMP $TMP/passt.strace" || true
tpid=$(pgrep -P "$spid" -x passt | head -1) || true
echo "$tpid" > "$TMP/st_passt.pid"
for i in 1 2 3; do
	in_host socat -u /dev/null UNIX-CONNECT:"$D/st.sock" 2>/dev/null || true
done
sleep 2
[ -n "$tpid" ] && kill -TERM "$tpid" 2>/dev/null || true
wait_for 5 pid_gone "$spid" || kill -9 "$spid" 2>/dev/null || true
strace_check passt_strace_allowlist passt "$TMP/passt.strace"
