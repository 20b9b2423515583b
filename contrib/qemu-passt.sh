#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# contrib/qemu-passt.sh - Start passt, then qemu connected to it with the
# stream back-end (qemu >= 7.2). passt goes to the background as soon as its
# socket is ready, and quits with --one-off when qemu goes away.
#
# Usage: contrib/qemu-passt.sh [QEMU ARGS...]

set -eu
PASST=${PASST:-passt}
QEMU=${QEMU:-qemu-system-x86_64}
SOCK=${XDG_RUNTIME_DIR:-/tmp}/passt-qemu.$$.socket

"$PASST" --one-off -s "$SOCK"
exec "$QEMU" "$@" \
	-device virtio-net-pci,netdev=n0 \
	-netdev stream,id=n0,server=off,addr.type=unix,addr.path="$SOCK"
