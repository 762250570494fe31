"""The typed JSON views the API answers: a stored message's content and `format=json` stream entries.

The content is mappers' generated class in its JSON form (see mappers.view). A message that does
not map (stored because it was refused: not XML, or XSD-invalid) has no typed view: the content
endpoint says so with a clear error, a stream entry carries the reason and its XML instead.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.routing.json_payload import typed_payload
from gateway.service.models import StreamEntry, StreamEntryHead

_CONTENT_DOC = ("The message's typed view: element names as keys; dates YYYY-MM-DD, integers and "
                "amounts (eurocents) as numbers, code-list values as their code; absent elements left out.")


class MessageContent(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {
        "message_id": "01JD3Z8Q7W2V6N4K9M1B5C8X0R", "type": "JW301", "standard": "ijw",
        "content": {"Header": {"BerichtCode": "436", "BerichtVersie": 3, "BerichtSubversie": 2,
                               "Afzender": "0513", "Ontvanger": "12345678",
                               "BerichtIdentificatie": {"Identificatie": "A1B2C3", "Dagtekening": "2026-11-22"},
                               "XsdVersie": {"BasisschemaXsdVersie": "0.1.0", "BerichtXsdVersie": "0.1.0"}},
                    "Client": {"Geslacht": "2", "ToegewezenProducten": {"ToegewezenProduct": [
                        {"ToewijzingNummer": 123456, "Ingangsdatum": "2026-12-01", "Budget": 125000}]}}}}})
    message_id: str
    type: str = Field(description="The message type: JW301 ... WMO325.")
    standard: str = Field(description="ijw | iwmo")
    content: dict[str, Any] = Field(description=_CONTENT_DOC)


class JsonStreamEntry(StreamEntryHead):
    """A stream entry with the typed view instead of the XML (`format=json`)."""

    standard: str | None
    content: dict[str, Any] | None = Field(description=_CONTENT_DOC + " null when the message does not map.")
    error: str | None = Field(None, description="Why there is no typed view (content null).")
    xml: str | None = Field(None, description="Only when content is null: the message as XML, so nothing is lost.")


class JsonStreamPage(BaseModel):
    party: str
    after: int
    acked: int
    next_after: int
    format: str = "json"
    items: list[JsonStreamEntry]


def json_entry(entry: StreamEntry) -> JsonStreamEntry:
    """The `format=json` form of a stream entry. A Du01 (a retour the gateway answers an
    enveloped heenbericht with) is viewed as the retour it carries; its envelope data are in the
    `stuf-*` headers. A Fo01 has no typed view (`content` null, the XML in `xml`)."""
    xml = entry.xml.encode("utf-8")
    if entry.headers.get("stuf-berichtcode") == "Du01":
        from gateway import ggk

        xml = ggk.read(xml).payload
    view = typed_payload(xml)
    return JsonStreamEntry(
        position=entry.position, message_id=entry.message_id, type=view["type"] or entry.type,
        kind=entry.kind, sender=entry.sender, receiver=entry.receiver, headers=entry.headers,
        created_at=entry.created_at, standard=view["standard"], content=view["content"],
        error=view.get("error"), xml=view.get("xml"),
    )
