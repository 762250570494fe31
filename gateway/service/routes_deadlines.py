"""Deadlines over HTTP: the obligations a party has to meet (overdue, due soon) and those owed to
it. A party sees only obligations in which it is the acting party or the counterparty."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel

from gateway import clock
from gateway.auth.policy import Party
from gateway.deadlines import queries, scan
from gateway.deadlines.rules import by_id
from gateway.service.deps import current_party, in_thread
from gateway.service.errors import ApiError
from gateway.service.models import ErrorResponse

router = APIRouter(prefix="/v1/deadlines", tags=["deadlines"])

State = Literal["overdue", "due_soon", "open", "met", "late", "not_assessed"]


class ObligationItem(BaseModel):
    obligation: str
    op: str
    title: str | None = None
    message_id: str
    kind: str
    standard: str
    party: str
    counterparty: str
    opened: str
    due: str | None = None
    state: State
    closed_by: str | None = None
    closed: str | None = None
    note: str | None = None


class ObligationPage(BaseModel):
    party: str
    today: str
    role: Literal["actor", "counterparty"]
    items: list[ObligationItem]


def refresher(app: FastAPI) -> scan.Refresher:
    r = getattr(app.state, "deadline_refresher", None)
    if r is None:
        r = app.state.deadline_refresher = scan.Refresher()
    return r


def refresh(app: FastAPI) -> None:
    """Bring the obligations up to date (at most every 30 s; the scan is outside any message
    transaction)."""
    refresher(app).maybe(app.state.components.store)


@router.get("", response_model=ObligationPage, responses={401: {"model": ErrorResponse}},
            summary="Your obligations: overdue and due soon")
async def my_obligations(
    request: Request,
    state: list[State] = Query(["overdue", "due_soon"], description="States to list (repeat the parameter)."),
    role: Literal["actor", "counterparty"] = Query(
        "actor", description="actor: what you must send; counterparty: what others owe you."),
    obligation: str | None = Query(None, description="One obligation id (gateway/deadlines/obligations.yaml)."),
    limit: int = Query(200, ge=1, le=1000),
    party: Party = Depends(current_party),
) -> ObligationPage:
    """The obligations the stored messages opened for you (or toward you), oldest due date first.
    Working days exclude weekends and Dutch public holidays."""
    if obligation is not None and obligation not in by_id():
        raise ApiError(400, "unknown_obligation", f"no obligation {obligation!r}; see GET /v1/deadlines/obligations")
    await in_thread(refresh, request.app)
    store = request.app.state.components.store
    kw = {"parties": [party.party_id]} if role == "actor" else {"counterparty": party.party_id}
    items = await in_thread(queries.list_obligations, store, states=state, obligation=obligation, limit=limit, **kw)
    return ObligationPage(party=party.party_id, today=clock.today().isoformat(), role=role,
                          items=[ObligationItem(**i) for i in items])


@router.get("/obligations", summary="The obligations the gateway tracks, with their source")
async def obligations() -> list[dict]:
    """Every obligation as data: OP code, term, who acts, what closes it, and the source text."""
    return [o.model_dump(by_alias=True) for o in by_id().values()]


def install(app: FastAPI) -> None:
    """The router and the `gateway_obligations` gauge (read at scrape time, after a refresh)."""
    app.include_router(router)
    metrics = getattr(app.state, "metrics", None)
    if metrics is not None:
        metrics.registry.register(_Collector(app))


class _Collector:
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def describe(self):
        return []

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        g = GaugeMetricFamily("gateway_obligations", "Unresolved obligations by obligation and state "
                              "(overdue, due_soon, open).", labels=["obligation", "state"])
        try:
            refresh(self.app)
            found = queries.counts(self.app.state.components.store)
        except Exception:  # a scrape must not fail because the store is briefly away
            found = {}
        for ob in by_id():
            for st in queries.UNRESOLVED:
                g.add_metric([ob, st], found.get((ob, st), 0))
        yield g
