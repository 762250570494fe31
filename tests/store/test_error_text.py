"""A database error's text does not carry the statement's parameters (a message's bytes, its BSN):
such a text can end up in a log or a traceback on stderr, past the log's BSN masking. PostgreSQL's
own DETAIL of a constraint violation ("Key (...)=(...) already exists", "Failing row contains
(...)") names the row's values: a ConflictError leaves it out, and the log cuts the values from
any line (gateway.observability.hide_row_values)."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import insert

from gateway.store import open_store
from gateway.store import tables as t
from gateway.store.prepared import Prepared


def test_a_failed_statement_names_no_parameter_value(store_url):
    store = open_store(store_url, client_key_secret="x")
    secret = "999999990"
    try:
        row = dict(party_id="0599", role="gemeente", name=secret, created_at=None)
        with store.engine.begin() as conn:
            with pytest.raises(sa_exc.DBAPIError) as prepared:  # created_at may not be NULL
                Prepared(insert(t.parties)).execute(conn, row)
        with pytest.raises(sa_exc.DBAPIError) as core:
            with store.engine.begin() as conn:
                conn.execute(insert(t.parties), row)
        for failed in (prepared.value, core.value):
            assert "[SQL parameters hidden due to hide_parameters=True]" in str(failed), str(failed)
            if store.dialect == "sqlite":
                assert secret not in str(failed), str(failed)
    finally:
        store.close()


# -- what reaches the log: a constraint violation's row values, a BSN among them ------------------

def _logged(exc: BaseException) -> str:
    """The JSON lines the gateway's logging writes for `exc`, through structlog, a library's stdlib
    logger and uvicorn's (each with the traceback)."""
    import io
    import logging
    import sys

    from gateway.observability import configure_logging, get_logger

    buf = io.StringIO()
    configure_logging("INFO", stream=buf)
    try:
        exc_info = (type(exc), exc, exc.__traceback__)
        get_logger("gateway.test").error("unexpected_error", error=str(exc), exc_info=exc_info)
        logging.getLogger("sqlalchemy.pool").error("failed: %s", exc, exc_info=exc_info)
        logging.getLogger("uvicorn.error").error("Exception in ASGI application", exc_info=exc_info)
    finally:
        configure_logging("INFO", stream=sys.stderr)
    return buf.getvalue()


def _raised(fn) -> BaseException:  # noqa: ANN001
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 (the test wants whatever the store raised)
        return exc
    raise AssertionError("no error")


def test_a_unique_violation_carrying_a_bsn_is_logged_without_it(store_url):
    from gateway import samples
    from gateway.store import ConflictError
    from gateway.store.store import now_utc

    bsn = samples.BSNS[123]
    store = open_store(store_url, client_key_secret="x")
    row = dict(party_id=bsn, role="gemeente", name="x", created_at=now_utc())
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(t.parties), row)

        def again() -> None:
            with store.engine.begin() as conn:
                conn.execute(insert(t.parties), row)

        def again_in_a_transaction() -> None:  # as every write of the pipeline runs
            with store._conn() as conn:
                conn.execute(insert(t.parties), row)

        plain, conflict = _raised(again), _raised(again_in_a_transaction)
        assert isinstance(plain, sa_exc.IntegrityError) and isinstance(conflict, ConflictError)
        if store.dialect == "postgresql":  # the database names the row's values, the BSN among them
            assert bsn in str(plain) and "DETAIL" in str(plain), str(plain)
        # The ConflictError says which constraint failed, not the values (it is raised on).
        assert bsn not in str(conflict) and "DETAIL" not in str(conflict), str(conflict)
        for exc in (plain, conflict):
            text = _logged(exc)
            assert text.count("\n") == 3, text  # three lines, each one JSON object
            assert bsn not in text, text
            if store.dialect == "postgresql":
                assert "Key (party_id)=(values hidden)" in text, text
    finally:
        store.close()


def test_a_failing_row_with_a_message_s_bytes_is_logged_without_them(pg_url):
    """PostgreSQL's "Failing row contains (...)" shows a bytea as hex (each value's first 64
    characters): a BSN there is no nine-digit run (the BSN masking misses it) but still readable;
    the values are cut."""
    from gateway import samples
    from gateway.store.store import now_utc

    bsn = samples.BSNS[124]
    xml = f"<Bsn>{bsn}</Bsn>".encode()
    store = open_store(pg_url, client_key_secret="x")
    try:
        def insert_without_verdict() -> None:
            with store.engine.begin() as conn:
                conn.execute(insert(t.messages), dict(id="01TEST", received_at=now_utc(), raw=xml,
                                                      sha256="0" * 64, verdict=None, issues=[]))

        exc = _raised(insert_without_verdict)
        hexed = bsn.encode().hex()
        assert "Failing row contains" in str(exc) and hexed in str(exc), str(exc)[:300]
        text = _logged(exc)
        assert hexed not in text and bsn not in text, text
        assert "Failing row contains (values hidden)" in text, text
    finally:
        store.close()
