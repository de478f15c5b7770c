#!/usr/bin/env python3
"""A crowd of bad and good HTTP clients against vipd's metrics endpoint (t_metrics).

    scrape_flood.py HOST PORT SECONDS IDLE SLOW SCRAPERS

For SECONDS, at once:
  IDLE      connections that send nothing and reconnect 50 ms after the server closes them;
  SLOW      slowloris connections that send a header line every 200 ms and never finish;
  SCRAPERS  clients that scrape as fast as they can (a new connection per scrape), and one
            that keeps its connection alive and scrapes on it back to back;
  one client that sends garbage, oversized headers and other methods every 100 ms.
Prints one JSON object: what each kind saw (connections, closed at once, answers by code, the
slowest successful scrape).
"""
import asyncio
import json
import resource
import sys
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
SECONDS, IDLE, SLOW, SCRAPERS = float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
GET = b"GET /metrics HTTP/1.1\r\nHost: vipd\r\nConnection: close\r\n\r\n"

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

stats = {
    "idle_connections": 0,
    "slow_connections": 0,
    "scrapes": 0,
    "scrapes_ok": 0,
    "scrapes_closed_unanswered": 0,
    "keepalive_ok": 0,
    "hostile_requests": 0,
    "codes": {},
    "connect_errors": 0,
    "slowest_ok_ms": 0,
}
deadline = time.monotonic() + SECONDS


def code_of(reply):
    if not reply:
        return None
    line = reply.split(b"\r\n", 1)[0].split(b" ")
    return line[1].decode() if len(line) > 1 else "?"


def count_code(code):
    stats["codes"][code] = stats["codes"].get(code, 0) + 1


async def connect():
    try:
        return await asyncio.wait_for(asyncio.open_connection(HOST, PORT), 2)
    except (OSError, asyncio.TimeoutError):
        stats["connect_errors"] += 1
        await asyncio.sleep(0.05)
        return None


async def read_all(reader, limit):
    chunks = []
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), limit)
            if not chunk:
                break
            chunks.append(chunk)
    except (OSError, asyncio.TimeoutError):
        pass
    return b"".join(chunks)


def close(writer):
    try:
        writer.close()
    except OSError:
        pass


async def idle():
    while time.monotonic() < deadline:
        conn = await connect()
        if conn is None:
            continue
        stats["idle_connections"] += 1
        reader, writer = conn
        await read_all(reader, max(0.1, deadline - time.monotonic()))
        close(writer)
        await asyncio.sleep(0.05)


async def slow():
    while time.monotonic() < deadline:
        conn = await connect()
        if conn is None:
            continue
        stats["slow_connections"] += 1
        reader, writer = conn
        try:
            writer.write(b"GET /metrics HTTP/1.1\r\n")
            n = 0
            while time.monotonic() < deadline and not reader.at_eof():
                writer.write(b"X-Slow-%d: x\r\n" % n)
                await writer.drain()
                n += 1
                try:
                    if await asyncio.wait_for(reader.read(1024), 0.2) == b"":
                        break
                except asyncio.TimeoutError:
                    pass
        except OSError:
            pass
        close(writer)
        await asyncio.sleep(0.05)


async def scraper():
    while time.monotonic() < deadline:
        conn = await connect()
        if conn is None:
            continue
        reader, writer = conn
        started = time.monotonic()
        stats["scrapes"] += 1
        try:
            writer.write(GET)
            await writer.drain()
        except OSError:
            pass
        reply = await read_all(reader, 5)
        close(writer)
        code = code_of(reply)
        if code is None:
            stats["scrapes_closed_unanswered"] += 1
            await asyncio.sleep(0.005)
            continue
        count_code(code)
        if code == "200" and b"vipd_instance_state{" in reply:
            stats["scrapes_ok"] += 1
            ms = int((time.monotonic() - started) * 1000)
            stats["slowest_ok_ms"] = max(stats["slowest_ok_ms"], ms)


async def keepalive():
    request = b"GET /metrics HTTP/1.1\r\nHost: vipd\r\n\r\n"
    while time.monotonic() < deadline:
        conn = await connect()
        if conn is None:
            continue
        reader, writer = conn
        try:
            while time.monotonic() < deadline:
                writer.write(request)
                await writer.drain()
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await asyncio.wait_for(reader.readexactly(length), 5)
                count_code(code_of(head))
                stats["keepalive_ok"] += code_of(head) == "200"
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        close(writer)
        await asyncio.sleep(0.01)


HOSTILE = [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nHost: vipd\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
    b"POST /metrics HTTP/1.1\r\nHost: vipd\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    b"GET /../../etc/passwd HTTP/1.1\r\nHost: vipd\r\nConnection: close\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n",
]


async def hostile():
    i = 0
    while time.monotonic() < deadline:
        conn = await connect()
        if conn is None:
            continue
        reader, writer = conn
        stats["hostile_requests"] += 1
        try:
            writer.write(HOSTILE[i % len(HOSTILE)])
            await writer.drain()
        except OSError:
            pass
        reply = await read_all(reader, 5)
        close(writer)
        code = code_of(reply)
        if code is not None:
            count_code("hostile_" + code)
        i += 1
        await asyncio.sleep(0.1)


async def main():
    tasks = [idle() for _ in range(IDLE)] + [slow() for _ in range(SLOW)]
    tasks += [scraper() for _ in range(SCRAPERS)] + [keepalive(), hostile()]
    await asyncio.gather(*tasks)


asyncio.run(main())
print(json.dumps(stats, sort_keys=True), flush=True)
