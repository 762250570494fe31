"""The payload of a Di01/Du01 as an iJw/iWmo message, and the envelope rules that need it.

The payload goes through the same hardened parser as a bare message (no DOCTYPE, so no DTD or
entities; UTF-8; the 25 MB limit) and the same detection. Then the envelope must agree with it:

- stuurgegevens.functie is the payload's message type (WMO301, JW302, ...); a Di01 carries a
  heenbericht, a Du01 a retour (302..320) or declaratie-antwoord (325);
- functieVersie/functieSubversie are the payload's BerichtVersie/BerichtSubversie (0003/0002 for
  a 3.2 message);
- zender.organisatie is the payload's sender, ontvanger.organisatie its receiver: Afzender and
  Ontvanger of its Header, except in a retour (302..320), which keeps the heenbericht's Header
  unchanged (IV028), so there the sender is the Ontvanger. A Du01 may be signed by VECOZO, IB or
  RINIS instead of the sender (spec 2.1.03: they send Du01s themselves).

Whether the payload meets its own XSD and rules is the pipeline's verdict, not this module's; a
payload that fails its XSD is answered with a Fo01 StUF055 (`gateway.ggk.build.fo01`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from gateway import detect, xmlparse
from gateway.catalog import MessageType
from gateway.ggk.errors import fail
from gateway.ggk.model import CHAIN_PARTIES, Envelope
from validators.paths import _LOCAL, child, fields_in, first, local_name, text

if TYPE_CHECKING:
    from schemas.registry import SchemaRegistry


@dataclass
class Payload:
    """The parsed payload: the pipeline can go on from `root` without parsing it again."""

    raw: bytes
    root: etree._Element
    mtype: MessageType
    afzender: str
    ontvanger: str
    versie: str  # the Header's BerichtVersie / BerichtSubversie as the envelope writes them: 0003
    subversie: str
    detected: detect.Detection | None = None  # the detection `mtype` came from (validate_root takes it)

    @property
    def swapped(self) -> bool:
        """A retour keeps its heenbericht's Afzender/Ontvanger (IV028); a 325 does not."""
        return self.mtype.kind == "retour"

    @property
    def sender(self) -> str:
        return self.ontvanger if self.swapped else self.afzender

    @property
    def receiver(self) -> str:
        return self.afzender if self.swapped else self.ontvanger

    def field_of(self, role: str) -> str:
        """Which Header element names the sender / receiver, for error texts."""
        sender_field = "Ontvanger" if self.swapped else "Afzender"
        receiver_field = "Afzender" if self.swapped else "Ontvanger"
        return sender_field if role == "sender" else receiver_field


def _version(value: str | None) -> str:
    value = (value or "").strip()
    return value.zfill(4) if value.isdigit() and len(value) <= 4 else value


def versions(header: etree._Element | None) -> tuple[str, str]:
    """The Header's BerichtVersie and BerichtSubversie as an envelope writes them (0003, 0002)."""
    return _version(text(child(header, "BerichtVersie"))), _version(text(child(header, "BerichtSubversie")))


_HEADER_FIELDS = ("BerichtVersie", "BerichtSubversie", "Afzender", "Ontvanger")


def _header(root: etree._Element) -> etree._Element | None:
    """The root's first Header child (any namespace, as `child` finds it): the XSD puts it first,
    so the first child is tried before lxml's tag filter (whose matcher cost more than the rest
    of reading the Header)."""
    first_child = root[0] if len(root) else None
    if first_child is not None and local_name(first_child) == "Header":
        return first_child
    return child(root, "Header")


def _header_texts(header: etree._Element | None) -> dict[str, str | None]:
    """The texts of the first BerichtVersie, BerichtSubversie, Afzender and Ontvanger children of
    the Header (any namespace, as `child` finds them), in one pass that stops once all four are
    found: they come fifth at the latest in a Header as the XSD orders it."""
    found: dict[str, str | None] = {}
    if header is None:
        return found
    names = _LOCAL
    # All children, without lxml's element-type filter (a matcher per call); a comment or
    # processing instruction has no local name (local_name: "") and is passed over.
    for c in header:
        name = names.get(c.tag) or local_name(c)
        if name in _HEADER_FIELDS and name not in found:
            found[name] = c.text
            if len(found) == 4:
                break
    return found


def _scoped_header_texts(root: etree._Element, scope: dict) -> dict[str, str | None]:
    """`_header_texts(_header(root))`, read through the groupings of `scope`: the pipeline reads
    the Header's children in that scope later (its route, the rules), so they are grouped once
    for both instead of walked here and grouped there (an envelope's largest cost after its
    digest)."""
    header = first(fields_in(scope, root), "Header")
    if header is None:
        return {}
    groups = fields_in(scope, header)
    found: dict[str, str | None] = {}
    for name in _HEADER_FIELDS:
        same = groups.get(name)
        if same:
            found[name] = same[0].text
    return found


def message(raw: bytes, registry: SchemaRegistry | None = None, scope: dict | None = None) -> Payload:
    """Parse and identify a bare iJw/iWmo message (for wrapping or from an envelope). `scope`
    (validators.paths.new_scope): where the Header's lookups are kept for the caller's reads."""
    too_big = xmlparse.size_issue(len(raw))
    if too_big:
        raise fail("PAYLOAD_TOO_LARGE", f"payload: {too_big.text}")
    parsed = xmlparse.parse(raw)
    if not parsed.ok:
        first = next(i for i in parsed.issues if i.severity == "error")
        raise fail("PAYLOAD_NOT_XML", f"payload: {first.text}", line=first.line)
    found = detect.detect(parsed.root, registry)
    if not found.ok:
        first = found.issues[0]
        raise fail("PAYLOAD_UNKNOWN", f"payload: {first.text}", line=first.line)
    fields = _header_texts(_header(parsed.root)) if scope is None else _scoped_header_texts(parsed.root, scope)
    return Payload(
        raw=bytes(raw),
        root=parsed.root,
        mtype=found.mtype,
        afzender=(fields.get("Afzender") or "").strip(),
        ontvanger=(fields.get("Ontvanger") or "").strip(),
        versie=_version(fields.get("BerichtVersie")),
        subversie=_version(fields.get("BerichtSubversie")),
        detected=found,
    )


def open_payload(envelope: Envelope, registry: SchemaRegistry | None = None) -> Payload:
    """The envelope's payload as a message, checked against the envelope. Raises EnvelopeError."""
    sg, params = envelope.stuurgegevens, envelope.parameters
    return check(envelope.berichtcode, envelope.payload, params.bestand, params.bestandsnaam, sg.functie,
                 params.functie_versie, params.functie_subversie, sg.zender.organisatie,
                 sg.ontvanger.organisatie, registry)


def check(berichtcode: str, raw: bytes, bestand: str, bestandsnaam: str | None, functie: str | None,
          functie_versie: str, functie_subversie: str, zender: str | None, ontvanger: str | None,
          registry: SchemaRegistry | None = None, scope: dict | None = None) -> Payload:
    """`open_payload` from the envelope's values (the receive path reads them without building
    the typed Envelope; `scope`: see `message`). Raises EnvelopeError."""
    if bestand != "xml":
        raise fail("PAYLOAD_UNKNOWN", f"the payload is a tekstBestand ('{bestandsnaam}'), "
                   "not an iJw/iWmo message (those travel as xmlBestand)")
    payload = message(raw, registry, scope)
    code = payload.mtype.code
    if functie != code:
        raise fail("FUNCTIE_MISMATCH", f"stuurgegevens.functie is '{functie}' but the payload is a {code}")
    retour = payload.mtype.kind != "heen"
    if berichtcode == "Di01" and retour:
        raise fail("FUNCTIE_MISMATCH", f"a {code} is a retourbericht: it travels in a ggk0210-Du01, not a Di01")
    if berichtcode == "Du01" and not retour:
        raise fail("FUNCTIE_MISMATCH", f"a {code} is a heenbericht: it travels in a ggk0210-Di01, not a Du01")
    if (functie_versie, functie_subversie) != (payload.versie, payload.subversie):
        raise fail("VERSIE_MISMATCH", f"functieVersie/functieSubversie are {functie_versie}/"
                   f"{functie_subversie} but the payload's BerichtVersie/BerichtSubversie are "
                   f"{payload.versie}/{payload.subversie}")
    zender = (zender or "").strip()
    swapped = payload.swapped
    sender, receiver = (payload.ontvanger, payload.afzender) if swapped else (payload.afzender, payload.ontvanger)
    if zender != sender and not (berichtcode == "Du01" and zender in CHAIN_PARTIES):
        raise fail("ZENDER_MISMATCH", f"zender.organisatie is '{zender}' but the payload's sender "
                   f"(Header/{payload.field_of('sender')}) is '{payload.sender}'")
    ontvanger = (ontvanger or "").strip()
    if ontvanger != receiver:
        raise fail("ONTVANGER_MISMATCH", f"ontvanger.organisatie is '{ontvanger}' but the payload's "
                   f"receiver (Header/{payload.field_of('receiver')}) is '{payload.receiver}'")
    return payload
