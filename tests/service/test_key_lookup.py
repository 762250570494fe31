"""The batched API key lookup (gateway.auth.batched): concurrent requests share one query, and
every one of them still sees the store as it is after it arrived (a revocation at once)."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.auth.batched import BatchedKeyLookup
from gateway.auth.identity import party_for_key
from gateway.auth.keys import key_hash, new_key
from gateway.auth.policy import Refused
from gateway.store import open_store

PARTIES = [(f"{10000000 + i}", "aanbieder") for i in range(12)]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'gw.db'}", client_key_secret="k" * 64)
        yield s
        s.close()
        return
    url = request.getfixturevalue("pg_url")
    s = open_store(url, client_key_secret="k" * 64)
    yield s
    s.close()


def keyed(store):  # noqa: ANN001
    keys = {}
    for party, role in PARTIES:
        store.add_party(party, role)
        key_id, key = new_key()
        store.add_api_key(party, key_hash(key), key_id)
        keys[party] = (key_id, key)
    return keys


def test_concurrent_lookups_share_queries_and_each_gets_its_own_party(store):
    keys = keyed(store)
    lookup = BatchedKeyLookup(store)
    gate = threading.Barrier(len(keys) * 4)
    found: dict[int, str | None] = {}

    def ask(i: int, party: str) -> None:
        gate.wait()
        got = lookup.party(key_hash(keys[party][1]))
        found[i] = got.party_id if got else None

    threads = [threading.Thread(target=ask, args=(i, p)) for i, p in enumerate(list(keys) * 4)]
    first_query = lookup._lookup

    def held_first(digests: set[str]) -> dict:
        # The first query waits until every other caller has queued, so the test does not depend on
        # how the scheduler interleaves the threads on a loaded machine.
        lookup._lookup = first_query
        deadline = time.monotonic() + 10
        while len(lookup._queue) < len(threads) - 1 and time.monotonic() < deadline:
            time.sleep(0.002)
        return first_query(digests)

    lookup._lookup = held_first
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found == {i: p for i, p in enumerate(list(keys) * 4)}
    assert lookup.asked == len(threads) and lookup.queries == 2  # the first alone, the rest together
    assert lookup.party(key_hash("gwk_0000_unknown")) is None


def test_a_revocation_is_seen_by_the_next_lookup(store):
    keys = keyed(store)
    lookup = BatchedKeyLookup(store)
    party, (key_id, key) = next(iter(keys.items()))
    assert party_for_key(store, key, lookup).party_id == party
    store.revoke_api_key(key_id)
    with pytest.raises(Refused) as refused:
        party_for_key(store, key, lookup)
    assert refused.value.code == "revoked_key"
    other, (_, other_key) = list(keys.items())[1]
    assert party_for_key(store, other_key, lookup).party_id == other
    store.revoke_party(other)
    with pytest.raises(Refused):
        party_for_key(store, other_key, lookup)
    lookup.close()


@pytest.mark.parametrize("asked", [1, 8, 9, 64, 65, 256])
def test_one_query_answers_any_number_of_keys_up_to_the_largest_batch(store, asked):
    """The query comes in a few prepared sizes (the unused places NULL): whatever the number of
    keys asked, each live key finds its party, and an unknown or revoked one finds nothing."""
    keys = keyed(store)
    live = [key_hash(key) for _, key in keys.values()]
    revoked_party = PARTIES[0][0]
    store.revoke_api_key(keys[revoked_party][0])
    unknown = [key_hash(new_key()[1]) for _ in range(max(0, asked - len(live)))]
    digests = (live + unknown)[:asked]
    found = BatchedKeyLookup(store)._lookup(set(digests))
    expected = {key_hash(key): party for party, (_, key) in keys.items() if party != revoked_party}
    assert {d: p.party_id for d, p in found.items()} == {d: expected[d] for d in digests if d in expected}
