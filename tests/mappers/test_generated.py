"""The generated typed classes: up to date with the model, typed leaves, seen by mypy, and their
code lists equal to the official ones."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from datetime import date, time
from enum import Enum

import pytest

import mappers
from mappers import generate
from mappers.generated import ijw, iwmo
from testsupport import schema_corpus


def test_committed_modules_are_what_the_generator_writes():
    for path, text in generate.outputs().items():
        assert path.is_file(), f"{path} missing: run python -m mappers.generate"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run python -m mappers.generate"


def test_check_mode_reports_a_stale_module(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(generate, "OUT_DIR", tmp_path)
    assert generate.main(["--check"]) == 1  # nothing written yet
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0
    (tmp_path / "ijw.py").write_text("# edited by hand\n")
    assert generate.main(["--check"]) == 1
    assert "ijw.py" in capsys.readouterr().err


def test_model_for_is_the_generated_class():
    assert mappers.model_for("JW301") is ijw.JW301Bericht
    assert mappers.model_for("WMO325") is iwmo.WMO325Bericht
    assert set(ijw.MESSAGES) | set(iwmo.MESSAGES) == {t.code for t in mappers.models.catalog.ALL}


def test_leaves_have_their_types():
    xml = schema_corpus.valid_document("JW301", seed=4, optional=1.0)
    m = mappers.from_xml(xml)
    product = m.Client.ToegewezenProducten.ToegewezenProduct[0]
    assert isinstance(product.Ingangsdatum, date) and isinstance(product.Toewijzingstijd, time)
    assert type(product.ToewijzingNummer) is int and type(product.Budget) is int  # eurocents
    assert isinstance(m.Client.Geslacht, ijw.LDT_Geslacht)
    assert isinstance(product.Omvang.Eenheid, ijw.LDT_Eenheid)
    assert type(m.Header.Afzender) is str
    view = json.loads(m.model_dump_json())
    assert view["Client"]["ToegewezenProducten"]["ToegewezenProduct"][0]["Ingangsdatum"] == product.Ingangsdatum.isoformat()
    assert view["Client"]["Geslacht"] == m.Client.Geslacht.value


def test_amounts_are_integer_eurocents():
    fields = ijw.CDT_BedragMetDC.model_fields
    assert fields["Bedrag"].annotation is int and "eurocent" in (fields["Bedrag"].description or "")
    with pytest.raises(ValueError):
        ijw.CDT_BedragMetDC(Bedrag="12.50", DebetCredit="D")  # no decimal euros: eurocents only
    assert ijw.CDT_BedragMetDC(Bedrag=1250, DebetCredit="D").DebetCredit is ijw.LDT_DebetCredit.D


def test_the_two_standards_keep_their_own_code_lists():
    assert {c.value for c in ijw.LDT_ProductCategorie} == set(generate.basisschema("ijw").simple("LDT_ProductCategorie").enumeration)
    assert "01" in {c.value for c in iwmo.LDT_ProductCategorie} and "01" not in {c.value for c in ijw.LDT_ProductCategorie}


@pytest.mark.parametrize("text, value, spelled", [
    ("+5", 5, "+5"), ("007", 7, "007"), (" 42\n", 42, " 42\n"), ("42", 42, None), ("-0", 0, "-0"),
])
def test_integer_spellings(text, value, spelled):
    assert mappers.leaf.read(int, text) == (value, spelled)


@pytest.mark.parametrize("text, value, spelled", [
    ("2024-02-29", date(2024, 2, 29), None), (" 2024-02-29 ", date(2024, 2, 29), " 2024-02-29 "),
])
def test_date_spellings(text, value, spelled):
    assert mappers.leaf.read(date, text) == (value, spelled)


@pytest.mark.parametrize("text, value", [
    ("12:00:00.5", time(12, 0, 0, 500000)), ("24:00:00", time(0)), ("10:11:12.1234567", time(10, 11, 12, 123456)),
])
def test_time_spellings_keep_their_text(text, value):
    assert mappers.leaf.read(time, text) == (value, text)


@pytest.mark.parametrize("kind, text", [
    (int, "1.5"), (int, ""), (date, "2023-02-29"), (date, "2024-01-01Z"), (date, "12024-01-01"),
    (date, "0000-01-01"), (time, "12:00:00Z"), (time, "25:00:00"), (ijw.LDT_Geslacht, "3"), (ijw.LDT_Geslacht, " 1"),
])
def test_values_that_are_not_of_the_type_are_refused(kind, text):
    with pytest.raises(mappers.leaf.LeafError, match=re.escape(repr(text))):
        mappers.leaf.read(kind, text)


# -- mypy sees the classes -------------------------------------------------------------------

GOOD = """
    from datetime import date
    import mappers
    from mappers.generated import ijw

    def einddatum(xml: bytes) -> date | None:
        m = mappers.from_xml(xml)
        assert isinstance(m, ijw.JW301Bericht)
        p: ijw.JW301ToegewezenProduct = m.Client.ToegewezenProducten.ToegewezenProduct[0]
        cents: int = p.Budget or 0
        sex: ijw.LDT_Geslacht = m.Client.Geslacht
        return p.Einddatum

    bedrag = ijw.CDT_BedragMetDC(Bedrag=1250, DebetCredit=ijw.LDT_DebetCredit.D)
"""
BAD = """
    from datetime import date
    from mappers.generated import ijw

    def wrong(m: ijw.JW301Bericht) -> date:
        p = m.Client.ToegewezenProducten.ToegewezenProduct[0]
        n: str = p.ToewijzingNummer
        return p.Einddatum

    bedrag = ijw.CDT_BedragMetDC(Bedrag="12.50", DebetCredit=ijw.LDT_DebetCredit.D)
"""


def _mypy(tmp_path, source: str) -> subprocess.CompletedProcess:
    pytest.importorskip("mypy")
    f = tmp_path / "example.py"
    f.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--follow-imports=silent",
         "--ignore-missing-imports", "--cache-dir", str(tmp_path / ".mypy"), str(f)],
        capture_output=True, text=True, cwd=generate.OUT_DIR.parent.parent, timeout=600,
    )


def test_mypy_accepts_typed_use_and_refuses_wrong_use(tmp_path):
    good = _mypy(tmp_path, GOOD)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = _mypy(tmp_path, BAD)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    out = bad.stdout
    assert 'Incompatible types in assignment (expression has type "int", variable has type "str")' in out
    assert 'Incompatible return value type (got "date | None", expected "date")' in out
    assert 'Argument "Bedrag" to "CDT_BedragMetDC" has incompatible type "str"; expected "int"' in out


# -- our code lists against the official ones ------------------------------------------------

# Which official codelist holds the codes of each LDT_ type (file name prefixes, per standard).
CODELISTS = {
    "LDT_AanduidingWoonadres": "NUM061", "LDT_AdresSoort": "COD757", "LDT_Communicatievorm": "COD747",
    "LDT_DatumGebruik": "COD170", "LDT_DebetCredit": "COD043", "LDT_Eenheid": "WJ756",
    "LDT_Frequentie": "WMO757", "LDT_Geslacht": "COD046", "LDT_JaNee": "COD260",
    "LDT_JuridischeStatus": "WJ232", "LDT_LandCode": "COD032", "LDT_NaamGebruik": "COD700",
    "LDT_ProductCategorie": {"ijw": "JZ020", "iwmo": "WMO020"},
    "LDT_RedenAfwijzingVerzoek": "WJ759",
    "LDT_RedenBeeindiging": {"ijw": "JZ588", "iwmo": "WMO588"},
    "LDT_RedenVerzoek": "WJ758", "LDT_RedenWijziging": {"ijw": "JZ002", "iwmo": "WMO002"},
    "LDT_RetourCode": "WJ001", "LDT_SoortRelatie": "COD472", "LDT_StatusAanlevering": "COD467",
    "LDT_TypeVerwijzer": "COD327", "LDT_VerzoekAntwoord": "WJ760", "LDT_WettelijkeVertegenwoordiging": "WJ003",
}
_ROW = re.compile(r"^\|\s*([A-Z0-9]{1,4})\s*\|")
_HEADING = re.compile(r"^#+\s*Code\s+([A-Z0-9]{1,4})\s+-")


def official_codes(path) -> set[str]:
    """The codes of an official codelist file: its JSON `codes`, its code table (the rows after a
    `| Code |` header) or its `# Code XX - ...` headings."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return {c["code"] for c in json.loads(text)["codelijst"]["codes"]}
    codes: set[str] = set()
    in_table = False
    for line in text.splitlines():
        if re.match(r"^\|\s*(Code|Reden Wijziging)\s*\|", line):  # WMO002 names its code column so
            in_table = True
            continue
        if in_table and line.startswith("|"):
            m = _ROW.match(line)
            if m:
                codes.add(m[1])
            continue
        in_table = False
        m = _HEADING.match(line)
        if m:
            codes.add(m[1])
    return codes


# Codes the official XSD enumerates that the codelist document leaves out (the XSD decides what is
# valid; listed so that a change in either official text shows up here).
NOT_IN_THE_DOCUMENT = {("ijw", "LDT_RetourCode"): {"9355"}, ("iwmo", "LDT_RetourCode"): {"9355"}}


def official_enumeration(official_dir, standard: str, name: str) -> set[str]:
    from lxml import etree

    tree = etree.parse(str(official_dir / f"{standard}-3.2" / "xsd" / "basisschema.xsd"))
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    return set(tree.xpath(f"//xs:simpleType[@name='{name}']//xs:enumeration/@value", namespaces=xs))


def _enums(module) -> dict[str, type[Enum]]:
    return {n: c for n, c in vars(module).items() if isinstance(c, type) and issubclass(c, Enum) and n.startswith("LDT_")}


@pytest.mark.parametrize("module", [ijw, iwmo], ids=["ijw", "iwmo"])
def test_every_code_list_is_named(module):
    assert set(_enums(module)) == set(CODELISTS)


@pytest.mark.parametrize("standard, module", [("ijw", ijw), ("iwmo", iwmo)], ids=["ijw", "iwmo"])
@pytest.mark.parametrize("name", sorted(CODELISTS))
def test_our_code_lists_equal_the_official_ones(official_dir, standard, module, name):
    ref = CODELISTS[name]
    prefix = ref[standard] if isinstance(ref, dict) else ref
    [path] = [p for p in (official_dir / f"{standard}-3.2" / "codelijsten").iterdir() if p.name.startswith(prefix + "_")]
    ours = {c.value for c in _enums(module)[name]}
    official = official_codes(path)
    assert official, f"no codes read from {path.name}"
    gap = NOT_IN_THE_DOCUMENT.get((standard, name), set())
    assert ours == official | gap, f"{name} vs {path.name}: only ours {sorted(ours - official)}, only official {sorted(official - ours)}"
    assert gap.isdisjoint(official), f"{sorted(gap & official)} is in {path.name} now: drop it from NOT_IN_THE_DOCUMENT"
    assert ours == official_enumeration(official_dir, standard, name)


# -- the JSON view ---------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["JW301", "WMO317", "JW323", "WMO325"])
def test_view_round_trips_to_an_equal_model(code):
    model = mappers.from_xml(schema_corpus.valid_document(code, seed=8))
    view = json.loads(json.dumps(mappers.to_view(model)))
    assert view["type"] == code and view["standard"] == ("ijw" if code.startswith("JW") else "iwmo")
    assert mappers.from_view(view) == model


@pytest.mark.parametrize("view, message", [
    ({"type": "JW999", "content": {}}, "unknown message type"),
    ({"content": {}}, "unknown message type"),
    ({"type": "JW305", "content": {"Header": {}}}, "/Bericht/Header/BerichtCode: Field required"),
    ({"type": "JW305", "content": None}, "/Bericht/"),
])
def test_from_view_refuses_what_is_not_a_view(view, message):
    with pytest.raises(mappers.MappingError, match=re.escape(message)):
        mappers.from_view(view)
