"""SQLite's WAL is checkpointed by a thread per database file (gateway.store.checkpoint), never
inside a COMMIT, and stays bounded when that thread falls behind. The thread is held by a test
at its checkpoint (an event it waits on), so what a commit did is seen without timing."""

from __future__ import annotations

import os
import threading

import pytest

from gateway.catalog import by_code
from gateway.store import checkpoint, open_store

JW323 = by_code("JW323")
PAGE = 4096
FRAME = PAGE + 24  # a WAL frame: its header and a page


def _commit(store, size: int = 200_000, large: bool = False) -> str:  # noqa: ANN001
    """One group of one message of `size` random bytes (some 50 pages for the default)."""
    with store.group_transaction(large=large) as batch:
        return batch.transaction().save_message(raw=os.urandom(size), verdict="accepted", mtype=JW323,
                                                sender="12345678", identificatie=os.urandom(6).hex())


@pytest.fixture
def held(monkeypatch):
    """The checkpoint thread, when woken, waits at its checkpoint until `release` is set."""
    entered, release = threading.Event(), threading.Event()
    real = checkpoint._checkpoint

    def held_checkpoint(conn):  # noqa: ANN001, ANN202
        entered.set()
        release.wait()
        return real(conn)

    monkeypatch.setattr(checkpoint, "_checkpoint", held_checkpoint)
    yield entered, release
    release.set()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "gateway.db"


def _open(db):  # noqa: ANN001, ANN202
    return open_store(f"sqlite:///{db}", client_key_secret="s" * 64)


def test_a_commit_leaves_the_copy_to_the_thread(db, held, monkeypatch):
    entered, release = held
    monkeypatch.setattr(checkpoint, "GUESS", checkpoint.EVERY)  # every commit wakes the thread
    store = _open(db)
    try:
        checkpoint.wait()
        before = db.stat().st_size
        message_id = _commit(store)  # returns while the thread is held before its copy
        assert entered.wait(30), "the commit did not wake the checkpointer"
        assert db.stat().st_size == before  # in the WAL only: the commit copied nothing
        release.set()
        checkpoint.wait()
        assert db.stat().st_size >= before + 200_000  # the thread copied it
        assert store.get_message(message_id).verdict == "accepted"
    finally:
        release.set()
        store.close()


def test_the_wal_stays_bounded_while_the_thread_is_behind(db, held, monkeypatch):
    monkeypatch.setattr(checkpoint, "GUESS", 20)
    monkeypatch.setattr(checkpoint, "EVERY", 20)  # a wake every commit
    monkeypatch.setattr(checkpoint, "LIMIT", 100)  # unanswered for 5 commits: a commit copies
    store = _open(db)
    try:
        ids = [_commit(store) for _ in range(30)]  # some 1,500 pages, the thread held throughout
        assert held[0].is_set()
        wal = db.with_name(db.name + "-wal").stat().st_size
        # every fifth commit checkpointed itself and the next one started the WAL again
        assert wal <= 600 * FRAME, wal  # (over 1,500 frames without)
        assert all(store.get_message(i).verdict == "accepted" for i in ids)
    finally:
        held[1].set()  # else close would wait for the held thread
        store.close()


def test_a_wal_past_limit_is_checkpointed_by_the_next_commit(db, monkeypatch):
    monkeypatch.setattr(checkpoint, "LIMIT", 60)
    store = _open(db)
    try:
        _commit(store)
        _commit(store, large=True)  # the thread measures the WAL past LIMIT
        checkpoint.wait()
        assert store._checkpointer._behind
        _commit(store)  # this commit's own checkpoint starts the WAL again for the next
        assert not store._checkpointer._behind
        wal = db.with_name(db.name + "-wal")
        size = wal.stat().st_size
        _commit(store)
        assert wal.stat().st_size == size  # written over the WAL's first frames, not appended
    finally:
        store.close()


def test_the_pages_of_a_commit_are_measured(db, monkeypatch):
    monkeypatch.setattr(checkpoint, "EVERY", 200)
    monkeypatch.setattr(checkpoint, "GUESS", 200)  # a wake after every commit, until measured
    store = _open(db)
    try:
        for _ in range(6):
            _commit(store)  # some 50 pages each
            checkpoint.wait()
        assert 2 <= store._checkpointer._every <= 6
    finally:
        store.close()


def test_a_large_group_never_checkpoints_in_its_commit(db, held, monkeypatch):
    monkeypatch.setattr(checkpoint, "LIMIT", 20)
    store = _open(db)
    try:
        _commit(store)
        checkpoint.wait()
        before = db.stat().st_size
        with store.group_transaction(large=True) as batch:
            batch.transaction().save_message(raw=os.urandom(200_000), verdict="accepted", mtype=JW323,
                                             sender="12345678", identificatie="large")
        assert held[0].wait(30)  # woken at once, though far below EVERY
        assert db.stat().st_size == before  # past LIMIT, yet the commit left the copy to it
    finally:
        held[1].set()
        store.close()


def test_stores_on_one_file_share_a_thread_the_last_close_joins(db):
    first, second = _open(db), _open(db)
    checkpointer = first._checkpointer
    assert second._checkpointer is checkpointer and checkpointer._thread.is_alive()
    first.close()
    assert checkpointer._thread.is_alive()
    _commit(second)
    second.close()
    assert not checkpointer._thread.is_alive()
    assert str(db) not in checkpoint._by_file


def test_a_core_commit_tells_the_checkpointer(db, monkeypatch):
    store = _open(db)
    seen = []
    monkeypatch.setattr(store._checkpointer, "committed", lambda *a, **k: seen.append(a))
    try:
        store.add_party("99999999", "aanbieder")
        assert seen  # from within the transaction: no driver, so it can only wake the thread
        assert all(a == () for a in seen)
    finally:
        store.close()


def test_an_in_memory_store_has_no_checkpointer():
    store = open_store("sqlite://", client_key_secret="s" * 64)
    try:
        assert store._checkpointer is None
        _commit(store)
    finally:
        store.close()


def test_a_forked_child_starts_its_own_thread(db):
    store = _open(db)
    try:
        pid = os.fork()
        if pid == 0:  # the child: its parent's thread is not here, so its store must not share it
            code = 1
            try:
                child = _open(db)
                ok = child._checkpointer is not store._checkpointer and child._checkpointer._thread.is_alive()
                child.close()
                code = 0 if ok else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        store.close()
