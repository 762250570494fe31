"""Run under valgrind by bench_ggk.ggk_instructions: distinct JW301s through Pipeline.process,
bare or each in a Di01, on a fresh SQLite store.

    python benchmarks/ggk_instructions_child.py bare|enveloped N WORK_DIR FLAG

Warms the pipeline on five messages of the same kind (schemas compiled, statements prepared),
writes its pid to FLAG and waits until the parent has switched callgrind's instrumentation on and
removed FLAG; then processes N more inside functools.reduce, the one C function callgrind is told
to count (--toggle-collect), so imports and set-up are not counted.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway import ggk, samples
from gateway.pipeline import Pipeline, build_components
from gateway.settings import Settings

WARM = 5


def main() -> None:
    kind, n, work, flag = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    components = build_components(Settings(data_dir=work / kind, hmac_secret="bench-ggk-instructions"))
    store = components.store
    try:
        store.add_party(samples.GEMEENTE, "gemeente", "bench")
        store.add_party(samples.AANBIEDER, "aanbieder", "bench")
        pipeline = Pipeline(components)
        messages = [samples.allocation("ijw", identificatie=f"B{i:010d}") for i in range(n + WARM)]
        if kind == "enveloped":
            messages = [ggk.wrap(m) for m in messages]
        verdicts = {pipeline.process(m, None).verdict for m in messages[:WARM]}
        if verdicts != {"accepted"}:
            raise SystemExit(f"warm-up verdicts {verdicts}: the measured messages would not be accepted")
        flag.write_text(str(os.getpid()))
        while flag.exists():
            time.sleep(0.05)
        functools.reduce(lambda _, raw: pipeline.process(raw, None), messages[WARM:], None)
    finally:
        store.close()


if __name__ == "__main__":
    main()
