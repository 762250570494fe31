"""A large message's group (GroupCommit.run alone=True) has its SQLite WAL checkpointed at once
by the store's checkpoint thread (gateway.store.checkpoint), not in its COMMIT; a small group's
pages wait in the WAL (tests/store/test_checkpointer.py: the thread's other cases)."""

from __future__ import annotations

import os

from gateway.catalog import by_code
from gateway.store import checkpoint, open_store

JW323 = by_code("JW323")


def _commit(store, large: bool) -> str:  # noqa: ANN001
    with store.group_transaction(large=large) as batch:
        return batch.transaction().save_message(raw=os.urandom(200_000), verdict="accepted", mtype=JW323,
                                                sender="12345678", identificatie=os.urandom(6).hex())


def _autocheckpoint(store) -> int:  # noqa: ANN001
    with store._kept.connection() as conn:
        return conn.connection.driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0]


def test_a_large_group_is_checkpointed_beside_its_commit(tmp_path):
    db = tmp_path / "gateway.db"
    store = open_store(f"sqlite:///{db}", client_key_secret="s" * 64)
    try:
        _commit(store, large=False)  # well below the automatic checkpoint's 1,000 pages: in the WAL only
        checkpoint.wait()
        before = db.stat().st_size
        message_id = _commit(store, large=True)
        checkpoint.wait()
        assert db.stat().st_size >= before + 200_000  # its pages copied into the database file
        assert _autocheckpoint(store) == 0  # a COMMIT never checkpoints: the checkpointer does
        assert store.get_message(message_id).verdict == "accepted"
    finally:
        store.close()


def test_a_small_group_leaves_its_pages_in_the_wal(tmp_path):
    db = tmp_path / "gateway.db"
    store = open_store(f"sqlite:///{db}", client_key_secret="s" * 64)
    try:
        _commit(store, large=False)
        checkpoint.wait()
        before = db.stat().st_size
        _commit(store, large=False)
        checkpoint.wait()
        assert db.stat().st_size < before + 200_000
    finally:
        store.close()


def test_a_group_run_alone_is_large(tmp_path):
    from gateway.store.group import GroupCommit

    seen = []
    store = open_store(f"sqlite:///{tmp_path / 'gateway.db'}", client_key_secret="s" * 64)
    real = store.group_transaction

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen.append(kwargs.get("large"))
        return real(*args, **kwargs)

    store.group_transaction = spy
    try:
        group = GroupCommit(store, max_group=4)
        group.run(["a"], lambda tx: None)
        group.run(["b"], lambda tx: None, alone=True)
    finally:
        store.close()
    assert seen == [False, True]
