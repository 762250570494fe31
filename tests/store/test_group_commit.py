"""Group commit (gateway.store.group): concurrent messages share one transaction, each is answered
only after that commit, a failing group costs no message its verdict, and messages with a lock
key in common keep their order and never share a group."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from gateway import samples
from gateway.auth.policy import Party
from gateway.pipeline import Components, Pipeline
from gateway.settings import Settings
from gateway.store import ConflictError, open_store
from gateway.store.group import GroupCommit
from tests.store.conftest import SECRET

GEMEENTE = Party(samples.GEMEENTE, "gemeente")


def _stored(store, message_id: str) -> bool:
    return store.get_message(message_id, with_bytes=False) is not None


class _Gate:
    """Holds the first group open until `n` units are queued behind it, so the next group is
    certainly shared (without it, a test would depend on thread timing)."""

    def __init__(self, group: GroupCommit, n: int) -> None:
        self.group, self.n = group, n
        self.first = True

    def __call__(self, tx):  # noqa: ANN001, ANN204
        if self.first:
            self.first = False
            while len(self.group._queue) < self.n:
                threading.Event().wait(0.005)
        return None


def _save(raw: bytes, ident: str):  # noqa: ANN202
    def work(tx):  # noqa: ANN001, ANN202
        return tx.save_message(raw=raw, verdict="rejected", sender="0599", identificatie=ident,
                               transport="test")
    return work


def test_concurrent_units_share_a_transaction_and_are_answered_after_its_commit(store):
    group = GroupCommit(store, max_group=64)
    gate = _Gate(group, 6)
    seen_committed = []

    def unit(i: int) -> str:
        message_id = group.run([f"k{i}"], _save(b"<x/>", f"id{i}"))
        seen_committed.append(_stored(store, message_id))  # a fresh connection sees it: committed
        return message_id

    opener = threading.Thread(target=group.run, args=(["gate"], gate))
    opener.start()
    with ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(unit, range(6)))
    opener.join()
    assert len(set(ids)) == 6 and all(seen_committed)
    assert group.stats.largest == 6, group.stats


def test_a_failing_group_is_run_again_one_message_at_a_time(store):
    """One unit raises inside the shared transaction: the others are stored all the same, the
    failing one gets its own error, and nothing of the failed attempt is left behind."""
    group = GroupCommit(store, max_group=64)
    gate = _Gate(group, 4)
    attempts: dict[int, int] = {}

    def flaky(i: int):  # noqa: ANN202
        save = _save(b"<x/>", f"f{i}")

        def work(tx):  # noqa: ANN001, ANN202
            attempts[i] = attempts.get(i, 0) + 1
            message_id = save(tx)
            if i == 2:
                raise ValueError("unit 2 fails")
            return message_id
        return work

    opener = threading.Thread(target=group.run, args=(["gate"], gate))
    opener.start()
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(group.run, [f"f{i}"], flaky(i)) for i in range(4)]
    opener.join()
    with pytest.raises(ValueError, match="unit 2 fails"):
        futures[2].result()
    ids = [f.result() for i, f in enumerate(futures) if i != 2]
    assert all(_stored(store, m) for m in ids)
    assert group.stats.split == 1
    # in the group up to the failure, then each alone once
    assert attempts == {0: 2, 1: 2, 2: 2, 3: 1}, attempts
    assert store.count_messages() == 3


def test_units_with_a_common_key_keep_their_order_and_never_share_a_group(store):
    group = GroupCommit(store, max_group=64)
    gate = _Gate(group, 5)
    order: list[str] = []
    groups: list[int] = []

    def unit(name: str, keys: list[str]):  # noqa: ANN202
        def work(tx):  # noqa: ANN001, ANN202
            order.append(name)
            groups.append(group.stats.groups)
        return lambda: group.run(keys, work)

    opener = threading.Thread(target=group.run, args=(["gate"], gate))
    opener.start()
    threading.Event().wait(0.05)  # the gate's group is running
    calls = [unit("a1", ["client:a"]), unit("b1", ["client:b"]), unit("a2", ["client:a", "x"]),
             unit("c1", ["x"]), unit("b2", ["client:b"])]
    threads = []
    for call in calls:  # queued one after the other, in this order
        before = len(group._queue)
        th = threading.Thread(target=call)
        th.start()
        threads.append(th)
        for _ in range(2000):
            if len(group._queue) != before or not th.is_alive():
                break
            threading.Event().wait(0.001)
    for th in threads + [opener]:
        th.join()
    assert order.index("a1") < order.index("a2") < order.index("c1")
    assert order.index("b1") < order.index("b2")
    by_name = dict(zip(order, groups, strict=True))
    assert by_name["a1"] != by_name["a2"] and by_name["b1"] != by_name["b2"]
    assert by_name["a2"] != by_name["c1"]  # "x" in common


@pytest.fixture
def pipeline(store, tmp_path):
    settings = Settings(data_dir=tmp_path, store_url="sqlite://", hmac_secret=SECRET)
    store.add_party(samples.GEMEENTE, "gemeente")
    store.add_party(samples.AANBIEDER, "aanbieder")
    return Pipeline(Components(store=store, settings=settings, secret=SECRET.encode()))


def test_pipeline_concurrent_senders_all_stored_and_a_resend_is_a_duplicate(pipeline, store):
    messages = [samples.allocation("ijw", bsn=samples.BSNS[i],
                                   products=(samples.Allocated(toewijzingnummer=500_000 + i),))
                for i in range(24)]
    with ThreadPoolExecutor(8) as pool:
        first = list(pool.map(lambda m: pipeline.process(m, GEMEENTE), messages))
    assert [o.verdict for o in first] == ["accepted"] * 24
    assert all(_stored(store, o.message_id) for o in first)
    # the same messages again, at once: answered from the store (looked up per group)
    with ThreadPoolExecutor(8) as pool:
        again = list(pool.map(lambda m: pipeline.process(m, GEMEENTE), messages))
    assert all(o.duplicate for o in again)
    assert [o.message_id for o in again] == [o.message_id for o in first]
    assert store.count_messages() == 24
    assert len(store.outbox_for(first[0].message_id)) >= 1


def test_pipeline_same_message_twice_at_once_is_stored_once(pipeline, store):
    raw = samples.allocation("ijw", bsn=samples.BSNS[3])
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda m: pipeline.process(m, GEMEENTE), [raw, raw])
    assert a.message_id == b.message_id and sorted([a.duplicate, b.duplicate]) == [False, True]
    assert store.count_messages() == 1


def test_a_conflict_in_a_group_is_the_conflicting_message_s_own(store):
    """A unique-constraint violation at the group's write (another process got there first)
    reaches only the unit that caused it, as ConflictError (the pipeline retries it)."""
    from gateway.catalog import by_code

    group = GroupCommit(store, max_group=64)
    store_id = group.run(["k0"], lambda tx: tx.save_message(
        raw=b"<y/>", verdict="rejected", sender="0599", identificatie="same", transport="test",
        mtype=by_code("JW301")))
    assert _stored(store, store_id)
    gate = _Gate(group, 2)
    opener = threading.Thread(target=group.run, args=(["gate"], gate))
    opener.start()

    def dup(tx):  # noqa: ANN001, ANN202
        return tx.save_message(raw=b"<z/>", verdict="rejected", sender="0599", identificatie="same",
                               transport="test", mtype=by_code("JW301"))

    with ThreadPoolExecutor(2) as pool:
        bad = pool.submit(group.run, ["k1"], dup)
        good = pool.submit(group.run, ["k2"], _save(b"<w/>", "other"))
    opener.join()
    with pytest.raises(ConflictError):
        bad.result()
    assert _stored(store, good.result())


def test_a_large_message_gets_a_group_of_its_own(store):
    group = GroupCommit(store, max_group=64)
    gate = _Gate(group, 3)
    seen: dict[str, int] = {}

    def unit(name: str, alone: bool = False):  # noqa: ANN202
        def work(tx):  # noqa: ANN001, ANN202
            seen[name] = group.stats.groups
        return lambda: group.run([name], work, alone=alone)

    opener = threading.Thread(target=group.run, args=(["gate"], gate))
    opener.start()
    threading.Event().wait(0.05)
    threads = []
    for call in (unit("small1"), unit("big", alone=True), unit("small2")):
        before = len(group._queue)
        th = threading.Thread(target=call)
        th.start()
        threads.append(th)
        for _ in range(2000):
            if len(group._queue) != before or not th.is_alive():
                break
            threading.Event().wait(0.001)
    for th in threads + [opener]:
        th.join()
    assert seen["small1"] == seen["small2"] != seen["big"]
    assert group.stats.largest == 2


def test_a_connection_the_server_ended_fails_one_group_and_the_next_gets_a_new_one(pg_url):
    """PostgreSQL (SQLite has no server to end a connection). The engine has no pre-ping (a round
    trip per group): a kept connection whose backend the server ended fails the group that gets
    it (the sender sees a store error, 503, and retries), is invalidated, and the next group runs
    on a new connection."""
    store = open_store(pg_url, client_key_secret=SECRET)
    admin = create_engine(pg_url)  # a connection of its own, outside the store's pool
    try:
        group = store.group_commit()
        group.run(["k:1"], _save(b"<a/>", "END-1"))  # the group committer keeps a connection now
        with admin.connect() as conn:
            ended = conn.exec_driver_sql(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t").scalar()
        assert ended >= 1
        with pytest.raises(DBAPIError) as failed:
            group.run(["k:2"], _save(b"<b/>", "END-2"))
        assert failed.value.connection_invalidated
        stored = group.run(["k:2"], _save(b"<b/>", "END-2"))
        assert _stored(store, stored)
    finally:
        admin.dispose()
        store.close()


def test_a_postgres_group_holds_its_lock_keys_until_its_commit_and_gives_its_connection_back(pg_url):
    """PostgreSQL: the store begins the group's transaction itself (BEGIN in the pipeline of the
    lock and the lookups, the connection in autocommit mode meanwhile). Without that BEGIN the
    advisory lock would end with the lookups' round trip; it must hold while the units run, and
    the connection must be back in its usual mode when it returns to the pool, after a failure
    too."""
    from gateway.store.store import lock_id

    store = open_store(pg_url, client_key_secret=SECRET)
    other = create_engine(pg_url)
    try:
        group = store.group_commit()
        seen = []

        def work(tx):  # noqa: ANN001, ANN202
            with other.connect() as conn:
                seen.append(conn.exec_driver_sql("SELECT pg_try_advisory_xact_lock(%s)",
                                                 (lock_id("k:held"),)).scalar())
            return _save(b"<a/>", "HELD-1")(tx)

        stored = group.run(["k:held"], work)
        assert seen == [False]  # held by the group's transaction
        assert _stored(store, stored)

        def boom(tx):  # noqa: ANN001, ANN202
            _save(b"<b/>", "HELD-2")(tx)
            raise RuntimeError("unit failed")

        with pytest.raises(RuntimeError):
            group.run(["k:held"], boom)
        # the failed group's connection went back to the pool: in its usual mode, no transaction open
        pooled = [store.engine.raw_connection() for _ in range(store.engine.pool.checkedin())]
        assert pooled
        try:
            for conn in pooled:
                assert conn.driver_connection.autocommit is False
                assert conn.driver_connection.info.transaction_status == 0
        finally:
            for conn in pooled:
                conn.close()
        assert _stored(store, group.run(["k:held"], _save(b"<c/>", "HELD-3")))
        kept = list(store._kept._idle)  # the connection kept after a group that went well
        assert kept
        for conn in kept:  # between groups: no transaction open (it stays in autocommit mode while kept)
            assert conn.connection.driver_connection.info.transaction_status == 0
            assert not conn.in_transaction()
        store._kept.close()  # back to the pool: in its usual mode again
        pooled = [store.engine.raw_connection() for _ in range(store.engine.pool.checkedin())]
        try:
            for conn in pooled:
                assert conn.driver_connection.autocommit is False
        finally:
            for conn in pooled:
                conn.close()
    finally:
        other.dispose()
        store.close()


def test_a_core_statement_inside_a_pipeline_ends_it_and_reads_its_answer(pg_url):
    """SQLAlchemy Core cannot read in psycopg's pipeline mode (it looks at the cursor before the
    answer is there): the engine ends the pipeline before a Core statement, and the block can
    resume it."""
    from sqlalchemy import Integer, literal, select

    from gateway.store.prepared import Prepared, pipelined

    one = Prepared(select(literal(1, Integer).label("one")))
    store = open_store(pg_url, client_key_secret=SECRET)
    try:
        with store.engine.connect() as conn, conn.begin():
            with pipelined(conn) as pipeline:
                assert pipeline
                sent = one.send(conn)
                assert conn.execute(select(literal(2, Integer))).scalar() == 2
                assert not pipeline
                assert one.collect(conn, sent) == [{"one": 1}]
                assert pipeline.resume()
                assert one.rows(conn) == [{"one": 1}]
    finally:
        store.close()


def test_a_group_s_lookups_find_an_earlier_tr056_duplicate_and_the_used_identifiers(store):
    """Batch.prefetch (SQLite: the identifiers first, earlier deliveries only under registered
    ones) finds an earlier delivery that was itself a TR056 duplicate (stored without registering
    its identifier), and says which identifiers are used; an unregistered one has no delivery."""
    import hashlib
    from datetime import UTC, datetime

    from gateway.catalog import by_code

    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def sha(raw: bytes) -> str:
        return hashlib.sha256(raw).hexdigest()

    def save(tx, raw: bytes, ident: str, issues=()):  # noqa: ANN001, ANN202
        return tx.save_message(raw=raw, sha256=sha(raw), verdict="rejected" if issues else "accepted",
                               issues=list(issues), mtype=by_code("JW301"), sender="0599", receiver="1234",
                               identificatie=ident, received_at=at, transport="http", received_by="0599")

    with store.transaction() as tx:
        save(tx, b"<x>1</x>", "ID-1")
        duplicate = save(tx, b"<x>2</x>", "ID-1", [{"rule": "TR056", "retourcode": "0001", "severity": "error"}])
    again = ("0599", "JW301", "ID-1", sha(b"<x>2</x>"))
    new = ("0599", "JW301", "ID-9", sha(b"<x>9</x>"))
    other_sender = ("0363", "JW301", "ID-1", sha(b"<x>1</x>"))
    with store.group_transaction([], [again, new, other_sender]) as batch:
        assert {again, new, other_sender} <= set(batch.same)  # answered by the group's lookups
        tx = batch.transaction()
        assert tx.find_same_message(*again).id == duplicate
        assert tx.find_same_message(*new) is None
        assert tx.find_same_message(*other_sender) is None
        assert tx.state.identifier_used("0599", "JW301", "ID-1") is True
        assert tx.state.identifier_used("0599", "JW301", "ID-9") is False
        assert tx.state.identifier_used("0363", "JW301", "ID-1") is False
