"""Correlation ids of a message: what links a client's allocation chain and a 325 to its 323.

- client keys: keyed hashes of the BSNs (never the BSN itself);
- toewijzingnummers: link 301 -> 305 -> 307 -> 323 (prestaties) of one client;
- referenties (ReferentieAanbieder): link 315/317 -> 319 / 301;
- declaratienummer and, for a 325, the DeclaratieIdentificatie of the 323 it answers;
- for a retour, the BerichtIdentificatie of the heen it answers.
"""

from __future__ import annotations

from lxml import etree
from pydantic import BaseModel, Field

from gateway.catalog import MessageType
from validators.paths import child, text


class Correlation(BaseModel):
    client_keys: list[str] = Field(default_factory=list)
    toewijzingnummers: list[str] = Field(default_factory=list)
    referenties: list[str] = Field(default_factory=list)
    declaratienummer: str | None = None
    answers: str | None = Field(
        None, description="Identificatie of the message this one answers (retour, 325)."
    )

    @classmethod
    def of(cls, client_keys: list[str], toewijzingnummers: list[str], referenties: list[str],
           declaratienummer: str | None, answers: str | None) -> Correlation:
        """A correlation of values of these types already (`correlate`, once per message): made
        as pydantic makes a valid one, without validating each list again (some 3 us) nor
        model_construct's loop over the fields (slower than validating)."""
        made = cls.__new__(cls)
        _set(made, "__dict__", {"client_keys": client_keys, "toewijzingnummers": toewijzingnummers,
                                "referenties": referenties, "declaratienummer": declaratienummer,
                                "answers": answers})
        _set(made, "__pydantic_fields_set__", set(_FIELDS))
        _set(made, "__pydantic_extra__", None)
        _set(made, "__pydantic_private__", None)
        return made

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers (comma-separated lists)."""
        return [(name, value.encode()) for name, value in self.header_texts()]

    def header_texts(self) -> list[tuple[str, str]]:
        """`headers` as texts (gateway.routing.plan: not encoded, then decoded again)."""
        out = []
        for name, values in (
            ("client-keys", self.client_keys),
            ("toewijzingnummers", self.toewijzingnummers),
            ("referenties", self.referenties),
        ):
            if values:
                out.append((name, ",".join(values)))
        if self.declaratienummer:
            out.append(("declaratienummer", self.declaratienummer))
        if self.answers:
            out.append(("answers", self.answers))
        return out


_set = object.__setattr__
_FIELDS = frozenset(Correlation.model_fields)


def client_key(secret: bytes, bsn: str) -> str:
    """The keyed hash that stands for a client everywhere outside the raw message (the store's)."""
    from gateway.store.clientkey import client_key as store_client_key

    return store_client_key(secret, bsn)


def _ordered(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def bsns(root: etree._Element) -> list[str]:
    # lxml filters by name in C: a 323 with 10,000 prestaties has ~300,000 elements to skip.
    return _ordered([(el.text or "").strip() for el in root.iter("{*}Bsn")])


def number_texts(root: etree._Element) -> list[str | None]:
    """The texts of the message's ToewijzingNummer elements in document order, as they are (the
    correlation's and the stored message's allocation numbers: one walk of the tree for both)."""
    return [el.text for el in root.iter("{*}ToewijzingNummer")]


def correlate(root: etree._Element, mtype: MessageType, secret: bytes,
              clients: list[str] | None = None, numbers: list[str | None] | None = None) -> Correlation:
    """`clients`: `bsns(root)` when the caller has it already (the pipeline keys the outbox rows
    with it too): one walk of the tree fewer. `numbers`: `number_texts(root)`, likewise."""
    # One walk per name: lxml matches a single "{*}name" cheaply at each element; two names cost
    # about 300 instructions more per element (a 323 of 100,000 prestaties has a million).
    # Each list keeps document order, as one walk gave it.
    if numbers is None:
        numbers = number_texts(root)
    numbers = [(t or "").strip() for t in numbers]
    refs = [(el.text or "").strip() for el in root.iter("{*}ReferentieAanbieder")]
    answers = None
    if mtype.kind == "retour":
        answers = text(child(root, "Header"), "BerichtIdentificatie", "Identificatie")
    elif mtype.number == "325":
        answers = text(child(root, "Header"), "DeclaratieIdentificatie", "Identificatie")
    decl = None
    if mtype.number in ("323", "325"):
        body = child(root, "Declaratie") if mtype.number == "323" else child(root, "DeclaratieAntwoord")
        decl = text(body, "DeclaratieNummer")
    if clients is None:
        clients = bsns(root)
    return Correlation.of([client_key(secret, b) for b in clients], _ordered(numbers), _ordered(refs), decl, answers)
