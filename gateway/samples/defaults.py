"""`build(code)`: a default valid message of any of the 28 message types."""

from __future__ import annotations

from collections.abc import Callable

from gateway.catalog import by_code
from gateway.samples import heen, retours

_HEEN: dict[str, Callable[..., bytes]] = {
    "301": heen.allocation,
    "305": heen.start,
    "307": heen.stop,
    "315": heen.request,
    "317": heen.change_request,
    "319": heen.answer,
    "323": heen.declaration,
}
# retour number -> heen number it answers
_RETOUR_OF = {"302": "301", "306": "305", "308": "307", "316": "315", "318": "317", "320": "319"}


def build(code: str, **overrides) -> bytes:
    """A default valid message of type `code` (JW301 .. WMO325); `overrides` go to its builder.

    Heen types take the scenario builder's keywords (see gateway.samples.heen). Retour types take
    `heen=` (the message answered; default: build(the heen code)) plus retour() keywords; a 325 takes
    `declaratie=` plus declaration_answer() keywords.
    """
    mt = by_code(code)
    if mt.number in _HEEN:
        return _HEEN[mt.number](mt.standard, **overrides)
    if mt.number == "325":
        declaratie = overrides.pop("declaratie", None) or heen.declaration(mt.standard)
        return retours.declaration_answer(declaratie, **overrides)
    source = overrides.pop("heen", None) or _HEEN[_RETOUR_OF[mt.number]](mt.standard)
    return retours.retour(source, **overrides)
