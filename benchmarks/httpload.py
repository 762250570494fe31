"""A small HTTP/1.1 load generator on keep-alive connections (asyncio, no client library).

A client library costs about a millisecond of CPU per request in Python, which on a shared
two-core machine would measure the client. This one writes the request bytes and reads the
status line, the headers and a Content-Length body, nothing more.

- `closed_loop`: `connections` requests in flight at all times (the most the server can do);
- `open_loop`: requests start at a fixed rate whatever the answers do; a request's latency
  counts from the moment it was due, so a server that falls behind shows it in its p99
  (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class Request:
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)  # kept only when asked (keep_bodies)
    errors: int = 0


def _encode(host: str, r: Request) -> bytes:
    head = [f"POST {r.path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(r.body)}"]
    head += [f"{k}: {v}" for k, v in r.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + r.body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
        return status, bytes(body)
    return status, await reader.readexactly(length) if length else b""


class _Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, data: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a keep-alive connection the server closed: reconnect once
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                self.writer.write(data)
                await self.writer.drain()
                return await _read_response(self.reader)  # type: ignore[arg-type]
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _record(out: Outcome, status: int, body: bytes, ms: float, keep: bool) -> None:
    out.latencies_ms.append(ms)
    out.statuses[status] = out.statuses.get(status, 0) + 1
    if keep:
        out.bodies.append(body)


async def _closed(host: str, port: int, requests: list[Request], connections: int, keep: bool) -> Outcome:
    out = Outcome()
    payloads = [_encode(f"{host}:{port}", r) for r in requests]
    queue = iter(range(len(payloads)))

    async def worker() -> None:
        conn = _Conn(host, port)
        try:
            for i in queue:
                start = time.perf_counter()
                try:
                    status, body = await conn.send(payloads[i])
                except (OSError, asyncio.IncompleteReadError):
                    out.errors += 1
                    continue
                _record(out, status, body, (time.perf_counter() - start) * 1000, keep)
        finally:
            conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    out.seconds = time.perf_counter() - start
    return out


async def _open(host: str, port: int, requests: list[Request], rate: float, connections: int,
                keep: bool) -> Outcome:
    out = Outcome()
    payloads = [_encode(f"{host}:{port}", r) for r in requests]
    idle: asyncio.Queue[_Conn] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(_Conn(host, port))
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05

    async def one(i: int) -> None:
        due = t0 + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        conn = await idle.get()  # waiting for a free connection counts as latency
        try:
            status, body = await conn.send(payloads[i])
        except (OSError, asyncio.IncompleteReadError):
            out.errors += 1
            return
        finally:
            idle.put_nowait(conn)
        _record(out, status, body, (loop.time() - due) * 1000, keep)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(len(payloads))))
    out.seconds = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return out


def closed_loop(host: str, port: int, requests: list[Request], connections: int = 32,
                keep_bodies: bool = False) -> Outcome:
    return asyncio.run(_closed(host, port, requests, connections, keep_bodies))


def open_loop(host: str, port: int, requests: list[Request], rate: float, connections: int = 64,
              keep_bodies: bool = False) -> Outcome:
    return asyncio.run(_open(host, port, requests, rate, connections, keep_bodies))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
