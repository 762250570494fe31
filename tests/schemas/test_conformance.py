"""Our generated XSDs accept and reject exactly what the official iJw/iWmo 3.2 XSDs do.

Two independent checks: a structural comparison (every global type, element, facet and
cardinality), and the verdicts of both schema sets on a generated corpus of valid documents and
single-mutation invalid ones across all 28 message types.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from lxml import etree
from official_xsd import prepare
from xsd_structure_compare import structure

from gateway import catalog
from testsupport import schema_corpus
from schemas import generate

OURS = Path(generate.__file__).resolve().parent
CODES = [t.code for t in catalog.ALL]


@pytest.fixture(scope="module")
def official_files(official_dir, tmp_path_factory) -> dict[str, Path]:
    return prepare(official_dir, tmp_path_factory.mktemp("official"))


def _ours(code: str) -> Path:
    if code.endswith("-basisschema"):
        return generate.schema_dir(code.split("-")[0]) / "basisschema.xsd"
    return generate.schema_dir(catalog.by_code(code).standard) / f"{code}.xsd"


_compiled: dict[Path, etree.XMLSchema] = {}


def _schema(path: Path) -> etree.XMLSchema:
    if path not in _compiled:
        _compiled[path] = etree.XMLSchema(etree.parse(str(path)))
    return _compiled[path]


def _verdict(schema: etree.XMLSchema, xml: bytes) -> bool:
    return schema.validate(etree.fromstring(xml))


@pytest.mark.parametrize("code", CODES + ["ijw-basisschema", "iwmo-basisschema"])
def test_structure_equals_official(official_files, code):
    official = structure(etree.parse(str(official_files[code])).getroot())
    ours = structure(etree.parse(str(_ours(code))).getroot())
    for key in official:
        if isinstance(official[key], dict):
            diff = {n for n in official[key].keys() | ours[key].keys() if official[key].get(n) != ours[key].get(n)}
            assert not diff, f"{code} {key} differ: {sorted(diff)}"
        else:
            assert official[key] == ours[key], f"{code} {key}"


def test_corpus_verdicts_agree(official_files):
    disagreements = []
    kinds: collections.Counter = collections.Counter()
    wrong_expectation = []
    for sample in schema_corpus.corpus(CODES, valid=20, seed=7, per_kind=5):
        ours = _verdict(_schema(_ours(sample.code)), sample.xml)
        official = _verdict(_schema(official_files[sample.code]), sample.xml)
        kinds[sample.kind] += 1
        if ours != official:
            disagreements.append((sample.code, sample.kind, sample.path, ours, official))
        if official != sample.valid:
            wrong_expectation.append((sample.code, sample.kind, sample.path, official))
    assert not disagreements, disagreements[:20]
    # The corpus itself must be right: valid documents are valid, every mutant is invalid.
    assert not wrong_expectation, wrong_expectation[:20]
    assert kinds["valid"] == 20 * len(CODES)
    for kind in ("missing-required", "unknown-element", "too-many", "wrong-order", "wrong-namespace",
                 "pattern", "length", "enumeration", "range", "bad-date", "timezone", "bad-integer",
                 "berichtcode", "root-namespace"):
        assert kinds[kind] >= len(CODES), f"too few {kind} mutants: {kinds[kind]}"


def test_corpus_catches_a_changed_facet(official_files, tmp_path):
    """The corpus is sharp enough to notice a one-facet difference (Huisnummer max 99999 -> 999999)."""
    ours_dir = tmp_path / "ijw"
    ours_dir.mkdir()
    for src in generate.schema_dir("ijw").glob("*.xsd"):
        (ours_dir / src.name).write_bytes(src.read_bytes())
    basis = ours_dir / "basisschema.xsd"
    text = basis.read_text()
    marker = '<xs:simpleType name="LDT_Huisnummer">'
    head, tail = text.split(marker)
    tail = tail.replace('<xs:maxInclusive value="99999"/>', '<xs:maxInclusive value="999999"/>', 1)
    basis.write_text(head + marker + tail)
    altered = etree.XMLSchema(etree.parse(str(ours_dir / "JW301.xsd")))
    official = _schema(official_files["JW301"])
    differs = [
        m for seed in range(3) for m in schema_corpus.mutants("JW301", seed=seed, per_kind=1000)
        if altered.validate(etree.fromstring(m.xml)) != official.validate(etree.fromstring(m.xml))
    ]
    assert differs and all("Huisnummer" in m.path for m in differs)


def test_generated_files_are_current():
    stale = [p.name for p, content in generate.generate().items() if not p.exists() or p.read_bytes() != content]
    assert not stale, f"run `python -m schemas.generate`: {stale}"


def test_structure_comparison_notices_a_changed_cardinality():
    text = (generate.schema_dir("ijw") / "JW301.xsd").read_bytes()
    changed = text.replace(b'name="Commentaar" type="ijw:LDT_Commentaar" minOccurs="0"',
                           b'name="Commentaar" type="ijw:LDT_Commentaar"', 1)
    assert changed != text
    assert structure(etree.fromstring(text)) != structure(etree.fromstring(changed))


def test_official_loader_copes_with_the_known_quirks(official_dir, tmp_path):
    """Markdown heading, an example after </xs:schema>, and Basisschema.xsd spelled with a capital."""
    quirky = tmp_path / "quirky"
    for standard in catalog.STANDARDS:
        src = official_dir / f"{standard}-{catalog.RELEASE}" / "xsd"
        dst = quirky / f"{standard}-{catalog.RELEASE}" / "xsd"
        dst.mkdir(parents=True)
        for f in src.iterdir():
            name = "Basisschema.xsd" if f.name.lower() == "basisschema.xsd" else f.name
            (dst / name).write_bytes(b"## " + name.encode() + b"\n\n" + f.read_bytes() + b"\n<Bericht>example</Bericht>\n")
    files = prepare(quirky, tmp_path / "out")
    assert len(files) == 30
    for code in ("JW301", "WMO302", "iwmo-basisschema"):
        etree.XMLSchema(etree.parse(str(files[code])))  # compiles
