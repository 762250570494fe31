"""Server-Sent Events over real HTTP, and the inbound Kafka topic through the same pipeline."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from gateway import samples
from gateway.client import GatewayClient

from .conftest import AANBIEDER, GEMEENTE, live, make_app, make_settings, setup_parties


def test_sse_delivers_stream_entries_as_they_arrive_and_resumes(tmp_path, contracts):
    app = make_app(make_settings(tmp_path), contracts)
    keys = setup_parties(app)
    with live(app) as server:
        received: list[dict] = []
        done = threading.Event()

        def follow() -> None:
            with GatewayClient(server.url, keys.aanbieder, timeout=30) as gw:
                for entry in gw.follow(AANBIEDER):
                    received.append(entry)
                    if len(received) == 3:
                        done.set()
                        return

        t = threading.Thread(target=follow, daemon=True)
        t.start()
        time.sleep(0.3)  # the stream is open before anything is sent
        sent = []
        with GatewayClient(server.url, keys.gemeente) as gw:
            for n in range(3):
                xml = samples.allocation("ijw", bsn=samples.BSNS[200 + n],
                                         products=(samples.Allocated(toewijzingnummer=7000 + n),))
                sent.append(gw.send(xml).message_id)
        assert done.wait(15), f"only {len(received)} events"
        assert [e["message_id"] for e in received] == sent
        assert all(e["type"] == "JW301" and e["xml"].startswith("<?xml") for e in received)
        # Resuming after the first position gives the rest, in order (as a reconnect would).
        with GatewayClient(server.url, keys.aanbieder) as gw:
            page = gw.read_stream(AANBIEDER, after=received[0]["position"])
            assert [i["message_id"] for i in page["items"]] == sent[1:]
            # Another party's stream is refused, also over SSE.
            other = GatewayClient(server.url, keys.gemeente)
            with pytest.raises(Exception) as exc:
                next(iter(other.follow(AANBIEDER)))
            assert getattr(exc.value, "status", None) == 403
            other.close()


@pytest.mark.broker
def test_inbound_topic_uses_the_pipeline_and_commits_after_storing(tmp_path, broker, contracts):
    from aiokafka import AIOKafkaProducer
    from aiokafka.structs import TopicPartition

    topic = "gw.inbound"
    settings = make_settings(tmp_path, kafka_bootstrap=broker.bootstrap, kafka_inbound_topic=topic,
                             kafka_inbound_group="gw-test")
    app = make_app(settings, contracts)
    setup_parties(app)
    store = app.state.components.store
    good = samples.allocation("ijw", bsn=samples.BSNS[300])
    unknown_sender = samples.allocation("ijw", gemeente="0363", bsn=samples.BSNS[301])  # not a party
    broken = b"<not xml"

    async def produce() -> None:
        p = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
        await p.start()
        try:
            for value in (good, unknown_sender, broken):
                await p.send_and_wait(topic, value, partition=0)
        finally:
            await p.stop()

    async def committed() -> int | None:
        from aiokafka import AIOKafkaConsumer

        c = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id="gw-test",
                             enable_auto_commit=False)
        await c.start()
        try:
            return await c.committed(TopicPartition(topic, 0))
        finally:
            await c.stop()

    with live(app):
        asyncio.run(produce())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and app.state.inbound.processed < 3:
            time.sleep(0.1)
        assert app.state.inbound.processed == 3
        assert asyncio.run(committed()) == 3
    items = store.read_stream(AANBIEDER, 0, 10)
    assert [dict(i.headers)["type"].decode() for i in items] == ["JW301"]
    assert [dict(i.headers)["type"].decode() for i in store.read_stream(GEMEENTE, 0, 10)] == ["JW302"]
    # The unknown sender was refused (not stored); the broken record is a stored transport rejection.
    verdicts = sorted(m.verdict for m in store.list_messages(limit=10).items)
    assert verdicts == ["accepted", "transport_rejected"]
    assert {m.transport for m in store.list_messages(limit=10).items} == {"kafka"}
    store.close()
