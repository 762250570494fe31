"""Hot statements run on the DBAPI cursor, compiled once per dialect (issue 14).

SQLAlchemy Core caches a statement's compiled form, but every `conn.execute` still builds a cache
key, an execution context, its parameters and a result proxy: on the message path that cost three
to four times the database's own work. `Prepared` keeps the compiled SQL text, the order of its
parameters and the type processors of its binds and result columns, and runs the statement on
the DBAPI cursor of the SQLAlchemy connection: inside the same transaction, with the same type
conversions (dates, JSON, booleans) as Core. A DBAPI error is raised as SQLAlchemy's exception
for it (IntegrityError, OperationalError...), so callers handle both paths alike.

Only for statements without expanding (IN-list) parameters; the store keeps Core for the rest.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Integer, LargeBinary, Time, bindparam, func, literal_column
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

from gateway.store import pgqueue
from gateway.store.binds import _ENCODE, faster
from gateway.store.tables import LARGE_REFS

# Counted by tests (tests/store/test_statement_count.py): statements sent to the database.
COUNTER: dict[str, int] = {"statements": 0}


class _Compiled:
    __slots__ = ("convert", "direct", "fixed", "names", "params", "pick", "plan", "positional", "processors", "query",
                 "result_convert", "result_dated", "result_names", "result_processors", "sql", "together", "types")

    def __init__(self, stmt: Any, dialect: Dialect, keys: Sequence[str] | None) -> None:
        compiled = stmt.compile(dialect=_positional(dialect), column_keys=list(keys) if keys is not None else None)
        if dialect.name == "sqlite" and any(map(_inlined, compiled.binds.values(), repeat(dialect))):
            compiled = _literals_inline(stmt, dialect).compile(
                dialect=_positional(dialect), column_keys=list(keys) if keys is not None else None)
        self.sql = compiled.string
        if "POSTCOMPILE" in self.sql:  # an IN list is rendered per execution: Core's job
            raise ValueError(f"Prepared cannot run a statement with an IN list: {self.sql}")
        # what the cursor is given (psycopg: $n placeholders as bytes, for its RawCursor: `_cursor`)
        self.query: Any = self.sql.encode() if _raw(dialect) else self.sql
        self.positional = bool(compiled.positional)
        # SQLite: run on the connection's own execute (a cursor made and dropped in C), not on a
        # cursor taken and given back in Python (`_cursor`, `_done`): a message runs ten or so
        self.direct = dialect.name == "sqlite"
        self.names: list[str] = list(compiled.positiontup or []) if self.positional else list(compiled.binds)
        # bind name -> the processor Core would apply (None: the value goes as it is)
        procs = compiled._bind_processors  # (what Core itself uses for this statement)
        serializer = dialect._json_serializer or json.dumps
        self.processors = {name: _empty_list_once(faster(_json_text(procs[name], compiled.binds[name].type, dialect),
                                                         compiled.binds[name].type, dialect, serializer),
                                                  compiled.binds[name].type)
                           for name in self.names if name in procs}
        # binds with a value of their own (literals in the statement: status == "active", LIMIT 1)
        self.fixed = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and bind.callable is None and not bind.expanding
        }
        # per parameter: (name, the value when it is not given, its processor or None); one tuple per
        # row of an executemany of 100,000 prestaties, so looked up once here
        self.plan = tuple((name, self.fixed.get(name), self.processors.get(name)) for name in self.names)
        # The usual case, every parameter given: one C call picks them all (a statement of one
        # parameter is picked as a tuple of one too), then the few with a processor are converted.
        self.pick = itemgetter(*self.names, *self.names[:1]) if len(self.names) == 1 else (
            itemgetter(*self.names) if self.names else None)
        self.convert = tuple((i, proc) for i, (_n, _d, proc) in enumerate(self.plan) if proc is not None)
        # row -> the parameters the cursor is given (processed as Core would)
        self.params: Any = _params_function(self)
        self.types = {name: bind.type for name, bind in compiled.binds.items()}
        self.result_names: list[str] = []
        self.result_processors: list[Any] = []
        dated = []  # result columns of a date or time type (`Prepared.columns`: converted once per value)
        for col in getattr(compiled, "_result_columns", None) or []:
            name, _objects, type_ = col[0], col[2], col[3]
            self.result_names.append(name)
            self.result_processors.append(type_._cached_result_processor(dialect, None))
            dated.append(isinstance(type_, (Date, DateTime, Time)))
        self.result_dated = tuple(dated)
        # (name, processor) of the result columns that have one: a row's other values go as they are
        self.result_convert = tuple((n, p) for n, p in zip(self.result_names, self.result_processors, strict=True)
                                    if p is not None)
        self.together: tuple[str, str] | None | bool = False  # `rows_template`, once made

    def rows_template(self) -> tuple[str, str] | None:
        """`_rows_template` of this statement, made once (insert_together)."""
        self.together = _rows_template(self)
        return self.together

    def dates_remembered(self) -> _Compiled:
        """This statement with the processors of its date and time parameters remembering what
        they made of each value (for one executemany: the values of its rows repeat)."""
        dated = {i for i, (name, _d, proc) in enumerate(self.plan)
                 if proc is not None and isinstance(self.types.get(name), (Date, DateTime, Time))}
        if not dated:
            return self
        out = copy.copy(self)
        out.convert = tuple((i, _remembering(proc) if i in dated else proc) for i, proc in self.convert)
        out.params = _params_function(out)
        return out

    def _general(self) -> Any:
        """Its parameters from a row by the plan: any row (a parameter not given, a literal's value)."""
        return functools.partial(_by_plan, self.plan, self.names, self.positional)


def _by_plan(plan: tuple, names: list[str], positional: bool, values: Mapping[str, Any]) -> Any:
    out = []
    append = out.append
    for name, default, proc in plan:
        value = values[name] if name in values else default
        if value.__class__ is Processed:
            append(value.value)
        else:
            append(proc(value) if proc is not None and value is not None else value)
    return tuple(out) if positional else dict(zip(names, out, strict=True))


def _params_function(c: _Compiled) -> Any:
    """The function giving `c`'s parameters from a row, written for its statement: every parameter
    picked by one C call, then each with a processor converted in place (a faster processor's
    usual case, its `inline` expression, without a call). Called for every row of every statement
    (a message's rows: some 80 bytecodes each by the general loop, which decided again per row
    what the statement decides once). A statement with literals, or not positional, and a row
    without some parameter, go by the plan (`_by_plan`)."""
    general = c._general()
    if c.pick is None or c.fixed or not c.positional:
        return general
    count = len(c.names)
    # (a statement of one parameter is picked as a tuple of two: cut back to one)
    picked = "pick(values)" if count > 1 else "pick(values)[:1]"
    lines = ["def params(values):", "    try:"]
    if not c.convert:
        lines += [f"        return {picked}", "    except KeyError:", "        return general(values)"]
    else:
        lines += [f"        out = list({picked})", "    except KeyError:", "        return general(values)"]
        for i, proc in c.convert:
            cls, expr = getattr(proc, "inline", None) or (None, None)
            lines.append(f"    v = out[{i}]")
            if cls is not None and expr == "v":  # its usual value bound as it is
                lines.append(f"    if v.__class__ is not c{i} and v is not None:")
            elif cls is not None:
                lines.append(f"    if v.__class__ is c{i}:")
                lines.append(f"        out[{i}] = {expr.replace('PROC', f'p{i}')}")
                lines.append("    elif v is not None:")
            else:
                lines.append("    if v is not None:")
            lines.append(f"        out[{i}] = v.value if v.__class__ is Processed else p{i}(v)")
        lines.append("    return tuple(out)")
    names: dict[str, Any] = {"pick": c.pick, "general": general, "Processed": Processed, "encode": _ENCODE}
    for i, proc in c.convert:
        names[f"p{i}"] = proc
        names[f"c{i}"] = (getattr(proc, "inline", None) or (None,))[0]
    source = "\n".join(lines)
    code = _PARAMS_CODE.get(source)
    if code is None:  # (compiled once per text: `dates_remembered` makes one per executemany)
        code = _PARAMS_CODE[source] = compile(source, "<prepared params>", "exec")
    exec(code, names)  # noqa: S102 (our own text, of the statement's positions and processors)
    return names["params"]


_PARAMS_CODE: dict[str, Any] = {}  # `_params_function`'s texts, compiled (a few per statement)


_PLAIN_LITERAL = re.compile(r"[A-Za-z0-9_.-]*")


def _inlined(bind: Any, dialect: Dialect) -> bool:
    """Whether `_literals_inline` writes this bind's value into the SQL: a plain text literal."""
    return (isinstance(bind, BindParameter) and not bind.required and bind.callable is None
            and not bind.expanding and isinstance(bind.value, str) and _PLAIN_LITERAL.fullmatch(bind.value)
            is not None and bind.type._cached_bind_processor(dialect) is None)


def _literals_inline(stmt: Any, dialect: Dialect) -> Any:
    """`stmt` with its literal text values (status == "active") written into the SQL instead of
    bound. SQLite plans a statement with a bound value compared to a partial index's condition
    (starts, stops: WHERE status = 'active') for that value, and prepares it again at every
    execution (sqlite3_expired: a parse and plan each time, some 200,000 instructions); with the
    literal in the SQL it is planned once, with the same index and the same rows. (Only for the
    statements that have one: the copy costs as much as compiling.)"""
    def inline(element: Any, **_kw: Any) -> Any:
        if isinstance(element, BindParameter) and _inlined(element, dialect):
            return literal_column(f"'{element.value}'", type_=element.type)
        return None

    return replacement_traverse(stmt, {}, inline)


def _json_text(proc: Any, type_: Any, dialect: Dialect) -> Any:
    """psycopg: a JSON parameter as its text (the `::JSON` cast in the statement makes it JSON),
    not wrapped in psycopg's Json for psycopg's Python dumper to serialise: the same text, without
    a wrapper and a dumper call per value. Other types and databases: `proc` as it is."""
    if not isinstance(type_, JSON) or not _raw(dialect):
        return proc
    return type_._make_bind_processor(None, dialect._json_serializer or json.dumps)


def _empty_list_once(proc: Any, type_: Any) -> Any:
    """A JSON column's processor that gives its text for an empty list at once: most messages'
    issues and allocation numbers are [], and json.dumps sets up an encoder at every call. Any
    other value, and a dialect whose JSON value is not text, as before."""
    if not isinstance(type_, JSON):
        return proc
    empty = proc([])
    if not isinstance(empty, str):
        return proc

    def process(value: Any) -> Any:
        if value.__class__ is list and not value:
            return empty
        return proc(value)

    cls, expr = getattr(proc, "inline", None) or (None, None)
    # (a list's text by `proc`'s own expression when it has one for lists, else by a call)
    process.inline = (list, f"({expr if cls is list else 'PROC(v)'}) if v else {empty!r}")
    return process


class Processed:
    """A parameter value converted already (`Prepared.processed`): bound as it is."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


LARGE = 1 << 20  # bytes from which SQLite gets a binary value through the blob API
_LENGTH = "zeroblob_"


class Pieces:
    """A large binary value held as small pieces in order (the issues of a rejected 323, encoded
    by store._encoded_issues). A piece of some KB is placed by the allocator in memory freed
    earlier (the level-2 rules' rows), where one buffer of 32 MB is mapped anew, next to the 325
    and the tree; the pieces are written one after the other through the blob API."""

    __slots__ = ("parts", "size")

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts
        self.size = sum(map(len, parts))

    def __len__(self) -> int:
        return self.size

    def __bytes__(self) -> bytes:
        return b"".join(self.parts)


_BYTES = (bytes, bytearray, Pieces)  # Pieces: the issues of a message, encoded (store.save_message)


def _any_large(rows: Sequence[Mapping[str, Any]], binary: tuple[str, ...]) -> bool:
    """Whether a value of some row in a column among `binary` is LARGE bytes or more (on every
    message's path: plain loops, no generator per row)."""
    for row in rows:
        for k in binary:
            value = row.get(k)
            if value.__class__ in _BYTES and len(value) >= LARGE:
                return True
    return False


def _large(row: Mapping[str, Any], binary: tuple[str, ...]) -> tuple[str, ...]:
    """The columns among `binary` whose value in `row` is LARGE bytes or more."""
    return tuple(k for k in binary if row.get(k).__class__ in _BYTES and len(row[k]) >= LARGE)


_IN_ROW = {"issues": Processed("[]")}  # what a row keeps of a value kept apart (b"" for bytes)
_KEPT_APART = "gateway_large_values"  # conn.info: {length: [(value, large_values id)]} of this transaction
_INSERT_LARGE = "INSERT INTO large_values (data) VALUES (zeroblob(?))"


def _keep_apart(conn: Connection, cursor: Any, value: bytes) -> int:
    """The id of a large_values row holding `value` (SQLite), written through the blob API; the
    same bytes stored before in this transaction (the 325 of the message row, again for its
    outbox row) are not written again."""
    kept = conn.info.setdefault(_KEPT_APART, {})
    same = kept.setdefault(len(value), [])
    for earlier, ref in same:
        if earlier is value or earlier == value:
            return ref
    COUNTER["statements"] += 1
    try:
        cursor.execute(_INSERT_LARGE, (len(value),))
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _error(conn, _INSERT_LARGE, None, exc, cursor) from exc
    ref = cursor.lastrowid
    _write_blob(conn, "large_values", "data", ref, value)
    same.append((value, ref))  # (held until the transaction ends: forget_kept)
    return ref


def forget_kept(conn: Connection) -> None:
    """The transaction of `conn` ended: its large values are no longer matched (nor held)."""
    conn.info.pop(_KEPT_APART, None)


def _write_blob(conn: Connection, table: str, column: str, rowid: int, value: bytes) -> None:
    """Write `value` into the zeroblob of its length at (table, column, rowid), a MiB (or a piece)
    at a time."""
    try:
        with conn.connection.driver_connection.blobopen(table, column, rowid) as blob:
            if value.__class__ is Pieces:
                for part in value.parts:
                    blob.write(part)
                return
            view = memoryview(value)
            for start in range(0, len(view), LARGE):
                blob.write(view[start:start + LARGE])
    except conn.dialect.loaded_dbapi.Error as exc:
        raise sa_exc.DBAPIError.instance(f"blob {table}.{column}", None, exc, conn.dialect.loaded_dbapi.Error,
                                         dialect=conn.dialect) from exc


def _remembering(proc: Any) -> Any:
    """`proc` converting each distinct value once (dates, times: hashable, few distinct ones)."""
    made: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        found = made.get(value, made)
        if found is made:
            if len(made) >= 10_000:  # a column of mostly distinct values: keep the memo small
                made.clear()
            found = made[value] = proc(value)
        return found

    return convert


_POSITIONAL: dict[int, tuple[Dialect, Dialect]] = {}  # id -> (the dialect, kept alive; its positional copy)


def _raw(dialect: Dialect) -> bool:
    """Whether statements run on psycopg's RawCursor: psycopg 3 with its usual named parameters."""
    return dialect.driver == "psycopg" and dialect.paramstyle == "pyformat"


def _positional(dialect: Dialect) -> Dialect:
    """The dialect a statement is compiled with: PostgreSQL (psycopg, named %(x)s parameters) as
    the same dialect with positional $n ones, so each execution hands psycopg a tuple instead of a
    dict it reorders, and psycopg's RawCursor takes the statement as it is: a %s statement is
    parsed by psycopg (cached by its text, encoded and hashed again on every execution; a
    group's long OR lookups are not cached at all). The others as they are."""
    if not _raw(dialect):
        return dialect
    found = _POSITIONAL.get(id(dialect))
    if found is None:
        clone = copy.copy(dialect)  # initialised as the engine's (server version, options)
        clone.paramstyle, clone.positional = "numeric_dollar", True
        found = _POSITIONAL[id(dialect)] = (dialect, clone)
    return found[1]


_RAW_CURSOR: list[Any] = []
# psycopg: cursors kept on their connection (attribute _KEPT: [writers, readers]; the cursors refer
# to the connection, so a dict keyed by it would keep it alive). A psycopg cursor cost more to make
# and close (its adapters map, its transformer) than to run an insert in a pipeline: about 18 us
# of CPU, and a message ran some ten statements, each on a new cursor. Each kept cursor names its
# list (attribute _IDLE), so giving it back does not look up the connection again (SQLAlchemy's
# connection, pool entry and dialect: four Python calls, twice per statement).
_KEPT = "_gateway_kept_cursors"
_IDLE = "_gateway_idle"
_KEEP = 4  # idle cursors kept per connection, kind and statement
_KEPT_QUERIES = 256  # statements per connection and kind whose cursors are kept (then all dropped)


def _cursor(conn: Connection, write: bool, query: Any) -> Any:
    """A DBAPI cursor for the compiled statements of `conn`'s dialect: psycopg a RawCursor, a kept
    one when there is one (`write`: for a statement whose answer is not read; its answer may still
    be on the way in a pipeline when it is taken again), others a new one. Give it back with
    `_done`. psycopg: kept per statement (`query`, the compiled form's own object): a cursor run
    again on the object it ran last keeps its transformer, with the dumpers and loaders it found
    for the statement's types, where another statement made it build a new one and look them up
    again (some 10,000 instructions per statement)."""
    # The DBAPI connection is the driver's own (sqlite3, psycopg: only asyncio drivers are
    # adapted): the pool entry's attribute, not its driver_connection property's three calls
    driver = conn.connection.dbapi_connection
    if not _raw(conn.dialect):
        return driver.cursor()
    kept = getattr(driver, _KEPT, None)
    if kept is None:
        kept = ({}, {})
        setattr(driver, _KEPT, kept)
    by_query = kept[0] if write else kept[1]
    idle = by_query.get(query)
    if idle is None:
        if len(by_query) >= _KEPT_QUERIES:
            by_query.clear()
        idle = by_query[query] = []
    elif idle:
        return idle.pop()
    if not _RAW_CURSOR:
        import psycopg

        _RAW_CURSOR.append(psycopg.RawCursor)
    cursor = _RAW_CURSOR[0](driver)
    setattr(cursor, _IDLE, idle)
    return cursor


def _done(cursor: Any, ok: bool = True) -> None:
    """The cursor is no longer needed: kept for the connection's next statement when it ran
    well (its results and parameters dropped, so a large value is not held), closed otherwise."""
    # (a class test, not getattr with a default: that raised and caught an AttributeError for
    # every SQLite statement)
    if ok and _RAW_CURSOR and cursor.__class__ is _RAW_CURSOR[0]:
        idle = getattr(cursor, _IDLE)
        if len(idle) < _KEEP and not cursor.closed:
            cursor._reset()
            idle.append(cursor)
            return
    cursor.close()


_SORTED_MAX = 64  # orders of column names remembered per statement


class Prepared:
    """A Core statement (insert, update, select) compiled once per dialect and run on the DBAPI
    cursor. An insert is compiled per set of column names it is given (usually one)."""

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self._compiled: dict[tuple, _Compiled] = {}
        self._binaries: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._sorted: dict[tuple[str, ...], tuple[str, ...]] = {}
        # (dialect name, an insert's column names as given) -> `_made_ready`
        self._ready: dict[tuple[str, tuple[str, ...]], tuple[_Compiled, tuple[str, ...], tuple[str, ...]]] = {}

    def _keys(self, names: Iterable[str]) -> tuple[str, ...]:
        """An insert's column names, sorted: the key its compiled form is kept under. Remembered
        per order the names come in (a row is built by the same code every time): sorting the
        sixty names of a message row, at every message, cost more than looking them up."""
        given = tuple(names)
        found = self._sorted.get(given)
        if found is None:
            if len(self._sorted) >= _SORTED_MAX:
                self._sorted.clear()
            found = self._sorted[given] = tuple(sorted(given))
        return found

    def _get(self, dialect: Dialect, keys: tuple[str, ...] | None) -> _Compiled:
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            # An insert without RETURNING: PostgreSQL's dialect adds RETURNING <id> to an insert
            # into a table with a serial key, and the server then sent a row back for every row
            # written (an executemany of 100,000 prestaties: 100,000 rows nobody reads). A
            # statement with a RETURNING of its own (for `returned`) keeps it.
            stmt = self.stmt.inline() if self.stmt.is_insert and not self.stmt._returning else self.stmt
            found = self._compiled[(dialect.name, keys)] = _Compiled(stmt, dialect, keys)
        return found

    def compiled(self, dialect: Dialect) -> None:
        """Compile the statement for `dialect` now (not at its first execution)."""
        self._get(dialect, None)

    def processed(self, dialect: Dialect, column: str, value: Any) -> Any:
        """`value` for `column` converted now as this statement converts it when it runs, so what it
        was made of can go before then (a rejected 323's 100,000 issues, encoded as JSON when its
        row is saved instead of when the group's rows are written); `value` itself when the
        dialect does not convert it."""
        type_ = self.stmt.table.c[column].type
        proc = _json_text(type_._cached_bind_processor(_positional(dialect)), type_, dialect)
        return Processed(proc(value)) if proc is not None and value is not None else value

    def execute(self, conn: Connection, values: Mapping[str, Any] | None = None) -> int:
        """Run once; returns the number of rows it changed."""
        values = values or {}
        if isinstance(conn, Deferred):  # written with the rest of its group (Writes.flush)
            conn.rows.setdefault(self, []).append(values)
            return 0
        keys = self._keys(values) if self.stmt.is_insert else None
        c = self._get(conn.dialect, keys)
        if c.direct and not self._apart(conn, keys, [values]):
            params = c.params(values)
            COUNTER["statements"] += 1
            try:
                return conn.connection.dbapi_connection.execute(c.query, params).rowcount
            except conn.dialect.loaded_dbapi.Error as exc:
                raise _error(conn, c.sql, params, exc) from exc
        cursor = _cursor(conn, True, c.query)
        ok = False
        try:
            if self._apart(conn, keys, [values]):
                self._insert_apart(conn, cursor, c, keys, [values])
                ok = True
                return 1
            _run(conn, cursor, c, c.params(values), False)
            ok = True
            return cursor.rowcount
        finally:
            _done(cursor, ok)

    def returned(self, conn: Connection, values: Mapping[str, Any]) -> Any:
        """Run an INSERT ... RETURNING of one column once, at once (on a Deferred connection
        too: its caller needs the value now); that column's value."""
        conn = conn.conn if isinstance(conn, Deferred) else conn
        c = self._get(conn.dialect, self._keys(values))
        cursor = _cursor(conn, False, c.query)
        ok = False
        try:
            _run(conn, cursor, c, c.params(values), False)
            _drain(conn, cursor, c)  # (its answer is waited for now)
            row = cursor.fetchone()
            ok = True
        finally:
            _done(cursor, ok)
        if row is None:
            return None
        proc = c.result_processors[0]
        return proc(row[0]) if proc is not None else row[0]

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """One executemany for rows of one kind (all with the same keys as the first)."""
        if not rows:
            return
        keys = None
        apart = False
        if self.stmt.is_insert:
            first = rows[0].keys()
            if len(rows) > 1 and not all(row.keys() == first for row in rows):  # (compared in C)
                self._kinds(conn, rows)
                return
            # the usual case, rows of one kind (a group's messages, a message's outbox rows): its
            # compiled form, sorted keys and binary columns looked up at once (every message's
            # path, three or four times; they were three calls)
            given = tuple(first)
            ready = self._ready.get((conn.dialect.name, given))
            if ready is None:
                ready = self._made_ready(conn.dialect, given)
            c, keys, binary = ready
            apart = bool(binary) and _any_large(rows, binary)  # (SQLite: `_apart`'s test)
        else:
            c = self._get(conn.dialect, None)
        if c.direct and not apart:
            params = [c.params(r) for r in rows]
            COUNTER["statements"] += 1
            try:
                conn.connection.dbapi_connection.executemany(c.query, params)
            except conn.dialect.loaded_dbapi.Error as exc:
                raise _error(conn, c.sql, params, exc, None, True) from exc
            return
        cursor = _cursor(conn, True, c.query)
        ok = False
        try:
            if apart:
                self._insert_apart(conn, cursor, c, keys, rows)
            else:
                _run(conn, cursor, c, [c.params(r) for r in rows], True)
            ok = True
        finally:
            _done(cursor, ok)

    def _made_ready(self, dialect: Dialect, given: tuple[str, ...]) -> tuple[_Compiled, tuple[str, ...], tuple[str, ...]]:
        """(compiled form, sorted keys, binary columns `_apart` looks at: SQLite only) of an insert
        given the columns `given` in this order, for `executemany`; remembered."""
        keys = self._keys(given)
        binary = self._binary(keys) if dialect.name == "sqlite" else ()
        if len(self._ready) >= _SORTED_MAX:
            self._ready.clear()
        found = self._ready[(dialect.name, given)] = (self._get(dialect, keys), keys, binary)
        return found

    def _kinds(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """`executemany` of inserts whose rows differ in their keys: one per kind, in order of
        their first rows."""
        kinds: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
        for row in rows:  # rows of one kind give one statement; odd ones their own
            kinds.setdefault(self._keys(row), []).append(row)
        cursor = _cursor(conn, True, self._get(conn.dialect, next(iter(kinds))).query)
        ok = False
        try:
            for keys, same in kinds.items():
                c = self._get(conn.dialect, keys)
                if self._apart(conn, keys, same):
                    self._insert_apart(conn, cursor, c, keys, same)
                else:
                    _run(conn, cursor, c, [c.params(r) for r in same], True)
            ok = True
        finally:
            _done(cursor, ok)

    # SQLite keeps the values bound to a statement until it runs again (the store's statements
    # are cached): a 50 MB declaration bound to the message insert stayed in memory until the next
    # message, and the outbox insert then bound it a second time. Rows with a value of LARGE bytes
    # or more in a binary column are therefore inserted with zeroblobs there, and the values
    # written into them with SQLite's blob API (the same bytes end up in the row).

    def _apart(self, conn: Connection, keys: tuple[str, ...] | None, rows: Sequence[Mapping[str, Any]]) -> bool:
        """Whether some of `rows` go in by `_insert_apart` (SQLite, an insert, a large binary value)."""
        if keys is None or not self.stmt.is_insert or conn.dialect.name != "sqlite":
            return False
        binary = self._binary(keys)
        return bool(binary) and _any_large(rows, binary)

    def _binary(self, keys: tuple[str, ...]) -> tuple[str, ...]:
        """The binary columns among `keys`, and those kept in large_values (looked up once per set of keys)."""
        found = self._binaries.get(keys)
        if found is None:
            columns, refs = self.stmt.table.c, LARGE_REFS.get(self.stmt.table.name, {})
            found = self._binaries[keys] = tuple(
                k for k in keys if k in columns and (isinstance(columns[k].type, LargeBinary) or k in refs))
        return found

    def _insert_apart(self, conn: Connection, cursor: Any, c: _Compiled, keys: tuple[str, ...],
                      rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert `rows` in their order: the ones with large binary values one by one with zeroblobs
        and the blob API, the others (between them) with one executemany each."""
        binary = self._binary(keys)
        refs = LARGE_REFS.get(self.stmt.table.name, {})
        small: list[Mapping[str, Any]] = []
        for row in rows:
            large = _large(row, binary)
            if not large:
                small.append(row)
                continue
            if small:
                _run(conn, cursor, c, [c.params(r) for r in small], True)
                small = []
            apart = tuple(k for k in large if k in refs)
            if apart:  # kept in large_values; the row names them (tables.LARGE_REFS)
                row = dict(row)
                for k in apart:
                    row[refs[k]] = _keep_apart(conn, cursor, row[k])
                    row[k] = _IN_ROW.get(k, b"")
                large = tuple(k for k in large if k not in apart)
                if not large:
                    own = self._get(conn.dialect, self._keys(row))
                    _run(conn, cursor, own, own.params(row), False)
                    continue
            z = self._zeroblobs(conn.dialect, self._keys(row), large)
            _run(conn, cursor, z, z.params({**row, **{_LENGTH + k: len(row[k]) for k in large}}), False)
            rowid = cursor.lastrowid
            for k in large:
                _write_blob(conn, self.stmt.table.name, k, rowid, row[k])
        if small:
            _run(conn, cursor, c, [c.params(r) for r in small], True)

    def _zeroblobs(self, dialect: Dialect, keys: tuple[str, ...], large: tuple[str, ...]) -> _Compiled:
        """The insert with `zeroblob(:zeroblob_<column>)` for the columns `large`."""
        found = self._compiled.get((dialect.name, keys, large))
        if found is None:
            stmt = self.stmt.values({k: func.zeroblob(bindparam(_LENGTH + k, type_=Integer)) for k in large})
            found = self._compiled[(dialect.name, keys, large)] = _Compiled(
                stmt, dialect, [k for k in keys if k not in large])
        return found

    def stream(self, conn: Connection, rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> None:
        """One executemany over `rows` (each with exactly the column names `keys`), taken one at
        a time: the rows and their parameters are never all in memory at once. A date repeated
        across the rows (a declaration's periods) is converted once."""
        c = self._get(conn.dialect, self._keys(keys)).dates_remembered()
        cursor = _cursor(conn, True, c.query)
        ok = False
        try:
            _run(conn, cursor, c, (c.params(r) for r in rows), True)
            ok = True
        finally:
            _done(cursor, ok)

    def stream_values(self, conn: Connection, rows: Iterable[Sequence[Any]], names: Sequence[str]) -> None:
        """`stream` with each row as its values in the order of `names` instead of a dict: for
        the 100,000 prestaties of a declaration a dict per row, and picking the parameters out of
        it again, cost a third of their insert."""
        keys = self._keys(names)
        c = self._get(conn.dialect, keys).dates_remembered()
        if not c.positional or any(n not in names for n in c.names):
            self.stream(conn, (dict(zip(names, row, strict=True)) for row in rows), names)
            return
        where = {n: i for i, n in enumerate(names)}
        order = [where[n] for n in c.names]
        pick = itemgetter(*order, *order[:1]) if len(order) == 1 else itemgetter(*order)
        convert, width = c.convert, len(order)

        def params(row: Sequence[Any]) -> tuple:
            out = list(pick(row)[:width])
            for i, proc in convert:
                value = out[i]
                if value is not None:
                    out[i] = value.value if value.__class__ is Processed else proc(value)
            return tuple(out)

        cursor = _cursor(conn, True, c.query)
        ok = False
        try:
            _run(conn, cursor, c, map(params, rows), True)
            ok = True
        finally:
            _done(cursor, ok)

    def rows(self, conn: Connection, values: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The result rows as dicts, converted as Core converts them."""
        return _dicts(*self._read(conn, values))

    def _read(self, conn: Connection, values: Mapping[str, Any] | None) -> tuple[_Compiled, list[Any]]:
        """`send` and `_fetch` at once: the compiled form looked up once, not by each."""
        c = self._get(conn.dialect, None)
        if c.direct:
            params = c.params(values or {})
            COUNTER["statements"] += 1
            try:
                return c, conn.connection.dbapi_connection.execute(c.query, params).fetchall()
            except conn.dialect.loaded_dbapi.Error as exc:
                raise _error(conn, c.sql, params, exc) from exc
        c, cursor = self._send(conn, values)
        return self._fetch(conn, cursor, c)

    def send(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """Send the query; `collect` its rows later (inside `pipelined`, several queries then share
        one round trip: the first collect waits for all of them)."""
        return self._send(conn, values)[1]

    def _send(self, conn: Connection, values: Mapping[str, Any] | None) -> tuple[_Compiled, Any]:
        c = self._get(conn.dialect, None)
        if c.direct:  # (the cursor the connection's execute made, closed by `_fetch`)
            params = c.params(values or {})
            COUNTER["statements"] += 1
            try:
                return c, conn.connection.dbapi_connection.execute(c.query, params)
            except conn.dialect.loaded_dbapi.Error as exc:
                raise _error(conn, c.sql, params, exc) from exc
        cursor = _cursor(conn, False, c.query)
        try:
            _run(conn, cursor, c, c.params(values or {}), False)
        except BaseException:
            _done(cursor, ok=False)
            raise
        return c, cursor

    def _fetch(self, conn: Connection, cursor: Any, c: _Compiled | None = None) -> tuple[_Compiled, list[Any]]:
        c = c or self._get(conn.dialect, None)
        ok = False
        try:
            _drain(conn, cursor, c)  # what is queued goes out with the read's flush
            fetched = cursor.fetchall()
            ok = True
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _error(conn, c.sql, None, exc, cursor) from exc
        finally:
            _done(cursor, ok)
        return c, fetched

    def columns(self, conn: Connection, values: Mapping[str, Any] | None = None) -> tuple[list[str], list[Sequence]]:
        """The result columns' names and values, column by column (one sequence per column, in
        row order), converted as Core converts them; for many rows read at once (a declaration's
        prefetch), where a dict per row cost more than the query. A date or time repeated down a
        column is converted once (one shared object)."""
        c, fetched = self._read(conn, values)
        if not fetched:
            return c.result_names, [() for _ in c.result_names]
        cols: list[Sequence] = list(zip(*fetched, strict=True))
        for i, (p, dated) in enumerate(zip(c.result_processors, c.result_dated, strict=True)):
            if p is not None:
                cols[i] = list(map(_remembering(p) if dated else p, cols[i]))
        return c.result_names, cols

    def collect(self, conn: Connection, cursor: Any) -> list[dict[str, Any]]:
        return _dicts(*self._fetch(conn, cursor))

    def first(self, conn: Connection, values: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        found = self.rows(conn, values)
        return found[0] if found else None

    def scalar(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row (None: no row), converted as Core converts it;
        without a dict per row (an EXISTS asked for every enveloped message)."""
        c, fetched = self._read(conn, values)
        if not fetched:
            return None
        value, proc = fetched[0][0], c.result_processors[0]
        return proc(value) if proc is not None else value


def _dicts(c: _Compiled, fetched: list[Any]) -> list[dict[str, Any]]:
    """Rows as dicts, converted as Core converts them: only the columns with a processor (a date
    or a boolean among a dozen texts) are converted, each row's dict made in C."""
    names, convert = c.result_names, c.result_convert
    out = [dict(zip(names, row)) for row in fetched]
    for row in out if convert else ():
        for name, proc in convert:
            row[name] = proc(row[name])
    return out


_PLACEHOLDER = re.compile(r"\$(\d+)")
_TOGETHER_MAX = 20_000  # parameters of one statement of `insert_together` (PostgreSQL allows 65,535)


def _rows_template(c: _Compiled) -> tuple[str, str] | None:
    """An insert's text as (its head up to VALUES, its row with %d for each $n), to write several
    rows into one statement; None when its placeholders are not $1..$n in order."""
    head, sep, row = c.sql.partition(" VALUES ")
    found = [int(n) for n in _PLACEHOLDER.findall(row)]
    if not sep or found != list(range(1, len(c.names) + 1)) or "$" in head:
        return None
    if not (row.startswith("(") and row.endswith(")")) or " RETURNING " in row or " ON CONFLICT " in row:
        return None  # only the row itself repeats: a clause after it (RETURNING, ON CONFLICT) would too
    return head + sep, _PLACEHOLDER.sub("$%d", row.replace("%", "%%"))


def insert_together(conn: Connection, parts: Sequence[tuple[Prepared, Sequence[Mapping[str, Any]]]]) -> None:
    """The rows of several inserts (a group's messages, issues, identifiers, outbox rows), in this
    order, in one statement on PostgreSQL: each insert's rows in one VALUES list, the inserts
    before the last in a WITH (a foreign key is checked when the statement ends, so a row may
    refer to one written before it here). psycopg's execution of a statement in Python cost some
    50,000 instructions, whatever it writes; a group sent one per table. Elsewhere, and for rows
    not taken so (more parameters than _TOGETHER_MAX, rows of one insert with different columns,
    a statement whose text does not allow it): one executemany per insert, as before."""
    if not _raw(conn.dialect):
        for stmt, rows in parts:
            stmt.executemany(conn, rows)
        return
    members: list[str] = []
    params: list[Any] = []
    for stmt, rows in parts:
        if not rows:
            continue
        keys = stmt._keys(rows[0])
        c = stmt._get(conn.dialect, keys)
        template = c.together if c.together is not False else c.rows_template()
        # One member per insert, its rows in their order: the members of a WITH run in no set
        # order, and a serial id (the outbox's, which orders publishing) must follow the rows'.
        if (template is None or len(params) + len(rows) * len(c.names) > _TOGETHER_MAX
                or not all(row.keys() == rows[0].keys() for row in rows)):
            for earlier, rows_before in parts:  # (nothing sent yet)
                earlier.executemany(conn, rows_before)
            return
        head, row_text = template
        width = len(c.names)
        values = []
        for row in rows:
            start = len(params) + 1
            params.extend(c.params(row))
            values.append(row_text % tuple(range(start, start + width)))
        members.append(head + ", ".join(values))
    if not members:
        return
    sql = members[-1] if len(members) == 1 else (
        "WITH " + ", ".join(f"w{i} AS ({m})" for i, m in enumerate(members[:-1])) + " " + members[-1])
    query = sql.encode()
    cursor = _together_cursor(conn)
    ok = False
    COUNTER["statements"] += 1
    try:
        if _queues(cursor):
            pgqueue.execute(cursor, query, params)
        else:
            cursor.execute(query, params)
        ok = True
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _error(conn, sql, params, exc, cursor) from exc
    finally:
        _done(cursor, ok)


_TOGETHER = "gateway.insert_together"  # `_cursor`'s key of the cursor kept for insert_together


def _together_cursor(conn: Connection) -> Any:
    """The cursor insert_together runs its statements on: one kept per connection for all of
    them (their text changes with the group's rows: a cursor per text was made new at most
    groups), with bytes bound as of no type (`_unknown_bytes`)."""
    cursor = _cursor(conn, True, _TOGETHER)
    if not getattr(cursor, _TOGETHER_READY, False):
        dumper = _unknown_bytes()
        for cls in dumper.bound:
            cursor.adapters.register_dumper(cls, dumper)
        setattr(cursor, _TOGETHER_READY, True)
    return cursor


_TOGETHER_READY = "_gateway_together"
_UNKNOWN_BYTES: list[Any] = []


def _unknown_bytes() -> Any:
    """psycopg's dumper of a LargeBinary column's value with oid 0: the server takes the type of
    the column the value goes into (every parameter of insert_together is a value of an INSERT's
    VALUES row, here a bytea column's: the same bytes stored). psycopg keys its prepared
    statements on the text and the parameters' types, and a None has no type: with bytes typed
    bytea, a group whose rows had a retour and one whose rows had none were two statements to
    psycopg, and neither was run the five times after which psycopg prepares it (a libpq trace at
    8 senders: the group's insert repeated its text about four times as often as its text and
    types)."""
    if not _UNKNOWN_BYTES:
        import psycopg
        from psycopg.dbapi20 import BinaryBinaryDumper

        class UnknownBytes(BinaryBinaryDumper):
            oid = 0
            # only psycopg's Binary: Core's processor of a LargeBinary column wraps its value so,
            # so the column is bytea (plain bytes bound to a text column would be stored as the
            # text itself instead of bytea's text form)
            bound = (psycopg.Binary,)

        _UNKNOWN_BYTES.append(UnknownBytes)
    return _UNKNOWN_BYTES[0]


class Deferred:
    """A connection on which `Prepared.execute` does not run its write but keeps it in `rows`
    (statement -> parameter sets), to be written with one executemany per statement for a whole
    group (gateway.store.store.Writes). Reads, and Core statements, run at once on `conn`."""

    def __init__(self, conn: Connection, rows: dict[Prepared, list[Mapping[str, Any]]]) -> None:
        self.conn = conn
        self.rows = rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def _run(conn: Connection, cursor: Any, c: _Compiled, params: Any, many: bool) -> None:
    COUNTER["statements"] += 1
    try:
        if _queues(cursor):  # psycopg in pipeline mode: sent with the rest at the next flush
            if many:
                pgqueue.executemany(cursor, c.query, params)
            else:
                # Prepared on the server at its first run on a connection (psycopg's default: at
                # the fifth run of the same text and parameter types). A compiled statement's text
                # is one of a few dozen, so they all fit psycopg's cache of 100 per connection; by
                # its count, a read ran once or twice per group was still parsed and planned anew
                # after hundreds of messages: the group's insert of a new text every group
                # (insert_together) pushed the reads' counts out of psycopg's LRU before they
                # reached five.
                pgqueue.execute(cursor, c.query, params, True)
        elif many:
            cursor.executemany(c.query, params)
        else:
            cursor.execute(c.query, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _error(conn, c.sql, params, exc, cursor, many) from exc


def _drain(conn: Connection, cursor: Any, c: _Compiled) -> None:
    """Before a read waits for its answer: the statements queued on its connection (pgqueue)
    handed to libpq, so the read's flush sends them with it."""
    if _queues(cursor):
        try:
            pgqueue.drain(cursor._conn)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _error(conn, c.sql, None, exc, cursor) from exc


def _queues(cursor: Any) -> bool:
    """Whether a statement on `cursor` is queued (pgqueue): a psycopg RawCursor whose connection
    is in pipeline mode."""
    return (bool(_RAW_CURSOR) and cursor.__class__ is _RAW_CURSOR[0] and cursor._conn._pipeline is not None
            and pgqueue.supported(cursor))


_COMMANDS: dict[str, bytes] = {}  # psycopg: each command's text as bytes, one object (its kept cursor's)


def command(conn: Connection, sql: str, keep: bool = True) -> None:
    """Run a command without parameters (BEGIN, COMMIT, a group's lock) on the DBAPI connection,
    its rows not read; its error raised as SQLAlchemy's exception for it (a lost connection
    invalidated, as by every statement here). `keep`: its text is one of a few, encoded once (not
    a group's lock, whose text names its ids). Not counted in COUNTER: psycopg sent BEGIN itself
    before and COMMIT beside it."""
    raw = _raw(conn.dialect)
    query = _COMMANDS.get(sql) if raw else sql
    if query is None:
        query = sql.encode()
        if keep:
            _COMMANDS[sql] = query
    if raw:
        driver = conn.connection.dbapi_connection
        # (psycopg internals, read on 3.1-3.3: a release without them takes the cursor below)
        if getattr(driver, "_pipeline", None) is not None and hasattr(driver, "_exec_command"):
            # In pipeline mode queued as psycopg queues its own commit (Connection._exec_command:
            # sent with the next statements, its answer checked when the pipeline syncs, an error
            # raised then), not through a cursor: its execution in Python cost some 70,000
            # instructions per BEGIN and per COMMIT, twice per group.
            try:
                driver.wait(driver._exec_command(query))
            except conn.dialect.loaded_dbapi.Error as exc:
                raise _error(conn, sql, None, exc) from exc
            return
    if conn.dialect.name == "sqlite":  # the connection's own execute (its cursor made and dropped in C)
        try:
            conn.connection.dbapi_connection.execute(query)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _error(conn, sql, None, exc) from exc
        return
    cursor = _cursor(conn, True, query)
    ok = False
    try:
        cursor.execute(query)
        ok = True
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _error(conn, sql, None, exc) from exc
    finally:
        _done(cursor, ok)


def _error(conn: Connection, sql: str | None, params: Any, exc: Exception, cursor: Any = None,
           many: bool = False) -> sa_exc.DBAPIError:
    """The DBAPI error as SQLAlchemy's exception, as Core raises it. A lost connection (the server
    restarted, or ended the session) is invalidated as Core would do: the pool then opens a new
    one instead of handing out the dead one again (the engine has no pre-ping, issue 14)."""
    gone = False
    try:
        gone = bool(conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor))
    except Exception:  # noqa: BLE001 (deciding must not hide the error itself)
        gone = False
    if gone and not conn.invalidated:
        conn.invalidate(exc)
    # hide_parameters: the parameters are a message's bytes and fields (its BSNs), never for a log
    return sa_exc.DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect,
                                      ismulti=many, connection_invalidated=gone, hide_parameters=True)


class Pipeline:
    """psycopg's pipeline mode on a connection (PostgreSQL; elsewhere never on): statements sent
    without waiting for each answer, a read waiting for what was sent before it. SQLAlchemy Core
    cannot run a statement in pipeline mode (it looks at the cursor's description before the
    answer is there), so a Core statement ends the pipeline first (`end_for_core`, on the
    engine's before_cursor_execute); `resume` begins it again for what follows."""

    __slots__ = ("conn", "_driver", "_info", "_outer", "_pipeline")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pipeline: Any = None
        self._driver: Any = None  # psycopg's connection, while it pipelines
        self._outer: Pipeline | None = None
        self._info: dict | None = None  # conn.info (which an invalidated connection no longer gives)

    def __bool__(self) -> bool:
        return self._pipeline is not None

    def resume(self) -> bool:
        """Pipeline from here on (when the database can); whether it does."""
        if self._pipeline is None and self.conn.dialect.name == "postgresql":
            driver = self.conn.connection.driver_connection
            if not pipeline_supported(driver):
                return False
            try:
                pipeline = pgqueue.own_pipeline(driver)
                if pipeline is None:  # (a psycopg without what pgqueue uses: its context manager)
                    pipeline = driver.pipeline()
                    pipeline.__enter__()
                    driver = None
            except self.conn.dialect.loaded_dbapi.Error as exc:
                raise _error(self.conn, None, None, exc) from exc
            self._pipeline, self._driver = pipeline, driver
            info = self._info = self.conn.info
            self._outer = info.get(_PIPELINE)
            info[_PIPELINE] = self
        return self._pipeline is not None

    def end(self, exc: BaseException | None = None) -> None:
        """Leave pipeline mode: wait for every answer (an error among them is raised here, as
        SQLAlchemy's exception, unless `exc` is raised already)."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is None:
            return
        driver, self._driver = self._driver, None
        info = self._info or {}
        if info.get(_PIPELINE) is self:
            if self._outer is None:
                info.pop(_PIPELINE, None)
            else:
                info[_PIPELINE] = self._outer
        self._outer = None
        try:
            if driver is not None:  # the queued statements (pgqueue) sent in one go with the Sync
                pgqueue.leave(driver, pipeline, exc)
            else:
                pipeline.__exit__(type(exc) if exc is not None else None, exc, exc.__traceback__ if exc else None)
        except self.conn.dialect.loaded_dbapi.Error as error:
            first = aborting_error(error)
            raise _error(self.conn, None, None, first) from first


def aborting_error(error: BaseException) -> BaseException:
    """The error that aborted a pipeline, for psycopg's PipelineAborted raised in its stead.
    psycopg (3.3) leaves a pipeline by processing the answers that have come (raising the first
    error among them) and then, in a `finally`, fetching the rest: when a statement's error came
    in the first part and the answers it aborted in the second, the second's PipelineAborted
    replaces the first error. A unique violation then read as a broken store (503) instead of a
    conflict (retried), depending on how fast the answers came (tests/store/test_group_commit.py
    under load)."""
    while type(error).__name__ == "PipelineAborted" and isinstance(error.__context__, Exception) \
            and type(error.__context__).__module__.startswith("psycopg"):
        error = error.__context__
    return error


_PIPELINE = "gateway.pipeline"  # Connection.info key of the innermost Pipeline running on it


_SUPPORTED: list[bool] = []  # whether psycopg's libpq has pipeline mode (asked once)


def pipeline_supported(driver: Any) -> bool:
    if not hasattr(driver, "pipeline"):  # not psycopg 3
        return False
    if not _SUPPORTED:
        import psycopg

        _SUPPORTED.append(bool(psycopg.Pipeline.is_supported()))
    return _SUPPORTED[0]


def end_for_core(conn: Connection, *_args: Any) -> None:
    """before_cursor_execute: a Core statement runs outside pipeline mode (every Pipeline on the
    connection ends: nested ones share psycopg's one)."""
    pipe = conn.info.get(_PIPELINE)
    while pipe is not None:
        pipe.end()
        pipe = conn.info.get(_PIPELINE)


class _Off:
    """The Pipeline of a database without pipeline mode: never on."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def resume(self) -> bool:
        return False

    def end(self, exc: BaseException | None = None) -> None:
        return None

    # its own context manager (`pipelined` on SQLite): no generator made and run per block
    def __enter__(self) -> _Off:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


_OFF = _Off()


def pipelined(conn: Connection) -> Any:
    """PostgreSQL: the statements inside are sent without waiting for each answer (psycopg's
    pipeline mode), so a group's writes cost about one round trip instead of one each; a read
    inside waits for what was sent before it, a Core statement ends the pipeline (Pipeline). An
    error is raised (as SQLAlchemy's exception) at the latest when the block ends. Other
    databases: as they are. Yields the Pipeline: true while it pipelines."""
    if conn.dialect.name != "postgresql":  # (SQLite: nothing to make or end)
        return _OFF
    return _pipelined(conn)


@contextmanager
def _pipelined(conn: Connection) -> Iterator[Pipeline]:
    pipe = Pipeline(conn)
    pipe.resume()
    try:
        yield pipe
    except BaseException as exc:
        pipe.end(exc)
        raise
    pipe.end()
