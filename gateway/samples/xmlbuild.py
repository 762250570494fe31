"""Small lxml helpers shared by the sample builders: namespaces, headers, dates, serialisation."""

from __future__ import annotations

import calendar
import uuid
from datetime import date

from lxml import etree

from gateway import clock
from gateway.catalog import MessageType, by_number

# The versions the official XSDs state in their xs:appinfo (BasisschemaXsdVersie, BerichtXsdVersie).
# iJw 3.2 says 0.1.0 while iWmo 3.2 says 1.0.0 (digest §7.6 notes the discrepancy); we copy what the XSDs say.
XSD_VERSIONS: dict[str, tuple[str, str]] = {"ijw": ("0.1.0", "0.1.0"), "iwmo": ("1.0.0", "1.0.0")}


def unique_id(prefix: str = "", length: int = 12) -> str:
    """A fresh identifier of at most `length` characters (letters and digits only)."""
    raw = prefix + uuid.uuid4().hex
    return raw[:length]


def today() -> date:
    return clock.today()


def first_of_month(d: date) -> date:
    return d.replace(day=1)


def last_of_month(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def add_months(d: date, months: int) -> date:
    """The first day of the month `months` away from d's month."""
    index = d.year * 12 + (d.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def previous_month(d: date | None = None) -> tuple[date, date]:
    """(first day, last day) of the calendar month before d (default: today)."""
    first = add_months(d or today(), -1)
    return first, last_of_month(first)


def iso(d: date | str) -> str:
    return d if isinstance(d, str) else d.isoformat()


# Elements whose children are declared in the basisschema namespace: their types are the
# basisschema's CDT_* complex types and its elementFormDefault is qualified (same set in iJw and iWmo).
BASIS_PARENTS: frozenset[str] = frozenset(
    "Adres BerichtIdentificatie Communicatie DeclaratieIdentificatie DeclaratiePeriode Geboortedatum "
    "Geslachtsnaam Huis IngediendBedrag Naam Omvang Partnernaam Periode Product ProductPeriode "
    "ProductReferentie Telefoon Telefoon01 Telefoon02 TotaalIngediendBedrag TotaalToegekendBedrag "
    "Verwijzer XsdVersie XsdVersieDeclaratie XsdVersieRetour".split()
)


class Builder:
    """Creates elements of one message type: `b.el(parent, "Naam", text)` picks the right namespace."""

    def __init__(self, mtype: MessageType) -> None:
        self.mtype = mtype
        self.ns = mtype.namespace
        self.basis = mtype.basis_namespace

    def root(self) -> etree._Element:
        return etree.Element(f"{{{self.ns}}}Bericht", nsmap={None: self.ns, self.mtype.standard: self.basis})

    def el(self, parent: etree._Element, name: str, text: object = None) -> etree._Element:
        parent_name = parent.tag.rsplit("}", 1)[-1]
        ns = self.basis if parent_name in BASIS_PARENTS else self.ns
        child = etree.SubElement(parent, f"{{{ns}}}{name}")
        if text is not None:
            child.text = iso(text) if isinstance(text, date) else str(text)
        return child

    def opt(self, parent: etree._Element, name: str, text: object) -> etree._Element | None:
        """Add the element only when it has a value (optional elements are absent, never empty: RS033)."""
        if text is None:
            return None
        return self.el(parent, name, text)


def message_type(standard: str, number: str) -> MessageType:
    return by_number(standard, number)


def versions(b: Builder, parent: etree._Element, name: str, standard: str) -> None:
    basis, bericht = XSD_VERSIONS[standard]
    v = b.el(parent, name)
    b.el(v, "BasisschemaXsdVersie", basis)
    b.el(v, "BerichtXsdVersie", bericht)


def heen_header(
    b: Builder,
    root: etree._Element,
    *,
    gemeente: str,
    aanbieder: str,
    identificatie: str | None,
    dagtekening: date | str | None,
) -> etree._Element:
    """The header of a heenbericht; Afzender/Ontvanger follow the message's direction (digest §1.2)."""
    mt = b.mtype
    h = b.el(root, "Header")
    b.el(h, "BerichtCode", mt.berichtcode)
    b.el(h, "BerichtVersie", "3")
    b.el(h, "BerichtSubversie", "2")
    sender, receiver = (gemeente, aanbieder) if mt.sender_role == "gemeente" else (aanbieder, gemeente)
    b.el(h, "Afzender", sender)
    b.el(h, "Ontvanger", receiver)
    bi = b.el(h, "BerichtIdentificatie")
    b.el(bi, "Identificatie", identificatie or unique_id())
    b.el(bi, "Dagtekening", dagtekening or today())
    versions(b, h, "XsdVersie", mt.standard)
    return h


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
