"""An outbox row carrying its message's raw or retour names the column (payload_of, revision 0018)
instead of a copy, and one carrying the Du01 its message is answered with (kept cut in the row)
names "answer"; every reader gets the bytes whole, rows written before 0018 read as they did, and
the downgrade puts the bytes back into the rows."""

from __future__ import annotations

import os

import pybase64
from sqlalchemy import func, select, text

from gateway.catalog import by_code
from gateway.console import actions
from gateway.store import STREAM, OutboxRow, open_store
from gateway.store import ggk as gstore
from gateway.store import tables as t
from gateway.store.store import SOAP
from tests.store.plans import query_plan

RAW, RETOUR, OWN = b"<Bericht>heen</Bericht>", b"<Bericht>retour</Bericht>", b"<Envelope/>"
# a retour whose base64 runs past 76 characters (PostgreSQL's encode breaks its lines there), and
# bytes that are not UTF-8 around it: the Du01 must come back byte for byte
LONG_RETOUR = b"<Bericht>" + bytes(range(256)) * 3 + b"</Bericht>"
DU01_HEAD, DU01_TAIL = b"<Du01><stuf>\xe9\x00", b"</stuf></Du01>"
DU01 = DU01_HEAD + b"<b>" + pybase64.b64encode(LONG_RETOUR) + b"</b>" + DU01_TAIL


def _save(tx) -> str:
    message_id = tx.save_message(raw=RAW, verdict="accepted", retour=RETOUR, mtype=by_code("JW301"),
                                 sender="12345678", identificatie=os.urandom(6).hex(), routing_state="pending")
    tx.enqueue([OutboxRow(destination=STREAM, party="0599", payload=RAW),
                OutboxRow(destination=STREAM, party="12345678", payload=bytes(RETOUR)),  # equal, not the same object
                OutboxRow(destination="gw.topic", payload=RETOUR),
                OutboxRow(destination=SOAP, party="0599", key="k", payload=RAW),
                OutboxRow(destination=STREAM, party="0599", payload=OWN)])
    return message_id


def _kept(store, message_id: str) -> list[tuple[bytes, str | None]]:
    o = t.outbox.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(o.payload, o.payload_of).where(o.message_id == message_id).order_by(o.id)).all()
    return [(bytes(p), of) for p, of in rows]


def test_rows_name_their_message_bytes_and_read_whole(store):
    with store.group_transaction() as batch:
        grouped = _save(batch.transaction())
    with store.transaction() as tx:
        alone = _save(tx)
        tx.enqueue([OutboxRow(destination=STREAM, party="0599", payload=RAW, message_id=grouped)])  # not its bytes
    for message_id in (grouped, alone):
        assert _kept(store, message_id)[:4] == [(b"", "raw"), (b"", "retour"), (b"", "retour"), (b"", "raw")]
        assert _kept(store, message_id)[4] == (OWN, None)
    assert _kept(store, grouped)[5] == (RAW, None)
    assert [r.payload for r in store.outbox_for(alone)] == [RAW, RETOUR, RETOUR, RAW, OWN]
    assert [i.payload for i in store.read_stream("0599", after=0)] == [RAW, OWN, RAW, OWN, RAW]
    assert [i.payload for i in store.read_stream("12345678", after=0)] == [RETOUR, RETOUR]
    assert [r.payload for r in store.claim_outbox()] == [RETOUR, RETOUR]
    assert [r.payload for r in gstore.claim_soap(store, 10, 5)] == [RAW, RAW]


def test_rows_before_the_revision_keep_their_payload_and_get_it_back_going_down(store_url):
    from alembic import command

    from gateway.store.engine import alembic_config

    store = open_store(store_url, client_key_secret="x")
    try:
        with store.transaction() as tx:
            message_id = _save(tx)
        with store.engine.begin() as conn:  # a row as written before 0018
            conn.execute(t.outbox.insert().values(message_id=message_id, destination=STREAM, party="0599",
                                                  headers=[], payload=b"<old/>", created_at=func.now()))
        assert [r.payload for r in store.outbox_for(message_id)] == [RAW, RETOUR, RETOUR, RAW, OWN, b"<old/>"]
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0017")
            payloads = conn.execute(text("SELECT payload FROM outbox WHERE message_id = :m ORDER BY id"),
                                    dict(m=message_id)).scalars().all()
            assert [bytes(p) for p in payloads] == [RAW, RETOUR, RETOUR, RAW, OWN, b"<old/>"]
            command.upgrade(alembic_config(conn), "head")
    finally:
        store.close()


def test_waiting_rows_are_found_through_the_partial_index(store):
    """ix_outbox_pending holds only rows waiting for delivery (revision 0019): the queries for them
    carry its condition (tables.outbox_waiting) and both databases then read them from it."""
    with store.transaction() as tx:
        _save(tx)
    o = t.outbox
    query = select(func.count()).select_from(o).where(*t.outbox_waiting(o.c), o.c.destination != SOAP)
    plan = query_plan(store, query)
    assert "ix_outbox_pending" in plan, plan
    assert store.pending_outbox_count() == 2  # the topic row and the SOAP row; the streams are read
    assert [r.destination for r in store.claim_outbox()] == ["gw.topic"]


def _save_enveloped(tx, du01: bytes, answer_payload_at: int | None = None) -> str:
    envelope = dict(berichtcode="Di01", zender="12345678", referentienummer=os.urandom(6).hex(), envelope=b"<e/>",
                    envelope_sha256="0" * 64, answer=du01, answer_code="Du01")
    message_id = tx.save_message(raw=RAW, verdict="accepted", retour=LONG_RETOUR, mtype=by_code("JW301"),
                                 sender="12345678", identificatie=os.urandom(6).hex(), routing_state="pending",
                                 envelope=envelope, answer_payload_at=answer_payload_at)
    tx.enqueue([OutboxRow(destination=STREAM, party="12345678", payload=LONG_RETOUR),
                OutboxRow(destination=STREAM, party="12345678", payload=du01),
                OutboxRow(destination="gw.topic", payload=bytes(du01)),
                OutboxRow(destination=SOAP, party="12345678", key="k", payload=du01)])
    return message_id


def test_a_du01_kept_cut_is_named_and_read_whole(store):
    at = len(DU01_HEAD) + len(b"<b>")
    with store.group_transaction() as batch:
        grouped = _save_enveloped(batch.transaction(), DU01)  # its writer did not say where: found
    with store.transaction() as tx:
        alone = _save_enveloped(tx, DU01, answer_payload_at=at)
    for message_id in (grouped, alone):
        assert _kept(store, message_id) == [(b"", "retour")] + [(b"", "answer")] * 3
        with store.engine.connect() as conn:
            cut_at = conn.execute(select(t.messages.c.envelope_answer_payload_at)
                                  .where(t.messages.c.id == message_id)).scalar_one()
        assert cut_at == at
    assert [r.payload for r in store.outbox_for(alone)] == [LONG_RETOUR, DU01, DU01, DU01]
    assert [i.payload for i in store.read_stream("12345678", after=0)] == [LONG_RETOUR, DU01] * 2
    assert [r.payload for r in store.claim_outbox()] == [DU01, DU01]
    assert [r.payload for r in gstore.claim_soap(store, 10, 5)] == [DU01, DU01]
    actions.republish(store, "admin", alone, "gw.again", "the receiver lost it")  # the latest row's payload
    assert _kept(store, alone)[-1] == (DU01, None)


def test_a_du01_kept_whole_or_not_its_message_is_copied(store):
    encoded = pybase64.b64encode(LONG_RETOUR)
    other = DU01.replace(encoded, encoded[:76] + b"\n" + encoded[76:])  # in lines, not one run: kept whole
    with store.transaction() as tx:
        whole = _save_enveloped(tx, other)
        tx.enqueue([OutboxRow(destination=STREAM, party="12345678", payload=DU01)])  # not the Du01 it keeps
    assert _kept(store, whole) == [(b"", "retour")] + [(other, None)] * 3 + [(DU01, None)]
    assert [r.payload for r in store.outbox_for(whole)] == [LONG_RETOUR, other, other, other, DU01]


def test_a_named_du01_gets_its_bytes_back_going_down(store_url):
    from alembic import command

    from gateway.store.engine import alembic_config

    store = open_store(store_url, client_key_secret="x")
    try:
        with store.transaction() as tx:
            message_id = _save_enveloped(tx, DU01)
        assert _kept(store, message_id)[1:] == [(b"", "answer")] * 3
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0017")
            payloads = conn.execute(text("SELECT payload FROM outbox WHERE message_id = :m ORDER BY id"),
                                    dict(m=message_id)).scalars().all()
            assert [bytes(p) for p in payloads] == [LONG_RETOUR, DU01, DU01, DU01]
            command.upgrade(alembic_config(conn), "head")
    finally:
        store.close()
