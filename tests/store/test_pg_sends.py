"""PostgreSQL: a group's statements reach the server in one send per round trip (issue 14).
psycopg's Cursor.execute in pipeline mode flushed every statement to the server on its own, and
each send woke the server's backend for that one statement; the store queues them
(gateway.store.pgqueue) and sends them with the round trip's Sync, or with a read's flush."""

from __future__ import annotations

import pytest

from gateway import samples
from gateway.auth.policy import Party
from gateway.pipeline import Components, Pipeline
from gateway.settings import Settings
from gateway.store.group import GroupCommit
from tests.store.conftest import SECRET


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_message_alone_costs_one_send_per_round_trip(store, tmp_path, monkeypatch):
    import psycopg

    settings = Settings(data_dir=tmp_path, store_url="sqlite://", hmac_secret=SECRET)
    store.add_party(samples.GEMEENTE, "gemeente")
    store._group = GroupCommit(store, max_group=64, leaders=1)
    pipeline = Pipeline(Components(store=store, settings=settings, secret=SECRET.encode()))
    gemeente = Party(samples.GEMEENTE, "gemeente")
    first = samples.allocation("ijw", bsn=samples.BSNS[0], products=(samples.Allocated(toewijzingnummer=900_000),))
    assert pipeline.process(first, gemeente).verdict == "accepted"  # (connections open, lookups cached)

    seen = {"sync": 0, "communicate": 0, "flush_request": 0}
    sync, communicate, fetch = (psycopg.Pipeline._enqueue_sync, psycopg.Pipeline._communicate_gen,
                                psycopg.Pipeline._fetch_gen)

    def counted_sync(self):  # noqa: ANN001, ANN202 (a Sync: a round trip, its answers waited for)
        seen["sync"] += 1
        return sync(self)

    def counted_communicate(self):  # noqa: ANN001, ANN202 (psycopg flushes what is queued here)
        seen["communicate"] += 1
        return communicate(self)

    def counted_fetch(self, *, flush):  # noqa: ANN001, ANN202 (flush: a Flush request sent of its own)
        seen["flush_request"] += bool(flush and self.result_queue)
        return fetch(self, flush=flush)

    monkeypatch.setattr(psycopg.Pipeline, "_enqueue_sync", counted_sync)
    monkeypatch.setattr(psycopg.Pipeline, "_communicate_gen", counted_communicate)
    monkeypatch.setattr(psycopg.Pipeline, "_fetch_gen", counted_fetch)
    second = samples.allocation("ijw", bsn=samples.BSNS[1], products=(samples.Allocated(toewijzingnummer=900_001),))
    assert pipeline.process(second, gemeente).verdict == "accepted"
    monkeypatch.undo()
    # its group: BEGIN, its lock and its reads in one round trip; its rows and COMMIT in another
    assert seen["sync"] == 2, seen
    assert seen["communicate"] <= seen["sync"], seen  # one flush per round trip, not one per statement
    assert seen["flush_request"] == 0, seen


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_groups_lock_is_parsed_once_per_connection(store, tmp_path):
    """The group's advisory-lock statement is prepared on the connection (its ids a parameter),
    not parsed, analysed and planned by the server at every group."""
    lines = _traced_groups(store, tmp_path, 910_000)
    parsed = [ln for ln in lines if "\tParse\t" in ln and "pg_advisory_xact_lock" in ln]
    bound = [ln for ln in lines if "\tBind\t" in ln and '"gateway_' in ln]
    assert parsed == [] and len(bound) == 3, (parsed, bound)


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_command_whose_pipeline_failed_is_prepared_again(store):
    """A pipeline that fails after queuing a statement's preparation may not have prepared it:
    the next use prepares it again, under a new name."""
    from gateway.store import pgqueue
    from gateway.store.prepared import Pipeline as StorePipeline

    sql = b"SELECT pg_advisory_xact_lock(l.k) FROM unnest($1::bigint[]) WITH ORDINALITY AS l(k, n) ORDER BY l.n"
    with store.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        driver = conn.connection.dbapi_connection
        pipe = StorePipeline(conn)
        assert pipe.resume()
        # BEGIN fails: the statements behind it, the preparation among them, are aborted
        pgqueue.prepared_command(driver, b"BEGIN ISOLATION LEVEL NONSENSE", [])
        assert pgqueue.prepared_command(driver, sql, [b"{1,2}"])
        first = getattr(driver, pgqueue._PREPARED)[sql]
        with pytest.raises(Exception):  # noqa: B017, PT011 (the server's error, as SQLAlchemy's)
            pipe.end()
        assert sql not in getattr(driver, pgqueue._PREPARED)
        pipe = StorePipeline(conn)
        assert pipe.resume()
        assert pgqueue.prepared_command(driver, sql, [b"{1,2}"])
        pipe.end()  # prepared and run
        assert getattr(driver, pgqueue._PREPARED)[sql] != first


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_the_lock_survives_psycopgs_deallocate_all(store, tmp_path):
    """psycopg's rollback of an open transaction deallocates every prepared statement of the
    connection (DEALLOCATE ALL; a failed group is rolled back so): the group's lock statement is
    prepared again, and the next messages are judged as before."""
    pipeline, gemeente, message = _allocating(store, tmp_path, 920_000)
    for i in range(2):  # psycopg prepares its own statements too (after 5 uses), so it has some
        assert pipeline.process(message(i), gemeente).verdict == "accepted"
    for _ in range(6):
        store.group_commit().run(["x"], lambda tx: tx.state.identifier_used("a", "b", "c"))
    (conn,) = store._kept._idle
    driver = conn.connection.dbapi_connection
    assert driver._prepared._names, "psycopg prepared nothing: the test would prove nothing"
    driver.execute("BEGIN")
    driver.rollback()  # (as _end_group after a failed group): DEALLOCATE ALL
    assert [r[0] for r in driver.execute("SELECT count(*) FROM pg_prepared_statements")] == [0]
    for i in range(2, 4):
        assert pipeline.process(message(i), gemeente).verdict == "accepted"


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_groups_reads_are_parsed_once_per_connection(store, tmp_path):
    """The store's compiled reads are prepared on the server at their first run on a connection,
    not parsed and planned again at every group until psycopg's count of five (which the group's
    insert, of a new text at most groups, kept pushing out of psycopg's cache)."""
    lines = _traced_groups(store, tmp_path, 930_000)
    read = [ln for ln in lines if "\tBind\t" in ln and '"_pg3_' in ln]
    parsed = [ln[:160] for ln in lines if "\tParse\t" in ln and "SELECT" in ln]
    assert read, "no prepared read was run: the test would prove nothing"
    assert parsed == [], parsed


def _traced_groups(store, tmp_path, first_number: int) -> list[str]:
    """libpq's trace of the store's kept connection while three allocations are judged, each in a
    group of its own, after a first one (untraced) that opened the connection and ran its reads."""
    import os

    pipeline, gemeente, message = _allocating(store, tmp_path, first_number)
    assert pipeline.process(message(0), gemeente).verdict == "accepted"
    (conn,) = store._kept._idle
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as out:
        conn.connection.dbapi_connection.pgconn.trace(out.fileno())
        try:
            for i in range(1, 4):
                assert pipeline.process(message(i), gemeente).verdict == "accepted"
        finally:
            conn.connection.dbapi_connection.pgconn.untrace()
            out.flush()
            os.fsync(out.fileno())
    return trace.read_text().splitlines()


def _allocating(store, tmp_path, first_number: int):  # noqa: ANN202
    """(a pipeline on `store` whose groups run one at a time, the gemeente, message(i): the i-th
    allocation, for a client and toewijzing of its own)."""
    settings = Settings(data_dir=tmp_path, store_url="sqlite://", hmac_secret=SECRET)
    store.add_party(samples.GEMEENTE, "gemeente")
    store._group = GroupCommit(store, max_group=64, leaders=1)
    pipeline = Pipeline(Components(store=store, settings=settings, secret=SECRET.encode()))

    def message(i: int) -> bytes:
        return samples.allocation("ijw", bsn=samples.BSNS[i],
                                  products=(samples.Allocated(toewijzingnummer=first_number + i),))

    return pipeline, Party(samples.GEMEENTE, "gemeente"), message
