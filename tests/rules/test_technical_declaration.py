"""Declaration rules: TR315, TR316, TR319, TR358, TR416 (323) and TR342 (325), all in-message.

Each finding lists the elements its check compared, as the official report does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rule_helpers import STANDARDS, Msg

from gateway import samples
from gateway.samples.xmlbuild import previous_month

PR = "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie"
BSN = samples.BSNS[0]


def decl(standard, *prestaties, **kw):
    return Msg(samples.declaration(standard, clients={BSN: list(prestaties)}, **kw))


def credit(ref, vorig, **kw):
    return samples.Prestatie(referentienummer=ref, vorig_referentienummer=vorig, debet_credit="C", **kw)


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr315_vorig_referentienummer_unique(standard):
    ok = decl(standard, credit("C1", "OLD1"), credit("C2", "OLD2", toewijzingnummer=2))
    assert ok.issues("TR315") == []
    bad = decl(standard, credit("C1", "OLD1"), credit("C2", "OLD1", toewijzingnummer=2))
    assert bad.locations("TR315") == [
        [f"{PR}[1]/ProductReferentie/VorigReferentieNummer", f"{PR}[2]/ProductReferentie/VorigReferentieNummer"]
    ]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr315_compares_across_clients(standard):
    msg = Msg(samples.declaration(standard, clients={
        samples.BSNS[0]: [credit("C1", "OLD1")],
        samples.BSNS[1]: [credit("C2", "OLD1", toewijzingnummer=2)],
    }))
    clients = "/Bericht/Declaratie/Clienten/Client"
    assert msg.locations("TR315") == [[
        f"{clients}[1]/Prestaties/Prestatie/ProductReferentie/VorigReferentieNummer",
        f"{clients}[2]/Prestaties/Prestatie/ProductReferentie/VorigReferentieNummer",
    ]]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr316_no_credit_of_a_debit_in_the_same_message(standard):
    debit = samples.Prestatie(referentienummer="D1")
    ok = decl(standard, debit, credit("C1", "OLD1", toewijzingnummer=2))
    assert ok.issues("TR316") == []
    bad = decl(standard, debit, credit("C1", "D1"))
    pair = [f"{PR}[1]/ProductReferentie/ReferentieNummer", f"{PR}[2]/ProductReferentie/VorigReferentieNummer"]
    assert bad.locations("TR316") == [pair]
    # The credit first and the debit after it: the same pair.
    reversed_ = decl(standard, credit("C1", "D1"), debit)
    assert reversed_.locations("TR316") == [
        [f"{PR}[1]/ProductReferentie/VorigReferentieNummer", f"{PR}[2]/ProductReferentie/ReferentieNummer"]
    ]
    # A prestatie crediting itself.
    own = decl(standard, credit("C1", "C1"))
    assert own.locations("TR316") == [
        [f"{PR}/ProductReferentie/ReferentieNummer", f"{PR}/ProductReferentie/VorigReferentieNummer"]
    ]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr358_total_is_signed_sum_of_prestaties(standard):
    items = (samples.Prestatie(volume=3), credit("C1", "OLD1", volume=1, toewijzingnummer=2))
    assert decl(standard, *items).issues("TR358") == []  # 3*7500 - 1*7500 = 15000 D
    bad = decl(standard, *items, totaal=(30000, "D"))  # as if the credit were added
    totaal = "/Bericht/Declaratie/TotaalIngediendBedrag"
    # the total, its side and every prestatie's IngediendBedrag
    assert bad.locations("TR358") == [[
        f"{totaal}/TotaalBedrag", f"{totaal}/DebetCredit", f"{PR}[1]/IngediendBedrag", f"{PR}[2]/IngediendBedrag",
    ]]
    net_credit = decl(standard, credit("C1", "OLD1", volume=2))
    assert net_credit.issues("TR358") == []  # total 15000 C
    assert decl(standard, credit("C1", "OLD1", volume=2), totaal=(15000, "D")).locations("TR358") == [
        [f"{totaal}/TotaalBedrag", f"{totaal}/DebetCredit", f"{PR}/IngediendBedrag"]
    ]
    # The total as written is compared: a leading zero is another value (as in the official check).
    padded = decl(standard, *items)
    padded.set("Declaratie/TotaalIngediendBedrag/TotaalBedrag", "015000")
    assert len(padded.issues("TR358")) == 1


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr416_one_debit_per_period_product_and_toewijzing(standard):
    begin, end = previous_month()
    a = samples.Prestatie(referentienummer="A")
    assert decl(standard, a, samples.Prestatie(referentienummer="B", toewijzingnummer=2)).issues("TR416") == []
    # A credit for the same key is no second debit.
    assert decl(standard, a, credit("C", "OLD")).issues("TR416") == []
    half = samples.Prestatie(referentienummer="B", begindatum=begin + timedelta(days=1))
    assert decl(standard, a, half).issues("TR416") == []
    bad = decl(standard, a, samples.Prestatie(referentienummer="B"), samples.Prestatie(referentienummer="X"))
    # each later debit with the first one
    assert bad.locations("TR416") == [[f"{PR}[1]", f"{PR}[2]"], [f"{PR}[1]", f"{PR}[3]"]]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr416_per_client(standard):
    """The same debit line under two clients is no second debit: the check is per Client."""
    msg = Msg(samples.declaration(standard, clients={
        samples.BSNS[0]: [samples.Prestatie(referentienummer="A")],
        samples.BSNS[1]: [samples.Prestatie(referentienummer="B")],
    }))
    assert msg.issues("TR416") == []


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr319_productperiode_after_declaratieperiode(standard):
    assert decl(standard, samples.Prestatie()).issues("TR319") == []
    begin, end = previous_month()
    earlier = samples.Prestatie(begindatum=begin - timedelta(days=31), einddatum=begin - timedelta(days=1))
    assert decl(standard, earlier).issues("TR319") == []
    # Declared for the month before last, with a prestatie of last month: not yet declarable.
    prev_begin, prev_end = previous_month(begin)
    msg = decl(standard, samples.Prestatie(), periode=(prev_begin, prev_end))
    issues = msg.issues("TR319")
    # the end of the DeclaratiePeriode and both ProductPeriode dates after it
    assert [i.all_locations for i in issues] == [[
        "/Bericht/Declaratie/DeclaratiePeriode/Einddatum",
        f"{PR}/ProductPeriode/Begindatum",
        f"{PR}/ProductPeriode/Einddatum",
    ]]
    assert issues[0].retourcode == "9319"
    assert issues[0].class_path == PR
    # Only the end after the DeclaratiePeriode: that date alone with the period's end.
    msg.set("Declaratie/Clienten/Client/Prestaties/Prestatie/ProductPeriode/Begindatum", prev_end)
    assert msg.locations("TR319", schema_valid=False) == [
        ["/Bericht/Declaratie/DeclaratiePeriode/Einddatum", f"{PR}/ProductPeriode/Einddatum"]
    ]


def test_tr319_is_an_in_message_rule():
    """`gateway validate` runs the in-message levels only: TR319 is one of them."""
    from validators import engine

    assert engine.load_all()["TR319"].level in engine.IN_MESSAGE_LEVELS


def _answer(standard, rejected_volumes, **kw):
    prestaties = [samples.Prestatie(referentienummer=f"R{i}", toewijzingnummer=i, volume=v) for i, v in enumerate([2, 3, 4])]
    d = samples.declaration(standard, clients={BSN: prestaties})
    rejected = {f"R{i}": ["9307"] for i, v in enumerate([2, 3, 4]) if v in rejected_volumes}
    return Msg(samples.declaration_answer(d, rejected=rejected, **kw))


AN = "/Bericht/DeclaratieAntwoord"


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr342_rejected_prestaties_explain_the_difference(standard):
    assert _answer(standard, set()).issues("TR342") == []
    msg = _answer(standard, {3})
    assert msg.issues("TR342") == []
    # Awarding the full amount while listing a rejected prestatie breaks the invariant.
    msg.set("DeclaratieAntwoord/TotaalToegekendBedrag/TotaalBedrag", 9 * 7500)
    assert msg.locations("TR342") == [[f"{AN}/TotaalIngediendBedrag", f"{AN}/TotaalToegekendBedrag"]]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr342_only_rejected_prestaties_are_listed(standard):
    msg = _answer(standard, {3, 4})
    msg.set("DeclaratieAntwoord/Clienten/Client/Prestaties/Prestatie[2]/RetourCodes/RetourCode", "0200")
    assert msg.paths("TR342") == [f"{AN}/Clienten/Client/Prestaties/Prestatie[2]"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr342_rejected_declaratieantwoord_awards_nothing(standard):
    msg = _answer(standard, {3})
    msg.set("DeclaratieAntwoord/RetourCodes/RetourCode", "9333")
    # Only the award is checked, not whether Clienten are listed (as in the official check).
    assert msg.locations("TR342") == [[f"{AN}/TotaalToegekendBedrag"]]
    msg.set("DeclaratieAntwoord/TotaalToegekendBedrag/TotaalBedrag", 0)
    assert msg.issues("TR342") == []
    msg.drop("DeclaratieAntwoord/Clienten")
    msg.set("DeclaratieAntwoord/TotaalToegekendBedrag/TotaalBedrag", 0)
    msg.set("DeclaratieAntwoord/TotaalToegekendBedrag/DebetCredit", "D")
    assert msg.issues("TR342") == []
