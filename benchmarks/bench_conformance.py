"""Rule conformance: our in-message rule reports against the official rule-check stylesheets.

    .venv/bin/python benchmarks/bench_conformance.py          # full corpus (>= 5,000 messages)
    .venv/bin/python benchmarks/bench_conformance.py --quick  # the CI slice's size

Generates the differential corpus of tests/conformance (all 21 types with an official XSD; per
rule of the official stylesheets, messages where it fires and where it nearly fires), runs the
official stylesheet (lxml) and our engine (validate_bytes) on each and compares the
(code, Locatie) sets. Writes recall and precision overall and per rule to
benchmarks/results/conformance.md and .json (docs/rules.md reads the per-rule figures from the json).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import REPO, RESULTS, Result, RunContext, benchmark, run_one, write_result

sys.path.insert(0, str(REPO / "tests"))  # the suite lives under tests/ (test support, not shipped)

FULL = {"fire": 16, "near": 14, "tries": 200, "seed": 0, "randoms": 8}
QUICK = {"fire": 1, "near": 1, "tries": 25, "seed": 7, "randoms": 1}


@benchmark("conformance", "Rule conformance with the official stylesheets (recall and precision)")
def conformance(ctx: RunContext) -> Result:
    from conformance import compare, generator, official

    if not official.available():
        raise RuntimeError(f"official stylesheets not present under {official.OFFICIAL}")
    params = QUICK if ctx.quick else FULL
    outcome = compare.run(generator.corpus(**params))
    entries = compare.known()
    used: Counter = Counter()
    unexplained: Counter = Counter()
    for d, _ in outcome.differences:
        k = compare.explain(d, entries)
        if k is None:
            unexplained[(d.rule, d.side)] += 1
        else:
            used[entries.index(k)] += 1
    rows = [
        {"scope": "all (code, Locatie) pairs", "rule": "*", **outcome.pairs.as_dict()},
        {"scope": "per message, codes only", "rule": "*", **outcome.codes.as_dict()},
    ]
    checked = {s: official.rule_names(s) for s in ("ijw", "iwmo")}
    for rule in sorted(set(outcome.per_rule) | set(checked["ijw"]) | set(checked["iwmo"])):
        standards = ", ".join(s for s in ("ijw", "iwmo") if rule in checked[s]) or "no"
        rows.append({"scope": "rule", "rule": rule, "official_checks": standards,
                     **outcome.per_rule.get(rule, compare.Tally()).as_dict()})
    p, c = outcome.pairs, outcome.codes
    notes = [
        f"{outcome.messages:,} messages, {outcome.messages_equal:,} with exactly the official report; "
        f"per type: " + ", ".join(f"{k} {v['equal']}/{v['messages']}" for k, v in sorted(outcome.per_type.items())),
        f"{len(outcome.differences):,} differences, {sum(unexplained.values()):,} not explained by "
        f"tests/conformance/known_differences.toml"
        + (": " + ", ".join(f"{r} {s} x{n}" for (r, s), n in unexplained.most_common(20)) if unexplained else ""),
        "Known differences used: " + (", ".join(
            f"{entries[i].rule} {entries[i].side} {entries[i].message} x{n}" for i, n in sorted(used.items())) or "none"),
        f"Corpus parameters: {params} (tests/conformance/generator.py).",
    ]
    return Result(
        measured="tests/conformance: the official rule-check stylesheet (XSLT 1.0, lxml) and our "
        "validate_bytes on every generated message (schema-valid against the official XSD); each "
        "report as a set of (code, Locatie) pairs, and per message as a set of codes.",
        baseline="the official stylesheet's report",
        ratio_meaning="recall = agreeing pairs / official pairs, precision = agreeing pairs / our pairs",
        columns=["scope", "rule", "official_checks", "agree", "official_only", "ours_only", "recall", "precision"],
        rows=rows,
        headline=f"{outcome.messages:,} messages: pairs recall {p.recall:.3f} / precision {p.precision:.3f}; "
        f"per message (codes) recall {c.recall:.3f} / precision {c.precision:.3f}",
        notes=notes,
    )


def main(argv: list[str] | None = None) -> int:
    import shlex
    import tempfile

    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    command = shlex.join([".venv/bin/python", "benchmarks/bench_conformance.py", *args])
    with tempfile.TemporaryDirectory(prefix="bench-conformance-") as work:
        from benchmarks.harness import BENCHMARKS

        result = run_one(BENCHMARKS["conformance"], RunContext(quick=quick, work_dir=Path(work), command=command))
    out = RESULTS / "quick" if quick else RESULTS
    write_result(result, out)
    print(result.headline)
    for n in result.notes[:2]:
        print(" ", n[:2000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
