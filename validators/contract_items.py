"""What the contract rules read from a message: the parties and each product-bearing class.

One `Item` per ToegewezenProduct (301), StartProduct (305), AangevraagdProduct (315), NieuwProduct
(317) or Prestatie (323), with the date on which the contract must hold for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lxml import etree

from gateway.catalog import MessageType
from validators.extract import as_date, declaratie
from validators.paths import child, children, local_name, text


@dataclass(slots=True)
class Item:
    el: etree._Element  # the class that carries the retourcode
    category: str | None
    code: str | None
    on: date | None  # the date the contract must hold on
    bsn: str | None = None
    toewijzing_nummer: str | None = None
    unit: str | None = None
    frequency: str | None = None  # Omvang/Frequentie of an allocation or request
    volume: int | None = None
    tarief: int | None = None
    bedrag: int | None = None
    debet_credit: str | None = None
    # 301: no RedenWijziging (initial grant or unchanged resend); decided on `decided_on`.
    initial: bool = False
    decided_on: date | None = None
    verwijzer_type: str | None = None
    deleted: bool = False  # 305/307 StatusAanlevering 3: no content checks

    def product_el(self, name: str) -> etree._Element:
        """The element to point at for the product's `name` ("Code", "Categorie", "Eenheid", ...)."""
        for path in ((name,), ("Product", name), (f"Product{name}",)):
            node = self.el
            for step in path:
                node = child(node, step)
            if node is not None:
                return node
        return self.el


@dataclass
class Parties:
    gemeente: str | None
    aanbieder: str | None


def parties(root: etree._Element, mtype: MessageType) -> Parties:
    header = child(root, "Header")
    afzender, ontvanger = text(header, "Afzender"), text(header, "Ontvanger")
    if mtype.sender_role == "gemeente":
        return Parties(gemeente=afzender, aanbieder=ontvanger)
    return Parties(gemeente=ontvanger, aanbieder=afzender)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def items(root: etree._Element, mtype: MessageType) -> list[Item]:
    n = mtype.number
    if n == "323":
        return _prestaties(root)
    client = child(root, "Client")
    if client is None:
        return []
    bsn = text(client, "Bsn")
    out: list[Item] = []
    if n == "301":
        for tp in _group(client, "ToegewezenProducten", "ToegewezenProduct"):
            out.append(
                Item(
                    el=tp,
                    category=text(tp, "Product", "Categorie"),
                    code=text(tp, "Product", "Code"),
                    on=as_date(text(tp, "Ingangsdatum")),
                    bsn=bsn,
                    toewijzing_nummer=text(tp, "ToewijzingNummer"),
                    unit=text(tp, "Omvang", "Eenheid"),
                    frequency=text(tp, "Omvang", "Frequentie"),
                    initial=not text(tp, "RedenWijziging"),
                    decided_on=as_date(text(tp, "Toewijzingsdatum")),
                )
            )
    elif n in ("305", "307"):
        group, name = ("StartProducten", "StartProduct") if n == "305" else ("StopProducten", "StopProduct")
        for sp in _group(client, group, name):
            out.append(
                Item(
                    el=sp,
                    category=text(sp, "Product", "Categorie"),
                    code=text(sp, "Product", "Code"),
                    on=as_date(text(sp, "Begindatum")),
                    bsn=bsn,
                    toewijzing_nummer=text(sp, "ToewijzingNummer"),
                    deleted=text(sp, "StatusAanlevering") == "3",
                )
            )
    elif n == "315":
        for ap in _group(client, "AangevraagdeProducten", "AangevraagdProduct"):
            out.append(
                Item(
                    el=ap,
                    category=text(ap, "Product", "Categorie"),
                    code=text(ap, "Product", "Code"),
                    on=as_date(text(ap, "ToewijzingIngangsdatum")),
                    bsn=bsn,
                    unit=text(ap, "Omvang", "Eenheid"),
                    frequency=text(ap, "Omvang", "Frequentie"),
                    verwijzer_type=text(ap, "Verwijzer", "Type"),
                    initial=True,
                )
            )
    elif n == "317":
        verzoek = child(client, "Verzoek")
        for np_ in _group(verzoek, "NieuweProducten", "NieuwProduct") if verzoek is not None else []:
            out.append(
                Item(
                    el=np_,
                    category=text(np_, "Product", "Categorie"),
                    code=text(np_, "Product", "Code"),
                    on=as_date(text(np_, "GewensteIngangsdatum")),
                    bsn=bsn,
                    unit=text(np_, "Omvang", "Eenheid"),
                    frequency=text(np_, "Omvang", "Frequentie"),
                    initial=True,
                )
            )
    return out


def _group(parent: etree._Element, group: str, name: str) -> list[etree._Element]:
    g = child(parent, group)
    return children(g, name) if g is not None else []


def _prestaties(root: etree._Element) -> list[Item]:
    """From the declaration the cross-message rules and the store read too (validators.extract:
    read once per message), not from the tree again."""
    d = declaratie(root)
    if d.el is None or local_name(d.el) != "Declaratie":
        return []
    return [
        Item(
            el=p.el, category=p.categorie, code=p.code, on=p.periode_begin, bsn=p.bsn,
            toewijzing_nummer=p.toewijzingnummer, unit=p.eenheid, volume=p.volume, tarief=p.tarief,
            bedrag=p.bedrag, debet_credit=p.debet_credit,
        )
        for p in d.prestaties
    ]
