"""A gateway process for the store's race and crash tests (run as a subprocess).

    python tests/store/race_worker.py URL SCENARIO WHO ROUNDS START_AT [--no-locks]

Prepares its messages and a database connection, prints "ready" and waits for a line on stdin
(START_AT = "stdin"), or for the wall clock to reach START_AT; then sends ROUNDS messages of
SCENARIO as party WHO (0 or 1) and prints one JSON line per message:
{"round": i, "verdict": ..., "codes": [...], "conflicts": n}.
A ConflictError (a unique constraint caught a race) is retried, as the pipeline does.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lxml import etree  # noqa: E402

from gateway import (
    clock,
    samples,  # noqa: E402
)
from gateway.catalog import by_namespace  # noqa: E402
from gateway.store import ConflictError, open_store  # noqa: E402
from gateway.store import ingest as ingest_mod  # noqa: E402

SECRET = "store-tests-secret"


def message(scenario: str, who: int, i: int) -> bytes:
    if scenario == "allocation":
        # both gemeente processes issue ToewijzingNummer 5000+i, each for another client
        return samples.allocation(bsn=samples.BSNS[who], products=(samples.Allocated(toewijzingnummer=5000 + i),))
    if scenario == "start":
        # both aanbieder processes start toewijzing 6000+i (set up beforehand) on different days
        day = samples.allocation_start() + timedelta(days=who)
        return samples.start(bsn=samples.BSNS[i % 50], products=(samples.Started(toewijzingnummer=6000 + i, begindatum=day),))
    if scenario == "declaration":
        # both aanbieder processes use DeclaratieNummer D<i>; prestatie on toewijzing 8000+i
        p = samples.Prestatie(referentienummer=f"P{who}-{i}", toewijzingnummer=8000 + i)
        return samples.declaration(declaratienummer=f"D{i}", clients={samples.BSNS[0]: [p]})
    if scenario == "stream":  # the crash test: a steady stream of distinct allocations
        return samples.allocation(identificatie=f"C{i}", bsn=samples.BSNS[i % 500], products=(samples.Allocated(toewijzingnummer=7000 + i),))
    raise SystemExit(f"unknown scenario {scenario}")


def main() -> None:
    url, scenario, who, rounds, start_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    if "--no-locks" in sys.argv:
        ingest_mod.lock_keys = lambda store, mtype, root: []  # only the constraints stand guard
    store = open_store(url, client_key_secret=SECRET)
    msgs = [message(scenario, who, i) for i in range(rounds)]
    store.count_messages()  # a warm pooled connection
    if start_at == "stdin":
        print("ready", flush=True)
        sys.stdin.readline()
    else:
        time.sleep(max(0.0, float(start_at) - time.time()))
    for i, raw in enumerate(msgs):
        root = etree.fromstring(raw)
        mtype = by_namespace(etree.QName(root).namespace)
        conflicts = 0
        while True:
            try:
                r = ingest_mod.ingest(store, raw, root, mtype, today=clock.today(), retries=0)
                break
            except ConflictError:
                conflicts += 1
        print(json.dumps({"round": i, "verdict": r.verdict, "codes": sorted(r.codes), "conflicts": conflicts}), flush=True)


if __name__ == "__main__":
    main()
