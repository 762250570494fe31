"""Large declarations: a JW323 with 1,000 / 10,000 / 100,000 prestaties, time and peak memory of our
checks against plain lxml parse + XSD validate, each measured in a fresh process."""

from __future__ import annotations

import json
import math
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import REPO, Result, RunContext, benchmark, python
from benchmarks.subjects import BIG, probe
from gateway import samples

BASELINE = "lxml_floor"


@dataclass(frozen=True)
class Variant:
    label: str
    subject: str
    seeded: bool = False  # feed the 301s that create the declared toewijzingen first


VARIANTS = (
    Variant("lxml_floor", "lxml_floor"),
    Variant("validate_bytes", "validate_bytes"),
    # every prestatie refers to a toewijzing the store does not know: all rejected, 325 lists them all
    Variant("pipeline_sqlite (toewijzingen unknown)", "pipeline_sqlite"),
    # the toewijzingen were stored first: the declaration is accepted (the normal case)
    Variant("pipeline_sqlite (toewijzingen stored)", "pipeline_sqlite", seeded=True),
)


def _measure(v: Variant, path: Path, setup: Path | None, repeat: int, log: Path, timeout: float) -> dict:
    """Run benchmarks.measure in a fresh process; `timeout` is for the check, set-up gets its own allowance."""
    if setup is not None:
        timeout += 0.5 * sum(1 for _ in setup.glob("*.xml"))  # feeding the 301s is not measured
    env = dict(os.environ, GATEWAY_XML_MAX_BYTES=str(BIG), PYTHONPATH=str(REPO))
    cmd = [python(), "-m", "benchmarks.measure", v.subject, str(path), "--repeat", str(repeat), "--log", str(log)]
    if setup is not None:
        cmd += ["--setup", str(setup)]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or ["no output"]
        raise RuntimeError(lines[-1][:300])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _expected(points: list[tuple[int, float]], n: int) -> float | None:
    """Seconds expected at size n: scaled with the growth measured so far (linear from one point)."""
    if not points:
        return None
    n1, s1 = points[-1]
    exponent = 1.0
    if len(points) >= 2:
        n0, s0 = points[-2]
        if s0 > 0 and n1 > n0:
            exponent = max(1.0, math.log(s1 / s0) / math.log(n1 / n0))
    return s1 * (n / n1) ** exponent


@benchmark("large_declarations", "Large declarations: JW323 with 1,000 to 100,000 prestaties")
def large_declarations(ctx: RunContext) -> Result:
    sizes = (200, 2_000) if ctx.quick else (1_000, 10_000, 100_000)
    budget = 20.0 if ctx.quick else 300.0  # seconds a single measurement may be expected to take
    variants = [v for v in VARIANTS
                if not ctx.options.get("subjects") or v.subject in ctx.options["subjects"] or v.subject == BASELINE]
    unavailable: dict[str, str] = {}
    for subject in sorted({v.subject for v in variants}):
        reason = probe(subject, ctx.work_dir / f"probe-{subject}")
        if reason:
            unavailable[subject] = reason
    variants = [v for v in variants if v.subject not in unavailable]
    rows, notes = [], []
    history: dict[str, list[tuple[int, float]]] = {}
    for n in sizes:
        start = time.perf_counter()
        data = samples.large_declaration("ijw", n)
        build_s = time.perf_counter() - start
        path = ctx.work_dir / f"jw323-{n}.xml"
        path.write_bytes(data)
        notes.append(f"{n:,} prestaties: {len(data) / 1e6:.1f} MB, built in {build_s:.2f} s")
        setup = None
        if any(v.seeded for v in variants):
            setup = ctx.work_dir / f"allocations-{n}"
            setup.mkdir()
            for k, message in enumerate(samples.large_declaration_allocations("ijw", n)):
                (setup / f"{k:06d}.xml").write_bytes(message)
        repeat = 1 if n >= 100_000 or ctx.quick else 3
        base = None
        for v in variants:
            expected = _expected(history.get(v.label, []), n)
            if expected is not None and expected > budget:
                prev_n, prev_s = history[v.label][-1]
                unavailable[f"{v.label} @ {n:,}"] = (
                    f"not run: {prev_s:.1f} s at {prev_n:,} prestaties, so about {expected:.0f} s expected "
                    f"(budget {budget:.0f} s per measurement)")
                continue
            try:
                m = _measure(v, path, setup if v.seeded else None, repeat,
                             ctx.work_dir / f"gateway-{n}.log", timeout=max(60.0, budget * 1.2))
            except subprocess.TimeoutExpired as exc:
                progress = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
                done = [line for line in progress.splitlines() if line.startswith("set-up done")]
                unavailable[f"{v.label} @ {n:,}"] = (
                    f"timed out after {exc.timeout:.0f} s" + (f" ({done[-1]}; the check itself did not finish)"
                                                              if done else (" during set-up" if v.seeded else "")))
                continue
            except RuntimeError as exc:
                unavailable[f"{v.label} @ {n:,}"] = str(exc)
                continue
            history.setdefault(v.label, []).append((n, m["seconds"]))
            if v.subject == BASELINE:
                base = m
            rows.append({
                "prestaties": n, "MB": len(data) / 1e6, "subject": v.label, "seconds": m["seconds"],
                "time_ratio": m["seconds"] / base["seconds"] if base else None,
                "peak_rss_MB": m["peak_rss_kb"] / 1024, "delta_MB": m["peak_delta_kb"] / 1024,
                "memory_ratio": m["peak_delta_kb"] / max(1, base["peak_delta_kb"]) if base else None,
                "outcome": m["outcome"],
            })
            if v.seeded:
                notes.append(f"{v.label} @ {n:,}: set-up fed {sum(m['setup_outcomes'].values())} messages in "
                             f"{m['setup_seconds']:.1f} s ({m['setup_outcomes']})")
    measured_sizes = sorted({r["prestaties"] for r in rows if r["subject"] != BASELINE})
    headline_parts = []
    for label in [v.label for v in variants if v.subject != BASELINE]:
        mine = [r for r in rows if r["subject"] == label and r["time_ratio"]]
        if mine:
            r = mine[-1]
            headline_parts.append(
                f"{label} at {r['prestaties']:,}: {r['seconds']:.2f} s ({r['time_ratio']:.0f}x lxml), "
                f"+{r['delta_MB']:.0f} MB ({r['memory_ratio']:.1f}x)")
    headline = "; ".join(headline_parts) if measured_sizes else "no subject besides the baseline measured"
    if max(sizes) >= 100_000:
        notes.append("100,000 prestaties exceed the standard's 25 MB file limit (OP192); the benchmark raises the "
                     "parser and pipeline size limits (GATEWAY_XML_MAX_BYTES, max_message_bytes) for this run.")
    notes.append("A pipeline subject gets a fresh store (set up again) for every repeat: the same declaration a second "
                 "time in the same store is an idempotent replay, answered from the store. Runs before this note "
                 "repeated in one store, so their best-of-3 pipeline figures at 1,000 and 10,000 were the replay's.")
    notes.append("'toewijzingen stored' first feeds the 301s of gateway.samples.large_declaration_allocations "
                 "(one per client) through the same pipeline, untimed, so the declaration is accepted.")
    notes.append("A size is skipped when the time expected from the smaller sizes (scaled with the growth measured "
                 "between them, linearly from a single point) exceeds the budget; the reason gives the figures.")
    return Result(
        measured=(
            "One iJw JW323 from gateway.samples.large_declaration (one client per 20 prestaties, every prestatie on "
            "a toewijzing of its own), checked in a fresh process per measurement (best of 3 for the smaller sizes "
            "in a full run). Time is the wall time of the check alone: set-up, schema compilation and reading the "
            "file are excluded. Memory is the high-water mark of resident memory during the check minus the "
            "resident memory just before it (libxml2's memory included)."
        ),
        baseline=BASELINE,
        ratio_meaning="time_ratio = seconds / lxml seconds; memory_ratio = memory growth / lxml's memory growth "
                      "(1.0 = as cheap as plain lxml)",
        columns=["prestaties", "MB", "subject", "seconds", "time_ratio", "peak_rss_MB", "delta_MB",
                 "memory_ratio", "outcome"],
        rows=rows,
        headline=headline,
        notes=notes,
        unavailable=unavailable,
    )
