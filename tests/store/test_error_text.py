"""A database error's text does not carry the statement's parameters (a message's bytes, its BSN):
such a text can end up in a log or a traceback on stderr, past the log's BSN masking. (PostgreSQL's
own DETAIL of a constraint violation, "Failing row contains (...)", still names the row's values:
not covered here, an open point.)"""

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
