#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/flood.py - A hostile namespace: raw frames on an interface (as
# root, AF_PACKET), TCP SYNs and UDP datagrams from random ports to random
# ports of a target, a few of them mangled (bad lengths, flags, options),
# that never become a real exchange: nothing answers the UDP ones, and the
# SYNs are never followed up. Bounded by count and time.
#
# Usage: flood.py IFNAME SRC4 DST4 COUNT SECONDS

import os, random, socket, struct, sys, time

ifname, src, dst, count, secs = sys.argv[1], sys.argv[2], sys.argv[3], \
	int(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
mac = s.getsockname()[4]
src_b, dst_b = socket.inet_aton(src), socket.inet_aton(dst)

def csum(b):
	if len(b) % 2:
		b += b'\0'
	t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
	while t >> 16:
		t = (t & 0xffff) + (t >> 16)
	return ~t & 0xffff

def frame(proto, l4):
	ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), random.getrandbits(16),
			 0x4000, 64, proto, 0, src_b, dst_b)
	ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
	# the peer's MAC doesn't matter to pasta: any unicast will do
	return b'\x9a\x55\x9a\x55\x9a\x55' + mac + b'\x08\x00' + ip + l4

def l4sum(proto, l4):
	ph = src_b + dst_b + struct.pack('!BBH', 0, proto, len(l4))
	return csum(ph + l4)

end, sent = time.monotonic() + secs, 0
while sent < count and time.monotonic() < end:
	sp, dp = random.randint(1024, 65535), random.randint(1, 65535)
	if sent % 2:
		t = struct.pack('!HHIIBBHHH', sp, dp, random.getrandbits(32), 0,
				5 << 4, 0x02, 65535, 0, 0)
		if sent % 17 == 0:	# mangled: data offset past the end
			t = t[:12] + bytes([15 << 4]) + t[13:]
		t = t[:16] + struct.pack('!H', l4sum(6, t)) + t[18:]
		f = frame(6, t)
	else:
		pl = os.urandom(random.randint(0, 64))
		u = struct.pack('!HHHH', sp, dp, 8 + len(pl), 0) + pl
		if sent % 13 == 0:	# mangled: length larger than the packet
			u = u[:4] + struct.pack('!H', 4000) + u[6:]
		u = u[:6] + struct.pack('!H', l4sum(17, u) or 0xffff) + u[8:]
		f = frame(17, u)
	try:
		s.send(f)
	except OSError:
		time.sleep(0.01)
	sent += 1
print('flood: %d frames' % sent)
