"""kill -9 a writing gateway process mid-stream: what it acknowledged is stored completely, nothing
is half-stored, and what it did not acknowledge can be sent again (on both databases)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from sqlalchemy import func, select

from gateway import clock
from gateway.store import open_store
from gateway.store import tables as t
from tests.store.conftest import SECRET, send
from tests.store.race_worker import message
from tests.store.test_concurrency import WORKER

ROUNDS = 400


def _count(store, table, *where) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_kill_9_mid_stream_leaves_no_half_stored_message(store_url):
    open_store(store_url, client_key_secret=SECRET).close()
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), store_url, "stream", "0", str(ROUNDS), "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    acked = []
    try:
        while len(acked) < 25:
            line = proc.stdout.readline()
            assert line, proc.stderr.read().decode()[-2000:]
            acked.append(json.loads(line)["round"])
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of the next message's transaction, or between two
    finally:
        proc.wait(10)
    store = open_store(store_url, client_key_secret=SECRET)
    try:
        stored = _count(store, t.messages)
        assert len(acked) <= stored < ROUNDS
        # every stored message is complete: its identifier, its allocation and the number's owner
        assert _count(store, t.message_identifiers) == stored
        assert _count(store, t.allocations) == stored
        assert _count(store, t.allocation_numbers) == stored
        assert _count(store, t.messages, t.messages.c.verdict != "accepted") == 0
        # what was acknowledged is there
        with store.engine.connect() as conn:
            idents = {r[0] for r in conn.execute(select(t.messages.c.identificatie))}
        assert {f"C{i}" for i in acked} <= idents
        # the sender sends everything again: stored ones are recognised, the rest is processed once
        for i in range(max(acked) + 5):
            r = send(store, message("stream", 0, i), today=clock.today())
            assert r.verdict == "accepted"
            assert r.duplicate == (f"C{i}" in idents)
        assert _count(store, t.messages) == max(stored, max(acked) + 5)
    finally:
        store.close()
