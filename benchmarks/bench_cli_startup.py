"""How long the `gateway` command takes as a whole process, against parsing the same file with
python + lxml started the same way (issue 14, item 1: <= 0.35 s).

Every subject is a fresh interpreter, started `runs` times round-robin with the others (so load
on the shared machine hits them alike); the median is reported. Set BENCH_CLI_COMPARE to another
checkout of the repository (e.g. `git archive <commit> | tar -x -C DIR`) to measure its `gateway`
in the same run as "before" rows.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Result, RunContext, benchmark

TARGET_S = 0.35
BASELINE = "lxml parse"
# Whole-process target (seconds) per subject; None: shown for reference only.
TARGETS = {"gateway validate FILE": TARGET_S, "gateway --help": TARGET_S}


def _gateway_argv() -> list[str]:
    """The installed `gateway` script when there is one (what an operator runs), else -m."""
    script = Path(sys.executable).parent / "gateway"
    return [sys.executable, str(script)] if script.exists() else [sys.executable, "-m", "gateway"]


def _subjects(message: Path, compare: Path | None) -> dict[str, tuple[list[str], Path | None]]:
    """name -> (argv, repository to import from: None = this one)."""
    gw = _gateway_argv()
    subjects: dict[str, tuple[list[str], Path | None]] = {
        "python (interpreter only)": ([sys.executable, "-c", "pass"], None),
        BASELINE: ([sys.executable, "-c", f"from lxml import etree; etree.parse({str(message)!r})"], None),
        "gateway validate FILE": ([*gw, "validate", "--quiet", str(message)], None),
        "gateway --help": ([*gw, "--help"], None),
    }
    if compare is not None:
        subjects["before: gateway validate FILE"] = ([*gw, "validate", "--quiet", str(message)], compare)
        subjects["before: gateway --help"] = ([*gw, "--help"], compare)
    return subjects


def _run_once(argv: list[str], repo: Path | None, cwd: Path) -> float:
    env = dict(os.environ)
    if repo is not None:  # PYTHONPATH comes before the editable install's finder
        env["PYTHONPATH"] = str(repo)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv[1:]} exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
    return elapsed


def _shown(argv: list[str], message: Path) -> str:
    words = ["python" if a == sys.executable else "gateway" if a.endswith("/gateway") else a for a in argv]
    if words[:2] == ["python", "gateway"]:
        words = words[1:]
    return " ".join(words).replace(str(message), "FILE")


@benchmark("cli_startup", "CLI start-up: `gateway validate` and `gateway --help` as whole processes")
def cli_startup(ctx: RunContext) -> Result:
    from gateway import samples

    runs = 7 if ctx.quick else 21
    message = ctx.work_dir / "jw301.xml"
    message.write_bytes(samples.build("JW301"))
    compare = Path(os.environ["BENCH_CLI_COMPARE"]).resolve() if os.environ.get("BENCH_CLI_COMPARE") else None
    subjects = _subjects(message, compare)
    wanted = ctx.options.get("subjects") or []
    if wanted:
        subjects = {k: v for k, v in subjects.items() if k == BASELINE or any(w in k for w in wanted)}
    unavailable: dict[str, str] = {}
    for name, (argv, repo) in list(subjects.items()):  # warm the .pyc caches; drop what cannot run
        try:
            _run_once(argv, repo, ctx.work_dir)
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            unavailable[name] = str(exc)
            del subjects[name]
    if BASELINE not in subjects:
        raise RuntimeError(f"the baseline cannot run: {unavailable.get(BASELINE)}")
    samples_s: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(runs):
        for name, (argv, repo) in subjects.items():
            samples_s[name].append(_run_once(argv, repo, ctx.work_dir))
    base = statistics.median(samples_s[BASELINE])
    rows: list[dict[str, Any]] = []
    for name, (argv, _repo) in subjects.items():
        med = statistics.median(samples_s[name])
        target = TARGETS.get(name)
        rows.append({
            "subject": name,
            "median_s": med,
            "max_s": max(samples_s[name]),
            "ratio": med / base,
            "target_s": target,
            "within_target": None if target is None else med <= target,
            "command": _shown(argv, message),
        })
    targeted = [r for r in rows if r["target_s"] is not None]
    met = all(r["within_target"] for r in targeted)
    by = {r["subject"]: r for r in rows}
    headline = "; ".join(
        f"{r['subject']} {r['median_s']:.2f} s = {r['ratio']:.1f}x the lxml parse" for r in targeted
    ) + f" (target <= {TARGET_S} s: {'met' if met else 'NOT met'})"
    if "before: gateway validate FILE" in by:
        b = by["before: gateway validate FILE"]
        headline += f"; before: validate {b['median_s']:.2f} s = {b['ratio']:.1f}x"
    notes = [
        f"{runs} runs per subject, round-robin, after one warm-up run each (compiled .pyc files present).",
        "The message is a default JW301 from gateway.samples (valid); `validate` runs levels 1-2 on it.",
    ]
    if compare is not None:
        notes.append(f"'before' rows import the gateway from {compare} (BENCH_CLI_COMPARE), same interpreter.")
    return Result(
        measured="Wall-clock time of a whole process, from spawn to exit, for `gateway validate FILE` "
        "(one small JW301: parse, detect, XSD, in-message rules, human output) and `gateway --help`.",
        baseline=f"python -c 'from lxml import etree; etree.parse(FILE)' ({BASELINE}, same file, same run)",
        ratio_meaning="median wall-clock time / median wall-clock time of the lxml parse process",
        columns=["subject", "median_s", "max_s", "ratio", "target_s", "within_target", "command"],
        rows=rows,
        headline=headline,
        notes=notes,
        unavailable=unavailable,
    )
