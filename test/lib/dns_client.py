#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/dns_client.py - A DNS client for TCP and UDP (busybox nslookup
# only speaks UDP): one A query, prints "PROTO answer: ADDRESSES", exit 1
# without any. Every wait is bounded (5 s).
#
# Usage: dns_client.py tcp|udp SERVER NAME

import os, socket, struct, sys

proto, server, name = sys.argv[1:4]
qid = struct.unpack('!H', os.urandom(2))[0]
q = struct.pack('!HHHHHH', qid, 0x0100, 1, 0, 0, 0)
q += b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\0'
q += struct.pack('!HH', 1, 1)
if proto == 'tcp':
	s = socket.create_connection((server, 53), timeout=5)
	s.sendall(struct.pack('!H', len(q)) + q)
	r = b''
	while len(r) < 2 or len(r) < 2 + struct.unpack('!H', r[:2])[0]:
		d = s.recv(4096)
		if not d:
			break
		r += d
	r = r[2:]
else:
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.settimeout(5)
	s.sendto(q, (server, 53))
	r = s.recv(4096)

def skip_name(m, o):
	while True:
		n = m[o]
		if n & 0xc0 == 0xc0:
			return o + 2
		o += 1
		if n == 0:
			return o
		o += n

rid, flags, qd, an = struct.unpack('!HHHH', r[:8])
if rid != qid or not flags & 0x8000 or flags & 0xf:
	print('bad reply: id %d/%d flags %04x' % (rid, qid, flags))
	sys.exit(1)
o = 12
for i in range(qd):
	o = skip_name(r, o) + 4
addrs = []
for i in range(an):
	o = skip_name(r, o)
	t, c, ttl, l = struct.unpack('!HHIH', r[o:o + 10])
	o += 10
	if t == 1 and l == 4:
		addrs.append(socket.inet_ntoa(r[o:o + 4]))
	o += l
print('%s answer: %s' % (proto, ' '.join(addrs) or 'none'))
sys.exit(0 if addrs else 1)
