#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Write a few valid frames (ARP request, DHCP DISCOVER, RS, NS, DHCPv6
SOLICIT, TCP SYN, UDP, ICMP echo) as seeds for fuzz_tap, each prefixed by
the harness' 16-bit length; and frames behind a virtio-net header (pasta's
tap with offloads: TCP and UDP super-segments, a partial checksum), which
the harness' second pass reads that way."""

import os
import struct
import sys

GUEST = bytes.fromhex("525400123456")
BCAST = b"\xff" * 6
OURS = bytes.fromhex("9a559a559a55")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000,
                    64, proto, 0, bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 255,
                       src, dst) + payload


def eth(dst, etype, payload):
    return dst + GUEST + struct.pack("!H", etype) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


A = lambda s: bytes(int(x) for x in s.split("."))
LL = bytes.fromhex("fe80000000000000505400fffe123456")
ALLR = bytes.fromhex("ff020000000000000000000000000002")
G6 = bytes.fromhex("20010db8000000000000000000000001")

dhcp = (struct.pack("!BBBBIHH4s4s4s4s16s", 1, 1, 6, 0, 0x1234, 0, 0,
                    b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4,
                    GUEST + b"\0" * 10) + b"\0" * 192 +
        bytes.fromhex("63825363") + bytes([53, 1, 1, 255]))
frames = {
    "arp": eth(BCAST, 0x0806, struct.pack("!HHBBH6s4s6s4s", 1, 0x800, 6, 4,
                                          1, GUEST, A("198.51.100.2"),
                                          b"\0" * 6, A("198.51.100.1"))),
    "dhcp": eth(BCAST, 0x0800, ip4(A("0.0.0.0"), A("255.255.255.255"), 17,
                                   udp(68, 67, dhcp))),
    "rs": eth(OURS, 0x86dd, ip6(LL, ALLR, 58, bytes([133, 0, 0, 0]) +
                                b"\0" * 4 + bytes([1, 1]) + GUEST)),
    "ns": eth(OURS, 0x86dd, ip6(LL, G6, 58, bytes([135, 0, 0, 0]) +
                                b"\0" * 4 + G6 + bytes([1, 1]) + GUEST)),
    "dhcpv6": eth(OURS, 0x86dd, ip6(LL, bytes.fromhex(
        "ff020000000000000000000000010002"), 17, udp(546, 547, bytes(
            [1, 0, 0, 1]) + struct.pack("!HH", 1, 10) +
        bytes.fromhex("00030001") + GUEST + struct.pack("!HHIII", 3, 12,
                                                          1, 0, 0)))),
    "tcp_syn": eth(OURS, 0x0800, ip4(A("198.51.100.2"), A("198.51.100.1"), 6,
                                     struct.pack("!HHIIBBHHH", 40000, 80, 1,
                                                 0, 0x60, 0x02, 65535, 0,
                                                 0) +
                                     bytes([2, 4, 0x05, 0xb4]))),
    "udp": eth(OURS, 0x0800, ip4(A("198.51.100.2"), A("198.51.100.1"), 17,
                                 udp(40000, 53, b"x" * 32))),
    "icmp": eth(OURS, 0x0800, ip4(A("198.51.100.2"), A("198.51.100.1"), 1,
                                  struct.pack("!BBHHH", 8, 0, 0, 7, 1) +
                                  b"ping")),
}



def vnet(flags, gso_type, hdr_len, gso_size, csum_start, csum_off):
    """struct virtio_net_hdr_mrg_rxbuf, little-endian, num_buffers 0"""
    return struct.pack("<BBHHHHH", flags, gso_type, hdr_len, gso_size,
                       csum_start, csum_off, 0)


tcp_data = (struct.pack("!HHIIBBHHH", 40000, 80, 1, 1, 0x50, 0x10, 65535,
                        0, 0) + b"d" * 1200)
frames["vnet_tso4"] = vnet(1, 1, 54, 100, 34, 16) + eth(
    OURS, 0x0800, ip4(A("198.51.100.2"), A("198.51.100.1"), 6, tcp_data))
frames["vnet_tso6"] = vnet(1, 4, 74, 100, 54, 16) + eth(
    OURS, 0x86dd, ip6(G6, G6, 6, tcp_data))
frames["vnet_uso4"] = vnet(1, 5, 42, 100, 34, 6) + eth(
    OURS, 0x0800, ip4(A("198.51.100.2"), A("198.51.100.1"), 17,
                      udp(40000, 5201, b"u" * 1000)))
frames["vnet_csum"] = vnet(1, 0, 0, 0, 34, 6) + frames["udp"]

out = sys.argv[1] if len(sys.argv) > 1 else "seeds"
os.makedirs(out, exist_ok=True)
for name, f in frames.items():
    with open(os.path.join(out, name), "wb") as fh:
        fh.write(struct.pack("!H", len(f)) + f)
