"""Refusals are logged (as JSON lines, with a reason) and no log line carries a BSN in clear."""

from __future__ import annotations

import io
import json
import sys

import pytest

from gateway import samples
from gateway.observability import configure_logging, find_bsns

from .conftest import AANBIEDER


@pytest.fixture
def log_lines():
    buf = io.StringIO()
    configure_logging("INFO", stream=buf)
    try:
        yield lambda: [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]
    finally:
        configure_logging("INFO", stream=sys.stderr)


def test_refusals_are_logged_with_their_reason_and_no_bsn(app, client, keys, log_lines):
    store = app.state.components.store
    bsn = samples.BSNS[77]
    h = {"Content-Type": "application/xml"}
    client.post("/v1/messages", content=samples.start("ijw", bsn=bsn), headers={**h, "X-API-Key": "gwk_x_y"})
    client.post("/v1/messages", content=samples.start("ijw", bsn=bsn, aanbieder="87654321"),
                headers={**h, "X-API-Key": keys.aanbieder})
    client.post("/v1/messages", content=samples.allocation("ijw", bsn=bsn), headers={**h, "X-API-Key": keys.aanbieder})
    store.revoke_api_key(store.list_api_keys(AANBIEDER)[0].key_id)
    client.post("/v1/messages", content=samples.start("ijw", bsn=bsn), headers={**h, "X-API-Key": keys.aanbieder})
    # An accepted message too, so the test also covers the normal path's log lines.
    r = client.post("/v1/messages", content=samples.allocation("ijw", bsn=bsn), headers={**h, "X-API-Key": keys.gemeente})
    assert r.status_code == 202

    lines = log_lines()
    reasons = [line.get("reason") for line in lines if line.get("event") == "request_refused"]
    assert reasons == ["unknown_key", "spoofed_sender", "wrong_role", "revoked_key"]
    refused = [line for line in lines if line.get("event") == "message_refused"]
    assert [line["reason"] for line in refused] == ["spoofed_sender", "wrong_role"]
    assert all(line["party"] == AANBIEDER for line in refused)
    processed = [line for line in lines if line.get("event") == "message_processed"]
    assert processed and processed[-1]["message_id"] == r.json()["message_id"]
    assert processed[-1]["client_key"]  # the chain is traceable in the logs
    raw = "\n".join(json.dumps(line) for line in lines)
    assert bsn not in raw and not find_bsns(raw)


@pytest.mark.parametrize("otel", [False, True])
def test_fastapi_telemetry_asks_for_a_provider_only_when_the_setting_is_on(tmp_path, contracts, monkeypatch, otel):
    """FastAPI's own OpenTelemetry layer looks up the tracer provider on every request (an
    environment lookup and more each time); the gateway has its own metrics and logs, so it turns
    that layer off unless GATEWAY_OTEL is set."""
    from fastapi.testclient import TestClient
    from opentelemetry import trace

    from .conftest import make_app, make_settings

    asked = []
    real = trace.get_tracer_provider
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: asked.append(1) or real())
    application = make_app(make_settings(tmp_path, otel=otel), contracts)
    try:
        with TestClient(application) as c:
            asked.clear()  # start-up may look once; the per-request lookups are the cost
            for _ in range(3):
                assert c.get("/healthz").status_code == 200
    finally:
        application.state.components.store.close()
    assert (len(asked) >= 3) is otel


def test_what_python_itself_would_print_goes_through_the_masked_log():
    """In the server process, an uncaught exception (main thread or another), one raised in a
    finaliser and a warning are JSON log lines, masked, not a raw traceback on stderr."""
    import subprocess
    import textwrap

    bsn = samples.BSNS[78]
    code = textwrap.dedent(f"""
        import threading, warnings
        from gateway.observability import configure_logging, log_stray_tracebacks
        configure_logging("INFO")
        log_stray_tracebacks()
        def fail():
            raise ValueError("thread for client {bsn}")
        t = threading.Thread(target=fail)
        t.start()
        t.join()
        warnings.warn("about client {bsn}")
        class Finalised:
            def __del__(self):
                raise ValueError("finaliser for client {bsn}")
        Finalised()
        raise ValueError("DETAIL:  Key (name)=(Jansen {bsn}) already exists.")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines()]  # every line is a JSON object
    events = {line["event"] for line in lines}
    assert {"thread_exception", "unraisable_exception", "uncaught_exception"} <= events, events
    assert any(line["logger"] == "py.warnings" for line in lines), lines
    assert bsn not in proc.stderr + proc.stdout and "Jansen" not in proc.stderr, proc.stderr
    assert "Key (name)=(values hidden)" in proc.stderr


def test_a_database_error_s_row_values_are_cut_from_any_text():
    from gateway.observability import hide_row_values, mask_text

    text = ('duplicate key value violates unique constraint "x"\nDETAIL:  Key (lower(name), bsn)=(jansen, '
            '999912345) already exists.\n[SQL: INSERT ...]')
    assert hide_row_values(text) == ('duplicate key value violates unique constraint "x"\nDETAIL:  Key '
                                     '(lower(name), bsn)=(values hidden)\n[SQL: INSERT ...]')
    failing = "DETAIL:  Failing row contains (01TEST, \\x3c42736e3e393939393132333435, null)."
    assert mask_text(failing) == "DETAIL:  Failing row contains (values hidden)"
    assert hide_row_values("no detail 999912345") == "no detail 999912345"


def test_a_message_is_one_log_line_carrying_the_request_and_the_message(client, keys, log_lines):
    """POST /v1/messages writes its access line and its message_processed line as one: the
    message's fields and the request's (status, duration, the request id the sender got back),
    and that id as sent (a generated id never holds a run of nine digits, which would be masked)."""
    ids = set()
    for n in range(40):  # hex ids of 32 digits held a nine-digit run about one time in seven
        r = client.post("/v1/messages", content=samples.allocation("ijw", bsn=samples.BSNS[n]),
                        headers={"Content-Type": "application/xml", "X-API-Key": keys.gemeente})
        assert r.status_code == 202
        ids.add((r.headers["X-Request-ID"], r.json()["message_id"]))
    lines = [line for line in log_lines() if line.get("path") == "/v1/messages"]
    assert len(lines) == len(ids)
    assert {(line["request_id"], line["message_id"]) for line in lines} == ids
    line = lines[-1]
    assert line["event"] == "message_processed" and line["status"] == 202 and line["method"] == "POST"
    assert line["code"] == "JW301" and line["verdict"] and line["client_key"] and "duration_ms" in line
    assert not [x for x in log_lines() if x.get("event") == "http_request" and x.get("path") == "/v1/messages"]


def test_the_line_handler_writes_what_a_plain_stream_handler_writes():
    """configure_logging's handler writes structlog's finished lines itself (no formatter pass):
    byte for byte what logging.StreamHandler with the same formatter writes, for structlog's lines
    and the stdlib's (uvicorn's, libraries') alike."""
    import logging

    from gateway import clock
    from gateway.observability import get_logger

    plain = io.StringIO()
    fast = io.StringIO()
    handler = configure_logging("INFO", stream=fast)
    reference = logging.StreamHandler(plain)
    reference.setFormatter(handler.formatter)
    logging.getLogger().addHandler(reference)
    try:
        with clock.fixed("2026-03-01T10:00:00+00:00"):
            get_logger("gateway.test").info("seen", bsn="123456782", n=3, where=("a", 1))
            get_logger("gateway.test").warning("odd", text="é (x)")
            logging.getLogger("uvicorn.error").info("started %s", "server")
    finally:
        logging.getLogger().removeHandler(reference)
        configure_logging("INFO", stream=sys.stderr)
    assert type(handler) is not logging.StreamHandler
    fast_lines, plain_lines = fast.getvalue().splitlines(), plain.getvalue().splitlines()
    assert len(fast_lines) == 3
    assert fast_lines[:2] == plain_lines[:2]  # structlog's, rendered once for both handlers
    # The stdlib's record is rendered by each handler in turn: its timestamp moves on between.
    fast_std, plain_std = json.loads(fast_lines[2]), json.loads(plain_lines[2])
    fast_std.pop("timestamp"), plain_std.pop("timestamp")
    assert fast_std == plain_std and fast_std["event"] == "started server"
    assert "123456782" not in fast.getvalue()


def test_a_value_json_has_no_form_for_is_written_as_structlogs_renderer_writes_it():
    """The log line's encoder (one, made once) falls back as structlog's JSONRenderer does:
    __structlog__() where a value has it, repr() otherwise."""
    import structlog

    from gateway.observability import _JSON

    class Shown:
        def __structlog__(self) -> str:
            return "shown"

    class Plain:
        def __repr__(self) -> str:
            return "<plain>"

    event = {"event": "x", "a": Shown(), "b": Plain(), "c": {1, 2} and [3], "d": None}
    ours = _JSON(None, "info", dict(event))
    theirs = structlog.processors.JSONRenderer(sort_keys=False)(None, "info", dict(event))
    assert ours == theirs and json.loads(ours)["a"] == "shown" and json.loads(ours)["b"] == "<plain>"
