"""Back-off for console logins: per user name and per client address.

After `free_failures` wrong passwords in a row for one user name (or `address_free_failures` from
one address, whatever the names), every further attempt waits: `base * 2**(n - free)` seconds,
at most `max_seconds`. While waiting, an attempt is refused with 429 and Retry-After before the
password is even checked, so guessing gains nothing. A correct login clears the user's count (the
address keeps its own until it goes quiet). Counts live in the process: each instance throttles
on its own; a count is forgotten after `max_seconds` of quiet.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from gateway import clock


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0
    locked_until: float = 0.0


@dataclass(frozen=True)
class Policy:
    free_failures: int = 5
    address_free_failures: int = 20
    base_seconds: float = 1.0
    max_seconds: float = 900.0


class LoginThrottle:
    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._counts: dict[tuple[str, str], _Count] = {}
        self._lock = threading.Lock()

    def _keys(self, user: str, address: str | None) -> list[tuple[tuple[str, str], int]]:
        keys = [(("user", user.strip().casefold()), self.policy.free_failures)]
        if address:
            keys.append((("address", address), self.policy.address_free_failures))
        return keys

    def wait_seconds(self, user: str, address: str | None) -> int:
        """0 when an attempt may be checked now; else how long the caller must wait."""
        now = clock.timestamp()
        with self._lock:
            self._forget(now)
            waits = [c.locked_until - now for k, _ in self._keys(user, address)
                     if (c := self._counts.get(k)) is not None and c.locked_until > now]
        return math.ceil(max(waits)) if waits else 0

    def failed(self, user: str, address: str | None) -> int:
        """Count a wrong password; returns the wait it imposes now (0: none yet)."""
        now = clock.timestamp()
        wait = 0.0
        with self._lock:
            for key, free in self._keys(user, address):
                c = self._counts.setdefault(key, _Count())
                c.failures += 1
                c.last = now
                if c.failures >= free:
                    delay = min(self.policy.base_seconds * 2 ** (c.failures - free), self.policy.max_seconds)
                    c.locked_until = now + delay
                    wait = max(wait, delay)
        return math.ceil(wait)

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._counts.pop(("user", user.strip().casefold()), None)

    def _forget(self, now: float) -> None:
        quiet = self.policy.max_seconds
        for key in [k for k, c in self._counts.items() if now - c.last > quiet and c.locked_until <= now]:
            del self._counts[key]
