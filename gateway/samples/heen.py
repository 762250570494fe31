"""Scenario builders for the heenberichten 301, 305, 307, 315, 317, 319 and 323 (iJw and iWmo 3.2).

Each returns UTF-8 XML bytes valid against the official XSD and coherent with the in-message rules
(TR002, TR006, TR061, TR101, TR134, TR137, TR302, TR335, TR358, TR383, CDxxx/CSxxx) as long as the
parameters passed are coherent themselves: the builders copy what they are given, so a test can
also build a message that breaks one rule on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from lxml import etree

from gateway.samples.bsn import BSNS
from gateway.samples.params import (
    Allocated,
    NewProduct,
    Prestatie,
    Requested,
    Started,
    Stopped,
    ToChange,
    Unchanged,
    resolve,
)
from gateway.samples.xmlbuild import (
    Builder,
    heen_header,
    message_type,
    previous_month,
    serialize,
    today,
    unique_id,
)

GEMEENTE = "0599"  # Rotterdam, a CBS code in the 2026 list
AANBIEDER = "12345678"


def default_birth_date(standard: str) -> date:
    """A sane Geboortedatum (TR002): a child of ten for iJw, a person of seventy for iWmo."""
    years = 10 if standard == "ijw" else 70
    t = today()
    return date(t.year - years, 6 if t.month != 6 else 5, 15)


def _builder(standard: str, number: str) -> tuple[Builder, etree._Element]:
    b = Builder(message_type(standard, number))
    return b, b.root()


def _birth(b: Builder, parent: etree._Element, geboortedatum: date) -> None:
    g = b.el(parent, "Geboortedatum")
    b.el(g, "Datum", geboortedatum)


def _short_client(b, root, bsn: str, geboortedatum: date) -> etree._Element:
    """Client with Bsn, Geboortedatum, Geslacht and CDT_VerkorteNaam (305, 307, 315)."""
    c = b.el(root, "Client")
    b.el(c, "Bsn", bsn)
    _birth(b, c, geboortedatum)
    b.el(c, "Geslacht", "2")
    n = b.el(c, "Naam")
    gn = b.el(n, "Geslachtsnaam")
    b.el(gn, "Achternaam", "Jansen")
    b.el(n, "Voorletters", "E")
    return c


def _full_name(b, parent, achternaam: str, voorletters: str) -> None:
    n = b.el(parent, "Naam")
    gn = b.el(n, "Geslachtsnaam")
    b.el(gn, "Achternaam", achternaam)
    b.el(n, "Voorletters", voorletters)
    b.el(n, "NaamGebruik", "1")  # no Partnernaam, so 1 (CS050); never 6 for a client (CS318)


def _address_contact(b, parent, soort: str = "01") -> None:
    """A Contact with Huis + Postcode (TR006, CD025, CD034) and LandCode NL (CD005, CS089)."""
    c = b.el(parent, "Contact")
    b.el(c, "Soort", soort)
    a = b.el(c, "Adres")
    h = b.el(a, "Huis")
    b.el(h, "Huisnummer", "12")
    b.el(a, "Postcode", "3011AB")
    b.el(a, "Straatnaam", "Coolsingel")
    b.el(a, "Plaatsnaam", "Rotterdam")
    b.el(a, "LandCode", "NL")


def _phone_contact(b, parent, soort: str = "02") -> None:
    """A Contact reached by Telefoon only (TR006 allows it; no Postcode needed for Soort 02)."""
    c = b.el(parent, "Contact")
    b.el(c, "Soort", soort)
    t = b.el(c, "Telefoon")
    t1 = b.el(t, "Telefoon01")
    b.el(t1, "Telefoonnummer", "0101234567")
    b.el(t1, "Landnummer", "0031")


def _product(b, parent, categorie: str | None, code: str | None) -> None:
    if categorie is None:
        return
    p = b.el(parent, "Product")
    b.el(p, "Categorie", categorie)
    b.opt(p, "Code", code)


def _omvang(b, parent, volume, eenheid, frequentie) -> None:
    if volume is None:
        return
    o = b.el(parent, "Omvang")
    b.el(o, "Volume", volume)
    b.el(o, "Eenheid", eenheid)
    b.el(o, "Frequentie", frequentie)


def allocation(
    standard: str = "ijw",
    *,
    gemeente: str = GEMEENTE,
    aanbieder: str = AANBIEDER,
    identificatie: str | None = None,
    dagtekening: date | None = None,
    bsn: str = BSNS[0],
    geboortedatum: date | None = None,
    products: Sequence[Allocated] | None = None,
    relatie: bool | None = None,
) -> bytes:
    """A 301 (toewijzing) for one client. `relatie` adds a parent as Relatie (default: iJw only)."""
    b, root = _builder(standard, "301")
    heen_header(b, root, gemeente=gemeente, aanbieder=aanbieder, identificatie=identificatie, dagtekening=dagtekening)
    c = b.el(root, "Client")
    b.el(c, "Bsn", bsn)
    _birth(b, c, geboortedatum or default_birth_date(standard))
    b.el(c, "Geslacht", "2")
    _full_name(b, c, "Jansen", "E")
    if relatie if relatie is not None else standard == "ijw":
        rels = b.el(c, "Relaties")
        r = b.el(rels, "Relatie")
        b.el(r, "Nummer", "1")
        b.el(r, "Soort", "10")  # ouder
        _full_name(b, r, "Jansen", "P")
        _phone_contact(b, r)
    cg = b.el(c, "Contactgegevens")
    _address_contact(b, cg, "01")  # a BRP address (TR061)
    tps = b.el(c, "ToegewezenProducten")
    for item in products if products is not None else (Allocated(),):
        p = resolve(item, standard)
        tp = b.el(tps, "ToegewezenProduct")
        b.el(tp, "ToewijzingNummer", p.toewijzingnummer)
        b.opt(tp, "ReferentieAanbieder", p.referentie_aanbieder)
        _product(b, tp, p.categorie, p.code)
        b.el(tp, "Toewijzingsdatum", p.toewijzingsdatum)
        b.el(tp, "Toewijzingstijd", p.toewijzingstijd)
        b.el(tp, "Ingangsdatum", p.ingangsdatum)
        b.opt(tp, "Einddatum", p.einddatum)
        b.opt(tp, "RedenWijziging", p.reden_wijziging)
        _omvang(b, tp, p.volume, p.eenheid, p.frequentie)
        b.opt(tp, "Budget", p.budget)
        b.opt(tp, "Commentaar", p.commentaar)
    return serialize(root)


def _start_stop_item(b, parent, name: str, p: Started | Stopped) -> None:
    sp = b.el(parent, name)
    b.opt(sp, "ToewijzingNummer", p.toewijzingnummer)
    _product(b, sp, p.categorie, p.code)
    b.opt(sp, "ToewijzingIngangsdatum", p.toewijzing_ingangsdatum)
    b.el(sp, "Begindatum", p.begindatum)
    if isinstance(p, Stopped):
        b.el(sp, "RedenBeeindiging", p.reden_beeindiging)
        b.el(sp, "Einddatum", p.einddatum)
    b.el(sp, "StatusAanlevering", p.status)


def start(
    standard: str = "ijw",
    *,
    gemeente: str = GEMEENTE,
    aanbieder: str = AANBIEDER,
    identificatie: str | None = None,
    dagtekening: date | None = None,
    bsn: str = BSNS[0],
    geboortedatum: date | None = None,
    products: Sequence[Started] | None = None,
) -> bytes:
    """A 305 (start zorg) from the aanbieder."""
    return _regie(standard, "305", "StartProduct", (Started(),) if products is None else products, gemeente=gemeente,
                  aanbieder=aanbieder, identificatie=identificatie, dagtekening=dagtekening, bsn=bsn,
                  geboortedatum=geboortedatum)


def stop(
    standard: str = "ijw",
    *,
    gemeente: str = GEMEENTE,
    aanbieder: str = AANBIEDER,
    identificatie: str | None = None,
    dagtekening: date | None = None,
    bsn: str = BSNS[0],
    geboortedatum: date | None = None,
    products: Sequence[Stopped] | None = None,
) -> bytes:
    """A 307 (stop zorg) from the aanbieder."""
    return _regie(standard, "307", "StopProduct", (Stopped(),) if products is None else products, gemeente=gemeente,
                  aanbieder=aanbieder, identificatie=identificatie, dagtekening=dagtekening, bsn=bsn,
                  geboortedatum=geboortedatum)


def _regie(standard: str, number: str, item_name: str, products: Sequence[Started | Stopped], *,
           gemeente: str, aanbieder: str, identificatie: str | None, dagtekening: date | None,
           bsn: str, geboortedatum: date | None) -> bytes:
    """A start (305) or stop (307): the same header and client, then one item per product."""
    b, root = _builder(standard, number)
    heen_header(b, root, gemeente=gemeente, aanbieder=aanbieder, identificatie=identificatie, dagtekening=dagtekening)
    c = _short_client(b, root, bsn, geboortedatum or default_birth_date(standard))
    group = b.el(c, item_name.replace("Product", "Producten"))
    for item in products:
        _start_stop_item(b, group, item_name, resolve(item, standard))
    return serialize(root)


def request(
    standard: str = "ijw",
    *,
    gemeente: str = GEMEENTE,
    aanbieder: str = AANBIEDER,
    identificatie: str | None = None,
    dagtekening: date | None = None,
    bsn: str = BSNS[0],
    geboortedatum: date | None = None,
    gezagsdrager_bekend: str | None = None,
    products: Sequence[Requested] | None = None,
) -> bytes:
    """A 315 (verzoek om toewijzing); every AangevraagdProduct has its own ReferentieAanbieder (TR383)."""
    b, root = _builder(standard, "315")
    heen_header(b, root, gemeente=gemeente, aanbieder=aanbieder, identificatie=identificatie, dagtekening=dagtekening)
    c = _short_client(b, root, bsn, geboortedatum or default_birth_date(standard))
    if standard == "ijw":  # GezagsdragerBekend does not exist in iWmo
        b.opt(c, "GezagsdragerBekend", gezagsdrager_bekend)
    group = b.el(c, "AangevraagdeProducten")
    for item in products if products is not None else (Requested(),):
        p = resolve(item, standard)
        ap = b.el(group, "AangevraagdProduct")
        b.el(ap, "ReferentieAanbieder", p.referentie_aanbieder)
        b.opt(ap, "BeschikkingNummer", p.beschikkingnummer)
        _product(b, ap, p.categorie, p.code)
        b.opt(ap, "BeschikkingIngangsdatum", p.beschikking_ingangsdatum)
        b.el(ap, "ToewijzingIngangsdatum", p.ingangsdatum)
        b.opt(ap, "ToewijzingEinddatum", p.einddatum)
        _omvang(b, ap, p.volume, p.eenheid, p.frequentie)
        b.opt(ap, "Budget", p.budget)
        v = b.el(ap, "Verwijzer")
        b.el(v, "Type", p.verwijzer_type)
        b.opt(v, "Naam", p.verwijzer_naam)
        b.opt(v, "ZorgverlenerCode", p.verwijzer_zorgverlenercode)
        b.opt(ap, "Raamcontract", p.raamcontract)
        b.opt(ap, "Commentaar", p.commentaar)
    return serialize(root)


def change_request(
    standard: str = "ijw",
    *,
    gemeente: str = GEMEENTE,
    aanbieder: str = AANBIEDER,
    identificatie: str | None = None,
    dagtekening: date | None = None,
    bsn: str = BSNS[0],
    referentie_aanbieder: str | None = None,
    reden_verzoek: str = "1",
    unchanged: Iterable[Unchanged] = (),
    to_change: Iterable[ToChange] | None = None,
    new: Iterable[NewProduct] = (),
) -> bytes:
    """A 317 (verzoek om wijziging): the complete desired situation (TR352, TR353 need the groups)."""
    b, root = _builder(standard, "317")
    heen_header(b, root, gemeente=gemeente, aanbieder=aanbieder, identificatie=identificatie, dagtekening=dagtekening)
    c = b.el(root, "Client")
    b.el(c, "Bsn", bsn)
    v = b.el(c, "Verzoek")
    b.el(v, "ReferentieAanbieder", referentie_aanbieder or unique_id("VOW", 20))
    b.el(v, "RedenVerzoek", reden_verzoek)
    # defaults are made per call: their dates follow today's date
    to_change = [ToChange()] if to_change is None else list(to_change)
    unchanged, new = list(unchanged), list(new)
    if unchanged:
        g = b.el(v, "OngewijzigdeProducten")
        for u in unchanged:
            b.el(b.el(g, "OngewijzigdProduct"), "ToewijzingNummer", u.toewijzingnummer)
    if to_change:
        g = b.el(v, "TeWijzigenProducten")
        for t in to_change:
            tp = b.el(g, "TeWijzigenProduct")
            b.el(tp, "ToewijzingNummer", t.toewijzingnummer)
            b.el(tp, "GewensteIngangsdatum", t.gewenste_ingangsdatum)
            b.opt(tp, "Einddatum", t.einddatum)
            _omvang(b, tp, t.volume, t.eenheid, t.frequentie)
            b.opt(tp, "Budget", t.budget)
    if new:
        g = b.el(v, "NieuweProducten")
        for item in new:
            p = resolve(item, standard)
            np_ = b.el(g, "NieuwProduct")
            _product(b, np_, p.categorie, p.code)
            b.el(np_, "GewensteIngangsdatum", p.gewenste_ingangsdatum)
            b.opt(np_, "Einddatum", p.einddatum)
            _omvang(b, np_, p.volume, p.eenheid, p.frequentie)
            b.opt(np_, "Budget", p.budget)
    return serialize(root)


def answer(
    standard: str = "ijw",
    *,
    gemeente: str = GEMEENTE,
    aanbieder: str = AANBIEDER,
    identificatie: str | None = None,
    dagtekening: date | None = None,
    referentie_aanbieder: str = "VOT1",
    verzoek_antwoord: str = "2",
    reden_afwijzing: str | None = None,
    woonplaatsbeginsel: str | None = None,
) -> bytes:
    """A 319 (antwoordbericht). Default: "2" aanvraag in onderzoek, without a reason (CD086).

    `woonplaatsbeginsel` is the responsible gemeente (iJw only; needed with reason 8, TR377/TR409).
    """
    b, root = _builder(standard, "319")
    heen_header(b, root, gemeente=gemeente, aanbieder=aanbieder, identificatie=identificatie, dagtekening=dagtekening)
    a = b.el(root, "Antwoord")
    b.el(a, "ReferentieAanbieder", referentie_aanbieder)
    b.el(a, "VerzoekAntwoord", verzoek_antwoord)
    b.opt(a, "RedenAfwijzingVerzoek", reden_afwijzing)
    if woonplaatsbeginsel is not None:
        if standard != "ijw":
            raise ValueError("Woonplaatsbeginsel exists in iJw only")
        b.el(b.el(a, "Woonplaatsbeginsel"), "Gemeente", woonplaatsbeginsel)
    return serialize(root)


def signed_total(prestaties: Iterable[Prestatie]) -> tuple[int, str]:
    """(TotaalBedrag, DebetCredit) of resolved prestaties: debits added, credits subtracted (TR358, CS325)."""
    total = sum(p.amount() if p.debet_credit == "D" else -p.amount() for p in prestaties)
    return abs(total), ("C" if total < 0 else "D")


def declaration(
    standard: str = "ijw",
    *,
    gemeente: str = GEMEENTE,
    aanbieder: str = AANBIEDER,
    identificatie: str | None = None,
    dagtekening: date | None = None,
    declaratienummer: str | None = None,
    periode: tuple[date, date] | None = None,
    declaratie_dagtekening: date | None = None,
    clients: Mapping[str, Sequence[Prestatie]] | None = None,
    totaal: tuple[int, str] | None = None,
) -> bytes:
    """A 323 (declaratie). Default: last calendar month (CS340), one client, one prestatie.

    The total is computed so TR358 holds unless `totaal` = (bedrag, "D"/"C") overrides it.
    """
    b, root = _builder(standard, "323")
    dag = dagtekening or today()
    heen_header(b, root, gemeente=gemeente, aanbieder=aanbieder, identificatie=identificatie, dagtekening=dag)
    begin, end = periode or previous_month(dag)
    clients = clients if clients is not None else {BSNS[0]: [Prestatie()]}
    resolved = {bsn: [resolve(p, standard) for p in ps] for bsn, ps in clients.items()}
    d = b.el(root, "Declaratie")
    b.el(d, "DeclaratieNummer", declaratienummer or unique_id("D"))
    per = b.el(d, "DeclaratiePeriode")
    b.el(per, "Begindatum", begin)
    b.el(per, "Einddatum", end)
    b.el(d, "DeclaratieDagtekening", declaratie_dagtekening or dag)
    amount, sign = totaal or signed_total(p for ps in resolved.values() for p in ps)
    t = b.el(d, "TotaalIngediendBedrag")
    b.el(t, "TotaalBedrag", amount)
    b.el(t, "DebetCredit", sign)
    cl = b.el(d, "Clienten")
    for bsn, ps in resolved.items():
        c = b.el(cl, "Client")
        b.el(c, "Bsn", bsn)
        pg = b.el(c, "Prestaties")
        for p in ps:
            prestatie_element(b, pg, p)
    return serialize(root)


def prestatie_element(b: Builder, parent: etree._Element, p: Prestatie) -> etree._Element:
    """One Prestatie element (shared by 323 and 325) from a resolved Prestatie."""
    e = b.el(parent, "Prestatie")
    ref = b.el(e, "ProductReferentie")
    b.el(ref, "ReferentieNummer", p.referentienummer)
    b.opt(ref, "VorigReferentieNummer", p.vorig_referentienummer)
    b.el(e, "ToewijzingNummer", p.toewijzingnummer)
    b.el(e, "ProductCategorie", p.categorie)
    b.el(e, "ProductCode", p.code)
    pp = b.el(e, "ProductPeriode")
    b.el(pp, "Begindatum", p.begindatum)
    b.el(pp, "Einddatum", p.einddatum)
    b.el(e, "GeleverdVolume", p.volume)
    b.el(e, "Eenheid", p.eenheid)
    b.opt(e, "ProductTarief", p.tarief)
    ib = b.el(e, "IngediendBedrag")
    b.el(ib, "Bedrag", p.amount())
    b.el(ib, "DebetCredit", p.debet_credit)
    return e

