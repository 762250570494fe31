"""The in-flight bounds (gateway.service.limits): the number of messages, and the bytes of the
messages being judged, which is what bounds the gateway's memory at month-end."""

from __future__ import annotations

import asyncio

import pytest

from gateway import samples
from gateway.service.errors import ApiError
from gateway.service.limits import InFlight

from .conftest import make_app, make_settings, setup_parties


async def _hold(limits: InFlight, size: int, log: list, name: str, release: asyncio.Event) -> None:
    async with limits.room(size):
        log.append(name)
        await release.wait()


def _run(coro):  # noqa: ANN001, ANN202
    return asyncio.run(coro)


def test_a_message_that_does_not_fit_waits_until_enough_bytes_are_answered():
    async def main() -> None:
        limits, log = InFlight(64, 2, max_bytes=100), []
        first, second = asyncio.Event(), asyncio.Event()
        a = asyncio.create_task(_hold(limits, 70, log, "a", first))
        await asyncio.sleep(0)
        b = asyncio.create_task(_hold(limits, 70, log, "b", second))
        await asyncio.sleep(0.01)
        assert log == ["a"] and limits.bytes == 70 and limits.waiting == 1
        first.set()
        await asyncio.sleep(0.01)
        assert log == ["a", "b"] and limits.bytes == 70 and limits.waiting == 0
        second.set()
        await asyncio.gather(a, b)
        assert limits.bytes == 0

    _run(main())


def test_waiting_messages_are_admitted_in_arrival_order_and_small_ones_do_not_overtake():
    async def main() -> None:
        limits, log = InFlight(64, 2, max_bytes=100), []
        release = {n: asyncio.Event() for n in "abc"}
        a = asyncio.create_task(_hold(limits, 60, log, "a", release["a"]))
        await asyncio.sleep(0)
        b = asyncio.create_task(_hold(limits, 90, log, "b", release["b"]))  # does not fit next to a
        await asyncio.sleep(0)
        c = asyncio.create_task(_hold(limits, 10, log, "c", release["c"]))  # would fit, but b came first
        await asyncio.sleep(0.01)
        assert log == ["a"] and limits.waiting == 2
        release["a"].set()
        await asyncio.sleep(0.01)
        assert log == ["a", "b", "c"] and limits.bytes == 100
        release["b"].set()
        release["c"].set()
        await asyncio.gather(a, b, c)
        assert limits.bytes == 0

    _run(main())


def test_a_message_larger_than_the_budget_is_judged_when_it_is_the_only_one():
    async def main() -> None:
        limits, log = InFlight(64, 2, max_bytes=100), []
        small, huge = asyncio.Event(), asyncio.Event()
        s = asyncio.create_task(_hold(limits, 10, log, "small", small))
        await asyncio.sleep(0)
        h = asyncio.create_task(_hold(limits, 500, log, "huge", huge))
        await asyncio.sleep(0.01)
        assert log == ["small"]
        small.set()
        await asyncio.sleep(0.01)
        assert log == ["small", "huge"] and limits.bytes == 500
        huge.set()
        await asyncio.gather(s, h)
        assert limits.bytes == 0

    _run(main())


def test_a_message_that_waits_too_long_gets_503_and_holds_nothing():
    async def main() -> None:
        limits, log = InFlight(64, 7, max_bytes=100, wait_seconds=0.05), []
        release = asyncio.Event()
        a = asyncio.create_task(_hold(limits, 80, log, "a", release))
        await asyncio.sleep(0)
        with pytest.raises(ApiError) as refused:
            await _hold(limits, 80, log, "b", asyncio.Event())
        assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "7"}
        assert "GATEWAY_MAX_IN_FLIGHT_BYTES" in str(refused.value.message)
        assert log == ["a"] and limits.waiting == 0 and limits.bytes == 80
        release.set()
        await a
        assert limits.bytes == 0

    _run(main())


def test_a_waiting_message_whose_sender_leaves_holds_nothing_and_lets_the_next_in():
    async def main() -> None:
        limits, log = InFlight(64, 2, max_bytes=100), []
        release = {n: asyncio.Event() for n in "abc"}
        a = asyncio.create_task(_hold(limits, 60, log, "a", release["a"]))
        await asyncio.sleep(0)
        b = asyncio.create_task(_hold(limits, 90, log, "b", release["b"]))
        await asyncio.sleep(0)
        c = asyncio.create_task(_hold(limits, 30, log, "c", release["c"]))
        await asyncio.sleep(0.01)
        b.cancel()  # the client disconnected while its message waited
        await asyncio.sleep(0.01)
        assert log == ["a", "c"] and limits.bytes == 90 and limits.waiting == 0
        release["a"].set()
        release["c"].set()
        await asyncio.gather(a, c)
        with pytest.raises(asyncio.CancelledError):
            await b
        assert limits.bytes == 0

    _run(main())


def test_over_http_a_message_that_finds_the_budget_full_is_answered_503_and_nothing_is_stored(tmp_path, contracts):
    from fastapi.testclient import TestClient

    app = make_app(make_settings(tmp_path, max_in_flight_bytes=1000, in_flight_wait_seconds=0.1), contracts)
    keys = setup_parties(app)
    headers = {"Content-Type": "application/xml", "X-API-Key": keys.aanbieder}
    try:
        with TestClient(app) as client:
            app.state.in_flight.bytes = 1000  # other messages hold the whole budget
            r = client.post("/v1/messages", content=samples.request("ijw"), headers=headers)
            assert r.status_code == 503 and r.json()["error"]["code"] == "overloaded"
            assert r.headers["Retry-After"] == str(app.state.settings.retry_after_seconds)
            assert app.state.components.store.count_messages() == 0
            app.state.in_flight.bytes = 0
            r = client.post("/v1/messages", content=samples.request("ijw"), headers=headers)
            assert r.status_code == 202  # larger than the budget, but alone: judged
            assert app.state.in_flight.bytes == 0
    finally:
        app.state.components.store.close()


def test_a_message_over_the_size_limit_off_http_is_brs06_naming_the_limit(tmp_path, contracts):
    """Over HTTP the body is refused with 413 while it is read; a message that comes another way
    (Kafka, a zip entry) meets the same limit in the pipeline: stored as a transport rejection
    with the hubs' BRS06 (too large), not BRS14 (not well-formed), and the limit named."""
    app = make_app(make_settings(tmp_path, max_message_bytes=2000), contracts)
    try:
        raw = samples.allocation("ijw")
        assert len(raw) > 2000
        outcome = app.state.pipeline.process(raw, None, transport="kafka")
        assert outcome.verdict == "transport_rejected"
        assert outcome.transport_error.code == "BRS06"
        assert "at most 2000" in outcome.transport_error.message
        assert "GATEWAY_MAX_MESSAGE_BYTES" in outcome.transport_error.message
        assert app.state.components.store.count_messages() == 1
    finally:
        app.state.components.store.close()


def test_no_tree_of_a_judged_message_is_kept_alive(tmp_path, contracts):
    """A cache that holds one element of a message keeps its whole tree (lxml documents live as
    long as any of their elements): sixteen declarations of 100,000 prestaties kept that way were
    gigabytes at month-end. After the pipeline answered, no element of its messages is alive."""
    import gc

    from gateway.samples.large import large_declaration, large_declaration_allocations
    from lxml import etree

    app = make_app(make_settings(tmp_path), contracts)
    setup_parties(app)
    pipeline = app.state.pipeline

    def alive() -> list:
        gc.collect()
        return [o for o in gc.get_objects() if isinstance(o, etree._Element)
                and "jw3" in str(o.tag) and o.getparent() is None]

    try:
        before = len(alive())
        for raw in (*large_declaration_allocations("ijw", 200), large_declaration("ijw", 200)):
            outcome = pipeline.process(raw, None)
            assert outcome.verdict == "accepted", outcome.issues[:3]
        assert len(alive()) == before
    finally:
        app.state.components.store.close()
