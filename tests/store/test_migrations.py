"""The Alembic chain builds exactly the schema of tables.py, on both databases, and is idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from gateway.store import open_store
from gateway.store.engine import MIGRATIONS, alembic_config
from gateway.store.tables import metadata


def test_migrations_match_the_tables(store_url):
    store = open_store(store_url, client_key_secret="x")
    try:
        with store.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, metadata)
            assert diff == [], diff
            head = ScriptDirectory.from_config(alembic_config(conn)).get_current_head()
            assert ctx.get_current_revision() == head
        names = set(inspect(store.engine).get_table_names())
        assert {t.name for t in metadata.sorted_tables} <= names
        unique = {ix["name"] for ix in inspect(store.engine).get_indexes("starts") if ix["unique"]}
        assert {"uq_starts_active_key", "uq_starts_actual"} <= unique
    finally:
        store.close()


def test_open_twice_is_a_no_op(store_url):
    open_store(store_url, client_key_secret="x").close()
    store = open_store(store_url, client_key_secret="x")
    assert store.count_messages() == 0
    store.close()


def test_one_linear_chain():
    script = ScriptDirectory(str(MIGRATIONS))
    heads = script.get_heads()
    assert len(heads) == 1
    assert [r.revision for r in script.walk_revisions()][-1] == "0001"


def test_sqlite_runs_in_wal_mode(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'wal.db'}", client_key_secret="x")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


def test_a_database_of_an_older_revision_is_upgraded(store_url):
    from alembic import command

    from gateway.store.engine import make_engine

    engine = make_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    engine.dispose()
    store = open_store(store_url, client_key_secret="x")
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []
        assert ctx.get_current_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    store.close()


def test_envelopes_move_into_the_message_row_and_back(store_url):
    """Revision 0014 carries each message_envelopes row into its message's row (and the downgrade
    back); 0015 keeps them without the payload's base64; 0016 drops the trigger on messages."""
    import base64
    import hashlib

    from alembic import command
    from sqlalchemy import text

    from gateway.store.engine import make_engine
    from gateway.store.store import ConflictError

    engine = make_engine(store_url)
    ref, repeat_ref = "8f0d5c1e-6a7b-4c2d-9e8f-0a1b2c3d4e5f", "0d9e5c1e-6a7b-4c2d-9e8f-0a1b2c3d4e5f"
    columns = "message_id, berichtcode, zender, referentienummer, envelope, envelope_sha256, answer_code"
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0013")
        for mid in ("m1", "m2"):
            conn.execute(text("INSERT INTO messages (id, received_at, raw, sha256, verdict, issues, routing_state, "
                              "dead_letter) VALUES (:id, CURRENT_TIMESTAMP, :raw, 'x', 'accepted', '[]', 'none', "
                              "false)"), dict(id=mid, raw=b"<m/>"))
        conn.execute(text(f"INSERT INTO message_envelopes ({columns}) VALUES ('m1', 'Di01', '0599', :ref, :env, "
                          "'s', 'Du01')"), dict(ref=ref, env=b"<env/>"))
        conn.execute(text("INSERT INTO envelope_repeats (message_id, received_at, berichtcode, zender, "
                          "referentienummer, envelope, envelope_sha256) VALUES ('m1', CURRENT_TIMESTAMP, 'Di01', "
                          "'0599', :ref, :env, 's')"), dict(ref=repeat_ref, env=b"<env/>"))
    engine.dispose()
    store = open_store(store_url, client_key_secret="x")
    try:
        got = store.get_envelope("m1")
        assert (got["referentienummer"], got["envelope"], got["answer_code"]) == (ref, b"<env/>", "Du01")
        assert store.get_envelope("m2") is None
        assert store.find_envelope("0599", ref)["message_id"] == "m1"
        for used in (ref,):  # the unique index (a further envelope's reference: the pipeline's lookup)
            raw = used.encode()
            try:
                store.save_transport_rejection(
                    rows=[], received_at=None, raw=raw, sha256="y", mtype=None, sender="0599", receiver=None,
                    issues=[], transport="http", received_by="0599",
                    envelope=dict(berichtcode="Di01", zender="0599", referentienummer=used, envelope=raw,
                                  envelope_sha256="y"))
            except ConflictError:
                continue
            raise AssertionError(f"{used} was taken")
        # one kept without its payload's base64 (revision 0015), whole again after the downgrade
        payload = b"<m3/>" * 20
        cut_ref = "1d9e5c1e-6a7b-4c2d-9e8f-0a1b2c3d4e5f"
        enveloped = b"<env><xmlBestand>" + base64.b64encode(payload) + b"</xmlBestand></env>"
        m3 = store.save_transport_rejection(
            rows=[], received_at=None, raw=payload, sha256="y", mtype=None, sender="0599", receiver=None,
            issues=[], transport="http", received_by="0599",
            envelope=dict(berichtcode="Di01", zender="0599", referentienummer=cut_ref, envelope=enveloped,
                          envelope_sha256=hashlib.sha256(enveloped).hexdigest()))
        assert store.get_envelope(m3)["envelope"] == enveloped
    finally:
        store.close()
    engine = make_engine(store_url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT length(envelope) FROM messages WHERE id = :id"),
                            dict(id=m3)).scalar() < len(enveloped)
        command.downgrade(alembic_config(conn), "0013")
        rows = conn.execute(text(f"SELECT {columns} FROM message_envelopes ORDER BY referentienummer")).all()
        assert [tuple(r)[:5] for r in rows] == [(m3, "Di01", "0599", cut_ref, enveloped),
                                                ("m1", "Di01", "0599", ref, b"<env/>")]
        command.upgrade(alembic_config(conn), "head")
    engine.dispose()
