"""Run the benchmarks and write their results to benchmarks/results/.

    .venv/bin/python benchmarks/run.py              # every benchmark, full size
    .venv/bin/python benchmarks/run.py --quick      # small sizes (under ~2 minutes), to results/quick/
    .venv/bin/python benchmarks/run.py --only large_declarations
"""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import BENCHMARKS, REPO, RESULTS, RunContext, run_one, write_result, write_summary


def load_benchmarks() -> None:
    """Import every benchmarks/bench_*.py so their @benchmark functions register."""
    for f in sorted((REPO / "benchmarks").glob("bench_*.py")):
        importlib.import_module(f"benchmarks.{f.stem}")


def _quiet_gateway_log(path: Path) -> Path | None:
    """Send the gateway's own log (WARNING and up) to a file instead of the terminal."""
    try:
        from gateway.observability import configure_logging
    except ImportError:
        return None
    configure_logging("WARNING", file=path)
    return path


def _log_events(path: Path) -> Counter:
    events: Counter = Counter()
    for line in path.read_text(errors="replace").splitlines():
        try:
            events[json.loads(line).get("event", "?")] += 1
        except ValueError:
            events["unparsed log line"] += 1
    return events


def main(argv: list[str] | None = None) -> int:
    load_benchmarks()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes; results go to results/quick/")
    ap.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only this benchmark")
    ap.add_argument("--subject", action="append", help="measure only these subjects (plus the baseline)")
    ap.add_argument("--out", type=Path, help="results directory (default: benchmarks/results[/quick])")
    args = ap.parse_args(argv)
    out = args.out or (RESULTS / "quick" if args.quick else RESULTS)
    raw_args = sys.argv[1:] if argv is None else argv
    command = shlex.join([".venv/bin/python", "benchmarks/run.py", *raw_args])
    names = args.only or sorted(BENCHMARKS)
    for name in names:
        work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        try:
            log = _quiet_gateway_log(work / "gateway.log")
            ctx = RunContext(quick=args.quick, work_dir=work, command=command,
                             options={"subjects": args.subject or []})
            result = run_one(BENCHMARKS[name], ctx)
            if log is not None and log.exists():
                events = _log_events(log)
                if events:
                    result.notes.append("The gateway logged warnings/errors during the run: " + ", ".join(
                        f"{k} x{v}" for k, v in events.most_common(5)))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        js, md = write_result(result, out)
        print(f"{name}: {result.headline}\n  -> {md.relative_to(REPO) if md.is_relative_to(REPO) else md}")
    summary = write_summary(out)
    print(f"summary: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
