"""The optional inbound Kafka topic: the same pipeline as HTTP; the offset of a record is committed
only after the message is stored (or definitively refused), so a crash means redelivery, which
the store's idempotency turns into the same answer, never a lost message.

The topic is a trusted channel (e.g. fed by a hub): the sender is the party named in the header,
which must be a known, unrevoked party holding the sender's role. A record may be a StUF-GGk
Di01/Du01 (gateway.ggk.ingress, as on HTTP); a refused envelope is logged and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import anyio

from gateway import clock
from gateway.auth.policy import Refused
from gateway.ggk import answers
from gateway.ggk.errors import EnvelopeError
from gateway.observability import bind_message, get_logger
from gateway.settings import Settings

log = get_logger("gateway.ingress.kafka")


class InboundConsumer:
    def __init__(self, pipeline: Any, settings: Settings) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self._stop = asyncio.Event()
        self.consumer: Any = None
        self.processed = 0

    async def _start(self) -> Any:
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(
            self.settings.kafka_inbound_topic,
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=self.settings.kafka_inbound_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=self.settings.max_message_bytes + 1024,
            fetch_max_bytes=self.settings.max_message_bytes + 1024,
        )
        await consumer.start()
        return consumer

    async def _fo01(self, raw: bytes, record: Any) -> None:
        """Store a Fo01 from the topic (a trusted channel, like the messages on it); a store error
        propagates (the record is retried), a broken or reused one is logged and skipped."""
        try:
            fo01 = await anyio.to_thread.run_sync(
                lambda: answers.receive_fo01(self.pipeline.c.store, raw, None, "kafka"))
        except EnvelopeError as exc:
            log.warning("kafka_fo01_refused", reason=exc.error.code, stuf_code=exc.error.stuf_code,
                        offset=record.offset, partition=record.partition)
            return
        log.info("kafka_fo01_received", fo01_id=fo01.id, linked=fo01.message_id, code=fo01.fout.code,
                 duplicate=fo01.duplicate, offset=record.offset)

    async def handle(self, record: Any) -> None:
        """Process one record; raises only when it must be retried (not stored)."""
        from aiokafka.structs import TopicPartition

        raw = record.value or b""
        try:
            outcome = await anyio.to_thread.run_sync(
                lambda: self.pipeline.process(raw, None, clock.now(), transport="kafka")
            )
            with bind_message(outcome.message_id):
                log.info("kafka_message_processed", code=outcome.code, verdict=outcome.verdict,
                         duplicate=outcome.duplicate, offset=record.offset)
        except Refused as exc:  # definitive: retrying gives the same answer
            log.warning("kafka_message_refused", reason=exc.code, offset=record.offset,
                        partition=record.partition)
        except EnvelopeError as exc:  # a refused StUF-GGk envelope: definitive, nothing stored
            if exc.error.code == "NOT_AN_ENVELOPE" and answers.is_fo01(raw):
                await self._fo01(raw, record)  # a Fo01 is kept on its own (gateway.ggk.answers)
            else:
                log.warning("kafka_envelope_refused", reason=exc.error.code, stuf_code=exc.error.stuf_code,
                            offset=record.offset, partition=record.partition)
        tp = TopicPartition(record.topic, record.partition)
        await self.consumer.commit({tp: record.offset + 1})
        self.processed += 1

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.consumer = await self._start()
                async for record in self.consumer:
                    await self.handle(record)
                    if self._stop.is_set():
                        break
            except Exception:
                log.error("inbound_consumer_failed", exc_info=True)
            finally:
                if self.consumer is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(self.consumer.stop(), 5)
                    self.consumer = None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 2)

    async def stop(self) -> None:
        self._stop.set()
        if self.consumer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.consumer.stop(), 5)
