"""One outbox publisher per store: several gateway instances on one PostgreSQL each run a
publisher task, but only the holder of a session advisory lock publishes, so rows of one key are
never sent by two instances at once (which could interleave them). When the holder dies its
connection closes, the lock is released and another instance takes over; leases on claimed rows
make the hand-over safe. SQLite is single-instance: always the leader.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from gateway.store.store import lock_id

LOCK_KEY = "gateway:outbox-publisher"
# How long a confirmed lock is taken as still held without asking PostgreSQL again. Half a second
# is the publishers' default idle poll: a lost lock is noticed as soon as before at that default,
# while a faster poll (0.05 s) no longer costs a round trip every round.
RECHECK_SECONDS = 0.5


class PublisherLease:
    def __init__(self, store: Any, key: str = LOCK_KEY, recheck: float = RECHECK_SECONDS) -> None:
        self.store = store
        self.key = key  # one lock per kind of worker (the SOAP delivery has its own)
        self.recheck = recheck
        self._conn: Any = None
        self._confirmed = float("-inf")

    def known(self) -> bool | None:
        """True when held is sure without the store (SQLite, or the lock confirmed within
        `recheck` seconds): safe on the event loop. None: ask `held` in a worker thread."""
        if self.store.dialect != "postgresql":
            return True
        if self._conn is not None and time.monotonic() - self._confirmed < self.recheck:
            return True
        return None

    async def held_async(self) -> bool:
        """`held` without a thread hop when `known` already answers."""
        answer = self.known()
        if answer is None:
            import anyio

            answer = await anyio.to_thread.run_sync(self.held)
        return answer

    def held(self) -> bool:
        """True when this process may publish (synchronous: call it in a worker thread)."""
        if self.store.dialect != "postgresql":
            return True
        if self._conn is not None:
            try:
                self._conn.exec_driver_sql("SELECT 1")
                self._confirmed = time.monotonic()
                return True
            except Exception:  # the connection (and with it the lock) is gone
                self._close()
        conn = self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(conn.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (lock_id(self.key),)).scalar())
        except Exception:
            conn.close()
            return False
        if got:
            self._conn = conn
            self._confirmed = time.monotonic()
        else:
            conn.close()
        return got

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (lock_id(self.key),))
            self._close()

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()
        self._conn = None
