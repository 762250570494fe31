"""What a StUF-GGk envelope costs: `ggk.unwrap` (the envelope read in its plain form, or parsed and
checked against our schema; base64, payload parse, detection, envelope rules) and `ggk.wrap`
(payload parse, detection, build, schema check), against parsing the bare message with the
hardened parser (xmlparse.parse) in the same run.

The payload parse inside unwrap replaces the bare message's own parse in the pipeline, so what an
envelope adds is unwrap - parse; the last column puts that next to `validate_bytes` (XSD and
in-message rules of the bare message), the least the pipeline does with any message. Round-robin
over the subjects, median of the repeats.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import Result, RunContext, benchmark

BASELINE = "parse bare (xmlparse.parse)"


def _messages(quick: bool) -> dict[str, bytes]:
    from gateway import samples

    out = {"JW301 (default)": samples.build("JW301"), "WMO315 (default)": samples.build("WMO315")}
    for n in (100, 1_000) if quick else (100, 1_000, 10_000):
        out[f"JW323, {n:,} prestaties"] = samples.large_declaration("ijw", n)
    return out


def _median_seconds(subjects: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(repeats):
        for name, fn in subjects.items():  # round robin: load on the shared machine hits all alike
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


@benchmark("ggk", "StUF-GGk envelope: unwrap and wrap against parsing the bare message")
def ggk_envelope(ctx: RunContext) -> Result:
    from gateway import ggk, xmlparse
    from validators.validate import validate_bytes

    rows = []
    for name, bare in _messages(ctx.quick).items():
        envelope = ggk.wrap(bare)
        assert ggk.unwrap(envelope).envelope.payload == bare
        big = len(bare) > 1_000_000
        repeats = (3 if big else 15) if ctx.quick else (7 if big else 51)
        t = _median_seconds({
            BASELINE: lambda: xmlparse.parse(bare),
            "unwrap": lambda: ggk.unwrap(envelope),
            "wrap": lambda: ggk.wrap(bare),
            "validate_bytes (bare)": lambda: validate_bytes(bare),
        }, repeats)
        base = t[BASELINE]
        rows.append({
            "message": name,
            "bare KB": round(len(bare) / 1024, 1),
            "envelope KB": round(len(envelope) / 1024, 1),
            "parse bare ms": round(base * 1000, 3),
            "unwrap ms": round(t["unwrap"] * 1000, 3),
            "wrap ms": round(t["wrap"] * 1000, 3),
            "unwrap / parse": round(t["unwrap"] / base, 2),
            "(unwrap + wrap) / parse": round((t["unwrap"] + t["wrap"]) / base, 2),
            "added by envelope / validate_bytes": f"{(t['unwrap'] - base) / t['validate_bytes (bare)']:.1%}",
        })
    worst = max(rows, key=lambda r: r["unwrap / parse"])
    added = max(float(r["added by envelope / validate_bytes"].rstrip("%")) for r in rows)
    return Result(
        measured="Per message: ggk.unwrap of its Di01 (the envelope read in its plain form without a tree, "
        "gateway.ggk.plain, as the pipeline's receive path reads it; strict base64 decode, payload parse and "
        "detection, functie/version/party checks) and ggk.wrap of the bare message (parse, detect, build, "
        "schema check of the result); for context validate_bytes of the bare message (XSD + in-message "
        "rules). In-process, median of round-robin repeats.",
        baseline=BASELINE + " of the same bare message",
        ratio_meaning="subject time / baseline time (1.0 = as fast as parsing the bare message); the "
        "last column is (unwrap - parse bare) / validate_bytes: what the envelope adds to the cheapest "
        "verdict the pipeline gives a message",
        columns=list(rows[0]),
        rows=rows,
        headline=f"unwrap = up to {worst['unwrap / parse']}x parsing the bare message ({worst['message']}); "
        f"the envelope adds at most {added:.1f}% to validate_bytes",
        notes=["The payload parse inside unwrap is the parse the pipeline does anyway, so a pipeline "
               "that takes the parsed payload from unwrap pays only the difference."],
    )


PIPELINE_BASELINE = "bare message through Pipeline.process"


@benchmark("ggk_pipeline", "StUF-GGk envelope through the whole pipeline against the bare message")
def ggk_pipeline(ctx: RunContext) -> Result:
    """Issue 17 item 7: an enveloped message may cost at most 10 % more than the bare one. Each
    subject processes its own distinct messages (fresh Identificatie, so no duplicate shortcut)
    on one SQLite store, alternating bare and enveloped so both see the same store and load."""
    from gateway import ggk, samples
    from gateway.pipeline import Pipeline, build_components
    from gateway.settings import Settings

    settings = Settings(data_dir=ctx.work_dir / "ggk_pipeline", hmac_secret="bench-ggk-pipeline")
    components = build_components(settings)
    store = components.store
    rows = []
    try:
        store.add_party(samples.GEMEENTE, "gemeente", "bench")
        store.add_party(samples.AANBIEDER, "aanbieder", "bench")
        pipeline = Pipeline(components)
        n = 40 if ctx.quick else 300
        kinds = {"JW301 (allocation)": lambda i: samples.allocation("ijw", identificatie=f"B{i:010d}"),
                 "JW305 (start)": lambda i: samples.start("ijw", identificatie=f"S{i:010d}")}
        for label, make in kinds.items():
            bare = [make(2 * i) for i in range(n)]
            enveloped = [ggk.wrap(make(2 * i + 1)) for i in range(n)]
            pipeline.process(bare[0], None)  # warm up: schemas, rules, statements
            pipeline.process(enveloped[0], None)
            times: dict[str, list[float]] = {"bare": [], "enveloped": []}
            cpu: dict[str, list[float]] = {"bare": [], "enveloped": []}
            verdicts: dict[str, set[str]] = {"bare": set(), "enveloped": set()}
            for i in range(1, n):
                for kind, raw in (("bare", bare[i]), ("enveloped", enveloped[i])):
                    start, start_cpu = time.perf_counter(), time.thread_time()
                    outcome = pipeline.process(raw, None)
                    cpu[kind].append(time.thread_time() - start_cpu)
                    times[kind].append(time.perf_counter() - start)
                    verdicts[kind].add(outcome.verdict)
            b, e = statistics.median(times["bare"]), statistics.median(times["enveloped"])
            bc, ec = statistics.median(cpu["bare"]), statistics.median(cpu["enveloped"])
            rows.append({
                "message": label, "messages per subject": n - 1,
                "verdicts (bare / enveloped)": f"{'/'.join(sorted(verdicts['bare']))} / "
                                               f"{'/'.join(sorted(verdicts['enveloped']))}",
                "bare ms": round(b * 1000, 3), "enveloped ms": round(e * 1000, 3),
                "enveloped / bare": round(e / b, 3),
                "enveloped / bare (CPU)": round(ec / bc, 3),
            })
    finally:
        store.close()
    worst = max(rows, key=lambda r: r["enveloped / bare"])
    return Result(
        measured="Pipeline.process (receive, validate, store on SQLite, outbox, retour) of distinct "
        "messages, bare against in a Di01 (envelope check, payload parsed once, envelope row, the "
        "retour wrapped in a Du01 in the same transaction). Trusted-channel call (no HTTP), "
        "alternating subjects, median per message.",
        baseline=PIPELINE_BASELINE,
        ratio_meaning="enveloped time / bare time (issue 17 target: at most 1.10); the CPU column is the same "
        "ratio of the thread's CPU time, which other processes on a shared machine stretch less (not "
        "waiting for a core, though still sharing its caches)",
        columns=list(rows[0]),
        rows=rows,
        headline=f"an enveloped message costs up to {worst['enveloped / bare']}x the bare one "
        f"({worst['message']}; {worst['enveloped / bare (CPU)']}x in CPU time); target at most 1.10",
        notes=["Wall time on a loaded machine moves by several hundredths between runs (other processes take "
               "the core in the middle of a message); the CPU-time ratio moves less, but still some. Neither "
               "counts waiting for the disk, which SQLite's WAL mode (synchronous=NORMAL) does not do per commit."],
    )


INSTRUCTIONS_CHILD = Path(__file__).resolve().parent / "ggk_instructions_child.py"


def _pipeline_instructions(kind: str, n: int, work: Path) -> int:
    """Instructions callgrind counts while `kind` (bare / enveloped) JW301s go through Pipeline.process."""
    from benchmarks.bench_instructions import count_instructions

    return count_instructions(INSTRUCTIONS_CHILD, [kind, str(n), str(work)], kind, work)


@benchmark("ggk_instructions", "StUF-GGk envelope through the pipeline in CPU instructions against the bare message")
def ggk_instructions(ctx: RunContext) -> Result:
    """ggk_pipeline's ratio in instructions (callgrind): the same on a loaded machine as on an idle
    one, so a change to the envelope path shows even when the time ratio moves by +-0.05."""
    n = 40 if ctx.quick else 200
    kinds = ("bare", "enveloped")
    counts: dict[str, float] = {}
    unavailable: dict[str, str] = {}
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        unavailable = dict.fromkeys(kinds, "valgrind (callgrind) is not installed")
    else:
        for kind in kinds:
            try:
                counts[kind] = _pipeline_instructions(kind, n, ctx.work_dir / "ggk_instructions") / n
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                unavailable[kind] = f"{type(exc).__name__}: {str(exc)[:300]}"
    bare = counts.get("bare")
    rows = [{"message": "JW301 (allocation)", "subject": kind, "messages": n,
             "instructions_per_msg": round(per), "added_per_msg": round(per - bare) if bare else None,
             "ratio": round(per / bare, 3) if bare else None} for kind, per in counts.items()]
    env = next((r for r in rows if r["subject"] == "enveloped"), None)
    headline = (f"an enveloped JW301 runs {env['ratio']}x the instructions of the bare one "
                f"({env['instructions_per_msg']:,} against {round(bare):,}; +{env['added_per_msg']:,}); "
                "the target (at most 1.10) is judged on ggk_pipeline's time ratio"
                if env and bare else "not measured")
    return Result(
        measured=(f"{n} distinct JW301s (accepted) through Pipeline.process on a fresh SQLite store, bare and each "
                  "in a Di01 (envelope checked, payload parsed once, envelope row, the retour in a Du01), after a "
                  "warm-up of five, under valgrind's callgrind; only the instructions inside the processing loop "
                  "are counted."),
        baseline="bare",
        ratio_meaning="enveloped instructions per message / bare instructions per message (issue 17 item 7)",
        columns=["message", "subject", "messages", "instructions_per_msg", "added_per_msg", "ratio"],
        rows=rows,
        headline=headline,
        unavailable=unavailable,
        notes=["Deterministic whatever else runs on the machine. Instructions are not time: under valgrind "
               "OpenSSL's SHA-256 runs without the CPU's SHA extensions (about 140k instructions for the "
               "envelope's digest, a few microseconds on the real CPU), and libxml2 and SQLite run more "
               "instructions per cycle than the interpreter does."],
    )
