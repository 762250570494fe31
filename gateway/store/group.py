"""Group commit: concurrent messages share one store transaction.

Each caller hands its unit of work (a function of a `Transaction`) to `GroupCommit.run`. One of
the waiting callers, the leader, takes the queued units whose lock keys overlap neither each
other nor a group still running, runs them one after the other in one transaction, writes their
buffered rows with one executemany per table, and commits. Only then does each caller get its
result: "2xx means stored" holds, and the commit (an fsync on SQLite, a round trip on PostgreSQL)
is paid once per group instead of once per message.

Why buffering is safe: units in one group have disjoint lock keys, so none reads state another
writes (the same assumption that lets two gateway processes judge them at the same moment), and
a unit whose keys meet those of an earlier waiting unit waits behind it (per-key order holds).

A failure of the shared transaction is nobody's verdict: each unit of the group is then run
again in a transaction of its own, and only its own failure reaches its caller (a conflict is
retried by the pipeline, a store outage becomes a 503).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Work = Callable[[Any], Any]  # (Transaction) -> result


@dataclass(eq=False)
class _Unit:
    keys: frozenset[str]
    work: Work
    probe: tuple | None = None  # (sender, code, identificatie, sha256): its idempotency lookup
    alone: bool = False  # a large message: judged in a group of its own, holding up no other
    hint: Any = None  # gateway.store.state.StateHint: what its rules will read
    wake: Any = None  # its caller waits on this (a Condition on the committer's lock; made when it first waits)
    waiting: bool = False  # its caller waits and nobody has woken it yet
    done: bool = False
    result: Any = None
    error: BaseException | None = None


@dataclass
class GroupStats:
    """What the committer did (benchmarks and tests read it)."""

    groups: int = 0
    units: int = 0
    largest: int = 0
    split: int = 0  # groups whose shared transaction failed and whose units ran alone
    sizes: dict[int, int] = field(default_factory=dict)


class GroupCommit:
    """Runs units of work in shared transactions; `leaders` groups may run at once (PostgreSQL:
    each on its own connection, their advisory locks keep them apart; SQLite: writers serialise
    anyway, so one)."""

    def __init__(self, store: Any, *, max_group: int = 64, leaders: int = 1) -> None:
        self.store = store
        self.max_group = max(1, max_group)
        self.leaders = max(1, leaders)
        self.stats = GroupStats()
        self._lock = threading.Lock()
        self._queue: deque[_Unit] = deque()
        self._running = 0
        self._busy: set[str] = set()  # lock keys of the groups running now

    def run(self, lock_keys: Iterable[str], work: Work, probe: tuple | None = None, *,
            alone: bool = False, hint: Any = None) -> Any:
        """Run `work(tx)` in a (possibly shared) transaction; returns its result after the commit.
        `probe`: what its tx.find_same_message will ask, so the group asks it in one query.
        `alone`: run it in a transaction of its own (a large declaration takes seconds: the
        messages that would share its group should not wait for it).
        `hint`: what its rules will read (a StateHint), read for the whole group at once."""
        unit = _Unit(frozenset(lock_keys), work, probe, alone, hint)
        # Each caller is woken only when its unit is done, or when it is the oldest waiting and
        # a leader's place came free: waking every caller after every group (notify_all) cost
        # each message a few thread switches under the GIL for nothing.
        with self._lock:
            self._queue.append(unit)
            while not unit.done:
                group = self._take() if self._running < self.leaders else []
                if not group:
                    if unit.wake is None:  # (a caller that leads its own unit at once never waits: no Condition)
                        unit.wake = threading.Condition(self._lock)
                    unit.waiting = True
                    unit.wake.wait()
                    continue
                self._running += 1
                # (a group of one: its own keys, not a copy; a large 323 has 100,000 of them)
                keys = group[0].keys if len(group) == 1 else frozenset().union(*(u.keys for u in group))
                self._busy |= keys
                self._lead_next()  # PostgreSQL: another group may run beside this one
                self._lock.release()
                try:
                    self._run_group(group, keys)
                finally:
                    self._lock.acquire()
                    self._running -= 1
                    self._busy -= keys
                    for u in group:
                        u.done, u.waiting = True, False
                        if u.wake is not None:
                            u.wake.notify()
                    self._lead_next()
        if unit.error is not None:
            raise unit.error
        return unit.result

    def _lead_next(self) -> None:
        """Wake the oldest waiting caller when a leader's place is free: it takes the next group
        (called holding the lock). Its keys may be blocked; it then takes the units that are not,
        or waits again until the next group ends and wakes the oldest again. (A caller leading
        a group of others' units is not waiting: it looks again when that group ends.)"""
        if self._running < self.leaders:
            for u in self._queue:
                if u.waiting:
                    u.waiting = False
                    u.wake.notify()
                    return

    def _take(self) -> list[_Unit]:
        """The oldest waiting units that can share a transaction (called holding the lock)."""
        queue = self._queue
        if len(queue) == 1 and not self._busy:
            # one unit waiting and no group running (every message of a single sender): it is
            # the group, as the loop below would find, without its copies of the queue and keys
            return [queue.popleft()]
        group: list[_Unit] = []
        taken: set[str] = set()
        blocked = set(self._busy)  # keys of running groups and of units left waiting
        for unit in list(self._queue):
            if len(group) >= self.max_group:
                break
            if unit.keys & blocked or unit.keys & taken or (unit.alone and group):
                blocked |= unit.keys  # a later unit with one of these keys waits behind this one
                continue
            group.append(unit)
            if unit.alone:
                self._queue.remove(unit)
                break
            taken |= unit.keys
            self._queue.remove(unit)
        return group

    def _run_group(self, group: list[_Unit], keys: frozenset[str]) -> None:
        try:
            results = self._attempt(group, keys)
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
            else:
                self.stats.split += 1
                for unit in group:
                    try:
                        unit.result = self._attempt([unit], unit.keys)[0]
                    except Exception as alone:
                        unit.error = alone
            return
        except BaseException as exc:  # e.g. KeyboardInterrupt: no caller may wait for ever
            for unit in group:
                unit.error = exc
            raise
        for unit, result in zip(group, results, strict=True):
            unit.result = result

    def _attempt(self, group: list[_Unit], keys: frozenset[str]) -> list[Any]:
        results = []
        # a group of several: its lookups at once, one query per kind instead of one per message;
        # PostgreSQL a group of one too: its lookups then share the round trip of its lock. (Not
        # a SQLite group of one: an enveloped message asks its duplicate check with IB216's in one
        # statement, Transaction.find_same_or_repeat, which a lookup made beforehand would split.)
        several = len(group) > 1 or getattr(self.store, "dialect", None) == "postgresql"
        probes = [u.probe for u in group if u.probe is not None] if several else []
        hints = [u.hint for u in group if u.hint is not None] if several else []
        # a large message runs alone (`run`): its group's WAL is checkpointed beside the caller
        large = len(group) == 1 and group[0].alone
        with self.store.group_transaction(keys, probes, hints, large=large) as batch:
            for unit in group:
                results.append(unit.work(batch.transaction()))
        s, n = self.stats, len(group)
        s.groups += 1
        s.units += n
        if n > s.largest:
            s.largest = n
        s.sizes[n] = s.sizes.get(n, 0) + 1
        return results
