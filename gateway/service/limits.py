"""A bounded number of messages in flight: beyond it the sender is told to come back (503 +
Retry-After) instead of queueing without bound. A 2xx always means stored, so nothing is lost.

Besides their number, the bytes of the messages being judged are bounded (`max_bytes`): judging a
message takes 10 to 25 times its size in memory (its tree, its rules' records, its retour), so at
month-end sixty-four 25 MB declarations at once would need tens of GB. A message whose bytes do not
fit waits, in arrival order, until enough have been answered (or `wait_seconds`, then 503); one
message larger than the whole budget is judged when it is the only one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

from gateway.service.errors import ApiError


class InFlight:
    def __init__(self, limit: int, retry_after: int, max_bytes: int | None = None,
                 wait_seconds: float = 30.0) -> None:
        self.limit = limit
        self.retry_after = retry_after
        self.max_bytes = max_bytes
        self.wait_seconds = wait_seconds
        self.busy = 0
        self.bytes = 0  # of the messages being judged now
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()

    @property
    def waiting(self) -> int:
        """Messages read and waiting for room in the byte budget."""
        return len(self._waiting)

    @contextlib.asynccontextmanager
    async def slot(self, n: int = 1) -> AsyncIterator[None]:
        # No await between the check and the increment: atomic on the event loop.
        if self.busy + n > self.limit:
            raise self._overloaded(f"the gateway is at its limit of {self.limit} messages in flight")
        self.busy += n
        try:
            yield
        finally:
            self.busy -= n

    @contextlib.asynccontextmanager
    async def room(self, size: int) -> AsyncIterator[None]:
        """Hold `size` bytes of the budget while a message is judged (waiting for them first)."""
        if self.max_bytes is None or size <= 0:
            yield
            return
        await self._admit(size)
        try:
            yield
        finally:
            self.bytes -= size
            self._wake()

    async def _admit(self, size: int) -> None:
        if not self._waiting and self._fits(size):
            self.bytes += size
            return
        admitted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (size, admitted)
        self._waiting.append(entry)
        try:
            await asyncio.wait_for(admitted, self.wait_seconds)
        except BaseException as exc:
            if admitted.done() and not admitted.cancelled():  # admitted as it gave up: give it back
                self.bytes -= size
            else:
                with contextlib.suppress(ValueError):
                    self._waiting.remove(entry)
            self._wake()  # those behind it may fit now
            if isinstance(exc, TimeoutError):
                raise self._overloaded(
                    f"the messages being judged hold the gateway's memory budget of {self.max_bytes} bytes "
                    f"(GATEWAY_MAX_IN_FLIGHT_BYTES) and this one waited {self.wait_seconds:g} s") from None
            raise

    def _fits(self, size: int) -> bool:
        return self.bytes == 0 or self.bytes + size <= (self.max_bytes or 0)

    def _wake(self) -> None:
        """Admit waiting messages in arrival order while the first of them fits."""
        while self._waiting and self._fits(self._waiting[0][0]):
            size, admitted = self._waiting.popleft()
            if admitted.done():  # it gave up already
                continue
            self.bytes += size
            admitted.set_result(None)

    def _overloaded(self, why: str) -> ApiError:
        return ApiError(
            503, "overloaded", f"{why}; nothing was stored, retry after {self.retry_after} s",
            headers={"Retry-After": str(self.retry_after)},
        )
