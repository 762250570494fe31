"""The threads that run the pipeline for the HTTP service (GATEWAY_PIPELINE_THREADS of them).

A plain executor rather than anyio's worker threads and capacity limiter: the hop to a thread
and back is paid by every message on the event loop, and anyio's cost about 60 us of CPU
against 25 us. What anyio gave is kept: the request's context variables (its request id in the
pipeline's log lines) go along, and a cancelled request keeps its place (its in-flight slot)
until its thread is done with the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class PipelineThreads:
    def __init__(self, threads: int) -> None:
        # More threads than a few only add switching (their work holds the GIL), while the
        # messages beyond them wait (in flight, bounded) and the store's group commit still sees
        # them arrive together.
        self.threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None  # started with the first message

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn()` in one of the threads, with this task's context; its result or its exception."""
        pool = self._pool
        if pool is None:
            pool = self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="pipeline")
        done = pool.submit(contextvars.copy_context().run, fn)
        try:
            return await asyncio.wrap_future(done)
        except asyncio.CancelledError:
            # Already judging: wait for the end (a message is not half judged), then go.
            while not done.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait([asyncio.wrap_future(done)])
            raise

    def close(self) -> None:
        """Let the threads go; those judging a message finish it (an app started again, as tests
        do, gets new ones)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)
