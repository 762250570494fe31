"""POST /v1/messages (one XML message), POST /v1/batches (a zip), GET /v1/messages/{id}[/retour]."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from gateway import clock
from gateway.auth.batched import BatchedKeyLookup
from gateway.auth.policy import Party, Refused
from gateway.catalog import by_code
from gateway.ggk import answers
from gateway.ggk.errors import EnvelopeError
from gateway.ingress.zipbatch import ZipLimits, unpack
from gateway.observability import ACCESS_LINE, get_logger
from gateway.pipeline import Outcome
from gateway.routing.status import routing_state, routing_state_at_answer
from gateway.service.bodies import read_limited
from gateway.service.deps import Credential, authenticates_itself, current_party, in_thread, message_credential
from gateway.service.errors import ApiError
from gateway.service.models import (
    BatchEntry,
    BatchResult,
    ErrorDetail,
    ErrorResponse,
    MessageReceived,
    MessageView,
    TransportRejected,
)
from gateway.xmlparse import hardened_parser
from validators.paths import child, text

router = APIRouter(prefix="/v1", tags=["messages"])
log = get_logger("gateway.ingress")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No, an unknown or a revoked API key / certificate."},
    403: {"model": ErrorResponse, "description": "Spoofed Afzender, or a message type your role may not send."},
    413: {"model": ErrorResponse, "description": "Larger than 25 MB."},
    503: {"model": ErrorResponse, "description": "Overloaded: nothing stored; retry after Retry-After seconds."},
}
_XML_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/xml": {"schema": {"type": "string"}, "example":
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Bericht xmlns=\"http://www.istandaarden.nl/"
                    "ijw/3_2/jw305/schema\"><Header><BerichtCode>438</BerichtCode>...</Header>...</Bericht>"}},
    }
}
_ZIP_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def received(outcome: Outcome, kafka: bool) -> MessageReceived:
    mid = outcome.message_id or ""
    links = {"self": f"/v1/messages/{mid}"}
    if outcome.retour is not None:
        links["retour"] = f"/v1/messages/{mid}/retour"
    if outcome.envelope and outcome.envelope.get("answer"):
        links["envelope_answer"] = f"/v1/messages/{mid}/retour/envelope"
        if outcome.duplicate:  # perhaps a further envelope around it: the answer to this one
            links["envelope_answer"] += f"?referentienummer={outcome.envelope['referentienummer']}"
    return MessageReceived(
        message_id=mid,
        verdict=outcome.verdict,
        code=outcome.code,
        sender=outcome.sender,
        receiver=outcome.receiver,
        duplicate=outcome.duplicate,
        routing_state=routing_state_at_answer(outcome.routed, kafka),
        issues=outcome.issues,
        retour_code=outcome.retour_code,
        # LF inside JSON, like every other text in it; the CR/LF file is GET .../retour
        retour=outcome.retour.decode("utf-8").replace("\r\n", "\n") if outcome.retour else None,
        correlation=outcome.correlation,
        envelope=outcome.envelope,
        links=links,
    )


def rejected(outcome: Outcome) -> TransportRejected:
    err = outcome.transport_error
    return TransportRejected(
        error=ErrorDetail(code=err.code, message=err.message, path=err.path, line=err.line)
        if err else ErrorDetail(code="rejected", message="message refused"),
        message_id=outcome.message_id,
        issues=outcome.issues,
        envelope=outcome.envelope,
        links={"envelope_answer": f"/v1/messages/{outcome.message_id}/retour/envelope"}
        if outcome.envelope and outcome.envelope.get("answer") else None,
    )


def rejected_body(outcome: Outcome) -> dict[str, Any]:
    """The 422 body; `envelope` and `links` only for an enveloped message."""
    body = rejected(outcome).model_dump(mode="json")
    if outcome.envelope is None:  # the bare message's 422 keeps its shape
        body.pop("envelope")
        body.pop("links")
    return body


def _key_lookup(request: Request) -> BatchedKeyLookup | None:
    """The app's shared key lookup (None for a store without an engine: one by one)."""
    state = request.app.state
    lookup = getattr(state, "key_lookup", None)
    store = state.components.store
    if lookup is None and getattr(store, "engine", None) is not None:
        lookup = state.key_lookup = BatchedKeyLookup(store)
    return lookup


async def _process(request: Request, raw: bytes, sender: Party | Credential, transport: str) -> Outcome:
    """Run the pipeline in one of its threads; a Credential is authenticated there first, in the
    same hop (see deps.KnownCredentials): a refusal answers 401 with nothing processed."""
    pipeline = request.app.state.pipeline
    metrics = getattr(request.app.state, "metrics", None)
    started = clock.now()
    lookup = _key_lookup(request) if isinstance(sender, Credential) else None

    def run() -> Outcome:
        party = sender
        if isinstance(sender, Credential):
            try:
                party = sender.authenticate(request.app.state.components.store, lookup)
            except Refused:
                request.app.state.known_credentials.discard(sender.cache_key())
                raise
        return pipeline.process(raw, party, started, transport=transport)

    outcome: Outcome = await request.app.state.pipeline_threads.run(run)
    if metrics is not None:
        seconds = (clock.now() - started).total_seconds()
        standard = by_code(outcome.code).standard if outcome.code else "unknown"
        metrics.record_message(
            standard, outcome.code or "unknown", outcome.verdict, seconds,
            [i["rule"] for i in outcome.issues if i.get("severity") == "error"],
        )
    _log_processed(request, outcome, transport)
    return outcome


def _log_processed(request: Request, outcome: Outcome, transport: str) -> None:
    """The message's `message_processed` line. For POST /v1/messages it is the request's access
    line too (observability.ACCESS_LINE: method, path, status, duration and request id added),
    written when the answer starts: one line per message, not two."""
    fields: dict[str, Any] = {"code": outcome.code, "verdict": outcome.verdict, "duplicate": outcome.duplicate,
                              "routed": outcome.routed, "sender": outcome.sender, "receiver": outcome.receiver,
                              "transport": transport}
    client_key = (outcome.correlation.client_keys or [None])[0]
    if client_key is not None:
        fields["client_key"] = client_key
    if outcome.message_id is not None:
        fields["message_id"] = outcome.message_id
    access = request.scope.get(ACCESS_LINE) if transport == "http" else None
    if access is not None:
        access.update(fields, event="message_processed")
    else:
        log.info("message_processed", **fields)


@router.post(
    "/messages",
    status_code=202,
    response_model=MessageReceived,
    responses={**_ERRORS, 422: {"model": TransportRejected,
                                "description": "Not XML, not a 3.2 message, or invalid against the XSD: "
                                               "stored, but no retourbericht exists for it."}},
    openapi_extra=_XML_BODY,
    summary="Send one message",
)
@authenticates_itself
async def post_message(request: Request) -> Any:
    """Send one iJw/iWmo 3.2 message (the XML as the body). The gateway validates it, stores it and
    answers with the retourbericht (or, for a 323, the 325); an accepted message is routed to its
    receiver. The same message sent twice gets the same answer (`duplicate: true`).

    The body may also be the message in its StUF-GGk envelope (a `ggk0210-Di01` or `ggk0210-Du01`,
    recognised by its root element). The envelope is checked (a refused envelope: 422 with its
    code, e.g. `REFERENCE_NOT_UUID4` / IB009, nothing stored), its zender must be you, and its
    payload is processed as above. The answer says `envelope: {referentienummer, ...}`; the retour
    in its Du01 (or the Fo01 StUF055 for a payload failing its XSD) is GET .../retour/envelope.

    A StUF `Fo01` (an error the chain reports about an envelope) is stored too, linked to the message
    whose envelope its crossRefnummer names: 202 with `{"fo01": {fo01_id, linked_message_id, code,
    ...}}` (see GET /v1/messages/{id}/answers and GET /v1/ggk/fo01)."""
    # Not a FastAPI dependency: solving one per request cost more than what it does.
    credential = await message_credential(request)
    limits = request.app.state.in_flight
    raw = await read_limited(request, request.app.state.settings.max_message_bytes, "message")
    async with limits.slot(), limits.room(len(raw)):
        try:
            outcome = await _process(request, raw, credential, "http")
        except EnvelopeError as exc:  # a Fo01 is no envelope with a message: stored on its own
            if exc.error.code != "NOT_AN_ENVELOPE" or not answers.is_fo01(raw):
                raise
            store = request.app.state.components.store
            fo01 = await in_thread(lambda: answers.receive_fo01(store, raw, credential.authenticate(store), "http"))
            return JSONResponse({"fo01": fo01.summary()}, 202)
    if outcome.verdict == "transport_rejected":
        return JSONResponse(rejected_body(outcome), 422)
    # The model serialises itself: handing FastAPI the model would validate it again against the
    # response_model and encode it twice over (the same JSON, at a cost per message).
    body = received(outcome, bool(request.app.state.settings.kafka_bootstrap)).model_dump_json()
    return Response(body, 202, media_type="application/json")


@router.post(
    "/batches",
    response_model=BatchResult,
    responses={**_ERRORS, 422: {"model": ErrorResponse,
                                "description": "The zip itself is refused (bomb, nesting, paths, count)."}},
    openapi_extra=_ZIP_BODY,
    summary="Send a zip of messages",
)
async def post_batch(request: Request, party: Party = Depends(current_party)) -> BatchResult:
    """Send a zip with up to 30 messages (.xml files; 25 MB), as the hubs deliver them. Each entry
    is processed like POST /v1/messages; the answer lists every entry's result in zip order."""
    s = request.app.state.settings
    raw = await read_limited(request, s.max_zip_bytes, "zip")
    entries = unpack(raw, ZipLimits(s.max_zip_bytes, s.max_zip_entries, s.max_message_bytes,
                                    s.max_zip_uncompressed_bytes, s.max_zip_ratio))
    results: list[BatchEntry] = []
    async with request.app.state.in_flight.slot(min(len(entries), request.app.state.in_flight.limit)):
        for entry in entries:
            try:
                async with request.app.state.in_flight.room(len(entry.data)):
                    outcome = await _process(request, entry.data, party, "batch")
            except Refused as exc:
                results.append(BatchEntry(name=entry.name, status=exc.status,
                                          error=ErrorDetail(code=exc.code, message=exc.reason)))
                continue
            except EnvelopeError as exc:
                if exc.error.code == "NOT_AN_ENVELOPE" and answers.is_fo01(entry.data):
                    # a Fo01 is stored on its own, as over POST /v1/messages, SOAP and Kafka
                    results.append(await _batch_fo01(request, entry.name, entry.data, party))
                    continue
                results.append(_envelope_refused(entry.name, exc))
                continue
            if outcome.verdict == "transport_rejected":
                rej = rejected(outcome)
                results.append(BatchEntry(name=entry.name, status=422, message_id=outcome.message_id,
                                          verdict=outcome.verdict, code=outcome.code,
                                          error=rej.error, issues=outcome.issues))
            else:
                results.append(BatchEntry(name=entry.name, status=202, message_id=outcome.message_id,
                                          verdict=outcome.verdict, code=outcome.code,
                                          retour_code=outcome.retour_code, duplicate=outcome.duplicate,
                                          issues=outcome.issues))
    stored = sum(1 for r in results if r.message_id or r.fo01)
    return BatchResult(entries=results, stored=stored, refused=len(results) - stored)


def _envelope_refused(name: str, exc: EnvelopeError) -> BatchEntry:
    err = exc.error
    return BatchEntry(name=name, status=422, error=ErrorDetail(
        code=err.code, message=f"{err.stuf_code}: {err.text}", path=err.path, line=err.line))


async def _batch_fo01(request: Request, name: str, raw: bytes, party: Party) -> BatchEntry:
    """A zip entry holding a Fo01: checked and stored (linked by its crossRefnummer, or unlinked)
    as POST /v1/messages does; a broken Fo01, IB216 or a stranger zender is refused for this entry."""
    try:
        fo01 = await in_thread(answers.receive_fo01, request.app.state.components.store, raw, party, "batch")
    except EnvelopeError as exc:
        return _envelope_refused(name, exc)
    except Refused as exc:
        return BatchEntry(name=name, status=exc.status, error=ErrorDetail(code=exc.code, message=exc.reason))
    return BatchEntry(name=name, status=202, code="Fo01", duplicate=fo01.duplicate, fo01=fo01.summary())


async def _own_message(request: Request, message_id: str, party: Party) -> Any:
    store = request.app.state.components.store
    record = await in_thread(store.get_message, message_id)
    involved = record is not None and party.party_id in (record.sender, record.receiver, record.received_by)
    if not involved:
        # Not found and not yours look the same: ids of others' messages are not confirmed.
        raise ApiError(404, "not_found", f"no message {message_id} of yours")
    return record


@router.get("/messages/{message_id}", response_model=MessageView,
            responses={404: {"model": ErrorResponse}, 401: _ERRORS[401]}, summary="A message's status")
async def get_message(message_id: str, request: Request, party: Party = Depends(current_party)) -> MessageView:
    """Verdict, issues and routing state of a message you sent or received."""
    r = await _own_message(request, message_id, party)
    return MessageView(
        message_id=r.id, received_at=r.received_at, code=r.code, sender=r.sender, receiver=r.receiver,
        verdict=r.verdict, identificatie=r.identificatie,
        issues=[{k: i.get(k) for k in ("rule", "severity", "path", "locations", "line", "text")} for i in r.issues],
        retour_available=r.retour is not None or r.retour_identificatie is not None,
        client_key=r.client_key, allocation_numbers=list(r.allocation_numbers or []),
        routing_state=routing_state(r.routing_state, r.receiver,
                                    request.app.state.components.store.deliveries(r.id)),
        transport=r.transport,
        envelope=_envelope_view(await in_thread(request.app.state.components.store.get_envelope, r.id)),
    )


def _envelope_view(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    keys = ("berichtcode", "referentienummer", "cross_refnummer", "zender", "ontvanger", "functie",
            "functie_versie", "functie_subversie", "applicatie_versie", "applicatie_subversie",
            "tijdstip_bericht")
    return {k: row[k] for k in keys} | {"answer": row["answer_code"],
                                        "answer_referentienummer": row["answer_referentienummer"]}


@router.get("/messages/{message_id}/retour",
            responses={200: {"content": {"application/xml": {}}, "description": "The retourbericht / 325"},
                       404: {"model": ErrorResponse}},
            response_class=Response, summary="The retour of a message")
async def get_retour(message_id: str, request: Request, party: Party = Depends(current_party)) -> Response:
    """The retourbericht (302/306/308/316/318/320) or 325 the gateway produced for the message."""
    r = await _own_message(request, message_id, party)
    if not r.retour:
        raise ApiError(404, "no_retour", f"message {message_id} has no retour "
                       "(transport rejections, retours and 325s get none)")
    return Response(r.retour, media_type="application/xml")


async def _envelope_row(request: Request, message_id: str, referentienummer: str | None) -> dict[str, Any] | None:
    """The envelope row of a message: the one it arrived in, or the one with `referentienummer`."""
    store = request.app.state.components.store
    if referentienummer is None:
        return await in_thread(store.get_envelope, message_id)
    from gateway.store import ggk as ggk_store

    return await in_thread(ggk_store.envelope_of, store, message_id, referentienummer)


@router.get("/messages/{message_id}/retour/envelope",
            responses={200: {"content": {"application/xml": {}},
                             "description": "The Du01 around the retour, or the Fo01 StUF055"},
                       404: {"model": ErrorResponse}},
            response_class=Response, summary="The answer to an enveloped message, in its envelope")
async def get_retour_envelope(message_id: str, request: Request, referentienummer: str | None = None,
                              party: Party = Depends(current_party)) -> Response:
    """For a message sent in a Di01: the ggk0210-Du01 carrying its retour (crossRefnummer = the
    Di01's referentienummer), or, when the payload failed its XSD, the Fo01 with StUF055.
    `referentienummer`: the answer to that envelope of the message (the same message sent again in
    a further Di01 is answered with a Du01 of its own)."""
    await _own_message(request, message_id, party)
    row = await _envelope_row(request, message_id, referentienummer)
    if row is None or not row.get("answer"):
        raise ApiError(404, "no_envelope_answer", f"message {message_id} has no answer in an envelope "
                       "(it came without one, or in a Du01, which is not answered)")
    return Response(row["answer"], media_type="application/xml",
                    headers={"X-StUF-Berichtcode": row["answer_code"] or ""})


@router.get("/messages/{message_id}/envelope",
            responses={200: {"content": {"application/xml": {}}, "description": "The Di01/Du01 as received"},
                       404: {"model": ErrorResponse}},
            response_class=Response, summary="The envelope a message arrived in")
async def get_envelope(message_id: str, request: Request, referentienummer: str | None = None,
                       party: Party = Depends(current_party)) -> Response:
    """The ggk0210-Di01/Du01 exactly as received (the message itself is GET /v1/messages/{id});
    `referentienummer`: a further envelope that brought the same message again."""
    await _own_message(request, message_id, party)
    row = await _envelope_row(request, message_id, referentienummer)
    if row is None:
        raise ApiError(404, "no_envelope", f"message {message_id} did not arrive in an envelope")
    return Response(row["envelope"], media_type="application/xml")


class ChainEntry(BaseModel):
    message_id: str
    received_at: datetime
    code: str | None
    sender: str | None
    receiver: str | None
    verdict: str
    allocation_numbers: list[str]


class Chain(BaseModel):
    """A client's chain as far as you are part of it: allocation -> start -> stop -> declaration
    -> 325, linked by the client key (a keyed hash of the BSN) and the ToewijzingNummers; a 325
    is linked to its 323 by DeclaratieIdentificatie."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "message_id": "01JD3Z8Q7W2V6N4K9M1B5C8X0R", "client_key": "5f1c...e2",
        "declaration": None,
        "messages": [{"message_id": "01JD3Z8Q7W2V6N4K9M1B5C8X0R", "received_at": "2026-11-22T10:15:00Z",
                      "code": "JW301", "sender": "0513", "receiver": "12345678", "verdict": "accepted",
                      "allocation_numbers": ["123456"]}]}})
    message_id: str
    client_key: str | None
    declaration: str | None = Field(None, description="For a 325: the message id of its 323.")
    messages: list[ChainEntry]


def _chain(store: Any, record: Any, party: Party) -> Chain:
    """Linked by the client key (messages of one client) and, for declarations (which may hold
    several clients and carry no single key), by the ToewijzingNummers between the same pair."""
    from sqlalchemy import or_, select

    from gateway.store import tables as t

    m = t.messages
    pair = [p for p in (record.sender, record.receiver) if p]
    declaration = None
    with store.engine.connect() as conn:
        # The recent messages between this gemeente and aanbieder (bounded: an API view).
        rows = conn.execute(
            select(m.c.id, m.c.code, m.c.client_key, m.c.allocation_numbers)
            .where(m.c.sender.in_(pair), m.c.receiver.in_(pair), m.c.verdict != "transport_rejected",
                   or_(m.c.replay_of.is_(None), m.c.id == record.id))
            .order_by(m.c.received_at.desc()).limit(1000)
        ).all()
        if record.code and record.code.endswith("325") and record.raw:
            root = etree.fromstring(record.raw, hardened_parser())
            ident = text(child(root, "Header"), "DeclaratieIdentificatie", "Identificatie")
            declaration = conn.execute(
                select(m.c.id).where(m.c.code.like("%323"), m.c.sender == record.receiver,
                                     m.c.identificatie == ident).limit(1)
            ).scalar()
    numbers = set(record.allocation_numbers or [])
    keys = {record.client_key} if record.client_key else set()
    if not keys:
        keys = {r[2] for r in rows if r[2] and numbers & set(r[3] or [])}
    numbers |= {n for r in rows if r[2] in keys for n in (r[3] or [])}
    ids = {r[0] for r in rows if (r[2] and r[2] in keys) or numbers & set(r[3] or [])}
    ids |= {record.id} | ({declaration} if declaration else set())
    related = [x for x in (store.get_message(i, with_bytes=False) for i in ids) if x is not None]
    mine = sorted((r for r in related if party.party_id in (r.sender, r.receiver)),
                  key=lambda r: (r.received_at, r.id))
    return Chain(
        message_id=record.id, client_key=record.client_key or (next(iter(keys)) if len(keys) == 1 else None),
        declaration=declaration,
        messages=[ChainEntry(message_id=r.id, received_at=r.received_at, code=r.code, sender=r.sender,
                             receiver=r.receiver, verdict=r.verdict,
                             allocation_numbers=list(r.allocation_numbers or [])) for r in mine],
    )


@router.get("/messages/{message_id}/chain", response_model=Chain,
            responses={404: {"model": ErrorResponse}, 401: _ERRORS[401]}, summary="The client's chain")
async def get_chain(message_id: str, request: Request, party: Party = Depends(current_party)) -> Chain:
    """The messages linked to this one (same client and allocations; a 325 and its 323)."""
    record = await _own_message(request, message_id, party)
    return await in_thread(_chain, request.app.state.components.store, record, party)


@router.get("/messages/{message_id}/answers", responses={404: {"model": ErrorResponse}, 401: _ERRORS[401]},
            summary="The envelopes sent for a message and the answers that came back")
async def get_answers(message_id: str, request: Request, party: Party = Depends(current_party)) -> dict[str, Any]:
    """`sent`: the envelopes the gateway sent for this message (the Di01 of a municipal
    heenbericht to a party reached through the chain, the Du01/Fo01 answering an enveloped one);
    `du01`: the Du01s received whose crossRefnummer names one of them (each a message of its own);
    `fo01`: the Fo01s received for them (code, plek, omschrijving, details)."""
    await _own_message(request, message_id, party)
    return await in_thread(answers.of_message, request.app.state.components.store, message_id)


@router.get("/ggk/fo01", responses={401: _ERRORS[401]}, summary="Fo01s received")
async def list_fo01(request: Request, unlinked: bool = False, limit: int = 100,
                    party: Party = Depends(current_party)) -> dict[str, Any]:
    """The StUF Fo01s you sent or that were addressed to you, newest first; `unlinked=true`: those
    whose crossRefnummer names none of the gateway's envelopes (the chain reporting on a message
    this gateway did not send)."""
    from gateway.store import ggk as gstore

    rows = await in_thread(gstore.list_fo01, request.app.state.components.store, unlinked=unlinked,
                           party=party.party_id, limit=limit)
    return {"items": [answers._plain({k: v for k, v in r.items() if k != "sha256"}) for r in rows]}
