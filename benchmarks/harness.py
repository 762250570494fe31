"""The benchmark registry, the result model and how results are written (JSON + Markdown).

A benchmark is a function `fn(ctx: RunContext) -> Result` registered with `@benchmark(name, title)`
in a module `benchmarks/bench_*.py` (the runner imports them all). It measures one or more subjects
and a baseline in the same run and reports each as a ratio to the baseline, because absolute
figures on a shared two-core machine say little on their own.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"


class Result(BaseModel):
    """What one benchmark measured. `rows` are dicts whose keys include `columns`."""

    name: str = ""
    title: str = ""
    measured: str  # one paragraph: what exactly runs, on what data
    baseline: str  # the subject every ratio is relative to
    ratio_meaning: str  # e.g. "throughput / baseline throughput (1.0 = as fast as the baseline)"
    columns: list[str]
    rows: list[dict[str, Any]]
    headline: str  # one line for the summary and the README
    notes: list[str] = Field(default_factory=list)
    unavailable: dict[str, str] = Field(default_factory=dict)  # subject -> why it was not measured
    # filled in by the harness
    command: str = ""
    quick: bool = False
    started_at: str = ""
    duration_s: float = 0.0
    machine: dict[str, Any] = Field(default_factory=dict)


@dataclass
class RunContext:
    quick: bool
    work_dir: Path  # scratch space, removed after the run
    command: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    fn: Callable[[RunContext], Result]


BENCHMARKS: dict[str, Benchmark] = {}


def benchmark(name: str, title: str) -> Callable[[Callable[[RunContext], Result]], Callable[[RunContext], Result]]:
    """Register `fn` as benchmark `name` (also the results file name)."""

    def register(fn: Callable[[RunContext], Result]) -> Callable[[RunContext], Result]:
        if name in BENCHMARKS:
            raise ValueError(f"benchmark {name} registered twice")
        BENCHMARKS[name] = Benchmark(name, title, fn)
        return fn

    return register


# -- machine information ---------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info() -> dict[str, Any]:
    """Enough to judge a figure: CPU, memory, load (the machine is shared), versions, commit."""
    from lxml import etree

    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal:")), 0)
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "load_average": list(os.getloadavg()),
        "os": platform.platform(),
        "python": platform.python_version(),
        "lxml": ".".join(map(str, etree.LXML_VERSION)),
        "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


# -- measuring helpers -----------------------------------------------------------------------------


def rss_kb() -> int:
    """Current resident set size of this process in KiB (Linux)."""
    for line in _read("/proc/self/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


# -- writing results -------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def markdown_table(columns: list[str], rows: list[dict[str, Any]]) -> str:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join("| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |\n" for r in rows)


def to_markdown(r: Result) -> str:
    m = r.machine
    out = [f"# {r.title}\n", f"**{r.headline}**\n", markdown_table(r.columns, r.rows)]
    out.append(f"\nRatio: {r.ratio_meaning}. Baseline: `{r.baseline}`.\n")
    out.append(f"\nMeasured: {r.measured}\n")
    if r.unavailable:
        out.append("\nNot measured:\n" + "".join(f"- `{k}`: {v}\n" for k, v in r.unavailable.items()))
    if r.notes:
        out.append("\nNotes:\n" + "".join(f"- {n}\n" for n in r.notes))
    out.append(
        f"\nCommand: `{r.command}` ({'quick' if r.quick else 'full'} run, {r.started_at}, {r.duration_s:.0f} s)\n\n"
        f"Machine: {m.get('cpu')}, {m.get('cpus')} CPUs, {m.get('memory_gb')} GB, load average at start "
        f"{m.get('load_average')}, Python {m.get('python')}, lxml {m.get('lxml')} / libxml2 {m.get('libxml2')}, "
        f"commit {m.get('git_commit')}{' (uncommitted changes present)' if m.get('git_dirty') else ''}.\n"
    )
    return "".join(out)


def write_result(r: Result, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    js, md = out_dir / f"{r.name}.json", out_dir / f"{r.name}.md"
    js.write_text(json.dumps(r.model_dump(), indent=2, default=str) + "\n")
    md.write_text(to_markdown(r))
    return js, md


def write_summary(out_dir: Path) -> Path:
    """summary.md / summary.json from every result file in `out_dir` (also ones from earlier runs)."""
    results = []
    for f in sorted(out_dir.glob("*.json")):
        if f.name == "summary.json":
            continue
        try:
            results.append(Result.model_validate_json(f.read_text()))
        except ValueError:
            continue
    lines = ["# Benchmark summary\n\n", "| benchmark | headline | run | command |\n|---|---|---|---|\n"]
    for r in results:
        lines.append(f"| [{r.title}]({r.name}.md) | {r.headline} | {r.started_at[:16]} | `{r.command}` |\n")
    summary = out_dir / "summary.md"
    summary.write_text("".join(lines))
    (out_dir / "summary.json").write_text(
        json.dumps([{"name": r.name, "title": r.title, "headline": r.headline, "started_at": r.started_at,
                     "command": r.command} for r in results], indent=2) + "\n"
    )
    return summary


def run_one(b: Benchmark, ctx: RunContext) -> Result:
    started = datetime.now(UTC)
    machine = machine_info()
    seconds, result = timed(lambda: b.fn(ctx))
    result.name, result.title = b.name, result.title or b.title
    result.command, result.quick = ctx.command, ctx.quick
    result.started_at = started.isoformat(timespec="seconds")
    result.duration_s = seconds
    machine["load_average_end"] = list(os.getloadavg())
    result.machine = machine
    return result


def python() -> str:
    return sys.executable
