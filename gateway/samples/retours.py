"""Schema-valid retourberichten (302..320) and declaratie-antwoorden (325) for test corpora.

These are examples, not the gateway's retour logic (that is gateway/retour.py): a retour copies the
heen header unchanged, adds its own identification and versions (IV028, digest §3.2), and may echo
the body with a RetourCodes as the last child of every class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from lxml import etree

from gateway.catalog import by_namespace
from gateway.samples.xmlbuild import Builder, message_type, serialize, today, unique_id, versions
from gateway.xmlparse import hardened_parser
from validators.paths import child, children, local_name, text

# The classes that carry RetourCodes in a retour body, per heen number (from the JW30x retour XSDs).
RETOUR_CLASSES: dict[str, frozenset[str]] = {
    "301": frozenset({"Client", "Relatie", "Contact", "ToegewezenProduct"}),
    "305": frozenset({"Client", "StartProduct"}),
    "307": frozenset({"Client", "StopProduct"}),
    "315": frozenset({"Client", "AangevraagdProduct"}),
    "317": frozenset({"Client", "Verzoek", "OngewijzigdProduct", "TeWijzigenProduct", "NieuwProduct"}),
    "319": frozenset({"Antwoord", "Woonplaatsbeginsel"}),
}


def _parse(message: bytes) -> etree._Element:
    return etree.fromstring(message, hardened_parser())


def _copy_into(b: Builder, src: etree._Element, parent: etree._Element, classes: frozenset[str], code: str) -> None:
    """Copy `src` (and its subtree) into the retour namespace, adding RetourCodes to each class."""
    el = b.el(parent, local_name(src), src.text if len(src) == 0 else None)
    for c in src:
        if isinstance(c.tag, str):
            _copy_into(b, c, el, classes, code)
    if local_name(src) in classes:
        b.el(b.el(el, "RetourCodes"), "RetourCode", code)


def retour(
    heen: bytes,
    *,
    codes: Sequence[str] = (),
    echo: bool = False,
    identificatie: str | None = None,
    dagtekening: date | None = None,
) -> bytes:
    """The retour of a 301/305/307/315/317/319.

    Default: header only, no RetourCodes (fully approved). `codes` puts retourcodes in the header
    (e.g. ["0001"] for a level-2 rejection). `echo=True` echoes the body with 0200 on every class
    and 0200 in the header, the shape of a level-3 rejection report.
    """
    src = _parse(heen)
    mt = by_namespace(etree.QName(src).namespace)
    if mt is None or mt.kind != "heen" or mt.answered_by is None or mt.number == "323":
        raise ValueError("retour() needs a 301, 305, 307, 315, 317 or 319 (a 323 is answered by a 325)")
    rt = mt.answered_by
    b = Builder(rt)
    root = b.root()
    h = b.el(root, "Header")
    src_h = child(src, "Header")
    b.el(h, "BerichtCode", rt.berichtcode)
    for name in ("BerichtVersie", "BerichtSubversie", "Afzender", "Ontvanger"):
        b.el(h, name, text(src_h, name))
    bi = b.el(h, "BerichtIdentificatie")
    b.el(bi, "Identificatie", text(src_h, "BerichtIdentificatie", "Identificatie"))
    b.el(bi, "Dagtekening", text(src_h, "BerichtIdentificatie", "Dagtekening"))
    xv = b.el(h, "XsdVersie")
    b.el(xv, "BasisschemaXsdVersie", text(src_h, "XsdVersie", "BasisschemaXsdVersie"))
    b.el(xv, "BerichtXsdVersie", text(src_h, "XsdVersie", "BerichtXsdVersie"))
    b.el(h, "IdentificatieRetour", identificatie or unique_id("R"))
    b.el(h, "DagtekeningRetour", dagtekening or today())
    versions(b, h, "XsdVersieRetour", rt.standard)
    header_codes = list(codes) or (["0200"] if echo else [])
    if header_codes:
        rc = b.el(h, "RetourCodes")
        for c in header_codes:
            b.el(rc, "RetourCode", c)
    if echo:
        body = src[1]
        _copy_into(b, body, root, RETOUR_CLASSES[mt.number], "0200")
    return serialize(root)


def declaration_answer(
    declaratie: bytes,
    *,
    rejected: Mapping[str, Sequence[str]] | None = None,
    identificatie: str | None = None,
    dagtekening: date | None = None,
    header_codes: Sequence[str] | None = None,
) -> bytes:
    """A 325 answering a 323 (digest §3.3).

    `rejected` maps ReferentieNummer -> retourcodes; those Prestaties are echoed (their Client with
    0200) and TotaalToegekendBedrag is lowered so TR342 holds. Nothing rejected: DeclaratieAntwoord
    8001 with the full total awarded. `header_codes=["0001"]` gives the header-only level-2 rejection.
    """
    src = _parse(declaratie)
    mt = by_namespace(etree.QName(src).namespace)
    if mt is None or mt.number != "323":
        raise ValueError("declaration_answer() needs a 323")
    answer = message_type(mt.standard, "325")
    b = Builder(answer)
    root = b.root()
    src_h = child(src, "Header")
    h = b.el(root, "Header")
    b.el(h, "BerichtCode", answer.berichtcode)
    b.el(h, "BerichtVersie", "3")
    b.el(h, "BerichtSubversie", "2")
    # A 325 is a new message from the gemeente: the 323's receiver becomes the sender.
    b.el(h, "Afzender", text(src_h, "Ontvanger"))
    b.el(h, "Ontvanger", text(src_h, "Afzender"))
    bi = b.el(h, "BerichtIdentificatie")
    b.el(bi, "Identificatie", identificatie or unique_id("A"))
    b.el(bi, "Dagtekening", dagtekening or today())
    versions(b, h, "XsdVersie", answer.standard)
    di = b.el(h, "DeclaratieIdentificatie")
    b.el(di, "Identificatie", text(src_h, "BerichtIdentificatie", "Identificatie"))
    b.el(di, "Dagtekening", text(src_h, "BerichtIdentificatie", "Dagtekening"))
    xd = b.el(h, "XsdVersieDeclaratie")  # copied from the 323 (TR371)
    b.el(xd, "BasisschemaXsdVersie", text(src_h, "XsdVersie", "BasisschemaXsdVersie"))
    b.el(xd, "BerichtXsdVersie", text(src_h, "XsdVersie", "BerichtXsdVersie"))
    rc = b.el(h, "RetourCodes")
    for c in header_codes or ["0200"]:
        b.el(rc, "RetourCode", c)
    if header_codes and "0200" not in header_codes:
        return serialize(root)  # level-2 or header rejection: no DeclaratieAntwoord

    decl = child(src, "Declaratie")
    rejected = dict(rejected or {})
    total = int(text(decl, "TotaalIngediendBedrag", "TotaalBedrag"))
    total_sign = text(decl, "TotaalIngediendBedrag", "DebetCredit")
    signed_total = total if total_sign == "D" else -total
    echoed: list[tuple[etree._Element, list[etree._Element]]] = []
    rejected_sum = 0
    for client in children(child(decl, "Clienten"), "Client"):
        hits = []
        for p in children(child(client, "Prestaties"), "Prestatie"):
            if text(p, "ProductReferentie", "ReferentieNummer") in rejected:
                hits.append(p)
                amount = int(text(p, "IngediendBedrag", "Bedrag"))
                rejected_sum += amount if text(p, "IngediendBedrag", "DebetCredit") == "D" else -amount
        if hits:
            echoed.append((client, hits))
    awarded = signed_total - rejected_sum
    da = b.el(root, "DeclaratieAntwoord")
    b.el(da, "DeclaratieNummer", text(decl, "DeclaratieNummer"))
    _amount(b, da, "TotaalIngediendBedrag", signed_total)
    _amount(b, da, "TotaalToegekendBedrag", awarded)
    if echoed:
        cl = b.el(da, "Clienten")
        for client, hits in echoed:
            c = b.el(cl, "Client")
            b.el(c, "Bsn", text(client, "Bsn"))
            ps = b.el(c, "Prestaties")
            for p in hits:
                e = b.el(ps, "Prestatie")
                for part in p:
                    if isinstance(part.tag, str):
                        _copy_into(b, part, e, frozenset(), "")
                prc = b.el(e, "RetourCodes")
                for code in rejected[text(p, "ProductReferentie", "ReferentieNummer")]:
                    b.el(prc, "RetourCode", code)
            b.el(b.el(c, "RetourCodes"), "RetourCode", "0200")
    b.el(b.el(da, "RetourCodes"), "RetourCode", "0200" if echoed else "8001")
    return serialize(root)


def _amount(b: Builder, parent: etree._Element, name: str, signed: int) -> None:
    t = b.el(parent, name)
    b.el(t, "TotaalBedrag", abs(signed))
    b.el(t, "DebetCredit", "C" if signed < 0 else "D")

