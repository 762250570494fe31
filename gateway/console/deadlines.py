"""The console's deadlines page API: obligations filtered by region, party, obligation and state.

A region is the contract registry's (the municipalities of its bundle in effect today); a
row belongs to the region of its municipality (the party or the counterparty with a CBS code)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from gateway import clock
from gateway.console.auth import require
from gateway.console.context import context
from gateway.console.sessions import Session
from gateway.deadlines import queries, scan
from gateway.deadlines.rules import by_id

router = APIRouter(prefix="/api")


def _refresher(request: Request) -> scan.Refresher:
    """One per app (and so per store), shared with the API's deadline reads."""
    state = request.app.state
    if getattr(state, "deadline_refresher", None) is None:
        state.deadline_refresher = scan.Refresher()
    return state.deadline_refresher


def _municipality(row: dict) -> str | None:
    for p in (row["party"], row["counterparty"]):
        if len(p) == 4 and p.isdigit():
            return p
    return None


@router.get("/deadlines")
def deadlines(
    request: Request,
    region: str | None = None,
    party: str | None = Query(None, description="Acting party or counterparty (CBS or AGB code)"),
    obligation: str | None = None,
    state: list[str] = Query(["overdue", "due_soon"]),
    limit: int = Query(500, ge=1, le=1000),
    session: Session = Depends(require("read")),
) -> dict[str, Any]:
    ctx = context(request)
    _refresher(request).maybe(ctx.store)
    states = [s for s in state if s in queries.STATES] or list(queries.UNRESOLVED)
    rows = queries.list_obligations(ctx.store, states=states, obligation=obligation or None, limit=1000)
    registry = ctx.contracts
    today = clock.today()
    for r in rows:
        gemeente = _municipality(r)
        r["gemeente"] = gemeente
        r["region"] = registry.region_of(gemeente, today) if registry is not None and gemeente else None
    if party:
        rows = [r for r in rows if party in (r["party"], r["counterparty"])]
    if region:
        rows = [r for r in rows if r["region"] == region]
    return {
        "today": today.isoformat(),
        "items": rows[:limit],
        "facets": {
            "regions": registry.regions() if registry is not None else [],
            "obligations": [{"id": o.id, "op": o.op, "title": o.title} for o in by_id().values() if o.tracked],
            "states": list(queries.STATES),
        },
    }
