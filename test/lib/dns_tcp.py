#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/dns_tcp.py - DNS over TCP for the tests: a front end of
# dns_server.py's answer(), length-prefixed messages (RFC 1035 4.2.2),
# queries logged as "TCPQUERY ADDR PEER PORT NAME TYPE" in the same log as
# dns_server.py's UDP ones. Stops by itself after 900 s.
#
# Usage: dns_tcp.py LIBDIR ADDRESS PORT LOGFILE

import socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
import dns_server

addr, port, logname = sys.argv[2], int(sys.argv[3]), sys.argv[4]
log = open(logname, 'a', buffering=1)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(16)
s.settimeout(1)
print('dns_tcp: listening on %s port %d' % (addr, port), flush=True)

def recv_exact(c, n):
	b = b''
	while len(b) < n:
		d = c.recv(n - len(b))
		if not d:
			return None
		b += d
	return b

end = time.monotonic() + 900
while time.monotonic() < end:
	try:
		c, peer = s.accept()
	except socket.timeout:
		continue
	c.settimeout(5)
	try:
		while True:
			h = recv_exact(c, 2)
			if h is None:
				break
			q = recv_exact(c, struct.unpack('!H', h)[0])
			if q is None:
				break
			res = dns_server.answer(q)
			if res is None:
				break
			reply, name, qtype = res
			log.write('TCPQUERY %s %s %d %s %s\n' %
				  (addr, peer[0], peer[1], name, qtype))
			c.sendall(struct.pack('!H', len(reply)) + reply)
	except OSError:
		pass
	c.close()
