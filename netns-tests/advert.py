#!/usr/bin/env python3
"""Send valid VRRPv3 IPv4 adverts from a chosen source: another VRRP agent, as a test needs one.

Builds packets with flood.py's helpers (pseudo-header checksum, TTL 255) through a raw
IP_HDRINCL socket bound to --iface. Multicast loopback stays on (the socket default), so an
agent on the same host hears them, as it would hear keepalived running beside it.
"""

import argparse
import socket
import time

from flood import ip_packet, v3_advert


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", default="224.0.0.18")
    ap.add_argument("--vrid", type=int, default=51)
    ap.add_argument("--priority", type=int, default=200)
    ap.add_argument("--vip", required=True)
    ap.add_argument("--interval-cs", type=int, default=10)
    ap.add_argument("--count", type=int, default=10)
    a = ap.parse_args()
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.dst)
    body = v3_advert(a.vrid, a.priority, [socket.inet_aton(a.vip)], src, dst, a.interval_cs)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, a.iface.encode())
    for _ in range(a.count):
        s.sendto(ip_packet(src, dst, 255, body), (a.dst, 0))
        time.sleep(a.interval_cs / 100)


if __name__ == "__main__":
    main()
