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


async def test_the_thread_idle_the_shortest_takes_the_next_message():
    """One message after another goes to the same thread (its malloc arena keeps what the last
    one freed); a pool handing them out in turn grew every thread's arena to a declaration's size."""
    threads = PipelineThreads(4)
    try:
        await asyncio.gather(*(threads.run(lambda: threading.Event().wait(0.05)) for _ in range(4)))
        one_after_another = {await threads.run(threading.get_ident) for _ in range(20)}
        assert len(one_after_another) == 1
    finally:
        threads.close()


async def test_at_most_the_set_number_run_at_once_and_the_rest_are_taken_in_order():
    threads = PipelineThreads(2)
    lock, running, most, order = threading.Lock(), [0], [0], []

    def judge(n: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            order.append(n)  # the order they start in
        threading.Event().wait(0.02)
        with lock:
            running[0] -= 1
        return n

    try:
        results = await asyncio.gather(*(threads.run(lambda n=n: judge(n)) for n in range(8)))
        assert results == list(range(8)) and most[0] == 2
        # the waiting ones are taken in arrival order (two threads taking the next two may start
        # them the other way round)
        assert all(abs(order.index(n) - n) <= 1 for n in range(8)), order
    finally:
        threads.close()


async def test_results_finishing_while_the_loop_is_busy_share_one_wake_up():
    """Each wake-up of the event loop from a thread is a write to its self-pipe (a system call
    that lets go of the GIL): the results of threads finishing while the loop is busy are handed
    over by one, each to its own request, and a cancelled request's result to nobody (that
    request waited for its thread on its own)."""
    import time

    threads = PipelineThreads(4)
    loop = asyncio.get_running_loop()
    wakes = []
    real = loop.call_soon_threadsafe

    def counted(*args):  # type: ignore[no-untyped-def]
        wakes.append(args)
        return real(*args)

    go = threading.Event()

    def judge(n: int) -> int:
        go.wait(30)
        if n == 2:
            raise ValueError("refused")
        return n

    try:
        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
        tasks = [asyncio.create_task(threads.run(lambda n=n: judge(n))) for n in range(4)]
        await asyncio.sleep(0)  # all four submitted
        tasks[3].cancel()
        await asyncio.sleep(0)
        go.set()
        deadline = time.monotonic() + 30
        while len(threads._ready.get(loop, ())) < 4 and time.monotonic() < deadline:
            time.sleep(0.001)  # the loop is busy while the threads finish
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert results[:2] == [0, 1] and isinstance(results[2], ValueError)
        assert isinstance(results[3], asyncio.CancelledError)
        assert [args[0] for args in wakes].count(threads._deliver) == 1
    finally:
        loop.call_soon_threadsafe = real  # type: ignore[method-assign]
        go.set()
        threads.close()
