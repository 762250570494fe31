"""The broker stops during a load of messages and comes back: nothing is lost, nothing is doubled
(for a consumer deduplicating on message id), and order per partition key holds.

tansu keeps its log in memory, so a restart empties it. The test therefore checks in two halves:
phase 1 (broker up) is fully published and consumed before the broker stops; phases 2 (broker
down: the gateway keeps accepting, 202 = stored) and 3 (broker back, new messages while the
backlog drains) are consumed from the new, empty broker, where each of their messages must
appear exactly once, in outbox order per (topic, key), and none of phase 1 may be re-published.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from gateway import samples
from gateway.client import GatewayClient
from gateway.store import tables as t
from testsupport.services import TansuBroker

from .conftest import live, make_app, make_settings, setup_parties
from .test_e2e import consume, wait_until_published

pytestmark = [pytest.mark.postgres, pytest.mark.broker]
CLIENTS = 12


def chain_step(standard: str, step: int, n: int) -> tuple[str, bytes]:
    """Step `step` of client n's chain: 301[A], 301[A,B], 305 A, 305 B."""
    bsn = samples.BSNS[100 + n]
    cat, code = samples.DEFAULT_PRODUCT[standard]
    a = 6000 + 2 * n
    b = a + 1
    code_b = code[:-1] + "2"
    if step == 0:
        return "gemeente", samples.allocation(standard, bsn=bsn, products=(samples.Allocated(toewijzingnummer=a),))
    if step == 1:
        return "gemeente", samples.allocation(standard, bsn=bsn, products=(
            samples.Allocated(toewijzingnummer=a), samples.Allocated(toewijzingnummer=b, categorie=cat, code=code_b)))
    if step == 2:
        return "aanbieder", samples.start(standard, bsn=bsn, products=(samples.Started(toewijzingnummer=a),))
    return "aanbieder", samples.start(standard, bsn=bsn, products=(
        samples.Started(toewijzingnummer=b, categorie=cat, code=code_b),))


def kafka_rows(store, after_id: int = 0) -> list[tuple[int, str, str, str]]:
    """(outbox id, topic, key, message-id header) of every Kafka row, in outbox order."""
    o = t.outbox
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(o.c.id, o.c.destination, o.c.key, o.c.headers)
            .where(o.c.destination != "stream", o.c.id > after_id).order_by(o.c.id)
        ).all()
    return [(r[0], r[1], r[2], dict(r[3])["message-id"]) for r in rows]


def check_exactly_once_in_order(records, expected) -> int:
    """Dedup on message id; the first occurrences must be exactly `expected`, in outbox order per
    (topic, key). Returns the number of duplicates the consumer dropped."""
    first: dict[str, tuple[str, str]] = {}
    order: dict[tuple[str, str], list[str]] = {}
    dups = 0
    for rec in records:
        mid = dict(rec.headers)["message-id"].decode()
        if mid in first:
            dups += 1
            continue
        first[mid] = (rec.topic, rec.key.decode())
        order.setdefault((rec.topic, rec.key.decode()), []).append(mid)
    want: dict[tuple[str, str], list[str]] = {}
    for _, topic, key, mid in expected:
        want.setdefault((topic, key), []).append(mid)
    assert set(first) == {mid for *_, mid in expected}, "missing or unexpected messages"
    assert order == want, "order per key differs from the outbox order"
    return dups


@pytest.mark.parametrize("standard", ["ijw"])
def test_broker_restart_during_load(standard, tmp_path, pg_url, broker, contracts):
    # A short request timeout: a record sent into the outage fails (and is resent from the outbox)
    # instead of waiting for the new, empty broker, where tansu would auto-create its topic.
    settings = make_settings(tmp_path, store_url=pg_url, kafka_bootstrap=broker.bootstrap,
                             kafka_request_timeout_ms=1000)
    app = make_app(settings, contracts)
    keys = setup_parties(app)
    store = app.state.components.store
    new_broker = None
    with live(app) as server:
        gw = {"gemeente": GatewayClient(server.url, keys.gemeente),
              "aanbieder": GatewayClient(server.url, keys.aanbieder)}

        def send_step(step: int) -> None:
            for n in range(CLIENTS):
                who, xml = chain_step(standard, step, n)
                receipt = gw[who].send(xml)
                assert receipt.verdict == "accepted", (step, n, receipt.issues)

        # Phase 1: broker up. Everything published and consumed before the broker stops.
        send_step(0)
        wait_until_published(store)
        phase1 = kafka_rows(store)
        assert len(phase1) == 2 * CLIENTS  # each 301 and its 302
        records = asyncio.run(consume(broker.bootstrap, sorted({r[1] for r in phase1}), len(phase1)))
        check_exactly_once_in_order(records, phase1)
        last_phase1 = phase1[-1][0]

        # Phase 2: broker down. The gateway keeps accepting (202 = stored), nothing is lost.
        broker.stop()
        started = time.monotonic()
        send_step(1)
        send_step(2)
        assert store.pending_outbox_count() == 4 * CLIENTS
        time.sleep(max(0.0, 1.5 - (time.monotonic() - started)))  # let the publisher fail a few rounds

        # Phase 3: a new broker on the same port; more messages while the backlog drains.
        new_broker = TansuBroker(port=broker.port).start()
        try:
            send_step(3)
            wait_until_published(store, timeout=60)
            later = kafka_rows(store, last_phase1)
            assert len(later) == 6 * CLIENTS
            records = asyncio.run(consume(new_broker.bootstrap, sorted({r[1] for r in later}), len(later)))
            assert not {dict(r.headers)["message-id"].decode() for r in records} & {r[3] for r in phase1}, \
                "already published rows were published again"
            try:
                check_exactly_once_in_order(records, later)
            except AssertionError:
                seen = {dict(r.headers)["message-id"].decode() for r in records}
                o = t.outbox
                with store.engine.connect() as conn:
                    for row in conn.execute(select(o).where(o.c.destination != "stream", o.c.id > last_phase1)).mappings():
                        mid = dict(row["headers"])["message-id"]
                        if mid not in seen:
                            print("missing on the broker:", row["id"], row["destination"], row["key"], row["attempts"], row["last_error"], row["published_at"])
                again = asyncio.run(consume(new_broker.bootstrap, sorted({r[1] for r in later}), len(later), timeout=5))
                print("a second consumer sees", len({dict(r.headers)["message-id"].decode() for r in again}), "of", len(later))
                raise
        finally:
            new_broker.stop()
    # Dead letters would mean the outage counted against the rows.
    assert all(not m.dead_letter for m in store.list_messages(limit=200).items)
    store.close()
