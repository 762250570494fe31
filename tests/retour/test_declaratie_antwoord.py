"""Declaratie-antwoord 325 for a 323: the situations of IV087, schema validity and TR342."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway import clock, samples
from gateway.catalog import by_code
from gateway.retour import (
    RetourNotPossible,
    build_declaratie_antwoord,
    declaratie_outcome,
)
from schemas.registry import SchemaRegistry, default_registry
from validators import engine
from validators.common import signed_amount
from validators.issues import Issue
from validators.paths import child, children, text
from validators.validate import validate_bytes
from validators.xsd import validate_tree

STANDARDS = ("ijw", "iwmo")
TODAY = clock.today()
CL = "/Bericht/Declaratie/Clienten/Client"


@pytest.fixture(scope="module")
def official(official_dir) -> SchemaRegistry:
    return SchemaRegistry([official_dir / "ijw-3.2" / "xsd"])


def code(standard: str, number: str) -> str:
    return ("JW" if standard == "ijw" else "WMO") + number


def declaration(standard: str) -> bytes:
    """Two clients: 2 debits + 1 credit, and 1 debit (7500 eurocent per unit)."""
    return samples.declaration(standard, clients={
        samples.BSNS[0]: [
            samples.Prestatie(referentienummer="A", toewijzingnummer=1, volume=2),   # 15000 D
            samples.Prestatie(referentienummer="B", toewijzingnummer=2, volume=3),   # 22500 D
            samples.Prestatie(referentienummer="C", toewijzingnummer=3, volume=1,    # 7500 C
                              debet_credit="C", vorig_referentienummer="OLD"),
        ],
        samples.BSNS[1]: [samples.Prestatie(referentienummer="D", toewijzingnummer=4, volume=4)],  # 30000 D
    })


def answer(standard, issues, official, heen=None) -> tuple[etree._Element, etree._Element]:
    heen = heen or declaration(standard)
    src = etree.fromstring(heen)
    data = build_declaratie_antwoord(src, by_code(code(standard, "323")), issues, identificatie="A0001", today=TODAY)
    out = etree.fromstring(data)
    mtype = by_code(code(standard, "325"))
    assert validate_tree(out, default_registry().schema(mtype)) == []
    if standard == "ijw":
        assert validate_tree(out, official.schema(mtype)) == []
    # What the aanbieder will check on receipt (level 2 for a 325, TR342 among them).
    ctx = engine.RuleContext(root=out, mtype=mtype, today=TODAY)
    assert [i for i in engine.run(ctx)] == []
    return src, out


def codes(el) -> list[str]:
    return [c.text for c in children(child(el, "RetourCodes"), "RetourCode")]


def totals(out) -> tuple[int, int]:
    da = child(out, "DeclaratieAntwoord")
    return (signed_amount(child(da, "TotaalIngediendBedrag"), "TotaalBedrag"),
            signed_amount(child(da, "TotaalToegekendBedrag"), "TotaalBedrag"))


def refs(out) -> list[str]:
    return [text(p, "ProductReferentie", "ReferentieNummer") for p in out.iter("{*}Prestatie")]


@pytest.mark.parametrize("standard", STANDARDS)
def test_fully_awarded_8001(standard, official):
    src, out = answer(standard, [], official)
    h, sh = child(out, "Header"), child(src, "Header")
    assert codes(h) == ["0200"]
    assert text(h, "BerichtCode") == by_code(code(standard, "325")).berichtcode
    # The gemeente sends the 325: it is the 323's receiver.
    assert (text(h, "Afzender"), text(h, "Ontvanger")) == (text(sh, "Ontvanger"), text(sh, "Afzender"))
    assert text(h, "BerichtIdentificatie", "Identificatie") == "A0001"
    assert text(h, "BerichtIdentificatie", "Dagtekening") == TODAY.isoformat()
    assert text(h, "DeclaratieIdentificatie", "Identificatie") == text(sh, "BerichtIdentificatie", "Identificatie")
    assert text(h, "XsdVersieDeclaratie", "BerichtXsdVersie") == text(sh, "XsdVersie", "BerichtXsdVersie")
    da = child(out, "DeclaratieAntwoord")
    assert codes(da) == ["8001"] and child(da, "Clienten") is None
    assert text(da, "DeclaratieNummer") == text(src, "Declaratie", "DeclaratieNummer")
    assert totals(out) == (60000, 60000)


@pytest.mark.parametrize("standard", STANDARDS)
def test_rejected_prestaties_only_and_totals_add_up(standard, official):
    issues = [
        Issue(rule="TR307", text="x", retourcode="9307", class_path=f"{CL}[1]/Prestaties/Prestatie[2]"),
        Issue(rule="TR339", text="x", retourcode="9339", path=f"{CL}[1]/Prestaties/Prestatie[2]/ProductCategorie"),
        Issue(rule="TR323", text="x", retourcode="8017", class_path=f"{CL}[1]/Prestaties/Prestatie[3]"),
    ]
    _, out = answer(standard, issues, official)
    assert codes(child(out, "Header")) == ["0200"]
    da = child(out, "DeclaratieAntwoord")
    assert codes(da) == ["0200"]
    clients = children(child(da, "Clienten"), "Client")
    assert [text(c, "Bsn") for c in clients] == [samples.BSNS[0]]
    assert codes(clients[0]) == ["0200"]
    assert refs(out) == ["B", "C"]
    assert [codes(p) for p in out.iter("{*}Prestatie")] == [["9307", "9339"], ["8017"]]
    # Rejected: B 22500 D and C 7500 C (net 15000): awarded 60000 - 15000.
    assert totals(out) == (60000, 45000)


@pytest.mark.parametrize("standard", STANDARDS)
def test_client_rejection_echoes_all_its_prestaties_not_assessed(standard, official):
    issues = [Issue(rule="TR304", text="x", retourcode="8187", class_path=f"{CL}[1]")]
    _, out = answer(standard, issues, official)
    clients = children(child(child(out, "DeclaratieAntwoord"), "Clienten"), "Client")
    assert len(clients) == 1 and codes(clients[0]) == ["8187"]
    assert refs(out) == ["A", "B", "C"]
    assert {tuple(codes(p)) for p in out.iter("{*}Prestatie")} == {("0233",)}
    assert totals(out) == (60000, 30000)


@pytest.mark.parametrize("standard", STANDARDS)
def test_declaratie_rejection_awards_nothing(standard, official):
    issues = [Issue(rule="TR333", text="x", retourcode="9333", class_path="/Bericht/Declaratie"),
              Issue(rule="TR307", text="x", retourcode="9307", class_path=f"{CL}[2]/Prestaties/Prestatie")]
    src, out = answer(standard, issues, official)
    da = child(out, "DeclaratieAntwoord")
    assert codes(child(out, "Header")) == ["0200"]
    assert codes(da) == ["9333"] and child(da, "Clienten") is None
    assert totals(out) == (60000, 0)
    assert text(da, "TotaalToegekendBedrag", "DebetCredit") == "D"  # CS325
    assert declaratie_outcome(src, issues).status == "declaratie_rejected"


@pytest.mark.parametrize("standard", STANDARDS)
def test_level2_gives_header_0001_only(standard, official):
    heen = samples.declaration(standard, clients={samples.BSNS[0]: [samples.Prestatie(tarief=None, bedrag=60000)]})
    report = validate_bytes(heen)
    assert [i.rule for i in report.issues] == ["CD087"]
    data = build_declaratie_antwoord(report.root, report.mtype, report.issues, identificatie="A2", today=TODAY,
                                     xslt_versie="2.0.0")
    out = etree.fromstring(data)
    assert validate_tree(out, default_registry().schema(by_code(code(standard, "325")))) == []
    if standard == "ijw":
        assert validate_tree(out, official.schema(by_code("JW325"))) == []
    assert codes(child(out, "Header")) == ["0001"] and len(out) == 1
    assert text(child(out, "Header"), "XsltVersie") == "2.0.0"


@pytest.mark.parametrize("standard", STANDARDS)
def test_header_code_gives_header_only(standard, official):
    issues = [Issue(rule="TR056", text="x", retourcode="9056", class_path="/Bericht/Header")]
    src, out = answer(standard, issues, official)
    assert codes(child(out, "Header")) == ["9056"] and len(out) == 1
    assert declaratie_outcome(src, issues).status == "rejected"


@pytest.mark.parametrize("standard", STANDARDS)
def test_net_credit_declaration(standard, official):
    heen = samples.declaration(standard, clients={samples.BSNS[0]: [
        samples.Prestatie(referentienummer="C1", debet_credit="C", vorig_referentienummer="O1", volume=4),
        samples.Prestatie(referentienummer="D1", toewijzingnummer=2, volume=1),
    ]})
    issues = [Issue(rule="TR390", text="x", retourcode="9390", class_path=f"{CL}/Prestaties/Prestatie[2]")]
    _, out = answer(standard, issues, official, heen=heen)
    # Ingediend -22500 (C); rejected D1 +7500: awarded -30000, written as 30000 C.
    assert totals(out) == (-22500, -30000)
    assert text(child(out, "DeclaratieAntwoord"), "TotaalToegekendBedrag", "DebetCredit") == "C"


@pytest.mark.parametrize("standard", STANDARDS)
def test_warnings_do_not_reject(standard, official):
    issues = [Issue(rule="CR010", text="review", retourcode="0611", severity="warning", action="review",
                    class_path=f"{CL}[1]/Prestaties/Prestatie[1]")]
    src, out = answer(standard, issues, official)
    assert codes(child(out, "DeclaratieAntwoord")) == ["8001"]
    outcome = declaratie_outcome(src, issues)
    assert outcome.status == "awarded" and outcome.totaal_toegekend == outcome.totaal_ingediend == 60000


def test_outcome_lists_rejected_prestaties_for_the_pipeline():
    heen = declaration("ijw")
    src = etree.fromstring(heen)
    issues = [Issue(rule="TR304", text="x", retourcode="8187", class_path=f"{CL}[2]")]
    outcome = declaratie_outcome(src, issues)
    assert outcome.status == "partly_awarded"
    assert [(p.referentienummer, p.codes) for p in outcome.rejected_prestaties] == [("D", ["0233"])]
    assert (outcome.totaal_ingediend, outcome.totaal_toegekend) == (60000, 30000)


def test_only_a_323_gets_a_325():
    root = etree.fromstring(samples.build("JW301"))
    with pytest.raises(RetourNotPossible):
        build_declaratie_antwoord(root, by_code("JW301"), [], identificatie="A", today=TODAY)


def test_large_declaration_answer_stays_consistent(official):
    heen = samples.large_declaration("ijw", 2000)
    src = etree.fromstring(heen)
    prestaties = list(src.iter("{*}Prestatie"))
    from validators.paths import element_path

    issues = [Issue(rule="TR338", text="x", retourcode="9338", class_path=element_path(p)) for p in prestaties[::7]]
    data = build_declaratie_antwoord(src, by_code("JW323"), issues, identificatie="L", today=TODAY)
    out = etree.fromstring(data)
    assert validate_tree(out, official.schema(by_code("JW325"))) == []
    assert len(list(out.iter("{*}Prestatie"))) == len(prestaties[::7])
    ingediend, toegekend = totals(out)
    rejected = sum(int(text(p, "IngediendBedrag", "Bedrag")) for p in prestaties[::7])
    assert ingediend - toegekend == rejected


def test_clients_written_in_batches_give_the_same_325(monkeypatch):
    """A large 325 is written a batch of clients at a time: the text does not depend on where
    the batches end."""
    import gateway.retour as retour
    from validators.paths import element_path

    src = etree.fromstring(samples.large_declaration("ijw", 300))
    prestaties = list(src.iter("{*}Prestatie"))
    issues = [Issue(rule="TR338", text="x", retourcode="9338", class_path=element_path(p)) for p in prestaties[::3]]
    client = prestaties[45].getparent().getparent()
    issues.append(Issue(rule="TR304", text="x", retourcode="8187", class_path=element_path(client)))
    whole = build_declaratie_antwoord(src, by_code("JW323"), issues, identificatie="B", today=TODAY)
    monkeypatch.setattr(retour, "_BATCH", 7)
    assert build_declaratie_antwoord(src, by_code("JW323"), issues, identificatie="B", today=TODAY) == whole
    out = etree.fromstring(whole)
    listed = {i for i in range(0, 300, 3)} | set(range(40, 60))  # the third client: all its 20
    assert len(list(out.iter("{*}Prestatie"))) == len(listed)


def test_batched_325_still_checks_its_own_totals(monkeypatch):
    import gateway.retour as retour
    from validators.paths import element_path

    monkeypatch.setattr(retour, "_BATCH", 5)
    src = etree.fromstring(samples.large_declaration("ijw", 50))
    prestaties = list(src.iter("{*}Prestatie"))
    issues = [Issue(rule="TR338", text="x", retourcode="9338", class_path=element_path(p)) for p in prestaties[::3]]
    wrong = retour.assess_declaratie(src, issues)
    wrong.toegekend += 1
    with pytest.raises(RuntimeError, match="TR342"):
        build_declaratie_antwoord(src, by_code("JW323"), issues, identificatie="C", today=TODAY, assessment=wrong)
    listed_fine = retour.assess_declaratie(src, issues)
    listed_fine.prestaties[prestaties[1]] = ["0200"]
    with pytest.raises(RuntimeError, match="TR342"):
        build_declaratie_antwoord(src, by_code("JW323"), issues, identificatie="C", today=TODAY,
                                  assessment=listed_fine)


@pytest.mark.parametrize("every", [2, 1], ids=["half", "all"])
@pytest.mark.parametrize("variant", ["plain", "pretty", "comments", "other_prefix", "inner_declaration"])
def test_batches_built_from_text_equal_copies_element_by_element(variant, every, monkeypatch):
    """The batches of a large 325 are parsed from the prestaties' text when their tags are plain
    (a client whose prestaties are all listed cut from one serialisation of it); otherwise (or
    when forced here) each is copied and appended: the same 325 either way."""
    import gateway.retour as retour
    from validators.paths import element_path

    heen = samples.large_declaration("ijw", 60).decode()
    if variant == "pretty":
        heen = etree.tostring(etree.fromstring(heen.encode()), pretty_print=True).decode()
    elif variant == "comments":
        heen = heen.replace("<ToewijzingNummer>", "<!-- c --><ToewijzingNummer>").replace("</Prestatie>", "<?p x?></Prestatie>")
    elif variant == "other_prefix":
        heen = heen.replace("xmlns:ijw=", "xmlns:b=").replace("<ijw:", "<b:").replace("</ijw:", "</b:")
    elif variant == "inner_declaration":
        heen = heen.replace("<ProductCode>", f'<ProductCode xmlns="{by_code("JW323").namespace}">')
    src = etree.fromstring(heen.encode())
    prestaties = list(src.iter("{*}Prestatie"))
    issues = [Issue(rule="TR338", text="x", retourcode="9338", class_path=element_path(p))
              for p in prestaties[::every]]
    monkeypatch.setattr(retour, "_BATCH", 15)
    whole = []
    cut = retour._whole_client
    monkeypatch.setattr(retour, "_whole_client", lambda *a: whole.append(cut(*a)) or whole[-1])
    fast = build_declaratie_antwoord(src, by_code("JW323"), issues, identificatie="D", today=TODAY)
    # the clients are cut whole exactly when all their prestaties are listed and their text is plain
    assert any(x is not None for x in whole) == (every == 1 and variant in ("plain", "pretty"))
    monkeypatch.setattr(retour, "_batch_text", lambda *a: None)
    assert build_declaratie_antwoord(src, by_code("JW323"), issues, identificatie="D", today=TODAY) == fast
    assert len(list(etree.fromstring(fast).iter("{*}Prestatie"))) == 60 // every


def test_assessment_shares_the_paths_the_rules_computed():
    """Within extract.remembered, the assessment's paths of the rejected prestaties are the
    strings of the rules' declaration (extract.prestatie_paths, not made a second time), and
    the same paths as an assessment computes without it."""
    from gateway.retour import assess_declaratie, rejected_paths
    from validators import extract
    from validators.paths import element_path

    src = etree.fromstring(samples.large_declaration("ijw", 60, n_clients=4))
    prestaties = list(src.iter("{*}Prestatie"))
    issues = [Issue(rule="TR338", text="x", retourcode="9338", class_path=element_path(p)) for p in prestaties[1::2]]
    alone = assess_declaratie(src, issues)
    with extract.remembered(src):
        d = extract.declaratie(src)
        known = extract.prestatie_paths(d)
        shared = assess_declaratie(src, issues)
    assert rejected_paths(shared) == rejected_paths(alone) == {element_path(p): ["9338"] for p in prestaties[1::2]}
    assert all(shared.paths[p] is known[id(p)] for p in prestaties[1::2])
    assert not any(alone.paths[p] is known[id(p)] for p in prestaties[1::2])


def test_batch_totals_read_from_text_equal_the_tree(monkeypatch):
    """TR342 on a batch of the 325 reads its text when every prestatie ends plainly: the same
    sum as reading the tree parsed from it (credits too); any other text is left to the tree."""
    import gateway.retour as retour
    from validators.paths import element_path

    heen = samples.large_declaration("ijw", 120).replace(
        b"<ijw:DebetCredit>D</ijw:DebetCredit></IngediendBedrag>",
        b"<ijw:DebetCredit>C</ijw:DebetCredit></IngediendBedrag>", 9)
    src = etree.fromstring(heen)
    prestaties = list(src.iter("{*}Prestatie"))
    issues = [Issue(rule="TR338", text="x", retourcode="9338", class_path=element_path(p)) for p in prestaties[::2]]
    seen = []
    read_text = retour._text_sum

    def both(w, text, count):
        mini = etree.fromstring(text)
        seen.append((read_text(w, text, count),
                     retour._check_listed(mini, list(mini.iter(f"{{{w.ns}}}Prestatie")), w.answer)))
        if b"<ijw:Bedrag>" in text:  # the same text with an amount the text reading leaves to the tree
            odd = text.replace(b"<ijw:Bedrag>", b"<ijw:Bedrag> ", 1)
            assert read_text(w, odd, count) is None
        return seen[-1][0]

    monkeypatch.setattr(retour, "_text_sum", both)
    monkeypatch.setattr(retour, "_BATCH", 20)
    build_declaratie_antwoord(src, by_code("JW323"), issues, identificatie="T", today=TODAY)
    assert len(seen) == 3 and all(text == tree is not None for text, tree in seen)
