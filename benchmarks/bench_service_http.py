"""The service over HTTP from a second process: throughput and latency of POST /v1/messages.

`gateway serve --workers N` runs as its own process (uvicorn; SQLite, or PostgreSQL with one or
more workers); this process sends accepted messages (301 allocations from a gemeente and 315
requests from an aanbieder, each for its own client, so every one runs the full chain and is
routed) over keep-alive connections: first as fast as the server answers (32 in flight), then at
a fixed 500 msg/s, recording each request's latency.

Baseline (the ceiling): a plain FastAPI endpoint under uvicorn with the same number of workers
(benchmarks.echo_app), measured in the same run with the same load generator and bodies.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import httpload
from benchmarks.harness import REPO, Result, RunContext, benchmark
from benchmarks.httpload import Request

SECRET = "bench-service-http-secret"
CONNECTIONS = 32  # requests in flight in the closed-loop phase
RATE = 500  # msg/s of the open-loop phase (issue 14: p99 <= 50 ms at 500 msg/s)
WORKERS = 2  # server processes of the multi-worker variants
WARMUP = 8  # the first messages of a fresh server compile schemas: sent before timing


def _messages(n: int) -> list[tuple[str, bytes]]:
    """n accepted messages: alternately a 301 (gemeente) and a 315 (aanbieder), one client each."""
    from gateway import samples

    out = []
    for i in range(n):
        bsn = samples.BSNS[i % len(samples.BSNS)]
        if i % 2 == 0:
            out.append(("gemeente", samples.allocation(
                "ijw", bsn=bsn, products=(samples.Allocated(toewijzingnummer=100_000 + i),))))
        else:
            out.append(("aanbieder", samples.request(
                "ijw", bsn=bsn, products=(samples.Requested(referentie_aanbieder=f"BENCH{i}"),))))
    return out


def _default_setting(name: str) -> Any:
    from gateway.settings import Settings

    return Settings.model_fields[name].default


def _more(skip: int, n: int) -> list[tuple[str, bytes]]:
    """n further messages (new clients and numbers) after the first `skip`."""
    return _messages(skip + n)[skip:]


def _parties(store: Any) -> dict[str, str]:
    from gateway import samples
    from gateway.auth.keys import key_hash, new_key

    keys = {}
    for role, party in (("gemeente", samples.GEMEENTE), ("aanbieder", samples.AANBIEDER)):
        store.add_party(party, role)
        key_id, key = new_key()
        store.add_api_key(party, key_hash(key), key_id)
        keys[role] = key
    return keys


@contextlib.contextmanager
def _store_url(kind: str) -> Iterator[str | None]:
    """A fresh store URL (None: the embedded SQLite default in the data dir)."""
    if kind == "sqlite":
        yield None
        return
    from testsupport import services

    reason = services.pg_available()
    if reason:
        raise RuntimeError(reason)
    with services.temporary_pg_database() as url:
        yield url


@contextlib.contextmanager
def _process(cmd: list[str], env: dict[str, str], url: str, probe: str) -> Iterator[subprocess.Popen]:
    """Start a server process and wait until `probe` answers; stop it afterwards."""
    import httpx

    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}{probe}", timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(cmd[:4])} did not start")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def _server(work: Path, store_url: str | None, bootstrap: str | None,
            workers: int = 1, pinned: bool = False) -> Iterator[tuple[str, Any, dict]]:
    from gateway.settings import Settings
    from gateway.store import open_store
    from testsupport.services import free_port

    data = work / "var"
    settings = Settings(data_dir=data, store_url=store_url, hmac_secret=SECRET)
    data.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.store_url, client_key_secret=SECRET)
    keys = _parties(store)
    port = free_port()
    env = {**os.environ, "GATEWAY_DATA_DIR": str(data), "GATEWAY_STORE_URL": settings.store_url,
           "GATEWAY_HMAC_SECRET": SECRET, "GATEWAY_MAX_IN_FLIGHT": str(4 * CONNECTIONS),
           "GATEWAY_OUTBOX_POLL_SECONDS": "0.05"}
    if bootstrap:
        env["GATEWAY_KAFKA_BOOTSTRAP"] = bootstrap
    if pinned:
        env["GATEWAY_PIPELINE_CPU"] = "auto"
    # The log level `gateway serve` runs at by default: its JSON line per message is part
    # of what a message costs in production (the server's stderr goes nowhere, the writes happen).
    cmd = [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", str(workers),
           "--log-level", "INFO"]
    url = f"http://127.0.0.1:{port}"
    try:
        with _process(cmd, env, url, "/healthz") as proc:
            store.server_pid = proc.pid  # for the oversized-upload check (one worker)
            yield url, store, keys
    finally:
        store.close()


@contextlib.contextmanager
def _echo(workers: int) -> Iterator[tuple[str, dict]]:
    """The plain FastAPI endpoint (benchmarks.echo_app) under uvicorn with the same workers."""
    from testsupport.services import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "uvicorn", "benchmarks.echo_app:app", "--port", str(port),
           "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    with _process(cmd, {**os.environ, "PYTHONPATH": str(REPO)}, url, "/docs") as proc:
        yield url, {"pid": proc.pid}


def _requests(messages: list[tuple[str, bytes]], keys: dict[str, str]) -> list[Request]:
    return [Request("/v1/messages", xml, {"Content-Type": "application/xml", "X-API-Key": str(keys.get(role, "-"))})
            for role, xml in messages]


def _in_process(kind: str, work: Path, n: int, threads: int) -> dict[str, Any]:
    """The same messages through pipeline.process in this process, `threads` at once, each
    authenticated by its API key as the service does (the HTTP layer's share is the difference)."""
    from concurrent.futures import ThreadPoolExecutor

    from gateway.auth.batched import BatchedKeyLookup
    from gateway.auth.identity import party_for_key
    from gateway.pipeline import Pipeline, build_components
    from gateway.settings import Settings

    with _store_url(kind) as url:
        settings = Settings(data_dir=work, store_url=url, hmac_secret=SECRET)
        work.mkdir(parents=True, exist_ok=True)
        components = build_components(settings)
        try:
            keys = _parties(components.store)
            pipeline = Pipeline(components)
            lookup = BatchedKeyLookup(components.store)
            messages = _messages(WARMUP + n)

            def one(m: tuple[str, bytes]) -> str:
                return pipeline.process(m[1], party_for_key(components.store, keys[m[0]], lookup)).verdict

            for m in messages[:WARMUP]:
                one(m)
            cpu0, t0 = sum(os.times()[:2]), time.perf_counter()
            with ThreadPoolExecutor(threads) as pool:
                verdicts = list(pool.map(one, messages[WARMUP:]))
            seconds, cpu = time.perf_counter() - t0, sum(os.times()[:2]) - cpu0
            lookup.close()
        finally:
            components.store.engine.dispose()
    return {"msgs_per_s": n / seconds, "cpu_ms": 1000 * cpu / n, "accepted": f"{verdicts.count('accepted')}/{n}"}


def _accepted(out: Any) -> int:
    """How many answers said 202 with verdict accepted (the echo says so too)."""
    return sum(1 for b in out.bodies if b'"verdict":"accepted"' in b)


@benchmark("service_http", "Service over HTTP: throughput and latency from a second process")
def service_http(ctx: RunContext) -> Result:
    n = 200 if ctx.quick else 3000  # messages of the closed-loop (most the server can do) phase
    paced_s = 2 if ctx.quick else 6  # seconds of the open-loop phase at RATE msg/s
    # "pinned": GATEWAY_PIPELINE_CPU=auto (gateway.affinity), the pipeline threads and the event loop on one CPU
    variants = [("echo", 1), ("echo", WORKERS), ("sqlite", 1), ("sqlite pinned", 1), ("postgres", 1),
                ("postgres pinned", 1), ("postgres", WORKERS)]
    threads = _default_setting("pipeline_threads")
    rows: list[dict[str, Any]] = []
    unavailable: dict[str, str] = {}
    echo_rate: dict[int, float] = {}
    oversized: dict[str, Any] | None = None
    for kind, workers in variants:
        label = f"{kind}, {workers} worker{'s' if workers > 1 else ''}"
        work = ctx.work_dir / f"{kind}-{workers}"
        messages = _messages(WARMUP + n + int(RATE * paced_s))
        try:
            if kind == "echo":
                ctxm: Any = _echo(workers)
            else:
                base, _, mode = kind.partition(" ")
                ctxm = _gateway(work, base, workers, pinned=mode == "pinned")
            with ctxm as (url, keys):
                host, port = url.removeprefix("http://").split(":")
                reqs = _requests(messages, keys)
                httpload.closed_loop(host, int(port), reqs[:WARMUP], connections=2)  # schemas, rules
                cpu0 = _cpu_seconds(keys["pid"])
                full = httpload.closed_loop(host, int(port), reqs[WARMUP:WARMUP + n], CONNECTIONS,
                                            keep_bodies=True)
                cpu_ms = 1000 * (_cpu_seconds(keys["pid"]) - cpu0) / n
                paced = httpload.open_loop(host, int(port), reqs[WARMUP + n:], RATE, connections=4 * CONNECTIONS,
                                           keep_bodies=True)
                # Latency where the server keeps up: half the rate it just sustained (capped at RATE).
                easy_rate = max(10, min(RATE, int(n / full.seconds / 2)))
                easy = httpload.open_loop(host, int(port), _requests(_more(len(messages), int(easy_rate * paced_s)),
                                                                     keys), easy_rate, connections=4 * CONNECTIONS)
                if kind == "sqlite" and oversized is None:
                    oversized = _oversized(url, keys["aanbieder"], keys["pid"])
        except Exception as exc:  # the variant is listed as not measured, with the reason
            unavailable[label] = f"{type(exc).__name__}: {exc}"
            continue
        rate = n / full.seconds
        if kind == "echo":
            echo_rate[workers] = rate
        pct = httpload.percentile
        rows.append({
            "variant": label,
            "msgs_per_s": round(rate, 1),
            "cpu_ms_per_msg": round(cpu_ms, 2),
            "p50_ms": round(pct(full.latencies_ms, 0.5), 1),
            "p99_ms": round(pct(full.latencies_ms, 0.99), 1),
            "accepted": f"{_accepted(full)}/{n}",
            f"at_{RATE}_p50_ms": round(pct(paced.latencies_ms, 0.5), 1),
            f"at_{RATE}_p95_ms": round(pct(paced.latencies_ms, 0.95), 1),
            f"at_{RATE}_p99_ms": round(pct(paced.latencies_ms, 0.99), 1),
            f"at_{RATE}_accepted": f"{_accepted(paced)}/{len(paced.latencies_ms) + paced.errors}",
            "sustained_rate": easy_rate,
            "sustained_p50_ms": round(pct(easy.latencies_ms, 0.5), 1),
            "sustained_p95_ms": round(pct(easy.latencies_ms, 0.95), 1),
            "sustained_p99_ms": round(pct(easy.latencies_ms, 0.99), 1),
            "ratio_to_echo": round(rate / echo_rate[workers], 3) if workers in echo_rate else None,
        })
    for kind in ("postgres",):  # the pipeline without HTTP, same messages and keys, same concurrency
        label = f"{kind}, in process ({threads} threads, no HTTP)"
        try:
            ip = _in_process(kind, ctx.work_dir / f"inproc-{kind}", n, threads)
        except Exception as exc:
            unavailable[label] = f"{type(exc).__name__}: {exc}"
            continue
        rows.append({"variant": label, "msgs_per_s": round(ip["msgs_per_s"], 1),
                     "cpu_ms_per_msg": round(ip["cpu_ms"], 2), "accepted": ip["accepted"]})
    inproc = next((r for r in rows if "in process" in r["variant"]), None)
    gateway_rows = [r for r in rows if not r["variant"].startswith("echo") and "in process" not in r["variant"]]
    best = max(gateway_rows, key=lambda r: r["msgs_per_s"]) if gateway_rows else None
    pg = [r for r in gateway_rows if r["variant"].startswith("postgres")]
    pg_best = max(pg, key=lambda r: r["msgs_per_s"]) if pg else None
    parts = []
    if pg_best:
        parts.append(f"{pg_best['variant']}: {pg_best['msgs_per_s']:,.0f} msg/s = "
                     f"{pg_best['ratio_to_echo']}x the plain FastAPI echo, p99 {pg_best[f'at_{RATE}_p99_ms']} ms at "
                     f"{RATE} msg/s, p99 {pg_best['sustained_p99_ms']} ms at {pg_best['sustained_rate']} msg/s")
    if inproc:
        parts.append(f"the same pipeline in process: {inproc['msgs_per_s']:,.0f} msg/s, "
                     f"{inproc['cpu_ms_per_msg']} ms CPU per message (HTTP server: "
                     f"{pg_best['cpu_ms_per_msg'] if pg_best else '?'} ms)")
    for r in gateway_rows:
        if r is not pg_best:
            parts.append(f"{r['variant']}: {r['msgs_per_s']:,.0f} msg/s ({r['ratio_to_echo']}x echo), "
                         f"p99 {r[f'at_{RATE}_p99_ms']} ms at {RATE} msg/s")
    if echo_rate:
        parts.append("echo " + " / ".join(f"{v:,.0f}" for v in echo_rate.values()) + " msg/s")
    notes = []
    if oversized:
        parts.append(f"a 1,000,000-prestatie JW323 ({oversized['bytes'] / 1e6:,.0f} MB): {oversized['status']} "
                     f"{oversized['code']} in {oversized['seconds']:.1f} s, server peak "
                     f"+{oversized['server_peak_growth_MB']:.0f} MB")
        notes.append(f"Oversized upload (sqlite variant): a JW323 the size of one with 1,000,000 prestaties "
                     f"({oversized['bytes']:,} bytes), streamed without Content-Length; answer "
                     f"{oversized['status']} `{oversized['code']}`: \"{oversized['message']}\"; "
                     f"{oversized['seconds']:.2f} s; the server's peak resident memory grew by "
                     f"{oversized['server_peak_growth_MB']:.0f} MB. The limit is GATEWAY_MAX_MESSAGE_BYTES "
                     "(default 25 MiB, the hubs' limit).")
    headline = "; ".join(parts) if best else "not measured"
    return Result(
        measured=(
            f"{n} accepted messages (after {WARMUP} untimed warm-up messages; 301s from a gemeente and 315s "
            f"from an aanbieder, one client each, so each runs the whole chain and is routed) POSTed to "
            f"`gateway serve --workers N` in its own process by {CONNECTIONS} keep-alive connections with a request "
            f"always in flight (benchmarks.httpload, asyncio, no client library); then {int(RATE * paced_s)} more at a "
            f"fixed {RATE} msg/s (open loop: latency counts from the moment a request was due). "
            "The echo rows are a plain FastAPI endpoint under uvicorn with the same workers "
            "(benchmarks.echo_app), sent the same bodies: the ceiling of Python HTTP on this machine. "
            "cpu_ms_per_msg: user + system CPU seconds of the server processes during the closed-loop phase per "
            "message (less noisy than the rate on a shared machine). sustained_*: a further open-loop phase at half "
            "the rate the server just sustained (at most 500 msg/s), where latency is the server's own, not queueing. "
            f"The in-process row sends the same messages through pipeline.process from {threads} threads "
            "(the service's default pipeline_threads), each authenticated by its key as the service does."
        ),
        baseline="the plain FastAPI echo endpoint with the same number of workers, same run",
        ratio_meaning="gateway messages per second / echo requests per second (1.0 = as fast as an endpoint "
                      "that does nothing)",
        columns=["variant", "msgs_per_s", "cpu_ms_per_msg", "p50_ms", "p99_ms", "accepted", f"at_{RATE}_p50_ms",
                 f"at_{RATE}_p95_ms", f"at_{RATE}_p99_ms", f"at_{RATE}_accepted", "sustained_rate",
                 "sustained_p50_ms", "sustained_p95_ms", "sustained_p99_ms", "ratio_to_echo"],
        rows=rows,
        headline=headline,
        unavailable=unavailable,
        notes=notes + ["The machine has 2 cores shared with other work (see the load average), and the load "
               "generator runs on them too: compare ratios, not absolute figures.",
               "SQLite serialises writers; its variant runs one worker. With PostgreSQL each worker is a "
               "process with its own group committer; advisory locks keep their groups apart.",
               "The gateway runs at log level INFO, its default (one JSON line per message since 2026-12-07, "
               "two before; written to a stderr nobody reads); runs before 2026-12-06 16:00 ran it at WARNING. The echo writes no lines.",
               "Kafka variants are not part of this benchmark any more: the outbox is drained by the "
               "publisher after the answer, so it does not change these figures (tests/faults measure it)."],
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a server process and its worker processes (Linux /proc)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    ticks = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _oversized(url: str, key: str, pid: int, prestaties: int = 1_000_000) -> dict[str, Any]:
    """POST a JW323 the size of one with `prestaties` prestaties, streamed without a length
    (so the server cannot refuse it from the header and must count while reading): the answer,
    how long it took and how much the server's peak memory grew."""
    import httpx

    from gateway import samples

    sample = samples.large_declaration("ijw", 1000)
    head, _, tail = sample.partition(b"<Client>")
    body_block = b"<Client>" + tail.rsplit(b"</Clienten>", 1)[0]
    size = len(head) + len(body_block) * (prestaties // 1000)

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(prestaties // 1000):
            yield body_block

    try:  # reset the server's high-water mark, so the upload's own growth shows (Linux)
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass
    before = _rss_kb(pid)
    start = time.perf_counter()
    try:
        r = httpx.post(f"{url}/v1/messages", content=chunks(), timeout=120,
                       headers={"Content-Type": "application/xml", "X-API-Key": key})
        status, error = r.status_code, r.json().get("error", {})
    except httpx.HTTPError as exc:  # the server may close the upload after answering
        status, error = None, {"code": type(exc).__name__, "message": str(exc)}
    return {"bytes": size, "status": status, "code": error.get("code"), "message": error.get("message"),
            "seconds": time.perf_counter() - start, "server_peak_growth_MB": (_peak_kb(pid) - before) / 1024}


@contextlib.contextmanager
def _gateway(work: Path, kind: str, workers: int, pinned: bool = False) -> Iterator[tuple[str, dict]]:
    with _store_url(kind) as store_url, _server(work, store_url, None, workers, pinned) as (url, store, keys):
        yield url, dict(keys, pid=store.server_pid)
