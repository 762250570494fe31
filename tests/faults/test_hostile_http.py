"""Hostile and malformed input through the HTTP API of a real `gateway serve` process: each case
gets its documented status and a clear JSON error (no stack trace), the process stays healthy,
nothing is fetched from outside, and its memory stays bounded (RSS measured before and after).

XML-level cases of the parser itself are tested in tests/hostile/ (parser engineer); here the
question is what a sender sees over HTTP and what the server process survives.
"""

from __future__ import annotations

import httpx
import pytest

from testsupport.listener import ConnectionCounter

from . import harness
from .hostile_inputs import (
    CASES,
    MB,
    Case,
    external_dtd,
    make_zip,
    parameter_entity,
    valid_301,
)

# A hostile request may make the server hold its input a few times over for a moment (a 25 MB
# body, a 100 MB batch), but once answered the process must come back below this much above
# where it started; after the warm-up round a second round may add little (no leak per request).
SETTLED_GROWTH = 400 * MB
REPEAT_GROWTH = 48 * MB


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{base / 'gateway.db'}"
    keys = harness.prepare_store(url)
    gw = harness.GatewayProcess(base / "gw", url)
    gw.start()
    gw.keys = keys
    # Warm up (schemas, contract registry, first message) before the baseline is taken.
    r = httpx.post(f"{gw.url}/v1/messages", content=valid_301(), timeout=30,
                   headers={"Authorization": f"Bearer {keys.gemeente}"})
    assert r.status_code == 202, r.text
    gw.baseline_rss = gw.rss()
    yield gw
    gw.stop()


def send(gw, case: Case) -> httpx.Response:  # noqa: ANN001
    body = case.body()
    headers = {"Authorization": f"Bearer {gw.keys.for_sender(case.role)}", "Content-Type": case.content_type}
    try:
        return httpx.post(f"{gw.url}{case.endpoint}", content=body, headers=headers, timeout=120)
    except httpx.WriteError:
        # The server may answer 413 and close before a huge upload ends; the answer is read
        # from a fresh attempt that declares its length (the body is then refused unread).
        if not isinstance(body, bytes):
            raise
        return httpx.post(f"{gw.url}{case.endpoint}", content=body, headers=headers, timeout=120)


def assert_clear_error(r: httpx.Response, case: Case) -> dict:
    assert r.status_code == case.status, f"{case.name}: {r.status_code} {r.text[:300]}"
    assert "Traceback" not in r.text and 'File "' not in r.text, f"{case.name}: trace in answer"
    assert r.headers.get("content-type", "").startswith("application/json"), case.name
    err = r.json()["error"]
    assert err["code"] and err["message"], case.name
    said = f"{err['code']} {err['message']}".lower()
    assert case.expect.lower() in said, f"{case.name}: expected {case.expect!r} in {said!r}"
    return err


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_gets_a_clear_error_and_the_process_stays_healthy(server, case):
    err = assert_clear_error(send(server, case), case)
    assert server.healthy(), f"{case.name}: /healthz failed after the request"
    settled = server.rss()
    assert settled - server.baseline_rss < SETTLED_GROWTH, (
        f"{case.name}: RSS {settled / MB:.0f} MB, started at {server.baseline_rss / MB:.0f} MB")
    assert "etc/passwd" not in err["message"] or "root:" not in err["message"]


def test_repeating_every_case_does_not_grow_memory(server):
    """Round one warms every code path; round two must not add more than REPEAT_GROWTH."""
    for case in CASES:
        send(server, case)
    after_first = server.rss()
    for case in CASES:
        assert_clear_error(send(server, case), case)
    after_second = server.rss()
    assert after_second - after_first < REPEAT_GROWTH, (
        f"RSS grew {(after_second - after_first) / MB:.0f} MB over a second round of hostile input")
    assert server.healthy()


@pytest.mark.parametrize("build", [external_dtd, parameter_entity, lambda u: (
    b'<?xml version="1.0"?>\n<!DOCTYPE B [<!ENTITY x SYSTEM "' + u.encode() + b'">]>\n<B>&x;</B>')],
    ids=["external DTD", "parameter entity", "external entity"])
def test_external_references_are_refused_and_never_fetched(server, build):
    listener = ConnectionCounter()
    try:
        url = f"http://127.0.0.1:{listener.port}/evil.dtd"
        for endpoint, body, ctype in (("/v1/messages", build(url), "application/xml"),
                                      ("/v1/batches", make_zip([("x.xml", build(url))]), "application/zip")):
            r = httpx.post(f"{server.url}{endpoint}", content=body, timeout=30,
                           headers={"Authorization": f"Bearer {server.keys.gemeente}", "Content-Type": ctype})
            if endpoint == "/v1/messages":
                assert_clear_error(r, Case("ext", endpoint, lambda: b"", 422, "DOCTYPE"))
            else:  # the batch is accepted as a zip; its entry is refused like a single message
                assert r.status_code == 200, r.text
                entry = r.json()["entries"][0]
                assert entry["status"] == 422 and "DOCTYPE" in entry["error"]["message"]
    finally:
        listener.close()
    assert listener.connections == 0, "the gateway fetched an external resource"
    assert server.healthy()


def test_hostile_entries_inside_a_valid_zip_are_refused_one_by_one(server):
    """A batch mixing a good message with hostile ones: the good one is accepted, each hostile
    entry gets its own clear refusal, the batch itself is answered 200."""
    from gateway import samples

    from .hostile_inputs import BILLION_LAUGHS, deep

    good = samples.allocation("iwmo", bsn=samples.BSNS[8100], products=(samples.Allocated(toewijzingnummer=880_100),))
    body = make_zip([("good.xml", good), ("laughs.xml", BILLION_LAUGHS), ("deep.xml", deep(150)),
                     ("latin.xml", good.replace(b"</Header>", b"\xe9</Header>", 1))])
    r = httpx.post(f"{server.url}/v1/batches", content=body, timeout=60,
                   headers={"Authorization": f"Bearer {server.keys.gemeente}", "Content-Type": "application/zip"})
    assert r.status_code == 200, r.text
    assert "Traceback" not in r.text
    entries = {e["name"]: e for e in r.json()["entries"]}
    assert entries["good.xml"]["status"] == 202 and entries["good.xml"]["verdict"] == "accepted"
    for name, word in (("laughs.xml", "DOCTYPE"), ("deep.xml", "nested"), ("latin.xml", "UTF-8")):
        assert entries[name]["status"] == 422, entries[name]
        assert word.lower() in entries[name]["error"]["message"].lower(), entries[name]
    assert server.healthy()


def test_no_bsn_in_the_log_after_hostile_input(server):
    from gateway import samples

    log = server.log_text()
    assert samples.BSNS[8000] not in log and samples.BSNS[8100] not in log
