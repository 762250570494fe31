"""No BSN in clear in any log line: a workload through the real service app, and the run-wide check."""

from __future__ import annotations

import io
import json
import logging
from types import SimpleNamespace

import httpx
import pytest

from gateway import observability, samples
from gateway.auth.keys import key_hash, new_key
from testsupport import bsn_log_check


def _party(store, party_id: str, role: str) -> str:
    store.add_party(party_id, role, f"test {role}")
    key_id, key = new_key()
    store.add_api_key(party_id, key_hash(key), key_id)
    return key


@pytest.fixture
def service_app(tmp_path):
    from gateway.pipeline import build_components
    from gateway.service import create_app
    from gateway.settings import Settings

    settings = Settings(data_dir=tmp_path, hmac_secret="log-privacy-secret")
    app = create_app(settings, components=build_components(settings))
    yield app
    app.state.components.store.close()


async def test_service_workload_logs_ids_but_never_a_bsn(service_app):
    stream = io.StringIO()
    handler = observability.configure_logging("DEBUG", stream=stream)
    store = service_app.state.components.store
    gemeente = _party(store, samples.GEMEENTE, "gemeente")
    aanbieder = _party(store, samples.AANBIEDER, "aanbieder")
    bsn = samples.BSNS[2]
    bodies = [
        (gemeente, samples.allocation(bsn=bsn)),
        (aanbieder, samples.start(bsn=bsn)),
        (aanbieder, samples.stop(bsn=bsn)),
        (aanbieder, samples.declaration(clients={bsn: [samples.Prestatie(), samples.Prestatie(bedrag=1)]})),
        (aanbieder, samples.start(bsn=bsn).replace(b"<ijw:Bsn>", b"<ijw:Bsn>1")),  # invalid: 10 digits
        (aanbieder, b"<not-xml " + bsn.encode()),
    ]
    assert all(bsn.encode() in body or b"Bsn" not in body for _, body in bodies[:4])
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service_app), base_url="http://t") as c:
            statuses = []
            for key, body in bodies:
                r = await c.post("/v1/messages", content=body, headers={"X-API-Key": key, "Content-Type": "application/xml"})
                statuses.append(r.status_code)
            await c.get("/metrics")
    finally:
        logging.getLogger().removeHandler(handler)
    out = stream.getvalue()
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert lines, "the workload wrote no log lines"
    assert statuses.count(202) + statuses.count(200) >= 3, statuses
    processed = [line for line in lines if line.get("event") == "message_processed"]
    assert processed and all(line.get("message_id") for line in processed)
    assert all(line.get("request_id") for line in processed)
    assert observability.find_bsns(out) == [], "a BSN in clear in the service log"


def test_run_check_finds_a_bsn_and_fails_the_session(tmp_path):
    log = tmp_path / "run.jsonl"
    log.write_text('{"event": "ok", "n": 12345678}\n{"event": "client 999990019 refused"}\n')
    found = bsn_log_check.scan(log)
    assert [n for n, _ in found] == [2]
    assert "999990019" not in found[0][1]  # the report itself masks it
    saved = dict(bsn_log_check._STATE)
    try:
        handler = logging.NullHandler()
        bsn_log_check._STATE.update(handler=handler, path=log)
        session = SimpleNamespace(exitstatus=0, config=SimpleNamespace())
        bsn_log_check.pytest_sessionfinish(session, 0)
        assert session.exitstatus == 1
    finally:
        bsn_log_check._STATE.clear()
        bsn_log_check._STATE.update(saved)


def test_run_check_searches_every_xdist_workers_file(tmp_path):
    log = tmp_path / "pytest-run-1.jsonl"
    log.write_text('{"event": "ok"}\n')
    bsn_log_check.worker_path(log, "gw0").write_text('{"event": "ok"}\n')
    bsn_log_check.worker_path(log, "gw1").write_text('{"event": "client 999990019 refused"}\n')
    saved = dict(bsn_log_check._STATE)
    try:
        bsn_log_check._STATE.update(handler=logging.NullHandler(), path=log)
        session = SimpleNamespace(exitstatus=0, config=SimpleNamespace())
        bsn_log_check.pytest_sessionfinish(session, 0)
        assert session.exitstatus == 1
        assert [where for where, _ in bsn_log_check._STATE["findings"]] == ["pytest-run-1-gw1.jsonl:1"]
        assert bsn_log_check._STATE["lines"] == 3
    finally:
        bsn_log_check._STATE.clear()
        bsn_log_check._STATE.update(saved)
