"""End to end: uvicorn over real HTTP, a real tansu broker, PostgreSQL.

A provider and a municipality exchange a full cycle 315 -> 301 -> 305 -> 307 -> 323 -> 325 with
retours, for iJw and iWmo; every message reaches the receiver's stream and Kafka topic once, the
retours travel back to the sender, and the chain is linked by one partition key and client key.
Refused senders (spoofed Afzender, wrong role, unknown key, revoked key) leave nothing behind.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from lxml import etree

from gateway import samples
from gateway.catalog import by_code
from gateway.client import GatewayClient, GatewayError

from .conftest import AANBIEDER, GEMEENTE, live, make_app, make_settings, setup_parties

pytestmark = [pytest.mark.postgres, pytest.mark.broker]


async def consume(bootstrap: str, topics: list[str], expected: int, timeout: float = 20.0) -> list:
    """Every record on `topics` from the beginning, until `expected` distinct message ids or timeout."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                metadata_max_age_ms=500)
    await consumer.start()
    records = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
            ids = {dict(r.headers).get("message-id") for r in records}
            if len(ids) >= expected:
                # Let stragglers (duplicates) arrive before judging "exactly once".
                batch = await consumer.getmany(timeout_ms=500)
                for recs in batch.values():
                    records.extend(recs)
                break
    finally:
        await consumer.stop()
    return records


def wait_until_published(store, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while store.pending_outbox_count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.pending_outbox_count() == 0, "outbox not drained"


def retour_code_of(xml: bytes) -> str:
    root = etree.fromstring(xml)
    ns = etree.QName(root).namespace
    from gateway.catalog import by_namespace

    return by_namespace(ns).code


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_full_cycle_over_http_kafka_and_postgres(standard, tmp_path, pg_url, broker, contracts):
    prefix = "JW" if standard == "ijw" else "WMO"
    settings = make_settings(tmp_path, store_url=pg_url, kafka_bootstrap=broker.bootstrap)
    app = make_app(settings, contracts)
    keys = setup_parties(app)
    store = app.state.components.store
    bsn = samples.BSNS[42]
    ref = f"E2E{standard.upper()}"
    cycle = [
        ("aanbieder", samples.request(standard, bsn=bsn, products=(samples.Requested(referentie_aanbieder=ref),))),
        ("gemeente", samples.allocation(standard, bsn=bsn, products=(samples.Allocated(referentie_aanbieder=ref),))),
        ("aanbieder", samples.start(standard, bsn=bsn)),
        ("aanbieder", samples.stop(standard, bsn=bsn)),
        ("aanbieder", samples.declaration(standard, clients={bsn: [samples.Prestatie()]})),
    ]
    expected_codes = [f"{prefix}{n}" for n in ("315", "301", "305", "307", "323")]
    expected_retours = [f"{prefix}{n}" for n in ("316", "302", "306", "308", "325")]

    with live(app) as server:
        clients = {
            "aanbieder": GatewayClient(server.url, keys.aanbieder),
            "gemeente": GatewayClient(server.url, keys.gemeente),
        }
        receipts = []
        for (who, xml), code, retour_code in zip(cycle, expected_codes, expected_retours, strict=True):
            r = clients[who].send(xml)
            assert r.code == code
            assert r.verdict == "accepted", (code, r.issues)
            assert r.retour_code == retour_code and r.retour is not None
            assert retour_code_of(r.retour) == retour_code
            assert clients[who].retour(r.message_id) == r.retour
            receipts.append(r)

        # Refused senders, over real HTTP: clear errors, nothing stored or routed.
        spoof = samples.start(standard, aanbieder="87654321", bsn=samples.BSNS[43])
        with pytest.raises(GatewayError) as exc:
            clients["aanbieder"].send(spoof)
        assert exc.value.status == 403 and exc.value.code == "spoofed_sender"
        with pytest.raises(GatewayError) as exc:
            clients["aanbieder"].send(samples.allocation(standard, bsn=samples.BSNS[43]))
        assert exc.value.status == 403 and exc.value.code == "wrong_role"
        with pytest.raises(GatewayError) as exc:
            GatewayClient(server.url, "gwk_nope_nope").send(samples.start(standard, bsn=samples.BSNS[43]))
        assert exc.value.status == 401 and exc.value.code == "unknown_key"
        store.revoke_api_key(store.list_api_keys(AANBIEDER)[0].key_id)
        with pytest.raises(GatewayError) as exc:
            clients["aanbieder"].send(samples.start(standard, bsn=samples.BSNS[43]))
        assert exc.value.status == 401 and exc.value.code == "revoked_key"

        # The chain of the declaration, as the municipality sees it: the whole cycle, in order.
        chain = clients["gemeente"].chain(receipts[-1].message_id)
        assert [m["code"] for m in chain["messages"]] == expected_codes
        assert [m["message_id"] for m in chain["messages"]] == [r.message_id for r in receipts]

        wait_until_published(store)
        # Streams: the municipality gets the provider's messages and the retour of its 301;
        # the provider gets the 301 and the retours of its messages, the 325 included.
        g_items = clients["gemeente"].read_stream(GEMEENTE)["items"]
        assert [i["type"] for i in g_items] == [f"{prefix}315", f"{prefix}302", f"{prefix}305",
                                                f"{prefix}307", f"{prefix}323"]
        # (the provider's key is revoked by now: read its stream through the store)
        a_items = store.read_stream(AANBIEDER, 0, 100)
        a_types = [dict(i.headers)["type"].decode() for i in a_items]
        assert a_types == [f"{prefix}316", f"{prefix}301", f"{prefix}306", f"{prefix}308", f"{prefix}325"]

    # Kafka: every message on its receiver's topic and every retour on its sender's topic, once.
    topics = sorted({
        f"gw.{standard}.{(GEMEENTE if by_code(c).sender_role == 'aanbieder' else AANBIEDER)}.{c.lower()}"
        for c in expected_codes
    } | {
        f"gw.{standard}.{(AANBIEDER if by_code(c).sender_role == 'gemeente' else GEMEENTE)}.{c.lower()}"
        for c in expected_retours
    })
    records = asyncio.run(consume(broker.bootstrap, topics, expected=10))
    by_id = {}
    for rec in records:
        h = {k: v.decode() for k, v in rec.headers}
        assert h["message-id"] not in by_id, "a message was published twice"
        by_id[h["message-id"]] = (rec, h)
    assert len(by_id) == 10
    heen_ids = [r.message_id for r in receipts]
    for r in receipts:
        rec, h = by_id[r.message_id]
        assert rec.topic.endswith(r.code.lower()) and h["type"] == r.code
        assert (h["sender"], h["receiver"]) == (r.sender, r.receiver)
        rrec, rh = by_id[f"{r.message_id}-R"]
        assert rh["type"] == r.retour_code and rh["answers-message-id"] == r.message_id
        assert rrec.value == r.retour
        assert rrec.topic == f"gw.{standard}.{r.sender}.{r.retour_code.lower()}"
    # One client's chain shares one partition key, which is not the BSN.
    keys_used = {rec.key for rec, _ in by_id.values()}
    assert len(keys_used) == 1 and bsn.encode() not in next(iter(keys_used))
    # The 325 names its 323.
    decl = etree.fromstring(cycle[-1][1])
    decl_ident = decl.find(".//{*}BerichtIdentificatie/{*}Identificatie").text
    assert by_id[f"{heen_ids[-1]}-R"][1]["answers"] == decl_ident
    # Correlation: the chain shares one client key and the allocation number (the 323 may hold
    # several clients, so the store links it by its ToewijzingNummers; its receipt names the key).
    stored = [store.get_message(m) for m in heen_ids]
    client_keys = {m.client_key for m in stored[:4]}
    assert len(client_keys) == 1 and None not in client_keys
    assert receipts[-1].correlation["client_keys"] == list(client_keys)
    number = str(samples.DEFAULT_TOEWIJZINGNUMMER)
    assert all(number in m.allocation_numbers for m in stored[1:])
    assert store.count_messages() == 5  # refused messages were not stored
    store.close()
