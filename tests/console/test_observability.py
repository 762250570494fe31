"""Logging, masking, metrics and health endpoints of gateway.observability."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from fastapi import FastAPI

from gateway import observability as obs

BSN = "123456782"  # passes the elfproef; fictitious


@pytest.fixture
def log_stream():
    stream = io.StringIO()
    handler = obs.configure_logging("DEBUG", stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_mask_text_masks_nine_digit_runs_only():
    assert obs.mask_text(f"bsn {BSN} agb 12345678 cbs 0599 long 1234567890") == (
        "bsn ******782 agb 12345678 cbs 0599 long 1234567890"
    )


def test_a_client_key_stays_searchable_and_a_bsn_beside_it_is_masked():
    key = "ab123456789c" + "0f" * 26  # an HMAC in hex with a nine-digit run, as one key in eight has
    assert len(key) == 64
    assert obs.mask_text(f"client_key={key} bsn={BSN}") == f"client_key={key} bsn=******782"
    assert obs.find_bsns(f'{{"client_key": "{key}"}}') == []
    assert obs.find_bsns(f'{{"client_key": "{key}", "x": "{BSN}"}}') == [BSN]
    # not a client key: longer, shorter or glued to other letters
    for text in (key + "0", key[:-1], "x" + key, key.upper()):
        assert obs.find_bsns(text) == ["123456789"], text


def test_a_message_id_stays_searchable_and_a_bsn_beside_it_is_masked():
    """A ULID message id that holds a nine-digit run (one id in a few hundred while the time
    part of the ids ends in digits; this one came out of a CI run) is logged as it is; a BSN
    beside it is masked."""
    from gateway.store.ids import new_id

    mid = "01M97M109473899DYN10HPY20X"
    assert len(mid) == len(new_id()) == 26
    assert obs.mask_text(f"message_id={mid} bsn={BSN}") == f"message_id={mid} bsn=******782"
    assert obs.find_bsns(f'{{"message_id": "{mid}"}}') == []
    assert obs.find_bsns(f'{{"message_id": "{mid}", "x": "{BSN}"}}') == [BSN]
    # not a message id: longer, shorter, glued to other letters, lower case, or a letter Crockford
    # base32 leaves out
    for text in (mid + "0", mid[1:], "x" + mid, mid.lower(), mid[:-1] + "U", "8" + mid[1:]):
        assert obs.find_bsns(text) == ["109473899"], text


def test_a_bound_client_key_is_logged_as_it_is(log_stream):
    key = "ab123456789c" + "0f" * 26
    with obs.bind_message("MSG-1", client_key=key):
        obs.get_logger("gateway.test").info("validated", bsn=BSN)
    [line] = lines(log_stream)
    assert line["client_key"] == key and line["bsn"] == "******782"


def test_mask_value_recurses_into_containers_numbers_and_keys():
    masked = obs.mask_value({"a": [BSN, {"b": int(BSN)}], BSN: (1.123456789,)})
    rendered = json.dumps(masked)
    assert obs.find_bsns(rendered) == []
    assert masked["a"][1]["b"] == "******782"


def test_structlog_line_is_json_with_bound_ids_and_no_bsn(log_stream):
    log = obs.get_logger("gateway.test")
    with obs.bind_message("MSG-1", correlation_id="req-9", client_key="ck-1"):
        log.info("validated", bsn=BSN, text=f"client {BSN} rejected", amount=12.5)
    log.info("outside")
    first, second = lines(log_stream)
    assert first["event"] == "validated"
    assert first["message_id"] == "MSG-1"
    assert first["correlation_id"] == "req-9"
    assert first["client_key"] == "ck-1"
    assert first["level"] == "info"
    assert "timestamp" in first
    assert first["bsn"] == "******782"
    assert BSN not in log_stream.getvalue()
    assert "message_id" not in second


def test_stdlib_logging_and_exceptions_are_masked_too(log_stream):
    logging.getLogger("some.library").warning("lookup failed for %s", BSN)
    try:
        raise ValueError(f"bad bsn {BSN}")
    except ValueError:
        obs.get_logger().exception("boom")
    out = log_stream.getvalue()
    assert obs.find_bsns(out) == []
    records = lines(log_stream)
    assert records[0]["event"] == "lookup failed for ******782"
    assert "ValueError: bad bsn ******782" in records[1]["exception"]


@pytest.mark.parametrize("event", [
    {"event": "x", BSN: "as a key"},
    {"event": "x", "n": int(BSN)},
    {"event": "x", "nested": [{"deep": f"bsn={BSN};"}]},
    {"event": "x", "other_script": "".join(chr(0x0660 + int(d)) for d in BSN)},  # Arabic-Indic digits
])
def test_a_line_is_rendered_as_json_with_every_bsn_masked(event):
    line = obs.render_masked(None, "info", dict(event))
    assert json.loads(line) == json.loads(json.dumps(obs.mask_value(dict(event))))
    assert obs.find_bsns(line) == [] and BSN not in line


def test_a_line_without_a_nine_digit_run_is_rendered_as_it_is():
    event = {"event": "message_processed", "agb": "12345678", "ids": [12345678, "x-87654321"], "t": 0.25}
    assert obs.render_masked(None, "info", dict(event)) == json.dumps(event)
    longer = {"event": "x", "long": "1234567890"}  # ten digits: looked at, and no BSN
    assert json.loads(obs.render_masked(None, "info", dict(longer))) == longer


def test_the_quick_bsn_check_finds_what_find_bsns_finds():
    """holds_bsn decides whether render_masked walks a line: it must say yes wherever find_bsns
    finds a run (client keys, message ids, longer numbers, runs at a token's edge, long tokens)."""
    import hashlib
    import random

    rng = random.Random(14)
    key = hashlib.sha256(b"k").hexdigest()
    ulid = "01JD3Z8Q7W2V6N4K9M1B5C8X0R"
    pieces = [key, key.upper(), ulid, ulid.lower(), "x" * 60 + BSN, key * 2, BSN, "9" * 10, "12345678",
              '"', ":", "-", " ", "\\n", "a", "Z", "é"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 7)))
        assert obs.holds_bsn(text) == bool(obs.find_bsns(text)), text
    assert obs.holds_bsn(f"{key} {BSN}") and not obs.holds_bsn(f'"{key}", "{ulid}"')


def test_unmasked_text_would_be_found():
    # The checker itself must be able to fail.
    assert obs.find_bsns(f'{{"event": "x {BSN}"}}') == [BSN]


def make_app() -> FastAPI:
    app = FastAPI()
    obs.install(app, metrics_obj=obs.Metrics())

    @app.get("/ping")
    async def ping():
        obs.get_logger("gateway.test").info("pinged", client=BSN)
        return {"ok": True}

    return app


async def test_metrics_endpoint_exposes_counts_and_outbox_depth():
    app = make_app()
    m: obs.Metrics = app.state.metrics
    m.record_message("ijw", "JW323", "rejected", 0.02, rules=["TR301", "CR001"])
    m.record_message("ijw", "JW323", "rejected", 0.03, rules=["TR301"])
    m.record_message("ijw", "JW302", "accepted", 0.01)  # a retour gets no retour
    m.record_message("ijw", "JW301", "transport_rejected", 0.01)  # nor does a transport rejection
    m.on_scrape(lambda mm: mm.set_outbox({"kafka:declarations": (7, 42.0)}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await c.get("/ping")
        body = (await c.get("/metrics")).text
    assert 'gateway_messages_total{standard="ijw",type="JW323",verdict="rejected"} 2.0' in body
    assert 'gateway_rule_failures_total{rule="TR301"} 2.0' in body
    assert 'gateway_outbox_depth{destination="kafka:declarations"} 7.0' in body
    assert 'gateway_outbox_lag_seconds{destination="kafka:declarations"} 42.0' in body
    assert 'gateway_processing_seconds_count{type="JW323"} 2.0' in body
    assert 'gateway_retour_latency_seconds_count{type="JW323"} 2.0' in body
    assert 'gateway_retour_latency_seconds_count{type="JW302"}' not in body
    assert 'gateway_retour_latency_seconds_count{type="JW301"}' not in body
    assert 'gateway_http_request_seconds_count{method="GET",route="/ping",status="2xx"} 1.0' in body


async def test_health_and_readiness(log_stream):
    app = make_app()
    state = {"db": True}
    obs.add_readiness_check("store", lambda: state["db"] or "database unreachable", app=app)

    async def broker_check():
        return None

    obs.add_readiness_check("broker", broker_check, app=app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/healthz")).json() == {"status": "ok"}
        ready = await c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        state["db"] = False
        not_ready = await c.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["store"] == {"ok": False, "reason": "database unreachable"}
        r = await c.get("/ping", headers={"X-Request-ID": "abc-123"})
        assert r.headers["X-Request-ID"] == "abc-123"
        r = await c.get("/ping", headers={"X-Request-ID": "evil\nline"})
        assert r.headers["X-Request-ID"] != "evil\nline"
    records = lines(log_stream)
    pinged = [r for r in records if r["event"] == "pinged"]
    assert pinged[0]["client"] == "******782"
    access = [r for r in records if r["event"] == "http_request" and r.get("request_id") == "abc-123"]
    assert access and access[0]["status"] == 200
    # the app's own line inside the request carries the request id as well
    assert any(r.get("request_id") == "abc-123" for r in pinged)
    assert obs.find_bsns(log_stream.getvalue()) == []


async def test_metrics_read_outbox_depth_and_in_flight_from_the_running_service(tmp_path):
    import warnings
    from types import SimpleNamespace

    from gateway import samples
    from gateway.store import OutboxRow, open_store

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = open_store(f"sqlite:///{tmp_path / 'm.db'}", client_key_secret="m")
    try:
        raw = samples.allocation()
        with store.transaction() as tx:
            tx.save_message(raw=raw, verdict="accepted")
            tx.enqueue([OutboxRow(destination="gw.ijw.12345678.jw301", payload=raw),
                        OutboxRow(destination="gw.ijw.12345678.jw301", payload=raw),
                        OutboxRow(destination="stream", payload=raw, party="12345678")])
        app = make_app()
        app.state.components = SimpleNamespace(store=store)
        app.state.in_flight = SimpleNamespace(busy=3)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            body = (await c.get("/metrics")).text
        assert 'gateway_outbox_depth{destination="gw.ijw.12345678.jw301"} 2.0' in body
        assert 'destination="stream"' not in body
        assert 'gateway_queue_depth{queue="in_flight"} 3.0' in body
        [lag] = [line for line in body.splitlines() if line.startswith("gateway_outbox_lag_seconds{")]
        assert 0 <= float(lag.split()[-1]) < 60
    finally:
        store.close()


async def test_the_request_id_is_bound_inside_the_request_only(log_stream):
    """ObserveRequests binds the request id for the lines written while a request is handled and
    puts back what was bound before, also when the app fails."""
    import structlog

    async def app(scope, receive, send):
        obs.get_logger("gateway.test").info("inside")
        if scope["path"] == "/fail":
            raise RuntimeError("boom")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    observe = obs.ObserveRequests(app, obs.Metrics(), access_log=False)

    async def call(path: str, rid: str) -> None:
        scope = {"type": "http", "method": "GET", "path": path, "headers": [(b"x-request-id", rid.encode())]}

        async def send(message):
            pass

        await observe(scope, None, send)

    structlog.contextvars.bind_contextvars(request_id="outer")
    try:
        await call("/ok", "req-1")
        with pytest.raises(RuntimeError):
            await call("/fail", "req-2")
        assert structlog.contextvars.get_contextvars().get("request_id") == "outer"
        assert "correlation_id" not in structlog.contextvars.get_contextvars()
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    inside = [line for line in lines(log_stream) if line["event"] == "inside"]
    assert [(line["request_id"], line["correlation_id"]) for line in inside] == [("req-1", "req-1"),
                                                                                  ("req-2", "req-2")]


def test_a_remembered_metric_child_is_the_one_labels_returns():
    m = obs.Metrics()
    child = m.child(m.messages, "ijw", "JW301", "accepted")
    assert child is m.messages.labels("ijw", "JW301", "accepted")
    assert m.child(m.messages, "ijw", "JW301", "accepted") is child
    assert m.child(m.messages, "ijw", "JW301", "rejected") is not child
    m.record_message("ijw", "JW301", "accepted", 0.01)
    assert m.registry.get_sample_value(
        "gateway_messages_total", {"standard": "ijw", "type": "JW301", "verdict": "accepted"}) == 1.0
