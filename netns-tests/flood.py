#!/usr/bin/env python3
"""Flood a VRRP segment with malformed and spoofed IPv4 adverts (netns-tests/t_hostile.sh).

Sends through a raw socket (AF_INET, SOCK_RAW, IPPROTO_RAW, so IP_HDRINCL) to control the TTL
and the source address, and builds and checksums every VRRP message itself (v3 over IPv4,
checksum over the IPv4 pseudo-header, as vipd's default expects). The kinds are interleaved,
paced at --rate packets a second for --seconds. Every packet is one that a correct receiver for
the victim instance (--vrid, VRRPv3, IPv4, pseudo-header checksum) must drop; each kind names
the drop counter it must land in (RFC 9568 section 7.1 order: TTL, version, type, length,
checksum, VRID, interval). Random payloads are classified by that same order, and regenerated
in the (rare) case that one would be a valid advert.

Prints one JSON object: {"sent": {kind: n}, "expect": {drop_counter: n}, "total": n,
"seconds": s}.
"""

import argparse
import json
import random
import socket
import struct
import sys
import time

PROTO_VRRP = 112
TYPE_ADVERT = 1


def inet_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def pseudo(src: bytes, dst: bytes, length: int) -> bytes:
    return src + dst + struct.pack("!BBH", 0, PROTO_VRRP, length)


def checksum_v3(msg: bytes, src: bytes, dst: bytes, with_pseudo: bool = True) -> int:
    zeroed = msg[:6] + b"\0\0" + msg[8:]
    return inet_sum((pseudo(src, dst, len(msg)) if with_pseudo else b"") + zeroed)


def v3_advert(vrid, prio, addrs, src, dst, interval_cs=10, good_sum=True, version=3, vtype=1,
              count=None):
    """A VRRPv3 message; good_sum=False gives a checksum wrong under either convention."""
    n = len(addrs) if count is None else count
    body = struct.pack("!BBBBHH", (version << 4) | vtype, vrid, prio, n, interval_cs & 0x0FFF, 0)
    body += b"".join(addrs)
    s = checksum_v3(body, src, dst)
    if not good_sum:
        s ^= 0x5A5A
        if s in (checksum_v3(body, src, dst), checksum_v3(body, src, dst, False)):
            s ^= 0x0101
    return body[:6] + struct.pack("!H", s) + body[8:]


def ip_packet(src: bytes, dst: bytes, ttl: int, payload: bytes) -> bytes:
    # Total length, id and header checksum are filled in by the kernel (IP_HDRINCL).
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(payload), 0, 0, ttl, PROTO_VRRP, 0,
                      src, dst)
    return hdr + payload


def classify(p: bytes, vrid: int, src: bytes, dst: bytes):
    """The drop counter a correct receiver uses for payload p (TTL 255), or None if valid."""
    if len(p) < 2:
        return "length"
    ver, vtype, pv = p[0] >> 4, p[0] & 0x0F, p[1]
    if ver not in (2, 3):
        return "version"
    if pv == vrid and ver != 3:
        return "version"
    if vtype != TYPE_ADVERT:
        return "type"
    if len(p) < 8:
        return "length"
    mlen = 8 + 4 * p[3] + (8 if ver == 2 else 0)
    if len(p) < mlen:
        return "length"
    msg = p[:mlen]
    if ver == 2:
        ok = inet_sum(msg) == 0
    else:
        ok = inet_sum(pseudo(src, dst, mlen) + msg) == 0 or inet_sum(msg) == 0
    if not ok:
        return "checksum"
    if pv != vrid:
        return "unknown_vrid"
    if (struct.unpack("!H", p[4:6])[0] & 0x0FFF) == 0:
        return "interval"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--src", required=True, help="this host's address")
    ap.add_argument("--spoof", required=True, help="a forged source address")
    ap.add_argument("--dst", default="224.0.0.18")
    ap.add_argument("--vrid", type=int, default=51)
    ap.add_argument("--vip", required=True, help="the instance's virtual address")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rate", type=int, default=1000, help="packets per second, all kinds")
    ap.add_argument("--seed", type=int, default=5798)
    a = ap.parse_args()

    rnd = random.Random(a.seed)
    me, spoof = socket.inet_aton(a.src), socket.inet_aton(a.spoof)
    dst, vip = socket.inet_aton(a.dst), socket.inet_aton(a.vip)
    v = a.vrid

    def other_vrid():
        return rnd.choice([x for x in range(1, 256) if x != v])

    # kind: (drop counter, builder returning (src, ttl, payload))
    kinds = {
        # would win the election if the TTL were not checked
        "ttl64_prio200": ("ttl", lambda: (me, 64, v3_advert(v, 200, [vip], me, dst))),
        # the brief's "lower priority, hop limit 1": well formed otherwise
        "ttl1_prio50": ("ttl", lambda: (me, 1, v3_advert(v, 50, [vip], me, dst))),
        "bad_checksum": ("checksum", lambda: (me, 255, v3_advert(v, 200, [vip], me, dst, good_sum=False))),
        # an address owner from another address, checksum wrong
        "spoof255_bad_checksum": ("checksum", lambda: (spoof, 255, v3_advert(v, 255, [vip], spoof, dst, good_sum=False))),
        "truncated": ("length", lambda: (me, 255, v3_advert(v, 200, [vip], me, dst)[:rnd.randint(2, 11)])),
        "count_lie": ("length", lambda: (me, 255, v3_advert(v, 200, [vip], me, dst, count=rnd.randint(2, 255)))),
        "wrong_version": ("version", lambda: (me, 255, v3_advert(v, 200, [vip], me, dst, version=rnd.choice([0, 1, 2, 4, 5, 7, 15])))),
        "wrong_type": ("type", lambda: (me, 255, v3_advert(v, 200, [vip], me, dst, vtype=rnd.choice([0, 2, 3, 7, 15])))),
        "unknown_vrid": ("unknown_vrid", lambda: (spoof, 255, v3_advert(other_vrid(), 255, [vip], spoof, dst))),
        # a backup learning interval 0 would compute a zero down interval
        "zero_interval": ("interval", lambda: (spoof, 255, v3_advert(v, 254, [vip], spoof, dst, interval_cs=0))),
    }

    def random_payload():
        while True:
            p = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 48)))
            kind = classify(p, v, me, dst)
            if kind is not None:
                return kind, p

    # self-check: every fixed kind is classified as announced
    for name, (want, build) in kinds.items():
        for _ in range(20):
            src, ttl, p = build()
            got = "ttl" if ttl != 255 else classify(p, v, src, dst)
            if got != want:
                sys.exit(f"flood.py: internal error: {name} classifies as {got}, not {want}")

    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.iface.encode())
    sent = {k: 0 for k in kinds}
    sent["random"] = 0
    expect = {}
    names = list(sent)
    total = 0
    t0 = time.monotonic()
    end = t0 + a.seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = int((now - t0) * a.rate)
        while total < due:
            name = names[total % len(names)]
            if name == "random":
                want, p = random_payload()
                src, ttl = me, 255
            else:
                want, build = kinds[name]
                src, ttl, p = build()
            s.sendto(ip_packet(src, dst, ttl, p), (a.dst, 0))
            sent[name] += 1
            expect[want] = expect.get(want, 0) + 1
            total += 1
        time.sleep(0.002)
    print(json.dumps({"sent": sent, "expect": expect, "total": total,
                      "seconds": round(time.monotonic() - t0, 3)}))


if __name__ == "__main__":
    main()
