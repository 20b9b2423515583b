#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/passt_fd.py - passt -F/--fd: start passt on one end of a
# socketpair, ask for the gateway's MAC address with ARP on the other end
# (frames with passt's 32-bit length prefix), check the answer, then close:
# passt must exit 0 by itself (-F implies --one-off). Bounded in time.
#
# Usage: passt_fd.py PASST GATEWAY4

import socket, struct, subprocess, sys, time

passt, gw = sys.argv[1], sys.argv[2]
guest_mac = bytes.fromhex('525400123456')
guest_ip = socket.inet_aton('198.51.100.2')

a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
p = subprocess.Popen([passt, '-f', '-q', '-F', str(b.fileno())],
                     pass_fds=[b.fileno()])
b.close()

arp = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + guest_mac + guest_ip + \
      b'\0' * 6 + socket.inet_aton(gw)
frame = b'\xff' * 6 + guest_mac + b'\x08\x06' + arp
a.sendall(struct.pack('!I', len(frame)) + frame)

a.settimeout(1)
buf, found, end = b'', None, time.monotonic() + 5
while not found and time.monotonic() < end:
    try:
        d = a.recv(65536)
    except socket.timeout:
        continue
    if not d:
        break
    buf += d
    while len(buf) >= 4:
        n = struct.unpack('!I', buf[:4])[0]
        if len(buf) < 4 + n:
            break
        f, buf = buf[4:4 + n], buf[4 + n:]
        if f[12:14] == b'\x08\x06' and f[20:22] == b'\x00\x02' and \
           f[28:32] == socket.inet_aton(gw):
            found = f[22:28].hex(':')
a.close()

try:
    rc = p.wait(timeout=5)
except subprocess.TimeoutExpired:
    p.kill()
    rc = 'still running 5 s after the socket closed'
print('arp reply: %s, passt exit: %s' % (found, rc))
sys.exit(0 if found and rc == 0 else 1)
