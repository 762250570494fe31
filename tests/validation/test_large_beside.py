"""validate_bytes of a large declaration: its depth check and XSD validation run in a thread while
the prestatie rows are read (validators.validate._validate_large); the report is the same."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree
from validation_helpers import find, mutate

from gateway import samples
from gateway.xmlparse import ParseLimits
from validators import validate as validate_module
from validators.beside import beside
from validators.validate import validate_bytes

TODAY = date(2026, 3, 4)


def _report(raw: bytes, registry, limits: ParseLimits | None = None) -> tuple:
    r = validate_bytes(raw, registry, today=TODAY, limits=limits)
    rows = r.rule_cache.get("prestatie_rows")
    return (r.standard, r.message, r.mtype, r.schema_valid, r.root is None, r.issues, sorted(r.rule_cache),
            [(row.values, row.begin, row.end) for row in rows] if rows is not None else None)


def _unknown_element(root) -> None:
    find(root, "Declaratie/Clienten/Client/Prestaties/Prestatie").append(root.makeelement("{urn:x}Onbekend"))


def _end_before_begin(root) -> None:
    period = find(root, "Declaratie/Clienten/Client/Prestaties/Prestatie/ProductPeriode")
    find(period, "Einddatum").text, find(period, "Begindatum").text = "2000-01-01", "2000-01-31"


CASES = {
    "valid 323": lambda: samples.large_declaration("ijw", 40),
    "valid WMO323": lambda: samples.large_declaration("iwmo", 40),
    "325": lambda: samples.build("JW325"),
    "301": lambda: samples.build("JW301"),
    "xsd invalid 323": lambda: mutate(samples.large_declaration("ijw", 40), _unknown_element),
    "level-2 error 323": lambda: mutate(samples.large_declaration("ijw", 40), _end_before_begin),
}


def _take_large_path(monkeypatch) -> list:
    """Every message takes the large path from now on; counts the times the checks ran side by side."""
    calls: list = []

    def counted(background, foreground):
        calls.append(1)
        return beside(background, foreground)

    monkeypatch.setattr(validate_module, "BESIDE_BYTES", 0)
    monkeypatch.setattr(validate_module, "beside", counted)
    return calls


@pytest.mark.parametrize("name", sorted(CASES))
def test_large_path_reports_the_same(registry, monkeypatch, name):
    raw = CASES[name]()
    expected = _report(raw, registry)
    calls = _take_large_path(monkeypatch)
    assert _report(raw, registry) == expected
    assert len(calls) == (0 if name == "301" else 1)  # only a declaration has rows to read


def test_cases_cover_xsd_and_level2_errors(registry):
    xsd = validate_bytes(CASES["xsd invalid 323"](), registry, today=TODAY)
    assert xsd.issues and {i.rule for i in xsd.issues} == {"XSD"}
    level2 = validate_bytes(CASES["level-2 error 323"](), registry, today=TODAY)
    assert level2.schema_valid and not level2.valid


@pytest.mark.parametrize("name", ["valid 323", "301"])
def test_too_deep_is_refused_with_that_issue_alone(registry, monkeypatch, name):
    _take_large_path(monkeypatch)
    limits = ParseLimits(max_depth=4)
    report = validate_bytes(CASES[name](), registry, today=TODAY, limits=limits)
    assert [i.rule for i in report.issues] == ["PARSE"] and "deeper than 4" in report.issues[0].text
    assert report.root is None and report.mtype is None and not report.rule_cache


def test_beside_returns_both_and_raises_either():
    assert beside(lambda: 1, lambda: 2) == (1, 2)
    with pytest.raises(KeyError):
        beside(lambda: {}["x"], lambda: 2)
    with pytest.raises(ZeroDivisionError):
        beside(lambda: 1, lambda: 1 / 0)


def test_prestatie_rows_stops_when_told():
    from validators.common import RowsStopped, prestatie_rows

    root = etree.fromstring(CASES["valid 323"]())
    assert len(prestatie_rows(root, stop=lambda: False)) == 40
    with pytest.raises(RowsStopped):
        prestatie_rows(root, stop=lambda: True)


@pytest.mark.parametrize("name, read_whole", [("xsd invalid 323", False), ("valid 323", True)])
def test_a_schema_error_ends_the_rows_read(registry, monkeypatch, name, read_whole):
    """Each schema error's report takes the GIL from the reading thread: once the schema has
    failed, the rows (wanted only on a valid tree) are no longer read. Run one after the other
    here (the schema first), so the outcome does not depend on the threads' timing."""
    raw = CASES[name]()
    expected = _report(raw, registry)
    _take_large_path(monkeypatch)
    monkeypatch.setattr(validate_module, "beside", lambda background, foreground: (background(), foreground()))
    read: list = []

    def rows(root, extra=None, stop=None):
        from validators.common import prestatie_rows

        try:
            found = prestatie_rows(root, extra, stop)
        except Exception as exc:
            read.append(type(exc).__name__)
            raise
        read.append(len(found))
        return found

    monkeypatch.setattr(validate_module, "prestatie_rows", rows)
    assert _report(raw, registry) == expected
    assert read[0] == (40 if read_whole else "RowsStopped")
