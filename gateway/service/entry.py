"""POST /v1/messages ahead of the app's middleware stack.

Nearly every request is a message, and on its way to the endpoint it passed every layer of the
stack, each a coroutine wrapping the next (about 45,000 instructions a message, 3.5% of the HTTP
layer's). The
message's route needs only what three of them do, and gets exactly that here, from the same
objects: ServerErrorMiddleware (an unexpected error answered 500 by the app's handler, and
raised on to the server), ObserveRequests (request id, access line, latency metric) and the
exception handlers of ExceptionMiddleware (ApiError, Refused, a store outage, ... as their
answers). What it goes past does nothing for this route: FastAPI's telemetry (the entry is only
used with it off), the app's body limit (none is set; read_limited enforces the message's),
the exit stack for dependencies (the endpoint has none) and the router (the route's own match
decides, as the router's did: it is the first route). Every other request takes the stack.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.routing import Match

from gateway.observability import ObserveRequests


def install(app: FastAPI, route: Any) -> None:
    """Serve `route` (a plain Starlette route, first in the router) ahead of the stack Starlette
    builds at the first request."""
    build = app.build_middleware_stack

    def build_with_entry() -> Any:
        stack = build()
        return _MessageEntry(app, stack, route)

    app.build_middleware_stack = build_with_entry  # type: ignore[method-assign]


class _MessageEntry:
    def __init__(self, app: FastAPI, stack: Any, route: Any) -> None:
        self.stack, self.route, self.router = stack, route, app.router
        layers: dict[type, Any] = {}
        layer = stack
        while layer is not None and layer is not app.router:
            layers[type(layer)] = layer
            layer = getattr(layer, "app", None)
        errors, observe = layers[ServerErrorMiddleware], layers[ObserveRequests]
        exceptions = layers[ExceptionMiddleware]
        self.handlers = (exceptions._exception_handlers, exceptions._status_handlers)
        self.entry = ServerErrorMiddleware(ObserveRequests(self._handle, observe.metrics, observe.access_log),
                                           handler=errors.handler, debug=errors.debug)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            match, child_scope = self.route.matches(scope)
            if match is Match.FULL:
                scope.setdefault("router", self.router)
                scope.update(child_scope)
                await self.entry(scope, receive, send)
                return
        await self.stack(scope, receive, send)

    async def _handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["starlette.exception_handlers"] = self.handlers
        request = Request(scope, receive, send)
        endpoint = self.route.endpoint

        async def respond(scope: dict[str, Any], receive: Any, send: Any) -> None:
            response = await endpoint(request)
            await response(scope, receive, send)

        await wrap_app_handling_exceptions(respond, request)(scope, receive, send)
