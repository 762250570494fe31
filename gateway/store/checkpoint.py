"""SQLite: the WAL checkpoint of a large transaction run beside its caller, not in its COMMIT.

A connection's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages:
after a 100,000-prestatie declaration it copies some 100 MB into the database file and syncs it,
about a tenth of the message's time, while its sender waits. The data is in the WAL once the
COMMIT returns (the checkpoint adds no durability), so `apart` turns the automatic checkpoint off
for that one COMMIT and runs the checkpoint in a thread on a connection of its own. The next
commit that finds the WAL still long checkpoints as before (one checkpointer at a time: a commit
meeting the thread's checkpoint skips its own).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from urllib.parse import quote

log = logging.getLogger(__name__)

_running: dict[str, threading.Thread] = {}  # database file -> its checkpointer
_lock = threading.Lock()


@contextlib.contextmanager
def apart(driver: sqlite3.Connection) -> Iterator[None]:
    """Around the COMMIT of a large transaction on `driver` (the DBAPI connection)."""
    path = _file(driver)
    if not path:  # an in-memory database has no WAL
        yield
        return
    (previous,) = driver.execute("PRAGMA wal_autocheckpoint").fetchone()
    driver.execute("PRAGMA wal_autocheckpoint=0")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA wal_autocheckpoint={int(previous)}")
    _start(path)  # only after a COMMIT that succeeded


def _file(driver: sqlite3.Connection) -> str:
    for _seq, name, path in driver.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return path or ""
    return ""


def _start(path: str) -> None:
    with _lock:
        running = _running.get(path)
        if running is not None and running.is_alive():
            return  # it checkpoints this commit's pages too, or the next commit does
        # not a daemon: an interpreter that exits waits for the copy instead of cutting it off
        thread = _running[path] = threading.Thread(target=_checkpoint, args=(path,),
                                                   name="sqlite-checkpoint")
        thread.start()


def _checkpoint(path: str) -> None:
    try:
        # mode=rw: a database removed meanwhile is not created again
        with contextlib.closing(sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=30)) as conn:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as exc:  # the next large commit checkpoints (or this one's WAL stays)
        log.warning("background WAL checkpoint failed: %s", exc)
    finally:
        with _lock:
            if _running.get(path) is threading.current_thread():
                del _running[path]


def wait() -> None:
    """Until the checkpoints running now are done (tests, an orderly shutdown)."""
    with _lock:
        threads = list(_running.values())
    for thread in threads:
        thread.join()
