#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# doc/demo.sh - Try pasta or passt in a sandbox of two network namespaces,
# without touching the machine's own network (run as root):
#
#  ns "demo-remote"                          ns "demo-host"
#   lo 203.0.113.1, 2001:db8:1::1             default via 198.51.100.1 / 2001:db8::1
#   eth0 198.51.100.1/24, 2001:db8::1/64 <--> eth0 198.51.100.2/24, 2001:db8::2/64
#   (busybox httpd on port 80)                pasta's namespace, or passt + qemu
#
# Usage: doc/demo.sh pasta     a shell in a pasta namespace: try
#                              `wget -O- http://198.51.100.1/` (once TCP lands)
#        doc/demo.sh passt     start passt in demo-host, print the qemu line
#        doc/demo.sh clean     remove the namespaces
# USER_NAME=someone runs pasta/passt as that user (default: nobody).

set -eu
cd "$(dirname "$0")/.."
R=demo-remote H=demo-host U=${USER_NAME:-nobody}

clean() {
	ip netns del $H 2>/dev/null || true
	ip netns del $R 2>/dev/null || true
	rm -rf /etc/netns/$H
}

setup() {
	clean
	ip netns add $R; ip netns add $H
	ip link add demo-r type veth peer name demo-h
	ip link set demo-r netns $R name eth0
	ip link set demo-h netns $H name eth0
	ip -n $R link set lo up; ip -n $R link set eth0 up
	ip -n $R addr add 203.0.113.1/32 dev lo
	ip -n $R addr add 2001:db8:1::1/128 dev lo nodad
	ip -n $R addr add 198.51.100.1/24 dev eth0
	ip -n $R addr add 2001:db8::1/64 dev eth0 nodad
	ip -n $H link set lo up; ip -n $H link set eth0 up
	ip -n $H addr add 198.51.100.2/24 dev eth0
	ip -n $H addr add 2001:db8::2/64 dev eth0 nodad
	ip -n $H route add default via 198.51.100.1
	ip -n $H -6 route add default via 2001:db8::1
	mkdir -p /etc/netns/$H
	printf 'nameserver 203.0.113.1\nsearch example.org\n' \
		> /etc/netns/$H/resolv.conf
	mkdir -p /tmp/demo-www && echo "hello from demo-remote" \
		> /tmp/demo-www/index.html
	ip netns exec $R busybox httpd -p 80 -h /tmp/demo-www
	chmod 0666 /dev/net/tun
}

case "${1:-}" in
pasta)
	setup
	ip netns exec $H setpriv --reuid="$U" --regid="$(id -g "$U")" \
		--clear-groups -- ./pasta --config-net
	;;
passt)
	setup
	ip netns exec $H setpriv --reuid="$U" --regid="$(id -g "$U")" \
		--clear-groups -- ./passt -s /tmp/demo-passt.socket
	echo "now: ip netns exec $H qemu-system-x86_64 ... -device" \
	     "virtio-net-pci,netdev=n -netdev stream,id=n,server=off," \
	     "addr.type=unix,addr.path=/tmp/demo-passt.socket"
	;;
clean)
	clean
	;;
*)
	sed -n '3,18p' "$0"
	exit 1
	;;
esac
