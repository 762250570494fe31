"""Connections kept open between the group committer's transactions.

A group's transaction on a connection from the pool pays the pool's checkout and checkin every
time: SQLAlchemy builds a Connection, runs the pool's events, and on checkin rolls the (already
committed) DBAPI connection back as its reset. The group committer runs one transaction after
another, so it keeps its few connections (one per leader) instead, between transactions idle:
no transaction open, no lock or snapshot held. A connection that failed in a way that leaves it
unusable (invalidated, or still in a transaction) is closed, not kept.
"""

from __future__ import annotations

import threading

from sqlalchemy.engine import Connection, Engine


class KeptConnections:
    def __init__(self, engine: Engine, keep: int) -> None:
        self.engine = engine
        self.keep = keep
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def connection(self) -> _Kept:
        """An idle kept connection, or a new one from the pool; kept again afterwards when it is
        clean (and fewer than `keep` are idle), closed (back to the pool) otherwise. (A context
        manager of its own, not a generator's: entered once per group.)"""
        return _Kept(self)

    def close(self) -> None:
        """Close the idle connections (the store is closing); later ones are not kept."""
        with self._lock:
            idle, self._idle, self._closed = self._idle, [], True
        for conn in idle:
            conn.close()


class _Kept:
    """KeptConnections.connection: a generator's context manager cost a group some 3 us more."""

    __slots__ = ("conn", "kept")

    def __init__(self, kept: KeptConnections) -> None:
        self.kept = kept
        self.conn: Connection | None = None

    def __enter__(self) -> Connection:
        kept = self.kept
        with kept._lock:
            conn = kept._idle.pop() if kept._idle else None
        if conn is None:
            conn = kept.engine.connect()
        self.conn = conn
        return conn

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        conn, self.conn = self.conn, None
        kept = self.kept
        reuse = exc_type is None and not conn.invalidated and not conn.closed and not conn.in_transaction()
        if reuse:
            with kept._lock:
                reuse = not kept._closed and len(kept._idle) < kept.keep
                if reuse:
                    kept._idle.append(conn)
        if not reuse:
            conn.close()
