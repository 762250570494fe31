"""`gateway replay`: stored messages re-judged by the current rules, new verdicts recorded with a
replay_of link, nothing published or recorded twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from gateway import samples
from gateway.cli.replay import replay
from gateway.store import OutboxRow, open_store
from gateway.store import tables as t
from tests.store.conftest import SECRET, send

REPO = Path(__file__).resolve().parents[2]


def _count(store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def _router(root, mtype, raw, message_id):  # noqa: ANN001
    return [OutboxRow(destination="stream", party="0599", payload=raw, message_id=message_id)]


def test_replay_accepts_a_message_that_now_passes_and_routes_it_once(store):
    start = send(store, samples.start())
    assert start.verdict == "rejected" and "TR019" in start.codes  # the 301 came later (OP080)
    assert send(store, samples.allocation()).verdict == "accepted"

    results = replay(store, codes=["JW305"], router=_router)
    assert [(r.id, r.was, r.now, r.changed) for r in results] == [(start.message_id, "rejected", "accepted", True)]
    replayed = store.get_message(results[0].replay_id)
    assert replayed.replay_of == start.message_id and replayed.verdict == "accepted"
    assert _count(store, t.starts) == 1
    assert [o.message_id for o in store.outbox_for(replayed.id)] == [replayed.id]

    # a second run finds the state in place: judged the same, nothing recorded or routed again
    again = replay(store, codes=["JW305"], router=_router)
    assert [(r.was, r.now) for r in again] == [("rejected", "accepted")]
    assert _count(store, t.starts) == 1
    assert _count(store, t.outbox) == 1
    assert store.list_audit()[0].action == "replay"


def test_replay_of_accepted_messages_changes_nothing(store):
    alloc = send(store, samples.allocation())
    send(store, samples.start())
    before = {tbl.name: _count(store, tbl) for tbl in (t.allocations, t.starts, t.outbox, t.message_identifiers)}
    results = replay(store, router=_router)
    assert [(r.was, r.now) for r in results] == [("accepted", "accepted")] * 2
    assert {tbl.name: _count(store, tbl) for tbl in (t.allocations, t.starts, t.outbox, t.message_identifiers)} == before
    assert store.replays_of(alloc.message_id)[0].verdict == "accepted"
    # replays are not deliveries: the original is still what a redelivery is answered with
    assert send(store, store.get_message(alloc.message_id).raw).message_id == alloc.message_id


def test_replay_records_an_accepted_message_that_would_now_fail(store, monkeypatch):
    """A rule change rejects what was accepted: the verdict is recorded, the state stays (it
    was acted upon) and nothing is routed, for an operator to follow up."""
    import validators.rulesets.crossmessage_header as header_rules

    alloc = send(store, samples.allocation(), outbox=lambda tx, mid, v: _router(None, None, b"x", mid))
    monkeypatch.setattr(header_rules, "GEMEENTECODES_2026", frozenset({"0363"}))
    results = replay(store, router=_router)
    assert [(r.was, r.now, r.rules) for r in results] == [("accepted", "rejected", ["TR378"])]
    assert _count(store, t.allocations) == 1 and _count(store, t.outbox) == 1
    assert store.replays_of(alloc.message_id)[0].verdict == "rejected"


def test_replay_of_a_rejected_stop_after_its_start_arrived(store):
    send(store, samples.allocation())
    stop = send(store, samples.stop())
    assert stop.verdict == "rejected"  # no start yet (TR382)
    send(store, samples.start())
    results = replay(store, ids=[stop.message_id])
    assert [(r.was, r.now) for r in results] == [("rejected", "accepted")]
    assert _count(store, t.stops) == 1


def test_replay_command_line(store_url):
    store = open_store(store_url, client_key_secret=SECRET)
    rejected = send(store, samples.start())
    send(store, samples.allocation())
    store.close()
    out = subprocess.run(
        [sys.executable, "-m", "gateway", "replay", "--store", store_url, "--code", "JW305"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={"GATEWAY_HMAC_SECRET": SECRET, "PATH": "/usr/bin:/bin", "GATEWAY_DATA_DIR": str(Path(store_url.split("///")[-1]).parent) if store_url.startswith("sqlite") else "/tmp"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(x["id"], x["was"], x["now"]) for x in lines] == [(rejected.message_id, "rejected", "accepted")]
    assert "replayed 1 message(s), 1 with a changed verdict" in out.stderr
    bad = subprocess.run([sys.executable, "-m", "gateway", "replay", "--store", store_url, "--since", "yesterday"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
