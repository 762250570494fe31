"""SQLite: WAL checkpoints run beside the writers, in a thread per database file, not in a COMMIT.

SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages: it
copies the WAL into the database file and syncs both, some 5 ms (100 MB and about a tenth of
the message's time after a 100,000-prestatie declaration) while the committing sender waits.
The data is durable in the WAL once the COMMIT returns (a checkpoint adds no durability), so the
store's connections run with wal_autocheckpoint=0 (gateway.store.engine) and a `Checkpointer`
copies the WAL on a connection of its own (PASSIVE: it never blocks a reader or a writer).

A commit only counts itself (no system call): the thread is woken every so many commits, as
many as wrote about `EVERY` pages the last time (each checkpoint tells how long the WAL was).
A WAL only starts again from its beginning when a writer begins while every frame is copied;
under steady load a commit always lands during the thread's copy, so the WAL would only grow.
Once the thread finds it past `LIMIT` pages (or has not finished a checkpoint for as many
commits), the next commit checkpoints itself, as SQLite's own did: between the writer's
transactions nothing is appended, so that copy (the few frames the thread has not reached)
completes and the next transaction starts the WAL again.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sqlite3
import threading
from urllib.parse import quote

log = logging.getLogger(__name__)

EVERY = 1000  # pages waiting in the WAL that wake the thread (SQLite's own checkpoint's default)
# WAL pages at which a commit checkpoints itself (the thread having fallen behind): a WAL of
# some 32 MB, a commit paying the checkpoint's syncs once in eight of SQLite's own
LIMIT = 8 * EVERY
GUESS = 16  # pages a commit writes, until a checkpoint has measured it (a message's: some 22)

_by_file: dict[str, Checkpointer] = {}
_lock = threading.Lock()


class Checkpointer:
    """The checkpoint thread of one database file, shared by the stores open on it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.users = 0
        # mode=rw: a database removed meanwhile is not created again
        self._conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=30,
                                     isolation_level=None, check_same_thread=False)
        self._every = max(1, EVERY // GUESS)  # commits between two wakes
        self._commits = 0  # since the thread last began a checkpoint
        self._unchecked = 0  # since the thread last ended one, or a commit checkpointed
        self._behind = False  # the WAL was past LIMIT: the next commit checkpoints
        self._frames = 0  # the WAL's length at the thread's last checkpoint
        self._cond = threading.Condition()
        self._asked = self._busy = self._stop = False
        # a daemon: an idle thread must not keep an interpreter from exiting (atexit joins it)
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def committed(self, driver: sqlite3.Connection | None = None, large: bool = False) -> None:
        """After a commit (`driver`: the writer's DBAPI connection, between its transactions;
        None from within a transaction, which never checkpoints): wake the thread when enough
        was written (after a `large` transaction at once), and checkpoint here when the WAL has
        grown past LIMIT, but not after a `large` one: its sender is answered without it."""
        self._commits += 1
        self._unchecked += 1
        if large or self._commits >= self._every:
            self._wake(again=large)
        if driver is None or large:
            return
        if self._behind or self._unchecked >= (LIMIT // EVERY) * self._every:
            self._behind, self._unchecked = False, 0
            try:  # busy (the thread is copying): it reports the WAL's length again
                driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:  # the commit stands; a later one tries again
                log.warning("WAL checkpoint after a commit failed: %s", exc)

    def _wake(self, again: bool = False) -> None:
        """Ask for a checkpoint; while one runs, only `again` asks for another after it."""
        if self._busy and not again:
            return
        with self._cond:
            self._asked = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._asked or self._stop):
                    self._cond.wait()
                if self._stop:
                    break
                self._asked, self._busy = False, True
            commits, self._commits = self._commits, 0
            try:
                self._measured(commits, _checkpoint(self._conn))
            except Exception as exc:  # noqa: BLE001 (the thread lives on: the next wake tries again)
                log.warning("background WAL checkpoint failed: %s", exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        self._conn.close()

    def _measured(self, commits: int, frames: int) -> None:
        """The WAL held `frames` after `commits` more: how many commits write EVERY pages."""
        self._unchecked = 0
        if frames < 0:  # busy: another connection (a commit, another process) was checkpointing
            return
        grown = frames - self._frames if frames >= self._frames else frames  # (it started again)
        if commits and grown > 0:
            self._every = min(EVERY, max(1, EVERY * commits // grown))
        self._frames = frames
        self._behind = frames >= LIMIT

    def wait(self) -> None:
        """Until the checkpoint asked for so far is done."""
        with self._cond:
            while (self._asked or self._busy) and self._thread.is_alive():
                self._cond.wait()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join()


def _checkpoint(conn: sqlite3.Connection) -> int:
    """The thread's PASSIVE checkpoint: the WAL's length in frames, -1 when another connection
    was checkpointing (a module function: tests hold the thread here)."""
    _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return frames


def attach(driver: sqlite3.Connection) -> Checkpointer | None:
    """The checkpointer of the database file `driver` has open, started for the first store on
    it (None: an in-memory database has no WAL). `release` it when the store closes."""
    path = _file(driver)
    if not path:
        return None
    with _lock:
        checkpointer = _by_file.get(path)
        if checkpointer is None:
            checkpointer = _by_file[path] = Checkpointer(path)
        checkpointer.users += 1
    return checkpointer


def release(checkpointer: Checkpointer) -> None:
    """A store on its file closed: the last one stops and joins the thread."""
    with _lock:
        checkpointer.users -= 1
        last = checkpointer.users == 0 and _by_file.get(checkpointer.path) is checkpointer
        if last:
            del _by_file[checkpointer.path]
    if last:
        checkpointer.stop()


def _file(driver: sqlite3.Connection) -> str:
    for _seq, name, path in driver.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return path or ""
    return ""


def wait() -> None:
    """Until the checkpoints asked for so far are done (tests, an orderly shutdown)."""
    with _lock:
        running = list(_by_file.values())
    for checkpointer in running:
        checkpointer.wait()


def _forget_all() -> None:
    # a forked child has none of its parent's threads: its stores start their own
    global _lock
    _lock = threading.Lock()
    _by_file.clear()


os.register_at_fork(after_in_child=_forget_all)


@atexit.register
def _stop_all() -> None:
    # an exiting interpreter lets a running copy finish instead of cutting it off
    with _lock:
        running = list(_by_file.values())
        _by_file.clear()
    for checkpointer in running:
        with contextlib.suppress(Exception):
            checkpointer.stop()
