#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/dhcp_names.py - Raw look at the name options of DHCP replies:
# option 12 (Host Name, RFC 2132 3.14) and 81 (Client FQDN, RFC 4702) in a
# DHCPOFFER, option 39 (Client FQDN, RFC 4704) in a DHCPv6 ADVERTISE.
#
# Usage: dhcp_names.py 4|6 IFNAME [--client-s]
#   --client-s: the request carries a Client FQDN option of its own with the
#               S bit set ("please update the A/AAAA RR"), so that a server
#               that does no updates must answer with O (override) set
#
# Runs inside the namespace (root there: it binds the client ports). Prints
# one line per name option found, "opt12 guest1", "opt81 flags=0x0c rcode1=255
# rcode2=255 name=guest1.example.org." or "opt39 flags=0x04 name=...", and
# "none" if the reply has none; exits 1 without a reply within 5 s.

import os
import socket
import struct
import sys


def wire_name(b):
    """Decode an uncompressed RFC 1035 3.1 name, strictly, or raise"""
    labels, i = [], 0
    while True:
        if i >= len(b):
            raise ValueError("name runs past the option")
        n = b[i]
        i += 1
        if n == 0:
            break
        if n > 63:
            raise ValueError("label length %d (pointer?)" % n)
        if i + n > len(b):
            raise ValueError("label runs past the option")
        labels.append(b[i:i + n].decode())
        i += n
    if i != len(b):
        raise ValueError("%d bytes after the root label" % (len(b) - i))
    return ".".join(labels) + "."


def name_fqdn(b):
    return wire_name(b) if b else "(empty)"


def v4(ifname, client_s):
    mac = bytes.fromhex(open("/sys/class/net/%s/address" % ifname)
                        .read().strip().replace(":", ""))
    xid = os.urandom(4)
    msg = struct.pack("!BBBB4sHH4s4s4s4s16s64s128sI", 1, 1, 6, 0, xid, 0,
                      0x8000, b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4,
                      mac + b"\0" * 10, b"", b"", 0x63825363)
    msg += bytes([53, 1, 1])                    # DHCPDISCOVER
    msg += bytes([55, 4, 1, 3, 12, 81])         # parameter request list
    if client_s:
        # RFC 4702 2.1: flags S|E, rcodes 0, name "x"
        msg += bytes([81, 6, 0x05, 0, 0, 1, ord("x"), 0])
    msg += bytes([255])

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.bind(("0.0.0.0", 68))
    s.settimeout(5)
    s.sendto(msg, ("255.255.255.255", 67))
    while True:
        r, _ = s.recvfrom(2048)
        if len(r) >= 240 and r[0] == 2 and r[4:8] == xid:
            break

    found, i = [], 240
    while i < len(r):
        code = r[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            break
        ln = r[i + 1]
        val = r[i + 2:i + 2 + ln]
        if len(val) != ln:
            raise ValueError("option %d runs past the message" % code)
        if code == 12:
            found.append("opt12 %s" % val.decode())
        elif code == 81:
            if ln < 3:
                raise ValueError("option 81 of %d bytes" % ln)
            found.append("opt81 flags=0x%02x rcode1=%d rcode2=%d name=%s" %
                         (val[0], val[1], val[2], name_fqdn(val[3:])))
        i += 2 + ln
    return found


def v6(ifname, client_s):
    xid = os.urandom(3)
    duid = struct.pack("!HH", 3, 1) + bytes.fromhex(
        open("/sys/class/net/%s/address" % ifname).read().strip()
        .replace(":", ""))
    msg = bytes([1]) + xid
    msg += struct.pack("!HH", 1, len(duid)) + duid              # Client ID
    msg += struct.pack("!HHIII", 3, 12, 1, 0, 0)                 # IA_NA
    msg += struct.pack("!HHHHH", 6, 6, 23, 24, 39)               # ORO
    if client_s:
        msg += struct.pack("!HHB", 39, 4, 0x01) + b"\x01x\x00"  # S, "x"

    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.bind(("::", 546))
    s.settimeout(5)
    idx = socket.if_nametoindex(ifname)
    s.sendto(msg, ("ff02::1:2", 547, 0, idx))
    while True:
        r, _ = s.recvfrom(2048)
        if len(r) >= 4 and r[0] in (2, 7) and r[1:4] == xid:
            break

    found, i = [], 4
    while i + 4 <= len(r):
        code, ln = struct.unpack("!HH", r[i:i + 4])
        val = r[i + 4:i + 4 + ln]
        if len(val) != ln:
            raise ValueError("option %d runs past the message" % code)
        if code == 39:
            if ln < 1:
                raise ValueError("empty option 39")
            found.append("opt39 flags=0x%02x name=%s" %
                         (val[0], name_fqdn(val[1:])))
        i += 4 + ln
    return found


def main():
    fam, ifname = sys.argv[1], sys.argv[2]
    client_s = "--client-s" in sys.argv[3:]
    try:
        found = (v4 if fam == "4" else v6)(ifname, client_s)
    except socket.timeout:
        print("no reply")
        return 1
    print("\n".join(found) if found else "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
