"""The pipeline's threads (gateway.service.threads): what anyio's worker threads gave is kept."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from gateway.service.threads import PipelineThreads

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


async def test_the_request_context_goes_along_and_errors_come_back():
    threads = PipelineThreads(2)
    try:
        request_id.set("abc")
        seen, name = await threads.run(lambda: (request_id.get(), threading.current_thread().name))
        assert seen == "abc" and name.startswith("pipeline") and name != threading.current_thread().name

        def fails() -> None:
            raise ValueError("refused")

        with pytest.raises(ValueError, match="refused"):
            await threads.run(fails)
    finally:
        threads.close()


async def test_a_cancelled_request_holds_its_place_until_its_message_is_judged():
    """Cancelling the request does not free its in-flight slot while its thread still runs."""
    threads = PipelineThreads(1)
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def judge() -> str:
        started.set()
        release.wait(30)
        finished.set()
        return "stored"

    try:
        task = asyncio.create_task(threads.run(judge))
        while not started.is_set():
            await asyncio.sleep(0.001)
        task.cancel()
        for _ in range(20):
            await asyncio.sleep(0)
        assert not task.done()  # still waiting for its thread
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert finished.is_set()
    finally:
        release.set()
        threads.close()


async def test_closed_threads_start_again_for_an_app_started_again():
    threads = PipelineThreads(1)
    assert await threads.run(lambda: 1) == 1
    threads.close()
    assert await threads.run(lambda: 2) == 2
    threads.close()
