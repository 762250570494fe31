"""Reading an envelope: bytes -> a typed Di01/Du01 (payload decoded), Fo01, Fo03 or Bv03, or an
EnvelopeError that says why not.

Order: size (IB007) before anything is parsed; the hardened parser (no DTD, no entities, UTF-8
only, depth limit; only libxml2's per-text-node limit is lifted, for the base64 payload); the root;
our schema; then the base64 payload decoded (strictly, whitespace allowed as XML Schema allows it).
What the payload itself is (iJw/iWmo, functie, versions, parties) is `gateway.ggk.payload`.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator

from lxml import etree

from gateway import xmlparse
from gateway.ggk import schema
from gateway.ggk.b64 import strict_decode
from gateway.ggk.errors import GgkError, error, fail
from gateway.ggk.model import (
    NS_GGK,
    ROOTS,
    Bevestiging,
    Envelope,
    Fout,
    Parameters,
    Stuurgegevens,
    Systeem,
)
from validators.paths import _LOCAL, local_name

MB = xmlparse.MB
# "Maximum grootte van het ggk0210-Di01 bericht inclusief deze base64 inhoud is 25 MegaByte."
MAX_ENVELOPE_BYTES = 25 * MB
_WHITESPACE = b" \t\r\n"
# The hardened parser's limits for an envelope: 25 MB, the usual depth and BOM policy.
_LIMITS = xmlparse.ParseLimits(max_bytes=MAX_ENVELOPE_BYTES, max_depth=xmlparse.DEFAULT_LIMITS.max_depth,
                               bom_severity=xmlparse.DEFAULT_LIMITS.bom_severity)


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB"


def _children(el: etree._Element) -> Iterator[etree._Element]:
    return (c for c in el if isinstance(c.tag, str))


def _fields(el: etree._Element) -> dict[str, etree._Element]:
    """The element children by local name (the schema allows each name once)."""
    names = _LOCAL
    return {names.get(c.tag) or local_name(c): c for c in el.iterchildren(etree.Element)}


def _text(el: etree._Element | None) -> str | None:
    return None if el is None else (el.text or "")


def _systeem(el: etree._Element) -> Systeem:
    f = _fields(el)
    return Systeem(
        organisatie=_text(f.get("organisatie")),
        applicatie=_text(f["applicatie"]) or "",
        administratie=_text(f.get("administratie")),
        gebruiker=_text(f.get("gebruiker")),
    )


def _stuurgegevens(el: etree._Element, berichtcode: str) -> Stuurgegevens:
    f = _fields(el)
    return Stuurgegevens(
        berichtcode=berichtcode,  # an empty Fo01/Fo03/Bv03 berichtcode takes its fixed value
        zender=_systeem(f["zender"]),
        ontvanger=_systeem(f["ontvanger"]),
        referentienummer=_text(f["referentienummer"]) or "",
        tijdstip_bericht=_text(f["tijdstipBericht"]) or "",
        cross_refnummer=_text(f.get("crossRefnummer")),
        functie=_text(f.get("functie")),
    )


def decode_base64(el: etree._Element) -> bytes:
    """The payload bytes; XML Schema's base64Binary allows whitespace between the characters.
    The received envelope's schema (schema.for_reading) leaves the payload's base64 to this
    decode: a strict decode plus libxml2's one further demand (the bits the padding leaves over
    are zero) refuses what the full schema would refuse, and what it would accept but cannot be
    decoded (stray characters libxml2 skips), as before."""
    text = el.text or ""
    try:
        data = text.encode("ascii")
        try:  # most senders write one line: decode it as it is
            payload = strict_decode(data)
        except binascii.Error:
            data = data.translate(None, _WHITESPACE)
            payload = strict_decode(data)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise fail("PAYLOAD_BASE64", f"the payload ({local_name(el)}) is not valid base64: {exc}",
                   line=el.sourceline) from None
    if not schema.trailing_bits_ok(data):
        raise fail("PAYLOAD_BASE64", f"the payload ({local_name(el)}) is not valid base64: its padding does "
                   "not fit (xs:base64Binary: whole quanta, at most two '=', the bits left over zero)", line=el.sourceline)
    return payload  # never larger than the envelope, whose size is already checked


def _payload_findings(root: etree._Element) -> list[GgkError]:
    """The full schema's finding on the payload's base64, if any (for an envelope refused for
    other findings already: the count of findings stays what the full schema says)."""
    out = []
    for el in root.iter(f"{{{NS_GGK}}}xmlBestand", f"{{{NS_GGK}}}tekstBestand"):
        if not schema.base64_ok(el.text or ""):
            out.append(error("PAYLOAD_BASE64", f"Element '{local_name(el)}': the value is not a valid value of "
                             "the atomic type 'xs:base64Binary'.", path=None, line=el.sourceline))
    return out


_SYSTEEM_FIELDS = frozenset({"organisatie", "applicatie", "administratie", "gebruiker"})


class Head:
    """A checked Di01/Du01 as read, without the typed model: what the receive path needs (its
    checks, the stored row, the Du01) costs no pydantic validation of values our schema has
    already checked. `envelope()` is the typed `Envelope` with the same values."""

    __slots__ = ("berichtcode", "zender", "ontvanger", "referentienummer", "tijdstip_bericht",
                 "cross_refnummer", "functie", "applicatie_versie", "applicatie_subversie",
                 "functie_versie", "functie_subversie", "bestand", "bestandsnaam", "payload", "payload_at")

    def __init__(self, berichtcode: str, zender: dict[str, str], ontvanger: dict[str, str],
                 top: dict[str, str], bestand: str, bestandsnaam: str | None, payload: bytes,
                 payload_at: int | None = None) -> None:
        self.berichtcode = berichtcode
        self.zender = zender  # organisatie, applicatie, administratie, gebruiker: those present
        self.ontvanger = ontvanger
        self.referentienummer = top["referentienummer"]
        self.tijdstip_bericht = top["tijdstipBericht"]
        self.cross_refnummer = top.get("crossRefnummer")
        self.functie = top.get("functie")
        self.applicatie_versie = top["applicatieVersie"]
        self.applicatie_subversie = top["applicatieSubversie"]
        self.functie_versie = top["functieVersie"]
        self.functie_subversie = top["functieSubversie"]
        self.bestand = bestand
        self.bestandsnaam = bestandsnaam
        self.payload = payload
        # Where the payload's base64 starts in the envelope's bytes, standing there in one run
        # exactly as pybase64.b64encode writes it (the plain form), so the store can keep the
        # envelope without it by slicing (gateway.store.elided); None: not known.
        self.payload_at = payload_at

    def envelope(self) -> Envelope:
        z, o = self.zender, self.ontvanger
        return Envelope(
            berichtcode=self.berichtcode,
            stuurgegevens=Stuurgegevens(
                berichtcode=self.berichtcode,
                zender=Systeem(organisatie=z.get("organisatie"), applicatie=z.get("applicatie", ""),
                               administratie=z.get("administratie"), gebruiker=z.get("gebruiker")),
                ontvanger=Systeem(organisatie=o.get("organisatie"), applicatie=o.get("applicatie", ""),
                                  administratie=o.get("administratie"), gebruiker=o.get("gebruiker")),
                referentienummer=self.referentienummer,
                tijdstip_bericht=self.tijdstip_bericht,
                cross_refnummer=self.cross_refnummer,
                functie=self.functie,
            ),
            parameters=Parameters(
                applicatie_versie=self.applicatie_versie,
                applicatie_subversie=self.applicatie_subversie,
                functie_versie=self.functie_versie,
                functie_subversie=self.functie_subversie,
                bestand=self.bestand,
                bestandsnaam=self.bestandsnaam,
            ),
            payload=self.payload,
        )


def head(root: etree._Element, berichtcode: str) -> Head:
    """The fields of a Di01/Du01 whose structure our schema has checked (check_root), its payload
    decoded. No element name occurs twice below the root except the four of zender and ontvanger,
    which follow their parent in document order: one pass over the tree reads every field."""
    names = _LOCAL
    top: dict[str, str] = {}
    systems: dict[str, dict[str, str]] = {"zender": {}, "ontvanger": {}}
    current: dict[str, str] | None = None
    bestand = None
    kind = "xml"
    for el in root.iter(etree.Element):
        name = names.get(el.tag) or local_name(el)
        if current is not None and name in _SYSTEEM_FIELDS:
            current[name] = el.text or ""
        elif name == "zender" or name == "ontvanger":
            current = systems[name]
        else:
            current = None
            if name == "xmlBestand":
                bestand = el
            elif name == "tekstBestand":
                bestand, kind = el, "tekst"
            else:
                top[name] = el.text or ""
    return Head(berichtcode, systems["zender"], systems["ontvanger"], top, kind,
                bestand.get("bestandsnaam"), decode_base64(bestand))


def _envelope(root: etree._Element, berichtcode: str) -> Envelope:
    """A Di01/Du01 whose structure our schema has checked, typed."""
    return head(root, berichtcode).envelope()


def _fout(root: etree._Element, berichtcode: str) -> Fout:
    f = _fields(root)
    body = _fields(f["body"])
    details_xml = body.get("detailsXML")
    return Fout(
        berichtcode=berichtcode,
        stuurgegevens=_stuurgegevens(f["stuurgegevens"], berichtcode),
        code=_text(body["code"]) or "",
        plek=body["plek"].text,
        omschrijving=_text(body["omschrijving"]) or "",
        details=_text(body.get("details")),
        details_xml=None if details_xml is None else b"".join(
            etree.tostring(c, encoding="UTF-8") for c in _children(details_xml)
        ),
    )


def parse_root(raw: bytes) -> etree._Element:
    """The parsed (not yet checked) root of an envelope: size, hardened parse. Raises EnvelopeError."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise fail("ENVELOPE_NOT_XML", "an envelope must be given as bytes")
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise fail("ENVELOPE_TOO_LARGE", f"the envelope is {_size(len(raw))}; the limit is 25 MB, payload included")
    parsed = xmlparse.parse(bytes(raw), _LIMITS, huge_text=True)
    if not parsed.ok:
        first = next(i for i in parsed.issues if i.severity == "error")
        raise fail("ENVELOPE_NOT_XML", first.text, line=first.line)
    return parsed.root


def check_root(root: etree._Element) -> str:
    """The berichtcode of a parsed envelope root, after its root and our schema are checked."""
    tag = root.tag if isinstance(root.tag, str) else ""
    namespace, _, localname = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    berichtcode = ROOTS.get((namespace, localname))
    if berichtcode is None:
        bare = localname == "Bericht" and namespace.startswith("http://www.istandaarden.nl/")
        what = "a bare iJw/iWmo message" if bare else f"'{localname[:60]}' in namespace '{namespace[:100]}'"
        raise fail("NOT_AN_ENVELOPE", f"the root element is {what}, not a StUF envelope "
                   "(ggk0210-Di01, ggk0210-Du01) or a StUF Fo01, Fo03 or Bv03", line=root.sourceline)
    found = schema.findings(root, schema.for_reading())
    if found:
        found = sorted(found + _payload_findings(root), key=lambda f: f.line or 0)
        first = found[0]
        more = f" ({len(found) - 1} more finding(s))" if len(found) > 1 else ""
        raise fail(first.code, first.text + more, path=first.path, line=first.line)
    return berichtcode


def parse_envelope(raw: bytes) -> tuple[etree._Element, str]:
    """The checked root element and its berichtcode (size, hardened parse, root, schema)."""
    root = parse_root(raw)
    return root, check_root(root)


def read(raw: bytes) -> Envelope | Fout | Bevestiging:
    """Check and read one StUF message of the chain. Raises EnvelopeError."""
    return read_root(parse_root(raw))


def read_root(root: etree._Element) -> Envelope | Fout | Bevestiging:
    """Check and read the parsed root of a StUF message of the chain (`parse_root`)."""
    berichtcode = check_root(root)
    if berichtcode in ("Di01", "Du01"):
        return _envelope(root, berichtcode)
    if berichtcode in ("Fo01", "Fo03"):
        return _fout(root, berichtcode)
    return Bevestiging(berichtcode=berichtcode, stuurgegevens=_stuurgegevens(_fields(root)["stuurgegevens"], berichtcode))
