"""API keys of concurrent requests checked against the store together: one query for all the
keys that arrived while the previous query ran (group commit's idea, for the key lookup).

Every message is still authenticated against the store as it is after the message arrived (a
key or party revoked before then is refused; nothing is remembered between messages). What is
shared is the round trip, the connection checkout and the statement: at month-end rates the
lookup one by one cost about as much as judging the message.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any

from gateway.auth.policy import Party


@dataclass(eq=False)
class _Ask:
    digest: str
    done: bool = False
    party: Party | None = None
    error: BaseException | None = None


class BatchedKeyLookup:
    """`party(digest)`: the live party of the live key with this SHA-256 hash, or None (then
    gateway.auth.identity.party_for_key says precisely why not)."""

    def __init__(self, store: Any, *, most: int = 256) -> None:
        self.store = store
        self.most = min(most, _BUCKETS[-1])  # a batch fits the largest prepared statement
        self.queries = 0  # what the tests and benchmarks read
        self.asked = 0
        self._cond = threading.Condition()
        self._queue: list[_Ask] = []
        self._running = False
        self._conn: Any = None  # used by one leader at a time (under _running)

    def party(self, digest: str) -> Party | None:
        ask = _Ask(digest)
        with self._cond:
            self._queue.append(ask)
            while not ask.done:
                if self._running:
                    self._cond.wait()
                    continue
                batch, self._queue = self._queue[:self.most], self._queue[self.most:]
                self._running = True
                self._cond.release()
                try:
                    self._answer(batch)
                finally:
                    self._cond.acquire()
                    self._running = False
                    for a in batch:
                        a.done = True
                    self._cond.notify_all()
        if ask.error is not None:
            raise ask.error
        return ask.party

    def _answer(self, batch: list[_Ask]) -> None:
        try:
            found = self._lookup({a.digest for a in batch})
        except BaseException as exc:  # the store is away: each caller gets the error (a 503)
            for a in batch:
                a.error = exc
            if not isinstance(exc, Exception):
                raise
            return
        for a in batch:
            a.party = found.get(a.digest)
        self.queries += 1
        self.asked += len(batch)

    def _lookup(self, digests: set[str]) -> dict[str, Party]:
        """One query on the lookup's own connection (PostgreSQL: in autocommit, no transaction to
        begin or end; no pool checkout with its ping): it sees every revocation committed before it. A
        connection the database dropped (a restart) is replaced once, as the pool's ping would."""
        from sqlalchemy.exc import DBAPIError

        ordered = sorted(digests)
        size = next(b for b in _BUCKETS if b >= len(ordered))
        values = dict(zip(_NAMES, ordered))
        values.update(dict.fromkeys(_NAMES[len(ordered):size]))  # NULL matches no key
        for attempt in (1, 2):
            conn = self._connection()
            try:
                rows = _statement(size).rows(conn, values)
                conn.rollback()  # SQLite: ends the read (BEGIN by the store's hook), so the next sees anew
                return {r["key_hash"]: Party(r["party_id"], r["role"], r["name"]) for r in rows}
            except DBAPIError:
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _connection(self) -> Any:
        if self._conn is None:
            conn = self.store.engine.connect()
            if conn.dialect.name == "postgresql":  # each statement its own transaction: no BEGIN/ROLLBACK trips
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            self._conn = conn
        return self._conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # it is gone either way
                conn.invalidate()  # never back into the pool in autocommit


# The query's IN list comes in a few sizes, each compiled once and run on the DBAPI cursor
# (gateway.store.prepared): compiling an expanding IN list per batch cost more than the query.
_BUCKETS = (1, 8, 64, 256)
_NAMES = tuple(f"k{i}" for i in range(_BUCKETS[-1]))
_PREPARED: dict[int, Any] = {}


def _statement(size: int) -> Any:
    found = _PREPARED.get(size)
    if found is None:
        from sqlalchemy import bindparam, select

        from gateway.store import tables as t
        from gateway.store.prepared import Prepared

        k, p = t.api_keys, t.parties
        found = _PREPARED[size] = Prepared(
            select(k.c.key_hash, p.c.party_id, p.c.role, p.c.name)
            .join(p, p.c.party_id == k.c.party_id)
            .where(k.c.key_hash.in_([bindparam(n) for n in _NAMES[:size]]), k.c.revoked_at.is_(None),
                   p.c.revoked_at.is_(None))
        )
    return found
