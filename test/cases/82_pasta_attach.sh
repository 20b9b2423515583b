#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/82_pasta_attach.sh - pasta attached to namespaces it did not
# create: by PID and by the path of a bind-mounted network namespace; when
# it quits; the exit status of a command it spawned
#
#  ns "remote": busybox httpd :8000, socat UDP echo :7777 (203.0.113.1)
#     |  veth
#  ns "host": the test user runs
#     unshare -rUn sleep 600          (PID A)
#     pasta --config-net A
#     unshare -rUn sleep 600          (PID B), bound by root to $D/b
#     pasta --config-net --userns /proc/B/ns/user $D/b
#     unshare -rUn sleep 600          (PID C), bound by root to $D/c
#     pasta --config-net --no-netns-quit --userns /proc/C/ns/user $D/c
#
# Checks, for the PID and the path forms: curl to the remote, UDP echo with
# the remote, ping to the remote, all from inside the attached namespace.
# pasta quits within 5 s when the namespace's last process exits (PID form)
# or when the namespace file goes away (umount, rm: path form), and stays
# with --no-netns-quit. pasta -- sh -c 'exit 7' exits with status 7 (and 0
# for 'exit 0').
#
# About the path form: a user can't bind-mount a namespace in the machine's
# mount namespace (unshare --net=PATH fails with EPERM there), so the test
# user creates the namespaces (owned by its own user namespace, as rootless
# container tools do) and root bind-mounts them, as a helper would. Joining
# a network namespace needs CAP_SYS_ADMIN in the user namespace owning it,
# which an unprivileged pasta only has from inside it: hence --userns (with
# PATH and no --userns, --netns-only is implied, man page, and setns() fails
# for a user without privileges).
#
# Debian's pasta takes the path with --netns PATH (its --help says so);
# that form is used if the binary under test advertises it, the man page's
# positional PATH otherwise.
#
# Target runtime: under a minute.

set -eu
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/test/lib/tcp.sh"
. "$TOP/test/lib/udp.sh"
. "$TOP/test/lib/splice.sh"

for t in socat curl busybox ping unshare; do
	if ! command -v $t >/dev/null; then
		skip pasta_attach "$t not installed"
		exit 0
	fi
done
start=$(date +%s)

# the bind mounts too, if the case stops half-way
# shellcheck disable=SC2154 # m is the loop variable of the trap itself
trap 'for m in "$TMP/netns/b" "$TMP/netns/c"; do
	mountpoint -q "$m" 2>/dev/null && umount "$m"; done; cleanup' EXIT
topo_setup
splice_tool_install
mkdir -p "$TMP/www"
echo "attach-test-index" > "$TMP/www/index.html"
chmod 755 "$TMP/www"; chmod 644 "$TMP/www/index.html"
bg httpd in_remote busybox httpd -f -p "$TCP_P_HTTP" -h "$TMP/www"
udp_echo_server echo4 in_remote $REMOTE_LO4 $UDP_ECHO_PORT
wait_for 5 tcp_listening in_remote "$TCP_P_HTTP" || true
wait_for 5 udp_bound in_remote "$UDP_ECHO_PORT" || true

if "$PASTA" --help 2>&1 | grep -q -- '--netns PATH'; then
	NETNS_OPT=--netns
else
	NETNS_OPT=
fi

# userns NAME: start unshare -rUn sleep 600 as the test user, print its PID
# once it runs in its own namespaces (unshare execs sleep after the setup)
userns() {
	local p
	bg "$1" host_user unshare --user --map-root-user --net -- sleep 600
	p=$(cat "$TMP/$1.pid")
	wait_for 5 sh -c "[ \"\$(cat /proc/$p/comm 2>/dev/null)\" = sleep ]" || true
	echo "$p"
}

# in_att CMD...: run CMD as root in the network namespace of $ATT_NS (a PID)
in_att() { $_BG_EXEC nsenter -t "$ATT_NS" -n -- "$@"; }

# attached_ok PREFIX NSPID: TCP, UDP and ping from the namespace of NSPID
attached_ok() {
	local pre=$1 p=$2
	ATT_NS=$p
	if ! wait_for 10 sh -c "nsenter -t $p -n ip -4 addr show | grep -q '$HOST4/'"; then
		fail "${pre}_config_net" "no $HOST4 in the namespace: $(nsenter -t "$p" -n ip -br addr | tr '\n' ' ')"
		return
	fi
	pass "${pre}_config_net"
	wait_for 5 sh -c "nsenter -t $p -n ip route show default | grep -q ." || true
	tcp_expect "${pre}_curl" '^attach-test-index$' \
		nsenter -t "$p" -n timeout 15 curl -sS --max-time 10 \
		"http://$REMOTE_LO4:$TCP_P_HTTP/index.html"
	tcp_expect "${pre}_udp_echo" '^echoed=50/50 corrupt=0 unknown=0 ' \
		splice_tool in_att udp-bulk $REMOTE_LO4 $UDP_ECHO_PORT 50 1000
	tcp_expect "${pre}_ping" ' 3 received' \
		nsenter -t "$p" -n timeout 15 ping -q -c 3 -i 0.2 -W 2 $REMOTE_LO4
}

# quits NAME PID SECONDS: pass NAME if PID exits within SECONDS
quits() {
	if wait_for "$3" pid_gone "$2"; then
		pass "$1"
	else
		fail "$1" "pasta still running $3 s later"
		kill "$2" 2>/dev/null || true
	fi
}

# --- PID form
A=$(userns nsa)
bg pasta_a host_user "$PASTA" -f --config-net "$A"
PA=$(cat "$TMP/pasta_a.pid")
attached_ok pasta_attach_pid "$A"
kill "$A"
quits pasta_attach_pid_quits_with_ns "$PA" 5
echo "  pasta (PID form) log: $(grep -v syslog "$TMP/pasta_a.log" | tail -2 | tr '\n' ' ')"

# --- --netns /proc/PID/ns/net, with --userns: quits when that process exits
P=$(userns nsp)
bg pasta_p host_user "$PASTA" -f --config-net --userns "/proc/$P/ns/user" \
	--netns "/proc/$P/ns/net"
PP=$(cat "$TMP/pasta_p.pid")
attached_ok pasta_attach_procpath "$P"
kill "$P"
quits pasta_attach_procpath_quits_with_process "$PP" 5

# --- Path form, a bind-mounted namespace owned by the test user
D=$(user_dir netns)
B=$(userns nsb)
touch "$D/b"
mount --bind "/proc/$B/ns/net" "$D/b"
bg pasta_b host_user "$PASTA" -f --config-net --userns "/proc/$B/ns/user" \
	$NETNS_OPT "$D/b"
PB=$(cat "$TMP/pasta_b.pid")
attached_ok pasta_attach_path "$B"
if pid_gone "$PB"; then
	fail pasta_attach_path_quits_with_file "pasta exited before the file went away: $(grep -v syslog "$TMP/pasta_b.log" | tail -2 | tr '\n' ' ')"
else
	umount "$D/b"
	rm -f "$D/b"
	quits pasta_attach_path_quits_with_file "$PB" 5
fi
kill "$B" 2>/dev/null || true

# --- Path form, --no-netns-quit: the file goes away, pasta stays
C=$(userns nsc)
touch "$D/c"
mount --bind "/proc/$C/ns/net" "$D/c"
bg pasta_c host_user "$PASTA" -f --config-net --no-netns-quit \
	--userns "/proc/$C/ns/user" $NETNS_OPT "$D/c"
PC=$(cat "$TMP/pasta_c.pid")
if wait_for 10 sh -c "nsenter -t $C -n ip -4 addr show | grep -q '$HOST4/'"; then
	umount "$D/c"
	rm -f "$D/c"
	sleep 3
	if pid_gone "$PC"; then
		fail pasta_attach_no_netns_quit "pasta exited: $(grep -v syslog "$TMP/pasta_c.log" | tail -2 | tr '\n' ' ')"
	else
		# and the namespace still has its network
		tcp_expect pasta_attach_no_netns_quit '^attach-test-index$' \
			nsenter -t "$C" -n timeout 15 curl -sS --max-time 10 \
			"http://$REMOTE_LO4:$TCP_P_HTTP/index.html"
	fi
else
	fail pasta_attach_no_netns_quit "pasta did not configure the namespace: $(grep -v syslog "$TMP/pasta_c.log" | tail -2 | tr '\n' ' ')"
fi
mountpoint -q "$D/c" 2>/dev/null && umount "$D/c"
kill "$PC" "$C" 2>/dev/null || true

# --- Exit status of the command pasta spawned
for st in 7 0; do
	rc=0
	host_user timeout 30 "$PASTA" --config-net -- sh -c "exit $st" \
		> "$TMP/exit$st.log" 2>&1 || rc=$?
	if [ "$rc" = "$st" ]; then
		pass "pasta_exit_status_$st"
	else
		fail "pasta_exit_status_$st" "exit status $rc: $(grep -v syslog "$TMP/exit$st.log" | tail -2 | tr '\n' ' ')"
	fi
done

echo "pasta attach case: $(( $(date +%s) - start ))s"
