"""Catch-up scan: bring the `obligations` table up to date with the stored messages.

Runs outside the message transaction (the pipeline's hot path is untouched): from the CLI
(`gateway deadlines scan`), before an API or console read (at most every `min_interval` seconds)
or from a timer. Each run re-evaluates the window of messages that can still change an
obligation: the last `window_days`, and back to the oldest obligation still unresolved.

An obligation that becomes overdue puts one event on the acting party's stream (outbox,
destination "stream"): type `obligation.overdue`, a JSON payload, sent once.
"""

from __future__ import annotations

import json
import threading
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, insert, select, update

from gateway import clock
from gateway.deadlines import compute, facts
from gateway.store import STREAM
from gateway.store import tables as t

UNRESOLVED = ("open", "due_soon", "overdue")
OVERDUE_EVENT = "obligation.overdue"


@dataclass
class ScanResult:
    since: date
    facts: int = 0
    inserted: int = 0
    updated: int = 0
    newly_overdue: list[compute.Status] = field(default_factory=list)


def _now() -> datetime:
    return clock.now().astimezone(timezone.utc) if clock.now().tzinfo else clock.now().replace(tzinfo=timezone.utc)


def refresh(store, today: date | None = None, window_days: int = 90, soon: int = 2, notify: bool = True) -> ScanResult:
    today = today or clock.today()
    o = t.obligations
    with store.engine.connect() as conn:
        oldest = conn.execute(select(func.min(o.c.opened)).where(o.c.state.in_(UNRESOLVED))).scalar()
    since = today - timedelta(days=window_days)
    if oldest is not None and oldest < since:
        since = oldest - timedelta(days=14)  # the opening message may predate a late start date
    found = facts.load(store, since)
    statuses = compute.evaluate(found, today, soon)
    result = ScanResult(since=since, facts=len(found))
    now = _now()
    with store.engine.begin() as conn:
        existing = {}
        ids = list({s.message_id for s in statuses})
        for i in range(0, len(ids), 500):
            for row in conn.execute(select(o).where(o.c.message_id.in_(ids[i : i + 500]))).mappings():
                existing[(row["obligation"], row["message_id"])] = row
        for s in statuses:
            values = {
                "op": s.op, "kind": s.kind, "standard": s.standard, "party": s.party[:16],
                "counterparty": s.counterparty[:16], "client_key": s.client_key, "opened": s.opened,
                "due": s.due, "state": s.state, "closed_by": s.closed_by, "closed": s.closed,
                "note": (s.note or None) and s.note[:200],
            }
            row = existing.get((s.obligation, s.message_id))
            if row is None:
                conn.execute(insert(o).values(obligation=s.obligation, message_id=s.message_id, updated_at=now, **values))
                result.inserted += 1
                notified = None
            else:
                if any(row[k] != v for k, v in values.items()):
                    conn.execute(update(o).where(o.c.id == row["id"]).values(updated_at=now, **values))
                    result.updated += 1
                notified = row["overdue_notified_at"]
            if s.state == "overdue" and notified is None:
                result.newly_overdue.append(s)
                if notify:
                    _event(conn, s, now)
                    conn.execute(
                        update(o).where(o.c.obligation == s.obligation, o.c.message_id == s.message_id)
                        .values(overdue_notified_at=now)
                    )
    return result


def _event(conn, s: compute.Status, now: datetime) -> None:
    """One entry on the acting party's stream: the obligation, its due date and the message."""
    payload = {"event": OVERDUE_EVENT, **s.public()}
    payload.pop("client_key", None)  # pseudonymous, but the party needs no linkable key here
    headers = [
        ["message-id", s.message_id], ["type", OVERDUE_EVENT], ["kind", "event"],
        ["sender", "gateway"], ["receiver", s.party], ["content-type", "application/json"],
        ["obligation", s.obligation], ["op", s.op],
    ]
    conn.execute(
        insert(t.outbox).values(
            message_id=s.message_id, party=s.party, destination=STREAM, key=s.message_id,
            headers=headers, payload=json.dumps(payload, ensure_ascii=False).encode(), created_at=now,
        )
    )


class Refresher:
    """Runs `refresh` at most once per `min_interval` seconds (reads call it before they query)."""

    def __init__(self, min_interval: float = 30.0) -> None:
        self.min_interval = min_interval
        self._last: float | None = None
        self._day: date | None = None
        self._lock = threading.Lock()

    def maybe(self, store, today: date | None = None) -> ScanResult | None:
        """Scan unless one ran less than `min_interval` seconds ago on the same day (a new day
        changes states without any new message)."""
        today = today or clock.today()
        with self._lock:
            now = _time.monotonic()
            if self._last is not None and self._day == today and now - self._last < self.min_interval:
                return None
            result = refresh(store, today=today)
            self._last, self._day = _time.monotonic(), today
            return result
