"""Retourberichten 302/306/308/316/318/320: shape, codes per class and schema validity."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree

from gateway import clock, samples
from gateway.catalog import MessageType, by_code
from gateway.retour import (
    RetourNotPossible,
    TransportRejection,
    build_retour,
    transport_rejection,
)
from schemas.registry import SchemaRegistry, default_registry
from validators.issues import Issue
from validators.paths import child, children, text
from validators.validate import validate_bytes
from validators.xsd import validate_tree

STANDARDS = ("ijw", "iwmo")
HEEN = ("301", "305", "307", "315", "317", "319")
TODAY = clock.today()


def code_of(standard: str, number: str) -> str:
    return ("JW" if standard == "ijw" else "WMO") + number


@pytest.fixture(scope="module")
def official(official_dir) -> SchemaRegistry:
    return SchemaRegistry([official_dir / "ijw-3.2" / "xsd"])


def assert_schema_valid(data: bytes, mtype: MessageType, official: SchemaRegistry) -> etree._Element:
    root = etree.fromstring(data)
    assert validate_tree(root, default_registry().schema(mtype)) == []
    if mtype.standard == "ijw":  # the official set has no iWmo retour schemas
        assert validate_tree(root, official.schema(mtype)) == []
    return root


def retour_of(heen: bytes, issues=(), **kw) -> tuple[etree._Element, bytes]:
    root = etree.fromstring(heen)
    mtype = validate_bytes(heen).mtype
    data = build_retour(root, mtype, list(issues), identificatie_retour="R0001", today=TODAY, **kw)
    return root, data


def header_codes(out: etree._Element) -> list[str]:
    return [c.text for c in children(child(child(out, "Header"), "RetourCodes"), "RetourCode")]


def class_codes(el: etree._Element) -> list[str]:
    return [c.text for c in children(child(el, "RetourCodes"), "RetourCode")]


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("number", HEEN)
def test_accepted_retour_is_header_only_without_codes(standard, number, official):
    heen = samples.build(code_of(standard, number))
    src, data = retour_of(heen)
    out = assert_schema_valid(data, by_code(code_of(standard, number)).answered_by, official)
    assert [c.tag.split("}")[1] for c in out] == ["Header"]
    h, sh = child(out, "Header"), child(src, "Header")
    assert child(h, "RetourCodes") is None
    assert text(h, "BerichtCode") == by_code(code_of(standard, number)).answered_by.berichtcode
    # Header copied unchanged, Afzender/Ontvanger not swapped (IV028).
    for name in ("BerichtVersie", "BerichtSubversie", "Afzender", "Ontvanger"):
        assert text(h, name) == text(sh, name)
    for path in (("BerichtIdentificatie", "Identificatie"), ("BerichtIdentificatie", "Dagtekening"),
                 ("XsdVersie", "BerichtXsdVersie"), ("XsdVersie", "BasisschemaXsdVersie")):
        assert text(h, *path) == text(sh, *path)
    assert text(h, "IdentificatieRetour") == "R0001"
    assert text(h, "DagtekeningRetour") == TODAY.isoformat()
    assert text(h, "XsdVersieRetour", "BerichtXsdVersie") == ("0.1.0" if standard == "ijw" else "1.0.0")
    assert data.count(b"\r\n") > 5 and b"\n" not in data.replace(b"\r\n", b"")  # CR/LF (OP192)


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("number", HEEN)
def test_level2_rejection_is_header_0001_only(standard, number, official):
    msg = etree.fromstring(samples.build(code_of(standard, number)))
    # Any level-2 finding (retourcode 0001, wherever it points) rejects the whole message.
    report_issues = [Issue(rule="TR101", text="duplicate", path="/Bericht/Client", retourcode="0001")]
    data = build_retour(msg, by_code(code_of(standard, number)), report_issues,
                        identificatie_retour="R2", today=TODAY, xslt_versie="1.2.3")
    out = assert_schema_valid(data, by_code(code_of(standard, number)).answered_by, official)
    assert header_codes(out) == ["0001"]
    assert text(child(out, "Header"), "XsltVersie") == "1.2.3"
    assert len(out) == 1


@pytest.mark.parametrize("standard", STANDARDS)
def test_level2_from_real_rule_findings(standard, official):
    # A 301 that breaks CS336 (RedenWijziging 01): the validation issues go straight into the retour.
    heen = samples.allocation(standard, products=(samples.Allocated(reden_wijziging="01"),))
    report = validate_bytes(heen)
    assert [i.rule for i in report.issues] == ["CS336"]
    data = build_retour(report.root, report.mtype, report.issues, identificatie_retour="R3", today=TODAY)
    out = assert_schema_valid(data, report.mtype.answered_by, official)
    assert header_codes(out) == ["0001"] and len(out) == 1


@pytest.mark.parametrize("standard", STANDARDS)
def test_header_codes_9056_8848_s300(standard, official):
    heen = samples.build(code_of(standard, "305"))
    issues = [
        Issue(rule="TR056", text="dup", retourcode="9056", class_path="/Bericht/Header"),
        Issue(rule="TR135", text="future", retourcode="8848",
              path="/Bericht/Header/BerichtIdentificatie/Dagtekening"),
        Issue(rule="TR378", text="cbs", retourcode="S300"),  # no path at all: the Header
    ]
    _, data = retour_of(heen, issues)
    out = assert_schema_valid(data, by_code(code_of(standard, "306")), official)
    assert header_codes(out) == ["9056", "8848", "S300"] and len(out) == 1


@pytest.mark.parametrize("standard", STANDARDS)
def test_class_codes_on_nested_classes_301(standard, official):
    products = (samples.Allocated(toewijzingnummer=1), samples.Allocated(
        toewijzingnummer=2, ingangsdatum=date(2030, 1, 1), einddatum=date(2030, 12, 31)))
    heen = samples.allocation(standard, products=products, relatie=True)
    tp2 = "/Bericht/Client/ToegewezenProducten/ToegewezenProduct[2]"
    issues = [
        Issue(rule="TR332", text="not unique", retourcode="9332", class_path=tp2),
        Issue(rule="TR385", text="declared", retourcode="9385", path=f"{tp2}/Einddatum"),  # below the class
        Issue(rule="CR001", text="flag only", retourcode="9999", severity="warning", action="flag",
              class_path="/Bericht/Client"),
    ]
    src, data = retour_of(heen, issues)
    out = assert_schema_valid(data, by_code(code_of(standard, "302")), official)
    assert header_codes(out) == ["0200"]
    client = child(out, "Client")
    assert class_codes(client) == ["0200"]  # the warning does not reject
    relatie = child(child(client, "Relaties"), "Relatie")
    assert class_codes(relatie) == ["0200"] and class_codes(child(relatie, "Contact")) == ["0200"]
    assert class_codes(child(child(client, "Contactgegevens"), "Contact")) == ["0200"]
    tps = children(child(client, "ToegewezenProducten"), "ToegewezenProduct")
    assert [class_codes(t) for t in tps] == [["0200"], ["9332", "9385"]]
    # The body is echoed unchanged (apart from the RetourCodes).
    assert text(tps[1], "Ingangsdatum") == "2030-01-01"
    assert text(client, "Bsn") == text(child(src, "Client"), "Bsn")


@pytest.mark.parametrize("standard", STANDARDS)
def test_failed_parent_marks_subclasses_not_assessed_317(standard, official):
    heen = samples.change_request(standard, unchanged=(samples.Unchanged(toewijzingnummer=5),),
                                  new=(samples.NewProduct(),))
    issues = [Issue(rule="TR304", text="other client", retourcode="8187", class_path="/Bericht/Client")]
    _, data = retour_of(heen, issues)
    out = assert_schema_valid(data, by_code(code_of(standard, "318")), official)
    client = child(out, "Client")
    verzoek = child(client, "Verzoek")
    assert class_codes(client) == ["8187"]
    assert class_codes(verzoek) == ["0233"]
    for group, item in (("OngewijzigdeProducten", "OngewijzigdProduct"), ("TeWijzigenProducten", "TeWijzigenProduct"),
                        ("NieuweProducten", "NieuwProduct")):
        assert class_codes(child(child(verzoek, group), item)) == ["0233"]


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize(("number", "item"), [("305", "StartProducten/StartProduct"),
                                               ("307", "StopProducten/StopProduct"),
                                               ("315", "AangevraagdeProducten/AangevraagdProduct")])
def test_class_code_on_product_of_305_307_315(standard, number, item, official):
    heen = samples.build(code_of(standard, number))
    issues = [Issue(rule="TR063", text="x", retourcode="9063", class_path=f"/Bericht/Client/{item}")]
    _, data = retour_of(heen, issues)
    out = assert_schema_valid(data, by_code(code_of(standard, number)).answered_by, official)
    group, name = item.split("/")
    assert class_codes(child(out, "Client")) == ["0200"]
    assert class_codes(child(child(child(out, "Client"), group), name)) == ["9063"]


def test_answer_retour_320_with_woonplaatsbeginsel(official):
    heen = samples.answer("ijw", verzoek_antwoord="1", reden_afwijzing="8", woonplaatsbeginsel="0363")
    issues = [Issue(rule="TR360", text="x", retourcode="9360", class_path="/Bericht/Antwoord")]
    _, data = retour_of(heen, issues)
    out = assert_schema_valid(data, by_code("JW320"), official)
    antwoord = child(out, "Antwoord")
    assert class_codes(antwoord) == ["9360"]
    assert class_codes(child(antwoord, "Woonplaatsbeginsel")) == ["0233"]


def test_answer_retour_320_iwmo(official):
    heen = samples.answer("iwmo")
    _, data = retour_of(heen, [Issue(rule="TR355", text="x", retourcode="9355", class_path="/Bericht/Antwoord")])
    out = assert_schema_valid(data, by_code("WMO320"), official)
    assert class_codes(child(out, "Antwoord")) == ["9355"]


@pytest.mark.parametrize("standard", STANDARDS)
def test_level2_wins_over_class_codes(standard, official):
    heen = samples.build(code_of(standard, "307"))
    issues = [
        Issue(rule="TR018", text="x", retourcode="0001", path="/Bericht/Client/StopProducten/StopProduct/Einddatum"),
        Issue(rule="TR382", text="x", retourcode="9069", class_path="/Bericht/Client/StopProducten/StopProduct"),
    ]
    _, data = retour_of(heen, issues)
    out = assert_schema_valid(data, by_code(code_of(standard, "308")), official)
    assert header_codes(out) == ["0001"] and len(out) == 1


def test_transport_rejection_for_xsd_invalid_message():
    heen = samples.build("JW301").replace(b"<Geslacht>2</Geslacht>", b"<Geslacht>7</Geslacht>", 1)
    report = validate_bytes(heen)
    rejection = transport_rejection(report.issues, report.message)
    assert rejection is not None and rejection.code == "BRS13"
    assert rejection.path == "/Bericht/Client/Geslacht" and rejection.message_type == "JW301"
    assert "/Bericht/Client/Geslacht" in rejection.message and "XSD" in rejection.message
    assert rejection.line is not None and rejection.issues[0]["rule"] == "XSD"
    assert TransportRejection.from_issues(report.issues, "JW301") == rejection
    with pytest.raises(RetourNotPossible) as exc:
        build_retour(report.root, report.mtype, report.issues, identificatie_retour="R", today=TODAY)
    assert exc.value.rejection.code == "BRS13"


def test_transport_rejection_for_non_xml():
    report = validate_bytes(b"this is not xml")
    rejection = transport_rejection(report.issues)
    assert rejection.code == "BRS14" and rejection.issues


def test_no_transport_rejection_for_a_valid_message():
    issues = validate_bytes(samples.build("WMO305")).issues
    assert transport_rejection(issues) is None
    with pytest.raises(ValueError):
        TransportRejection.from_issues(issues)


def test_323_gets_no_retourbericht():
    root = etree.fromstring(samples.build("JW323"))
    with pytest.raises(RetourNotPossible):
        build_retour(root, by_code("JW323"), [], identificatie_retour="R", today=TODAY)


@pytest.mark.parametrize("number", HEEN)
def test_retour_classes_are_those_of_the_official_retour_schemas(official_dir, number):
    """Every element whose type carries RetourCodes (besides the Header) is a class we code."""
    from gateway.retour import RETOUR_CLASSES

    xs = "{http://www.w3.org/2001/XMLSchema}"
    answer = by_code(code_of("ijw", number)).answered_by
    doc = etree.parse(str(official_dir / "ijw-3.2" / "xsd" / f"{answer.code}.xsd"))
    with_codes = {
        ct.get("name")
        for ct in doc.iter(f"{xs}complexType")
        if any(e.get("name") == "RetourCodes" for e in ct.iter(f"{xs}element")) and ct.get("name") != "Header"
    }
    elements = {
        e.get("name") for e in doc.iter(f"{xs}element") if (e.get("type") or "").split(":")[-1] in with_codes
    }
    assert elements == set(RETOUR_CLASSES[number])


@pytest.mark.parametrize("layout", ["plain", "xsi_and_comments", "basis_on_header", "basis_prefix_b",
                                    "compact", "basis_first", "heen_again_below", "comment_only"])
def test_header_copied_together_as_each_alone(layout):
    """The retour's header copies are made in one round trip (_Writer.copy_all), or written as
    text (_Writer.copies_text, as build_retour does): the same elements, namespace declarations
    and prefixes as copied one by one (_Writer.copy), whatever the heen declares where (an
    unused xsi declaration, comments, the basisschema's on the Header or first, its own
    namespace again below) and whether it is indented or not."""
    import re

    from gateway.retour import _HEADER_COPIED, _Writer

    heen = samples.build(code_of("ijw", "301"))
    basis = re.search(rb' (xmlns:\w+="[^"]*basisschema[^"]*")', heen)[1]
    def prefix_of(decl: bytes) -> bytes:
        return decl.split(b"=")[0].split(b":")[1]

    if layout == "xsi_and_comments":
        xsi = b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        heen = heen.replace(b"<Bericht xmlns=", b"<Bericht " + xsi + b" xmlns=", 1)
        heen = heen.replace(b"<BerichtIdentificatie>", b"<BerichtIdentificatie><!-- c --><?pi x?>", 1)
    elif layout == "basis_on_header":
        heen = heen.replace(b"<Header>", b"<Header " + basis + b">", 1)  # declared again there
    elif layout == "basis_prefix_b":
        prefix = basis.split(b"=")[0].split(b":")[1]
        heen = heen.replace(b"xmlns:" + prefix + b"=", b"xmlns:b=").replace(b"<" + prefix + b":", b"<b:")
        heen = heen.replace(b"</" + prefix + b":", b"</b:")
    elif layout == "compact":
        heen = etree.tostring(etree.fromstring(heen, etree.XMLParser(remove_blank_text=True)))
    elif layout == "basis_first":
        own = re.search(rb' (xmlns="[^"]*")', heen)[1]
        heen = heen.replace(b" " + own, b"", 1).replace(basis, basis + b" " + own, 1)
    elif layout == "heen_again_below":
        own = re.search(rb' (xmlns="[^"]*")', heen)[1]
        heen = heen.replace(b"<" + prefix_of(basis) + b":Identificatie>",
                            b"<" + prefix_of(basis) + b":Identificatie " + own + b">", 1)
    elif layout == "comment_only":
        heen = heen.replace(b"</Ontvanger>", b"<!-- c --></Ontvanger>", 1)
    mtype = by_code(code_of("ijw", "301"))
    root = etree.fromstring(heen)
    header = child(root, "Header")
    outs = []
    for way in ("each", "together", "text"):
        w = _Writer(mtype, mtype.answered_by)
        if way == "text":
            out = etree.fromstring(w.root_text() + b"<Header>" + w.copies_text(header, _HEADER_COPIED)
                                   + b"</Header></Bericht>")
        else:
            out = w.root()
            h = w.el(out, "Header")
            if way == "together":
                w.copy_all([child(header, n) for n in _HEADER_COPIED], h)
            else:
                for n in _HEADER_COPIED:
                    w.copy(child(header, n), h)
        outs.append(etree.tostring(out, pretty_print=True))
    assert outs[0] == outs[1] == outs[2]
    assert (b"xmlns:xsi" in outs[0]) == (layout == "xsi_and_comments")  # kept as copy keeps it
    assert b"<!--" not in outs[0] and b"<?pi" not in outs[0]
