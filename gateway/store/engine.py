"""Database engines for the store: SQLite (WAL, one file) and PostgreSQL, migrated on open."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from gateway.store import elided
from gateway.store.prepared import end_for_core
from gateway.store.tables import ELIDED_WHOLE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # hide_parameters: an error's text must not carry a message's bytes (its BSNs) into a log
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            # Let SQLAlchemy not emit BEGIN itself: transactions start with BEGIN IMMEDIATE
            # (see Store.transaction) so that writers serialise before they read state.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # no checkpoint inside a COMMIT: the store's checkpointer runs them (store.checkpoint)
            cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()
            # an outbox row naming its message's Du01 reads it through this (tables._Whole)
            dbapi_conn.create_function(ELIDED_WHOLE, 3, elided.whole, deterministic=True)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            # On the DBAPI connection: Core's execution path cost more than the BEGIN (issue 14).
            sql = conn.info.pop("begin_sql", "BEGIN")
            if sql is None:  # begun on the DBAPI connection already (store._SQLiteTransaction)
                return
            try:
                conn.connection.driver_connection.execute(sql)
            except conn.dialect.loaded_dbapi.Error as exc:
                raise DBAPIError.instance(sql, (), exc, conn.dialect.loaded_dbapi.Error,
                                          dialect=conn.dialect) from exc

        return engine
    # No pre-ping: it cost every group a round trip (SELECT 1 before its first statement). A
    # connection the server ended fails its first statement instead; the transaction answers 503
    # (the sender retries) and the connection is invalidated (gateway.store.prepared._error, and
    # Core for its own statements), so the pool opens a new one.
    engine = create_engine(url, pool_size=5, max_overflow=5, hide_parameters=True)
    event.listen(engine, "before_cursor_execute", end_for_core)  # Core cannot run in pipeline mode
    return engine


def alembic_config(engine_conn) -> Config:  # noqa: ANN001
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = engine_conn
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; serialised on PostgreSQL)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two processes opening a fresh database at once must not both create tables.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7262346110)")
        command.upgrade(alembic_config(conn), "head")
