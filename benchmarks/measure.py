"""Measure one subject on one message file in a fresh process: wall time and peak memory.

    python -m benchmarks.measure SUBJECT FILE [--repeat N]

Prints one JSON object: seconds (best of N), outcome, rss_before_kb (after set-up and reading the
file), peak_rss_kb (the high-water mark of resident memory during the check) and peak_delta_kb.
RSS rather than tracemalloc, because libxml2 allocates outside Python's allocator. The high-water
mark is reset just before the check (/proc/self/clear_refs, Linux) so set-up does not count.
`--setup DIR` processes the *.xml files in DIR (in name order) before measuring, e.g. the 301s
that create the toewijzingen a declaration refers to. A stateful subject (a pipeline with a store)
gets a fresh store, set up again, for every repeat: a second check of the same message in the
same store would measure the idempotent replay instead.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import rss_kb
from benchmarks.subjects import STATEFUL, SUBJECTS


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("subject", choices=sorted(SUBJECTS))
    ap.add_argument("file", type=Path)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--log", type=Path, help="where the gateway's own log goes (default: discarded)")
    ap.add_argument("--setup", type=Path, help="directory of messages to process before measuring")
    args = ap.parse_args(argv)
    try:
        from gateway.observability import configure_logging

        configure_logging("WARNING", file=args.log or Path(tempfile.mkdtemp()) / "gateway.log")
    except ImportError:
        pass
    # A pipeline stores what it judged: the same message a second time is an idempotent replay
    # (answered from the store) and a fresh copy would collide with the first (TR056, TR333).
    # So every repeat of a stateful subject gets a fresh store, set up again.
    fresh_per_repeat = args.subject in STATEFUL
    times, outcome, setup_outcomes, setup_s = [], None, {}, 0.0
    before, peak, reset = 0, 0, True
    raw = args.file.read_bytes()
    runs = [1] * args.repeat if fresh_per_repeat else [args.repeat]
    for checks in runs:
        work = Path(tempfile.mkdtemp(prefix="measure-"))
        setup_outcomes = {}
        with SUBJECTS[args.subject](work) as check:
            setup_start = time.perf_counter()
            for f in sorted(args.setup.glob("*.xml")) if args.setup else ():
                o = check(f.read_bytes())
                setup_outcomes[o] = setup_outcomes.get(o, 0) + 1
            setup_s = time.perf_counter() - setup_start
            # progress on stderr: a caller that times out can tell set-up from the check
            print(f"set-up done: {sum(setup_outcomes.values())} messages in {setup_s:.1f} s {setup_outcomes}",
                  file=sys.stderr, flush=True)
            run_before = rss_kb()
            reset = _reset_peak() and reset
            for _ in range(checks):
                start = time.perf_counter()
                outcome = check(raw)
                times.append(time.perf_counter() - start)
            run_peak = _peak_kb() if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # the largest growth of any run counts (memory is not best-of)
        if run_peak - run_before >= peak - before:
            before, peak = run_before, run_peak
    print(json.dumps({
        "subject": args.subject, "seconds": min(times), "all_seconds": times, "outcome": outcome,
        "bytes": len(raw), "rss_before_kb": before, "peak_rss_kb": peak, "peak_delta_kb": max(0, peak - before),
        "peak_reset": reset, "setup_outcomes": setup_outcomes, "setup_seconds": setup_s,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
