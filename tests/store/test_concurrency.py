"""Two gateway processes on one PostgreSQL database send conflicting messages at the same moment:
exactly one of each conflicting pair is accepted — with the advisory locks, and also with the
locks switched off, when only the unique constraints stand guard (the loser is retried)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import clock, samples
from gateway.store import open_store
from tests.store.conftest import SECRET, send

WORKER = Path(__file__).with_name("race_worker.py")
ROUNDS = 15


def race(url: str, scenario: str, *extra: str) -> list[list[dict]]:
    """Both workers get ready (imports, messages, connection), then start on the same signal."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), url, scenario, str(who), str(ROUNDS), "stdin", *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for who in (0, 1)
    ]
    for p in procs:
        line = p.stdout.readline()
        assert line.strip() == b"ready", p.stderr.read().decode()[-2000:]
    for p in procs:
        p.stdin.write(b"go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()[-2000:]
        results.append([json.loads(line) for line in out.decode().splitlines()])
    return results


def exactly_one_accepted(results: list[list[dict]], code: str) -> None:
    for i in range(ROUNDS):
        pair = [results[0][i], results[1][i]]
        verdicts = sorted(p["verdict"] for p in pair)
        assert verdicts == ["accepted", "rejected"], (i, pair)
        loser = next(p for p in pair if p["verdict"] == "rejected")
        assert code in loser["codes"], (i, pair)


@pytest.mark.postgres
@pytest.mark.parametrize("locks", ["advisory-locks", "constraints-only"])
def test_two_processes_issue_the_same_toewijzingnummer(pg_url, locks):
    open_store(pg_url, client_key_secret=SECRET).close()  # migrate once, before the race
    results = race(pg_url, "allocation", *(["--no-locks"] if locks == "constraints-only" else []))
    exactly_one_accepted(results, "TR332")
    conflicts = sum(r["conflicts"] for rs in results for r in rs)
    print(f"{locks}: {conflicts} of {ROUNDS} pairs were stopped by the primary key and retried")


@pytest.mark.postgres
@pytest.mark.parametrize("locks", ["advisory-locks", "constraints-only"])
def test_two_processes_start_the_same_toewijzing(pg_url, locks):
    store = open_store(pg_url, client_key_secret=SECRET)
    for i in range(ROUNDS):
        raw = samples.allocation(bsn=samples.BSNS[i % 50], products=(samples.Allocated(toewijzingnummer=6000 + i),))
        assert send(store, raw).verdict == "accepted"
    store.close()
    results = race(pg_url, "start", *(["--no-locks"] if locks == "constraints-only" else []))
    exactly_one_accepted(results, "TR326")


@pytest.mark.postgres
def test_two_processes_use_the_same_declaratienummer(pg_url):
    store = open_store(pg_url, client_key_secret=SECRET)
    allocated = tuple(samples.Allocated(toewijzingnummer=8000 + i) for i in range(ROUNDS))
    assert send(store, samples.allocation(products=allocated)).verdict == "accepted"
    store.close()
    results = race(pg_url, "declaration")
    exactly_one_accepted(results, "TR333")


def test_sqlite_serialises_writers(tmp_path):
    """SQLite: BEGIN IMMEDIATE makes the two processes take turns; the same outcome."""
    url = f"sqlite:///{tmp_path / 'race.db'}"
    open_store(url, client_key_secret=SECRET).close()
    exactly_one_accepted(race(url, "allocation"), "TR332")
    assert clock.today()  # (the worker judges with today's date)


def test_constraints_stop_what_the_rules_did_not_see(store):
    """The last line of defence: state written past the rules still cannot hold two actual
    starts of one toewijzing or two owners of one ToewijzingNummer."""
    from datetime import timedelta

    from gateway.store import ConflictError
    from tests.store.conftest import parse

    assert send(store, samples.allocation()).verdict == "accepted"
    first = samples.start()
    second = samples.start(products=(samples.Started(begindatum=samples.allocation_start() + timedelta(days=1)),))
    for raw, should_fail in ((first, False), (second, True)):
        root, mtype = parse(raw)
        try:
            with store.transaction() as tx:
                tx.save_message(raw=raw, verdict="accepted", mtype=mtype, root=root)
                tx.apply_state(mtype, root)
            failed = False
        except ConflictError:
            failed = True
        assert failed == should_fail
    other = samples.allocation(bsn=samples.BSNS[7])
    root, mtype = parse(other)
    with pytest.raises(ConflictError):
        with store.transaction() as tx:
            tx.save_message(raw=other, verdict="accepted", mtype=mtype, root=root)
            tx.apply_state(mtype, root)
    assert store.count_messages() == 2  # the failed transactions left nothing behind
