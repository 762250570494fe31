"""The threads that run the pipeline for the HTTP service (GATEWAY_PIPELINE_THREADS of them).

A pool of our own rather than anyio's worker threads and capacity limiter: the hop to a thread
and back is paid by every message on the event loop, and anyio's cost about 60 us of CPU
against 25 us. What anyio gave is kept: the request's context variables (its request id in the
pipeline's log lines) go along, a cancelled request keeps its place (its in-flight slot) until its
thread is done with the message, and the thread idle the shortest takes the next message.

That last one is about memory. Each thread allocates from its own malloc arena, and an arena
keeps what a message freed for that thread's next one. concurrent.futures' pool hands work to
its threads in turn, so under the byte budget (one large declaration judged at a time) every
thread in turn grew its arena to a declaration's size: a month-end burst of eight JW323s under a
16 MiB budget peaked at +741 MB instead of +254 MB. Taken most recently idle first, the same
thread (and arena) judges them one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_Job = tuple[Future, Callable[[], Any]]


class _Worker:
    __slots__ = ("job", "wake")

    def __init__(self, job: _Job) -> None:
        self.job: _Job | None = job
        # A lock held while the thread has nothing to do, released to wake it: the same as an
        # Event cleared and set, without the Event's Condition (Python code) on the event loop.
        self.wake = threading.Lock()
        self.wake.acquire()


class _Pool:
    """At most `size` threads; the most recently idle one takes a new job, jobs wait in arrival
    order while all are busy."""

    def __init__(self, size: int, name: str) -> None:
        self.size, self.name = size, name
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []  # a stack: the last one to become idle is woken first
        self._waiting: deque[_Job] = deque()
        self._threads = 0
        self._closed = False

    def submit(self, fn: Callable[[], Any]) -> Future:
        future: Future = Future()
        job = (future, fn)
        with self._lock:
            if self._idle:
                worker = self._idle.pop()
                worker.job = job
                worker.wake.release()
            elif self._threads < self.size:
                self._threads += 1
                threading.Thread(target=self._work, args=(_Worker(job),), daemon=True,
                                 name=f"{self.name}_{self._threads}").start()
            else:
                self._waiting.append(job)
        return future

    def _work(self, me: _Worker) -> None:
        while True:
            job, me.job = me.job, None
            if job is None:  # closed
                return
            future, fn = job
            result: Any = None
            error: BaseException | None = None
            if future.set_running_or_notify_cancel():
                try:
                    result = fn()
                except BaseException as exc:  # the caller gets it, as from concurrent.futures
                    error = exc
            # Idle again before the caller hears of it: its next message finds this thread first.
            with self._lock:
                if self._waiting:
                    me.job, idle = self._waiting.popleft(), False
                elif self._closed:
                    self._threads -= 1
                    idle = None
                else:
                    self._idle.append(me)
                    idle = True
            if future.running():
                if error is None:
                    future.set_result(result)
                else:
                    future.set_exception(error)
            del job, future, fn, result, error  # (what they hold would live until the next message)
            if idle is None:
                return
            if idle:
                me.wake.acquire()  # until a job (or close) releases it

    def close(self) -> None:
        """Idle threads end now, busy ones after their job (and the jobs waiting)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._threads -= len(idle)
        for worker in idle:
            worker.job = None
            worker.wake.release()


class PipelineThreads:
    def __init__(self, threads: int) -> None:
        # More threads than a few only add switching (their work holds the GIL), while the
        # messages beyond them wait (in flight, bounded) and the store's group commit still sees
        # them arrive together.
        self.threads = max(1, threads)
        self._pool: _Pool | None = None  # started with the first message
        # Results not yet handed to their event loop, by loop; one wake-up per loop takes them all.
        # Each as (waiter, result, error, cancelled), read from its Future in the thread that
        # judged it: each of those reads takes the Future's lock, on the event loop otherwise.
        self._ready: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future, Any, BaseException | None, bool]]] = {}
        self._ready_lock = threading.Lock()

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn()` in one of the threads, with this task's context; its result or its exception."""
        pool = self._pool
        if pool is None:
            pool = self._pool = _Pool(self.threads, "pipeline")
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        done = pool.submit(_in_context(fn))
        done.add_done_callback(lambda done: self._finished(loop, waiter, done))
        try:
            return await waiter
        except asyncio.CancelledError:
            # Not started yet: it never will be. Already judging: wait for the end (a message is
            # not half judged), then go.
            done.cancel()
            while not done.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait([asyncio.wrap_future(done)])
            raise

    def _finished(self, loop: asyncio.AbstractEventLoop, waiter: asyncio.Future, done: Future) -> None:
        """In the thread that judged it: queue the result for its loop, and wake the loop only
        when nothing was queued yet. Each wake-up is a write to the loop's self-pipe, a system
        call that lets go of the GIL; threads finishing while the loop is busy share one."""
        cancelled = done.cancelled()
        error = None if cancelled else done.exception()
        result = None if cancelled or error is not None else done.result()
        with self._ready_lock:
            ready = self._ready.setdefault(loop, [])
            ready.append((waiter, result, error, cancelled))
            if len(ready) > 1:
                return
        try:
            loop.call_soon_threadsafe(self._deliver, loop)
        except RuntimeError:  # the loop is closed: nobody waits any more
            with self._ready_lock:
                self._ready.pop(loop, None)

    def _deliver(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._ready_lock:
            ready = self._ready.pop(loop, ())
        for waiter, result, error, cancelled in ready:
            if cancelled or waiter.done():  # its request was cancelled
                continue
            if error is None:
                waiter.set_result(result)
            else:
                waiter.set_exception(error)

    def close(self) -> None:
        """Let the threads go; those judging a message finish it (an app started again, as tests
        do, gets new ones)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


def _in_context(fn: Callable[[], T]) -> Callable[[], T]:
    """`fn` to run in a copy of the calling task's context."""
    context = contextvars.copy_context()
    return lambda: context.run(fn)
