"""The store's API for the other modules: console queries, outbox, streams, parties and keys,
users, audit and contract bundles, on both databases."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway import samples
from gateway.store import STREAM, MessageFilter, OutboxRow
from gateway.store import tables as t
from gateway.store.ids import new_id
from tests.store.conftest import parse, send
from tests.store.test_rules_allocation_regie import ok


def _outbox(party="12345678", destination="ijw.301"):
    def rows(tx, message_id, verdict):
        if verdict == "rejected":
            return []
        return [
            OutboxRow(destination=destination, payload=b"payload", key="k", headers=[("client-keys", b"abc")]),
            OutboxRow(destination=STREAM, payload=b"payload", party=party),
        ]

    return rows


def test_messages_are_listed_newest_first_with_keyset_pages(store):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    ids = []
    for i in range(7):
        raw = samples.allocation(products=(samples.Allocated(toewijzingnummer=100 + i),), bsn=samples.BSNS[i])
        r = send(store, raw, received_at=base + timedelta(minutes=i))
        ids.append(r.message_id)
    send(store, samples.start(bsn=samples.BSNS[20]), received_at=base + timedelta(minutes=30))  # rejected: TR019
    seen, cursor = [], None
    while True:
        page = store.list_messages(MessageFilter(code="JW301"), limit=3, cursor=cursor)
        seen += [m.id for m in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == list(reversed(ids))
    rejected = store.list_messages(MessageFilter(verdict="rejected")).items
    assert [m.code for m in rejected] == ["JW305"]
    by_rule = store.list_messages(MessageFilter(rule="TR019")).items
    assert [m.id for m in by_rule] == [rejected[0].id]
    assert store.list_messages(MessageFilter(rule="TR332")).items == []
    window = store.list_messages(MessageFilter(since=base + timedelta(minutes=2), until=base + timedelta(minutes=4)))
    assert [m.id for m in window.items] == [ids[3], ids[2]]
    client = store.list_messages(MessageFilter(bsn=samples.BSNS[2])).items
    assert [m.id for m in client] == [ids[2]]
    assert client[0].bsn_masked == "******" + samples.BSNS[2][-3:]
    assert store.related_messages(client[0].client_key)[0].id == ids[2]
    assert store.list_messages(MessageFilter(party=samples.AANBIEDER), limit=100).items[0].code == "JW305"
    with pytest.raises(ValueError):
        store.list_messages(cursor="not-a-cursor")


def test_bsn_is_never_stored_in_clear(store):
    bsn = samples.BSNS[3]
    ok(store, samples.allocation(bsn=bsn))
    ok(store, samples.start(bsn=bsn))
    send(store, samples.start(bsn=samples.BSNS[4]))  # rejected, stored too
    with store.engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for col, value in row.items():
                    if col in ("raw",):
                        continue
                    assert bsn not in str(value), f"{table.name}.{col} holds the BSN"


def test_get_message_has_the_raw_bytes_unchanged(store):
    raw = samples.allocation()
    r = ok(store, raw)
    m = store.get_message(r.message_id)
    assert m.raw == raw and m.sha256 == hashlib.sha256(raw).hexdigest()
    assert m.code == "JW301" and m.sender == samples.GEMEENTE and m.receiver == samples.AANBIEDER
    assert m.allocation_numbers == ["1001"] and m.verdict == "accepted"
    assert store.get_message("nope") is None


def test_outbox_claim_publish_and_fail(store):
    r = send(store, samples.allocation(), outbox=_outbox())
    assert store.get_message(r.message_id).routing_state == "pending"
    claimed = store.claim_outbox(10)
    assert [(o.destination, o.key, o.headers) for o in claimed] == [("ijw.301", "k", [("client-keys", b"abc")])]
    assert store.claim_outbox(10) == []  # leased
    assert store.mark_failed(claimed[0].id, "broker down", dead_letter_after=2) is False
    again = store.claim_outbox(10)
    assert [o.id for o in again] == [claimed[0].id] and again[0].attempts == 1
    store.mark_published([claimed[0].id])
    assert store.claim_outbox(10) == [] and store.pending_outbox_count() == 0
    assert store.get_message(r.message_id).routing_state == "routed"


def test_outbox_dead_letter_and_requeue(store):
    r = send(store, samples.allocation(), outbox=_outbox())
    row = store.claim_outbox(1)[0]
    assert store.mark_failed(row.id, "poison", dead_letter_after=1) is True
    m = store.get_message(r.message_id)
    assert m.dead_letter and m.routing_state == "dead_letter"
    assert store.claim_outbox(10) == []
    assert store.requeue_dead_letter(r.message_id) == 1
    assert [o.id for o in store.claim_outbox(10)] == [row.id]


def test_rejected_messages_enqueue_nothing(store):
    r = send(store, samples.start(), outbox=_outbox())
    assert r.verdict == "rejected" and store.outbox_for(r.message_id) == []


def test_streams_read_after_offset_and_ack(store):
    first = send(store, samples.allocation(), outbox=_outbox(party="12345678"))
    second = send(store, samples.allocation(bsn=samples.BSNS[9], products=(samples.Allocated(toewijzingnummer=9),)),
                  outbox=_outbox(party="12345678"))
    send(store, samples.allocation("iwmo"), outbox=_outbox(party="87654321"))
    items = store.read_stream("12345678", after=0)
    assert [i.message_id for i in items] == [first.message_id, second.message_id]
    assert store.read_stream("12345678", after=items[0].position)[0].message_id == second.message_id
    assert store.ack_stream("12345678", items[0].position) == items[0].position
    assert [i.message_id for i in store.read_stream("12345678")] == [second.message_id]
    assert store.ack_stream("12345678", 0) == items[0].position  # never backwards
    assert store.stream_offset("87654321") == 0


def test_parties_keys_and_certificates(store):
    store.add_party("12345678", "aanbieder", "Zorg BV")
    store.add_party("0599", "gemeente", "Rotterdam")
    with pytest.raises(ValueError):
        store.add_party("1", "burger")
    record, secret = store.create_api_key("12345678")
    found = store.find_api_key(hashlib.sha256(secret.encode()).hexdigest())
    assert found is not None and found.party_id == "12345678" and found.key_id == record.key_id
    assert store.find_api_key(hashlib.sha256(b"guess").hexdigest()) is None
    assert store.revoke_api_key(record.key_id)
    assert store.find_api_key(hashlib.sha256(secret.encode()).hexdigest()) is None
    store.add_client_cert("AA:BB:CC", "0599")
    assert store.find_client_cert("aabbcc").party_id == "0599"
    store.revoke_party("0599")
    assert store.get_party("0599").revoked_at is not None
    assert store.find_client_cert("aabbcc") is None
    assert [p.party_id for p in store.list_parties()] == ["0599", "12345678"]


def test_users_audit_and_contract_bundles(store):
    store.add_user("alice", "$argon2id$hash", "operator")
    assert store.get_user("alice").role == "operator"
    assert store.set_user_role("alice", "admin") and store.get_user("alice").role == "admin"
    assert store.disable_user("alice") and store.get_user("alice").disabled_at is not None
    store.audit("alice", "replay", target="01ABC", reason="rule fix", details={"n": 1})
    entries = store.list_audit()
    assert entries[0].action == "replay" and entries[0].details == {"n": 1}
    store.add_contract_bundle("midden-holland", "2026.1", date(2026, 1, 1), "region: mh\n", "alice")
    store.add_contract_bundle("midden-holland", "2027.1", date(2027, 1, 1), "region: mh2\n", "alice")
    assert store.contract_bundle_in_force("midden-holland", date(2026, 6, 1)).version == "2026.1"
    assert store.contract_bundle_in_force("midden-holland", date(2027, 6, 1)).version == "2027.1"
    assert store.contract_bundle_in_force("midden-holland", date(2025, 6, 1)) is None
    assert len(store.list_contract_bundles("midden-holland")) == 2


def test_transport_rejection_is_stored_without_claiming_the_identifier(store):
    raw = samples.allocation(identificatie="ID-T")
    root, mtype = parse(raw)
    mid = store.save_transport_rejection(raw=raw, mtype=mtype, root=root, issues=[])
    assert store.get_message(mid).verdict == "transport_rejected"
    ok(store, samples.allocation(identificatie="ID-T"))  # not a TR056 duplicate


def test_ids_sort_by_time():
    a, b = new_id(1_000), new_id(1_000)
    c = new_id(2_000)
    assert len(a) == 26 and a < b < c


def test_transport_rejection_with_an_oversized_header_is_stored(store):
    mid = store.save_transport_rejection(raw=b"<junk/>", sender="9" * 500, receiver="x" * 300,
                                         identificatie="I" * 200, issues=[{"rule": "XSD", "text": "bad"}])
    m = store.get_message(mid)
    assert m.verdict == "transport_rejected" and m.sender == "9" * 16 and len(m.identificatie) == 64
    assert store.list_messages(MessageFilter(rule="XSD")).items[0].id == mid
