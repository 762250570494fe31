"""Messages, retours and outbox payloads of LARGE bytes or more (a declaration of 100,000
prestaties is 50 MB): on SQLite they go in through the blob API instead of as bound values
(gateway.store.prepared), and are stored byte for byte as the small ones, in the same order."""

from __future__ import annotations

import os

from gateway.catalog import by_code
from gateway.store import STREAM, OutboxRow
from gateway.store.prepared import LARGE

JW323 = by_code("JW323")


def _save(tx, raw: bytes, retour: bytes | None, payloads: list[bytes]) -> str:
    message_id = tx.save_message(raw=raw, verdict="accepted", retour=retour, mtype=JW323, sender="12345678",
                                 identificatie=os.urandom(6).hex(), routing_state="pending")
    tx.enqueue([OutboxRow(destination=STREAM, party="0599", payload=p) for p in payloads])
    return message_id


def test_large_values_are_stored_unchanged_in_order(store):
    large, larger = os.urandom(LARGE), os.urandom(LARGE + 12345)
    small = b"<Bericht/>"
    with store.group_transaction() as batch:  # one group: the rows of three messages together
        first = _save(batch.transaction(), small, None, [small])
        big = _save(batch.transaction(), large, larger, [large, small, larger])
        last = _save(batch.transaction(), small, larger, [])
    with store.transaction() as tx:  # a message alone: one row at a time
        alone = _save(tx, larger, None, [larger])
    for message_id, raw, retour in ((first, small, None), (big, large, larger), (last, small, larger),
                                    (alone, larger, None)):
        m = store.get_message(message_id)
        assert (m.raw, m.retour) == (raw, retour)
    assert [r.payload for r in store.outbox_for(big)] == [large, small, larger]
    assert [r.payload for r in store.outbox_for(first)] == [small]
    assert [r.payload for r in store.outbox_for(alone)] == [larger]
    ids = [r.id for m in (first, big, alone) for r in store.outbox_for(m)]
    assert ids == sorted(ids)  # in the order they were enqueued, across the group
