#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/guest/build.sh - Kernel and initramfs for the qemu guest of the passt
# tests, built from what Debian already installed: no network, no compiler.
#
# Output, in test/build/guest/ (or $1):
#   vmlinuz          newest /boot/vmlinuz-* (Debian's linux-image-amd64)
#   initramfs.cpio   busybox-static with its applets linked, the modules a
#                    virtio-net NIC on PCI needs (with their dependencies, in
#                    load order), a udhcpc script, and /init
#   stamp            hash of this script + kernel version: nothing is rebuilt
#                    while it matches
#
# Theory of operation of the guest: /init mounts proc, sys and dev, loads
# the modules, brings up lo and eth0 with IPv6 autoconfiguration enabled,
# runs /test.sh (if any) with its output on the serial console, then powers
# off. Per-test scripts are not part of this image: test/lib/guest.sh
# appends a second cpio archive holding /test.sh, and the kernel unpacks
# concatenated archives over each other (see the kernel's
# Documentation/driver-api/early-userspace/buffer-format.rst).
#
# The console lines the tests rely on:
#   GUEST-INIT up                 /init reached user space, NIC loaded
#   DHCP ip=A mask=P router=R mtu=M dns=D...
#                                 printed by the udhcpc script on a lease
#   GUEST-TEST rc=N               /test.sh finished with status N
#   GUEST-INIT poweroff           about to power off

set -eu

SELF=$(readlink -f "$0")
TOP=${TOP:-$(cd "$(dirname "$SELF")/../.." && pwd)}
OUT=${1:-$TOP/test/build/guest}

# The kernel module chain of a virtio-net NIC behind virtio-pci (modern and
# legacy transports); whatever of it is built in is skipped
GUEST_MODULES="virtio_pci virtio_net"

die() { echo "guest/build.sh: $*" >&2; exit 1; }

KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
[ -n "$KERNEL" ] || die "no /boot/vmlinuz-*: install linux-image-amd64"
KVER=${KERNEL#/boot/vmlinuz-}
[ -d "/lib/modules/$KVER" ] || die "no /lib/modules/$KVER"
BUSYBOX=/bin/busybox
"$BUSYBOX" --list 2>/dev/null | grep -qx udhcpc || \
	die "$BUSYBOX is missing or has no udhcpc: install busybox-static"
if command -v file >/dev/null && \
   file -L "$BUSYBOX" | grep -q 'dynamically'; then
	die "$BUSYBOX is dynamically linked: install busybox-static"
fi

stamp="$(sha256sum "$SELF" | cut -d' ' -f1) $KVER"
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ] && \
   [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initramfs.cpio" ]; then
	exit 0
fi

echo "guest/build.sh: building guest for kernel $KVER in $OUT"
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/passt-guest.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root

# mod_file NAME: path of the module, empty if built in
mod_file() {
	local f
	f=$(modinfo -k "$KVER" -F filename "$1" 2>/dev/null | head -1) || \
		die "module $1 not found for $KVER"
	case "$f" in
	""|"(builtin)") ;;
	*) echo "$f" ;;
	esac
}

# mod_add NAME: append NAME to ORDER after its dependencies (depth-first,
# the depth bounded by the number of modules in a kernel, and cycles cut
# by the "visiting" mark)
ORDER=()
declare -A SEEN=()
mod_add() {
	local m=${1//-/_} d deps
	[ -z "${SEEN[$m]:-}" ] || return 0
	modinfo -k "$KVER" -F filename "$m" >/dev/null 2>&1 || \
		die "module $m not found for kernel $KVER"
	SEEN[$m]=visiting
	deps=$(modinfo -k "$KVER" -F depends "$m" 2>/dev/null) || true
	for d in ${deps//,/ }; do
		mod_add "$d"
	done
	SEEN[$m]=loaded
	[ -n "$(mod_file "$m")" ] && ORDER+=("$m")
	return 0
}
for m in $GUEST_MODULES; do mod_add "$m"; done

mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root}
mkdir -p "$ROOT/lib/modules" "$ROOT/usr/share/udhcpc"
cp "$BUSYBOX" "$ROOT/bin/busybox"
for a in $("$BUSYBOX" --list-full); do
	[ "$a" = bin/busybox ] && continue
	mkdir -p "$ROOT/$(dirname "$a")"
	ln -sf /bin/busybox "$ROOT/$a"
done

# Dynamically linked tools the TCP/UDP cases run in the guest, with their
# libraries and the dynamic loader (ldd lists them; paths kept as they are)
GUEST_TOOLS=${GUEST_TOOLS:-"curl iperf3 socat"}
for t in $GUEST_TOOLS; do
	p=$(command -v "$t") || die "$t not found: install it (test/lib/deps.sh)"
	cp -L "$p" "$ROOT/usr/bin/$t"
	for l in $(ldd "$p" | grep -o '/[^ ]*'); do
		mkdir -p "$ROOT/$(dirname "$l")"
		[ -e "$ROOT/$l" ] || cp -L "$l" "$ROOT/$l"
	done
done
# curl's and iperf3's name lookups read these; certificates aren't needed
printf 'hosts: files dns\n' > "$ROOT/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$ROOT/etc/hosts"

# Modules, uncompressed (busybox insmod may lack xz/zstd support), numbered
# in load order
i=0
: > "$ROOT/lib/modules/order"
for m in "${ORDER[@]}"; do
	f=$(mod_file "$m")
	dst=$ROOT/lib/modules/$(printf '%02d' $i)-$m.ko
	case "$f" in
	*.ko.xz)  xz -dc "$f" > "$dst" ;;
	*.ko.zst) zstd -qdc "$f" > "$dst" ;;
	*.ko.gz)  gzip -dc "$f" > "$dst" ;;
	*.ko)     cp "$f" "$dst" ;;
	*)        die "unknown module format: $f" ;;
	esac
	basename "$dst" >> "$ROOT/lib/modules/order"
	i=$((i + 1))
done
echo "guest/build.sh: modules: ${ORDER[*]:-(all built in)}"

# udhcpc event script: apply the lease with ip(8), print it on the console
cat > "$ROOT/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
# udhcpc event script: apply the lease with ip, print it for the tests
case "$1" in
deconfig)
	ip -4 addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound|renew)
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	[ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
	for r in $router; do
		ip route replace default via "$r" dev "$interface"
		break
	done
	: > /etc/resolv.conf
	[ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
	for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
	echo "DHCP ip=$ip mask=$mask router=$router mtu=$mtu dns=$(echo $dns | tr ' ' ',') domain=$domain"
	;;
leasefail|nak)
	echo "DHCP $1"
	;;
esac
exit 0
EOF
chmod 755 "$ROOT/usr/share/udhcpc/default.script"

cat > "$ROOT/init" <<'EOF'
#!/bin/sh
# /init of the passt test guest: network up, run /test.sh, power off
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null || mdev -s
mkdir -p /dev/pts /run /tmp
exec 0</dev/console 1>/dev/console 2>&1

while read -r m; do
	insmod "/lib/modules/$m" || echo "GUEST-INIT insmod $m failed"
done < /lib/modules/order

hostname guest
ip link set lo up
# RFC 4862 autoconfiguration on every interface, also ones created later
for c in all default; do
	sysctl -qw net.ipv6.conf.$c.accept_ra=1
	sysctl -qw net.ipv6.conf.$c.autoconf=1
done
n=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $n -lt 50 ]; do
	sleep 0.1; n=$((n + 1))
done
sysctl -qw net.ipv6.conf.eth0.accept_ra=1 2>/dev/null
sysctl -qw net.ipv6.conf.eth0.autoconf=1 2>/dev/null
ip link set eth0 up || echo "GUEST-INIT no eth0"
echo "GUEST-INIT up"

if [ -f /test.sh ]; then
	sh /test.sh
	echo "GUEST-TEST rc=$?"
fi
echo "GUEST-INIT poweroff"
sync
poweroff -f
EOF
chmod 755 "$ROOT/init"
echo "root:x:0:0:root:/root:/bin/sh" > "$ROOT/etc/passwd"
echo "root:x:0:" > "$ROOT/etc/group"

(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | \
	cpio --null -o -H newc -R 0:0 --quiet) > "$WORK/initramfs.cpio"
install -m 644 "$KERNEL" "$OUT/vmlinuz"
install -m 644 "$WORK/initramfs.cpio" "$OUT/initramfs.cpio"
echo "$stamp" > "$OUT/stamp"
echo "guest/build.sh: done ($(du -h "$OUT/initramfs.cpio" | cut -f1) initramfs)"
