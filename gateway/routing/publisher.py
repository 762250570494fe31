"""The outbox publisher: Kafka rows of the outbox go out once they are stored, whatever the broker
did at the time. Delivery is at least once; a consumer deduplicating on the `message-id` header
sees every message exactly once, in order per partition key:

- rows are claimed in outbox order (id) and grouped per (topic, key);
- within a group the next row is only sent after the broker acknowledged the previous one, so a
  failure never lets a later message of the same client overtake an earlier one;
- a failed row, and everything after it in its group, stays in the outbox for the next round.
Several gateway instances on one PostgreSQL elect one publisher (gateway.routing.leader), so rows
of one key are never sent by two instances at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from typing import Any

import anyio

from gateway.observability import get_logger
from gateway.routing.leader import PublisherLease
from gateway.settings import Settings

log = get_logger("gateway.publisher")


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _transient(exc: Exception) -> bool:
    """Connection loss, timeouts, leader changes: the broker's state, not the row's fault."""
    from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError

    if isinstance(exc, (KafkaConnectionError, KafkaTimeoutError, asyncio.TimeoutError, OSError)):
        return True
    return bool(getattr(exc, "retriable", False))


class OutboxPublisher:
    def __init__(self, store: Any, settings: Settings, metrics: Any = None) -> None:
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.producer: Any = None
        self._stop = asyncio.Event()
        self.published = 0
        self.lease = PublisherLease(store)

    async def _ensure_producer(self) -> Any:
        if self.producer is not None:
            return self.producer
        from aiokafka import AIOKafkaProducer

        kwargs: dict[str, Any] = dict(
            bootstrap_servers=self.settings.kafka_bootstrap,
            request_timeout_ms=self.settings.kafka_request_timeout_ms,
            retry_backoff_ms=200,
            linger_ms=5,
        )
        if self.settings.kafka_idempotent:
            kwargs["enable_idempotence"] = True
        else:
            kwargs["acks"] = "all"
        producer = AIOKafkaProducer(**kwargs)
        try:
            await producer.start()
        except Exception:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        self.producer = producer
        return producer

    async def _create_topics(self, producer: Any, topics: set[str]) -> None:
        """Create topics before their first record instead of relying on auto-creation: clusters
        often disable it, and a broker creating a topic for concurrent first writes may lose one."""
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic
        from aiokafka.errors import TopicAlreadyExistsError

        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap,
                                    request_timeout_ms=5000)
        await admin.start()
        try:
            for topic in sorted(topics):
                try:
                    await admin.create_topics([NewTopic(topic, self.settings.kafka_partitions,
                                                        self.settings.kafka_replication)])
                except TopicAlreadyExistsError:
                    pass
        finally:
            await admin.close()
        for topic in topics:
            await producer.partitions_for(topic)  # wait until the producer's metadata has it

    async def _drop_producer(self) -> None:
        """Close the producer without letting it deliver anything later: batches it still holds
        are abandoned (their rows stay in the outbox), so a half-closed producer can never resend
        a stale record after newer ones once the broker is back."""
        producer, self.producer = self.producer, None
        if producer is None:
            return
        from aiokafka.errors import KafkaConnectionError

        accumulator = getattr(producer, "_message_accumulator", None)
        if accumulator is not None:
            accumulator.fail_all(KafkaConnectionError("publisher reset: batch abandoned"))
        try:
            await asyncio.wait_for(producer.stop(), 10)
        except Exception:
            sender = getattr(getattr(producer, "_sender", None), "sender_task", None)
            if sender is not None:
                sender.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.client.close(), 5)

    async def publish_round(self) -> int:
        """Claim a batch, publish it; the number of rows published (-1: broker unreachable)."""
        try:
            # Connect before claiming: a broker that is down is not the rows' fault, so it must
            # not count as failed attempts (which dead-letter a row after ten).
            producer = await self._ensure_producer()
        except Exception as exc:
            log.warning("broker_unavailable", error=str(exc)[:200])
            return -1
        rows = await anyio.to_thread.run_sync(
            lambda: self.store.claim_outbox(self.settings.outbox_batch, self.settings.outbox_lease_seconds)
        )
        if not rows:
            return 0
        # Which topics does the broker have now? (A broker may have restarted empty since the
        # last round.) Topics are created before their first record, never by auto-creation.
        if self.settings.kafka_create_topics:
            try:
                if not await producer.client.force_metadata_update():
                    raise ConnectionError("no metadata from the broker")
                missing = {r.destination for r in rows} - set(producer.client.cluster.topics())
                if missing:
                    await self._create_topics(producer, missing)
            except Exception as exc:  # leave the rows to their lease; retry after it
                log.warning("broker_metadata_failed", error=_describe(exc))
                await self._drop_producer()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.settings.outbox_lease_seconds)
                return -1
        groups: OrderedDict[tuple[str, str | None], list[Any]] = OrderedDict()
        for row in rows:
            groups.setdefault((row.destination, row.key), []).append(row)
        done: list[int] = []
        failures: list[tuple[Any, str]] = []

        async def send_group(group: list[Any]) -> None:
            for row in group:
                try:
                    await producer.send_and_wait(
                        row.destination,
                        row.payload,
                        key=row.key.encode() if row.key else None,
                        headers=[(k, v) for k, v in row.headers],
                    )
                except Exception as exc:  # stop this key: later rows must not overtake this one
                    failures.append((row, exc))
                    return
                done.append(row.id)

        await asyncio.gather(*(send_group(g) for g in groups.values()))
        await self._release(rows, done, failures)
        if failures:
            log.warning("publish_failed", failed=len(failures), published=len(done),
                        error=_describe(failures[0][1]),
                        rows=[(row.id, row.destination) for row, _ in failures][:20])
            await self._drop_producer()  # reconnect from scratch next round
            # Rows left unsent are leased until the lease ends; until then a later row of the same
            # key (beyond this batch) could be claimed before them. Wait the lease out.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.outbox_lease_seconds)
        self.published += len(done)
        if self.metrics is not None:
            done_set = set(done)
            for row in rows:
                # Label by message type, not topic: one topic per party would explode the series.
                mtype = dict(row.headers).get("type", b"?")
                label = f"kafka:{mtype.decode() if isinstance(mtype, bytes) else mtype}"
                self.metrics.routed.labels(label, "ok" if row.id in done_set else "error").inc()
        return len(done)

    async def _release(self, rows: list[Any], done: list[int], failures: list[tuple[Any, Exception]]) -> None:
        """Published rows are marked; a row refused by the broker itself counts as a failed
        attempt; rows that failed on a transient broker problem (or were held back behind a failed
        row of their key) are left to their short lease and retried in order."""
        permanent = [(row, exc) for row, exc in failures if not _transient(exc)]

        def write() -> None:
            if done:
                self.store.mark_published(done)
            for row, exc in permanent:
                self.store.mark_failed(row.id, _describe(exc))

        await anyio.to_thread.run_sync(write)

    async def run(self) -> None:
        """Publish until stopped; idle rounds sleep `outbox_poll_seconds`, failures back off."""
        backoff = self.settings.outbox_poll_seconds
        while not self._stop.is_set():
            try:
                if not await self.lease.held_async():
                    # Another instance publishes; stand by (and let go of the broker meanwhile).
                    await self._drop_producer()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), max(1.0, self.settings.outbox_lease_seconds))
                    continue
                n = await self.publish_round()
                if n > 0:
                    backoff = self.settings.outbox_poll_seconds
                    continue
                if n < 0:  # broker unreachable: back off, up to 2 s
                    backoff = min(max(backoff * 2, 0.1), 2.0)
                else:
                    backoff = self.settings.outbox_poll_seconds
            except Exception:
                log.error("publisher_round_failed", exc_info=True)
                await self._drop_producer()
                # Claimed rows stay leased: wait the lease out so order per key holds.
                backoff = max(min(backoff * 2, 5.0), self.settings.outbox_lease_seconds)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), backoff)

    async def stop(self) -> None:
        self._stop.set()
        await self._drop_producer()
        await anyio.to_thread.run_sync(self.lease.release)
