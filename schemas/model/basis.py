"""The basisschema of iJw 3.2 and iWmo 3.2: shared simple (LDT_*) and complex (CDT_*) types.

Both standards share every type except the two code lists in `_PER_STANDARD`.
"""

from __future__ import annotations

from functools import cache

from gateway import catalog

from .core import Complex, Element, Schema, Simple

# Patterns of the standard, named once because many types share them.
NOT_BLANK = r".*[^\s].*"  # at least one non-whitespace character
COMMENT = r"([.\s]*\S+[.\s]*)+"
VERSION = r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
LETTERS = "([a-zA-Z\u00c0-\u1ef3])+"  # Latin letters incl. accented ones (À..ỳ)

# Appinfo version of the XSD set as published (iJw says 0.1.0, iWmo 1.0.0; digest §7.6).
XSD_VERSION = {"ijw": "0.1.0", "iwmo": "1.0.0"}

_ISO_3166 = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS "
    "BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE "
    "EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM "
    "HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC "
    "LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA "
    "NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO "
    "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
)
# Codelist WJ001, the same 59 codes in both standards.
_RETOURCODES = (
    "0001 0200 0233 0611 8001 8017 8021 8187 8214 8848 9019 9056 9063 9069 9071 9074 9307 9308 "
    "9319 9321 9322 9326 9332 9333 9338 9339 9340 9341 9346 9347 9349 9350 9351 9355 9357 9359 "
    "9360 9361 9365 9366 9367 9369 9373 9374 9375 9379 9384 9385 9387 9388 9389 9390 9411 9412 "
    "9413 9414 9415 S300 S329"
)


def _codes(spec: str) -> tuple[str, ...]:
    """'01-03 07' -> ('01', '02', '03', '07'); ranges keep the width of their first bound."""
    out: list[str] = []
    for part in spec.split():
        if "-" in part:
            lo, hi = part.split("-")
            out.extend(str(n).zfill(len(lo)) for n in range(int(lo), int(hi) + 1))
        else:
            out.append(part)
    return tuple(out)


def _enum(name: str, max_length: int, spec: str) -> Simple:
    return Simple(name, "xs:string", max_length=max_length, enumeration=_codes(spec))


def _text(name: str, max_length: int | None, pattern: str | None = NOT_BLANK) -> Simple:
    return Simple(name, "xs:string", pattern=pattern, min_length=1, max_length=max_length)


def _int(name: str, maximum: str) -> Simple:
    return Simple(name, "xs:integer", min_inclusive="0", max_inclusive=maximum)


# The two code lists that differ: JZ020/WMO020 (product categories), JZ588/WMO588.
_PER_STANDARD = {
    "ijw": {
        "LDT_ProductCategorie": "31-38 40-55",
        "LDT_RedenBeeindiging": "02 20 31-39",
    },
    "iwmo": {
        "LDT_ProductCategorie": "01-18",
        "LDT_RedenBeeindiging": "02 19-23 31 36-39",
    },
}


def _simple_types(standard: str) -> tuple[Simple, ...]:
    own = _PER_STANDARD[standard]
    return (
        _enum("LDT_AanduidingWoonadres", 2, "AB BY TO WW"),
        _enum("LDT_AdresSoort", 2, "01-04"),
        _text("LDT_AgbCode", 8, "[0-9]{8}"),
        _int("LDT_Bedrag", "99999999"),
        _text("LDT_BerichtCode", 3, None),
        _int("LDT_BerichtSubversie", "99"),
        _int("LDT_BerichtVersie", "99"),
        _int("LDT_Budget", "99999999"),
        _text("LDT_BurgerServicenummer", 9, "[0-9]{9}"),
        _text("LDT_Commentaar", None, COMMENT),
        _enum("LDT_Communicatievorm", 1, "1-3"),
        Simple("LDT_Datum", "xs:date", pattern="[^:Z]*"),  # no time zone (RS032)
        _enum("LDT_DatumGebruik", 1, "1-3"),
        _enum("LDT_DebetCredit", 1, "C D"),
        _enum("LDT_Eenheid", 2, "01 04 14 16 82-84"),
        _text("LDT_Emailadres", 80),
        _enum("LDT_Frequentie", 1, "1 2 4 6"),
        _text("LDT_Gemeente", None, "[0-9]{4}"),
        _enum("LDT_Geslacht", 1, "0-2"),
        _text("LDT_Huisletter", 1),
        _int("LDT_Huisnummer", "99999"),
        _text("LDT_HuisnummerToevoeging", 4),
        _text("LDT_IdentificatieBericht", 12),
        _text("LDT_IdentificatieDeclaratie", 12, None),
        _enum("LDT_JaNee", 1, "1 2"),
        _enum("LDT_JuridischeStatus", 2, "01-05 11 12"),
        _enum("LDT_LandCode", 2, _ISO_3166),
        _text("LDT_Landnummer", 4),
        _text("LDT_Naam", 200),
        _enum("LDT_NaamGebruik", 1, "1-6"),
        _text("LDT_NaamVerwijzer", 64),
        _int("LDT_Nummer", "999999999"),
        _text("LDT_Organisatienaam", 35),
        _text("LDT_Persoonsid", 20),
        _text("LDT_Plaatsnaam", 80),
        _text("LDT_Postcode", 8),
        _enum("LDT_ProductCategorie", 2, own["LDT_ProductCategorie"]),
        _text("LDT_ProductCode", 5),
        _enum("LDT_RedenAfwijzingVerzoek", 2, "1-9"),
        _enum("LDT_RedenBeeindiging", 2, own["LDT_RedenBeeindiging"]),
        _enum("LDT_RedenVerzoek", 1, "1 2"),
        _enum("LDT_RedenWijziging", 2, "01-14"),
        _text("LDT_Referentie", 36),
        _text("LDT_ReferentieNummer", 20, None),
        _int("LDT_RelatieVolgorde", "99"),
        _enum("LDT_RetourCode", 4, _RETOURCODES),
        _enum("LDT_SoortRelatie", 2, "03-25"),
        _enum("LDT_StatusAanlevering", 1, "1 2 3 9"),
        _text("LDT_Straatnaam", 24),
        _text("LDT_Taal", 25),
        _text("LDT_Telefoonnummer", 15, "[0-9]*"),
        Simple("LDT_Tijd", "xs:time", pattern="[^Z+-]+"),  # no time zone (RS034)
        _int("LDT_TotaalBedrag", "999999999999"),
        _enum("LDT_TypeVerwijzer", 2, "01-06 08"),
        _text("LDT_Versie", None, VERSION),
        _enum("LDT_VerzoekAntwoord", 1, "1 2"),
        _int("LDT_Volume", "99999999"),
        _text("LDT_Voorletters", 6, LETTERS),
        _text("LDT_Voorvoegsel", 10),
        _enum("LDT_WettelijkeVertegenwoordiging", 2, "06-10"),
    )


def _e(name: str, type_: str, optional: bool = False) -> Element:
    return Element(name, type_, min_occurs=0 if optional else 1)


def _ct(name: str, doc: str, *children: Element) -> Complex:
    return Complex(name, tuple(children), doc=doc)


OPT = True

COMPLEX_TYPES: tuple[Complex, ...] = (
    _ct("CDT_Achternaam", "Achternaam met voorvoegsel.",
        _e("Achternaam", "LDT_Naam"), _e("Voorvoegsel", "LDT_Voorvoegsel", OPT)),
    _ct("CDT_Adres", "Adres.",
        _e("Huis", "CDT_Huis", OPT), _e("Postcode", "LDT_Postcode", OPT),
        _e("Straatnaam", "LDT_Straatnaam", OPT), _e("Plaatsnaam", "LDT_Plaatsnaam", OPT),
        _e("LandCode", "LDT_LandCode", OPT)),
    _ct("CDT_BedragMetDC", "Bedrag met debet/credit-indicatie.",
        _e("Bedrag", "LDT_Bedrag"), _e("DebetCredit", "LDT_DebetCredit")),
    _ct("CDT_BerichtIdentificatie", "Identificatie en dagtekening van een aanlevering.",
        _e("Identificatie", "LDT_IdentificatieBericht"), _e("Dagtekening", "LDT_Datum")),
    _ct("CDT_Communicatie", "Bijzondere vorm van communicatie.",
        _e("Vorm", "LDT_Communicatievorm"), _e("Taal", "LDT_Taal", OPT)),
    _ct("CDT_Geboortedatum", "Geboortedatum en welk deel ervan bruikbaar is.",
        _e("Datum", "LDT_Datum"), _e("DatumGebruik", "LDT_DatumGebruik", OPT)),
    _ct("CDT_GeslotenPeriode", "Periode met begin- en einddatum.",
        _e("Begindatum", "LDT_Datum"), _e("Einddatum", "LDT_Datum")),
    _ct("CDT_Huis", "Huis in een straat.",
        _e("Huisnummer", "LDT_Huisnummer"), _e("Huisletter", "LDT_Huisletter", OPT),
        _e("HuisnummerToevoeging", "LDT_HuisnummerToevoeging", OPT),
        _e("AanduidingWoonadres", "LDT_AanduidingWoonadres", OPT)),
    _ct("CDT_Omvang", "Omvang: volume, eenheid en frequentie.",
        _e("Volume", "LDT_Volume"), _e("Eenheid", "LDT_Eenheid"), _e("Frequentie", "LDT_Frequentie")),
    _ct("CDT_OpenPeriode", "Periode met optionele begin- en einddatum.",
        _e("Begindatum", "LDT_Datum", OPT), _e("Einddatum", "LDT_Datum", OPT)),
    _ct("CDT_Product", "Productcategorie en -code.",
        _e("Categorie", "LDT_ProductCategorie"), _e("Code", "LDT_ProductCode", OPT)),
    _ct("CDT_Referentie", "Referentie naar een (vorige) prestatie.",
        _e("ReferentieNummer", "LDT_ReferentieNummer"),
        _e("VorigReferentieNummer", "LDT_ReferentieNummer", OPT)),
    _ct("CDT_Telefoon", "Telefoonnummer met landnummer.",
        _e("Telefoonnummer", "LDT_Telefoonnummer"), _e("Landnummer", "LDT_Landnummer")),
    _ct("CDT_Telefoonnummers", "Een of twee telefoonnummers.",
        _e("Telefoon01", "CDT_Telefoon"), _e("Telefoon02", "CDT_Telefoon", OPT)),
    _ct("CDT_TotaalBedragMetDC", "Totaalbedrag met debet/credit-indicatie.",
        _e("TotaalBedrag", "LDT_TotaalBedrag"), _e("DebetCredit", "LDT_DebetCredit")),
    _ct("CDT_VerkorteNaam", "Verkorte naam van een persoon.",
        _e("Geslachtsnaam", "CDT_Achternaam"), _e("Voornamen", "LDT_Naam", OPT),
        _e("Voorletters", "LDT_Voorletters", OPT)),
    _ct("CDT_Verwijzer", "Verwijzer naar zorg.",
        _e("Type", "LDT_TypeVerwijzer"), _e("Naam", "LDT_NaamVerwijzer", OPT),
        _e("ZorgverlenerCode", "LDT_AgbCode", OPT)),
    _ct("CDT_VolledigeNaam", "Volledige naam van een persoon.",
        _e("Geslachtsnaam", "CDT_Achternaam"), _e("Partnernaam", "CDT_Achternaam", OPT),
        _e("Voornamen", "LDT_Naam", OPT), _e("Voorletters", "LDT_Voorletters", OPT),
        _e("NaamGebruik", "LDT_NaamGebruik")),
    _ct("CDT_XsdVersie", "Versies van de XSD's waarmee het bericht is opgesteld.",
        _e("BasisschemaXsdVersie", "LDT_Versie"), _e("BerichtXsdVersie", "LDT_Versie")),
)


def version_appinfo(standard: str, kind: str) -> tuple[tuple[str, str], ...]:
    """The `<kind>XsdVersie/MinVersie/MaxVersie` triple, kind 'Bericht' or 'Basisschema'."""
    v = XSD_VERSION[standard]
    return tuple((f"{kind}Xsd{suffix}", v) for suffix in ("Versie", "MinVersie", "MaxVersie"))


@cache
def basisschema(standard: str) -> Schema:
    """The basisschema of `standard` ("ijw" or "iwmo")."""
    return Schema(
        standard=standard,
        name="basisschema",
        file_name="basisschema.xsd",
        namespace=catalog.basis_namespace(standard),
        prefix=standard,
        appinfo=(("standaard", standard), ("bericht", "basisschema"), ("release", catalog.RELEASE))
        + version_appinfo(standard, "Basisschema"),
        simple_types=_simple_types(standard),
        complex_types=COMPLEX_TYPES,
    )
