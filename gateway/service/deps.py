"""Request dependencies: the app's components and the authenticated party."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import Request

from gateway.auth.identity import authenticate
from gateway.auth.keys import from_headers, key_hash
from gateway.auth.policy import Party
from gateway.auth.tls import cert_fingerprint_of
from gateway.pipeline import Components, Pipeline
from gateway.service.headers import first_headers


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


_SELF_AUTHENTICATING: set[Any] = set()


def authenticates_itself(endpoint: Any) -> Any:
    """Marks an endpoint that calls message_credential itself rather than as a dependency (its
    operation documents the key headers all the same)."""
    _SELF_AUTHENTICATING.add(endpoint)
    return endpoint


def uses_current_party(dependant: Any) -> bool:
    """Whether a route authenticates its caller: current_party in its dependency tree, or an
    endpoint marked authenticates_itself (its operation documents the headers)."""
    return dependant.call in _SELF_AUTHENTICATING or any(
        d.call in (current_party, message_credential) or uses_current_party(d) for d in dependant.dependencies)


class Credential:
    """What a request authenticates with, as current_party reads it; `authenticate()` turns it
    into the party (or Refused) against the store as it is now."""

    __slots__ = ("authorization", "cert_fingerprint", "x_api_key")

    def __init__(self, request: Request) -> None:
        self.authorization, self.x_api_key = first_headers(request.scope, b"authorization", b"x-api-key")
        self.cert_fingerprint = cert_fingerprint_of(request.scope)

    def authenticate(self, store: Any, lookup: Any = None) -> Party:
        return authenticate(store, authorization=self.authorization, x_api_key=self.x_api_key,
                            cert_fingerprint=self.cert_fingerprint, lookup=lookup)

    def cache_key(self) -> str | None:
        """A name for the credential that holds no secret (the key's hash, as the store keeps it)."""
        key = from_headers(self.authorization, self.x_api_key)
        if key:
            return "key:" + key_hash(key)
        return "cert:" + self.cert_fingerprint if self.cert_fingerprint else None


class KnownCredentials:
    """Credentials that authenticated in this process before (their hashes, no party, no secret).

    A message from a known credential is not authenticated in a thread of its own before its
    body is read: the thread that runs the pipeline authenticates it against the store first,
    in the same hop (so a revocation takes effect at once, and the answer is the same 401).
    A credential never seen before is authenticated before the body is read, as every other
    route does: nobody unknown gets a body read."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._seen: dict[str, None] = {}

    def __contains__(self, name: str | None) -> bool:
        return name is not None and name in self._seen

    def add(self, name: str | None) -> None:
        if name is None:
            return
        if len(self._seen) >= self.limit:
            self._seen.pop(next(iter(self._seen)))  # the oldest goes; it is looked up again
        self._seen[name] = None

    def discard(self, name: str | None) -> None:
        if name is not None:
            self._seen.pop(name, None)


async def message_credential(request: Request) -> Credential:
    """current_party for POST /v1/messages: the credential, authenticated before the body is read
    unless it authenticated before (then the pipeline's thread authenticates it: KnownCredentials)."""
    credential = Credential(request)
    state = request.app.state
    known = getattr(state, "known_credentials", None)
    if known is None:
        known = state.known_credentials = KnownCredentials()
    name = credential.cache_key()
    if name not in known:
        await in_thread(credential.authenticate, state.components.store)
        known.add(name)
    return credential
