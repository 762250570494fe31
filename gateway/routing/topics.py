"""Topic naming: `<prefix>.<standard>.<party>.<type>[.json]`, e.g. `gw.ijw.12345678.jw301`.

- `<party>` is the party that receives what is on the topic: the Ontvanger for a heenbericht, and
  for a retour or 325 produced by the gateway the original sender (so each party reads its own
  topics, and a retour travels back to the sender on the sender's topic).
- `<type>` is the lower-case message code (jw301, wmo325): one topic per message type lets a back
  office subscribe to exactly what it processes.
- The `.json` suffix marks the JSON envelope when that payload format is enabled.
Kafka allows [a-zA-Z0-9._-] in topic names; CBS and AGB codes are digits, so names are always valid.
"""

from __future__ import annotations

from gateway.catalog import MessageType

PayloadFormat = str  # "xml" | "json"


def topic_for(prefix: str, mtype: MessageType, party: str, fmt: PayloadFormat = "xml") -> str:
    if not party.isdigit():
        raise ValueError(f"party id must be a CBS or AGB code, got {party!r}")
    name = f"{prefix}.{mtype.standard}.{party}.{mtype.code.lower()}"
    return name if fmt == "xml" else f"{name}.{fmt}"


def stream_destination(party: str) -> str:
    """Outbox destination of a party's HTTP stream (back offices without Kafka)."""
    return f"stream:{party}"


def kafka_destination(topic: str) -> str:
    return f"kafka:{topic}"
