"""The console at a million stored messages: every log filter is an index range scan (EXPLAIN, on
SQLite and PostgreSQL), answers a correct first page, and the detail page answers.

Timings and their budget live in benchmarks/bench_console_query.py (results in
benchmarks/results/console_query.md); this test proves the plans and the answers at full size.
GATEWAY_CONSOLE_SCALE_ROWS overrides the row count (default 1,000,000).
"""

from __future__ import annotations

import os
import time
from datetime import datetime

import httpx
import pytest
from console_helpers import open_test_store
from fastapi import FastAPI

from gateway import console
from gateway.console import loadgen, queries, users
from gateway.console.settings import ConsoleSettings

ROWS = int(os.environ.get("GATEWAY_CONSOLE_SCALE_ROWS", "1000000"))

pytestmark = pytest.mark.slow
# filters that match fewer rows than one page
SPARSE = {"client chain", "free text identificatie", "rejected from a provider, 7 days"}


def _holds(params: dict[str, str], item: dict) -> bool:
    at = datetime.fromisoformat(item["received_at"])
    checks = {
        "code": lambda v: item["code"] == v,
        "verdict": lambda v: item["verdict"] == v,
        "sender": lambda v: item["sender"] == v,
        "receiver": lambda v: item["receiver"] == v,
        "rule": lambda v: v in item["rules"],
        "contract_rule": lambda v: v in item["rules"],
        "client_key": lambda v: item["client_key"] == v,
        "q": lambda v: item["identificatie"] == v or item["id"] == v,
        "since": lambda v: at >= datetime.fromisoformat(v),
        "until": lambda v: at < datetime.fromisoformat(v),
        "standard": lambda v: item["standard"] == v,
        "cursor": lambda v: (at, item["id"]) < queries.decode_cursor(v),
    }
    return all(checks[k](v) for k, v in params.items())


async def test_million_messages_log_filters_use_indexes_and_detail_answers(store_url):
    store = open_test_store(store_url)
    try:
        plan = loadgen.Plan(rows=ROWS)
        started = time.perf_counter()
        timing = loadgen.load(store.engine, plan)
        detail_id = loadgen.store_detail_subject(store)
        assert store.count_messages() == ROWS + 3
        users.add_user(store, "scale", "scale test password", "viewer")
        app = FastAPI()
        app.include_router(console.router)
        console.setup(app, store=store, settings=ConsoleSettings(session_secret="s" * 32))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        assert (await client.post("/console/api/login", json={"username": "scale", "password": "scale test password"})).status_code == 200

        report = [f"{store.engine.dialect.name}: loaded {ROWS:,} rows in {timing['load_s']} s"]
        for name, params in loadgen.scenarios(plan, store.engine).items():
            with store.engine.connect() as conn:
                scans, text = loadgen.full_scans(conn, queries.log_statement(conn, queries.LogFilter(**params)))
            assert scans == [], f"{name}: full scan of {scans}\n{text}"
            if "q" in params:  # free text is resolved to ids by its own query first
                with store.engine.connect() as conn:
                    f = queries.LogFilter(**params)
                    for stmt in queries.free_text_statements(conn, f):
                        scans, text = loadgen.full_scans(conn, stmt)
                        assert scans == [], f"{name} (ids): full scan of {scans}\n{text}"
            t0 = time.perf_counter()
            r = await client.get("/console/api/messages", params=params)
            ms = (time.perf_counter() - t0) * 1000
            assert r.status_code == 200, r.text
            items = r.json()["items"]
            assert items, f"{name}: no rows"
            assert len(items) == 50 or name in SPARSE, (name, len(items))
            assert all(_holds(params, i) for i in items), name
            report.append(f"{name}: {ms:.1f} ms")
        with store.engine.connect() as conn:  # the detail page's lookups by secondary key
            scans, text = loadgen.full_scans(conn, queries.replays_statement(conn, detail_id))
        assert scans == [], f"replays: full scan\n{text}"
        t0 = time.perf_counter()
        d = (await client.get(f"/console/api/messages/{detail_id}")).json()
        report.append(f"detail page: {(time.perf_counter() - t0) * 1000:.1f} ms")
        assert d["issues"][0]["rule"] == "TR341" and d["highlight"]
        assert "<Eenheid>14</Eenheid>" in d["xml"].splitlines()[d["highlight"][0] - 1]
        assert [m["code"] for m in d["chain"]][:2] == ["JW301", "JW305"]
        report.append(f"total {time.perf_counter() - started:.0f} s")
        print("\n".join(report))
    finally:
        store.close()
