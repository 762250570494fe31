"""The rule catalogue: docs/rules.md, generated from the rule registry.

    python -m validators.catalogue            # print the catalogue
    python -m validators.catalogue --write    # rewrite docs/rules.md
    python -m validators.catalogue --check    # exit 1 when docs/rules.md is out of date

Every registered rule with its code, level, messages, standards, retourcode, one-line meaning and
the test that covers it. A test covers a rule when its function name carries the rule code
(`def test_tr302_...`, `def test_cd080_cd095_...`). The RS restrictions are enforced by the XSD
and listed as data; the deliberate differences from the official validation close the page.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from validators import engine

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "rules.md"
# Per-rule parity with the official rule-check stylesheets, as the conformance benchmark measured
# it (benchmarks/bench_conformance.py); read from its committed result, never from the stylesheets.
CONFORMANCE = REPO / "benchmarks" / "results" / "conformance.json"
TESTS = REPO / "tests"
# Modules of the in-message rules (this catalogue asserts each of their rules has a test).
IN_MESSAGE_MODULES = ("validators.rulesets.technical_", "validators.rulesets.conditions_")

_TEST_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(test_\w+)\s*\(", re.MULTILINE)
_CODE_IN_NAME = re.compile(r"(?<![a-z])(tr|cd|cs|rs|cr)(\d{3})(?!\d)")

LEVEL_TITLES = {
    "xslt": "Level 2: technische regels of the xslt class (retourcode 0001 in the Header)",
    "condition": "Level 2: condities and constraints (retourcode 0001 in the Header)",
    "crossmessage": "Level 3: berichtoverstijgende regels (the rule's retourcode on its class)",
    "external": "Level 4: externe bron (the rule's retourcode)",
    "contract": "Contract rules of the regions (our CR codes)",
}

# RS restrictions: level 1, enforced by the facets of the XSD (no retour; a transport rejection).
RS_RULES: tuple[tuple[str, str], ...] = (
    ("RS001", "minimum value 0"),
    ("RS002", "maximum value 99"),
    ("RS004", "maximum value 99999"),
    ("RS005", "maximum value 99999999"),
    ("RS006", "maximum value 999999999"),
    ("RS040", "maximum value 999999999999"),
    ("RS008", "maximum length 1"),
    ("RS009", "maximum length 2"),
    ("RS010", "maximum length 3"),
    ("RS011", "maximum length 4"),
    ("RS012", "maximum length 5"),
    ("RS013", "maximum length 6"),
    ("RS014", "maximum length 8"),
    ("RS015", "maximum length 9"),
    ("RS016", "maximum length 10"),
    ("RS017", "maximum length 12"),
    ("RS018", "maximum length 15"),
    ("RS019", "maximum length 20"),
    ("RS020", "maximum length 24"),
    ("RS021", "maximum length 25"),
    ("RS023", "maximum length 35"),
    ("RS024", "maximum length 36"),
    ("RS025", "maximum length 64"),
    ("RS026", "maximum length 80"),
    ("RS028", "maximum length 200"),
    ("RS031", "comment fields are not empty or whitespace only"),
    ("RS032", "dates without a time zone"),
    ("RS033", "no empty elements"),
    ("RS034", "times without a time zone"),
    ("RS035", "gemeente code: 4 digits"),
    ("RS036", "AGB code: 8 digits"),
    ("RS037", "BSN: 9 digits"),
    ("RS045", "Voorletters contiguous (no dots or spaces)"),
    ("RS046", "telephone number digits contiguous"),
    ("RS047", "BerichtCode as specified per message"),
    ("RS048", "version number of three integers separated by dots"),
)

RETOURS = """\
`gateway/retour.py` turns the findings of all levels into the answer (IV028, IV032, IV087, IV088):

| Findings | Retour (302/306/308/316/318/320) | Declaratie-antwoord (325) |
|---|---|---|
| parse, detection or XSD (level 1) | none: a transport rejection (BRS14 / IB004 / BRS13) naming the first failing element | none: the same transport rejection |
| any level-2 rule above (0001) | Header only, RetourCode 0001 | Header only, 0001 |
| a level-3/4 code on the Header (9056, 8848, S300) | Header only, with those codes | Header only, with those codes |
| a code on a class | Header 0200; the body echoed with RetourCodes last in every class: its codes, 0233 below a failed class, 0200 elsewhere | on the Declaratie: DeclaratieAntwoord with the code, TotaalToegekendBedrag 0, no Clienten; on a Client: the client with its code and all its prestaties 0233; on a Prestatie: the client 0200 and only the rejected prestaties |
| nothing | Header only, without RetourCodes | DeclaratieAntwoord 8001, TotaalToegekendBedrag = TotaalIngediendBedrag |

An issue's code goes to the nearest class enclosing its `class_path` (else its `path`); no path
means the Header. Only errors with action "reject" count: contract findings that flag or ask for
review never reject. The 325 awards TotaalIngediendBedrag minus the rejected prestaties (debits
+, credits -) and is checked against TR342, CS325 and CD060 before it leaves.
"""

DIFFERENCES = """\
The official level-2 reference (the XSLT package) is not part of the material, so these choices
are ours; each is covered by the tests named above.

- **Element bindings of TR134, TR137, TR335, TR380.** The TR texts name no elements; we check the
  elements the official rule-check checks: TR134 on Client (and 301 Relatie) Geboortedatum, 301
  Toewijzingsdatum, 305 StartProduct Begindatum, 307 StopProduct Einddatum, 323
  DeclaratiePeriode Begindatum and ProductPeriode Begindatum (323 and 325); TR137 on the
  DeclaratiePeriode (323) and ProductPeriode (323, 325); TR335 on Prestatie ProductPeriode
  Einddatum; TR380 on NieuwProduct GewensteIngangsdatum (OP343). TR002 checks the Client's
  Geboortedatum only, as its text says.
- **TR319** is classed berichtoverstijgend (retourcode 9319 on the Prestatie, a partial
  rejection in the 325) but compares only dates of the message, and the official rule-check runs
  it with the in-message rules: it is an in-message rule here (so `gateway validate` reports it)
  with its own retourcode 9319, which rejects only its Prestatie and does not stop the later
  levels. A prestatie breaks it when its ProductPeriode begins or ends after the DeclaratiePeriode.
- **Which locations are reported.** As in the official report, a finding lists every element its
  check compared: TR101 all members of a group of duplicates (siblings only, values as written),
  TR315/TR316/TR416 the later element and the earlier ones it matches (TR416 within a Client),
  TR383 the earlier ReferentieAanbieder that is used again, TR302, TR386 and TR410 every product
  that stacks with another.
- **TR342** also reports a listed Prestatie that carries only 0200/8001 (the rule's own text:
  only rejected prestaties are listed), besides the sum and the rejected-DeclaratieAntwoord case.
- **CS089**: the material does not define the Dutch postcode format; we use four digits without a
  leading zero and two capitals, without a space (`[1-9][0-9]{3}[A-Z]{2}`).
- **CS015, CS025, CS319** are also XSD patterns, so a message breaking them normally fails at
  level 1; the constraints are implemented anyway, for schemas that might not carry the pattern.
- **TR377 and TR409** apply to iJw only: iWmo 3.2 has no Woonplaatsbeginsel (the iWmo CD/CS table
  lists rows for it, a copy artefact).
- **Missing elements** (conditions that make an element mandatory) are reported at the path where
  the element belongs, e.g. `/Bericht/Client/ToegewezenProducten/ToegewezenProduct/Omvang`.
- **Retours**: `XsltVersie` is filled only when a version is given (`--xslt-versie`), since we do
  not run the official XSLT package. A retour and a 325 use CR/LF line endings (OP192).
- **TR318** needs "care was delivered in every period", which no message states. We reject (8214
  on the Declaratie) a DeclaratiePeriode before the last declared one (IV090), and one after a gap
  when the declaration itself carries a debit prestatie in a month of that gap (care shown in a
  skipped period). A gap without such evidence is accepted; a running start (305) is not taken as
  evidence of care in every month.
- **TR321/TR322**: for outputgericht toewijzingen IV078 leaves broken periods to a regional
  agreement; we allow the full frequency volume, the inspanning rule. Weeks are counted as IV077
  says (IV078's example 1 dates were moved to a year where that count differs). An open-ended
  toewijzing's total (TR322) is measured from its Ingangsdatum to the end of the DeclaratiePeriode.
- **TR341** for aspecific and generic toewijzingen compares with the unit the contract registry
  gives the declared product (minutes against hours allowed). Without a registry, a region for the
  gemeente or the product in its bundle there is no finding; CR003 (0611) may report the same unit.
- **TR378** holds only the CBS list of 1 January 2026 (the material's). Codes of municipalities
  merged before 2026 are refused, also for toewijzingen that started before the merger, which
  TR378 allows: the material names no such codes (the Mutatieoverzicht describes the rule only).
"""


@dataclass(frozen=True)
class Entry:
    code: str
    level: str
    messages: str
    standards: str
    retourcode: str
    summary: str
    test: str | None
    module: str


def covering_tests(tests_dir: Path = TESTS) -> dict[str, str]:
    """Rule code -> the first test (file::name, in path order) whose name carries that code."""
    found: dict[str, str] = {}
    if not tests_dir.is_dir():
        return found
    for path in sorted(tests_dir.rglob("test_*.py")):
        try:
            source = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for name in _TEST_DEF.findall(source):
            for prefix, digits in _CODE_IN_NAME.findall(name):
                code = f"{prefix.upper()}{digits}"
                found.setdefault(code, f"{path.relative_to(tests_dir.parent).as_posix()}::{name}")
    return found


def entries(tests_dir: Path = TESTS) -> list[Entry]:
    tests = covering_tests(tests_dir)
    order = {level: i for i, level in enumerate(engine.ALL_LEVELS)}
    rules = sorted(engine.load_all().values(), key=lambda r: (order.get(r.level, 99), r.code))
    return [
        Entry(
            code=r.code,
            level=r.level,
            messages=", ".join(sorted(r.messages)),
            standards=", ".join({"ijw": "iJw", "iwmo": "iWmo"}[s] for s in sorted(r.standards)),
            retourcode=r.retourcode,
            summary=r.summary,
            test=tests.get(r.code),
            module=r.check.__module__,
        )
        for r in rules
    ]


def parity() -> dict[str, dict]:
    """Rule code -> its row of the committed conformance result (empty without one)."""
    import json

    try:
        rows = json.loads(CONFORMANCE.read_text(encoding="utf-8"))["rows"]
    except (OSError, ValueError, KeyError):
        return {}
    return {r["rule"]: r for r in rows if r.get("scope") == "rule"}


def _parity_cells(code: str, figures: dict[str, dict]) -> str:
    row = figures.get(code)
    if row is None:
        return "no | n/a"
    checks = {"ijw": "iJw", "iwmo": "iWmo"}
    official = ", ".join(checks[s] for s in row.get("official_checks", "").split(", ") if s in checks) or "no"
    if row["agree"] + row["official_only"] + row["ours_only"] == 0:
        return f"{official} | not exercised"
    return f"{official} | recall {row['recall']:.3f}, precision {row['precision']:.3f}"


def is_in_message(entry: Entry) -> bool:
    return entry.module.startswith(IN_MESSAGE_MODULES)


def _cell(value: str) -> str:
    return value.replace("|", "\\|")


def render(tests_dir: Path = TESTS) -> str:
    all_entries = entries(tests_dir)
    tests = covering_tests(tests_dir)
    lines = [
        "# Rule catalogue",
        "",
        "Generated by `python -m validators.catalogue --write` from the rule registry; do not edit by",
        "hand (a test fails when this page is out of date). Messages are the message numbers of both",
        "standards (301 = JW301 / WMO301). A test covers a rule when its name carries the rule code.",
        "\"Official\" says in which standards the official rule-check stylesheet checks the rule;",
        "\"Parity\" is recall and precision of our (code, Locatie) pairs against that stylesheet's report",
        "on the conformance corpus (`benchmarks/results/conformance.md`, `tests/conformance/`).",
        "",
    ]
    figures = parity()
    for level in engine.ALL_LEVELS:
        group = [e for e in all_entries if e.level == level]
        if not group:
            continue
        lines += [f"## {LEVEL_TITLES[level]}", "", f"{len(group)} rules.", ""]
        lines += [
            "| Code | Messages | Standards | Retourcode | Meaning | Official | Parity | Test |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for e in group:
            test = f"`{e.test}`" if e.test else "none found"
            lines.append(
                f"| {e.code} | {e.messages} | {e.standards} | {e.retourcode} | {_cell(e.summary)} "
                f"| {_parity_cells(e.code, figures)} | {test} |"
            )
        lines.append("")
    lines += [
        "## Level 1: RS restrictions, enforced by the XSD",
        "",
        "No code of ours: the facets of the schemas carry them, and a message that breaks one gets a",
        "transport rejection (no retour). Tests show the schemas enforce a sample of them.",
        "",
        "| Code | Restriction | Test |",
        "|---|---|---|",
    ]
    for code, meaning in RS_RULES:
        test = f"`{tests[code]}`" if code in tests else "enforced by XSD (no dedicated test)"
        lines.append(f"| {code} | {meaning} | {test} |")
    lines += ["", "## How findings become a retourbericht or declaratie-antwoord", "", RETOURS.rstrip()]
    lines += ["", "## Deliberate differences from the official validation", "", DIFFERENCES.rstrip(), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m validators.catalogue", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"rewrite {DOC.relative_to(REPO)}")
    group.add_argument("--check", action="store_true", help="exit 1 when the page is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOC.write_text(text, encoding="utf-8")
        return 0
    if args.check:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is out of date: run python -m validators.catalogue --write", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
