"""CR006 access routes and referrers; CR004 budget ceilings (with a recorded state, and on both stores)."""

from __future__ import annotations

from datetime import date

import pytest

from gateway import samples
from gateway.contracts import BUNDLES_DIR
from tests.contracts.conftest import CODE, GI, GOUDA, GROENE_HART, MH, NL, run, variant

MZ = BUNDLES_DIR / "maasdriel-zaltbommel-2027.yaml"
R = samples.Requested


def req(std, *products, aanbieder=GROENE_HART, gemeente=GOUDA, dagtekening=None):
    return samples.request(std, gemeente=gemeente, aanbieder=aanbieder, products=products, dagtekening=dagtekening)


# -- CR006 -----------------------------------------------------------------------------------------


def test_cr006_provider_initiated_wmo315_goes_to_review(registry):
    issues = run(registry, "WMO315", req("iwmo", R(verwijzer_type="01")))
    assert [(i.rule, i.severity, i.action, i.class_path) for i in issues] == [
        ("CR006", "warning", "review", "/Bericht/Client")
    ]


def test_cr006_wmo_referrer_other_than_the_municipality(registry):
    issues = run(registry, "WMO315", req("iwmo", R(verwijzer_type="02")))
    assert sorted((i.rule, i.action, i.class_path.rsplit("/", 1)[-1]) for i in issues) == [
        ("CR006", "review", "AangevraagdProduct"),
        ("CR006", "review", "Client"),
    ]


def test_cr006_jeugd_request_through_a_gp_is_normal(registry):
    assert run(registry, "JW315", req("ijw", R(verwijzer_type="02"))) == []
    assert run(registry, "JW317", samples.change_request("ijw", gemeente=GOUDA, aanbieder=GROENE_HART)) == []


def test_cr006_lot_referrers_override_the_law(registry):
    # JB/JR is reached through a GI or the court only.
    jr = dict(categorie="47", code="47JR1")
    assert run(registry, "JW315", req("ijw", R(verwijzer_type="04", **jr), aanbieder=GI)) == []
    issues = run(registry, "JW315", req("ijw", R(verwijzer_type="02", **jr), aanbieder=GI))
    assert [(i.rule, i.action) for i in issues] == [("CR006", "review")]
    assert issues[0].path.endswith("/Verwijzer/Type") and "jbjr" in issues[0].text


@pytest.mark.parametrize("std", ["ijw", "iwmo"])
def test_cr006_access_reject_flag_and_pass(std):
    reject = variant(MH, ("CR006: review", "CR006: reject"), ('routes: {"315": review', 'routes: {"315": reject'))
    flag = variant(MZ)
    # Midden-Holland variant: a referrer outside the policy rejects (iJw: zelfverwijzer to JB/JR).
    if std == "ijw":
        xml = req("ijw", R(verwijzer_type="06", categorie="47", code="47JR1"), aanbieder=GI)
        assert [(i.rule, i.severity) for i in run(reject, "JW315", xml)] == [("CR006", "error")]
    else:
        issues = run(reject, "WMO315", req("iwmo", R(verwijzer_type="01")))
        assert [(i.rule, i.severity, i.action) for i in issues] == [("CR006", "error", "reject")]
    # Maasdriel/Zaltbommel flags: a WMO315 route, or a zelfverwijzer for youth care.
    mz_day = date(2027, 3, 1)
    mz = (
        req("iwmo", R(verwijzer_type="01", categorie="02", code="MZB01", ingangsdatum=mz_day), aanbieder="23450001", gemeente="0263", dagtekening=mz_day)
        if std == "iwmo"
        else req("ijw", R(verwijzer_type="06", categorie="45", code="MZJ01", ingangsdatum=mz_day), aanbieder="23450002", gemeente="0263", dagtekening=mz_day)
    )
    issues = run(flag, f"{CODE[std]}315", mz, today=mz_day)
    assert [(i.rule, i.severity, i.action) for i in issues] == [("CR006", "warning", "flag")]
    ok = req("ijw", R(verwijzer_type="02", categorie="45", code="MZJ01", ingangsdatum=mz_day), aanbieder="23450002", gemeente="0263", dagtekening=mz_day)
    assert run(flag, "JW315", ok, today=mz_day) == []


# -- CR004 budget ceilings -------------------------------------------------------------------------


class RecordedState:
    """Declared totals as the store reports them (eurocent per provider, year, municipality)."""

    def __init__(self, totals: dict, known_allocations: set[str] = frozenset()):
        self.totals = totals
        self.known = known_allocations
        self.asked = []

    def declared_total(self, aanbieder, year, gemeente=None):
        self.asked.append((aanbieder, year, gemeente))
        return self.totals.get((aanbieder, year, gemeente), 0)

    def allocation(self, law, gemeente, toewijzingnummer):
        return object() if str(toewijzingnummer) in self.known else None


def _year():
    return samples.previous_month()[0].year  # the samples declare last month


MH_CEILING = '{provider: "12345678", year: 2026, ceiling_euro: 400000'


@pytest.fixture(scope="module")
def mh_now():
    """Midden-Holland with Groene Hart's 400,000 ceiling set for the year the samples declare in."""
    return variant(MH, (MH_CEILING, MH_CEILING.replace("2026", str(_year()))))


def _decl(std, *prestaties, aanbieder=GROENE_HART, gemeente=GOUDA):
    return samples.declaration(std, gemeente=gemeente, aanbieder=aanbieder, clients={samples.BSNS[0]: list(prestaties)})


@pytest.mark.parametrize("std", ["ijw", "iwmo"])
def test_cr004_budget_below_warning_passes(mh_now, std):
    year = _year()
    state = RecordedState({(GROENE_HART, year, None): 100_000_00})
    assert run(mh_now, f"{CODE[std]}323", _decl(std, samples.Prestatie()), state=state) == []
    assert state.asked == [(GROENE_HART, year, None)]


@pytest.mark.parametrize("std", ["ijw", "iwmo"])
def test_cr004_budget_warning_level_flags_once(mh_now, std):
    # Ceiling 400,000; warning at 70 % = 280,000. 279,700 + 2 x 600 crosses it.
    state = RecordedState({(GROENE_HART, _year(), None): 279_700_00})
    issues = run(mh_now, f"{CODE[std]}323", _decl(std, samples.Prestatie(), samples.Prestatie()), state=state)
    assert [(i.rule, i.severity, i.action, i.class_path.rsplit("/", 1)[-1]) for i in issues] == [
        ("CR004", "warning", "flag", "Prestatie[1]")
    ]


@pytest.mark.parametrize("std", ["ijw", "iwmo"])
def test_cr004_running_care_is_paid_above_the_ceiling(mh_now, std):
    # Midden-Holland: above the ceiling declarations are flagged, never refused.
    state = RecordedState({(GROENE_HART, _year(), None): 410_000_00})
    issues = run(mh_now, f"{CODE[std]}323", _decl(std, samples.Prestatie()), state=state)
    assert [(i.rule, i.severity, i.action) for i in issues] == [("CR004", "warning", "flag")]
    assert "exceeds the ceiling" in issues[0].text


@pytest.mark.parametrize("std", ["ijw", "iwmo"])
def test_cr004_new_allocations_refused_above_the_ceiling(mh_now, std):
    registry = mh_now
    state = RecordedState({(GROENE_HART, _year(), None): 410_000_00}, known_allocations={"1002"})
    start, end = date(_year(), 1, 5), date(_year(), 12, 31)
    new = samples.allocation(
        std, gemeente=GOUDA, aanbieder=GROENE_HART, products=(samples.Allocated(ingangsdatum=start, einddatum=end),)
    )
    issues = run(registry, f"{CODE[std]}301", new, state=state)
    assert [(i.rule, i.severity, i.retourcode) for i in issues] == [("CR004", "error", "S329")]
    # A resend of a known toewijzing is running care: not refused.
    resend = samples.allocation(
        std, gemeente=GOUDA, aanbieder=GROENE_HART, products=(samples.Allocated(toewijzingnummer=1002, ingangsdatum=start, einddatum=end),)
    )
    assert run(registry, f"{CODE[std]}301", resend, state=state) == []
    # Below the ceiling nothing happens; and without stored state the rule is skipped.
    assert run(registry, f"{CODE[std]}301", new, state=RecordedState({})) == []
    assert run(registry, f"{CODE[std]}301", new, state=None) == []


@pytest.mark.parametrize("std", ["ijw", "iwmo"])
def test_cr004_budget_refuse_policy_refuses_declarations(std):
    # Noord-Limburg refuses above the ceiling (tolerance 0, running care not exempt). For iJw a
    # variant gives the youth provider a ceiling too. Dates pinned inside the example contracts.
    oct26 = (date(2026, 10, 1), date(2026, 10, 31))
    if std == "iwmo":
        reg, agb = variant(NL), "45670003"
        p = samples.Prestatie(categorie="02", code="N1A01", eenheid="82", volume=1, tarief=540000)
    else:
        agb = "45670001"
        reg = variant(NL, ('{provider: "45670003", year: 2026', '{provider: "45670001", year: 2026, ceiling_euro: 100000}\n  - {provider: "45670003", year: 2026'))
        p = samples.Prestatie(categorie="45", code="J4A01", eenheid="82", volume=1, tarief=315000)
    p = samples.Prestatie(**{**p.__dict__, "begindatum": oct26[0], "einddatum": oct26[1]})
    ceiling = 1_250_000_00 if std == "iwmo" else 100_000_00
    under = RecordedState({(agb, 2026, None): ceiling - 10_000_00})
    over = RecordedState({(agb, 2026, None): ceiling - 1_000_00})
    xml = samples.declaration(std, gemeente="0983", aanbieder=agb, periode=oct26, clients={samples.BSNS[0]: [p]})
    assert [(i.rule, i.action) for i in run(reg, f"{CODE[std]}323", xml, state=under)] == [("CR004", "flag")]
    issues = run(reg, f"{CODE[std]}323", xml, state=over)
    assert [(i.rule, i.severity, i.retourcode) for i in issues] == [("CR004", "error", "0611")]
