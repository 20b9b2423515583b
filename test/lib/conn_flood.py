#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/conn_flood.py - N clients at once, each connecting, sending a line
# and waiting for it back (an echo server on the other side), all held open
# until HOLD seconds have passed, then closed. Every client ends as "served"
# (echo came back), "refused" (reset or refused) or "timeout" (nothing in
# WAIT seconds: what a client must never see). Bounded in time.
#
# Usage: conn_flood.py ADDR PORT N WAIT HOLD
# Prints: "served=S refused=R timeout=T"

import selectors, socket, sys, time

addr, port, n, wait, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
	float(sys.argv[4]), float(sys.argv[5])
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
sel = selectors.DefaultSelector()
state = {}
for i in range(n):
	s = socket.socket(fam, socket.SOCK_STREAM)
	s.setblocking(False)
	s.connect_ex((addr, port))
	state[s] = 'connecting'
	sel.register(s, selectors.EVENT_WRITE)

end = time.monotonic() + wait
served = refused = 0
while time.monotonic() < end and served + refused < n:
	for key, ev in sel.select(timeout=0.2):
		s = key.fileobj
		try:
			if state[s] == 'connecting':
				err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
				if err:
					raise ConnectionRefusedError(err)
				s.send(b'hi\n')
				state[s] = 'sent'
				sel.modify(s, selectors.EVENT_READ)
			elif state[s] == 'sent':
				d = s.recv(16)
				if not d:
					raise ConnectionResetError()
				state[s] = 'served'
				served += 1
				sel.unregister(s)
		except OSError:
			state[s] = 'refused'
			refused += 1
			sel.unregister(s)
			s.close()

print('served=%d refused=%d timeout=%d' % (served, refused, n - served - refused),
      flush=True)
time.sleep(max(0, hold - (wait - (end - time.monotonic()))))
for s in state:
	try:
		s.close()
	except OSError:
		pass
