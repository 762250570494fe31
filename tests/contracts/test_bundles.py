"""Bundles: the examples load, the schema is published and current, and a bundle that contradicts
itself or the schema is refused with a message naming file, YAML path and line."""

from __future__ import annotations

import json
from datetime import date

import jsonschema
import pytest
import yaml

from gateway.contracts import (
    BUNDLES_DIR,
    BundleError,
    ContractRegistry,
    default_registry,
    parse_bundle,
)
from gateway.contracts.schema import SCHEMA_PATH, bundle_schema, schema_text

MH = BUNDLES_DIR / "midden-holland.yaml"

MINIMAL = """\
region: test
name: Testregio
version: "1"
valid_from: 2025-01-01
municipalities:
  - {cbs: "0513", name: Gouda}
lots:
  - {id: ambulant, name: Ambulant, law: jeugd}
products:
  - category: "45"
    code: 45A01
    name: Begeleiding
    lot: ambulant
    law: jeugd
    units: ["04"]
    tariffs:
      - {euro: 70.00, unit: "04", valid_from: 2025-01-01, valid_to: 2025-12-31}
      - {euro: 72.00, unit: "04", valid_from: 2026-01-01}
providers:
  - agb: "12345678"
    name: Aanbieder
    contracts:
      - {lot: ambulant, valid_from: 2025-01-01}
budget_ceilings:
  - {provider: "12345678", year: 2025, ceiling_euro: 1000}
transition:
  - {law: jeugd, old_category: "45", old_code: OLD01, new_category: "45", new_code: 45A01, until: 2025-06-30}
"""


def refused(text: str, source: str = "test.yaml") -> list:
    with pytest.raises(BundleError) as exc:
        parse_bundle(text, source)
    return exc.value.problems


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_minimal_bundle_loads():
    b = parse_bundle(MINIMAL)
    assert b.region == "test" and b.products[0].tariffs[1].euro == 72


def test_example_bundles_load_and_cover_four_regions():
    reg = default_registry()
    assert reg.regions() == ["maasdriel-zaltbommel", "midden-holland", "noord-limburg", "twente"]
    sizes = {r: len(reg.versions(r)[-1].bundle.municipalities) for r in reg.regions()}
    assert sizes == {"maasdriel-zaltbommel": 2, "midden-holland": 5, "noord-limburg": 7, "twente": 14}
    assert all(v.bundle.example for v in reg.versions())


@pytest.mark.parametrize(
    ("old", "new", "needle", "path", "words"),
    [
        ("lot: ambulant\n    law", "lot: wonen\n    law", "lot: wonen", "products[0].lot", "unknown lot 'wonen'"),
        (
            "valid_from: 2026-01-01}",
            "valid_from: 2025-06-01}",
            "valid_from: 2025-06-01}",
            "products[0].tariffs[1]",
            "overlaps tariffs[0]",
        ),
        ("ceiling_euro: 1000}", "ceiling_euro: 1000, warning_euro: 1500}", "warning_euro", "budget_ceilings[0].warning_euro", "above the ceiling"),
        ("new_code: 45A01, until", "new_code: 45X99, until", "45X99", "transition[0].new_code", "unknown product 45/45X99"),
        ("old_code: OLD01", "old_code: 45A01", "old_code: 45A01", "transition[0].old_code", "also a current product"),
        ("{lot: ambulant, valid_from", "{lot: verblijf, valid_from", "lot: verblijf", "providers[0].contracts[0].lot", "unknown lot"),
        ('{cbs: "0513", name: Gouda}', '{cbs: "513", name: Gouda}', 'cbs: "513"', "municipalities[0].cbs", "pattern"),
        ('{cbs: "0513", name: Gouda}', '{cbs: "0513", name: Gouda, inwoners: 75000}', "inwoners", "municipalities[0].inwoners", "unknown field"),
        ('units: ["04"]', 'units: ["05"]', 'units: ["05"]', "products[0].units[0]", "Input should be"),
        ('category: "45"', 'category: "02"', 'category: "02"', "products[0].category", "not a jeugd ProductCategorie"),
        ("valid_from: 2025-01-01\nmunicipalities", "valid_from: 2025-01-01\nvalid_to: 2024-12-31\nmunicipalities", "valid_to: 2024", "valid_to", "before valid_from"),
    ],
)
def test_contradictions_are_refused_with_their_place(old, new, needle, path, words):
    assert old in MINIMAL
    text = MINIMAL.replace(old, new, 1)
    problems = refused(text)
    assert any(p.path == path and words in p.message for p in problems), problems
    p = next(p for p in problems if p.path == path)
    assert p.source == "test.yaml"
    assert p.line == line_of(text, needle)
    assert str(p).startswith(f"test.yaml:{p.line}: {path}: ")


def test_duplicate_product_code_is_refused():
    dup = MINIMAL.replace("providers:", """  - {category: "45", code: 45A01, name: Dubbel, lot: ambulant, law: jeugd, units: ["04"]}
providers:""")
    problems = refused(dup)
    assert [p.path for p in problems] == ["products[1].code"]
    assert "duplicate product code '45A01'" in problems[0].message
    assert problems[0].line == line_of(dup, "name: Dubbel")


def test_exception_needs_a_pseudonymous_client_key():
    base = MINIMAL + "client_hash_salt: test-salt-123\nexceptions:\n"
    bsn_in_clear = base + '  - {id: X1, kind: csa, provider: "12345678", municipality: "0513", category: "45", code: 45A01, client_hash: "999900067", valid_from: 2025-01-01}\n'
    problems = refused(bsn_in_clear)
    assert problems[0].path == "exceptions[0].client_hash" and "pattern" in problems[0].message
    neither = base + '  - {id: X1, kind: urc, provider: "87654321", municipality: "0513", category: "45", code: 45A01, valid_from: 2025-01-01}\n'
    assert "exactly one of client_hash" in refused(neither)[0].message


def test_yaml_syntax_error_names_the_line():
    broken = MINIMAL.replace("lots:\n", "lots:\n  - {id: x, name: [unclosed\n", 1)
    problems = refused(broken)
    assert problems[0].line is not None and "not valid YAML" in problems[0].message


def test_unquoted_codes_are_read_as_codes():
    # 0513 would be octal 331 in YAML 1.1; the loader keeps it as the code it is.
    text = MINIMAL.replace('{cbs: "0513", name: Gouda}', "{cbs: 0513, name: Gouda}").replace('units: ["04"]', "units: [04]")
    b = parse_bundle(text)
    assert b.municipalities[0].cbs == "0513" and b.products[0].units == ["04"]


def test_municipality_in_two_regions_at_the_same_date_is_refused():
    reg = ContractRegistry()
    reg.load_text(MINIMAL, actor="test", source="a.yaml")
    other = MINIMAL.replace("region: test", "region: andere")
    with pytest.raises(BundleError) as exc:
        reg.load_text(other, actor="test", source="b.yaml")
    p = exc.value.problems[0]
    assert (p.source, p.path, p.line) == ("b.yaml", "municipalities[0]", line_of(other, "0513"))
    assert "already in region 'test'" in p.message
    # The same municipality in another region after the first region's bundle ends is fine.
    reg2 = ContractRegistry()
    reg2.load_text(MINIMAL.replace("valid_from: 2025-01-01\nmunicipalities", "valid_from: 2025-01-01\nvalid_to: 2025-12-31\nmunicipalities"), actor="t")
    reg2.load_text(other.replace("valid_from: 2025-01-01\nmunicipalities", "valid_from: 2026-01-01\nmunicipalities"), actor="t")
    assert reg2.region_of("0513", date(2025, 6, 1)) == "test"
    assert reg2.region_of("0513", date(2026, 6, 1)) == "andere"


def test_versions_take_effect_on_their_date():
    reg = ContractRegistry()
    reg.load_text(MINIMAL, actor="test")
    v2 = MINIMAL.replace('version: "1"', 'version: "2"').replace("valid_from: 2025-01-01\nmunicipalities", "valid_from: 2026-01-01\nmunicipalities")
    reg.load_text(v2, actor="test")
    assert reg.effective("test", date(2025, 12, 31)).bundle.version == "1"
    assert reg.effective("test", date(2026, 1, 1)).bundle.version == "2"
    assert reg.effective("test", date(2024, 12, 31)) is None


def test_a_version_is_immutable():
    reg = ContractRegistry()
    first = reg.load_text(MINIMAL, actor="test")
    assert reg.load_text(MINIMAL, actor="test") is first  # the same text again: no-op
    changed = MINIMAL.replace("name: Testregio", "name: Testregio herzien")
    with pytest.raises(BundleError) as exc:
        reg.load_text(changed, actor="test", source="herzien.yaml")
    p = exc.value.problems[0]
    assert (p.path, p.line) == ("version", line_of(changed, "version:"))
    assert "new version" in p.message
    assert [v.bundle.name for v in reg.versions("test")] == ["Testregio"]


def test_refused_bundle_leaves_the_registry_unchanged():
    reg = ContractRegistry()
    reg.load_text(MINIMAL, actor="test")
    with pytest.raises(BundleError):
        reg.load_text(MINIMAL.replace("lot: ambulant\n    law", "lot: nergens\n    law"), actor="test")
    assert reg.lookup("0513", date(2025, 3, 1)).bundle.products[0].lot == "ambulant"


def test_published_schema_is_current():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "docs/contract-bundle.schema.json is stale: run `gateway contracts schema --write`"
    )


@pytest.mark.parametrize("path", sorted(BUNDLES_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_example_bundles_match_the_published_schema(path):
    # What an editor or CI would do with the JSON schema: YAML dates become ISO strings in JSON.
    data = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
    _quote_codes(data)
    jsonschema.validate(data, bundle_schema())


def test_the_schema_refuses_what_the_loader_refuses():
    data = json.loads(json.dumps(yaml.safe_load(MINIMAL), default=str))
    data["products"][0]["units"] = ["05"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, bundle_schema())


def _quote_codes(node):
    """safe_load reads unquoted numbers as numbers; our loader keeps them as text. Mirror that."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, int | float) and not isinstance(v, bool) and k not in ("year",):
                node[k] = v if k in ("euro", "ceiling_euro", "warning_euro", "warning_fraction", "schema_version") else str(v)
            else:
                _quote_codes(v)
    elif isinstance(node, list):
        for v in node:
            _quote_codes(v)


def test_default_registry_takes_a_directory_or_one_file(tmp_path):
    one = tmp_path / "test.yaml"
    one.write_text(MINIMAL)
    assert default_registry(one).regions() == ["test"]
    assert default_registry(tmp_path).regions() == ["test"]
    assert "midden-holland" in default_registry().regions()


def test_refusal_has_a_public_form():
    with pytest.raises(BundleError) as exc:
        parse_bundle(MINIMAL.replace("lot: ambulant\n    law", "lot: wonen\n    law"), "<api>")
    assert exc.value.public() == [
        {"source": "<api>", "path": "products[0].lot", "line": line_of(MINIMAL, "    lot: ambulant"), "message": "unknown lot 'wonen'"}
    ]


def test_accepted_upload_summary():
    reg = ContractRegistry()
    s = reg.load_text(MINIMAL, actor="alice").summary()
    assert (s["region"], s["version"], s["municipalities"], s["products"], s["loaded_by"]) == (
        "test", "1", ["0513"], 1, "alice"
    )
    assert len(s["sha256"]) == 64


def test_yaml_aliases_are_refused():
    bomb = 'a: &a ["x", "x"]\nb: &b [*a, *a]\nc: [*b, *b]\n'
    problems = refused(bomb)
    assert problems[0].line == 1 and "aliases" in problems[0].message
