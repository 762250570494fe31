"""Shared and per-message constraints: CS002, CS015, CS025, CS139 (many messages); CS058 (305/307);
CD085, CD086 (319); CD060, CD087, CS100, CS319, CS325, CS337, CS339, CS340 (323/325)."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree
from rule_helpers import STANDARDS, Msg, prefix

from gateway import samples
from gateway.samples.xmlbuild import previous_month

BSN = samples.BSNS[0]
PR = "Declaratie/Clienten/Client/Prestaties/Prestatie"


def bad_bsn(bsn: str) -> str:
    """The same number with its last digit changed: fails the 11-proef."""
    return bsn[:8] + str((int(bsn[8]) + 1) % 10)


BSN_PATHS = {
    "301": "Client/Bsn",
    "305": "Client/Bsn",
    "307": "Client/Bsn",
    "315": "Client/Bsn",
    "317": "Client/Bsn",
    "323": "Declaratie/Clienten/Client/Bsn",
    "325": "DeclaratieAntwoord/Clienten/Client/Bsn",
}


def _message(standard: str, number: str) -> Msg:
    if number == "325":
        d = samples.declaration(standard)
        ref = Msg(d).at(f"{PR}/ProductReferentie/ReferentieNummer").text
        return Msg(samples.declaration_answer(d, rejected={ref: ["9307"]}))
    return Msg(samples.build(prefix(standard) + number))


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("number", sorted(BSN_PATHS))
def test_cs002_bsn_elfproef(standard, number):
    msg = _message(standard, number)
    assert msg.issues("CS002") == []
    path = BSN_PATHS[number]
    msg.set(path, bad_bsn(msg.at(path).text))
    issues = msg.issues("CS002")
    assert [i.path for i in issues] == [f"/Bericht/{path}"]
    assert msg.at(path).text not in issues[0].text  # personal data is never echoed


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("number", ["301", "305", "307", "315", "317", "319", "323", "325"])
def test_cs015_cs025_header_version(standard, number):
    msg = _message(standard, number)
    assert msg.issues("CS015") == [] and msg.issues("CS025") == []
    msg.set("Header/BerichtSubversie", "1").set("Header/BerichtVersie", "2")
    # The XSD fixes these values too; the constraint is checked on its own here.
    assert msg.paths("CS015", schema_valid=False) == ["/Bericht/Header/BerichtSubversie"]
    assert msg.paths("CS025", schema_valid=False) == ["/Bericht/Header/BerichtVersie"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs015_cs025_header_read_past_comments(standard):
    # The Header's elements are read at their schema places; a comment moves them, and the rules
    # must still name the right element (not whatever sits at the place).
    msg = _message(standard, "305")
    msg.at("Header").insert(0, etree.Comment("before BerichtCode"))
    msg.at("Header").insert(3, etree.Comment("before BerichtSubversie"))
    assert msg.issues("CS015") == [] and msg.issues("CS025") == []
    msg.set("Header/BerichtSubversie", "1")
    assert msg.paths("CS015", schema_valid=False) == ["/Bericht/Header/BerichtSubversie"]
    assert msg.issues("CS025", schema_valid=False) == []


BIRTH = {"301": samples.allocation, "305": samples.start, "307": samples.stop, "315": samples.request}


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("number", sorted(BIRTH))
@pytest.mark.parametrize(
    ("datum", "gebruik", "ok"),
    [
        (date(1980, 5, 1), "1", True),
        (date(1980, 5, 2), "1", False),
        (date(1980, 1, 1), "2", True),
        (date(1980, 5, 1), "2", False),
        (date(1900, 1, 1), "3", True),
        (date(1980, 1, 1), "3", False),
        (date(1980, 5, 2), None, True),
    ],
)
def test_cs139_datumgebruik_agrees_with_datum(standard, number, datum, gebruik, ok):
    msg = Msg(BIRTH[number](standard, geboortedatum=datum))
    if gebruik:
        msg.add_after("Client/Geboortedatum/Datum", "DatumGebruik", gebruik)
    expected = [] if ok else [["/Bericht/Client/Geboortedatum/Datum", "/Bericht/Client/Geboortedatum/DatumGebruik"]]
    assert msg.locations("CS139") == expected


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs139_relatie_birth_date(standard):
    msg = Msg(samples.allocation(standard, relatie=True))
    relatie = msg.at("Client/Relaties/Relatie")
    geboorte = msg.new(relatie, "Geboortedatum")
    geboorte.append(msg.new(geboorte, "Datum", "1970-03-04"))
    geboorte.append(msg.new(geboorte, "DatumGebruik", "2"))
    msg.at("Client/Relaties/Relatie/Soort").addnext(geboorte)
    assert msg.paths("CS139") == ["/Bericht/Client/Relaties/Relatie/Geboortedatum/Datum"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs058_status_1_or_3_only(standard):
    assert Msg(samples.start(standard, products=(samples.Started(status="3"),))).issues("CS058") == []
    for status in ("2", "9"):
        msg = Msg(samples.start(standard, products=(samples.Started(status=status),)))
        assert msg.paths("CS058") == ["/Bericht/Client/StartProducten/StartProduct/StatusAanlevering"]
        msg = Msg(samples.stop(standard, products=(samples.Stopped(status=status),)))
        assert msg.paths("CS058") == ["/Bericht/Client/StopProducten/StopProduct/StatusAanlevering"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cd085_reason_required_when_rejected(standard):
    assert Msg(samples.answer(standard, verzoek_antwoord="1", reden_afwijzing="3")).issues("CD085") == []
    msg = Msg(samples.answer(standard, verzoek_antwoord="1"))
    # The missing reason has no Locatie: the VerzoekAntwoord that demands it is the one.
    assert msg.locations("CD085") == [["/Bericht/Antwoord/VerzoekAntwoord"]]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cd086_no_reason_while_in_onderzoek(standard):
    assert Msg(samples.answer(standard, verzoek_antwoord="2")).issues("CD086") == []
    msg = Msg(samples.answer(standard, verzoek_antwoord="2", reden_afwijzing="3"))
    assert msg.locations("CD086") == [["/Bericht/Antwoord/VerzoekAntwoord", "/Bericht/Antwoord/RedenAfwijzingVerzoek"]]


def decl(standard, *prestaties, **kw) -> Msg:
    return Msg(samples.declaration(standard, clients={BSN: list(prestaties)}, **kw))


@pytest.mark.parametrize("standard", STANDARDS)
def test_cd060_vorig_referentienummer_for_credits_only(standard):
    ok = decl(standard, samples.Prestatie(referentienummer="C1", vorig_referentienummer="D0", debet_credit="C"))
    assert ok.issues("CD060") == []
    # The DebetCredit is flagged, with the VorigReferentieNummer when there is one.
    credit = decl(standard, samples.Prestatie(referentienummer="C1", debet_credit="C"))
    assert credit.locations("CD060") == [[f"/Bericht/{PR}/IngediendBedrag/DebetCredit"]]
    debit = decl(standard, samples.Prestatie(referentienummer="D1", vorig_referentienummer="D0"))
    assert debit.locations("CD060") == [
        [f"/Bericht/{PR}/ProductReferentie/VorigReferentieNummer", f"/Bericht/{PR}/IngediendBedrag/DebetCredit"]
    ]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cd060_in_325(standard):
    d = samples.declaration(standard, clients={BSN: [samples.Prestatie(referentienummer="D1")]})
    msg = Msg(samples.declaration_answer(d, rejected={"D1": ["9307"]}))
    assert msg.issues("CD060") == []
    msg.set("DeclaratieAntwoord/Clienten/Client/Prestaties/Prestatie/IngediendBedrag/DebetCredit", "C")
    assert msg.locations("CD060") == [
        ["/Bericht/DeclaratieAntwoord/Clienten/Client/Prestaties/Prestatie/IngediendBedrag/DebetCredit"]
    ]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cd087_tarief_unless_euros(standard):
    assert decl(standard, samples.Prestatie()).issues("CD087") == []
    assert decl(standard, samples.Prestatie(eenheid="83", volume=5000)).issues("CD087") == []
    # The condition is on the Eenheid: it is flagged, with the ProductTarief when there is one.
    no_tarief = decl(standard, samples.Prestatie(tarief=None, bedrag=60000))
    assert no_tarief.locations("CD087") == [[f"/Bericht/{PR}/Eenheid"]]
    euros_with_tarief = decl(standard, samples.Prestatie(eenheid="83", volume=5000, tarief=1, bedrag=5000))
    assert euros_with_tarief.locations("CD087") == [[f"/Bericht/{PR}/Eenheid", f"/Bericht/{PR}/ProductTarief"]]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs100_declaration_dates_from_2021(standard):
    old = decl(
        standard,
        samples.Prestatie(begindatum=date(2020, 12, 1), einddatum=date(2020, 12, 31)),
        periode=(date(2020, 12, 1), date(2020, 12, 31)),
    )
    # A period is checked by its Begindatum: one finding per period, not one per date.
    assert old.locations("CS100") == [
        ["/Bericht/Declaratie/DeclaratiePeriode/Begindatum"],
        [f"/Bericht/{PR}/ProductPeriode/Begindatum"],
    ]
    first = decl(
        standard,
        samples.Prestatie(begindatum=date(2021, 1, 1), einddatum=date(2021, 1, 31)),
        periode=(date(2021, 1, 1), date(2021, 1, 31)),
    )
    assert first.issues("CS100") == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs319_declaratienummer_letters_and_digits(standard):
    assert decl(standard, samples.Prestatie(), declaratienummer="AB12").issues("CS319") == []
    msg = decl(standard, samples.Prestatie(), declaratienummer="AB-12")
    # The XSD pattern says the same; the constraint is checked on its own here.
    assert msg.paths("CS319", schema_valid=False) == ["/Bericht/Declaratie/DeclaratieNummer"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs325_zero_amount_is_debit(standard):
    zero = samples.Prestatie(volume=0)
    assert decl(standard, zero).issues("CS325") == []
    msg = decl(standard, samples.Prestatie(volume=0, debet_credit="C", vorig_referentienummer="X"), totaal=(0, "C"))
    # The amount and its DebetCredit are both the Locaties.
    assert msg.locations("CS325") == [
        ["/Bericht/Declaratie/TotaalIngediendBedrag/TotaalBedrag", "/Bericht/Declaratie/TotaalIngediendBedrag/DebetCredit"],
        [f"/Bericht/{PR}/IngediendBedrag/Bedrag", f"/Bericht/{PR}/IngediendBedrag/DebetCredit"],
    ]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs325_in_325(standard):
    d = samples.declaration(standard, clients={BSN: [samples.Prestatie(referentienummer="D1")]})
    msg = Msg(samples.declaration_answer(d, rejected={"D1": ["9307"]}))
    assert msg.issues("CS325") == []  # everything rejected: TotaalToegekendBedrag 0 D
    msg.set("DeclaratieAntwoord/TotaalToegekendBedrag/DebetCredit", "C")
    assert msg.locations("CS325") == [
        [
            "/Bericht/DeclaratieAntwoord/TotaalToegekendBedrag/TotaalBedrag",
            "/Bericht/DeclaratieAntwoord/TotaalToegekendBedrag/DebetCredit",
        ]
    ]


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs337_productperiode_within_one_month(standard):
    assert decl(standard, samples.Prestatie()).issues("CS337") == []
    begin, end = previous_month()
    both = [[f"/Bericht/{PR}/ProductPeriode/Begindatum", f"/Bericht/{PR}/ProductPeriode/Einddatum"]]
    across = samples.Prestatie(begindatum=date(begin.year - 1, 12, 31), einddatum=date(begin.year, 1, 1))
    assert decl(standard, across).locations("CS337") == both
    year_apart = samples.Prestatie(begindatum=date(2024, 3, 1), einddatum=date(2025, 3, 1))
    assert decl(standard, year_apart).locations("CS337") == both


@pytest.mark.parametrize("standard", STANDARDS)
def test_cs339_euros_amount_equals_volume(standard):
    assert decl(standard, samples.Prestatie(eenheid="83", volume=5000)).issues("CS339") == []
    msg = decl(standard, samples.Prestatie(eenheid="83", volume=5000, bedrag=5001))
    assert msg.locations("CS339") == [[f"/Bericht/{PR}/GeleverdVolume", f"/Bericht/{PR}/IngediendBedrag/Bedrag"]]
    # Other units are TR346's business (level 4), not CS339's.
    assert decl(standard, samples.Prestatie(volume=2, bedrag=1)).issues("CS339") == []


BEGIN = "/Bericht/Declaratie/DeclaratiePeriode/Begindatum"
END = "/Bericht/Declaratie/DeclaratiePeriode/Einddatum"


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize(
    ("begin", "end", "expected"),
    [
        (date(2025, 2, 1), date(2025, 2, 28), []),
        (date(2024, 2, 1), date(2024, 2, 29), []),
        (date(2024, 12, 1), date(2024, 12, 31), []),
        # one of the two findings: not the whole month
        (date(2024, 2, 1), date(2024, 2, 28), [[BEGIN, END]]),
        (date(2025, 1, 1), date(2025, 2, 28), [[BEGIN, END]]),
        # a month from a later day: it does not start on the 1st
        (date(2025, 2, 2), date(2025, 3, 1), [[BEGIN]]),
        # both: a later start and not a month long
        (date(2025, 2, 2), date(2025, 2, 28), [[BEGIN], [BEGIN, END]]),
        # 31 January plus a month runs on to 3 March (2 March in a leap year)
        (date(2025, 1, 31), date(2025, 3, 2), [[BEGIN]]),
        (date(2025, 1, 31), date(2025, 2, 28), [[BEGIN], [BEGIN, END]]),
    ],
)
def test_cs340_declaratieperiode_one_calendar_month(standard, begin, end, expected):
    msg = decl(standard, samples.Prestatie(begindatum=begin, einddatum=begin), periode=(begin, end))
    assert msg.locations("CS340") == expected
