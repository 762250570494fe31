"""`gateway validate` on a large JW323 as a whole process, against plain lxml parse + XSD validation
of the same file started the same way (issue 13, item 4: 10,000 prestaties <= 1.0 s including
start-up; 100,000 prestaties <= 5x the lxml baseline).

Every measurement is a fresh interpreter; the subjects of one size run round-robin (so load on the
shared machine hits them alike) and the median is reported. The baseline compiles the message's
schema from the registry's files (as `gateway validate` does), parses the file and validates it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO, Result, RunContext, benchmark
from benchmarks.subjects import BIG

BASELINE = "lxml parse + XSD"
SUBJECT = "gateway validate FILE"
TARGET_10K_S = 1.0
TARGET_RATIO = 5.0

_LXML = """
import sys
from lxml import etree
from schemas.registry import default_registry
registry = default_registry()
mtype = next(t for t in registry.types() if t.code == "JW323")
schema = registry.schema(mtype).schema
root = etree.parse(sys.argv[1], etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
sys.exit(0 if schema.validate(root) else 1)
"""


def _gateway_argv() -> list[str]:
    script = Path(sys.executable).parent / "gateway"
    return [sys.executable, str(script)] if script.exists() else [sys.executable, "-m", "gateway"]


def _run_once(argv: list[str], cwd: Path) -> tuple[float, int]:
    env = dict(os.environ, GATEWAY_XML_MAX_BYTES=str(BIG), PYTHONPATH=str(REPO))
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: the file is invalid, still a verdict
        raise RuntimeError(f"{argv[1:3]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
    return elapsed, done.returncode


@benchmark("validate_large", "`gateway validate` on a large JW323, whole process, against lxml parse + XSD")
def validate_large(ctx: RunContext) -> Result:
    from gateway import samples

    sizes = (1_000, 10_000) if ctx.quick else (10_000, 100_000)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for n in sizes:
        path = ctx.work_dir / f"jw323-{n}.xml"
        data = samples.large_declaration("ijw", n)
        path.write_bytes(data)
        subjects = {
            BASELINE: [sys.executable, "-c", _LXML, str(path)],
            SUBJECT: [*_gateway_argv(), "validate", "--quiet", str(path)],
        }
        runs = 3 if ctx.quick or n >= 100_000 else 7
        for argv in subjects.values():  # warm-up: .pyc files, page cache
            _run_once(argv, REPO)
        times: dict[str, list[float]] = {name: [] for name in subjects}
        codes: dict[str, set[int]] = {name: set() for name in subjects}
        for _ in range(runs):
            for name, argv in subjects.items():
                seconds, code = _run_once(argv, REPO)
                times[name].append(seconds)
                codes[name].add(code)
        base = statistics.median(times[BASELINE])
        for name in subjects:
            med = statistics.median(times[name])
            target = (f"<= {TARGET_10K_S} s" if n == 10_000 else f"<= {TARGET_RATIO:g}x" if n >= 100_000 else None)
            met = None
            if name == SUBJECT and n == 10_000:
                met = med <= TARGET_10K_S
            elif name == SUBJECT and n >= 100_000:
                met = med / base <= TARGET_RATIO
            rows.append({
                "prestaties": n,
                "MB": len(data) / 1e6,
                "subject": name,
                "median_s": med,
                "min_s": min(times[name]),
                "max_s": max(times[name]),
                "ratio": med / base,
                "target": target if name == SUBJECT else None,
                "met": None if met is None else ("yes" if met else "no"),
                "verdict": ", ".join("valid" if c == 0 else "invalid" for c in sorted(codes[name])),
            })
        notes.append(f"{n:,} prestaties: {len(data) / 1e6:.1f} MB, {runs} runs per subject, round-robin, "
                     "after one warm-up run each")
    mine = [r for r in rows if r["subject"] == SUBJECT]
    headline = "; ".join(
        f"{r['prestaties']:,} prestaties: {r['median_s']:.2f} s = {r['ratio']:.1f}x lxml parse + XSD"
        + (f" (target {r['target']}: {'met' if r['met'] == 'yes' else 'NOT met'})" if r["target"] else "")
        for r in mine
    )
    notes.append("Both subjects are whole processes (interpreter start-up, imports, schema compilation, reading "
                 "the file): the baseline is `python -c` with lxml and the registry's compiled JW323 schema.")
    notes.append("Files above 25 MB exceed the standard's limit (OP192); GATEWAY_XML_MAX_BYTES is raised for the run.")
    return Result(
        measured=(
            "`gateway validate --quiet FILE` (parse, detection, XSD, the in-message rules) on one iJw JW323 from "
            "gateway.samples.large_declaration, as a fresh process per run, median of round-robin runs."
        ),
        baseline=BASELINE,
        ratio_meaning="median seconds / the baseline's median seconds (1.0 = as fast as plain lxml + XSD)",
        columns=["prestaties", "MB", "subject", "median_s", "min_s", "max_s", "ratio", "target", "met", "verdict"],
        rows=rows,
        headline=headline,
        notes=notes,
    )
