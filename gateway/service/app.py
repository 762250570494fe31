"""The FastAPI app: routes, error handling, observability, console, and the background tasks
(outbox publisher, SOAP delivery, inbound Kafka consumer) that live as long as the app."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from gateway.affinity import thread_pin
from gateway.pipeline import Components, Pipeline, build_components
from gateway.service import entry, errors
from gateway.service.limits import InFlight
from gateway.service.threads import PipelineThreads
from gateway.settings import Settings

DESCRIPTION = """
Validating message gateway for iJw 3.2 (Jeugdwet) and iWmo 3.2 (Wmo 2015).

Send one message with `POST /v1/messages` (or a zip with `POST /v1/batches`), authenticated with
your API key (`Authorization: Bearer <key>` or `X-API-Key`) or a registered client certificate.
The answer carries the retourbericht (or the 325). Accepted messages are routed to the receiver's
stream (`GET /v1/streams/{party}`, SSE at `/v1/streams/{party}/sse`) and, when configured, to
Kafka topics `<prefix>.<standard>.<party>.<type>`. Errors always look like
`{"error": {"code": ..., "message": ...}}`. See docs/service.md.
"""


def create_app(settings: Settings | None = None, *, components: Components | None = None) -> FastAPI:
    settings = settings or (components.settings if components else Settings())
    components = components or build_components(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Task] = []
        workers = []
        pin = thread_pin(settings.pipeline_cpu)
        if pin is not None:  # the event loop takes turns with the pipeline threads for the GIL too
            pin()
        if settings.deadline_scan_seconds:
            tasks.append(asyncio.create_task(_watch_deadlines(app, settings.deadline_scan_seconds),
                                             name="deadline-watch"))
        if settings.ggk_soap_delivery:
            from gateway.routing.soap_delivery import SoapDelivery

            delivery = SoapDelivery(components.store, settings, getattr(app.state, "metrics", None))
            app.state.soap_delivery = delivery
            workers.append(delivery)
            tasks.append(asyncio.create_task(delivery.run(), name="soap-delivery"))
        if settings.kafka_bootstrap:
            from gateway.routing.publisher import OutboxPublisher

            publisher = OutboxPublisher(components.store, settings, getattr(app.state, "metrics", None))
            app.state.publisher = publisher
            workers.append(publisher)
            tasks.append(asyncio.create_task(publisher.run(), name="outbox-publisher"))
            if settings.kafka_inbound_topic:
                from gateway.ingress.kafka import InboundConsumer

                consumer = InboundConsumer(app.state.pipeline, settings)
                app.state.inbound = consumer
                workers.append(consumer)
                tasks.append(asyncio.create_task(consumer.run(), name="inbound-consumer"))
        try:
            yield
        finally:
            for w in workers:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(w.stop(), 5)
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(BaseException):
                    await t
            app.state.pipeline_threads.close()
            lookup = getattr(app.state, "key_lookup", None)
            if lookup is not None:  # its own connection to the store (gateway.auth.batched)
                lookup.close()

    app = FastAPI(
        title="iJw/iWmo 3.2 message gateway",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        telemetry=None if settings.otel else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.components = components
    app.state.pipeline = Pipeline(components)
    app.state.pipeline_threads = PipelineThreads(settings.pipeline_threads)
    app.state.in_flight = InFlight(settings.max_in_flight, settings.retry_after_seconds,
                                   settings.max_in_flight_bytes, settings.in_flight_wait_seconds)

    errors.install(app)
    from gateway.service import (
        routes_admin,
        routes_content,
        routes_deadlines,
        routes_declarations,
        routes_messages,
        routes_soap,
        routes_streams,
    )

    # The messages' routes first: a request is matched against the routes in order, and these
    # take nearly every request.
    app.include_router(routes_messages.router)
    message_route = _fast_message_route(app, routes_messages.post_message)
    if not settings.otel:  # FastAPI's telemetry wraps every request: the stack's to do
        entry.install(app, message_route)
    _observability(app, components)
    app.include_router(routes_content.router)
    app.include_router(routes_streams.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_declarations.router)
    app.include_router(routes_soap.router)
    routes_deadlines.install(app)
    _console(app)
    _document_errors(app)
    return app


def _fast_message_route(app: FastAPI, endpoint: Any) -> Any:
    """POST /v1/messages served by a plain Starlette route ahead of all others: FastAPI's request
    handling (dependencies, exit stacks, its telemetry hooks) cost as much per message as the
    endpoint's own work, and the endpoint needs none of it (it reads its credential and body
    itself and answers a Response). Its errors go to the same exception handlers. The FastAPI
    route stays, for the OpenAPI document (a GET still gets 405 from either)."""
    from starlette.routing import Match, Route

    class MessageRoute(Route):
        def matches(self, scope: Any) -> tuple[Match, Any]:
            match, child_scope = super().matches(scope)
            if match != Match.NONE:
                child_scope["route"] = self  # as FastAPI's routes do: the metrics' route label
            return match, child_scope

    route = MessageRoute("/v1/messages", endpoint, methods=["POST"], include_in_schema=False)
    app.router.routes.insert(0, route)
    return route


async def _watch_deadlines(app: FastAPI, every: float) -> None:
    """Obligations become overdue with time, not with messages: scan on a timer too, so the overdue
    event reaches the party's stream even when nobody reads the list (first scan after `every`)."""
    from gateway.observability import get_logger
    from gateway.service import routes_deadlines

    log = get_logger("gateway.deadlines")
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(routes_deadlines.refresh, app)
        except Exception as exc:  # the store may be away for a moment; the next round catches up
            log.warning("deadline_scan_failed", error=type(exc).__name__)


def _document_errors(app: FastAPI) -> None:
    """The OpenAPI document says what the API really answers: invalid parameters or bodies get
    400 with the one error shape (FastAPI would document 422 HTTPValidationError), and every
    authenticated endpoint may answer 401."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes)
        error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
        _document_auth_headers(app, schema)
        for path, ops in schema.get("paths", {}).items():
            if not path.startswith("/v1/"):
                continue
            for op in ops.values():
                responses = op.setdefault("responses", {})
                validation = responses.get("422", {})
                ref = (validation.get("content", {}).get("application/json", {})
                       .get("schema", {}).get("$ref", ""))
                if ref.endswith("/HTTPValidationError"):
                    del responses["422"]
                    responses["400"] = {"description": "Invalid parameters or body.",
                                        "content": {"application/json": {"schema": error_ref}}}
                responses.setdefault("401", {"description": "No, an unknown or a revoked credential.",
                                             "content": {"application/json": {"schema": error_ref}}})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_auth_headers(app: FastAPI, schema: dict) -> None:
    """The API key headers on every operation that authenticates its caller (deps.current_party
    reads them from the request; FastAPI does not see them as parameters)."""
    from fastapi import routing

    from gateway.service.deps import AUTH_HEADER_PARAMETERS, uses_current_party

    iter_contexts = getattr(routing, "iter_route_contexts", None)
    if iter_contexts is None:  # FastAPI before included routers were kept nested: a flat list
        routes = [r for r in app.routes if isinstance(r, routing.APIRoute)]
    else:
        routes = [c for c in iter_contexts(app.routes) if isinstance(c.original_route, routing.APIRoute)]
    paths = schema.get("paths", {})
    for route in routes:
        if not route.include_in_schema or not uses_current_party(route.dependant):
            continue
        for method in route.methods:
            op = paths.get(route.path_format, {}).get(method.lower())
            if op is None:
                continue
            params = op.setdefault("parameters", [])
            known = {(p.get("in"), p.get("name")) for p in params}
            params.extend(dict(p) for p in AUTH_HEADER_PARAMETERS if ("header", p["name"]) not in known)


def _observability(app: FastAPI, components: Components) -> None:
    """The console engineer's observability module: logs, /metrics, /healthz, /readyz."""
    from gateway import observability
    from gateway.observability import Metrics

    observability.install(app, metrics_obj=Metrics())

    def store_ready() -> bool | str:
        try:
            components.store.get_party("0000")
            return True
        except Exception as exc:
            return f"store: {type(exc).__name__}"

    observability.add_readiness_check("store", store_ready, app)

    def schemas_ready() -> bool | str:
        from schemas.registry import default_registry

        missing = (components.registry or default_registry()).missing()
        return True if not missing else f"schemas not compiled: {', '.join(missing[:5])}"

    def rules_ready() -> bool | str:
        from validators import engine

        return True if engine.load_all() else "no rules loaded"

    def contracts_ready() -> bool | str:
        return True if components.contracts is not None else "no contract registry"

    # Loaded before the service takes its first message (build_components); a failed check here
    # means a process that should not be receiving traffic.
    observability.add_readiness_check("schemas", schemas_ready, app)
    observability.add_readiness_check("rules", rules_ready, app)
    observability.add_readiness_check("contracts", contracts_ready, app)

    # Outbox depth/lag and in-flight gauges are read at scrape time by observability itself.


def _console(app: FastAPI) -> None:
    """Mount the operator console when the package has it (console engineer: gateway.console)."""
    if importlib.util.find_spec("gateway.console") is None:
        return
    import gateway.console as console

    router = getattr(console, "router", None)
    if router is not None:
        app.include_router(router)
