"""Declaration outcomes over HTTP: what happened to declaration X, prestatie Y, or client Z's care in
a month, and the totals per party and period, each in one call (gateway.store.outcomes).

The client question is a POST: a BSN does not belong in a URL, where proxies and access logs keep it.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from gateway.auth.policy import Party
from gateway.service.deps import current_party, in_thread
from gateway.service.errors import ApiError
from gateway.service.models import ErrorResponse
from gateway.store import outcomes
from gateway.store.clientkey import client_key

router = APIRouter(tags=["declarations"], responses={401: {"model": ErrorResponse}})
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _month(value: str) -> tuple[date, date]:
    m = _MONTH.match(value)
    if not m or not 1 <= int(m[2]) <= 12:
        raise ApiError(400, "bad_month", f"month {value!r} is not YYYY-MM")
    year, month = int(m[1]), int(m[2])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _law(value: str) -> str:
    if value not in outcomes.LAWS:
        raise ApiError(400, "bad_law", f"law {value!r}: use jeugd (ijw) or wmo (iwmo)")
    return outcomes.LAWS[value]


async def _read(request: Request, fn: Any, *args: Any) -> Any:
    store = request.app.state.components.store

    def run() -> Any:
        with store.engine.connect() as conn:
            return fn(conn, *args)

    return await in_thread(run)


@router.get("/v1/declarations/totals", summary="Declared, granted and rejected per party for a month")
async def declaration_totals(request: Request, month: str = Query(..., description="YYYY-MM: care in that month"),
                             party: Party = Depends(current_party)) -> dict[str, Any]:
    """Per law, gemeente and aanbieder (only those you are one of): eurocent declared for care in
    the month, granted and rejected (credits count negative), and how many prestaties."""
    first, last = _month(month)
    rows = await _read(request, outcomes.totals, party.party_id, first, last)
    return {"month": month, "party": party.party_id, "items": rows}


@router.get("/v1/declarations/{law}/{declaratienummer}", responses={404: {"model": ErrorResponse}},
            summary="A declaration and what happened to each prestatie")
async def declaration(law: str, declaratienummer: str, request: Request,
                      party: Party = Depends(current_party)) -> dict[str, Any]:
    """The 323, the municipality's 325 that answered it (when one came) and per prestatie its
    outcome: status, retourcodes, amount granted and the message that decided it."""
    found = await _read(request, outcomes.declaration, _law(law), declaratienummer, party.party_id)
    if found is None:
        raise ApiError(404, "not_found", f"no declaration {declaratienummer} of yours")
    return found


@router.get("/v1/prestaties/{law}/{referentienummer}", responses={404: {"model": ErrorResponse}},
            summary="What happened to one prestatie")
async def prestatie(law: str, referentienummer: str, request: Request,
                    party: Party = Depends(current_party)) -> dict[str, Any]:
    found = await _read(request, outcomes.prestatie, _law(law), referentienummer, party.party_id)
    if found is None:
        raise ApiError(404, "not_found", f"no prestatie {referentienummer} of yours")
    return found


class ClientQuestion(BaseModel):
    bsn: str = Field(pattern=r"^\d{9}$", description="The client's BSN (9 digits)")
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")


@router.post("/v1/declarations/client", summary="A client's declared care in a month")
async def client_month(question: ClientQuestion, request: Request,
                       party: Party = Depends(current_party)) -> dict[str, Any]:
    """Every prestatie of the client whose period overlaps the month, with its outcome and totals.
    The BSN is turned into the store's keyed client hash at once and is not kept or logged."""
    first, last = _month(question.month)
    key = client_key(request.app.state.components.store.secret, question.bsn)
    return await _read(request, outcomes.client_period, key, first, last, party.party_id)
