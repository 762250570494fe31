"""The `json` payload format of the Kafka topics: the typed view of the message, with its headers.

    {"headers": {"message-id": ..., "type": "JW301", ...}, "type": "JW301", "standard": "ijw",
     "content": {"Header": {...}, "Client": {...}}}

`content` is mappers.to_view's content (dates, integers and eurocents, codes as strings). A message
that does not map to its type (it cannot be accepted, but the topic must never lose one) travels
with `"content": null`, the reason in `error` and the XML as received in `xml`.
"""

from __future__ import annotations

import json
from typing import Any


def typed_payload(xml: bytes) -> dict[str, Any]:
    """type, standard and content of the message; or content None, error and the xml."""
    import mappers  # the generated classes load on first use, not with the routing module

    try:
        return mappers.view_of(xml)
    except mappers.MappingError as exc:
        return {"type": None, "standard": None, "content": None, "error": str(exc),
                "xml": xml.decode("utf-8", errors="replace")}


def envelope(headers: dict[str, str], xml: bytes) -> bytes:
    """The bytes on a `.json` topic."""
    body = {"headers": headers, **typed_payload(xml)}
    if body["type"] is None:
        body["type"] = headers.get("type")
    return json.dumps(body, ensure_ascii=False).encode()
