"""Date rules: TR002, TR018, TR134, TR137, TR335, TR380 — a message that breaks each, one that keeps it.

Every finding lists the dates it compared (the Header Dagtekening too), as the official report does."""


from __future__ import annotations

from datetime import date, timedelta

import pytest
from lxml import etree
from rule_helpers import STANDARDS, Msg

from gateway import clock, samples
from gateway.samples.xmlbuild import previous_month
from validators.validate import validate_bytes

TODAY = clock.today()
TOMORROW = TODAY + timedelta(days=1)
DAG = "/Bericht/Header/BerichtIdentificatie/Dagtekening"
CLIENT_BUILDERS = {
    "301": samples.allocation,
    "305": samples.start,
    "307": samples.stop,
    "315": samples.request,
}


def years_ago(years: int, days: int = 0) -> date:
    try:
        d = TODAY.replace(year=TODAY.year - years)
    except ValueError:
        d = TODAY.replace(year=TODAY.year - years, day=28)
    return d - timedelta(days=days)


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("number", sorted(CLIENT_BUILDERS))
def test_tr002_birth_date_older_than_120_years(standard, number):
    build = CLIENT_BUILDERS[number]
    assert Msg(build(standard, geboortedatum=years_ago(120))).issues("TR002") == []
    old = Msg(build(standard, geboortedatum=years_ago(120, days=1)))
    assert old.locations("TR002") == [["/Bericht/Header/BerichtIdentificatie/Dagtekening", "/Bericht/Client/Geboortedatum/Datum"]]


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("number", sorted(CLIENT_BUILDERS))
def test_tr002_unknown_birth_date_is_exempt(standard, number):
    msg = Msg(CLIENT_BUILDERS[number](standard, geboortedatum=date(1900, 1, 1)))
    assert msg.paths("TR002") == ["/Bericht/Header/BerichtIdentificatie/Dagtekening"]
    msg.add_after("Client/Geboortedatum/Datum", "DatumGebruik", "3")
    assert msg.issues("TR002") == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr002_dagtekening_found_past_comments(standard):
    # The rules read the Header's elements at their schema places; comments in between (allowed
    # by the XSD) move those places, and the element is then looked up by name.
    msg = Msg(samples.start(standard, geboortedatum=years_ago(120, days=1)))
    msg.at("Header").insert(0, etree.Comment("before BerichtCode"))
    msg.at("Header/BerichtIdentificatie").insert(0, etree.Comment("before Identificatie"))
    msg.at("Header/BerichtIdentificatie").insert(2, etree.Comment("before Dagtekening"))
    expected = [[DAG, "/Bericht/Client/Geboortedatum/Datum"]]
    assert msg.locations("TR002") == expected
    report = validate_bytes(msg.xml())  # the same through a whole rule run (its shared lookups)
    assert [i.all_locations for i in report.issues if i.rule == "TR002"] == expected


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr018_stop_einddatum_before_begindatum(standard):
    assert Msg(samples.stop(standard)).issues("TR018") == []
    same_day = samples.Stopped(begindatum=TODAY - timedelta(days=10), einddatum=TODAY - timedelta(days=10))
    assert Msg(samples.stop(standard, products=(same_day,))).issues("TR018") == []
    bad = samples.Stopped(begindatum=TODAY - timedelta(days=10), einddatum=TODAY - timedelta(days=11))
    msg = Msg(samples.stop(standard, products=(samples.Stopped(), bad)))
    stop = "/Bericht/Client/StopProducten/StopProduct[2]"
    assert msg.locations("TR018") == [[f"{stop}/Begindatum", f"{stop}/Einddatum"]]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr134_dates_after_dagtekening(standard):
    future_allocation = samples.Allocated(toewijzingsdatum=TOMORROW)
    msg = Msg(samples.allocation(standard, products=(future_allocation,)))
    assert msg.locations("TR134") == [[DAG, "/Bericht/Client/ToegewezenProducten/ToegewezenProduct/Toewijzingsdatum"]]

    msg = Msg(samples.start(standard, products=(samples.Started(begindatum=TOMORROW),)))
    assert msg.locations("TR134") == [[DAG, "/Bericht/Client/StartProducten/StartProduct/Begindatum"]]

    msg = Msg(samples.stop(standard, products=(samples.Stopped(einddatum=TOMORROW),)))
    assert msg.locations("TR134") == [[DAG, "/Bericht/Client/StopProducten/StopProduct/Einddatum"]]

    msg = Msg(samples.request(standard, geboortedatum=TOMORROW))
    assert msg.locations("TR134") == [[DAG, "/Bericht/Client/Geboortedatum/Datum"]]

    # In the 323 the official binding is DeclaratiePeriode/Begindatum, not DeclaratieDagtekening.
    msg = Msg(samples.declaration(standard, declaratie_dagtekening=TOMORROW))
    assert msg.issues("TR134") == []
    msg = Msg(samples.declaration(standard))
    msg.set("Declaratie/DeclaratiePeriode/Begindatum", TOMORROW)
    msg.set("Declaratie/DeclaratiePeriode/Einddatum", TOMORROW + timedelta(days=1))
    assert msg.locations("TR134") == [[DAG, "/Bericht/Declaratie/DeclaratiePeriode/Begindatum"]]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr134_relatie_birth_date_and_dagtekening_itself(standard):
    msg = Msg(samples.allocation(standard, relatie=True))
    relatie = msg.at("Client/Relaties/Relatie")
    geboorte = msg.new(relatie, "Geboortedatum")
    geboorte.append(msg.new(geboorte, "Datum", TOMORROW))
    msg.at("Client/Relaties/Relatie/Soort").addnext(geboorte)
    assert msg.locations("TR134") == [[DAG, "/Bericht/Client/Relaties/Relatie/Geboortedatum/Datum"]]
    # A date equal to the Dagtekening is allowed.
    msg.set("Header/BerichtIdentificatie/Dagtekening", TOMORROW)
    assert msg.issues("TR134") == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr134_productperiode_begin_after_dagtekening_323_and_325(standard):
    decl = samples.declaration(standard)
    msg = Msg(decl)
    assert msg.issues("TR134") == []
    first_of_last_month = previous_month()[0]
    msg.set("Header/BerichtIdentificatie/Dagtekening", first_of_last_month - timedelta(days=1))
    msg.set("Declaratie/DeclaratieDagtekening", first_of_last_month - timedelta(days=1))
    # the DeclaratiePeriode starts on the same day as the prestatie: both are after the Dagtekening
    assert msg.locations("TR134") == [
        [DAG, "/Bericht/Declaratie/DeclaratiePeriode/Begindatum"],
        [DAG, "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie/ProductPeriode/Begindatum"],
    ]

    ref = Msg(decl).at("Declaratie/Clienten/Client/Prestaties/Prestatie/ProductReferentie/ReferentieNummer").text
    answer = Msg(samples.declaration_answer(decl, rejected={ref: ["9307"]}))
    assert answer.issues("TR134") == []
    answer.set("Header/BerichtIdentificatie/Dagtekening", first_of_last_month - timedelta(days=1))
    assert answer.locations("TR134") == [
        [DAG, "/Bericht/DeclaratieAntwoord/Clienten/Client/Prestaties/Prestatie/ProductPeriode/Begindatum"]
    ]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr137_period_end_before_begin_or_after_dagtekening(standard):
    decl = samples.declaration(standard)
    msg = Msg(decl)
    assert msg.issues("TR137") == []
    begin = previous_month()[0]
    msg.set("Declaratie/Clienten/Client/Prestaties/Prestatie/ProductPeriode/Einddatum", begin - timedelta(days=1))
    periode = "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie/ProductPeriode"
    assert msg.locations("TR137") == [[f"{periode}/Begindatum", f"{periode}/Einddatum"]]

    msg = Msg(decl)
    msg.set("Declaratie/DeclaratiePeriode/Einddatum", TOMORROW)
    assert msg.locations("TR137") == [[DAG, "/Bericht/Declaratie/DeclaratiePeriode/Einddatum"]]

    ref = msg.at("Declaratie/Clienten/Client/Prestaties/Prestatie/ProductReferentie/ReferentieNummer").text
    answer = Msg(samples.declaration_answer(decl, rejected={ref: ["9307"]}))
    assert answer.issues("TR137") == []
    answer.set("Header/BerichtIdentificatie/Dagtekening", begin + timedelta(days=2))
    assert answer.locations("TR137") == [
        [DAG, "/Bericht/DeclaratieAntwoord/Clienten/Client/Prestaties/Prestatie/ProductPeriode/Einddatum"]
    ]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr335_productperiode_more_than_5_years_old(standard):
    # DeclaratieDagtekening 2026-03-15: an Einddatum of 2021-03-15 is exactly 5 years before (allowed).
    dag = date(2026, 3, 15)
    kw = dict(dagtekening=dag, periode=(date(2026, 2, 1), date(2026, 2, 28)))
    ok = samples.Prestatie(begindatum=date(2021, 3, 1), einddatum=date(2021, 3, 15))
    assert Msg(samples.declaration(standard, clients={samples.BSNS[0]: [ok]}, **kw)).issues("TR335") == []
    old = samples.Prestatie(begindatum=date(2021, 3, 1), einddatum=date(2021, 3, 14))
    msg = Msg(samples.declaration(standard, clients={samples.BSNS[0]: [ok, old]}, **kw))
    assert msg.locations("TR335") == [[
        "/Bericht/Declaratie/DeclaratieDagtekening",
        "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie[2]/ProductPeriode/Einddatum",
    ]]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr380_new_product_must_start_after_dagtekening(standard):
    assert Msg(samples.change_request(standard, new=(samples.NewProduct(),))).issues("TR380") == []
    msg = Msg(samples.change_request(standard, new=(samples.NewProduct(gewenste_ingangsdatum=TODAY),)))
    assert msg.locations("TR380") == [[DAG, "/Bericht/Client/Verzoek/NieuweProducten/NieuwProduct/GewensteIngangsdatum"]]
