"""Request dependencies: the app's components and the authenticated party."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import Header, Request

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


async def current_party(
    request: Request,
    authorization: str | None = Header(None, description="`Bearer <API key>`"),
    x_api_key: str | None = Header(None, description="The API key (alternative to Authorization)"),
) -> Party:
    """The authenticated sender: API key, or a verified client certificate (mutual TLS)."""
    store = request.app.state.components.store
    return await in_thread(
        authenticate,
        store,
        authorization=authorization,
        x_api_key=x_api_key,
        cert_fingerprint=cert_fingerprint_of(request.scope),
    )
