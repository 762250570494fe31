"""Validation core in CPU instructions (callgrind): validate_bytes against the lxml floor.

The 2-core machine is shared, so the time ratio of `validation_core` moves by +-0.05 between runs.
Instructions executed per message do not depend on other load: a steady figure to compare
commits with. They are not time (libxml2's code runs more instructions per cycle than the
interpreter), so the time ratio stays the figure the target is judged on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import REPO, Result, RunContext, benchmark
from testsupport.corpus import write_corpus

BASELINE = "lxml_floor"
SUBJECTS = ("lxml_floor", "validate_bytes")
CHILD = REPO / "benchmarks" / "instructions_child.py"


def count_instructions(child: Path, args: list[str], label: str, work: Path) -> int:
    """Instructions callgrind counts inside the `child` script's functools.reduce. The child gets
    `args` and then a flag path: it writes its pid there when set up and waits until the flag is
    gone, so only the loop is counted (instrumentation is switched on in between)."""
    work.mkdir(parents=True, exist_ok=True)
    flag, out = work / f"{label}.ready", work / f"{label}.callgrind"
    flag.unlink(missing_ok=True)
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
         "--toggle-collect=functools_reduce", f"--callgrind-out-file={out}",
         sys.executable, str(child), *args, str(flag)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        # Under callgrind a message takes some 50x its real time, so the parties a trusted
        # channel's message names (re-read every party_cache_seconds, 5 s) would be looked up 50x
        # as often per message as in a real run: about 2.5 % of the count, varying with the load.
        env={**os.environ, "GATEWAY_PARTY_CACHE_SECONDS": "3600"},
    )
    try:
        while not flag.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"{label} ended before it was ready: {proc.stderr.read()[-300:]}")
            time.sleep(0.2)
        time.sleep(0.2)  # the pid is written: switch instrumentation on, then let it run
        subprocess.run(["callgrind_control", "-i", "on", flag.read_text().strip()], check=True,
                       capture_output=True)
        flag.unlink()
        if proc.wait(timeout=1800) != 0:
            raise RuntimeError(f"{label} failed: {proc.stderr.read()[-300:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
    for line in out.read_text().splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {out.name}")


def count_each(subjects: tuple[str, ...], count: Callable[[str], float]) -> tuple[dict[str, float], dict[str, str]]:
    """`count(subject)` for each subject: ({subject: count}, {subject: why it was not counted})."""
    counts: dict[str, float] = {}
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        return counts, dict.fromkeys(subjects, "valgrind (callgrind) is not installed")
    unavailable: dict[str, str] = {}
    for subject in subjects:
        try:
            counts[subject] = count(subject)
        except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as exc:
            unavailable[subject] = f"{type(exc).__name__}: {str(exc)[:300]}"
    return counts, unavailable


def _instructions(subject: str, n: int, corpus: Path, work: Path) -> int:
    """Instructions callgrind counts while `subject` checks the first `n` messages once."""
    return count_instructions(CHILD, [subject, str(n), str(corpus)], subject, work)


@benchmark("validation_instructions", "Validation core in CPU instructions: validate_bytes against the lxml floor")
def validation_instructions(ctx: RunContext) -> Result:
    n = 56 if ctx.quick else 280
    corpus = ctx.work_dir / "corpus"
    write_corpus(corpus, n, seed=0)
    rows, unavailable, counts = [], {}, {}
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        unavailable = dict.fromkeys(SUBJECTS, "valgrind (callgrind) is not installed")
    else:
        for subject in SUBJECTS:
            try:
                counts[subject] = _instructions(subject, n, corpus, ctx.work_dir) / n
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                unavailable[subject] = f"{type(exc).__name__}: {str(exc)[:300]}"
    floor = counts.get(BASELINE)
    for subject, per_message in counts.items():
        rows.append({"subject": subject, "messages": n, "instructions_per_msg": round(per_message),
                     "ratio": floor / per_message if floor else None})
    vb = next((r for r in rows if r["subject"] == "validate_bytes"), None)
    headline = (f"validate_bytes {vb['instructions_per_msg']:,} instructions per message = {vb['ratio']:.3f}x the "
                f"lxml floor's {round(floor):,} (fewer is faster; the time ratio is validation_core's)"
                if vb and floor else "not measured")
    return Result(
        measured=(f"The first {n} messages of testsupport.corpus.write_corpus(seed=0) (all 28 types), each checked "
                  "once by the subject after a warm-up pass over the same messages, under valgrind's callgrind; "
                  "only the instructions inside the checking loop are counted (set-up, imports and schema "
                  "compilation are not)."),
        baseline=BASELINE,
        ratio_meaning="the floor's instructions per message / the subject's (1.0 = as few as plain lxml parse + XSD)",
        columns=["subject", "messages", "instructions_per_msg", "ratio"],
        rows=rows,
        headline=headline,
        unavailable=unavailable,
        notes=[("Deterministic: the same commit gives the same count whatever else runs on the machine. "
                "Instructions are not time: libxml2 runs more of them per cycle than the interpreter does, "
                "so the time ratio of validation_core is somewhat higher than this one.")],
    )
