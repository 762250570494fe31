"""The 14 message schemas of iJw 3.2 and iWmo 3.2, described once for both standards.

Heen messages are written out; the technical retours (302, 306, 308, 316, 318, 320) are derived
from their heen message by one rule (`_retour`), as the standard builds them: the retour header
adds the retour fields, the body becomes optional, and every class (not the list containers)
gets a mandatory `RetourCodes` as its last child. The 325 (declaratie-antwoord) has its own shape.

iWmo differs structurally only in two places: WMO315/WMO316 have no `GezagsdragerBekend`, and
WMO319/WMO320 have no `Woonplaatsbeginsel` (digest §1.5).
"""

from __future__ import annotations

from functools import cache

from gateway import catalog

from .basis import basisschema, version_appinfo
from .core import UNBOUNDED, Complex, Element, Schema, Simple, local_complex_types

OPT = True


def e(name: str, type_: str | Complex | Simple, optional: bool = False) -> Element:
    """A child element; `type_` is a basisschema type name or a message-local type."""
    return Element(name, type_, min_occurs=0 if optional else 1)


def cls(name: str, *children: Element, doc: str | None = None) -> Complex:
    """A message-local class whose type has the element's name."""
    return Complex(name, tuple(children), doc=doc)


def many(container: str, item: Complex, optional: bool = False) -> Element:
    """A list container element (`Relaties`) holding one or more `item` elements (`Relatie`)."""
    wrapper = Complex(container, (Element(item.name, item, 1, UNBOUNDED),))
    return Element(container, wrapper, min_occurs=0 if optional else 1)


def fixed(name: str, base: str, value: str) -> Element:
    """A header element whose value the message fixes by pattern (BerichtCode 436, Versie 3)."""
    return Element(name, Simple(None, base, pattern=value))


# --- header ---------------------------------------------------------------------------------

_PARTY = {"gemeente": "LDT_Gemeente", "aanbieder": "LDT_AgbCode"}


def _header(mtype: catalog.MessageType, sender_role: str) -> Complex:
    receiver = "aanbieder" if sender_role == "gemeente" else "gemeente"
    return cls(
        "Header",
        fixed("BerichtCode", "LDT_BerichtCode", mtype.berichtcode),
        fixed("BerichtVersie", "LDT_BerichtVersie", "3"),
        fixed("BerichtSubversie", "LDT_BerichtSubversie", "2"),
        e("Afzender", _PARTY[sender_role]),
        e("Ontvanger", _PARTY[receiver]),
        e("BerichtIdentificatie", "CDT_BerichtIdentificatie"),
        e("XsdVersie", "CDT_XsdVersie"),
    )


RETOURCODES = cls("RetourCodes", Element("RetourCode", "LDT_RetourCode", 1, UNBOUNDED))


def _retour_header(heen_header: Complex, mtype: catalog.MessageType) -> Complex:
    # A retour copies the heen header (same Afzender/Ontvanger roles), then adds its own fields.
    code = fixed("BerichtCode", "LDT_BerichtCode", mtype.berichtcode)
    base = (code,) + heen_header.children[1:]
    return Complex(
        "Header",
        base
        + (
            e("IdentificatieRetour", "LDT_IdentificatieBericht"),
            e("DagtekeningRetour", "LDT_Datum"),
            e("XsltVersie", "LDT_Versie", OPT),
            e("XsdVersieRetour", "CDT_XsdVersie"),
            e("RetourCodes", RETOURCODES, OPT),
        ),
    )


# --- the heen bodies ------------------------------------------------------------------------

CONTACT = cls(
    "Contact",
    e("Soort", "LDT_AdresSoort"),
    e("Adres", "CDT_Adres", OPT),
    e("Organisatie", "LDT_Organisatienaam", OPT),
    e("Telefoon", "CDT_Telefoonnummers", OPT),
    e("Emailadres", "LDT_Emailadres", OPT),
    e("Periode", "CDT_OpenPeriode", OPT),
    doc="Adres van de client of een relatie.",
)

RELATIE = cls(
    "Relatie",
    e("Nummer", "LDT_Persoonsid"),
    e("Volgorde", "LDT_RelatieVolgorde", OPT),
    e("Soort", "LDT_SoortRelatie"),
    e("Geboortedatum", "CDT_Geboortedatum", OPT),
    e("Geslacht", "LDT_Geslacht", OPT),
    e("Naam", "CDT_VolledigeNaam"),
    e("Contact", CONTACT),
    doc="Persoonsgegevens van een relatie van de client.",
)

TOEGEWEZEN_PRODUCT = cls(
    "ToegewezenProduct",
    e("ToewijzingNummer", "LDT_Nummer"),
    e("ReferentieAanbieder", "LDT_Referentie", OPT),
    e("Product", "CDT_Product", OPT),
    e("Toewijzingsdatum", "LDT_Datum"),
    e("Toewijzingstijd", "LDT_Tijd"),
    e("Ingangsdatum", "LDT_Datum"),
    e("Einddatum", "LDT_Datum", OPT),
    e("RedenWijziging", "LDT_RedenWijziging", OPT),
    e("Omvang", "CDT_Omvang", OPT),
    e("Budget", "LDT_Budget", OPT),
    e("Commentaar", "LDT_Commentaar", OPT),
    doc="Een product dat de gemeente aan de aanbieder toewijst.",
)


def _client_301() -> Complex:
    return cls(
        "Client",
        e("Bsn", "LDT_BurgerServicenummer"),
        e("Geboortedatum", "CDT_Geboortedatum"),
        e("Geslacht", "LDT_Geslacht"),
        e("Naam", "CDT_VolledigeNaam"),
        e("Communicatie", "CDT_Communicatie", OPT),
        e("JuridischeStatus", "LDT_JuridischeStatus", OPT),
        e("WettelijkeVertegenwoordiging", "LDT_WettelijkeVertegenwoordiging", OPT),
        e("Commentaar", "LDT_Commentaar", OPT),
        many("Relaties", RELATIE, OPT),
        many("Contactgegevens", CONTACT),
        many("ToegewezenProducten", TOEGEWEZEN_PRODUCT),
        doc="Persoonsgegevens van de client.",
    )


def _short_client(*rest: Element) -> Complex:
    """The client of 305/307/315: identity with the short name, then the message's own data."""
    return cls(
        "Client",
        e("Bsn", "LDT_BurgerServicenummer"),
        e("Geboortedatum", "CDT_Geboortedatum"),
        e("Geslacht", "LDT_Geslacht"),
        e("Naam", "CDT_VerkorteNaam"),
        *rest,
        doc="Persoonsgegevens van de client.",
    )


_PRODUCT_IDENTITY = (
    e("ToewijzingNummer", "LDT_Nummer", OPT),
    e("Product", "CDT_Product", OPT),
    e("ToewijzingIngangsdatum", "LDT_Datum", OPT),
    e("Begindatum", "LDT_Datum"),
)


def _client_305() -> Complex:
    start = cls("StartProduct", *_PRODUCT_IDENTITY, e("StatusAanlevering", "LDT_StatusAanlevering"),
                doc="Start van de levering van een product.")
    return _short_client(many("StartProducten", start))


def _client_307() -> Complex:
    stop = cls(
        "StopProduct",
        *_PRODUCT_IDENTITY,
        e("RedenBeeindiging", "LDT_RedenBeeindiging"),
        e("Einddatum", "LDT_Datum"),
        e("StatusAanlevering", "LDT_StatusAanlevering"),
        doc="Stop van de levering van een product.",
    )
    return _short_client(many("StopProducten", stop))


def _client_315(standard: str) -> Complex:
    product = cls(
        "AangevraagdProduct",
        e("ReferentieAanbieder", "LDT_Referentie"),
        e("BeschikkingNummer", "LDT_Nummer", OPT),
        e("Product", "CDT_Product", OPT),
        e("BeschikkingIngangsdatum", "LDT_Datum", OPT),
        e("ToewijzingIngangsdatum", "LDT_Datum"),
        e("ToewijzingEinddatum", "LDT_Datum", OPT),
        e("Omvang", "CDT_Omvang", OPT),
        e("Budget", "LDT_Budget", OPT),
        e("Verwijzer", "CDT_Verwijzer"),
        e("Raamcontract", "LDT_JaNee", OPT),
        e("Commentaar", "LDT_Commentaar", OPT),
        doc="Een product waarvoor de aanbieder een toewijzing aanvraagt.",
    )
    client = _short_client(
        e("GezagsdragerBekend", "LDT_JaNee", OPT),
        e("Commentaar", "LDT_Commentaar", OPT),
        many("AangevraagdeProducten", product),
    )
    # Gezag is a Jeugdwet notion: the Wmo request has no GezagsdragerBekend.
    return client.without("GezagsdragerBekend") if standard == "iwmo" else client


def _client_317() -> Complex:
    ongewijzigd = cls("OngewijzigdProduct", e("ToewijzingNummer", "LDT_Nummer"))
    te_wijzigen = cls(
        "TeWijzigenProduct",
        e("ToewijzingNummer", "LDT_Nummer"),
        e("GewensteIngangsdatum", "LDT_Datum"),
        e("Einddatum", "LDT_Datum", OPT),
        e("Omvang", "CDT_Omvang", OPT),
        e("Budget", "LDT_Budget", OPT),
    )
    nieuw = cls(
        "NieuwProduct",
        e("Product", "CDT_Product", OPT),
        e("GewensteIngangsdatum", "LDT_Datum"),
        e("Einddatum", "LDT_Datum", OPT),
        e("Omvang", "CDT_Omvang", OPT),
        e("Budget", "LDT_Budget", OPT),
    )
    verzoek = cls(
        "Verzoek",
        e("ReferentieAanbieder", "LDT_Referentie"),
        e("RedenVerzoek", "LDT_RedenVerzoek"),
        many("OngewijzigdeProducten", ongewijzigd, OPT),
        many("TeWijzigenProducten", te_wijzigen, OPT),
        many("NieuweProducten", nieuw, OPT),
        doc="Verzoek om wijziging van de toewijzingen.",
    )
    return cls("Client", e("Bsn", "LDT_BurgerServicenummer"), e("Verzoek", verzoek))


def _antwoord_319(standard: str) -> Complex:
    antwoord = cls(
        "Antwoord",
        e("ReferentieAanbieder", "LDT_Referentie"),
        e("VerzoekAntwoord", "LDT_VerzoekAntwoord"),
        e("RedenAfwijzingVerzoek", "LDT_RedenAfwijzingVerzoek", OPT),
        e("Woonplaatsbeginsel", cls("Woonplaatsbeginsel", e("Gemeente", "LDT_Gemeente")), OPT),
        doc="Antwoord op een verzoek om toewijzing of wijziging.",
    )
    # The woonplaatsbeginsel (which municipality pays) only exists in the Jeugdwet.
    return antwoord.without("Woonplaatsbeginsel") if standard == "iwmo" else antwoord


PRESTATIE = cls(
    "Prestatie",
    e("ProductReferentie", "CDT_Referentie"),
    e("ToewijzingNummer", "LDT_Nummer"),
    e("ProductCategorie", "LDT_ProductCategorie"),
    e("ProductCode", "LDT_ProductCode"),
    e("ProductPeriode", "CDT_GeslotenPeriode"),
    e("GeleverdVolume", "LDT_Volume"),
    e("Eenheid", "LDT_Eenheid"),
    e("ProductTarief", "LDT_Bedrag", OPT),
    e("IngediendBedrag", "CDT_BedragMetDC"),
    doc="Een gedeclareerde prestatie.",
)


def _declaratie_323() -> Complex:
    client = cls("Client", e("Bsn", "LDT_BurgerServicenummer"), many("Prestaties", PRESTATIE))
    return cls(
        "Declaratie",
        # The declaration number allows only letters and digits, narrower than its type.
        Element("DeclaratieNummer", Simple(None, "LDT_IdentificatieDeclaratie", pattern="([a-zA-Z0-9])+")),
        e("DeclaratiePeriode", "CDT_GeslotenPeriode"),
        e("DeclaratieDagtekening", "LDT_Datum"),
        e("TotaalIngediendBedrag", "CDT_TotaalBedragMetDC"),
        many("Clienten", client),
    )


# --- derivations ----------------------------------------------------------------------------

def _with_retourcodes(ct: Complex) -> Complex:
    """Each class gets its RetourCodes; list containers pass the rule on to their items."""
    children = tuple(
        Element(c.name, _with_retourcodes(c.type), c.min_occurs, c.max_occurs, c.doc)
        if isinstance(c.type, Complex)
        else c
        for c in ct.children
    )
    out = Complex(ct.name, children, ct.doc)
    return out if ct.is_wrapper else out.plus(e("RetourCodes", RETOURCODES))


def _retour(heen: Complex, mtype: catalog.MessageType) -> Complex:
    header_el, body_el = heen.children
    body = _with_retourcodes(body_el.type)
    return cls(
        "Root",
        e("Header", _retour_header(header_el.type, mtype)),
        Element(body_el.name, body, min_occurs=0),  # absent when the whole message is rejected
        doc=f"Retourbericht {mtype.code}.",
    )


def _root_325(mtype: catalog.MessageType) -> Complex:
    header = cls(
        "Header",
        fixed("BerichtCode", "LDT_BerichtCode", mtype.berichtcode),
        *_header(mtype, "gemeente").children[1:],
        e("DeclaratieIdentificatie", "CDT_BerichtIdentificatie"),
        e("XsltVersie", "LDT_Versie", OPT),
        e("XsdVersieDeclaratie", "CDT_XsdVersie"),
        e("RetourCodes", RETOURCODES),
    )
    prestatie = PRESTATIE.plus(e("RetourCodes", RETOURCODES))
    client = cls(
        "Client",
        e("Bsn", "LDT_BurgerServicenummer"),
        many("Prestaties", prestatie),
        e("RetourCodes", RETOURCODES),
    )
    antwoord = cls(
        "DeclaratieAntwoord",
        e("DeclaratieNummer", "LDT_IdentificatieDeclaratie"),
        e("TotaalIngediendBedrag", "CDT_TotaalBedragMetDC"),
        e("TotaalToegekendBedrag", "CDT_TotaalBedragMetDC"),
        many("Clienten", client, OPT),
        e("RetourCodes", RETOURCODES),
    )
    return cls(
        "Root",
        e("Header", header),
        Element("DeclaratieAntwoord", antwoord, min_occurs=0),
        doc=f"Antwoord op een declaratie ({mtype.code}).",
    )


_HEEN_DOC = {
    "301": "Toewijzing van ondersteuning aan een aanbieder.",
    "305": "Start van de levering van ondersteuning.",
    "307": "Stop van de levering van ondersteuning.",
    "315": "Verzoek om toewijzing van ondersteuning.",
    "317": "Verzoek om wijziging van een toewijzing.",
    "319": "Antwoord op een verzoek om toewijzing of wijziging.",
    "323": "Declaratie van geleverde ondersteuning.",
}


def _heen_body(mtype: catalog.MessageType) -> Element:
    n, std = mtype.number, mtype.standard
    if n == "301":
        return e("Client", _client_301())
    if n == "305":
        return e("Client", _client_305())
    if n == "307":
        return e("Client", _client_307())
    if n == "315":
        return e("Client", _client_315(std))
    if n == "317":
        return e("Client", _client_317())
    if n == "319":
        return e("Antwoord", _antwoord_319(std))
    if n == "323":
        return e("Declaratie", _declaratie_323())
    raise KeyError(mtype.code)


def root_type(mtype: catalog.MessageType) -> Complex:
    """The `Root` type (content of `Bericht`) of a message type."""
    if mtype.number == "325":
        return _root_325(mtype)
    if mtype.kind == "retour":
        heen = next(t for t in catalog.all_types(mtype.release)
                    if t.standard == mtype.standard and t.answered_by_number == mtype.number)
        return _retour(root_type(heen), mtype)
    return cls(
        "Root",
        e("Header", _header(mtype, mtype.sender_role)),
        _heen_body(mtype),
        doc=_HEEN_DOC[mtype.number],
    )


@cache
def message_schema(code: str) -> Schema:
    """Our schema of one message type, e.g. message_schema("JW301")."""
    mtype = catalog.by_code(code)
    basis = basisschema(mtype.standard)
    name = mtype.code.lower()
    root = root_type(mtype)
    return Schema(
        standard=mtype.standard,
        name=name,
        file_name=f"{mtype.code}.xsd",
        namespace=mtype.namespace,
        prefix=name,
        appinfo=(("standaard", mtype.standard), ("bericht", name), ("release", mtype.release))
        + version_appinfo(mtype.standard, "Bericht")
        + version_appinfo(mtype.standard, "Basisschema"),
        complex_types=local_complex_types(root),
        root=Element("Bericht", root),
        imports=((mtype.standard, basis.namespace, basis.file_name),),
        basis=basis,
    )
