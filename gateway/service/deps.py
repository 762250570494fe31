"""Request dependencies: the app's components and the authenticated party."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import Request

from gateway.auth.identity import authenticate
from gateway.auth.policy import Party
from gateway.auth.tls import cert_fingerprint_of
from gateway.pipeline import Components, Pipeline


def components(request: Request) -> Components:
    return request.app.state.components


def pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


async def in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a synchronous store/pipeline call off the event loop."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


# The two headers an API key may come in, as the OpenAPI document describes them. They are read
# from the request itself (current_party), not declared as FastAPI Header parameters: solving
# those costs more per request than the rest of the route's own work. The app's OpenAPI document
# adds them to every operation that depends on current_party (gateway.service.app).
AUTH_HEADER_PARAMETERS: list[dict[str, Any]] = [
    {"name": name, "in": "header", "required": False, "description": text,
     "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": text, "title": title}}
    for name, title, text in (
        ("authorization", "Authorization", "`Bearer <API key>`"),
        ("x-api-key", "X-Api-Key", "The API key (alternative to Authorization)"),
    )
]


async def current_party(request: Request) -> Party:
    """The authenticated sender: API key (`Authorization: Bearer <key>` or `X-API-Key`), or a
    verified client certificate (mutual TLS)."""
    store = request.app.state.components.store
    headers = request.headers
    return await in_thread(
        authenticate,
        store,
        authorization=headers.get("authorization"),
        x_api_key=headers.get("x-api-key"),
        cert_fingerprint=cert_fingerprint_of(request.scope),
    )


def uses_current_party(dependant: Any) -> bool:
    """Whether a route's dependency tree holds current_party (its operation documents the headers)."""
    return any(d.call is current_party or uses_current_party(d) for d in dependant.dependencies)
