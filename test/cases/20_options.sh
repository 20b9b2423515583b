#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/cases/20_options.sh - Every option of passt.1 is accepted with a valid
# value, bad values are refused by name, --help and --version work
#
#  ns "host" (test user, unless noted)
#   passt -f -1 -s SOCK OPTION...     starts: SOCK appears within 5 s, killed
#   pasta --config-net OPTION... -- true           exits 0
#   pasta --userns PATH PID            joins a namespace the test user made
#                                      with unshare -rUn: eth0 appears there
#   (root) pasta --netns-only --no-netns-quit --nsrun-dir /run/netns
#          --runas TEST_USER NAME      joins an "ip netns add" namespace
#   passt/pasta OPTION BAD-VALUE       exit non-zero, stderr names the option
#   passt --help, pasta --help         exit 0, list every long option
#   passt --version                    exit 0
#
# Only option parsing and start-up are judged here: no traffic is sent.

set -eu
. "$(dirname "$0")/../lib/common.sh"

topo_setup

# Files the test user's processes write
O=$TMP/o
mkdir "$O"
chown "$TEST_UID:$TEST_GID" "$O"

# Valid values for the options both modes have (one entry: one run). Short
# and long spellings alternate so that both are exercised.
COMMON=(
	"-d" "--debug" "--trace" "-q" "--quiet" "-e" "--stderr"
	"--runas $TEST_USER" "--runas $TEST_UID:$TEST_GID"
	"-p $O/a.pcap" "--pcap $O/b.pcap"
	"-P $O/a.pidfile" "--pid $O/b.pidfile"
	"-l $O/a.log" "--log-file $O/b.log" "-l $O/c.log --log-size 1048576"
	"-m 1500" "--mtu 65520" "-m 1280"
	"-a $HOST4" "--address $HOST6" "-a 198.51.100.20 -a 2001:db8::20"
	"-n 24" "--netmask 255.255.255.0" "-a 198.51.100.20 -n 16"
	"-M 52:54:00:12:34:56" "--mac-addr 52:54:00:12:34:57"
	"-g $GW4" "--gateway $GW6" "-g $GW4 -g $GW6"
	"-i eth0" "--interface eth0"
	"-D $REMOTE_LO4" "--dns $REMOTE_LO6" "-D $REMOTE_LO4 -D $REMOTE_LO6"
	"-D none"
	"--dns-forward 198.51.100.53" "--dns-forward 2001:db8::53"
	"-S $SEARCH" "--search none" "-S example.com"
	"--no-tcp" "--no-udp" "--no-icmp" "--no-dhcp" "--no-ndp" "--no-dhcpv6"
	"--no-ra" "--no-map-gw"
	"-4" "--ipv4-only" "-6" "--ipv6-only"
	"-t 10022" "--tcp-ports 10023:22" "-t 10030-10040,~10035"
	"-t 10041,10042" "-t 10050-10052:10060-10062" "-t $HOST4/10070"
	"-t none"
	"-u 10053" "--udp-ports 10054:53" "-u 10080-10082" "-u none"
	"-a 198.51.100.20/16" "-a 192.0.2.5" "-a 2001:db8:5::5"
	"-a 192.0.2.5/24 -a 2001:db8:5::5/64"
	"--map-host-loopback 198.51.100.100" "--map-host-loopback none"
	"--map-guest-addr 169.254.1.2" "--map-guest-addr 2001:db8::99"
	"--dns-forward 169.254.1.1 --dns-host $REMOTE_LO4"
	"-t 127.0.0.1%lo/10100" "-t %eth0/10101" "-u ::1%lo/10102"
	"-t $HOST4%eth0/10103"
)
PASST_ONLY=( "--no-dhcp-dns" "--no-dhcp-search" )
PASTA_ONLY=(
	"--dhcp-dns" "--dhcp-search" "--dhcp-dns --dhcp-search"
	"-I foo0" "--ns-ifname bar0" "--ns-mac-addr 52:54:00:12:34:58"
	"-t auto" "-u auto" "--tcp-ports auto --udp-ports auto"
	"-T 10090" "--tcp-ns 10091:22" "-T auto" "-T none"
	"-U 10092" "--udp-ns 10093" "-U auto" "-U none"
	"--host-lo-to-ns-lo" "--no-splice" "--no-copy-routes" "--no-copy-addrs"
)

# passt_starts OPTIONS...: passt with OPTIONS creates its socket in 5 s. The
# base options are -f -1 -s SOCK, unless OPTIONS replace one of them.
N=0
passt_starts() {
	local base=() sock
	N=$((N + 1))
	sock=$O/s$N.sock
	case " $* " in *" --foreground "*) ;; *) base+=("-f") ;; esac
	case " $* " in *" --one-off "*) ;; *) base+=("-1") ;; esac
	case " $* " in *" --socket "*) ;; *) base+=("-s" "$sock") ;; esac
	local all=" $* "
	case "$all" in *" --socket "*) sock=${all##*--socket }; sock=${sock%% *} ;; esac
	bg "passt$N" host_user "$PASST" "${base[@]}" "$@"
	local pid rc=0
	pid=$(cat "$TMP/passt$N.pid")
	wait_for 5 test -S "$sock" || rc=1
	kill "$pid" 2>/dev/null || true
	wait_for 3 pid_gone "$pid" || kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$TMP/passt$N.pid"
	[ $rc = 0 ] || { tail -3 "$TMP/passt$N.log"; return 1; }
}

# pasta_runs OPTIONS...: pasta --config-net OPTIONS -- true exits 0 (in a
# PID namespace of its own, see refused() below)
pasta_runs() {
	host_user_pidns timeout 20 "$PASTA" --config-net "$@" -- true
}

# --- valid values ---------------------------------------------------------------
for o in "${COMMON[@]}" "${PASST_ONLY[@]}" \
	 "--foreground" "--one-off" "--socket $O/long.sock"; do
	# shellcheck disable=SC2086 # one entry is an option and its value
	check "passt_opt ${o//$O/\$O}" passt_starts $o
done

for o in "${COMMON[@]}" "${PASTA_ONLY[@]}" "-f" "--foreground"; do
	# shellcheck disable=SC2086
	check "pasta_opt ${o//$O/\$O}" pasta_runs $o
done

# --userns: join a user and network namespace the test user created
bg userns host_user unshare -rUn sleep 600
U=$(cat "$TMP/userns.pid")
if wait_for 5 sh -c "[ \"\$(readlink /proc/$U/ns/net)\" != \"\$(readlink /proc/$$/ns/net)\" ]"; then
	bg pasta_userns host_user "$PASTA" -f --config-net \
		--userns "/proc/$U/ns/user" "$U"
	check "pasta_opt --userns PATH PID" \
		wait_for 10 nsenter -t "$U" -n ip link show eth0
	kill "$(cat "$TMP/pasta_userns.pid")" 2>/dev/null || true
else
	fail "pasta_opt --userns PATH PID" "unshare -rUn did not start"
fi

# --netns-only, --no-netns-quit, --nsrun-dir: a namespace named under
# /run/netns belongs to root, so here pasta starts as root and drops to the
# test user with --runas, as a system service would
T=ptg$$
ip netns add "$T"
bg pasta_netns in_host "$PASTA" -f --config-net --netns-only \
	--no-netns-quit --nsrun-dir /run/netns --runas "$TEST_USER" "$T"
check "pasta_opt --netns-only --no-netns-quit --nsrun-dir NAME" \
	wait_for 10 ip netns exec "$T" ip link show eth0
kill "$(cat "$TMP/pasta_netns.pid")" 2>/dev/null || true
ip netns del "$T"

# --- bad values -----------------------------------------------------------------
# refused BIN SHORT LONG VALUE: BIN with -SHORT VALUE (or --LONG VALUE if
# SHORT is empty) exits non-zero, not by timeout, and names the option. Run
# in a PID namespace of its own: a pasta that fails half-way may leave a
# forked process behind, which the kernel then kills with it.
refused() {
	local bin=$1 s=$2 l=$3 v=$4 opt rc=0 extra=()
	if [ -n "$s" ]; then opt="-$s"; else opt="--$l"; fi
	if [ "$bin" = passt ]; then
		[ "$l" = socket ] || extra=(-s "$O/bad.sock")
		host_user_pidns timeout 5 "$PASST" -f -1 "${extra[@]}" "$opt" "$v" \
			>"$TMP/bad.out" 2>"$TMP/bad.err" || rc=$?
	else
		host_user_pidns timeout 5 "$PASTA" --config-net "$opt" "$v" -- true \
			>"$TMP/bad.out" 2>"$TMP/bad.err" || rc=$?
	fi
	echo "$bin $opt '$v': exit $rc: $(grep -v syslog "$TMP/bad.err" | head -2 | tr '\n' ' ')"
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || return 1
	grep -Eiq -- "(^|[^[:alnum:]-])(${s:+-$s|}--$l|$l)([^[:alnum:]-]|\$)" "$TMP/bad.err"
}

# optname SHORT LONG: how the option is spelt on the command line
optname() { if [ -n "$1" ]; then printf -- "-%s" "$1"; else printf -- "--%s" "$2"; fi; }

LONG_V=$(printf 'x%.0s' $(seq 1 200))
BAD=(
	"a address 198.51.100.256" "a address bogus" "a address 2001:db8::g"
	"n netmask 33" "n netmask abc" "n netmask 255.0.255.0"
	"g gateway bogus" "g gateway 198.51.100.256"
	"M mac-addr 52:54:00:12:34" "M mac-addr zz:54:00:12:34:56"
	"m mtu 70000" "m mtu abc" "m mtu -1"
	"t tcp-ports 70000" "t tcp-ports abc" "t tcp-ports 10-5"
	"u udp-ports 70000" "u udp-ports abc"
	"- runas nosuchuser-$$" "- runas 4294967295:nosuchgroup-$$"
)
for b in "${BAD[@]}" "s socket /tmp/$LONG_V/s.sock"; do
	read -r s l v <<<"$b"
	[ "$s" = - ] && s=
	check "passt_bad $(optname "$s" "$l") ${v//$LONG_V/x...x}" refused passt "$s" "$l" "$v"
done
for b in "${BAD[@]}" "T tcp-ns 70000" "T tcp-ns abc" \
	 "U udp-ns 70000" "U udp-ns abc"; do
	read -r s l v <<<"$b"
	[ "$s" = - ] && s=
	check "pasta_bad $(optname "$s" "$l") $v" refused pasta "$s" "$l" "$v"
done

# --- --splice-only: no tap device in the namespace, only loopback ---------------
check "pasta_opt --splice-only" host_user_pidns timeout 20 "$PASTA" \
	--splice-only -- sh -c '! ip link show eth0 2>/dev/null'

# --- failures: before forking, status 1, one line on stderr -----------------
# one_line_fail NAME CMD...: CMD exits 1 (not by timeout), prints nothing on
# standard output and exactly one line on standard error
one_line_fail() {
	local name=$1 rc=0; shift
	"$@" >"$TMP/f.out" 2>"$TMP/f.err" || rc=$?
	echo "$name: exit $rc, stderr: $(head -3 "$TMP/f.err" | tr '\n' '|')"
	[ "$rc" = 1 ] && [ ! -s "$TMP/f.out" ] && [ "$(wc -l < "$TMP/f.err")" = 1 ]
}
FAILS=(
	"unknown_option|--no-such-option"
	"missing_argument|--netns"
	"netns_missing|--netns $O/nonexistent"
	"netns_not_ns|--netns /etc/hostname"
	"netns_and_command|--netns $O/nonexistent -- true"
	"userns_missing|--userns $O/nonexistent --netns $O/nonexistent"
	"pid_file_unwritable|-P /proc/nonexistent/pid --netns /proc/self/ns/net"
	"no_splice_host_lo|--no-splice --host-lo-to-ns-lo"
	"splice_only_config_net|--splice-only --config-net"
	"cidr_and_netmask|-a 198.51.100.20/24 -n 16"
	"bad_ifname_spec|-t 127.0.0.1%/10100"
	"bad_map_guest|--map-guest-addr bogus"
)
for f in "${FAILS[@]}"; do
	n=${f%%|*}; a=${f#*|}
	# shellcheck disable=SC2086 # a list of options
	check "pasta_fail_$n" one_line_fail "$n" host_user_pidns timeout 10 \
		"$PASTA" -q $a
done
# Started as root of a user namespace it owns (unshare -rU, as rootless
# podman runs it), pasta is not "root": no switch to nobody, and its
# failures still come before it forks. Here: a missing namespace path.
check pasta_fail_in_userns one_line_fail userns host_user timeout 10 \
	unshare -rU "$PASTA" -q --netns "$O/nonexistent"
check passt_fail_unknown_option one_line_fail passt host_user timeout 10 \
	"$PASST" --no-such-option
check passt_fail_in_userns_socket one_line_fail passt_userns host_user \
	timeout 10 unshare -rU "$PASST" -q -s /proc/nonexistent/passt.sock

# --- --help, --version ------------------------------------------------------------
HELP_COMMON="debug trace quiet foreground stderr log-file log-size runas help
	version pcap pid mtu address netmask mac-addr gateway interface dns
	dns-forward search no-tcp no-udp no-icmp no-dhcp no-ndp no-dhcpv6 no-ra
	no-map-gw ipv4-only ipv6-only tcp-ports udp-ports map-host-loopback
	map-guest-addr dns-host"
HELP_PASST="socket one-off no-dhcp-dns no-dhcp-search"
HELP_PASTA="ns-ifname tcp-ns udp-ns userns netns-only no-netns-quit nsrun-dir
	config-net ns-mac-addr dhcp-dns dhcp-search netns host-lo-to-ns-lo
	no-splice splice-only no-copy-routes no-copy-addrs"

# help_lists BIN OPTIONS: BIN --help exits 0 and mentions --OPTION for each
help_lists() {
	local bin=$1 rc=0 o missing=""; shift
	host_user "$bin" --help >"$TMP/help.out" 2>&1 || rc=$?
	for o in "$@"; do
		grep -q -- "--$o\b" "$TMP/help.out" || missing="$missing --$o"
	done
	echo "exit $rc, missing:${missing:- none}"
	[ "$rc" = 0 ] && [ -z "$missing" ]
}
# shellcheck disable=SC2086 # word lists
check passt_help help_lists "$PASST" $HELP_COMMON $HELP_PASST
# shellcheck disable=SC2086
check pasta_help help_lists "$PASTA" $HELP_COMMON $HELP_PASTA
# Every long option of --help (both modes) is in passt.1, and every option
# passt.1 describes is in --help
help_matches_man() {
	{ "$PASST" --help; "$PASTA" --help; } 2>&1 |
		grep -oE '(^|[ ,])--[a-z0-9-]+' | sed 's/^[ ,]//' |
		sort -u > "$TMP/help.opts"
	sed -n '/^\.SH OPTIONS/,/^\.SH EXIT/p' "$TOP/passt.1" |
		grep -E '^\.(B|BR|TP)' | grep -oE '\\-\\-[a-z0-9-]+' |
		sed 's/\\-\\-/--/' | sort -u > "$TMP/man.opts"
	diff "$TMP/help.opts" "$TMP/man.opts"
}
check options_help_matches_man help_matches_man
# --print-capabilities: JSON naming the back-end type, exit 0
check passt_print_capabilities sh -c "'$PASST' --print-capabilities | python3 -c 'import json, sys; assert json.load(sys.stdin)[\"type\"] == \"net\"'"
check passt_chroot_fallback_accepted passt_starts --chroot-fallback
check passt_version host_user "$PASST" --version
check pasta_version host_user "$PASTA" --version
check version_output sh -c "'$PASST' --version 2>&1 | grep -q ."
