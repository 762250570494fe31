"""The inbound Kafka topic with StUF-GGk envelopes: `InboundConsumer.handle` with a stand-in for
the broker's consumer (the record and commit only). A refused envelope is definitive: logged,
its offset committed, nothing stored; a good one is processed like any record."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass

from gateway import ggk, samples
from gateway.ingress.kafka import InboundConsumer
from gateway.pipeline import Pipeline, build_components
from gateway.settings import Settings


@dataclass
class Record:
    value: bytes
    topic: str = "inbound"
    partition: int = 0
    offset: int = 0


class Committed:
    def __init__(self) -> None:
        self.offsets: list[int] = []

    async def commit(self, offsets) -> None:  # noqa: ANN001
        self.offsets += list(offsets.values())


def test_envelopes_on_the_inbound_topic(tmp_path):
    settings = Settings(data_dir=tmp_path, hmac_secret="kafka-ggk-test")
    components = build_components(settings)
    store = components.store
    try:
        store.add_party(samples.GEMEENTE, "gemeente", "test")
        store.add_party(samples.AANBIEDER, "aanbieder", "test")
        inbound = InboundConsumer(Pipeline(components), settings)
        inbound.consumer = Committed()
        good = ggk.wrap(samples.allocation("ijw"))
        bad = good.replace(b"<GGK:xmlBestand>", b"<GGK:xmlBestand>%%%%", 1)
        assert bad != good
        asyncio.run(inbound.handle(Record(bad, offset=0)))
        assert store.count_messages() == 0 and inbound.consumer.offsets == [1]
        asyncio.run(inbound.handle(Record(good, offset=1)))
        assert store.count_messages() == 1 and inbound.consumer.offsets == [1, 2]
        (message,) = store.list_messages().items
        stored = store.get_envelope(message.id)
        assert stored["berichtcode"] == "Di01" and stored["answer_code"] == "Du01"
        assert base64.b64encode(store.get_message(message.id).raw).decode() in good.decode()
    finally:
        store.close()
