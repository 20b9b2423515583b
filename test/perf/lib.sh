# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/perf/lib.sh - Sourced by the benchmarks: topology, the four variants
# under comparison, result recording and table printing.
#
#  ns "remote" (servers: iperf3 -s, rr -s)
#   lo: 203.0.113.1, 2001:db8:1::1      <- every measurement targets these
#   eth0 198.51.100.1/24, 2001:db8::1/64, MTU 65520
#     |  veth
#   eth0 198.51.100.2/24, 2001:db8::2/64, MTU 65520
#  ns "host" (test user runs pasta / slirp4netns here; forwards for veth)
#     |
#     +-- ours:  $PASTA --config-net -m MTU      (user+net ns, tap eth0)
#     +-- nooff: $PASTA --config-net -m MTU --no-tap-offload
#     +-- ref:   /usr/bin/pasta --config-net -m MTU
#     +-- slirp: unshare -Urn sleep + slirp4netns --configure --mtu=MTU
#     |          --disable-host-loopback [--enable-ipv6] (tap0, 10.0.2.100)
#     +-- veth:  ns "pvn": veth 192.0.2.2/24, 2001:db8:2::2/64 (MTU both
#                ends), host routes and forwards, remote routes back
#
# Clients (iperf3 -c, rr -c, ping) run as root in the variant's namespace;
# pasta and slirp4netns run as the unprivileged test user. The link between
# "host" and "remote" has MTU 65520 for all variants, so that it is never
# the bottleneck: the MTU in the tables is the one of the namespace's own
# interface (tap or veth).
#
# Results go to $PERF_RES/<variant> as "KEY VALUE" lines; a value that could
# not be measured is "n/a". Nothing here fails: a variant that does not come
# up, or a measurement that times out, gives n/a and the run goes on.

PERF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$PERF_DIR/../.." && pwd)
OURS_PASTA=${PASTA:-$TOP/pasta}
REF_PASTA=${REF_PASTA:-/usr/bin/pasta}
export TOP

. "$TOP/test/lib/common.sh"

PERF_VARIANTS="ours nooff ref slirp veth"

# perf_ref_version: what the reference binary says it is (--version), not
# what a package of that name happens to be installed at
perf_ref_version() {
	"$REF_PASTA" --version 2>/dev/null | head -1 | grep . || echo unknown
}
PERF_T=${PERF_T:-3}		# seconds measured per iperf3 / rr run
PERF_RUNS=${PERF_RUNS:-1}	# splice rows: runs each, the median counts
PERF_OMIT=1			# iperf3 seconds omitted (slow start)
PERF_TIMEOUT=$((PERF_T + PERF_OMIT + 10))	# bound on any single run
IPERF_PORT=5201
RR_PORT=5300
RR=$PERF_DIR/build/rr
DST4=$REMOTE_LO4
DST6=$REMOTE_LO6

NS_VETH=pvn$$
VETH4=192.0.2.2
VETH4_GW=192.0.2.1
VETH6=2001:db8:2::2
VETH6_GW=2001:db8:2::1

VARIANT=
CLIENT_PID=
HAVE4=0
HAVE6=0

# perf_log MSG...: progress and failure reasons, to stderr and the run log
perf_log() { echo "[perf] $*" | tee -a "$PERF_RES/log" >&2; }

# perf_build: compile rr into test/perf/build/
perf_build() {
	mkdir -p "$PERF_DIR/build"
	cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -pedantic -Wshadow \
		-Wpointer-arith -Wcast-qual -Wmissing-prototypes \
		-Wstrict-prototypes -Wformat=2 -Werror \
		-o "$RR" "$PERF_DIR/rr.c"
}

# iperf_server_start / iperf_server_restart: long-lived iperf3 servers in
# "remote", one bound to each target address (a reply from an unbound UDP
# socket would leave from the eth0 address, and clients drop it); restarted
# after a client failed, as the server may be stuck with that client
iperf_server_start() {
	bg iperfsrv4 in_remote iperf3 -s -p $IPERF_PORT -B $DST4
	bg iperfsrv6 in_remote iperf3 -s -p $IPERF_PORT -B $DST6
	wait_for 5 sh -c "[ \$(ip netns exec $NS_REMOTE ss -Hltn 'sport = :$IPERF_PORT' | wc -l) = 2 ]"
}
iperf_server_restart() {
	local p n
	for n in iperfsrv4 iperfsrv6; do
		p=$(cat "$TMP/$n.pid" 2>/dev/null) || continue
		kill "$p" 2>/dev/null
		wait_for 3 pid_gone "$p" || kill -9 "$p" 2>/dev/null
	done
	iperf_server_start
}

# perf_setup: topology, sysctls, servers in "remote"
perf_setup() {
	PERF_RES=${PERF_RES:-$TOP/test/perf/results/$(date +%Y%m%d-%H%M%S)}
	mkdir -p "$PERF_RES"
	: > "$PERF_RES/rows"
	. "$TOP/test/lib/deps.sh"
	deps_install || perf_log "package install failed: some rows may be n/a"
	perf_build

	# the veth variant's namespace too, if the run stops half-way
	trap 'ip netns del "$NS_VETH" 2>/dev/null; cleanup' EXIT
	topo_setup
	in_remote ip link set eth0 mtu 65520
	in_host ip link set eth0 mtu 65520
	# connections per second: client namespaces and the host (where
	# pasta's sockets live) reuse TIME_WAIT ports, with a wide range
	in_host sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
	in_host sysctl -qw net.ipv4.tcp_tw_reuse=1

	iperf_server_start
	bg rrsrv4 in_remote "$RR" -s -b $DST4 -p $RR_PORT
	bg rrsrv6 in_remote "$RR" -s -b $DST6 -p $RR_PORT
	wait_for 5 sh -c "[ \$(ip netns exec $NS_REMOTE ss -Hltn 'sport = :$RR_PORT' | wc -l) = 2 ]"
}

# in_client_t SECS CMD...: run CMD as root in the current variant's
# namespace, killed after SECS seconds
in_client_t() {
	local t=$1; shift
	case $VARIANT in
	veth)	timeout -k 2 "$t" ip netns exec "$NS_VETH" "$@" ;;
	*)	timeout -k 2 "$t" nsenter -t "$CLIENT_PID" -n -- "$@" ;;
	esac
}

# in_client CMD...: as in_client_t, bounded by $PERF_TIMEOUT
in_client() { in_client_t "$PERF_TIMEOUT" "$@"; }

# client_tune: per-namespace sysctls for the connection-rate measurement
client_tune() {
	in_client sysctl -qw net.ipv4.ip_local_port_range="10000 65000" || true
	in_client sysctl -qw net.ipv4.tcp_tw_reuse=1 || true
}

# v6_ready DEV: true once no IPv6 address on DEV is tentative
v6_ready() {
	in_client ip -6 addr show dev "$1" | grep -q 'scope global' &&
		! in_client ip -6 addr show dev "$1" | grep -q tentative
}

# probe: which address families reach "remote" at all (one short TCP
# transaction each), so that a broken variant costs seconds, not minutes
probe() {
	HAVE4=0
	HAVE6=0
	in_client_t 5 "$RR" -c $DST4 -p $RR_PORT -m tcp_rr -t 1 \
		>/dev/null 2>&1 && HAVE4=1
	in_client_t 5 "$RR" -c $DST6 -p $RR_PORT -m tcp_rr -t 1 \
		>/dev/null 2>&1 && HAVE6=1
	perf_log "$VARIANT: reaches remote: IPv4 $HAVE4, IPv6 $HAVE6"
}

# variant_start VARIANT MTU: bring up one variant, set CLIENT_PID (or the
# veth namespace), HAVE4 and HAVE6. Return: non-zero if it did not start
variant_start() {
	VARIANT=$1
	local mtu=$2 t v6

	perf_log "starting $VARIANT, MTU $mtu"
	case $VARIANT in
	ours|nooff|ref)
		local opt=
		if [ $VARIANT = ref ]; then PASTA=$REF_PASTA
		else PASTA=$OURS_PASTA; fi
		[ $VARIANT = nooff ] && opt=--no-tap-offload
		# shellcheck disable=SC2086
		if [ ! -x "$PASTA" ] || ! pasta_start --config-net -m "$mtu" $opt; then
			perf_log "$VARIANT: $PASTA did not start"
			cp "$TMP/pasta.log" "$PERF_RES/$VARIANT-$mtu.pasta.log" 2>/dev/null
			pasta_stop
			return 1
		fi
		CLIENT_PID=$NS_PID
		wait_for 5 v6_ready eth0 || true
		# --config-net should set the tap MTU from -m: make sure
		in_client ip link set dev eth0 mtu "$mtu" 2>/dev/null || true
		;;
	slirp)
		bg slirpns host_user unshare --user --map-root-user --net -- \
			sleep 600
		CLIENT_PID=$(cat "$TMP/slirpns.pid")
		# unshare execs sleep: wait until it is in its own namespace
		t=50
		while [ $t -gt 0 ] && [ "$(readlink /proc/$CLIENT_PID/ns/net 2>/dev/null)" = \
			"$(readlink /proc/self/ns/net)" ]; do sleep 0.1; t=$((t - 1)); done
		for v6 in --enable-ipv6 ""; do
			bg slirp host_user slirp4netns --configure --mtu="$mtu" \
				--disable-host-loopback $v6 "$CLIENT_PID" tap0
			if wait_for 5 sh -c "nsenter -t $CLIENT_PID -n ip -4 addr show dev tap0 | grep -q 10.0.2.100"; then
				break
			fi
			perf_log "slirp4netns $v6 did not start: $(tail -2 "$TMP/slirp.log" | tr '\n' ' ')"
			kill "$(cat "$TMP/slirp.pid")" 2>/dev/null
			rm -f "$TMP/slirp.pid"
		done
		if [ ! -f "$TMP/slirp.pid" ]; then
			variant_stop
			return 1
		fi
		wait_for 5 v6_ready tap0 || true
		;;
	veth)
		ip netns add "$NS_VETH"
		ip link add "vv$$" type veth peer name "vn$$"
		ip link set "vv$$" netns "$NS_VETH" name eth0
		ip link set "vn$$" netns "$NS_HOST" name veth0
		in_client ip link set lo up
		in_client ip link set eth0 mtu "$mtu" up
		in_client ip addr add $VETH4/24 dev eth0
		in_client ip addr add $VETH6/64 dev eth0 nodad
		in_client ip route add default via $VETH4_GW
		in_client ip -6 route add default via $VETH6_GW
		in_host ip link set veth0 mtu "$mtu" up
		in_host ip addr add $VETH4_GW/24 dev veth0
		in_host ip addr add $VETH6_GW/64 dev veth0 nodad
		in_host sysctl -qw net.ipv4.ip_forward=1
		in_host sysctl -qw net.ipv6.conf.all.forwarding=1
		in_remote ip route add 192.0.2.0/24 via $HOST4
		in_remote ip -6 route add 2001:db8:2::/64 via $HOST6
		in_client sysctl -qw net.ipv4.ping_group_range="0 2147483647"
		wait_for 5 v6_ready eth0 || true
		;;
	esac
	client_tune
	probe
	return 0
}

# variant_stop: tear down what variant_start brought up
variant_stop() {
	local p
	case $VARIANT in
	ours|nooff|ref)
		pasta_stop
		;;
	slirp)
		for n in slirp slirpns; do
			p=$(cat "$TMP/$n.pid" 2>/dev/null) || continue
			kill "$p" 2>/dev/null
			wait_for 3 pid_gone "$p" || kill -9 "$p" 2>/dev/null
			rm -f "$TMP/$n.pid"
		done
		;;
	veth)
		in_remote ip route del 192.0.2.0/24 2>/dev/null
		in_remote ip -6 route del 2001:db8:2::/64 2>/dev/null
		in_host sysctl -qw net.ipv4.ip_forward=0
		in_host sysctl -qw net.ipv6.conf.all.forwarding=0
		ip netns del "$NS_VETH" 2>/dev/null
		;;
	esac
	CLIENT_PID=
	VARIANT=
	return 0
}

# row CATEGORY KEY KIND LABEL: declare a table row, in print order.
# KIND: "hi" (higher is better, ratio printed), "lo" (lower is better,
# ratio printed), "-" (no ratio: loss percentages)
row() { echo "$1|$2|$3|$4" >> "$PERF_RES/rows"; }

# rec KEY VALUE: record a measurement of the current variant
rec() {
	echo "$1 $2" >> "$PERF_RES/$VARIANT"
	printf '[perf] %-6s %-28s %s\n' "$VARIANT" "$1" "$2" >&2
}

# median V...: the median of the numeric arguments (the lower middle one
# for an even count), n/a if there's none
median() {
	printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g |
		awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "n/a" }'
}

# json_get FILE EXPR: print a number from iperf3's JSON output, EXPR a
# Python subscript chain on the parsed document, e.g. ['end']['sum']
json_get() {
	python3 -c "import json,sys
try:
    d = json.load(open(sys.argv[1]))
    print(d$2)
except Exception:
    sys.exit(1)" "$1" 2>/dev/null
}

# pasta_cpu_ticks: user plus system CPU time of the current variant's pasta
# process so far, in clock ticks (/proc/PID/stat fields 14 and 15), empty
# for variants without one
pasta_cpu_ticks() {
	case $VARIANT in
	ours|nooff|ref) ;;
	*) return 0 ;;
	esac
	[ -n "${PASTA_PID:-}" ] || return 0
	# the command name, field 2, may hold spaces: count after its ')'
	sed 's/.*) //' "/proc/$PASTA_PID/stat" 2>/dev/null |
		awk '{ print $12 + $13 }'
}

# cpu_per_gbps TICKS0 TICKS1 SECONDS GBPS: percent of one CPU that pasta
# used over SECONDS of wall clock, per Gbit/s it carried; n/a if unknown
cpu_per_gbps() {
	awk -v a="$1" -v b="$2" -v s="$3" -v g="$4" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		if (a == "" || b == "" || s + 0 <= 0 || g !~ /^[0-9.]+$/ || g + 0 == 0)
			print "n/a"
		else
			printf "%.1f\n", (b - a) / hz / s * 100 / g
	}'
}

# perf_value VARIANT KEY: the recorded value, or n/a
perf_value() {
	local v
	v=$(awk -v k="$2" '$1 == k { v = $2 } END { print v }' \
		"$PERF_RES/$1" 2>/dev/null)
	echo "${v:-n/a}"
}

# ratio A B: A/B with two decimals, n/a unless both are numbers
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0)
			print "n/a"
		else
			printf "%.2f\n", a / b
	}'
}

# perf_tables: one table per category, in the order rows were declared
perf_tables() {
	local cat key kind label last="" o n r s v
	while IFS='|' read -r cat key kind label; do
		if [ "$cat" != "$last" ]; then
			echo
			echo "$cat"
			printf '%-46s %9s %9s %9s %9s %9s %8s %8s %8s\n' "" \
				ours no-offl reference slirp veth \
				ours/ref ours/veth ours/no-o
			last=$cat
		fi
		o=$(perf_value ours "$key")
		n=$(perf_value nooff "$key")
		r=$(perf_value ref "$key")
		s=$(perf_value slirp "$key")
		v=$(perf_value veth "$key")
		if [ "$kind" = "-" ]; then
			printf '%-46s %9s %9s %9s %9s %9s %8s %8s %8s\n' "$label" \
				"$o" "$n" "$r" "$s" "$v" "" "" ""
		else
			printf '%-46s %9s %9s %9s %9s %9s %8s %8s %8s\n' "$label" \
				"$o" "$n" "$r" "$s" "$v" "$(ratio "$o" "$r")" \
				"$(ratio "$o" "$v")" "$(ratio "$o" "$n")"
		fi
	done < "$PERF_RES/rows"
}

# perf_main ROWS_FN... -- MEASURE_FN...: the whole run. Declares rows, then
# for each variant and each MTU brings the variant up once and calls every
# MEASURE_FN with the MTU as argument, then prints the tables
perf_main() {
	local rows=() meas=() v mtu
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do rows+=("$1"); shift; done
	shift
	meas=("$@")

	if [ "$(id -u)" != 0 ]; then
		echo "test/perf: must run as root (it creates network namespaces)" >&2
		exit 1
	fi
	perf_setup
	for f in "${rows[@]}"; do "$f"; done

	local start started
	start=$(date +%s)
	started=$(date -u '+%Y-%m-%d %H:%M UTC')
	for v in ${PERF_ONLY:-$PERF_VARIANTS}; do
		for mtu in 65520 1500; do
			if ! variant_start "$v" "$mtu"; then
				continue
			fi
			for f in "${meas[@]}"; do "$f" "$mtu"; done
			variant_stop
		done
	done

	{
		echo "passt/pasta benchmarks, started $started, $(nproc) CPUs, kernel $(uname -r)"
		echo "ours: $OURS_PASTA ($(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)); no-offl: the same with --no-tap-offload"
		echo "reference: $REF_PASTA ($(perf_ref_version)), slirp4netns $(slirp4netns --version 2>/dev/null | head -1 | awk '{print $3}')"
		echo "each value: one run of ${PERF_T}s; n/a: variant or measurement failed (see log)"
		perf_tables
		echo
		echo "run time: $(( $(date +%s) - start ))s"
	} | tee "$PERF_RES/tables.txt"
}
