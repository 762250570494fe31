"""POST /v1/messages is served ahead of the middleware stack (gateway.service.entry), with the
same answers, headers, log lines and metrics as through the stack."""

from __future__ import annotations

import io
import json
import sys

from fastapi.testclient import TestClient

from gateway import samples
from gateway.observability import configure_logging


def _through_the_stack(app):  # noqa: ANN001, ANN202
    """The app as it was before the entry: every request through the whole middleware stack."""

    async def asgi(scope, receive, send):  # noqa: ANN001, ANN202
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if app.middleware_stack is None:
            app.middleware_stack = app.build_middleware_stack()
        scope["app"] = app
        await app.middleware_stack.stack(scope, receive, send)

    return asgi


def _cases(keys):  # noqa: ANN001, ANN202
    xml = {"Content-Type": "application/xml"}
    return [
        ("accepted", samples.allocation("ijw", bsn=samples.BSNS[61]), {**xml, "X-API-Key": keys.gemeente}),
        ("duplicate", samples.allocation("ijw", bsn=samples.BSNS[61]), {**xml, "X-API-Key": keys.gemeente}),
        ("unknown key", samples.allocation("ijw", bsn=samples.BSNS[62]), {**xml, "X-API-Key": "gwk_x_y"}),
        ("spoofed", samples.allocation("ijw", bsn=samples.BSNS[62]), {**xml, "X-API-Key": keys.aanbieder}),
        ("not xml", b"not xml at all", {**xml, "X-API-Key": keys.gemeente, "X-Request-ID": "given-id"}),
        ("empty", b"", {**xml, "X-API-Key": keys.gemeente}),
        ("too large", b"<a/>" * 10, {**xml, "X-API-Key": keys.gemeente, "Content-Length": str(10**9)}),
        ("broken", samples.allocation("ijw", bsn=samples.BSNS[63]), {**xml, "X-API-Key": keys.gemeente}),
    ]


def _answers(app, asgi, keys, monkeypatch):  # noqa: ANN001, ANN202
    """(status, body, headers without the date and request id) for each case, and the log lines."""
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    answers = []
    try:
        with TestClient(asgi, raise_server_exceptions=False) as client:
            for name, body, headers in _cases(keys):
                with monkeypatch.context() as m:
                    if name == "broken":  # an unexpected error inside the pipeline: 500
                        m.setattr(app.state.pipeline, "process", lambda *a, **k: 1 / 0)
                    r = client.post("/v1/messages", content=body, headers=headers)
                body = r.json()
                if "message_id" in body:  # new ids and retour identifications, the same answers else
                    mid, body["message_id"] = body["message_id"], "..."
                    body["links"] = {k: v.replace(mid, "...") for k, v in (body.get("links") or {}).items()}
                    body["retour"] = bool(body.get("retour"))
                answers.append((name, r.status_code, body,
                                sorted((k, v) for k, v in r.headers.items() if k not in ("date", "x-request-id")),
                                r.headers.get("x-request-id") == "given-id"))
    finally:
        configure_logging("INFO", stream=sys.stderr)
    lines = []
    for line in out.getvalue().splitlines():
        fields = json.loads(line)
        if fields["logger"] not in ("gateway.http", "gateway.pipeline", "gateway.service", "httpx"):
            continue  # (a background thread another test left behind)
        for varying in ("timestamp", "duration_ms", "request_id", "correlation_id", "message_id", "exception"):
            fields.pop(varying, None)
        lines.append(fields)
    return answers, lines


def _observed(app):  # noqa: ANN001, ANN202
    """What the requests counted (the latencies themselves vary)."""
    m = app.state.metrics
    return {(sample.name, tuple(sorted(sample.labels.items())), sample.value)
            for metric in (m.http_seconds, m.messages, m.rule_failures)
            for sample in metric.collect()[0].samples if sample.name.endswith(("_count", "_total"))}


def test_messages_skip_the_stack_and_other_requests_take_it(app, keys):
    calls = []
    with TestClient(app, raise_server_exceptions=False) as client:
        client.get("/healthz")
        stack = app.middleware_stack.stack

        async def counted(scope, receive, send):  # noqa: ANN001, ANN202
            calls.append(scope["path"])
            await stack(scope, receive, send)

        app.middleware_stack.stack = counted
        r = client.post("/v1/messages", content=samples.allocation("ijw", bsn=samples.BSNS[64]),
                        headers={"Content-Type": "application/xml", "X-API-Key": keys.gemeente})
        assert r.status_code == 202 and r.headers["X-Request-ID"]
        assert client.get("/v1/messages").status_code == 405  # another method: the stack's answer
        assert client.get("/healthz").status_code == 200
    assert calls == ["/v1/messages", "/healthz"]


def test_a_message_gets_what_the_stack_gave_it(tmp_path, contracts, monkeypatch):
    """Answers, headers, log lines and metrics of the same requests, to two apps on fresh stores:
    one through the entry, one through the whole stack."""
    from .conftest import make_app, make_settings, setup_parties

    seen = []
    for n, through_stack in enumerate((False, True)):
        app = make_app(make_settings(tmp_path / str(n)), contracts)
        try:
            keys = setup_parties(app)
            answers, lines = _answers(app, _through_the_stack(app) if through_stack else app, keys, monkeypatch)
            seen.append((answers, lines, _observed(app)))
        finally:
            app.state.components.store.close()
    (entry_answers, entry_lines, entry_metrics), (stack_answers, stack_lines, stack_metrics) = seen
    assert [a[:2] for a in entry_answers] == [
        ("accepted", 202), ("duplicate", 202), ("unknown key", 401), ("spoofed", 403), ("not xml", 422),
        ("empty", 400), ("too large", 413), ("broken", 500)]
    assert entry_answers == stack_answers
    assert entry_answers[4][4]  # the sender's request id came back
    assert entry_lines == stack_lines
    assert any(line.get("status") == 500 and line.get("event") == "http_request" for line in entry_lines)
    assert entry_metrics == stack_metrics
    assert ("gateway_http_request_seconds_count", (("method", "POST"), ("route", "/v1/messages"),
                                                   ("status", "2xx")), 2.0) in entry_metrics


def test_with_fastapi_telemetry_on_messages_take_the_stack(tmp_path, contracts):
    """FastAPI's telemetry wraps every request when GATEWAY_OTEL is set: no entry then."""
    from starlette.middleware.errors import ServerErrorMiddleware

    from .conftest import make_app, make_settings

    for otel in (False, True):
        app = make_app(make_settings(tmp_path / str(otel), otel=otel), contracts)
        try:
            assert isinstance(app.build_middleware_stack(), ServerErrorMiddleware) is otel
        finally:
            app.state.components.store.close()
