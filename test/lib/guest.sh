# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/guest.sh - qemu guests for the passt cases, sourced after
# common.sh.
#
#  ns "host" ($NS_HOST)
#   passt -s SOCKET  <-- UNIX stream socket -->  qemu (TCG, test user)
#                                                 virtio-net-pci eth0
#                                                 52:54:00:12:34:56
#
# The guest (test/guest/build.sh) is Debian's kernel with a busybox
# initramfs; a case hands it a shell script that becomes /test.sh, and
# reads the guest's serial console from $TMP/NAME.console. The guest powers
# off by itself after /test.sh, so qemu exits.
#
# Timing, measured under TCG on a 2-core machine: power-on to "GUEST-INIT up"
# about 5 s, to power-off after the DHCP/SLAAC/ARP script about 8 s.
# GUEST_TIMEOUT (120 s) bounds each wait generously for loaded CI machines.

GUEST_DIR=${GUEST_DIR:-$TOP/test/build/guest}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-120}
GUEST_MAC=${GUEST_MAC:-52:54:00:12:34:56}
GUEST_NAMES=()

# guest_build: build (or reuse the cached) kernel and base initramfs
guest_build() {
	bash "$TOP/test/guest/build.sh" "$GUEST_DIR"
}

# guest_require NAME [TOOL...]: check what a guest case needs (passt, qemu,
# the TOOLs, a built guest); if something is missing, report NAME as
# skipped, saying why, and return 1
guest_require() {
	local name=$1 t
	shift
	if [ ! -x "$PASST" ]; then
		skip "$name" "no passt binary at $PASST"
		return 1
	fi
	for t in qemu-system-x86_64 "$@"; do
		if ! command -v "$t" >/dev/null; then
			skip "$name" "$t not installed"
			return 1
		fi
	done
	if ! guest_build; then
		skip "$name" "cannot build the guest kernel/initramfs"
		return 1
	fi
}

# guest_net_up: print the guest shell lines that bring eth0 up: DHCPv4
# with busybox udhcpc, then up to 30 s for passt's router advertisement to
# give a global 2001:db8: address (out of tentative state) and the IPv6
# default route. For a case's test script: $(guest_net_up) in its here-doc
guest_net_up() {
	cat <<'EOF'
udhcpc -i eth0 -n -q -t 5 -T 3 -O mtu -s /usr/share/udhcpc/default.script
n=0
while [ $n -lt 150 ]; do
	ip -6 addr show dev eth0 scope global | grep -q 'inet6 2001:db8:' && \
		! ip -6 addr show dev eth0 | grep -q tentative && \
		ip -6 route show default | grep -q . && break
	sleep 0.2
	n=$((n + 1))
done
EOF
}

# guest_initrd OUT TESTSCRIPT: write to OUT the base initramfs followed by a
# second cpio archive holding TESTSCRIPT as /test.sh; the kernel unpacks
# concatenated archives in order
guest_initrd() {
	local out=$1 script=$2 d
	d=$(mktemp -d "$TMP/initrd.XXXXXX")
	install -m 755 "$script" "$d/test.sh"
	cp "$GUEST_DIR/initramfs.cpio" "$out"
	(cd "$d" && echo test.sh | cpio -o -H newc -R 0:0 --quiet) >> "$out"
	rm -rf "$d"
}

# guest_start NAME SOCKET TESTSCRIPT: boot a guest connected to the passt
# UNIX socket SOCKET, as the test user in the host namespace; console in
# $TMP/NAME.console, qemu's own output in $TMP/NAME.log, PID in
# $TMP/NAME.pid
guest_start() {
	local name=$1 sock=$2 script=$3 kernel

	if [ ! -s "$GUEST_DIR/vmlinuz" ] || [ ! -s "$GUEST_DIR/initramfs.cpio" ]; then
		guest_build || return 1
	fi
	# Private copies: the test user may not be able to read the build tree
	kernel=$TMP/guest-vmlinuz
	[ -f "$kernel" ] || install -m 644 "$GUEST_DIR/vmlinuz" "$kernel"
	guest_initrd "$TMP/$name.initrd" "$script"
	chmod 644 "$TMP/$name.initrd"
	: > "$TMP/$name.console"
	chown "$TEST_UID:$TEST_GID" "$TMP/$name.console"

	# No -enable-kvm: guests under KVM stall in the firmware on these
	# machines. No option ROM (iPXE) on the NIC: we boot with -kernel. ip netns exec and setpriv exec, so the PID is qemu's.
	# GUEST_QRAP=1: connect through qrap and qemu's "socket" back-end
	# (descriptor 5) instead of the "stream" back-end; qrap execs qemu
	local wrap=() netdev="stream,id=n0,server=off,addr.type=unix,addr.path=$sock"
	if [ "${GUEST_QRAP:-0}" = 1 ]; then
		wrap=(env "PASST_SOCKET=$sock" "$TOP/qrap" 5)
		netdev="socket,fd=5,id=n0"
	fi
	bg "$name" host_user "${wrap[@]}" qemu-system-x86_64 \
		-machine q35 -cpu max -m 256 -smp 1 \
		-nodefaults -nographic -no-reboot \
		-kernel "$kernel" -initrd "$TMP/$name.initrd" \
		-append 'console=ttyS0 quiet panic=-1' \
		-serial "file:$TMP/$name.console" \
		-netdev "$netdev" \
		-device "virtio-net-pci,netdev=n0,mac=$GUEST_MAC,romfile="
	GUEST_NAMES+=("$name")
}

# guest_wait NAME PATTERN [SECONDS]: wait until a line of the console
# matches the extended regular expression PATTERN; fails early if qemu
# exited without printing it
guest_wait() {
	local name=$1 pattern=$2 t=$(( ${3:-$GUEST_TIMEOUT} * 10 )) pid
	pid=$(cat "$TMP/$name.pid")
	while [ $t -gt 0 ]; do
		grep -qE -- "$pattern" "$TMP/$name.console" 2>/dev/null && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			grep -qE -- "$pattern" "$TMP/$name.console" 2>/dev/null
			return
		fi
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

# guest_exit NAME [SECONDS]: wait (bounded) for qemu to exit after the
# guest powered off; returns 1 if it is still running
guest_exit() {
	local name=$1 t=$(( ${2:-$GUEST_TIMEOUT} * 10 )) pid
	pid=$(cat "$TMP/$name.pid")
	while [ $t -gt 0 ]; do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

# guest_stop [NAME]: stop the guest NAME (default: all started), killing
# only qemu processes this case started
guest_stop() {
	local n pid names
	if [ $# -gt 0 ]; then names=("$@"); else names=("${GUEST_NAMES[@]}"); fi
	for n in "${names[@]}"; do
		pid=$(cat "$TMP/$n.pid" 2>/dev/null) || continue
		kill "$pid" 2>/dev/null || continue
		guest_exit "$n" 5 || kill -9 "$pid" 2>/dev/null || true
	done
}

# guest_console NAME: print the console log, for failure reports
guest_console() {
	echo "--- console of $1:"
	# without the firmware's terminal escapes; the last line may lack \n
	tr -d '\r' < "$TMP/$1.console" 2>/dev/null | \
		sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' || true
	echo
	echo "--- qemu output of $1:"
	cat "$TMP/$1.log" 2>/dev/null || true
}
