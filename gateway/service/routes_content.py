"""GET /v1/messages/{id}/content: a stored message's content, typed JSON or the XML as received.

Content negotiation on one endpoint: `Accept: application/json` (and the default) answers the
typed view (mappers' generated class as JSON), `Accept: application/xml` the stored bytes. A
message that does not map to its type (it was refused: not XML, or XSD-invalid) answers 422
`not_typed` with the reason; its XML stays available with `Accept: application/xml`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from gateway.auth.policy import Party
from gateway.service.deps import current_party, in_thread
from gateway.service.errors import ApiError
from gateway.service.models import ErrorResponse
from gateway.service.typed_views import MessageContent

router = APIRouter(prefix="/v1", tags=["messages"])


def _wants_xml(accept: str) -> bool:
    """XML only when asked for it and preferred over JSON (q-values honoured, first wins ties)."""
    best: dict[str, float] = {}
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        media = media.strip().lower()
        kind = ("xml" if media in ("application/xml", "text/xml") else
                "json" if media in ("application/json", "*/*", "application/*") else None)
        if kind and q > best.get(kind, -1):
            best[kind] = q
    return best.get("xml", 0) > 0 and best.get("xml", 0) > best.get("json", -1)


async def _own_record(request: Request, message_id: str, party: Party) -> Any:
    """The stored message, if `party` sent or received it (as GET /v1/messages/{id} decides)."""
    record = await in_thread(request.app.state.components.store.get_message, message_id)
    if record is None or party.party_id not in (record.sender, record.receiver, record.received_by):
        raise ApiError(404, "not_found", f"no message {message_id} of yours")
    return record


def _typed(message_id: str, raw: bytes) -> MessageContent:
    import mappers

    try:
        view = mappers.view_of(raw)
    except mappers.MappingError as exc:
        raise ApiError(422, "not_typed",
                       f"message {message_id} has no typed view: {exc}. The message as received is "
                       f"GET /v1/messages/{message_id}/content with Accept: application/xml") from None
    return MessageContent(message_id=message_id, **view)


@router.get(
    "/messages/{message_id}/content",
    response_model=MessageContent,
    responses={200: {"content": {"application/xml": {"schema": {"type": "string"}}},
                     "description": "The typed view (JSON), or the XML as received (Accept: application/xml)."},
               404: {"model": ErrorResponse},
               422: {"model": ErrorResponse, "description": "not_typed: the stored message does not map "
                     "to its type (a refused message); ask for application/xml."}},
    summary="A message's content (typed JSON or XML)",
)
async def get_content(message_id: str, request: Request, party: Party = Depends(current_party)) -> Any:
    """The content of a message you sent or received. JSON (default): the typed view, with dates,
    integers, amounts in eurocents and codes as code-list values. `Accept: application/xml`: the
    message exactly as the gateway received it."""
    record = await _own_record(request, message_id, party)
    raw = record.raw
    if raw is None:
        raise ApiError(404, "no_content", f"message {message_id} has no stored content")
    if _wants_xml(request.headers.get("accept", "")):
        return Response(raw, media_type="application/xml")
    return await in_thread(_typed, message_id, raw)
