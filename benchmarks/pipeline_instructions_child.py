"""Run under valgrind by bench_pipeline_instructions: one subject of benchmarks.subjects over a corpus,
by one sender or by several concurrent ones.

    python benchmarks/pipeline_instructions_child.py SUBJECT SENDERS WARM N CORPUS_DIR FLAG

Sets up the subject and warms it: a pipeline (it remembers what it judged) on the corpus's first
WARM messages, the floor on the measured ones. Writes its pid to FLAG and waits until the parent
has switched callgrind's instrumentation on and removed FLAG; then sends the next N messages,
each sender's share (whole client stories, benchmarks.bench_validation_core._lanes) inside
functools.reduce, the one C function callgrind is told to count (--toggle-collect; callgrind keeps
that state per thread), so set-up and thread start are not counted. Writes the verdicts and the
group-commit sizes to FLAG.out as JSON.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import inspect
import json
import os
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_validation_core import _lanes
from benchmarks.subjects import STATEFUL, SUBJECTS


def main() -> None:
    subject, senders, warm, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    corpus, flag = Path(sys.argv[5]), Path(sys.argv[6])
    messages = [p.read_bytes() for p in sorted(corpus.iterdir())]
    measured = messages[warm:warm + n]
    if len(measured) < n:
        raise SystemExit(f"the corpus holds {len(messages)} messages; {warm + n} needed")
    verdicts: collections.Counter = collections.Counter()
    with contextlib.ExitStack() as stack:
        check = stack.enter_context(SUBJECTS[subject](corpus.parent / f"work-{subject}-{senders}"))
        for raw in (messages[:warm] if subject in STATEFUL else measured):
            check(raw)

        def lane(batch: list[bytes]) -> None:
            seen = functools.reduce(lambda acc, raw: acc.update((check(raw),)) or acc, batch,
                                    collections.Counter())
            verdicts.update(seen)  # Counter.update under the GIL: the lanes' counts add up

        lanes = _lanes(measured, senders) if senders > 1 else [measured]
        threads = [threading.Thread(target=lane, args=(b,)) for b in lanes]
        flag.write_text(str(os.getpid()))
        while flag.exists():
            time.sleep(0.05)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        group = _group_stats(check)
    if sum(verdicts.values()) != n:
        raise SystemExit(f"{sum(verdicts.values())} of {n} messages were judged (a sender failed)")
    Path(f"{flag}.out").write_text(json.dumps({"verdicts": verdicts, "groups": group}))


def _group_stats(check: object) -> dict[str, int] | None:
    """The group committer's sizes (group size -> how many groups), when the subject has one."""
    pipeline = inspect.getclosurevars(check).nonlocals.get("pipeline")
    store = getattr(getattr(pipeline, "c", None), "store", None)
    group = getattr(store, "group_commit", None)
    if group is None:
        return None
    return {str(k): v for k, v in sorted(group().stats.sizes.items())}


if __name__ == "__main__":
    main()
