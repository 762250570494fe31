"""psycopg pipeline mode with one send per round trip (issue 14).

psycopg's `Cursor.execute` in pipeline mode queues the statement and then communicates: it polls
the socket and flushes, so every statement went to the server in a send of its own, and each
send woke the server's backend for that one statement (on a loaded 2-core machine the backend
then took the sender's core: about 150 us of wall time per statement, some ten per message).
`execute` here queues the statement the same way (psycopg's own generators: preparing, the
result queue, the cursor's results set when the answers come) without communicating; `drain`
hands the queued statements to libpq, which buffers them, so the next flush (a read's, or the
pipeline's Sync at its end) sends them all at once.

psycopg internals (read on 3.1-3.3): `BaseCursor._start_query`, `_convert_query`,
`_maybe_prepare_gen`, `_last_query`, `Connection._prepared.maintain_gen`, `_pipeline.command_queue`.
A psycopg without them: `supported` is false and statements run through `Cursor.execute`.
"""

from __future__ import annotations

import itertools
from functools import partial
from typing import Any

_CHECKED: list[bool] = []


def supported(cursor: Any) -> bool:
    """Whether this psycopg has the internals `execute` and `executemany` use (asked once)."""
    if not _CHECKED:
        names = ("_start_query", "_convert_query", "_maybe_prepare_gen", "_execmany_returning", "_rowcount")
        conn = getattr(cursor, "_conn", None)
        _CHECKED.append(all(hasattr(cursor, n) for n in names) and hasattr(getattr(conn, "_prepared", None),
                                                                         "maintain_gen"))
    return _CHECKED[0]


def _queued(cursor: Any, query: Any, params: Any, prepare: bool | None) -> Any:
    """psycopg's BaseCursor._execute_gen without its `_communicate_gen`: the statement (and its
    Parse, when psycopg prepares it now) stays in the pipeline's command queue."""
    yield from cursor._start_query(query)
    pgq = cursor._convert_query(query, params)
    yield from cursor._maybe_prepare_gen(pgq, prepare=prepare)
    cursor._last_query = query
    yield from cursor._conn._prepared.maintain_gen(cursor._conn)


def execute(cursor: Any, query: Any, params: Any, prepare: bool | None = None) -> None:
    """Queue `query` on `cursor`, whose connection is in pipeline mode (see the module's doc).
    `prepare` as psycopg's Cursor.execute takes it (True: prepared now, if it is not yet)."""
    conn = cursor._conn
    with conn.lock:
        conn.wait(_queued(cursor, query, params, prepare))


_CHUNK = 256  # rows of an executemany queued between two flushes (a declaration's 100,000 prestaties)


def _queued_many(cursor: Any, query: Any, rows: Any) -> Any:
    """psycopg's BaseCursor._executemany_gen_pipeline (without RETURNING) communicating once per
    _CHUNK rows instead of once per row: the rows between go to libpq together."""
    conn = cursor._conn
    pipeline = conn._pipeline
    yield from cursor._start_query(query)
    cursor._rowcount = 0
    cursor._execmany_returning = False
    pgq = None
    for i, params in enumerate(rows, 1):
        if pgq is None:
            pgq = cursor._query = cursor._convert_query(query, params)
        else:
            pgq.dump(params)
        yield from cursor._maybe_prepare_gen(pgq, prepare=True)
        if not i % _CHUNK:  # (memory: the queued rows and their answers do not pile up)
            _run_queued(pipeline.command_queue)
            yield from pipeline._communicate_gen()
    cursor._last_query = query
    yield from conn._prepared.maintain_gen(conn)


def executemany(cursor: Any, query: Any, rows: Any) -> None:
    """Queue `query` once per parameter set of `rows` on `cursor` (its connection in pipeline
    mode, see the module's doc), as Cursor.executemany does without RETURNING."""
    conn = cursor._conn
    with conn.lock:
        conn.wait(_queued_many(cursor, query, rows))


def _run_queued(queue: Any) -> None:
    while queue:
        queue.popleft()()


def drain(driver: Any) -> None:
    """Hand the statements queued on `driver`'s pipeline to libpq (buffered, not flushed): a read
    about to wait for its answer, or the pipeline's end, then sends them in one go."""
    pipeline = getattr(driver, "_pipeline", None)
    queue = getattr(pipeline, "command_queue", None)
    if queue:
        with driver.lock:
            _run_queued(queue)


# --- the pipeline's end: its queued statements and its Sync in one send ----------------------

_LEAVE: list[bool] = []


def own_pipeline(driver: Any) -> Any:
    """psycopg's pipeline entered on `driver` as Connection.pipeline() enters it, but without its
    context manager, so `leave` can end it with one send; None when this psycopg lacks what
    `leave` uses (the caller then takes Connection.pipeline())."""
    if not _LEAVE:
        import psycopg

        p = psycopg.Pipeline
        _LEAVE.append(all(hasattr(p, n) for n in ("_enqueue_sync", "_communicate_gen", "_fetch_gen", "_exit"))
                      and hasattr(driver, "_pipeline") and hasattr(driver, "_check_connection_ok")
                      and hasattr(getattr(driver, "_prepared", None), "clear"))  # (prepared_command)
    if not _LEAVE[0]:
        return None
    import psycopg

    with driver.lock:
        driver._check_connection_ok()
        pipeline = driver._pipeline
        if pipeline is None:
            pipeline = driver._pipeline = psycopg.Pipeline(driver)
    try:
        pipeline.__enter__()
    except BaseException:
        _forget(driver, pipeline)
        raise
    return pipeline


def leave(driver: Any, pipeline: Any, exc: BaseException | None) -> None:
    """End `pipeline` (own_pipeline's): as psycopg's Pipeline.__exit__, except that the queued
    statements and the Sync go to libpq first and out in one send (PQpipelineSync flushes), and
    no Flush request follows the Sync (its answer ends with the Sync's). A nested pipeline (not
    the outermost level) ends as psycopg ends it. An error is raised unless `exc` is."""
    failed = exc is not None
    try:
        if pipeline.level > 1:
            pipeline.__exit__(type(exc) if exc is not None else None, exc, exc.__traceback__ if exc else None)
            return
        try:
            with driver.lock:
                synced = False
                try:
                    pipeline._enqueue_sync()
                    _run_queued(pipeline.command_queue)
                    synced = True
                    driver.wait(pipeline._communicate_gen())  # (what the socket did not take yet)
                finally:
                    driver.wait(pipeline._fetch_gen(flush=not synced))
        except Exception:
            if exc is None:
                raise
        finally:
            pipeline._exit(exc)
    except BaseException:
        failed = True
        raise
    finally:
        names = getattr(driver, _PREPARED, None)
        if names and None in names:  # statements prepared in this pipeline (prepared_command)
            for sql in names.pop(None):
                if failed:
                    names.pop(sql, None)
        _forget(driver, pipeline)


def _forget(driver: Any, pipeline: Any) -> None:
    """As Connection.pipeline() ends: the connection's pipeline gone once it is left."""
    if pipeline.level == 0:
        with driver.lock:
            if driver._pipeline is pipeline:
                driver._pipeline = None


# --- a command prepared once per connection ---------------------------------------------------

# attribute of psycopg's connection: {statement: its name there, None: those being prepared}
_PREPARED = "_gateway_prepared"
_SERIAL = itertools.count(1)


def prepared_command(driver: Any, sql: bytes, params: list[bytes]) -> bool:
    """Queue `sql` (text parameters `params`, its rows not read) on `driver`'s pipeline as a
    statement the server prepared: sent as psycopg sends its own commands (the result checked for
    an error, no cursor: a cursor's execution cost the group some 60,000 instructions), parsed
    and planned once per connection. False (nothing queued): `driver` is not in a pipeline this
    module began. When the pipeline that prepares it fails (an aborted one may not have), the
    next use prepares it again under a new name (`leave`)."""
    pipeline = getattr(driver, "_pipeline", None)
    if pipeline is None or not _LEAVE or not _LEAVE[0]:
        return False
    names = getattr(driver, _PREPARED, None)
    if names is None:
        names = {}
        setattr(driver, _PREPARED, names)
        _forgotten_with_psycopgs(driver._prepared, names)
    pgconn = driver.pgconn
    with driver.lock:
        name = names.get(sql)
        if name is None:
            name = names[sql] = b"gateway_%d" % next(_SERIAL)
            names.setdefault(None, []).append(sql)  # (prepared when this pipeline ends well)
            pipeline.command_queue.append(partial(pgconn.send_prepare, name, sql))
            pipeline.result_queue.append(None)
        pipeline.command_queue.append(partial(pgconn.send_query_prepared, name, params))
        pipeline.result_queue.append(None)
    return True


def _forgotten_with_psycopgs(manager: Any, names: dict) -> None:
    """`names` cleared whenever psycopg clears its prepared statements on the connection (its
    PrepareManager.clear: psycopg's rollback of an open transaction, as after a failed group,
    and a DROP, ALTER or DISCARD ALL it runs, then send DEALLOCATE ALL, which drops ours too)."""
    clear = manager.clear

    def cleared() -> Any:
        names.clear()
        return clear()

    manager.clear = cleared
