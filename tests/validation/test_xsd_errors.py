"""Schema errors: the official report path (index only where siblings share a name), the line,
and a readable text."""

from __future__ import annotations

import pytest
from lxml import etree
from validation_helpers import find, mutate, two_products

from gateway import catalog, samples
from validators.validate import validate_bytes
from validators.xsd import element_at

ADDRESS = "Client/Contactgegevens/Contact/Adres"
PRODUCT2 = "Client/ToegewezenProducten/ToegewezenProduct[2]"


def set_text(path: str, value: str):
    def change(root):
        find(root, path).text = value

    return change


def line_of(raw: bytes, path: str) -> int:
    return find(etree.fromstring(raw), path).sourceline


def only_xsd_issue(raw: bytes, registry):
    report = validate_bytes(raw, registry)
    assert not report.valid
    assert [i.rule for i in report.issues] == ["XSD"], report.issues
    return report.issues[0]


@pytest.mark.parametrize("mtype", catalog.ALL, ids=lambda t: t.code)
def test_every_sample_is_schema_valid(mtype, registry):
    report = validate_bytes(samples.build(mtype.code), registry, run_rules=False)
    assert report.valid and report.issues == [] and report.schema_valid


def test_invalid_date_in_second_of_two_products(registry):
    raw = mutate(two_products(), set_text(f"{PRODUCT2}/Einddatum", "2026-02-30"))
    issue = only_xsd_issue(raw, registry)
    assert issue.path == "/Bericht/Client/ToegewezenProducten/ToegewezenProduct[2]/Einddatum"
    assert issue.line == line_of(raw, f"{PRODUCT2}/Einddatum")
    assert issue.text.startswith("Element Einddatum: '2026-02-30' is not a valid date")


def test_no_index_where_an_element_has_no_same_named_sibling(registry):
    raw = mutate(samples.build("JW301"), set_text("Client/ToegewezenProducten/ToegewezenProduct/Einddatum", "2026-13-01"))
    issue = only_xsd_issue(raw, registry)
    assert issue.path == "/Bericht/Client/ToegewezenProducten/ToegewezenProduct/Einddatum"


def test_element_of_the_basisschema_namespace(registry):
    raw = mutate(two_products(), set_text(f"{PRODUCT2}/Omvang/Volume", "-1"))
    issue = only_xsd_issue(raw, registry)
    assert issue.path == "/Bericht/Client/ToegewezenProducten/ToegewezenProduct[2]/Omvang/Volume"
    assert issue.line == line_of(raw, f"{PRODUCT2}/Omvang/Volume")
    assert issue.text == "Element Volume: '-1' is too small: it must be at least 0"


def test_missing_element(registry):
    def drop(root):
        product = find(root, PRODUCT2)
        product.remove(find(root, f"{PRODUCT2}/Ingangsdatum"))

    raw = mutate(two_products(), drop)
    issue = only_xsd_issue(raw, registry)
    # libxml2 reports the element found where Ingangsdatum was expected.
    assert issue.path == "/Bericht/Client/ToegewezenProducten/ToegewezenProduct[2]/Einddatum"
    assert "expected Ingangsdatum" in issue.text and "missing or out of order" in issue.text


def test_missing_last_element(registry):
    raw = mutate(samples.build("JW307"), lambda r: find(r, "Client/StopProducten/StopProduct").remove(
        find(r, "Client/StopProducten/StopProduct/StatusAanlevering")))
    issue = only_xsd_issue(raw, registry)
    assert issue.path == "/Bericht/Client/StopProducten/StopProduct"
    assert issue.text == "Missing element StatusAanlevering in StopProduct"


def test_unexpected_element(registry):
    raw = mutate(samples.build("JW305"), lambda r: find(r, "Client/Geslacht").addnext(
        etree.Element(f"{{{catalog.by_code('JW305').namespace}}}Foo")))
    issue = only_xsd_issue(raw, registry)
    assert issue.path == "/Bericht/Client/Foo"
    assert issue.text.startswith("Unexpected element Foo; expected Naam")


def test_element_in_the_wrong_namespace(registry):
    def wrong(root):
        ident = find(root, "Header/BerichtIdentificatie/Identificatie")
        ident.tag = f"{{{catalog.by_code('JW305').namespace}}}Identificatie"

    issue = only_xsd_issue(mutate(samples.build("JW305"), wrong), registry)
    assert issue.path == "/Bericht/Header/BerichtIdentificatie/Identificatie"
    assert "in namespace 'jw305' but must be in namespace 'basisschema'" in issue.text


def test_enumeration(registry):
    issue = only_xsd_issue(mutate(samples.build("WMO301"), set_text("Client/Geslacht", "7")), registry)
    assert issue.text == "Element Geslacht: '7' is not one of the allowed codes (0, 1, 2)"


def test_max_length(registry):
    raw = mutate(samples.build("JW319"), set_text("Header/BerichtIdentificatie/Identificatie", "X" * 13))
    issue = only_xsd_issue(raw, registry)
    assert issue.text == "Element Identificatie: the value is 13 characters long; at most 12 are allowed"


def test_not_a_number(registry):
    raw = mutate(two_products(), set_text(f"{PRODUCT2}/ToewijzingNummer", "abc"))
    issue = only_xsd_issue(raw, registry)
    assert issue.text == "Element ToewijzingNummer: 'abc' is not a whole number (LDT_Nummer)"


def test_date_with_time_zone(registry):
    raw = mutate(two_products(), set_text(f"{PRODUCT2}/Ingangsdatum", "2026-01-01Z"))
    issue = only_xsd_issue(raw, registry)
    assert issue.text.startswith("Element Ingangsdatum: '2026-01-01Z' does not have the required format")


def test_text_where_only_elements_are_allowed(registry):
    raw = mutate(samples.build("JW305"), lambda r: setattr(find(r, "Header"), "text", "junk"))
    assert only_xsd_issue(raw, registry).text == "Element Header may contain only elements, not text"


def test_attribute_not_allowed(registry):
    raw = mutate(samples.build("JW305"), lambda r: find(r, "Client").set("id", "1"))
    issue = only_xsd_issue(raw, registry)
    assert (issue.path, issue.text) == ("/Bericht/Client", "Element Client: attribute 'id' is not allowed")


def test_bsn_value_is_never_echoed(registry):
    raw = mutate(samples.build("JW301"), set_text("Client/Bsn", "12345678"))
    issue = only_xsd_issue(raw, registry)
    assert issue.path == "/Bericht/Client/Bsn"
    assert "12345678" not in issue.text and "withheld" in issue.text


def test_several_errors_in_document_order(registry):
    def break_three(root):
        find(root, "Client/Geslacht").text = "7"
        find(root, f"{PRODUCT2}/Einddatum").text = "2026-02-30"
        find(root, f"{ADDRESS}/Postcode").text = "?" * 10

    report = validate_bytes(mutate(two_products(), break_three), registry)
    assert [i.path.rsplit("/", 1)[-1] for i in report.issues] == ["Geslacht", "Postcode", "Einddatum"]
    assert [i.line for i in report.issues] == sorted(i.line for i in report.issues)


def test_official_and_our_schemas_report_the_same_error(registry, official_registry):
    raw = mutate(two_products(), set_text(f"{PRODUCT2}/Einddatum", "2026-02-30"))
    ours = validate_bytes(raw, registry).issues
    theirs = validate_bytes(raw, official_registry).issues
    assert [(i.path, i.line) for i in ours] == [(i.path, i.line) for i in theirs]


def test_element_at_reads_libxml2_paths():
    raw = b"""<a xmlns="urn:d" xmlns:p="urn:p"><b/><c><p:x/><p:x><y/></p:x></c><b/></a>"""
    root = etree.fromstring(raw)
    assert element_at(root, "/*") is root
    assert element_at(root, "/*/*[3]").getprevious().tag == "{urn:d}c"
    assert element_at(root, "/*/*[2]/p:x[2]/*").tag == "{urn:d}y"
    assert element_at(root, "/*/*[2]/p:x[2]/*/@attr").tag == "{urn:d}y"
    assert element_at(root, "/*/*[9]") is None
    assert element_at(root, "not a path") is None


def test_withhold_cuts_a_bsn_out_of_any_text():
    from validators.xsd import _withhold

    bsn = etree.fromstring(b"<Bsn>999900006</Bsn>")
    assert _withhold("an unforeseen message about '999900006'", bsn) == "an unforeseen message about '(withheld)'"
    other = etree.fromstring(b"<Naam>999900006</Naam>")
    assert "999900006" in _withhold("about '999900006'", other)


NS = "{http://www.istandaarden.nl/ijw/3_2/jw301/schema}"
BASIS = "{http://www.istandaarden.nl/ijw/3_2/basisschema/schema}"


@pytest.mark.parametrize(
    "message,text",
    [
        (f"Element '{NS}X': This element is not expected. Expected is one of ( {NS}A, {NS}B ).",
         "Unexpected element X; expected one of A, B at this position (missing or out of order)"),
        (f"Element '{NS}X': This element is not expected.",
         "Unexpected element X: nothing more is allowed here"),
        (f"Element '{NS}P': Missing child element(s). Expected is one of ( {NS}A, {BASIS}B ).",
         "Missing element in P: expected one of A, B"),
        (f"Element '{BASIS}Naam': [facet 'minLength'] The value has a length of '0'; this underruns "
         "the allowed minimum length of '1'.",
         "Element Naam: the value is 0 characters long; at least 1 are required"),
        (f"Element '{NS}Bedrag': [facet 'totalDigits'] The value '1234567890' has more digits than "
         "are allowed ('8').",
         "Element Bedrag: '1234567890' has too many digits: at most 8 are allowed"),
        (f"Element '{NS}Datum': '2026-1-1' is not a valid value of the atomic type 'xs:date'.",
         "Element Datum: '2026-1-1' is not a valid date (YYYY-MM-DD)"),
        (f"Element '{NS}Code': 'x' is not a valid value of the local atomic type.",
         "Element Code: 'x' is not valid"),
        (f"Element '{NS}Bsn': 'abc' is not a valid value of the atomic type '{BASIS}LDT_BurgerServicenummer'.",
         "Element Bsn: (value withheld, 3 characters) is not valid text (LDT_BurgerServicenummer)"),
        (f"Element '{NS}Client': Element content is not allowed, because the content type is a simple type.",
         "Element Client may contain only a value, not child elements"),
        (f"Element '{NS}Client': Something libxml2 says about {BASIS}Naam.",
         "Element Client: Something libxml2 says about Naam."),
        ("A message of another shape", "A message of another shape"),
    ],
)
def test_rewrite_of_libxml2_messages(message, text):
    from validators.xsd import _rewrite

    assert _rewrite(message, {"LDT_BurgerServicenummer": "string"}) == text
