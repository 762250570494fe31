"""A bounded number of messages in flight: beyond it the sender is told to come back (503 +
Retry-After) instead of queueing without bound. A 2xx always means stored, so nothing is lost."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from gateway.service.errors import ApiError


class InFlight:
    def __init__(self, limit: int, retry_after: int) -> None:
        self.limit = limit
        self.retry_after = retry_after
        self.busy = 0

    @contextlib.asynccontextmanager
    async def slot(self, n: int = 1) -> AsyncIterator[None]:
        # No await between the check and the increment: atomic on the event loop.
        if self.busy + n > self.limit:
            raise ApiError(
                503, "overloaded",
                f"the gateway is at its limit of {self.limit} messages in flight; "
                f"nothing was stored, retry after {self.retry_after} s",
                headers={"Retry-After": str(self.retry_after)},
            )
        self.busy += n
        try:
            yield
        finally:
            self.busy -= n
