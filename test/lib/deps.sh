# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/deps.sh - Install the Debian packages the suite needs, if missing

DEPS_PKGS="build-essential iproute2 util-linux procps passt slirp4netns
	iperf3 socat busybox-static isc-dhcp-client iputils-ping
	iputils-arping curl qemu-system-x86 linux-image-amd64 tcpdump
	python3 ethtool kmod cpio cppcheck clang-tidy clang libclang-rt-14-dev strace"

deps_install() {
	local missing="" p
	for p in $DEPS_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | \
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}
