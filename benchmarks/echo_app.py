"""The ceiling of the HTTP benchmark: a plain FastAPI endpoint that reads the body and answers a
small JSON document, served by uvicorn like `gateway serve` (same event loop and HTTP parser).

    python -m uvicorn benchmarks.echo_app:app --port 8099 --workers 2
"""

from __future__ import annotations

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/v1/messages", status_code=202)
async def echo(request: Request) -> dict:
    body = await request.body()
    return {"verdict": "accepted", "bytes": len(body)}
