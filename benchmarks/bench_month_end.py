"""Month-end: every provider sends its declaration in the same hour. K large JW323s POSTed at once
to `gateway serve`; the server's peak memory and the time until all are answered, with the byte
budget of the messages being judged (GATEWAY_MAX_IN_FLIGHT_BYTES, the default) and without it."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks import httpload
from benchmarks.bench_service_http import _peak_kb, _rss_kb, _server, _store_url
from benchmarks.harness import Result, RunContext, benchmark
from benchmarks.httpload import Request

BASELINE = "no byte budget"
PROVIDERS = ("12345678", "87654321", "11223344", "55667788")  # testsupport.corpus.AANBIEDERS


@contextlib.contextmanager
def _env(**values: str) -> Any:
    """Settings for the server process (it inherits this process's environment)."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _add_keys(store: Any, keys: dict[str, str]) -> dict[str, str]:
    """An API key for every provider (the server's own _parties registered the first)."""
    from gateway.auth.keys import key_hash, new_key

    out = {}
    for party in PROVIDERS:
        if party not in {p.party_id for p in store.list_parties()}:
            store.add_party(party, "aanbieder")
        key_id, key = new_key()
        store.add_api_key(party, key_hash(key), key_id)
        out[party] = key
    return {**keys, **out}


def _burst(label: str, budget: int, k: int, n: int, work: Path) -> dict[str, Any]:
    from gateway.samples.large import large_declaration, large_declaration_allocations

    per_client = 20  # large_declaration's default layout
    declarations = []  # (provider, 301s, 323): each declaration on toewijzingen of its own
    for i in range(k):
        provider = PROVIDERS[i % len(PROVIDERS)]
        first = 100_000 + i * n
        declarations.append((provider,
                             large_declaration_allocations("ijw", n, aanbieder=provider, first_toewijzing=first),
                             large_declaration("ijw", n, aanbieder=provider, first_toewijzing=first)))
    with _env(GATEWAY_MAX_IN_FLIGHT_BYTES=str(budget)), _store_url("sqlite") as url, \
            _server(work, url, None, 1) as (base, store, keys):
        keys = _add_keys(store, keys)
        host, port = base.removeprefix("http://").split(":")
        allocations = [Request("/v1/messages", xml, {"Content-Type": "application/xml", "X-API-Key": keys["gemeente"]})
                       for _, xmls, _ in declarations for xml in xmls]
        fed = httpload.closed_loop(host, int(port), allocations, connections=16, keep_bodies=True)
        accepted = sum(1 for b in fed.bodies if b'"verdict":"accepted"' in b)
        if accepted != len(allocations):
            raise RuntimeError(f"{label}: {accepted}/{len(allocations)} toewijzingen accepted before the burst")
        pid = store.server_pid
        with contextlib.suppress(OSError):  # reset the high-water mark, so the burst's own growth shows
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        before = _rss_kb(pid)
        answers: list[tuple[int, str]] = []

        def send(provider: str, body: bytes) -> None:
            import httpx

            r = httpx.post(f"{base}/v1/messages", content=body, timeout=600,
                           headers={"Content-Type": "application/xml", "X-API-Key": keys[provider]})
            answers.append((r.status_code, r.json().get("verdict") or r.json().get("error", {}).get("code", "")))

        start = time.perf_counter()
        threads = [threading.Thread(target=send, args=(p, body)) for p, _, body in declarations]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
        growth_mb = (_peak_kb(pid) - before) / 1024
    mb = sum(len(body) for _, _, body in declarations) / 1e6
    return {"variant": label, "declarations": k, "prestaties_each": n, "clients_each": n // per_client,
            "MB_sent": round(mb, 1), "budget_MB": round(budget / 2**20, 1) if budget < 2**40 else None,
            "seconds": seconds, "server_peak_growth_MB": growth_mb,
            "answers": ", ".join(f"{s} {v}: {answers.count((s, v))}" for s, v in sorted(set(answers)))}


@benchmark("month_end", "Month-end burst: large declarations from every provider at once, with and without the byte budget")
def month_end(ctx: RunContext) -> Result:
    from gateway.settings import Settings

    default = Settings.model_fields["max_in_flight_bytes"].default
    k, n = (4, 2_000) if ctx.quick else (8, 20_000)
    # the default, and a tighter budget that holds one of these declarations at a time
    budgets = (2 * 2**20, 1 * 2**20) if ctx.quick else (default, 16 * 2**20)
    rows, unavailable = [], {}
    for label, b in ((BASELINE, 2**50), *((f"byte budget {b / 2**20:g} MiB" + (" (default)" if b == default else ""), b)
                                          for b in budgets)):
        try:
            rows.append(_burst(label, b, k, n, ctx.work_dir / label.replace(" ", "-")))
        except Exception as exc:  # listed as not measured, with the reason
            unavailable[label] = f"{type(exc).__name__}: {exc}"
    base = next((r for r in rows if r["variant"] == BASELINE), None)
    for r in rows:
        r["memory_ratio"] = r["server_peak_growth_MB"] / base["server_peak_growth_MB"] if base else None
        r["time_ratio"] = r["seconds"] / base["seconds"] if base else None
    bounded = [r for r in rows if r["variant"] != BASELINE]
    headline = (f"{k} JW323s of {n:,} prestaties ({base['MB_sent']:g} MB) at once: server +{base['server_peak_growth_MB']:.0f} MB "
                "without a byte budget; " + "; ".join(
                    f"{r['budget_MB']:g} MiB budget: +{r['server_peak_growth_MB']:.0f} MB = {r['memory_ratio']:.2f}x, "
                    f"{r['time_ratio']:.2f}x the time" for r in bounded)
                + f" (every answer: {base['answers']})") if bounded and base else "not measured"
    return Result(
        measured=(f"{k} JW323s of {n:,} prestaties each (one client per 20 prestaties, every prestatie on a "
                  f"toewijzing of its own; {len(PROVIDERS)} providers, each its own declarations) POSTed at the "
                  "same moment from as many threads to `gateway serve` (SQLite, 1 worker, log level INFO), after "
                  "their 301s were fed (untimed), so every declaration is accepted. Time until the last answer; "
                  "growth of the server's peak resident memory during the burst (Linux VmHWM, reset first)."),
        baseline=f"{BASELINE}: the same burst with GATEWAY_MAX_IN_FLIGHT_BYTES so large that only the count "
                 "of messages in flight (64) bounds it, as before the budget existed",
        ratio_meaning="memory_ratio = peak growth / the baseline's; time_ratio = seconds / the baseline's",
        columns=["variant", "declarations", "prestaties_each", "MB_sent", "budget_MB", "seconds",
                 "server_peak_growth_MB", "memory_ratio", "time_ratio", "answers"],
        rows=rows,
        headline=headline,
        unavailable=unavailable,
        notes=["Judging a message takes 10 to 25 times its size in memory; the budget makes a message that "
               "does not fit wait (arrival order) instead of being judged next to all the others.",
               "The machine has 2 cores shared with other work; the memory figures hold better than the time."],
    )
