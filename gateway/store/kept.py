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
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine


class KeptConnections:
    def __init__(self, engine: Engine, keep: int) -> None:
        self.engine = engine
        self.keep = keep
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """An idle kept connection, or a new one from the pool; kept again afterwards when it is
        clean (and fewer than `keep` are idle), closed (back to the pool) otherwise."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self.engine.connect()
        clean = False
        try:
            yield conn
            clean = True
        finally:
            reuse = clean and not conn.invalidated and not conn.closed and not conn.in_transaction()
            if reuse:
                with self._lock:
                    reuse = not self._closed and len(self._idle) < self.keep
                    if reuse:
                        self._idle.append(conn)
            if not reuse:
                conn.close()

    def close(self) -> None:
        """Close the idle connections (the store is closing); later ones are not kept."""
        with self._lock:
            idle, self._idle, self._closed = self._idle, [], True
        for conn in idle:
            conn.close()
