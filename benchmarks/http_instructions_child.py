"""Run under valgrind by bench_http_instructions: POST /v1/messages through an ASGI app in this
process, 32 requests in flight, the pipeline answering at once.

    python benchmarks/http_instructions_child.py SUBJECT WARM N FLAG

SUBJECT `gateway`: the service's app on a fresh SQLite store, its pipeline replaced by one that
hands back outcomes it recorded from real runs (an accepted 301 and 315), so what is left is the
HTTP layer: middleware, request id, access line, metrics, the credential, the hop to a pipeline
thread and back, the answer's JSON. `echo`: benchmarks.echo_app, the plain FastAPI endpoint.
No HTTP parser runs (uvicorn's is the same for both). Writes its pid to FLAG after WARM requests
and waits until the parent has switched instrumentation on and removed FLAG; then sends N more
inside functools.reduce (callgrind counts only there, per thread: the event loop's
instructions). Writes the answers' status codes to FLAG.out as JSON.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import bench_service_http as service
from benchmarks.httpload import Request

IN_FLIGHT = 32


async def _post(app, request: Request) -> int:  # noqa: ANN001
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    headers += [(b"content-length", str(len(request.body)).encode()), (b"host", b"gateway")]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": request.path, "raw_path": request.path.encode(), "root_path": "",
             "query_string": b"", "headers": headers, "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80), "state": {}}
    body = [{"type": "http.request", "body": request.body, "more_body": False}]
    status = []

    async def receive() -> dict:
        if body:
            return body.pop()
        await asyncio.Event().wait()  # a disconnect never comes
        return {}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def _send_all(app, requests: list[Request], in_flight: int = IN_FLIGHT) -> list[int]:  # noqa: ANN001
    pending, statuses = iter(requests), []

    async def connection() -> None:
        for request in pending:
            statuses.append(await _post(app, request))

    await asyncio.gather(*(connection() for _ in range(in_flight)))
    return statuses


def _gateway_app(n: int):  # noqa: ANN202
    from gateway.observability import configure_logging
    from gateway.service.app import create_app
    from gateway.settings import Settings

    configure_logging("INFO", stream=open(os.devnull, "w"))  # noqa: SIM115 (the process's own)
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), hmac_secret=service.SECRET,
                        max_in_flight=4 * IN_FLIGHT)
    app = create_app(settings)
    keys = service._parties(app.state.components.store)
    return app, service._requests(service._messages(n), keys)


def _stub_pipeline(app, loop: asyncio.AbstractEventLoop, requests: list[Request]) -> None:  # noqa: ANN001
    """The pipeline answers with outcomes recorded from two real runs (a 301 and a 315)."""
    pipeline = app.state.pipeline
    real, recorded = pipeline.process, []
    pipeline.process = lambda *a, **k: recorded.append(real(*a, **k)) or recorded[-1]
    loop.run_until_complete(_send_all(app, requests, 1))
    answers = itertools.cycle(recorded)
    pipeline.process = lambda *a, **k: next(answers)


def main() -> None:
    subject, warm, n, flag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    loop = asyncio.new_event_loop()
    if subject == "gateway":
        app, requests = _gateway_app(2 + warm + n)
        _stub_pipeline(app, loop, requests[:2])
        requests = requests[2:]
    else:
        from benchmarks.echo_app import app

        requests = [Request("/v1/messages", b"<Bericht/>" * 100, {"Content-Type": "application/xml"})] * (warm + n)
    loop.run_until_complete(_send_all(app, requests[:warm]))
    flag.write_text(str(os.getpid()))
    while flag.exists():
        time.sleep(0.05)
    statuses = functools.reduce(lambda _, batch: loop.run_until_complete(_send_all(app, batch)),
                                [requests[warm:]], [])
    Path(f"{flag}.out").write_text(json.dumps(collections.Counter(statuses)))
    if subject == "gateway":
        app.state.pipeline_threads.close()
    loop.close()


if __name__ == "__main__":
    main()
