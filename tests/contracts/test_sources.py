"""Where a bundle's rules come from, which of its values are invented, and the code values a
product list is checked against."""

from __future__ import annotations

import re
import typing

import pytest

from gateway.contracts import BUNDLES_DIR, BundleError, parse_bundle
from gateway.contracts.codes import FREQUENCIES, JEUGD_CATEGORIES, UNITS, WMO_CATEGORIES
from gateway.contracts.loader import load_file
from gateway.contracts.models import Eenheid, Frequentie, example_values, uncited_rules
from tests.conftest import SHARED
from tests.contracts.test_bundles import MINIMAL

SHIPPED = sorted(BUNDLES_DIR.glob("*.yaml"))
REFERENCE = SHARED / "reference"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_rule_of_a_shipped_bundle_cites_its_plan(path):
    b = load_file(path).bundle
    assert b.plan is not None and b.plan.document and b.plan.notes
    assert uncited_rules(b) == []
    assert b.rule_sources, "a bundle cites at least the rules its data drives"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_cited_sections_exist_in_the_plan_notes(path):
    """A citation names a real section heading of the notes on that region's plan."""
    b = load_file(path).bundle
    notes = REFERENCE / b.plan.notes
    if not notes.is_file():
        pytest.skip(f"reference notes not present at {notes}")
    headings = {re.sub(r"^#+\s*", "", line).strip() for line in notes.read_text().splitlines() if line.startswith("#")}
    cited = [(f"rule_sources.{code}", c) for code, c in b.rule_sources.items()]
    cited += [(f"lots.{lot.id}", lot.source) for lot in b.lots]
    cited += [(f"transition[{i}]", m.source) for i, m in enumerate(b.transition)]
    cited += [(f"access.{law}", a.source) for law, a in b.access.items()]
    cited.append(("budget", b.budget.source))
    for where, cite in cited:
        if cite is not None:
            assert cite.section in headings, f"{path.name}: {where} cites {cite.section!r}, not a heading of {notes.name}"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_values_the_plans_do_not_give_are_marked_one_by_one(path):
    """The plans give no product codes, tariffs, providers, ceilings or exceptions: each is marked."""
    b = load_file(path).bundle
    marked = set(example_values(b))
    for i, p in enumerate(b.products):
        assert f"products[{i}]" in marked
        for k, _ in enumerate(p.tariffs):
            assert f"products[{i}].tariffs[{k}]" in marked
    for name in ("providers", "exceptions", "budget_ceilings", "transition"):
        for i, _ in enumerate(getattr(b, name)):
            assert f"{name}[{i}]" in marked


def test_a_real_bundle_may_not_hold_example_values():
    text = MINIMAL.replace("      - {euro: 72.00, unit: \"04\", valid_from: 2026-01-01}", "      - {euro: 72.00, unit: \"04\", valid_from: 2026-01-01, example: true}")
    with pytest.raises(BundleError) as exc:
        parse_bundle(text, "t.yaml")
    [problem] = exc.value.problems
    assert problem.path == "products[0].tariffs[1].example" and "example: false" in problem.message
    assert parse_bundle(text.replace("valid_from: 2025-01-01\nmunicipalities", "valid_from: 2025-01-01\nexample: true\nmunicipalities"), "t.yaml")


def test_an_example_bundle_marks_its_invented_values():
    text = MINIMAL.replace("valid_from: 2025-01-01\nmunicipalities", "valid_from: 2025-01-01\nexample: true\nmunicipalities")
    with pytest.raises(BundleError, match="no value is marked example"):
        parse_bundle(text, "t.yaml")


def test_rules_without_a_source_are_shown_not_refused(tmp_path, capsys):
    from gateway.cli import main

    text = MINIMAL + "rules: {CR001: flag, CR003: reject}\nrule_sources:\n  CR001: {section: '3.1 X', document: Plan}\n"
    b = parse_bundle(text, "t.yaml")
    assert uncited_rules(b) == ["CR003"]
    path = tmp_path / "t.yaml"
    path.write_text(text)
    assert main(["contracts", "check", str(path)]) == 0
    assert "rule CR003 cites no section of the procurement plan" in capsys.readouterr().out


def test_a_citation_names_its_document():
    text = MINIMAL + "rule_sources:\n  CR001: {section: '3.1 X'}\n"
    with pytest.raises(BundleError, match="names its document"):
        parse_bundle(text, "t.yaml")
    assert parse_bundle(text + "plan: {document: Inkoopplan}\n", "t.yaml").rule_sources["CR001"].section == "3.1 X"


def test_bundle_code_types_match_our_code_tables():
    assert set(typing.get_args(Eenheid)) == set(UNITS)
    assert set(typing.get_args(Frequentie)) == set(FREQUENCIES)


def _official_codes(path) -> dict[str, str]:
    """The `| code | name |` rows of an official codelist file."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^\|\s*([0-9]{1,2})\s*\|\s*([^|]+?)\s*\|\s*$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


@pytest.mark.parametrize(
    "ours, relpath",
    [
        (JEUGD_CATEGORIES, "ijw-3.2/codelijsten/JZ020_Productcategorie"),
        (WMO_CATEGORIES, "iwmo-3.2/codelijsten/WMO020_Productcategorie.md"),
        (UNITS, "ijw-3.2/codelijsten/WJ756_Eenheid.md"),
        (UNITS, "iwmo-3.2/codelijsten/WJ756_Eenheid.md"),
        (FREQUENCIES, "ijw-3.2/codelijsten/WMO757_Frequentie.md"),
        (FREQUENCIES, "iwmo-3.2/codelijsten/WMO757_Frequentie.md"),
    ],
)
def test_our_code_values_equal_the_official_codelists(official_dir, ours, relpath):
    official = _official_codes(official_dir / relpath)
    assert official == ours
