#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/dns_server.py - A tiny authoritative DNS responder for the tests,
# Python 3 standard library only
#
# Usage: dns_server.py [-p PORT] [-l LOGFILE] [-t SECONDS] ADDRESS...
#
# Binds one UDP socket per ADDRESS (IPv4 or IPv6) on PORT (default 53) and
# answers, for the fixed names in ZONE below, queries of type A and AAAA
# (RFC 1035 4.1, RFC 3596 2.1). A name that is not in the table gets
# NXDOMAIN, a known name with another type an empty NOERROR answer, and
# anything that is not a well-formed standard query is ignored. Every query
# is appended to LOGFILE (if given) as one line:
#
#   QUERY <local address> <client address> <client port> <name> <type>
#
# so that tests can tell which server a forwarded query reached. The server
# exits after SECONDS (default 600): a test that forgets it cannot leave it
# running forever.

import argparse
import ipaddress
import select
import socket
import struct
import sys
import time

# Fixed names: lower-case, without the trailing dot
ZONE = {
	'www.example.org': {'A': ['192.0.2.80'], 'AAAA': ['2001:db8:2::80']},
	'fwd.example.org': {'A': ['192.0.2.81'], 'AAAA': ['2001:db8:2::81']},
	'v4only.example.org': {'A': ['192.0.2.4']},
	'v6only.example.org': {'AAAA': ['2001:db8:2::6']},
	'passt.test': {'A': ['192.0.2.1'], 'AAAA': ['2001:db8:2::1']},
}

TYPES = {1: 'A', 28: 'AAAA'}	# RFC 1035 3.2.2, RFC 3596 2.1
TTL = 60
MAX_QUERY = 512			# RFC 1035 2.3.4: UDP messages without EDNS


def parse_name(msg, off):
	"""Uncompressed question name at off: (name, offset after it) or None"""
	labels = []
	total = 0
	while True:
		if off >= len(msg):
			return None
		n = msg[off]
		off += 1
		if n == 0:
			break
		if n & 0xc0:		# no compression in questions we accept
			return None
		if off + n > len(msg):
			return None
		total += n + 1
		if total > 255:		# RFC 1035 2.3.4
			return None
		labels.append(msg[off:off + n].decode('ascii', 'replace'))
		off += n
	return '.'.join(labels).lower(), off


def answer(query):
	"""Reply to a raw query message, or None to ignore it"""
	if len(query) < 12 or len(query) > MAX_QUERY:
		return None
	qid, flags, qd, an, ns, ar = struct.unpack('!HHHHHH', query[:12])
	if flags & 0x8000 or (flags >> 11) & 0xf != 0 or qd != 1:
		return None		# a response, not QUERY, or not one question
	parsed = parse_name(query, 12)
	if parsed is None:
		return None
	name, off = parsed
	if off + 4 > len(query):
		return None
	qtype, qclass = struct.unpack('!HH', query[off:off + 4])
	question = query[12:off + 4]

	rrs = []
	rcode = 0
	if name not in ZONE:
		rcode = 3		# NXDOMAIN
	elif qclass == 1 and qtype in TYPES:
		fam = socket.AF_INET if qtype == 1 else socket.AF_INET6
		for a in ZONE[name].get(TYPES[qtype], []):
			rdata = socket.inet_pton(fam, a)
			# name as a pointer to the question (RFC 1035 4.1.4)
			rrs.append(struct.pack('!HHHIH', 0xc00c, qtype, 1, TTL,
					       len(rdata)) + rdata)

	# QR, AA, RD copied from the query, RA
	rflags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
	hdr = struct.pack('!HHHHHH', qid, rflags, 1, len(rrs), 0, 0)
	return (hdr + question + b''.join(rrs)), name, TYPES.get(qtype,
								  str(qtype))


def main():
	p = argparse.ArgumentParser(description='tiny DNS responder')
	p.add_argument('-p', '--port', type=int, default=53)
	p.add_argument('-l', '--log')
	p.add_argument('-t', '--timeout', type=float, default=600)
	p.add_argument('address', nargs='+')
	args = p.parse_args()

	socks = {}
	for a in args.address:
		ip = ipaddress.ip_address(a)
		fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
		s = socket.socket(fam, socket.SOCK_DGRAM)
		if fam == socket.AF_INET6:
			s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
		s.bind((a, args.port))
		socks[s.fileno()] = (s, a)

	log = open(args.log, 'a', buffering=1) if args.log else None
	print('dns_server: listening on %s port %d' %
	      (' '.join(args.address), args.port), flush=True)

	end = time.monotonic() + args.timeout
	while True:
		left = end - time.monotonic()
		if left <= 0:
			break
		r, _, _ = select.select(list(socks), [], [], left)
		for fd in r:
			s, local = socks[fd]
			try:
				q, peer = s.recvfrom(65535)
			except OSError:
				continue
			res = answer(q)
			if res is None:
				continue
			reply, name, qtype = res
			if log:
				log.write('QUERY %s %s %d %s %s\n' %
					  (local, peer[0], peer[1], name, qtype))
			try:
				s.sendto(reply, peer)
			except OSError:
				pass
	return 0


if __name__ == '__main__':
	sys.exit(main())
