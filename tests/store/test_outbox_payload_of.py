"""An outbox row carrying its message's raw or retour names the column (payload_of, revision 0018)
instead of a copy; every reader gets the bytes whole, rows written before 0018 read as they did,
and the downgrade puts the bytes back into the rows."""

from __future__ import annotations

import os

from sqlalchemy import func, select, text

from gateway.catalog import by_code
from gateway.store import STREAM, OutboxRow, open_store
from gateway.store import ggk as gstore
from gateway.store import tables as t
from gateway.store.store import SOAP

RAW, RETOUR, OWN = b"<Bericht>heen</Bericht>", b"<Bericht>retour</Bericht>", b"<Envelope/>"


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
    compiled = query.compile(store.engine, compile_kwargs={"literal_binds": True})
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            plan = " ".join(r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a few rows: a scan would do otherwise
            plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
    assert "ix_outbox_pending" in plan, plan
    assert store.pending_outbox_count() == 2  # the topic row and the SOAP row; the streams are read
    assert [r.destination for r in store.claim_outbox()] == ["gw.topic"]
