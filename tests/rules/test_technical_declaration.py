"""Declaration rules: TR315, TR316, TR358, TR416 (323), TR342 (325) and TR319 (323, in-message)."""

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
    assert bad.paths("TR315") == [f"{PR}[2]/ProductReferentie/VorigReferentieNummer"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr316_no_credit_of_a_debit_in_the_same_message(standard):
    debit = samples.Prestatie(referentienummer="D1")
    ok = decl(standard, debit, credit("C1", "OLD1", toewijzingnummer=2))
    assert ok.issues("TR316") == []
    bad = decl(standard, debit, credit("C1", "D1"))
    assert bad.paths("TR316") == [f"{PR}[2]/ProductReferentie/VorigReferentieNummer"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr358_total_is_signed_sum_of_prestaties(standard):
    items = (samples.Prestatie(volume=3), credit("C1", "OLD1", volume=1, toewijzingnummer=2))
    assert decl(standard, *items).issues("TR358") == []  # 3*7500 - 1*7500 = 15000 D
    bad = decl(standard, *items, totaal=(30000, "D"))  # as if the credit were added
    assert bad.paths("TR358") == ["/Bericht/Declaratie/TotaalIngediendBedrag"]
    net_credit = decl(standard, credit("C1", "OLD1", volume=2))
    assert net_credit.issues("TR358") == []  # total 15000 C
    assert decl(standard, credit("C1", "OLD1", volume=2), totaal=(15000, "D")).paths("TR358") == [
        "/Bericht/Declaratie/TotaalIngediendBedrag"
    ]


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
    assert bad.paths("TR416") == [f"{PR}[2]", f"{PR}[3]"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr416_across_clients(standard):
    msg = Msg(samples.declaration(standard, clients={
        samples.BSNS[0]: [samples.Prestatie(referentienummer="A")],
        samples.BSNS[1]: [samples.Prestatie(referentienummer="B")],
    }))
    assert msg.paths("TR416") == ["/Bericht/Declaratie/Clienten/Client[2]/Prestaties/Prestatie"]


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
    assert [i.path for i in issues] == [f"{PR}/ProductPeriode"]
    assert issues[0].retourcode == "9319"
    assert issues[0].class_path == PR


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
    assert msg.paths("TR342") == [f"{AN}/TotaalToegekendBedrag"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr342_only_rejected_prestaties_are_listed(standard):
    msg = _answer(standard, {3, 4})
    msg.set("DeclaratieAntwoord/Clienten/Client/Prestaties/Prestatie[2]/RetourCodes/RetourCode", "0200")
    assert msg.paths("TR342") == [f"{AN}/Clienten/Client/Prestaties/Prestatie[2]"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_tr342_rejected_declaratieantwoord_awards_nothing(standard):
    msg = _answer(standard, {3})
    msg.set("DeclaratieAntwoord/RetourCodes/RetourCode", "9333")
    assert msg.paths("TR342") == [f"{AN}/Clienten", f"{AN}/TotaalToegekendBedrag"]
    msg.drop("DeclaratieAntwoord/Clienten")
    msg.set("DeclaratieAntwoord/TotaalToegekendBedrag/TotaalBedrag", 0)
    msg.set("DeclaratieAntwoord/TotaalToegekendBedrag/DebetCredit", "D")
    assert msg.issues("TR342") == []
