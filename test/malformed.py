#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/malformed.py - Hostile frames for passt's UNIX domain socket
#
# Plays a misbehaving qemu: connects to passt's socket and writes frames, each
# preceded by its 32-bit big-endian length, that lie about their own sizes at
# every layer (Ethernet, ARP, IPv4, IPv6 and its extension headers, UDP, TCP,
# ICMP, DHCP, NDP, DHCPv6), plus length prefixes passt can't possibly honour.
# Frames are otherwise well formed (checksums right) so that each lie reaches
# the parser it targets.
#
#   guest MAC 52:54:00:12:34:56       passt          host namespace
#   this script ---- frames ----> [UNIX socket] ---> sockets to 198.51.100.1
#
# Usage:
#   malformed.py SOCKET list              group names, one per line
#   malformed.py SOCKET send GROUP        send GROUP on one connection, close
#   malformed.py SOCKET expect-close GROUP
#                                         send GROUP, exit 0 iff passt closes
#                                         the connection within 3 s
#   malformed.py SOCKET expect-silent NAME
#                                         one frame that must get no answer
#   malformed.py SOCKET expect-answer NAME
#                                         one frame that must get an answer
#   malformed.py SOCKET dhcp ADDR         DISCOVER on a fresh connection, exit
#                                         0 iff an OFFER with yiaddr ADDR comes
#
# Standard library only. Every wait is bounded. Destinations are addresses of
# the test topology only (198.51.100.0/24, 2001:db8::/64, multicast).

import errno
import os
import random
import select
import socket
import struct
import sys
import time

GUEST_MAC = bytes.fromhex('525400123456')
BCAST_MAC = b'\xff' * 6
GUEST4 = '198.51.100.2'
REMOTE4 = '198.51.100.1'
GUEST6_LL = 'fe80::5054:ff:fe12:3456'
GUEST6 = '2001:db8::2'
REMOTE6 = '2001:db8::1'

CONNECT_TIMEOUT = 10.0		# passt may still be dropping the last guest
BUSY_PROBE = 0.2		# passt hangs up at once on a second guest
REPLY_TIMEOUT = 3.0


def csum(data):
	"""RFC 1071 Internet checksum"""
	if len(data) % 2:
		data += b'\0'
	s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
	while s >> 16:
		s = (s & 0xffff) + (s >> 16)
	return ~s & 0xffff


def a4(a):
	return socket.inet_pton(socket.AF_INET, a)


def a6(a):
	return socket.inet_pton(socket.AF_INET6, a)


def mcast6_mac(addr):
	return b'\x33\x33' + a6(addr)[12:]


def eth(payload, ethertype, dst=BCAST_MAC, src=GUEST_MAC):
	return dst + src + struct.pack('!H', ethertype) + payload


def ip4(payload, proto, src=GUEST4, dst=REMOTE4, ihl=5, tot_len=None,
	opts=b'', frag=0x4000, ttl=64):
	"""IPv4 packet: header fields can lie, checksum covers the lie"""
	if tot_len is None:
		tot_len = 20 + len(opts) + len(payload)
	h = struct.pack('!BBHHHBBH4s4s', 0x40 | (ihl & 0xf), 0, tot_len & 0xffff,
			random.randrange(65536), frag, ttl, proto, 0,
			a4(src), a4(dst)) + opts
	h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
	return eth(h + payload, 0x0800)


def udp4(payload, sport=40000, dport=9, src=GUEST4, dst=REMOTE4, length=None,
	 **kw):
	if length is None:
		length = 8 + len(payload)
	u = struct.pack('!HHHH', sport, dport, length & 0xffff, 0) + payload
	ph = a4(src) + a4(dst) + struct.pack('!BBH', 0, 17, len(u))
	c = csum(ph + u) or 0xffff
	u = u[:6] + struct.pack('!H', c) + u[8:]
	return ip4(u, 17, src=src, dst=dst, **kw)


def ip6(payload, nh, src=GUEST6, dst=REMOTE6, plen=None, hlim=64,
	dst_mac=BCAST_MAC):
	if plen is None:
		plen = len(payload)
	h = struct.pack('!IHBB16s16s', 0x60000000, plen & 0xffff, nh, hlim,
			a6(src), a6(dst))
	return eth(h + payload, 0x86dd, dst=dst_mac)


def l4csum6(src, dst, nh, data, off):
	"""Fill the checksum at @off of an upper-layer message over IPv6"""
	ph = a6(src) + a6(dst) + struct.pack('!IxxxB', len(data), nh)
	data = data[:off] + b'\0\0' + data[off + 2:]
	c = csum(ph + data)
	if nh == 17:
		c = c or 0xffff
	return data[:off] + struct.pack('!H', c) + data[off + 2:]


def udp6(payload, sport=40000, dport=9, src=GUEST6, dst=REMOTE6, length=None,
	 **kw):
	if length is None:
		length = 8 + len(payload)
	u = struct.pack('!HHHH', sport, dport, length & 0xffff, 0) + payload
	u = l4csum6(src, dst, 17, u, 6)
	return ip6(u, 17, src=src, dst=dst, **kw)


def icmp6(body, src=GUEST6_LL, dst='ff02::2', **kw):
	m = l4csum6(src, dst, 58, body, 2)
	kw.setdefault('hlim', 255)		# RFC 4861 6.1.1, 7.1.1
	kw.setdefault('dst_mac', mcast6_mac(dst) if dst.startswith('ff')
		      else BCAST_MAC)
	return ip6(m, 58, src=src, dst=dst, **kw)


def arp(hlen=6, plen=4, op=1, htype=1, ptype=0x0800, tail=None):
	h = struct.pack('!HHBBH', htype, ptype, hlen, plen, op)
	if tail is None:
		tail = GUEST_MAC + a4(GUEST4) + b'\0' * 6 + a4(REMOTE4)
	return eth(h + tail, 0x0806)


def bootp(options, op=1, htype=1, hlen=6, xid=None, flags=0x8000,
	  cookie=b'\x63\x82\x53\x63'):
	"""BOOTP header (RFC 2131 2) + magic cookie (RFC 2132 2) + options"""
	if xid is None:
		xid = random.randrange(1 << 32)
	h = struct.pack('!BBBBIHH4s4s4s4s16s64s128s', op, htype, hlen, 0, xid,
			0, flags, b'\0' * 4, b'\0' * 4, b'\0' * 4, b'\0' * 4,
			GUEST_MAC + b'\0' * 10, b'', b'')
	return h + cookie + options


def dhcp4(payload, **kw):
	return udp4(payload, sport=68, dport=67, src='0.0.0.0',
		    dst='255.255.255.255', **kw)


def dhcpv6(payload, **kw):
	return udp6(payload, sport=546, dport=547, src=GUEST6_LL,
		    dst='ff02::1:2', dst_mac=mcast6_mac('ff02::1:2'), **kw)


def tcp4(opts=b'', doff=None, flags=0x02, payload=b'', dport=9, **kw):
	if doff is None:
		doff = (20 + len(opts) + 3) // 4
	opts += b'\0' * ((-len(opts)) % 4)
	t = struct.pack('!HHIIBBHHH', 40001, dport, random.randrange(1 << 32),
			0, (doff & 0xf) << 4, flags, 65535, 0, 0) + opts + payload
	ph = a4(GUEST4) + a4(REMOTE4) + struct.pack('!BBH', 0, 6, len(t))
	t = t[:16] + struct.pack('!H', csum(ph + t)) + t[18:]
	return ip4(t, 6, **kw)


def discover(xid):
	opts = bytes([53, 1, 1, 55, 4, 1, 3, 6, 15, 255])
	return dhcp4(bootp(opts, xid=xid))


# Groups of hostile frames, each sent on one connection ----------------------

def g_eth():
	f = eth(b'', 0x0800)
	return [f[:n] for n in (1, 6, 12, 13)] + [
		eth(b'', 0x0800), eth(b'', 0x86dd), eth(b'', 0x0806),
		eth(b'\x45', 0x0800), eth(b'\x60', 0x86dd),
		eth(b'x' * 30, 0x8100),			# VLAN tag, unknown
		eth(b'x' * 30, 0x88cc),			# LLDP: not ours
	]


def g_zero_len():
	# empty frames: zero length prefixes between ordinary frames
	return [b'', arp(), b'', b'', arp(hlen=0)]


def g_ipv4():
	u = struct.pack('!HHHH', 40000, 9, 12, 0) + b'abcd'
	fr = []
	full = ip4(u, 17)
	fr += [full[:14 + n] for n in (1, 10, 19)]	# truncated IPv4 header
	for ihl in range(0, 5):				# IHL < 5
		fr.append(ip4(u, 17, ihl=ihl))
	fr.append(ip4(b'', 17, ihl=15, tot_len=20))	# IHL past the packet
	fr.append(ip4(u, 17, ihl=15))			# 60 > 32 bytes
	fr.append(ip4(u, 6, ihl=15))
	fr.append(ip4(u, 1, ihl=15))
	for tl in (0, 1, 19, 20 + 7, 1500, 65535):	# total length lies
		for proto in (17, 6, 1):
			fr.append(ip4(u, proto, tot_len=tl))
	fr.append(ip4(u, 17, ihl=6, tot_len=22))	# total length < IHL
	fr.append(ip4(u, 17, ihl=6, opts=b'\x07\xff\x04\x00'))	# RR option lies
	fr.append(ip4(u, 17, frag=0x2000))		# first fragment
	fr.append(ip4(u, 17, frag=0x1fff))		# last fragment, far offset
	fr.append(ip4(b'', 1))				# ICMP without header
	fr.append(ip4(b'\x08\x00\x00\x00', 1))		# truncated echo request
	fr.append(ip4(u, 99))				# unknown protocol
	v = bytearray(ip4(u, 17))
	v[14] = 0x65					# version 6 in IPv4
	fr.append(bytes(v))
	return fr


def g_ipv6():
	u = struct.pack('!HHHH', 40000, 9, 12, 0) + b'abcd'
	fr = []
	full = ip6(u, 17)
	fr += [full[:14 + n] for n in (1, 8, 39)]	# truncated IPv6 header
	for plen in (0, 1, 7, 13, 1500, 65535):		# payload length lies
		fr.append(ip6(u, 17, plen=plen))
		fr.append(ip6(u, 58, plen=plen))
		fr.append(ip6(u, 6, plen=plen))
	# extension header chains running past the end (RFC 8200 4)
	fr.append(ip6(b'\x11\xff' + b'\0' * 6, 0))	# HbH, 2048 bytes claimed
	fr.append(ip6(b'\x11', 0))			# HbH, 1 byte
	fr.append(ip6(b'', 0))				# HbH, nothing
	fr.append(ip6(b'\x11\x00', 60))			# Dest opts, 2 bytes
	fr.append(ip6(b'\x11\x00\x00\x00', 44))		# Fragment, 4 bytes
	fr.append(ip6(b'\x2b\x00' + b'\0' * 6 + b'\x3c\x10', 0))	# chain
	chain = b''
	for i in range(200):				# long chain of HbH headers
		chain += b'\x00\x00' + b'\x01\x04\0\0\0\0'
	fr.append(ip6(chain, 0))
	fr.append(ip6(chain + b'\x11\x00\x01\x04\0\0\0\0' + u, 0,
		      plen=len(chain) + 20))		# UDP beyond plen
	fr.append(ip6(b'\x3b\x00' + b'\0' * 6, 60))	# no next header
	fr.append(ip6(b'\x11\x01' + b'\0' * 6, 43, plen=16))	# RH past end
	v = bytearray(ip6(u, 17))
	v[14] = 0x40					# version 4 in IPv6
	fr.append(bytes(v))
	return fr


def g_udp():
	fr = []
	for udp, ipf, l3 in ((udp4, ip4, 20), (udp6, ip6, 40)):
		u = udp(b'abcd')[14 + l3:]
		for n in (0, 1, 4, 7):			# truncated UDP header
			fr.append(ipf(u[:n], 17))
		for ln in (0, 1, 7):			# length < 8
			fr.append(udp(b'abcd', length=ln))
		for ln in (13, 100, 65535):		# length > datagram
			fr.append(udp(b'abcd', length=ln))
		fr.append(udp(b'', dport=0))		# port 0
		fr.append(udp(b'x' * 8, dport=53, length=9))
	return fr


def g_tcp():
	fr = [ip4(b'', 6), ip4(b'\x9c\x41\x00\x09', 6),		# truncated
	      ip4(b'\0' * 19, 6)]
	for doff in (0, 1, 4, 15):			# data offset lies
		fr.append(tcp4(doff=doff))
	fr.append(tcp4(opts=b'\x02\x00'))		# MSS, length 0: loop?
	fr.append(tcp4(opts=b'\x02\x01'))		# length 1 < 2
	fr.append(tcp4(opts=b'\x02\xff'))		# past the options
	fr.append(tcp4(opts=b'\x03\x00\x00'))		# window scale, length 0
	fr.append(tcp4(opts=b'\x08\x0a\x00'))		# truncated timestamps
	fr.append(tcp4(opts=b'\x01' * 40, doff=15))	# NOPs only
	fr.append(tcp4(flags=0x12))			# SYN+ACK, no connection
	fr.append(tcp4(flags=0x04))			# RST, no connection
	fr.append(tcp4(flags=0x10, payload=b'data'))	# ACK + data, unknown
	fr.append(tcp4(flags=0xff))			# every flag
	return fr


def g_dhcp():
	fr = []
	o53 = bytes([53, 1, 1])
	fr.append(dhcp4(b'\x01'))				# 1-byte payload
	fr.append(dhcp4(b''))
	fr.append(dhcp4(bootp(b'')[:235]))			# short BOOTP header
	fr.append(dhcp4(bootp(b'')[:236]))			# no cookie
	fr.append(dhcp4(bootp(b'')[:238]))			# half a cookie
	fr.append(dhcp4(bootp(o53 + b'\xff', cookie=b'\0\0\0\0')))	# bad cookie
	fr.append(dhcp4(bootp(o53 + bytes([12, 200]) + b'abc')))	# past end
	fr.append(dhcp4(bootp(o53 + bytes([12]))))		# no length byte
	fr.append(dhcp4(bootp(o53 + bytes([255, 255]) + b'\xaa' * 255)))
	fr.append(dhcp4(bootp(o53 + bytes([255, 4]) + b'\xaa' * 4 +
			     bytes([255]))))
	fr.append(dhcp4(bootp(bytes([53, 0, 255]))))		# 53, length 0
	fr.append(dhcp4(bootp(bytes([53, 0]))))
	fr.append(dhcp4(bootp(bytes([53, 255, 1]))))		# huge length
	fr.append(dhcp4(bootp(bytes([53, 2, 1, 1, 255]))))	# length 2
	fr.append(dhcp4(bootp(bytes([53, 1, 0, 255]))))		# type 0
	fr.append(dhcp4(bootp(bytes([53, 1, 200, 255]))))	# type 200
	fr.append(dhcp4(bootp(bytes([53, 1, 3, 50, 0, 255]))))	# req. IP len 0
	fr.append(dhcp4(bootp(bytes([53, 1, 3, 50, 2, 1, 2, 255]))))
	fr.append(dhcp4(bootp(bytes([53, 1, 3, 54, 255]) + b'\0' * 255)))
	fr.append(dhcp4(bootp(o53 + bytes([55, 255]) + bytes(range(255)) +
			     b'\xff')))				# every option
	fr.append(dhcp4(bootp(o53 + bytes([61, 255]) + b'\1' * 100)))
	fr.append(dhcp4(bootp(o53 + bytes([52, 1, 3, 255]))))	# overload
	fr.append(dhcp4(bootp(o53 + b'\0' * 300)))		# pad, no end
	fr.append(dhcp4(bootp(o53 + bytes([57, 2, 0, 0, 255]))))	# max size 0
	big = b''.join(bytes([n, 255]) + b'\x41' * 255 for n in range(1, 255)
		       if n not in (53,))
	fr.append(dhcp4(bootp(o53 + big[:60000])))		# many huge opts
	fr.append(dhcp4(bootp(o53 + b'\xff', hlen=255)))	# chaddr len 255
	fr.append(dhcp4(bootp(o53 + b'\xff', htype=0, hlen=0)))
	fr.append(dhcp4(bootp(o53 + b'\xff', op=2)))		# a reply
	good = bootp(o53 + b'\xff')
	fr.append(dhcp4(good, length=7))			# UDP length lies
	fr.append(dhcp4(good, length=len(good) + 100))
	fr.append(dhcp4(good, tot_len=20 + 8 + 10))		# IP length lies
	return fr


def g_ndp():
	fr = []
	rs = b'\x85\x00\x00\x00' + b'\0' * 4			# RFC 4861 4.1
	sll = b'\x01\x01' + GUEST_MAC				# option, 8 bytes
	fr.append(icmp6(rs + b'\x01\x00' + GUEST_MAC))		# option len 0
	fr.append(icmp6(rs + sll + b'\x01\x00' + GUEST_MAC))
	fr.append(icmp6(rs + b'\x01\xff' + GUEST_MAC))		# past the end
	fr.append(icmp6(rs + b'\x01'))				# 1 option byte
	fr.append(icmp6(rs[:4]))				# truncated RS
	fr.append(icmp6(rs[:1]))
	fr.append(icmp6(rs + sll, plen=4 + 8 + 8 + 100))	# IPv6 plen lies
	fr.append(icmp6(rs + sll, hlim=1))			# not from a link
	tgt = a6('fe80::1')
	ns = b'\x87\x00\x00\x00' + b'\0' * 4 + tgt		# RFC 4861 4.3
	dst = 'ff02::1:ff00:1'
	fr.append(icmp6(ns[:8], dst=dst))			# truncated NS
	fr.append(icmp6(ns[:20], dst=dst))
	fr.append(icmp6(ns + b'\x01\x00' + GUEST_MAC, dst=dst))	# len 0
	fr.append(icmp6(ns + b'\x01\xff' + GUEST_MAC, dst=dst))	# past end
	fr.append(icmp6(ns + b'\x0e\x01' + b'\0' * 6, dst=dst))	# nonce
	fr.append(icmp6(ns + b'\x01', dst=dst))
	t2 = a6('2001:db8::1')
	fr.append(icmp6(b'\x87\x00\x00\x00' + b'\0' * 4 + t2 + sll,
			dst='ff02::1:ff00:1', src='::'))		# DAD, with SLL
	na = b'\x88\x00\x00\x00\x20' + b'\0' * 3 + a6(GUEST6_LL)
	fr.append(icmp6(na + b'\x02\x00' + GUEST_MAC, dst='ff02::1'))
	ra = b'\x86\x00\x00\x00\x40\x00\x07\x08' + b'\0' * 8
	fr.append(icmp6(ra + b'\x03\x04' + b'\0' * 10, dst='ff02::1'))
	fr.append(icmp6(b'\x89\x00\x00\x00' + b'\0' * 4, dst='ff02::1'))
	fr.append(icmp6(b'\x80\x00', src=GUEST6, dst=REMOTE6))	# short echo
	fr.append(icmp6(b'\x80\x00\x00\x00\x12', src=GUEST6, dst=REMOTE6))
	fr.append(icmp6(b'', src=GUEST6, dst=REMOTE6))		# no ICMPv6 hdr
	return fr


def g_dhcpv6():
	fr = []
	cid = struct.pack('!HH', 1, 10) + b'\0\3\0\1' + GUEST_MAC  # RFC 8415 21.2
	hdr = b'\x01' + b'\x12\x34\x56'				# SOLICIT
	req = b'\x03' + b'\x12\x34\x56'				# REQUEST
	fr.append(dhcpv6(b'\x01'))				# 1 byte
	fr.append(dhcpv6(b'\x01\x00\x00'))			# 3 bytes
	fr.append(dhcpv6(b''))
	fr.append(dhcpv6(hdr + struct.pack('!HH', 1, 200) + b'abc'))	# past end
	fr.append(dhcpv6(hdr + struct.pack('!HH', 1, 0xffff)))
	fr.append(dhcpv6(hdr + b'\x00'))			# 1 option byte
	fr.append(dhcpv6(hdr + b'\x00\x01\x00'))		# 3 option bytes
	fr.append(dhcpv6(hdr + struct.pack('!HH', 1, 0)))	# client ID len 0
	# IA_NA (RFC 8415 21.4) with IAID, T1, T2 and nested IA Address
	ia_addr = struct.pack('!HH', 5, 24) + a6('2001:db8::2') + b'\0' * 8
	ia = b'\0\0\0\1' + b'\0' * 8
	fr.append(dhcpv6(hdr + cid + struct.pack('!HH', 3, 4) + b'\0\0\0\1'))
	fr.append(dhcpv6(hdr + cid + struct.pack('!HH', 3, 0)))
	fr.append(dhcpv6(hdr + cid + struct.pack('!HH', 3, 12 + 28) + ia +
			 ia_addr))				# IA_NA past end
	fr.append(dhcpv6(hdr + cid + struct.pack('!HH', 3, 12 + 28) + ia +
			 struct.pack('!HH', 5, 200) + a6(GUEST6) + b'\0' * 8))
	fr.append(dhcpv6(req + cid + struct.pack('!HH', 3, 12 + 4 + 24) + ia +
			 struct.pack('!HH', 5, 0xfff0) + a6(GUEST6) +
			 b'\0' * 8))				# nested past end
	fr.append(dhcpv6(req + cid + struct.pack('!HH', 3, 12 + 4 + 24) + ia +
			 struct.pack('!HH', 5, 4) + a6(GUEST6) + b'\0' * 8))
	fr.append(dhcpv6(req + cid + struct.pack('!HH', 3, 12 + 3) + ia +
			 b'\0\5\0'))				# nested hdr cut
	fr.append(dhcpv6(req + cid + struct.pack('!HH', 2, 0xffff)))	# server
	fr.append(dhcpv6(b'\x0b\0\0\1' + cid + struct.pack('!HH', 6, 3) +
			 b'\0\x17\0'))				# odd ORO
	fr.append(dhcpv6(b'\x0b\0\0\1' + cid + struct.pack('!HH', 6, 0x100) +
			 b'\0\x17' * 8))
	fr.append(dhcpv6(b'\x0c' + b'\0' * 33))			# RELAY-FORW
	fr.append(dhcpv6(hdr + cid * 200))			# many options
	fr.append(dhcpv6(hdr + cid, length=4))			# UDP length lies
	return fr


def g_arp():
	fr = []
	for hlen, plen in ((0, 4), (255, 4), (6, 0), (6, 255), (0, 0),
			   (255, 255), (6, 16), (16, 4)):
		fr.append(arp(hlen=hlen, plen=plen))
	full = arp()
	for n in (0, 1, 7, 8, 9, 20, 27):			# truncated
		fr.append(full[:14 + n])
	fr.append(arp(op=3))
	fr.append(arp(op=0))
	fr.append(arp(htype=6))
	fr.append(arp(ptype=0x86dd))
	fr.append(arp(op=2))					# unsolicited reply
	return fr


def g_reset():
	# handled in send(): a good request, then a reset before the reply
	return [discover(random.randrange(1 << 32))]


GROUPS = {
	'eth': g_eth, 'zero_len': g_zero_len, 'ipv4': g_ipv4, 'ipv6': g_ipv6,
	'udp': g_udp, 'tcp': g_tcp, 'dhcp': g_dhcp, 'ndp': g_ndp,
	'dhcpv6': g_dhcpv6, 'arp': g_arp, 'reset': g_reset,
}

# Length prefixes passt can't honour: each on its own connection, followed by
# some bytes that would be taken as the frame
BAD_PREFIX = {
	'len_4g': 0xffffffff,
	'len_2g': 0x80000000,
	'len_64k': 0x10000,
	'len_64k_odd': 0x10001,
	'len_128k': 0x20000,
}


# Single frames that must get no answer at all, and how to spot an answer:
# accepting them would mean the parser ignored a length it was told
def _rs(opt):
	return icmp6(b'\x85\x00\x00\x00' + b'\0' * 4 + opt)


def _ns(opt):
	return icmp6(b'\x87\x00\x00\x00' + b'\0' * 4 + a6('fe80::1') + opt,
		     dst='ff02::1:ff00:1')


def is_nd_reply(f):
	return len(f) >= 14 + 40 + 1 and f[12:14] == b'\x86\xdd' and \
		f[20] == 58 and f[54] in (134, 136)


def is_dhcp_reply(f):
	return len(f) >= 14 + 20 + 8 and f[12:14] == b'\x08\x00' and \
		f[23] == 17 and f[14 + (f[14] & 0xf) * 4:][:2] == b'\x00\x43'


SILENT = {
	# RFC 4861 6.1.1, 6.1.2: options of length 0 mean silent discard
	'rs_optlen0': (lambda: _rs(b'\x01\x00' + GUEST_MAC), is_nd_reply),
	'ns_optlen0': (lambda: _ns(b'\x01\x00' + GUEST_MAC), is_nd_reply),
	# RFC 4861 6.1.1: option past the end of the message
	'rs_opt_past_end': (lambda: _rs(b'\x01\xff' + GUEST_MAC),
			    is_nd_reply),
	# RFC 4861 7.1.1: NS shorter than 24 octets
	'ns_truncated': (lambda: icmp6(b'\x87\x00\x00\x00' + b'\0' * 8,
				       dst='ff02::1:ff00:1'), is_nd_reply),
	# RFC 2132 9.6: DHCP message type has length 1
	'dhcp_53_len0': (lambda: dhcp4(bootp(bytes([53, 0, 255]))),
			 is_dhcp_reply),
	'dhcp_1byte': (lambda: dhcp4(b'\x01'), is_dhcp_reply),
	# option 53 announced with more bytes than the message holds
	'dhcp_53_past_end': (lambda: dhcp4(bootp(bytes([53, 200, 1]))),
			     is_dhcp_reply),
	# controls, for expect-answer: the same messages, well formed
	'rs_good': (lambda: _rs(b'\x01\x01' + GUEST_MAC), is_nd_reply),
	'ns_good': (lambda: _ns(b'\x01\x01' + GUEST_MAC), is_nd_reply),
	'dhcp_good': (lambda: dhcp4(bootp(bytes([53, 1, 1, 255]))),
		      is_dhcp_reply),
}


# Connection handling --------------------------------------------------------

def connect(path):
	"""Connect, retrying while passt is busy with the previous guest"""
	end = time.monotonic() + CONNECT_TIMEOUT
	last = None
	while time.monotonic() < end:
		s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		try:
			s.connect(path)
		except OSError as e:
			s.close()
			last = e
			time.sleep(0.1)
			continue
		# a busy passt hangs up on new connections right away
		r, _, _ = select.select([s], [], [], BUSY_PROBE)
		if r:
			try:
				peek = s.recv(1, socket.MSG_PEEK |
					      socket.MSG_DONTWAIT)
			except OSError as e:
				peek = b''
				last = e
			if not peek:
				s.close()
				last = last or 'closed at once (busy?)'
				time.sleep(0.1)
				continue
		return s
	raise SystemExit('connect %s: %s' % (path, last))


def sendall(s, data):
	try:
		s.sendall(data)
		return True
	except OSError as e:
		if e.errno in (errno.EPIPE, errno.ECONNRESET):
			return False
		raise


def drain(s, timeout):
	"""Read until timeout or EOF: return True if the peer closed"""
	end = time.monotonic() + timeout
	while True:
		left = end - time.monotonic()
		if left <= 0:
			return False
		r, _, _ = select.select([s], [], [], left)
		if not r:
			return False
		try:
			d = s.recv(65536)
		except OSError:
			return True
		if not d:
			return True


def send_group(path, name):
	"""Send one group of frames on one connection, return True if closed"""
	s = connect(path)
	closed = False
	if name in BAD_PREFIX:
		data = struct.pack('!I', BAD_PREFIX[name]) + b'\xa5' * 4096
		closed = not sendall(s, data)
	elif name == 'reset':
		sendall(s, framed(GROUPS[name]()[0]))
		s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
			     struct.pack('ii', 1, 0))
		s.close()
		print('%s: sent, reset' % name)
		return True
	else:
		frames = GROUPS[name]()
		data = b''.join(framed(f) for f in frames)
		closed = not sendall(s, data)
		print('%s: %d frames, %d bytes' % (name, len(frames),
						   len(data)))
	if not closed:
		closed = drain(s, REPLY_TIMEOUT if name in BAD_PREFIX else 0.5)
	s.close()
	print('%s: peer closed: %s' % (name, 'yes' if closed else 'no'))
	return closed


def frames_from(s, end, st):
	"""Yield the frames passt sends on @s (4-byte length prefix each) until
	monotonic time @end, or until nothing comes or the peer closes: then
	st['eof'] is True"""
	buf = b''
	st['eof'] = False
	while time.monotonic() < end:
		r, _, _ = select.select([s], [], [],
					max(0, end - time.monotonic()))
		if not r:
			return
		try:
			d = s.recv(65536)
		except OSError:
			d = b''
		if not d:
			st['eof'] = True
			return
		buf += d
		while len(buf) >= 4:
			n = struct.unpack('!I', buf[:4])[0]
			if n > 65535 + 14:
				raise SystemExit('bad length %d from passt' % n)
			if len(buf) < 4 + n:
				break
			f, buf = buf[4:4 + n], buf[4 + n:]
			yield f


def expect_silent(path, name):
	"""Send one frame of SILENT, return True if no answer comes in 1 s"""
	build, is_reply = SILENT[name]
	s = connect(path)
	sendall(s, framed(build()))
	for f in frames_from(s, time.monotonic() + 1.0, {}):
		if is_reply(f):
			s.close()
			print('%s: answered (%d bytes)' % (name, len(f)))
			return False
	s.close()
	print('%s: no answer' % name)
	return True


def framed(f):
	return struct.pack('!I', len(f)) + f


def parse_offer(frame, xid):
	"""yiaddr of a DHCPOFFER for @xid in @frame, or None"""
	if len(frame) < 14 + 20 + 8 + 240:
		return None
	if frame[12:14] != b'\x08\x00':
		return None
	ihl = (frame[14] & 0xf) * 4
	if frame[14] >> 4 != 4 or ihl < 20 or frame[23] != 17:
		return None
	u = 14 + ihl
	if len(frame) < u + 8 + 240:
		return None
	sport, dport = struct.unpack('!HH', frame[u:u + 4])
	if (sport, dport) != (67, 68):
		return None
	b = frame[u + 8:]
	if b[0] != 2 or struct.unpack('!I', b[4:8])[0] != xid:
		return None
	if b[236:240] != b'\x63\x82\x53\x63':
		return None
	o, mtype = 240, None
	while o < len(b):
		code = b[o]
		if code == 255:
			break
		if code == 0:
			o += 1
			continue
		if o + 2 > len(b) or o + 2 + b[o + 1] > len(b):
			break
		if code == 53 and b[o + 1] == 1:
			mtype = b[o + 2]
		o += 2 + b[o + 1]
	if mtype != 2:
		return None
	return socket.inet_ntop(socket.AF_INET, b[16:20])


def dhcp_check(path, want):
	"""DISCOVER on a fresh connection: exit status 0 iff OFFER for @want"""
	end = time.monotonic() + 15
	seen = []
	while time.monotonic() < end:
		s = connect(path)
		xid = random.randrange(1 << 32)
		if not sendall(s, framed(discover(xid))):
			s.close()
			time.sleep(0.2)
			continue
		st = {}
		for f in frames_from(s, time.monotonic() + REPLY_TIMEOUT, st):
			y = parse_offer(f, xid)
			if y is not None:
				s.close()
				if y == want:
					print('OFFER yiaddr %s' % y)
					return 0
				print('OFFER with yiaddr %s, want %s' % (y, want))
				return 1
			seen.append(f[12:14].hex())
		s.close()
		if not st['eof']:
			break
		time.sleep(0.2)		# closed on us: passt was busy, retry
	print('no DHCPOFFER (other frames seen, by ethertype: %s)' %
	      (','.join(seen) or 'none'))
	return 1


def main():
	if len(sys.argv) < 3:
		print(__doc__ or 'see the header of this file', file=sys.stderr)
		return 2
	path, cmd = sys.argv[1], sys.argv[2]
	if cmd == 'list':
		for g in list(GROUPS) + list(BAD_PREFIX) + list(SILENT):
			print(g)
		return 0
	if cmd == 'send' and len(sys.argv) == 4:
		send_group(path, sys.argv[3])
		return 0
	if cmd == 'expect-close' and len(sys.argv) == 4:
		return 0 if send_group(path, sys.argv[3]) else 1
	if cmd == 'expect-silent' and len(sys.argv) == 4:
		return 0 if expect_silent(path, sys.argv[3]) else 1
	if cmd == 'expect-answer' and len(sys.argv) == 4:
		return 1 if expect_silent(path, sys.argv[3]) else 0
	if cmd == 'dhcp' and len(sys.argv) == 4:
		return dhcp_check(path, sys.argv[3])
	print('unknown command', file=sys.stderr)
	return 2


if __name__ == '__main__':
	sys.exit(main())
