"""Read the `obligations` table: lists per party, counts for the metric and the console.

States on read are those of the last scan; `scan.Refresher` keeps them current."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from gateway.deadlines.rules import by_id
from gateway.store import tables as t

STATES = ("overdue", "due_soon", "open", "met", "late", "not_assessed")
UNRESOLVED = ("overdue", "due_soon", "open")


def _row(r: Any) -> dict:
    ob = by_id().get(r["obligation"])
    return {
        "obligation": r["obligation"],
        "op": r["op"],
        "title": ob.title if ob else None,
        "message_id": r["message_id"],
        "kind": r["kind"],
        "standard": r["standard"],
        "party": r["party"],
        "counterparty": r["counterparty"],
        "opened": r["opened"].isoformat(),
        "due": r["due"].isoformat() if r["due"] else None,
        "state": r["state"],
        "closed_by": r["closed_by"],
        "closed": r["closed"].isoformat() if r["closed"] else None,
        "note": r["note"],
    }


def list_obligations(
    store,
    *,
    parties: Iterable[str] | None = None,
    counterparty: str | None = None,
    states: Iterable[str] = ("overdue", "due_soon"),
    obligation: str | None = None,
    limit: int = 200,
) -> list[dict]:
    """Obligations by due date (oldest first): of `parties` (who must act) and/or toward
    `counterparty`, in `states`, of one `obligation` id."""
    o = t.obligations
    q = select(o).where(o.c.state.in_(list(states)))
    if parties is not None:
        q = q.where(o.c.party.in_(list(parties)))
    if counterparty is not None:
        q = q.where(o.c.counterparty == counterparty)
    if obligation:
        q = q.where(o.c.obligation == obligation)
    q = q.order_by(o.c.due, o.c.id).limit(max(1, min(limit, 1000)))
    with store.engine.connect() as conn:
        return [_row(r) for r in conn.execute(q).mappings()]


def counts(store, states: Iterable[str] = UNRESOLVED) -> dict[tuple[str, str], int]:
    """(obligation, state) -> number of obligations, for the metric."""
    o = t.obligations
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(o.c.obligation, o.c.state, func.count()).where(o.c.state.in_(list(states)))
            .group_by(o.c.obligation, o.c.state)
        ).all()
    return {(r[0], r[1]): int(r[2]) for r in rows}
