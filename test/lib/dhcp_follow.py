#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# test/lib/dhcp_follow.py - Raw DHCP, DHCPv6 and NDP exchanges that real
# clients only make after the server's configuration changed under them:
# a DHCPREQUEST for an address that is not the server's (any more), in
# RENEWING (ciaddr) or INIT-REBOOT/SELECTING (option 50) state, a DHCPv6
# RENEW for such an address, and a Router Solicitation, to print the
# lifetimes each answer carries.
#
# Usage (inside the namespace, as root there: it binds the client ports):
#   dhcp_follow.py 4 IFNAME discover
#   dhcp_follow.py 4 IFNAME request [--ciaddr A] [--requested A] [--sid A]
#   dhcp_follow.py 6 IFNAME solicit|info
#   dhcp_follow.py 6 IFNAME renew ADDR
#   dhcp_follow.py ra IFNAME
#
# Prints one line per reply (all the replies within 2 s for DHCP requests:
# a server may send more than one DHCPNAK), with the fields the test looks
# at, for example:
#   dhcp type=6 src=198.51.100.1 yiaddr=0.0.0.0 sid=198.51.100.1 lease=-
#   dhcp6 type=7 status=- sol_max_rt=- info_refresh=-
#   ia t1=60 t2=96 status=-
#   iaaddr 2001:db8::2 pref=120 valid=120
#   ra lifetime=9000 flags=0xc0
#   prefix 2001:db8:: valid=7200 preferred=1800
# and exits 1 if nothing came back.

import fcntl
import os
import socket
import struct
import sys
import time


def mac_of(ifname):
    """MAC address of @ifname in our network namespace: SIOCGIFHWADDR, as
    /sys/class/net shows the interfaces of whoever mounted /sys"""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r = fcntl.ioctl(s.fileno(), 0x8927,
                    struct.pack("256s", ifname.encode()[:15]))
    s.close()
    return r[18:24]


def ip4(b):
    return socket.inet_ntoa(b)


def ip6(b):
    return socket.inet_ntop(socket.AF_INET6, b)


# --- DHCP (RFC 2131, 2132) ---------------------------------------------------

def dhcp_opts(r):
    opts, i = {}, 240
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
        opts[code] = opts.get(code, b"") + val
        i += 2 + ln
    return opts


def v4(ifname, args):
    mac = mac_of(ifname)
    xid = os.urandom(4)
    ciaddr = socket.inet_aton(args.get("--ciaddr", "0.0.0.0"))
    msg_type = 1 if args["cmd"] == "discover" else 3
    msg = struct.pack("!BBBB4sHH4s4s4s4s16s64s128sI", 1, 1, 6, 0, xid, 0,
                      0x8000, ciaddr, b"\0" * 4, b"\0" * 4, b"\0" * 4,
                      mac + b"\0" * 10, b"", b"", 0x63825363)
    msg += bytes([53, 1, msg_type])
    if "--requested" in args:
        msg += bytes([50, 4]) + socket.inet_aton(args["--requested"])
    if "--sid" in args:
        msg += bytes([54, 4]) + socket.inet_aton(args["--sid"])
    msg += bytes([55, 5, 1, 3, 51, 58, 59])
    msg += bytes([255])
    msg += b"\0" * max(0, 300 - len(msg))

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.bind(("0.0.0.0", 68))
    s.sendto(msg, ("255.255.255.255", 67))

    n, end = 0, time.monotonic() + 2
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            r, src = s.recvfrom(2048)
        except socket.timeout:
            break
        if len(r) < 240 or r[0] != 2 or r[4:8] != xid:
            continue
        o = dhcp_opts(r)

        def u32(code):
            v = o.get(code)
            return str(struct.unpack("!I", v)[0]) if v and len(v) == 4 \
                else "-"

        print("dhcp type=%d src=%s yiaddr=%s sid=%s lease=%s t1=%s t2=%s "
              "router=%s" %
              (o.get(53, b"\0")[0], src[0], ip4(r[16:20]),
               ip4(o[54]) if len(o.get(54, b"")) == 4 else "-",
               u32(51), u32(58), u32(59),
               ip4(o[3][:4]) if len(o.get(3, b"")) >= 4 else "-"))
        n += 1
    return n


# --- DHCPv6 (RFC 8415) -------------------------------------------------------

def v6_opts(b, indent=""):
    out, i = [], 0
    top = {"status": "-", "sol_max_rt": "-", "info_refresh": "-"}
    while i + 4 <= len(b):
        code, ln = struct.unpack("!HH", b[i:i + 4])
        val = b[i + 4:i + 4 + ln]
        if len(val) != ln:
            raise ValueError("option %d runs past the message" % code)
        if code == 3 and ln >= 12:                       # IA_NA
            _, t1, t2 = struct.unpack("!III", val[:12])
            sub, lines = v6_opts(val[12:], "  ")
            out.append("ia t1=%d t2=%d status=%s" % (t1, t2, sub["status"]))
            out += lines
        elif code == 5 and ln >= 24:                     # IAADDR
            pref, valid = struct.unpack("!II", val[16:24])
            out.append("iaaddr %s pref=%d valid=%d" %
                       (ip6(val[:16]), pref, valid))
        elif code == 13 and ln >= 2:                     # Status Code
            top["status"] = str(struct.unpack("!H", val[:2])[0])
        elif code == 82 and ln == 4:                     # SOL_MAX_RT
            top["sol_max_rt"] = str(struct.unpack("!I", val)[0])
        elif code == 32 and ln == 4:                     # Info Refresh Time
            top["info_refresh"] = str(struct.unpack("!I", val)[0])
        elif code == 23:                                 # DNS servers
            for j in range(0, ln - ln % 16, 16):
                out.append("dns %s" % ip6(val[j:j + 16]))
        i += 4 + ln
    return top, out


def v6(ifname, args):
    cmd = args["cmd"]
    xid = os.urandom(3)
    duid = struct.pack("!HH", 3, 1) + mac_of(ifname)
    types = {"solicit": 1, "renew": 5, "info": 11}
    msg = bytes([types[cmd]]) + xid
    msg += struct.pack("!HH", 1, len(duid)) + duid              # Client ID
    msg += struct.pack("!HHH", 8, 2, 0)                          # Elapsed
    if cmd == "renew":
        # Server ID: ours is a DUID-LL of the server's MAC, learnt from a
        # SOLICIT first
        msg += struct.pack("!HH", 2, len(args["server_id"])) + \
            args["server_id"]
    if cmd in ("solicit", "renew"):
        ia = struct.pack("!III", 1, 0, 0)
        if cmd == "renew":
            ia += struct.pack("!HH", 5, 24) + \
                socket.inet_pton(socket.AF_INET6, args["addr"]) + \
                struct.pack("!II", 3600, 7200)
        msg += struct.pack("!HH", 3, len(ia)) + ia
    msg += struct.pack("!HHH", 6, 2, 23)                         # ORO

    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.bind(("::", 546))
    s.settimeout(5)
    s.sendto(msg, ("ff02::1:2", 547, 0, socket.if_nametoindex(ifname)))
    while True:
        r, _ = s.recvfrom(2048)
        if len(r) >= 4 and r[0] in (2, 7) and r[1:4] == xid:
            break

    top, lines = v6_opts(r[4:])
    print("dhcp6 type=%d status=%s sol_max_rt=%s info_refresh=%s" %
          (r[0], top["status"], top["sol_max_rt"], top["info_refresh"]))
    print("\n".join(lines))

    # Server ID, for a RENEW after a SOLICIT
    i = 4
    while i + 4 <= len(r):
        code, ln = struct.unpack("!HH", r[i:i + 4])
        if code == 2:
            return r[i + 4:i + 4 + ln]
        i += 4 + ln
    return b""


# --- NDP (RFC 4861, 8106) ----------------------------------------------------

def names(b):
    out, i = [], 0
    while i < len(b) and b[i]:
        labels = []
        while i < len(b) and b[i]:
            n = b[i]
            labels.append(b[i + 1:i + 1 + n].decode())
            i += 1 + n
        i += 1
        out.append(".".join(labels))
    return out


def ra(ifname):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.settimeout(5)
    # RS with our source link-layer address option, RFC 4861 4.1
    rs = struct.pack("!BBHI", 133, 0, 0, 0) + bytes([1, 1]) + mac_of(ifname)
    s.sendto(rs, ("ff02::2", 0, 0, socket.if_nametoindex(ifname)))
    while True:
        r, _ = s.recvfrom(2048)
        if len(r) >= 16 and r[0] == 134:
            break

    print("ra lifetime=%d flags=0x%02x" % (struct.unpack("!H", r[6:8])[0],
                                           r[5]))
    i = 16
    while i + 2 <= len(r) and r[i + 1]:
        t, ln = r[i], r[i + 1] * 8
        o = r[i:i + ln]
        if t == 3 and ln == 32:
            valid, pref = struct.unpack("!II", o[4:12])
            print("prefix %s valid=%d preferred=%d" % (ip6(o[16:32]), valid,
                                                       pref))
        elif t == 25:
            life = struct.unpack("!I", o[4:8])[0]
            for j in range(8, ln, 16):
                print("rdnss %s lifetime=%d" % (ip6(o[j:j + 16]), life))
        elif t == 31:
            life = struct.unpack("!I", o[4:8])[0]
            for n in names(o[8:]):
                print("dnssl %s lifetime=%d" % (n, life))
        i += ln
    return 1


def main():
    fam, ifname = sys.argv[1], sys.argv[2]
    args = {"cmd": sys.argv[3] if len(sys.argv) > 3 else ""}
    rest = sys.argv[4:]
    while rest:
        if rest[0].startswith("--") and len(rest) > 1:
            args[rest[0]] = rest[1]
            rest = rest[2:]
        else:
            args["addr"] = rest[0]
            rest = rest[1:]
    try:
        if fam == "4":
            return 0 if v4(ifname, args) else 1
        if fam == "ra":
            return 0 if ra(ifname) else 1
        if args["cmd"] == "renew":
            sid = v6(ifname, {"cmd": "solicit"})
            print("--")
            args["server_id"] = sid
        v6(ifname, args)
        return 0
    except socket.timeout:
        print("no reply")
        return 1


if __name__ == "__main__":
    sys.exit(main())
