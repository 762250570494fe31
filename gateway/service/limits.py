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

    def slot(self, n: int = 1) -> _Slot:
        """`n` of the places in flight, for an `async with` (503 when they are not free)."""
        return _Slot(self, n)

    def room(self, size: int) -> _Room:
        """Hold `size` bytes of the budget while a message is judged (waiting for them first)."""
        return _Room(self, size)

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


# Classes rather than contextlib.asynccontextmanager: every message enters both, and a
# generator-based manager costs several times as much per use on the event loop.
class _Slot:
    __slots__ = ("limits", "n")

    def __init__(self, limits: InFlight, n: int) -> None:
        self.limits, self.n = limits, n

    async def __aenter__(self) -> None:
        limits = self.limits
        # No await between the check and the increment: atomic on the event loop.
        if limits.busy + self.n > limits.limit:
            raise limits._overloaded(f"the gateway is at its limit of {limits.limit} messages in flight")
        limits.busy += self.n

    async def __aexit__(self, *exc: object) -> None:
        self.limits.busy -= self.n


class _Room:
    __slots__ = ("held", "limits", "size")

    def __init__(self, limits: InFlight, size: int) -> None:
        self.limits, self.size, self.held = limits, size, False

    async def __aenter__(self) -> None:
        limits = self.limits
        if limits.max_bytes is None or self.size <= 0:
            return
        await limits._admit(self.size)
        self.held = True

    async def __aexit__(self, *exc: object) -> None:
        if self.held:
            self.held = False
            self.limits.bytes -= self.size
            self.limits._wake()
