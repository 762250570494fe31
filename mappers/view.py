"""The typed JSON view of a message, as the API, the streams and the Kafka JSON topics carry it.

    {"type": "JW301", "standard": "ijw", "content": {"Header": {...}, "Client": {...}}}

`content` is the generated class's JSON form: element names as keys, dates `YYYY-MM-DD`, times
`hh:mm:ss[.ffffff]`, integers (amounts in eurocents) as numbers, codes as their code string;
absent optional elements are left out. It carries values, not spellings: the stored XML stays the
record (a `+05` in the XML is `5` here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from gateway import catalog

from .base import MessageModel
from .models import code_of, model_for
from .xml import MappingError, from_xml


def to_view(model: MessageModel) -> dict[str, Any]:
    """The view of a message model."""
    code = code_of(model)
    return {"type": code, "standard": catalog.by_code(code).standard,
            "content": model.model_dump(mode="json", exclude_none=True)}


def view_of(xml: bytes) -> dict[str, Any]:
    """The view of a message's XML; MappingError when the XML does not map to its type."""
    return to_view(from_xml(xml))


def from_view(view: Mapping[str, Any]) -> MessageModel:
    """The typed model of a view (what `to_view` or the API gave); MappingError when it is not one."""
    code = view.get("type") if isinstance(view, Mapping) else None
    try:
        cls = model_for(str(code))
    except (KeyError, ValueError):
        raise MappingError(f"unknown message type {code!r}") from None
    try:
        return cls.model_validate(view.get("content"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(p) for p in first["loc"])
        raise MappingError(f"/Bericht/{where}: {first['msg']}") from None
