"""Sample messages are coherent: elfproef BSNs, sane dates, amounts that add up, and no findings
from the in-message rules (levels xslt and condition) that are registered."""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from lxml import etree
from test_samples_xsd import _variants

from gateway import clock, samples
from gateway.catalog import ALL, by_namespace
from validators import engine
from validators.paths import child, children, text


def test_elfproef_known_values():
    assert samples.elfproef("123456782")
    assert samples.elfproef("999900006")
    assert not samples.elfproef("123456781")
    assert not samples.elfproef("12345678")  # eight digits
    assert not samples.elfproef("12345678a")
    assert not samples.elfproef("000000000")  # weighted sum 0 is no BSN


def test_bsns_are_fictitious_unique_and_pass_the_elfproef():
    assert len(samples.BSNS) >= 1000
    assert len(set(samples.BSNS)) == len(samples.BSNS)
    assert all(b.startswith("9999") and samples.elfproef(b) for b in samples.BSNS)


def _dates(root) -> list[tuple[str, date]]:
    out = []
    for el in root.iter():
        if isinstance(el.tag, str) and el.text and len(el.text) == 10 and el.text[4] == "-":
            out.append((etree.QName(el).localname, date.fromisoformat(el.text)))
    return out


@pytest.mark.parametrize("code", [t.code for t in ALL])
def test_dagtekening_is_today_and_birth_dates_are_sane(code):
    root = etree.fromstring(samples.build(code))
    assert text(child(root, "Header"), "BerichtIdentificatie", "Dagtekening") == clock.today().isoformat()
    for name, d in _dates(root):
        assert d.year >= 2000 or name == "Datum", (name, d)  # CS100 and friends; Geboortedatum may be older
    birth = root.find(".//{*}Geboortedatum/{*}Datum")
    if birth is not None:
        age = (clock.today() - date.fromisoformat(birth.text)).days / 365.25
        assert 0 < age < 120  # TR002


def _signed(el) -> int:
    amount = int(text(el, "Bedrag") or text(el, "TotaalBedrag"))
    return amount if text(el, "DebetCredit") == "D" else -amount


@pytest.mark.parametrize("std", ["ijw", "iwmo"])
def test_declaration_amounts_and_periods(std):
    for message in (_variants(std)["323 credit and 83"], samples.build("JW323" if std == "ijw" else "WMO323")):
        decl = child(etree.fromstring(message), "Declaratie")
        prestaties = [p for c in children(child(decl, "Clienten"), "Client") for p in children(child(c, "Prestaties"), "Prestatie")]
        # TR358: the total is the signed sum; CS325: zero carries D
        assert _signed(child(decl, "TotaalIngediendBedrag")) == sum(_signed(child(p, "IngediendBedrag")) for p in prestaties)
        for p in prestaties:
            bedrag = int(text(p, "IngediendBedrag", "Bedrag"))
            volume = int(text(p, "GeleverdVolume"))
            if text(p, "Eenheid") == "83":  # CD087, CS339
                assert text(p, "ProductTarief") is None and bedrag == volume
            else:  # TR346
                assert bedrag == volume * int(text(p, "ProductTarief"))
            begin = date.fromisoformat(text(p, "ProductPeriode", "Begindatum"))
            end = date.fromisoformat(text(p, "ProductPeriode", "Einddatum"))
            assert (begin.year, begin.month) == (end.year, end.month) and begin <= end  # CS337
        begin = date.fromisoformat(text(decl, "DeclaratiePeriode", "Begindatum"))
        end = date.fromisoformat(text(decl, "DeclaratiePeriode", "Einddatum"))
        assert begin.day == 1 and end == begin.replace(day=calendar.monthrange(begin.year, begin.month)[1])  # CS340
        assert end < clock.today()  # TR137


def test_net_credit_declaration_total_is_credit():
    message = samples.declaration(
        clients={samples.BSNS[5]: [samples.Prestatie(debet_credit="C", vorig_referentienummer="X1", volume=3)]}
    )
    total = child(child(etree.fromstring(message), "Declaratie"), "TotaalIngediendBedrag")
    assert text(total, "DebetCredit") == "C" and text(total, "TotaalBedrag") == str(3 * samples.DEFAULT_TARIEF)


def test_partly_rejected_325_keeps_tr342():
    decl = samples.declaration(
        clients={samples.BSNS[7]: [samples.Prestatie(referentienummer="A1"), samples.Prestatie(referentienummer="A2", toewijzingnummer=7, volume=2)]}
    )
    answer = etree.fromstring(samples.declaration_answer(decl, rejected={"A2": ["9339"]}))
    da = child(answer, "DeclaratieAntwoord")
    echoed = [p for c in children(child(da, "Clienten"), "Client") for p in children(child(c, "Prestaties"), "Prestatie")]
    assert [text(p, "ProductReferentie", "ReferentieNummer") for p in echoed] == ["A2"]
    diff = _signed(child(da, "TotaalIngediendBedrag")) - _signed(child(da, "TotaalToegekendBedrag"))
    assert diff == sum(_signed(child(p, "IngediendBedrag")) for p in echoed) == 2 * samples.DEFAULT_TARIEF


def test_retour_copies_the_heen_header():
    heen = etree.fromstring(samples.build("WMO305"))
    ret = etree.fromstring(samples.retour(etree.tostring(heen), codes=["0001"]))
    for path in (("Afzender",), ("Ontvanger",), ("BerichtIdentificatie", "Identificatie")):
        assert text(child(ret, "Header"), *path) == text(child(heen, "Header"), *path)
    assert text(child(ret, "Header"), "BerichtCode") == "419"
    with pytest.raises(ValueError):
        samples.retour(samples.build("JW323"))


def _all_messages():
    for t in ALL:
        yield t.code, samples.build(t.code)
    for std in ("ijw", "iwmo"):
        for name, message in _variants(std).items():
            yield f"{std} {name}", message


def test_no_in_message_rule_fires_on_samples():
    """The registered level-2 rules (xslt + condition) find nothing in any sample or variant."""
    if not engine.load_all():
        pytest.skip("no rules registered yet")
    findings = []
    for name, message in _all_messages():
        root = etree.fromstring(message)
        ctx = engine.RuleContext(root=root, mtype=by_namespace(etree.QName(root).namespace), today=clock.today())
        findings += [f"{name}: {i.rule} {i.path} {i.text}" for i in engine.run(ctx, ("xslt", "condition"))]
    assert not findings, "\n".join(findings)


def test_large_declaration_shape():
    message = samples.large_declaration("iwmo", 250, n_clients=3)
    decl = child(etree.fromstring(message), "Declaratie")
    clients = children(child(decl, "Clienten"), "Client")
    prestaties = [p for c in clients for p in children(child(c, "Prestaties"), "Prestatie")]
    assert len(clients) == 3 and len(prestaties) == 250
    assert _signed(child(decl, "TotaalIngediendBedrag")) == sum(_signed(child(p, "IngediendBedrag")) for p in prestaties)
    assert len({text(p, "ProductReferentie", "ReferentieNummer") for p in prestaties}) == 250  # TR314


def test_large_declaration_allocations_cover_every_prestatie(official_schemas):
    declared = etree.fromstring(samples.large_declaration("ijw", 60, n_clients=3))
    wanted = {
        (text(c, "Bsn"), text(p, "ToewijzingNummer"), text(p, "ProductCode"))
        for c in children(child(child(declared, "Declaratie"), "Clienten"), "Client")
        for p in children(child(c, "Prestaties"), "Prestatie")
    }
    allocated = set()
    for message in samples.large_declaration_allocations("ijw", 60, n_clients=3):
        assert official_schemas["JW301"].validate(etree.fromstring(message))
        root = etree.fromstring(message)
        ctx = engine.RuleContext(root=root, mtype=by_namespace(etree.QName(root).namespace), today=clock.today())
        assert not engine.run(ctx, ("xslt", "condition"))
        client = child(root, "Client")
        for tp in children(child(client, "ToegewezenProducten"), "ToegewezenProduct"):
            allocated.add((text(client, "Bsn"), text(tp, "ToewijzingNummer"), text(tp, "Product", "Code")))
    assert allocated == wanted and len(wanted) == 60
