"""Which outbox rows a stored message gets: its receiver's stream and Kafka topics, and the retour
(or 325) back to the sender the same ways.

A row is the store's OutboxRow: party (whose stream it belongs to), destination ("stream" or a
Kafka topic), key (the partition key), headers and payload. `message_id` is the stored message
the row comes from (for a retour: the heen it answers).

A heenbericht that came in a StUF-GGk Di01 is answered in an envelope: its sender's stream and XML
topic carry the Du01 around the retour *instead of* the bare retour (one answer, in the form the
party sent; headers `stuf-berichtcode`, `stuf-referentienummer`, `stuf-cross-refnummer`), the
`.json` topic the retour's typed view with the same headers. A payload that failed its XSD is
answered with a Fo01 StUF055 only (`fo01_rows`): the stream and the `<...>.fo01` topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.auth.policy import Route
from gateway.catalog import MessageType
from gateway.routing import json_payload
from gateway.routing.correlation import Correlation, bsns
from gateway.routing.partition import client_partition_key, reference_partition_key
from gateway.routing.topics import topic_for
from gateway.settings import Settings
from gateway.store.records import EncodedHeaders, OutboxRow
from validators.paths import child, text

STREAM = "stream"


def retour_id(message_id: str) -> str:
    """The id of the retour (or 325) the gateway produced for message `message_id`."""
    return f"{message_id}-R"


def partition_key(secret: bytes, mtype: MessageType, root: etree._Element, route: Route,
                  corr: Correlation, clients: list[str] | None = None) -> str:
    """One client's chain shares a key (keyed hash: no BSN leaves the gateway). `clients`:
    `bsns(root)` when the caller has it (a walk of the whole tree each time otherwise)."""
    if mtype.sender_role == "gemeente":
        gemeente, aanbieder = route.sender or "", route.receiver or ""
    else:
        gemeente, aanbieder = route.receiver or "", route.sender or ""
    if clients is None:
        clients = bsns(root)
    if len(clients) == 1:
        return client_partition_key(secret, gemeente, aanbieder, clients[0])
    if corr.declaratienummer:
        return reference_partition_key(secret, "declaratie", aanbieder, corr.declaratienummer)
    if corr.referenties:
        return reference_partition_key(secret, "referentie", aanbieder, corr.referenties[0])
    ident = text(child(root, "Header"), "BerichtIdentificatie", "Identificatie") or ""
    return reference_partition_key(secret, "bericht", route.sender or "", ident)


def _headers(message_id: str, mtype: MessageType, sender: str, receiver: str, corr: Correlation,
             *, answers: str | None = None, answers_message: str | None = None) -> dict[str, str]:
    """`answers`: the Identificatie of the message answered (a retour's), in `corr`'s place."""
    h = {
        "message-id": message_id,
        "type": mtype.code,
        "standard": mtype.standard,
        "kind": mtype.kind,
        "sender": sender,
        "receiver": receiver,
    }
    h.update(corr.header_texts())
    if answers:  # where corr's own would be: its headers end with it
        h["answers"] = answers
    if answers_message:
        h["answers-message-id"] = answers_message
    return h


def _payloads(settings: Settings, headers: dict[str, str], xml: bytes) -> list[tuple[str, bytes]]:
    out = []
    for fmt in settings.payload_formats:
        if fmt == "xml":
            out.append(("xml", xml))
        else:  # the typed view (gateway.routing.json_payload)
            out.append(("json", json_payload.envelope(headers, xml)))
    return out


def _encode(headers: dict[str, str]) -> list[tuple[str, bytes]]:
    """The headers as a row carries them, keeping the texts they were made of for the store."""
    return EncodedHeaders.of(headers)


def _rows(settings: Settings, mtype: MessageType, party: str, key: str, headers: dict[str, str],
          xml: bytes, message_id: str, wrapped: bytes | None = None) -> list[OutboxRow]:
    """`wrapped`: the message in its StUF-GGk envelope, sent instead of `xml` where XML goes."""
    sent = xml if wrapped is None else wrapped
    rows = [OutboxRow.of(STREAM, sent, key, _encode(headers), party, message_id)]
    if settings.kafka_bootstrap:
        for fmt, payload in _payloads(settings, headers, xml):
            if fmt == "xml":
                payload = sent
            topic = topic_for(settings.kafka_topic_prefix, mtype, party, fmt)
            hdrs = {**headers, "content-type": "application/xml" if fmt == "xml" else "application/json"}
            rows.append(OutboxRow.of(topic, payload, key, _encode(hdrs), None, message_id))
    return rows


def message_rows(settings: Settings, secret: bytes, mtype: MessageType, root: etree._Element,
                 raw: bytes, message_id: str, route: Route, corr: Correlation,
                 clients: list[str] | None = None) -> list[OutboxRow]:
    """The accepted message to its receiver (stream, and Kafka topics when a broker is set).
    `clients`: `bsns(root)`, when the caller has it."""
    key = partition_key(secret, mtype, root, route, corr, clients)
    headers = _headers(message_id, mtype, route.sender or "", route.receiver or "", corr)
    return _rows(settings, mtype, route.receiver or "", key, headers, raw, message_id)


def retour_rows(settings: Settings, secret: bytes, retour_mtype: MessageType, root: etree._Element,
                retour: bytes, message_id: str, route: Route, corr: Correlation,
                du01: EnvelopeAnswer | None = None, clients: list[str] | None = None) -> list[OutboxRow]:
    """The retour (or 325) back to the original sender, the same ways; in its Du01 when the
    heenbericht came in a Di01 (`du01`). `clients`: `bsns(root)`, when the caller has it."""
    # The retour's sender is the heen's receiver: the same gemeente/aanbieder pair, so the same key.
    key = partition_key(secret, retour_mtype, root, Route(route.receiver, route.sender), corr, clients)
    # A heen's correlation names no message it answers: the retour's names the heen.
    headers = _headers(retour_id(message_id), retour_mtype, route.receiver or "", route.sender or "", corr,
                       answers=text(child(root, "Header"), "BerichtIdentificatie", "Identificatie"),
                       answers_message=message_id)
    if du01 is not None:
        headers.update(du01.headers())
    return _rows(settings, retour_mtype, route.sender or "", key, headers, retour, message_id,
                 du01.xml if du01 is not None else None)


def repeat_rows(settings: Settings, secret: bytes, retour_mtype: MessageType, root: etree._Element,
                retour: bytes, message_id: str, route: Route, corr: Correlation,
                du01: EnvelopeAnswer) -> list[OutboxRow]:
    """The Du01 that answers a further envelope around a message already answered: only what
    carries the envelope (the stream, the XML topic), under an id of its own so a consumer that
    drops a message id it saw before does not drop this envelope. The retour itself went out the
    first time."""
    rows = retour_rows(settings, secret, retour_mtype, root, retour, message_id, route, corr, du01)
    own_id = f"{retour_id(message_id)}-{du01.referentienummer}".encode()
    return [
        r.model_copy(update={"headers": [(k, own_id if k == "message-id" else v) for k, v in r.headers]})
        for r in rows if r.payload == du01.xml
    ]


@dataclass(frozen=True)
class EnvelopeAnswer:
    """A Du01 or Fo01 the gateway answers an enveloped message with."""

    berichtcode: str  # "Du01" | "Fo01"
    xml: bytes
    referentienummer: str
    cross_refnummer: str
    payload_at: int | None = None  # where the retour's base64 starts in `xml`, when known (the Du01 template)

    def headers(self) -> dict[str, str]:
        return {"stuf-berichtcode": self.berichtcode, "stuf-referentienummer": self.referentienummer,
                "stuf-cross-refnummer": self.cross_refnummer}


def fo01_rows(settings: Settings, secret: bytes, mtype: MessageType | None, party: str,
              fo01: EnvelopeAnswer, message_id: str, answered_by: str = "") -> list[OutboxRow]:
    """The Fo01 StUF055 for an enveloped payload that failed its XSD, to its sender: the stream
    and, with a broker, the XML topic `<prefix>.<standard>.<party>.fo01` (a Fo01 has no typed
    view). Keyed on the Di01's referentienummer (no client can be read from such a payload)."""
    key = reference_partition_key(secret, "envelop", party, fo01.cross_refnummer)
    headers = {"message-id": f"{message_id}-F", "type": "Fo01", "standard": mtype.standard if mtype else "",
               "kind": "fout", "sender": answered_by, "receiver": party, "answers-message-id": message_id,
               **fo01.headers()}
    rows = [OutboxRow(party=party, destination=STREAM, key=key, headers=_encode(headers),
                      payload=fo01.xml, message_id=message_id)]
    if settings.kafka_bootstrap and mtype is not None and party.isdigit() and "xml" in settings.payload_formats:
        topic = f"{settings.kafka_topic_prefix}.{mtype.standard}.{party}.fo01"
        rows.append(OutboxRow(party=None, destination=topic, key=key,
                              headers=_encode({**headers, "content-type": "application/xml"}),
                              payload=fo01.xml, message_id=message_id))
    return rows
