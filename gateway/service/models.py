"""What the API answers, as typed models (they also make the OpenAPI docs at /docs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.routing.correlation import Correlation
from gateway.routing.status import RoutingState

_ISSUE_EXAMPLE = {
    "rule": "TR019", "severity": "error",
    "path": "/Bericht/Client/StartProducten/StartProduct/ToewijzingNummer", "line": 31,
    "text": "ToewijzingNummer 123456 does not refer to an allocation of this provider",
}


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable reason, e.g. spoofed_sender, schema, overloaded.")
    message: str = Field(description="What is wrong, in plain words.")
    path: str | None = Field(None, description="The first failing element (transport rejections).")
    line: int | None = None


class ErrorResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"error": {
        "code": "spoofed_sender",
        "message": "Header/Afzender is 87654321, but you are authenticated as 12345678: "
                   "a party may only send messages in its own name"}}})
    error: ErrorDetail


class TransportRejected(BaseModel):
    """A message refused before the standard's checks: no retourbericht exists for it."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "error": {"code": "schema", "message": "Element Einddatum: '2026-02-30' is not a valid date "
                  "at /Bericht/Client/ToegewezenProducten/ToegewezenProduct/Einddatum",
                  "path": "/Bericht/Client/ToegewezenProducten/ToegewezenProduct/Einddatum", "line": 40},
        "message_id": "01JD3Z8Q7W2V6N4K9M1B5C8X0R", "verdict": "transport_rejected",
        "issues": [{"rule": "XSD", "severity": "error",
                    "path": "/Bericht/Client/ToegewezenProducten/ToegewezenProduct/Einddatum",
                    "line": 40, "text": "Element Einddatum: '2026-02-30' is not a valid date"}]}})
    error: ErrorDetail
    message_id: str | None
    verdict: str = "transport_rejected"
    issues: list[dict[str, Any]]
    envelope: dict[str, Any] | None = Field(None, description=(
        "Only for a message sent in a StUF-GGk envelope (Di01/Du01): referentienummer, "
        "cross_refnummer, zender, ontvanger, functie and its versions, and `answer`: Du01 (the retour "
        "in its envelope) or Fo01 (StUF055: the payload fails its XSD), at links.envelope_answer."))
    links: dict[str, str] | None = None


class MessageReceived(BaseModel):
    """The message is stored (a 2xx always means stored) and was processed within the request."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "message_id": "01JD3Z8Q7W2V6N4K9M1B5C8X0R", "verdict": "rejected", "code": "JW305",
        "sender": "12345678", "receiver": "0513", "duplicate": False, "routing_state": "not_routed",
        "issues": [_ISSUE_EXAMPLE], "retour_code": "JW306",
        "retour": "<?xml version='1.0' encoding='UTF-8'?><Bericht xmlns=...>...</Bericht>",
        "correlation": {"client_keys": ["5f1c...e2"], "toewijzingnummers": ["123456"],
                        "referenties": [], "declaratienummer": None, "answers": None},
        "links": {"self": "/v1/messages/01JD3Z8Q7W2V6N4K9M1B5C8X0R",
                  "retour": "/v1/messages/01JD3Z8Q7W2V6N4K9M1B5C8X0R/retour"}}})
    message_id: str
    verdict: str = Field(description="accepted | rejected | flagged | review")
    code: str | None
    sender: str | None
    receiver: str | None
    duplicate: bool = Field(description="The same message was received before: same answer.")
    routing_state: RoutingState = Field(description=(
        "not_routed (nothing handed on) | outbox_written (stored for the receiver's Kafka topics, not "
        "published yet) | published (on the receiver's stream and topics). GET /v1/messages/{id} "
        "follows it on: consumed (the receiver acknowledged it on its stream), dead_letter, or "
        "delivery_failed (a SOAP endpoint refused one of its envelopes with Fo03; its other rows go on)."))
    issues: list[dict[str, Any]]
    retour_code: str | None = Field(description="JW302 ... JW320, or JW325 for a declaration.")
    retour: str | None = Field(description=(
        "The retourbericht (or 325) as XML text with LF line endings, to read. The file to forward "
        "(UTF-8, CR/LF line endings as OP192 requires) is GET /v1/messages/{id}/retour."))
    correlation: Correlation
    envelope: dict[str, Any] | None = Field(None, description=(
        "Only for a message sent in a StUF-GGk envelope (Di01/Du01): referentienummer, "
        "cross_refnummer, zender, ontvanger, functie and its versions, and `answer`: Du01 (the retour "
        "in its envelope) or Fo01 (StUF055: the payload fails its XSD), at links.envelope_answer."))
    links: dict[str, str]


class MessageView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {
        "message_id": "01JD3Z8Q7W2V6N4K9M1B5C8X0R", "received_at": "2026-11-22T10:15:00Z",
        "code": "JW301", "sender": "0513", "receiver": "12345678", "verdict": "accepted",
        "identificatie": "A1B2C3", "issues": [], "retour_available": True,
        "client_key": "5f1c...e2", "allocation_numbers": ["123456"], "routing_state": "published",
        "transport": "http"}})
    message_id: str
    received_at: datetime
    code: str | None
    sender: str | None
    receiver: str | None
    verdict: str
    identificatie: str | None
    issues: list[dict[str, Any]]
    retour_available: bool
    client_key: str | None
    allocation_numbers: list[str]
    routing_state: RoutingState = Field(description=(
        "not_routed | outbox_written | published | consumed | dead_letter | delivery_failed "
        "(gateway.routing.status)"))
    transport: str | None
    envelope: dict[str, Any] | None = Field(None, description=(
        "Only for a message sent in a StUF-GGk envelope (Di01/Du01): referentienummer, "
        "cross_refnummer, zender, ontvanger, functie and its versions, and `answer`: Du01 (the retour "
        "in its envelope) or Fo01 (StUF055: the payload fails its XSD), at links.envelope_answer."))


class BatchEntry(BaseModel):
    name: str
    status: int = Field(description="HTTP-style status of this entry: 202, 403, 422, ...")
    message_id: str | None = None
    verdict: str | None = None
    code: str | None = None
    retour_code: str | None = None
    duplicate: bool = False
    error: ErrorDetail | None = None
    issues: list[dict[str, Any]] = Field(default_factory=list)
    fo01: dict[str, Any] | None = Field(None, description=(
        "Only for an entry holding a StUF Fo01 (an error the chain reports): stored as over "
        "POST /v1/messages, {fo01_id, linked_message_id, code, ...}; it has no message_id."))


class BatchResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"entries": [
        {"name": "jw301-0001.xml", "status": 202, "message_id": "01JD3Z8Q7W2V6N4K9M1B5C8X0R",
         "verdict": "accepted", "code": "JW301", "retour_code": "JW302", "duplicate": False,
         "error": None, "issues": []},
        {"name": "jw301-0002.xml", "status": 422, "message_id": "01JD3Z8Q7W2V6N4K9M1B5C8X0S",
         "verdict": "transport_rejected", "code": "JW301", "error": {"code": "schema",
         "message": "Missing element Ingangsdatum at /Bericht/Client/ToegewezenProducten/ToegewezenProduct",
         "path": "/Bericht/Client/ToegewezenProducten/ToegewezenProduct", "line": 33}, "issues": []}],
        "stored": 2, "refused": 0}})
    entries: list[BatchEntry]
    stored: int = Field(description="Entries stored (any verdict).")
    refused: int = Field(description="Entries refused without storing (identity, role).")


class StreamEntryHead(BaseModel):
    """What every stream entry says about itself, whatever form its message takes."""

    position: int = Field(description="Pass as `after` to read on; ack it when processed.")
    message_id: str
    type: str | None
    kind: str | None
    sender: str | None
    receiver: str | None
    headers: dict[str, str]
    created_at: datetime


class StreamEntry(StreamEntryHead):
    xml: str


class StreamPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {
        "party": "12345678", "after": 0, "acked": 0, "next_after": 17,
        "items": [{"position": 17, "message_id": "01JD3Z8Q7W2V6N4K9M1B5C8X0R", "type": "JW301",
                   "kind": "heen", "sender": "0513", "receiver": "12345678",
                   "headers": {"message-id": "01JD3Z8Q7W2V6N4K9M1B5C8X0R", "type": "JW301"},
                   "xml": "<?xml version='1.0' encoding='UTF-8'?><Bericht>...</Bericht>",
                   "created_at": "2026-11-22T10:15:00Z"}]}})
    party: str
    after: int
    acked: int
    next_after: int
    items: list[StreamEntry]


class Ack(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"position": 17}})
    position: int = Field(ge=0, description="Everything up to and including this position is processed.")


class AckResult(BaseModel):
    party: str
    acked: int
