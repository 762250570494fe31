"""Envelope corpus for the StUF-GGk conformance test: valid envelopes and single mutations of them.

Valid bases: the envelopes the gateway builds itself (a Di01 for every heenbericht type, a Du01 for
every retour and the 325, Fo01, Fo03, Bv03) and variants the specification allows (optional
elements, a tekstBestand, base64 with line breaks, an empty fixed berichtcode, ...). Callers add
the official example envelopes. Mutations, each applied to every element or field where it makes
sense: missing, duplicated, unknown and reordered elements, wrong namespace, stray text and
attributes, and value mutations of berichtcode, references (bad UUIDs), tijdstip, versions,
functie, party fields, bestandsnaam, base64 and the Fo01 body.

`expect` is what the official schema should say (True valid, False invalid, None: not known in
advance, e.g. a mutation that may keep the document valid); the test checks both schemas agree
on every sample and that the official verdict matches every expectation given.

    samples(bases)     -> [Sample(kind, where, xml, expect), ...]
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree

from gateway import catalog, ggk, samples
from gateway.ggk.model import NS_GGK, NS_STUF

UUID4 = "0e09a81f-64a0-4793-b946-d6538fb3f37e"


@dataclass(frozen=True)
class Sample:
    kind: str
    where: str  # base name and the element or field mutated
    xml: bytes
    expect: bool | None


# -- valid bases ---------------------------------------------------------------------------------


def own_envelopes() -> dict[str, bytes]:
    """What the gateway itself builds, for every message type of both standards."""
    out: dict[str, bytes] = {}
    for mtype in catalog.ALL:
        if mtype.kind != "heen":
            continue
        heen = samples.build(mtype.code)
        di01 = ggk.wrap(heen)
        out[f"Di01 {mtype.code}"] = di01
        opened = ggk.unwrap(di01)
        answer = samples.declaration_answer(heen) if mtype.number == "323" else samples.retour(heen)
        out[f"Du01 {mtype.answered_by.code}"] = ggk.wrap_retour(answer, opened.envelope)
    di01 = out["Di01 JW301"]
    received = ggk.read(di01)
    out["Fo01 StUF055"] = ggk.fo01(di01, received, "Bsn: value too short")
    error = ggk.EnvelopeError(ggk.errors.error("REFERENCE_NOT_UUID4", "referentienummer 'x'")).error
    out["Fo03 IB009"] = ggk.fo03(error, received.stuurgegevens)
    out["Fo03 unknown sender"] = ggk.fo03(error, None)
    out["Bv03"] = ggk.bv03(received.stuurgegevens)
    return out


def _find(root: etree._Element, local: str) -> etree._Element:
    return next(e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == local)


def set_field(xml: bytes, local: str, value: str) -> bytes:
    """The envelope with the text of its first element named `local` replaced."""
    root = etree.fromstring(xml)
    _find(root, local).text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_payload(xml: bytes, payload: bytes | str) -> bytes:
    """The envelope carrying `payload` (bytes are base64-encoded, a str goes in as it is)."""
    return set_field(xml, "xmlBestand", payload if isinstance(payload, str) else base64.b64encode(payload).decode())


def _variant(xml: bytes, change: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(xml)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _optional_parties(root: etree._Element) -> None:
    for name in ("zender", "ontvanger"):
        party = _find(root, name)
        etree.SubElement(party, f"{{{NS_STUF}}}administratie").text = "Samenwerkingsverband Holland Rijnland"
        etree.SubElement(party, f"{{{NS_STUF}}}gebruiker").text = ""


def _tekst(root: etree._Element) -> None:
    el = _find(root, "xmlBestand")
    el.tag = f"{{{NS_GGK}}}tekstBestand"
    el.set("bestandsnaam", "Aanlevering_Q1-2027." + "x" * 200 + ".csv")


def _wrapped_base64(root: etree._Element) -> None:
    el = _find(root, "xmlBestand")
    text = el.text
    el.text = "\n" + "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"


def _set(local: str, value: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        _find(root, local).text = value

    return change


def _drop(local: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        el = _find(root, local)
        el.getparent().remove(el)

    return change


def _drop_zender_organisatie(root: etree._Element) -> None:
    zender = _find(root, "zender")
    zender.remove(_find(zender, "organisatie"))


def valid_variants(own: dict[str, bytes]) -> dict[str, bytes]:
    di01, du01, fo01 = own["Di01 WMO301"], own["Du01 JW302"], own["Fo01 StUF055"]
    return {
        "Di01 optional party fields": _variant(di01, _optional_parties),
        "Du01 optional party fields": _variant(du01, _optional_parties),
        "Di01 tekstBestand 224 chars": _variant(di01, _tekst),
        "Di01 base64 in 76-char lines": _variant(di01, _wrapped_base64),
        "Di01 empty xmlBestand": _variant(di01, _set("xmlBestand", "")),
        "Di01 tijdstip 17 digits": _variant(di01, _set("tijdstipBericht", "20270131235959999")),
        "Di01 tijdstip 8 digits": _variant(di01, _set("tijdstipBericht", "20270131")),
        "Di01 functie 30 chars": _variant(di01, _set("functie", "F" * 30)),
        "Fo01 empty berichtcode (fixed)": _variant(fo01, _set("berichtcode", "")),
        "Fo01 without details": _variant(fo01, _drop("details")),
        "Fo01 without detailsXML": _variant(fo01, _drop("detailsXML")),
        "Fo01 v1 crossRefnummer": _variant(fo01, _set("crossRefnummer", "9c0f7b90-5c69-11e5-a837-0800200c9a66")),
        "Bv03 without zender organisatie": _variant(own["Bv03"], _drop_zender_organisatie),
    }


# -- mutations -----------------------------------------------------------------------------------


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and e is not root]


def _path(el: etree._Element) -> str:
    parts = []
    while el is not None:
        parts.append(etree.QName(el).localname)
        el = el.getparent()
    return "/" + "/".join(reversed(parts))


def _in_details(el: etree._Element) -> bool:
    """Inside detailsXML anything goes (processContents skip): structural mutations there say
    nothing about the schema."""
    return any(etree.QName(a).localname == "detailsXML" for a in el.iterancestors())


def _structural(xml: bytes) -> Iterator[tuple[str, str, bytes, bool | None]]:
    root = etree.fromstring(xml)
    for i, el in enumerate(_elements(root)):
        if _in_details(el):
            continue
        where = _path(el)

        def mutate(fn: Callable[[etree._Element, etree._Element], None]) -> bytes:
            r = etree.fromstring(xml)
            fn(r, _elements(r)[i])
            return etree.tostring(r, encoding="UTF-8")

        yield "missing", where, mutate(lambda r, e: e.getparent().remove(e)), None
        yield "duplicated", where, mutate(lambda r, e: e.addnext(copy.deepcopy(e))), None
        yield "unknown element", where, mutate(
            lambda r, e: e.addnext(etree.Element(f"{{{etree.QName(e).namespace}}}extra"))
        ), False
        yield "wrong namespace", where, mutate(
            lambda r, e: setattr(e, "tag", f"{{{NS_GGK if etree.QName(e).namespace == NS_STUF else NS_STUF}}}{etree.QName(e).localname}")
        ), False
        yield "unknown attribute", where, mutate(lambda r, e: e.set("extra", "1")), False
        if any(isinstance(c.tag, str) for c in el):
            yield "stray text", where, mutate(lambda r, e: setattr(e, "text", "tekst")), False
        nxt = el.getnext()
        if nxt is not None and isinstance(nxt.tag, str) and etree.QName(nxt).localname != etree.QName(el).localname:
            yield "order", where, mutate(lambda r, e: e.addprevious(e.getnext())), None


# field (local name) -> values, each with the official verdict expected (None: depends on the base)
_BAD_UUIDS = [
    "9c0f7b90-5c69-11e5-a837-0800200c9a66",  # version 1
    "0E09A81F-64A0-4793-B946-D6538FB3F37E",  # upper case
    "0e09a81f64a04793b946d6538fb3f37e",  # no hyphens
    "0e09a81f-64a0-4793-c946-d6538fb3f37e",  # wrong variant
    "{0e09a81f-64a0-4793-b946-d6538fb3f37e}",
    " 0e09a81f-64a0-4793-b946-d6538fb3f37e",
    "",
    "x" * 41,
]
VALUES: dict[str, list[tuple[str, bool | None]]] = {
    "berichtcode": [(c, None) for c in ("Di01", "Du01", "Fo01", "Fo03", "Bv03")]
    + [("Lk01", False), ("di01", False), (" Di01", False), ("", None)],
    "referentienummer": [(UUID4, True)] + [(u, None) for u in _BAD_UUIDS],
    "crossRefnummer": [(UUID4, True)] + [(u, None) for u in _BAD_UUIDS],
    "tijdstipBericht": [("2027013", False), ("2" * 18, False), ("2027-01-31", False), ("20270131T1200", False)],
    "functie": [("F" * 31, False), ("", True), ("WMO302", True)],
    "applicatieVersie": [("004", False), ("00004", False), ("v004", False), ("", False)],
    "functieSubversie": [("0002 ", False), ("٠٠٠٢", None)],
    "organisatie": [("x" * 200, True), ("x" * 201, False), ("", True)],
    "applicatie": [("abc", True), ("ab", False), ("x" * 50, True), ("x" * 51, False)],
    "administratie": [("x" * 51, False)],
    "gebruiker": [("x" * 101, False)],
    # libxml2's base64Binary lets '%%%%' and 'é' through (both schemas alike); the strict decode
    # after the schema refuses them (PAYLOAD_BASE64, tests/ggk/test_envelope.py).
    "xmlBestand": [("%%%%", None), ("QQ", False), ("QQ=", False), ("QQ==", True), ("Q Q = =", None),
                   ("QQ==QQ==", False), ("é", None), ("SGVsbG8=\n\tSGVsbG8=", None)],
    "code": [("StUF055", True), ("StUF0551", False)],
    "plek": [("client", True), ("server", True), ("Client", False), ("", False)],
    "omschrijving": [("x" * 200, True), ("x" * 201, False)],
    "details": [("x" * 1000, True), ("x" * 1001, False)],
}
BESTANDSNAMEN: list[tuple[str, bool]] = [
    ("a.cs", True), ("abc", False), ("x" * 255, True), ("x" * 256, False), ("met spatie.csv", False),
    ("café.csv", False), ("a/b.csv", False), ("Aanlevering-Q1_2027.csv", True), ("", False),
]


def _values(xml: bytes) -> Iterator[tuple[str, str, bytes, bool | None]]:
    root = etree.fromstring(xml)
    for i, el in enumerate(_elements(root)):
        if _in_details(el):
            continue
        for value, expect in VALUES.get(etree.QName(el).localname, []):
            r = etree.fromstring(xml)
            _elements(r)[i].text = value
            yield "value", f"{_path(el)}={value[:40]!r}", etree.tostring(r, encoding="UTF-8"), expect
    for el in root.iter(f"{{{NS_GGK}}}tekstBestand"):
        for name, expect in BESTANDSNAMEN:
            el.set("bestandsnaam", name)
            yield "bestandsnaam", f"{name[:40]!r}", etree.tostring(root, encoding="UTF-8"), expect
        del el.attrib["bestandsnaam"]
        yield "bestandsnaam", "missing", etree.tostring(root, encoding="UTF-8"), False
    details = [e for e in root.iter(f"{{{NS_STUF}}}detailsXML")]
    for el in details:
        el.text = "tekst"
        yield "detailsXML", "text", etree.tostring(root, encoding="UTF-8"), False
        el.text = None
        etree.SubElement(el, "willekeurig", {"x": "1"}).text = "any element, not checked"
        yield "detailsXML", "any element", etree.tostring(root, encoding="UTF-8"), True


def samples_of(bases: dict[str, bytes]) -> list[Sample]:
    """Every base as a valid sample, and its mutations."""
    out = [Sample("valid", name, xml, True) for name, xml in bases.items()]
    for name, xml in bases.items():
        for kind, where, mutated, expect in (*_structural(xml), *_values(xml)):
            out.append(Sample(kind, f"{name} {where}", mutated, expect))
    return out
