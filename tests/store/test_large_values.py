"""Messages, retours and outbox payloads of LARGE bytes or more (a declaration of 100,000
prestaties is 50 MB): on SQLite they go in through the blob API instead of as bound values
(gateway.store.prepared), and are stored byte for byte as the small ones, in the same order."""

from __future__ import annotations

import json
import os

from gateway.catalog import by_code
from gateway.store import STREAM, OutboxRow
from gateway.store.prepared import LARGE
from gateway.store.store import issue_dict

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


def test_many_issues_are_stored_as_few(store):
    """A message with 1,000 issues or more has them encoded when it is saved (store.save_message):
    stored as the same JSON as fewer, read back the same."""
    from gateway.store.store import _ENCODE_AT_ONCE
    from validators.issues import Issue

    def issues(n: int) -> list[Issue]:
        return [Issue(rule="TR338", path=f"/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie[{i}]",
                      text=f"no toewijzing {i} é", retourcode="9338", class_path=f"/P[{i}]") for i in range(n)]

    saved = {}
    # 5,000 issues: more than LARGE bytes of JSON, kept in large_values on SQLite (revision 0017)
    for n in (_ENCODE_AT_ONCE - 1, _ENCODE_AT_ONCE, 3 * _ENCODE_AT_ONCE, 5 * _ENCODE_AT_ONCE):
        with store.group_transaction() as batch:
            tx = batch.transaction()
            saved[n] = tx.save_message(raw=b"<Bericht/>", verdict="rejected", issues=issues(n), mtype=JW323,
                                       sender="12345678", identificatie=os.urandom(6).hex())
    listed = {m.id: m.issues for m in store.list_messages(limit=10).items}  # the log's list reads them too
    assert {n: len(listed[m]) for n, m in saved.items()} == {n: n for n in saved}
    for n, message_id in saved.items():
        stored = store.get_message(message_id).issues
        assert len(stored) == n and stored[-1] == {
            "rule": "TR338", "severity": "error", "path": f"/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie[{n - 1}]",
            "locations": [f"/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie[{n - 1}]"], "line": None,
            "text": f"no toewijzing {n - 1} é", "retourcode": "9338", "class_path": f"/P[{n - 1}]", "action": "reject"}
    if store.dialect == "sqlite":  # the very text SQLAlchemy's JSON type writes
        from sqlalchemy import Text, cast, select

        from gateway.store import tables as t

        m = t.messages.c
        with store.engine.connect() as conn:
            texts = {n: conn.execute(select(cast(t.stored(m.issues, label=False), Text)).where(m.id == mid)).scalar()
                     for n, mid in saved.items()}
            apart = {n: conn.execute(select(m.issues_ref).where(m.id == mid)).scalar() is not None
                     for n, mid in saved.items()}
        for n in saved:
            assert texts[n] == json.dumps([issue_dict(i) for i in issues(n)])
        assert apart == {n: len(texts[n]) >= LARGE for n in saved} and apart[5 * _ENCODE_AT_ONCE]


def test_many_issues_are_encoded_in_small_pieces():
    """Many issues are held as pieces of some KB until written (prepared.Pieces: the allocator
    can place those in memory freed earlier), together the JSON text SQLAlchemy would write."""
    from gateway.store.prepared import Pieces
    from gateway.store.store import _encoded_issues
    from validators.issues import Issue

    issues = [Issue(rule="TR338" if i % 3 else "TR304", path=f"/Bericht/Declaratie/Clienten/Client[{i}]",
                    text=f"no toewijzing {i} é", retourcode="9338") for i in range(20_000)]
    value, firsts = _encoded_issues(issues)
    assert value.__class__ is Pieces and len(value.parts) > 100
    assert max(map(len, value.parts)) < 64 * 1024
    assert bytes(value) == json.dumps([issue_dict(i) for i in issues]).encode() and len(value) >= LARGE
    assert [f["rule"] for f in firsts] == ["TR304", "TR338"]
    small, _ = _encoded_issues(issues[:1000])  # under LARGE: the text itself, as before
    assert small.value == json.dumps([issue_dict(i) for i in issues[:1000]])


def test_large_values_are_kept_once_apart_from_their_rows(store):
    """SQLite keeps a large value in a row of its own (large_values, revision 0017): the message
    row and an outbox row carrying the same bytes refer to one copy; every reader gets the bytes
    whole (Store.get_message, outbox_for, read_stream, claim_outbox). PostgreSQL keeps them in
    their rows."""
    from sqlalchemy import func, select

    from gateway.store import tables as t

    raw, retour = os.urandom(LARGE), os.urandom(LARGE + 7)
    with store.group_transaction() as batch:
        tx = batch.transaction()
        message_id = _save(tx, raw, retour, [retour, raw])
        tx.enqueue([OutboxRow(destination="jw325-topic", payload=retour)])
    assert (store.get_message(message_id).raw, store.get_message(message_id).retour) == (raw, retour)
    assert [r.payload for r in store.outbox_for(message_id)] == [retour, raw, retour]
    assert [i.payload for i in store.read_stream("0599", after=0)] == [retour, raw]
    assert [r.payload for r in store.claim_outbox()] == [retour]
    with store.engine.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(t.large_values)).scalar()
        in_rows = conn.execute(select(func.length(t.messages.c.raw)).where(t.messages.c.id == message_id)).scalar()
    if store.dialect == "sqlite":
        assert (kept, in_rows) == (2, 0)
    else:
        assert (kept, in_rows) == (0, len(raw))


def test_a_large_value_of_a_rolled_back_transaction_is_not_reused(store):
    """The copies a transaction kept are matched within that transaction only: after a rollback
    the same bytes are written again (the row they were in is gone)."""
    raw = os.urandom(LARGE)

    class Abort(Exception):
        pass

    try:
        with store.transaction() as tx:
            _save(tx, raw, None, [raw])
            raise Abort
    except Abort:
        pass
    with store.transaction() as tx:
        message_id = _save(tx, raw, None, [raw])
    assert store.get_message(message_id).raw == raw
    assert [r.payload for r in store.outbox_for(message_id)] == [raw]


def test_a_large_soap_row_is_claimed_whole(store):
    """A SOAP envelope of LARGE bytes or more, written with its group (kept apart on SQLite), is
    claimed whole by gateway.store.ggk.claim_soap, which selects the outbox row itself."""
    from gateway.store import ggk as gstore
    from gateway.store.store import SOAP

    envelope = os.urandom(LARGE + 3)
    with store.group_transaction() as batch:
        tx = batch.transaction()
        _save(tx, b"<Bericht/>", None, [])
        tx.enqueue([OutboxRow(destination=SOAP, party="12345678", key="k", payload=envelope)])
    assert [r.payload for r in gstore.claim_soap(store, 10, 5)] == [envelope]
