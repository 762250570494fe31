"""What the way out costs (issue 17 item 4): a municipal JW301 to a provider reached through the
chain with a SOAP endpoint (the Di01 built around it, its outgoing_envelopes row and one more outbox
row for the SOAP delivery, in the message's transaction) against the same kind of JW301 to a
provider that is not (the bare message on its stream, as before), through Pipeline.process on one
SQLite store, alternating, median per message. The delivery itself runs afterwards in the
background and is not part of it.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.harness import Result, RunContext, benchmark

BASELINE = "JW301 to a provider not reached through the chain (bare out)"


@benchmark("ggk_outbound", "A municipal heenbericht out in a Di01 with a SOAP row against bare out")
def ggk_outbound(ctx: RunContext) -> Result:
    from gateway import samples
    from gateway.pipeline import Pipeline, build_components
    from gateway.settings import Settings
    from gateway.store import ggk as gstore

    settings = Settings(data_dir=ctx.work_dir / "ggk_outbound", hmac_secret="bench-ggk-outbound",
                        ggk_soap_delivery=False)
    components = build_components(settings)
    store = components.store
    chained, bare_party, control = "23456789", samples.AANBIEDER, "34567890"
    try:
        store.add_party(samples.GEMEENTE, "gemeente", "bench")
        store.add_party(bare_party, "aanbieder", "bench")
        store.add_party(chained, "aanbieder", "bench")
        store.add_party(control, "aanbieder", "bench")
        gstore.set_chain_party(store, gstore.ChainParty(chained, "https://adapter.example/OntvangAsynchroon"))
        pipeline = Pipeline(components)
        n = 40 if ctx.quick else 300
        # one client per provider, its own allocation number: every message is accepted and routed
        make = {
            "bare": lambda i: samples.allocation("ijw", aanbieder=bare_party, identificatie=f"O{i:010d}",
                                                 bsn=samples.BSNS[1], products=(samples.Allocated(1001),)),
            "di01": lambda i: samples.allocation("ijw", aanbieder=chained, identificatie=f"D{i:010d}",
                                                 bsn=samples.BSNS[2], products=(samples.Allocated(2002),)),
            # the same as "bare" to a third provider: the noise between two equal subjects
            "control": lambda i: samples.allocation("ijw", aanbieder=control, identificatie=f"C{i:010d}",
                                                    bsn=samples.BSNS[3], products=(samples.Allocated(3003),)),
        }
        messages = {k: [f(i) for i in range(n)] for k, f in make.items()}
        for k in messages:
            pipeline.process(messages[k][0], None)  # warm up
        times: dict[str, list[float]] = {k: [] for k in make}
        verdicts: dict[str, set[str]] = {k: set() for k in make}
        last: dict[str, str | None] = {}
        for i in range(1, n):
            for kind in make:
                start = time.perf_counter()
                outcome = pipeline.process(messages[kind][i], None)
                times[kind].append(time.perf_counter() - start)
                verdicts[kind].add(outcome.verdict)
                last[kind] = outcome.message_id
        soap_rows = len(gstore.soap_rows_of(store, last["di01"]))
    finally:
        store.close()
    b, d, c = (statistics.median(times[k]) for k in ("bare", "di01", "control"))
    rows = [{
        "message": "JW301 (allocation)", "messages per subject": n - 1,
        "verdicts (bare / di01)": f"{'/'.join(sorted(verdicts['bare']))} / {'/'.join(sorted(verdicts['di01']))}",
        "bare out ms": round(b * 1000, 3), "Di01 + SOAP row ms": round(d * 1000, 3),
        "Di01 / bare": round(d / b, 3), "control / bare (noise)": round(c / b, 3),
        "SOAP rows of the last Di01 message": soap_rows,
    }]
    return Result(
        measured="Pipeline.process of distinct JW301s from the municipality (validate, store on SQLite, "
        "outbox, retour): to a chain party with a SOAP endpoint (Di01 built, outgoing_envelopes row, "
        "soap outbox row) against to a party not reached through the chain, and a control subject "
        "equal to the baseline (a third provider) whose ratio shows the noise. Trusted-channel call, "
        "round-robin over the subjects, median per message.",
        baseline=BASELINE,
        ratio_meaning="time with the Di01 and SOAP row / time bare out",
        columns=list(rows[0]),
        rows=rows,
        headline=f"a JW301 out in a Di01 with its SOAP row costs {rows[0]['Di01 / bare']}x the bare one",
    )
