"""The service over HTTP from a second process: throughput and latency of POST /v1/messages.

`gateway serve` runs as its own process (uvicorn, the embedded default or PostgreSQL, with or
without a tansu broker); this process sends accepted messages (301 allocations from a gemeente and
315 requests from an aanbieder, each for its own client, so every one runs the full chain and is
routed) from a few client threads and records each request's latency. With Kafka it also records
how long the outbox takes to drain after the last answer.

Baseline: the same messages through `Pipeline.process` in this process, one at a time, on a fresh
store of the same kind: the ratio shows what HTTP, authentication and concurrency add or gain.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.harness import Result, RunContext, benchmark

SECRET = "bench-service-http-secret"
THREADS = 4
WARMUP = 4  # the first messages of a fresh server compile schemas: sent before timing


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
def _server(work: Path, store_url: str | None, bootstrap: str | None) -> Iterator[tuple[str, Any, dict]]:
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
           "GATEWAY_HMAC_SECRET": SECRET, "GATEWAY_MAX_IN_FLIGHT": "32",
           "GATEWAY_OUTBOX_POLL_SECONDS": "0.05"}
    if bootstrap:
        env["GATEWAY_KAFKA_BOOTSTRAP"] = bootstrap
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", str(port),
                             "--log-level", "WARNING"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gateway serve did not start")
            time.sleep(0.2)
        yield url, store, keys
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        store.close()


def _load(url: str, keys: dict[str, str], messages: list[tuple[str, bytes]]) -> tuple[float, list[float], int]:
    """(seconds, per-request latencies in ms, non-accepted answers) for all messages."""
    import httpx

    clients = {role: [httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=60)
                      for _ in range(THREADS)] for role, key in keys.items()}

    def send(i: int) -> tuple[float, bool]:
        role, xml = messages[i]
        client = clients[role][i % THREADS]
        start = time.perf_counter()
        r = client.post("/v1/messages", content=xml, headers={"Content-Type": "application/xml"})
        ok = r.status_code == 202 and r.json().get("verdict") == "accepted"
        return (time.perf_counter() - start) * 1000, ok

    start = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(send, range(len(messages))))
    seconds = time.perf_counter() - start
    for cs in clients.values():
        for c in cs:
            c.close()
    return seconds, [r[0] for r in results], sum(1 for r in results if not r[1])


def _drain(store: Any, timeout: float = 120) -> float:
    start = time.perf_counter()
    while store.pending_outbox_count() and time.perf_counter() - start < timeout:
        time.sleep(0.05)
    return time.perf_counter() - start


def _baseline(work: Path, kind: str, messages: list[tuple[str, bytes]]) -> float:
    """Messages per second through Pipeline.process in this process, sequentially."""
    from gateway.auth.policy import Party
    from gateway.pipeline import Pipeline, build_components
    from gateway.settings import Settings
    from gateway import samples

    with _store_url(kind) as url:
        settings = Settings(data_dir=work / f"baseline-{kind}", store_url=url, hmac_secret=SECRET)
        (work / f"baseline-{kind}").mkdir(parents=True, exist_ok=True)
        components = build_components(settings)
        pipeline = Pipeline(components)
        parties = {"gemeente": Party(samples.GEMEENTE, "gemeente"),
                   "aanbieder": Party(samples.AANBIEDER, "aanbieder")}
        pipeline.process(messages[0][1], parties[messages[0][0]])  # warm up (schemas, rules)
        start = time.perf_counter()
        for role, xml in messages[1:]:
            pipeline.process(xml, parties[role])
        seconds = time.perf_counter() - start
        components.store.close()
    return (len(messages) - 1) / seconds


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@benchmark("service_http", "Service over HTTP: throughput and latency from a second process")
def service_http(ctx: RunContext) -> Result:
    from testsupport.services import ServiceUnavailable, TansuBroker

    n = 60 if ctx.quick else 600
    rows: list[dict[str, Any]] = []
    unavailable: dict[str, str] = {}
    variants = [("sqlite", False), ("postgres", False), ("sqlite", True), ("postgres", True)]
    baselines: dict[str, float] = {}
    for kind, kafka in variants:
        label = f"{kind}{' + kafka' if kafka else ''}"
        work = ctx.work_dir / label.replace(" + ", "-")
        messages = _messages(n)
        try:
            if kind not in baselines:
                baselines[kind] = _baseline(ctx.work_dir, kind, _messages(n))
            broker = None
            if kafka:
                try:
                    broker = TansuBroker().start()
                except ServiceUnavailable as exc:
                    raise RuntimeError(str(exc)) from exc
            try:
                with _store_url(kind) as url, _server(work, url, broker.bootstrap if broker else None) as (
                        base, store, keys):
                    _load(base, keys, messages[:WARMUP])  # schemas compiled, rules imported
                    seconds, lat, bad = _load(base, keys, messages[WARMUP:])
                    drained = _drain(store) if kafka else None
            finally:
                if broker:
                    broker.stop()
        except Exception as exc:  # the subject is listed as not measured, with the reason
            unavailable[label] = f"{type(exc).__name__}: {exc}"
            continue
        rate = (n - WARMUP) / seconds
        rows.append({
            "variant": label,
            "messages": n - WARMUP,
            "msgs_per_s": round(rate, 1),
            "p50_ms": round(statistics.median(lat), 1),
            "p99_ms": round(_pct(lat, 0.99), 1),
            "not_accepted": bad,
            "outbox_drained_s": round(drained, 2) if drained is not None else "-",
            "baseline_msgs_per_s": round(baselines[kind], 1),
            "ratio": round(rate / baselines[kind], 2),
        })
    best = max(rows, key=lambda r: r["msgs_per_s"]) if rows else None
    headline = (f"{best['variant']}: {best['msgs_per_s']} msgs/s over HTTP ({THREADS} client threads), "
                f"p99 {best['p99_ms']} ms, {best['ratio']}x the in-process pipeline"
                if best else "not measured")
    return Result(
        measured=f"{n - WARMUP} accepted messages (after {WARMUP} untimed warm-up messages) (301 from a gemeente, 315 from an aanbieder, one client each) "
                 f"POSTed to `gateway serve` in its own process by {THREADS} client threads per sender "
                 "over keep-alive connections; latency per request; with Kafka, the time until the "
                 "outbox is drained after the last answer.",
        baseline="the same messages through Pipeline.process in the benchmark process, one at a "
                 "time, on a fresh store of the same kind",
        ratio_meaning="HTTP throughput / in-process pipeline throughput (above 1: concurrency gains "
                      "more than HTTP costs)",
        columns=["variant", "messages", "msgs_per_s", "p50_ms", "p99_ms", "not_accepted",
                 "outbox_drained_s", "baseline_msgs_per_s", "ratio"],
        rows=rows,
        headline=headline,
        unavailable=unavailable,
        notes=["The machine is shared (2 cores for several engineers): compare ratios, not absolute "
               "figures. SQLite serialises writers (BEGIN IMMEDIATE), so more client threads mostly "
               "add latency there."],
    )
