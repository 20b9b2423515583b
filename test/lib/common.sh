# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/common.sh - Sourced by every test case: result reporting, the
# sandbox topology, running things as the unprivileged test user, bounded
# waits, and cleanup of exactly the processes a case started.
#
#  ns "remote" ($NS_REMOTE, servers)        ns "host" ($NS_HOST, passt/pasta)
#   lo: 203.0.113.1, 2001:db8:1::1            default via 198.51.100.1 / 2001:db8::1
#   eth0 198.51.100.1/24  <-- veth -->        eth0 198.51.100.2/24, 2001:db8::2/64
#        2001:db8::1/64                       resolv.conf: 203.0.113.1, 2001:db8:1::1
#                                                          search example.org
#                                             pasta namespace / qemu guest behind it
#
# Nothing here targets an address outside the namespaces it creates.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PASST=${PASST:-$TOP/passt}
PASTA=${PASTA:-$TOP/pasta}
RESULTS=${RESULTS:-/dev/null}
TEST_USER=${TEST_USER:-passt-test}

# Addresses of the topology, for the cases' assertions
REMOTE_LO4=203.0.113.1
REMOTE_LO6=2001:db8:1::1
REMOTE4=198.51.100.1
REMOTE6=2001:db8::1
HOST4=198.51.100.2
HOST6=2001:db8::2
HOST_PLEN4=24
HOST_PLEN6=64
GW4=198.51.100.1
GW6=2001:db8::1
SEARCH=example.org

NS_REMOTE=ptr$$
NS_HOST=pth$$
TMP=$(mktemp -d /tmp/passt-test.XXXXXX)
chmod 755 "$TMP"
PIDS=()

# pass NAME / fail NAME REASON / skip NAME WHY: one line each in $RESULTS
pass() { echo "PASS $*" | tee -a "$RESULTS"; }
fail() { echo "FAIL $1: ${2:-}" | tee -a "$RESULTS"; }
skip() { echo "SKIP $1: ${2:?skip needs a reason}" | tee -a "$RESULTS"; }

# check NAME CMD...: pass if CMD succeeds, fail otherwise
check() {
	local name=$1; shift
	if "$@" >"$TMP/check.out" 2>&1; then
		pass "$name"
	else
		fail "$name" "$(tail -3 "$TMP/check.out" | tr '\n' ' ')"
	fi
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds, bounded
wait_for() {
	local t=$(( $1 * 10 )); shift
	while [ $t -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

# Test user: created if missing, unprivileged
user_setup() {
	id "$TEST_USER" >/dev/null 2>&1 || \
		useradd -M -N -r -s /bin/sh "$TEST_USER" 2>/dev/null || \
		useradd -M -r -s /bin/sh "$TEST_USER"
	TEST_UID=$(id -u "$TEST_USER")
	TEST_GID=$(id -g "$TEST_USER")
	# as on any Debian system: the tun device is usable by everybody
	chmod 0666 /dev/net/tun
}

# The wrappers below run a single command: inside bg() they exec it
# ($_BG_EXEC is "exec" there), so that the PID bg() records is the PID of the
# command itself (ip netns exec, setpriv and nsenter exec too), not of a
# subshell that would be killed while the command lives on
_BG_EXEC=

# as_user CMD...: run CMD as the unprivileged test user
as_user() {
	$_BG_EXEC setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --clear-groups \
		--inh-caps=-all -- "$@"
}

# host_user_pidns CMD...: as host_user, but CMD is PID 1 of a new PID
# namespace (with its own /proc: pasta looks its children up there), so
# anything it leaves behind (a child that outlives a failed start, say) is
# killed by the kernel as soon as CMD exits
host_user_pidns() { $_BG_EXEC ip netns exec "$NS_HOST" unshare --pid --fork \
	--kill-child --mount-proc setpriv --reuid="$TEST_UID" --regid="$TEST_GID" \
	--clear-groups --inh-caps=-all -- "$@"; }

# in_host CMD... / in_remote CMD...: run in the topology's namespaces
in_host() { $_BG_EXEC ip netns exec "$NS_HOST" "$@"; }
in_remote() { $_BG_EXEC ip netns exec "$NS_REMOTE" "$@"; }

# host_user CMD...: unprivileged, in the host namespace (how people run us)
host_user() { $_BG_EXEC ip netns exec "$NS_HOST" setpriv --reuid="$TEST_UID" \
	--regid="$TEST_GID" --clear-groups --inh-caps=-all -- "$@"; }

topo_setup() {
	user_setup
	ip netns add "$NS_REMOTE"
	ip netns add "$NS_HOST"
	ip link add "vr$$" type veth peer name "vh$$"
	ip link set "vr$$" netns "$NS_REMOTE" name eth0
	ip link set "vh$$" netns "$NS_HOST" name eth0

	in_remote ip link set lo up
	in_remote ip link set eth0 up
	in_remote ip addr add $REMOTE_LO4/32 dev lo
	in_remote ip addr add $REMOTE_LO6/128 dev lo nodad
	in_remote ip addr add $REMOTE4/24 dev eth0
	in_remote ip addr add $REMOTE6/64 dev eth0 nodad
	in_remote sysctl -qw net.ipv4.ping_group_range="0 2147483647"

	in_host ip link set lo up
	in_host ip link set eth0 up
	in_host ip addr add $HOST4/$HOST_PLEN4 dev eth0
	in_host ip addr add $HOST6/$HOST_PLEN6 dev eth0 nodad
	in_host ip route add default via $GW4
	in_host ip -6 route add default via $GW6
	in_host sysctl -qw net.ipv4.ping_group_range="0 2147483647"

	mkdir -p "/etc/netns/$NS_HOST"
	cat > "/etc/netns/$NS_HOST/resolv.conf" <<-EOT
		nameserver $REMOTE_LO4
		nameserver $REMOTE_LO6
		search $SEARCH
	EOT
	# wait for the link-local address (needed by NDP) to leave tentative
	wait_for 5 sh -c "ip netns exec $NS_HOST ip -6 addr show dev eth0 scope link | grep -q 'inet6' && ! ip netns exec $NS_HOST ip -6 addr show dev eth0 | grep -q tentative" || true
}

topo_teardown() {
	ip netns del "$NS_HOST" 2>/dev/null || true
	ip netns del "$NS_REMOTE" 2>/dev/null || true
	rm -rf "/etc/netns/$NS_HOST"
}

# bg NAME CMD...: start CMD in the background, remember its PID in PIDS and
# in $TMP/NAME.pid, output in $TMP/NAME.log. CMD may be one of the wrappers
# above (as_user, in_host, in_remote, host_user, in_ns): the recorded PID is
# then still the one of the final command, as they exec. Through them, the
# command also leads a process group of its own (setsid(1) doesn't fork in a
# process that isn't a group leader): cleanup() kills the group, which keeps
# the children a parent leaves behind (socat ... fork)
bg() {
	local name=$1; shift
	# shellcheck disable=SC2030,SC2031 # meant for the subshell only
	( _BG_EXEC="exec setsid"; "$@" ) >"$TMP/$name.log" 2>&1 &
	PIDS+=($!)
	echo $! > "$TMP/$name.pid"
}

# Kill exactly what this case started (and the processes recorded by pid
# files that passt/pasta wrote for us), then remove the topology
cleanup() {
	local p
	for f in "$TMP"/*.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f" 2>/dev/null) || continue
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	# socat ... fork leaves a child per open connection, which would
	# outlive its parent (and hold the case's output open): stop the
	# parents first, so that none forks another one, then children first
	for p in "${PIDS[@]}"; do kill -STOP "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		pkill -P "$p" 2>/dev/null || true
		kill "$p" 2>/dev/null || true
		kill -CONT "$p" 2>/dev/null || true
		# its process group (see bg()), children whose parent died
		kill -- "-$p" 2>/dev/null || true
	done
	sleep 0.2
	for f in "$TMP"/*.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f" 2>/dev/null) || continue
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
		kill -9 -- "-$p" 2>/dev/null || true
	done
	topo_teardown
	rm -rf "$TMP"
}
trap cleanup EXIT

# pasta_start ARGS...: start pasta as the test user in the host namespace,
# spawning a long sleep in its new namespace; sets PASTA_PID and NS_PID (the
# spawned child, whose namespaces in_ns enters). Fails the case if pasta
# does not come up within 10 s.
pasta_start() {
	bg pasta host_user "$PASTA" -f "$@" -- sleep 600
	PASTA_PID=$(cat "$TMP/pasta.pid")
	NS_PID=
	local t=100
	while [ $t -gt 0 ]; do
		NS_PID=$(pgrep -P "$PASTA_PID" -x sleep 2>/dev/null | head -1) || true
		# ip netns exec and setpriv exec, so pasta is $PASTA_PID itself
		if [ -n "$NS_PID" ] && [ -e "/proc/$NS_PID/ns/net" ] && \
		   [ "$(readlink /proc/$NS_PID/ns/net)" != "$(readlink /proc/$PASTA_PID/ns/net)" ]; then
			echo "$NS_PID" > "$TMP/nschild.pid"
			return 0
		fi
		sleep 0.1
		t=$((t - 1))
	done
	echo "pasta did not come up; its log:"; cat "$TMP/pasta.log"
	return 1
}

# in_ns CMD...: run CMD as root in pasta's network namespace
in_ns() { $_BG_EXEC nsenter -t "$NS_PID" -n -- "$@"; }

# pid_gone PID: true if PID has exited (gone, or a zombie not reaped yet)
pid_gone() {
	[ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat" 2>/dev/null
}

# pasta_stop: stop the instance pasta_start started (SIGTERM, then SIGKILL
# after 5 s), and the child it spawned, so that the next pasta_start gets a
# fresh one. Output files (--pcap, logs) are complete once this returns.
pasta_stop() {
	[ -n "${PASTA_PID:-}" ] || return 0
	kill "$PASTA_PID" 2>/dev/null || true
	wait_for 5 pid_gone "$PASTA_PID" || kill -9 "$PASTA_PID" 2>/dev/null || true
	wait_for 2 pid_gone "$PASTA_PID" || true
	wait "$PASTA_PID" 2>/dev/null || true
	# the child is PID 1 of its own PID namespace: it ignores SIGTERM
	if [ -n "${NS_PID:-}" ]; then kill -9 "$NS_PID" 2>/dev/null || true; fi
	rm -f "$TMP/pasta.pid" "$TMP/nschild.pid"
	PASTA_PID=
	NS_PID=
}

# user_dir NAME: create $TMP/NAME owned by the test user and print its path:
# passt/pasta run as that user can create sockets, pid and log files there
# ($TMP itself belongs to root)
user_dir() {
	mkdir -p "$TMP/$1"
	chown "$TEST_UID:$TEST_GID" "$TMP/$1"
	echo "$TMP/$1"
}
