"""Run under valgrind by bench_instructions: one subject of benchmarks.subjects over a corpus.

    python benchmarks/instructions_child.py SUBJECT N CORPUS_DIR FLAG

Sets up the subject and warms it on every message (schemas compiled, rules imported, memos
filled), writes its pid to FLAG and waits until the parent has switched callgrind's
instrumentation on and removed FLAG; then checks each message once inside functools.reduce,
the one C function callgrind is told to count (--toggle-collect), so set-up is not counted.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.subjects import SUBJECTS


def main() -> None:
    subject, n, corpus, flag = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    messages = [p.read_bytes() for p in sorted(corpus.iterdir())][:n]
    with contextlib.ExitStack() as stack:
        check = stack.enter_context(SUBJECTS[subject](corpus.parent / f"work-{subject}"))
        for raw in messages:
            check(raw)
        flag.write_text(str(os.getpid()))
        while flag.exists():
            time.sleep(0.05)
        functools.reduce(lambda _, raw: check(raw), messages, None)


if __name__ == "__main__":
    main()
