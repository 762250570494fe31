"""The HTTP layer of POST /v1/messages in CPU instructions per message (callgrind), against a
plain FastAPI echo endpoint.

service_http's CPU figures move by +-10% between runs on the shared machine, and the HTTP layer
is a fifth of what a message costs there: a change to it that saves a few percent of it does not
show. Counted here with the pipeline answering at once, on the event loop's thread only, it does.
"""

from __future__ import annotations

import json

from benchmarks.bench_instructions import count_each, count_instructions
from benchmarks.harness import REPO, Result, RunContext, benchmark

BASELINE = "echo"
SUBJECTS = ("echo", "gateway")
CHILD = REPO / "benchmarks" / "http_instructions_child.py"


@benchmark("http_instructions", "HTTP layer of POST /v1/messages in CPU instructions per message, against a plain echo")
def http_instructions(ctx: RunContext) -> Result:
    warm, n = (100, 300) if ctx.quick else (300, 1500)
    statuses: dict[str, dict] = {}

    def count(subject: str) -> float:
        total = count_instructions(CHILD, [subject, str(warm), str(n)], subject, ctx.work_dir)
        statuses[subject] = json.loads((ctx.work_dir / f"{subject}.ready.out").read_text())
        return total / n

    counts, unavailable = count_each(SUBJECTS, count)
    floor = counts.get(BASELINE)
    rows = [{"subject": s, "messages": n, "instructions_per_msg": round(c),
             "ratio": round(floor / c, 4) if floor else None,
             "statuses": ", ".join(f"{k}: {v}" for k, v in sorted(statuses[s].items()))}
            for s, c in counts.items()]
    gateway = counts.get("gateway")
    headline = (f"POST /v1/messages with the pipeline answering at once: {round(gateway):,} instructions per "
                f"message on the event loop, the plain echo's {round(floor):,} ({floor / gateway:.3f}x)"
                if gateway and floor else "not measured")
    return Result(
        measured=(f"{n} POST /v1/messages (after {warm} untimed) through the ASGI app in the same process, "
                  "32 in flight, no HTTP parser (uvicorn's is the same for both), under valgrind's callgrind; "
                  "only the event loop thread's instructions while it sends are counted. gateway: the "
                  "service's app on a fresh SQLite store with its two parties (the bodies and keys of "
                  "service_http), its pipeline answering with two recorded outcomes (an accepted 301 and "
                  "315), so what is counted is the HTTP layer: middleware, request id, access line, metrics, "
                  "credential, the hop to a pipeline thread and back, the answer. echo: benchmarks.echo_app."),
        baseline=BASELINE,
        ratio_meaning="the echo's instructions per request / the subject's (1.0 = as few as a plain FastAPI echo)",
        columns=["subject", "messages", "instructions_per_msg", "ratio", "statuses"],
        rows=rows,
        headline=headline,
        unavailable=unavailable,
        notes=["The pipeline threads' instructions (the credential's check against the store) are not in "
               "the figure. Repeated runs of one commit agreed to within about 0.5% (session 11)."],
    )
