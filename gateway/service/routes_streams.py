"""Streams for back offices without Kafka: the messages routed to a party and the retours of what
it sent, in order, read after an offset (HTTP pull or Server-Sent Events), acknowledged by position.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from gateway.auth.policy import Party
from gateway.service.deps import current_party, in_thread
from gateway.service.errors import ApiError
from gateway.service.models import Ack, AckResult, ErrorResponse, StreamEntry, StreamPage
from gateway.service.typed_views import JsonStreamPage, json_entry

router = APIRouter(prefix="/v1/streams", tags=["streams"])
_FORMAT = Query("xml", description="xml: each entry's message as XML text; json: its typed view "
                                   "(`content`), see GET /v1/messages/{id}/content.")
_ERRORS = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse,
                                                 "description": "Another party's stream."}}


def _own(party_id: str, party: Party) -> None:
    if party_id != party.party_id:
        raise ApiError(403, "not_your_stream",
                       f"you are {party.party_id}; you may only read and ack your own stream")


def _entry(item) -> StreamEntry:  # noqa: ANN001 (store StreamItem)
    headers = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in item.headers}
    return StreamEntry(
        position=item.position, message_id=headers.get("message-id", item.message_id),
        type=headers.get("type"), kind=headers.get("kind"), sender=headers.get("sender"),
        receiver=headers.get("receiver"), headers=headers,
        xml=item.payload.decode("utf-8"), created_at=item.created_at,
    )


async def _read(request: Request, party: str, after: int | None, limit: int) -> tuple[int, int, list[StreamEntry]]:
    store = request.app.state.components.store
    acked = await in_thread(store.stream_offset, party)
    start = acked if after is None else after
    items = await in_thread(store.read_stream, party, start, limit)
    return start, acked, [_entry(i) for i in items]


@router.get("/{party_id}", response_model=StreamPage | JsonStreamPage, responses=_ERRORS,
            summary="Read your stream")
async def read_stream(
    party_id: str,
    request: Request,
    after: int | None = Query(None, ge=0, description="Read after this position; default: your acked position."),
    limit: int = Query(100, ge=1, le=1000),
    format: Literal["xml", "json"] = _FORMAT,
    party: Party = Depends(current_party),
) -> StreamPage | JsonStreamPage:
    """Messages routed to you (accepted, and flagged ones if the gateway routes those) and the
    retours / 325s of the messages you sent, in order. Ack a position when processed."""
    _own(party_id, party)
    start, acked, items = await _read(request, party_id, after, limit)
    next_after = items[-1].position if items else start
    if format == "json":
        typed = await in_thread(lambda: [json_entry(i) for i in items])
        return JsonStreamPage(party=party_id, after=start, acked=acked, next_after=next_after, items=typed)
    return StreamPage(party=party_id, after=start, acked=acked, next_after=next_after, items=items)


@router.post("/{party_id}/ack", response_model=AckResult, responses=_ERRORS, summary="Acknowledge")
async def ack(party_id: str, body: Ack, request: Request,
              party: Party = Depends(current_party)) -> AckResult:
    """Move your acked position (it never moves back); the next read without `after` starts there."""
    _own(party_id, party)
    store = request.app.state.components.store
    acked = await in_thread(store.ack_stream, party_id, body.position)
    return AckResult(party=party_id, acked=acked)


@router.get("/{party_id}/sse", responses={**_ERRORS, 200: {"content": {"text/event-stream": {}},
            "description": "`id: <position>`, `event: message`, `data: <StreamEntry JSON>`"}},
            summary="Follow your stream (Server-Sent Events)")
async def sse(
    party_id: str,
    request: Request,
    after: int | None = Query(None, ge=0),
    last_event_id: str | None = Header(None, description="Resume after this position (SSE reconnect)."),
    format: Literal["xml", "json"] = _FORMAT,
    party: Party = Depends(current_party),
) -> StreamingResponse:
    """Server-Sent Events: every stream entry as it arrives; reconnecting with Last-Event-ID resumes."""
    _own(party_id, party)
    if last_event_id and last_event_id.isdigit():
        after = int(last_event_id)
    poll = request.app.state.settings.outbox_poll_seconds

    async def events() -> AsyncIterator[bytes]:
        position = after
        yield b": stream open\n\n"
        idle = 0.0
        while not await request.is_disconnected():
            start, _, items = await _read(request, party_id, position, 100)
            entries = await in_thread(lambda: [json_entry(i) for i in items]) if format == "json" else items
            for item in entries:
                yield (f"id: {item.position}\nevent: message\n"
                       f"data: {json.dumps(item.model_dump(mode='json'))}\n\n").encode()
            position = items[-1].position if items else start
            if not items:
                await asyncio.sleep(poll)
                idle += poll
                if idle >= 15:  # keep proxies from closing an idle stream
                    idle = 0.0
                    yield b": keep-alive\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
