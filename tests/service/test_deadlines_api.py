"""Deadlines through the service: a 315 left unanswered over Koningsdag becomes due soon, then
overdue (listed, counted in the metric, announced once on the municipality's stream); the late
answer closes it."""

from __future__ import annotations

import json

from gateway import clock, samples
from gateway.samples import Requested

from .conftest import AANBIEDER, GEMEENTE

OBLIGATION = "antwoord-verzoek-om-toewijzing"
REF = "VOT-KONINGSDAG-1"


def _get(client, key, **params):
    r = client.get("/v1/deadlines", params=params, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    return r.json()


def test_an_unanswered_request_goes_due_soon_then_overdue(app, client, keys):
    with clock.fixed("2026-04-23T10:00:00+02:00"):  # Thursday
        r = client.post("/v1/messages", content=samples.request("ijw", products=[Requested(referentie_aanbieder=REF)]), headers={"X-API-Key": keys.aanbieder})
        assert r.status_code == 202, r.text
        request_id = r.json()["message_id"]

    with clock.fixed("2026-04-30T10:00:00+02:00"):  # due Friday 1 May: Koningsdag does not count
        page = _get(client, keys.gemeente)
        [item] = [i for i in page["items"] if i["obligation"] == OBLIGATION]
        assert (item["state"], item["due"], item["message_id"], item["op"]) == ("due_soon", "2026-05-01", request_id, "OP274")
        assert (item["party"], item["counterparty"]) == (GEMEENTE, AANBIEDER)
        # The provider sees what it is owed, and owes nothing itself (the gateway sent the retour).
        assert [i["obligation"] for i in _get(client, keys.aanbieder, role="counterparty")["items"]] == [OBLIGATION]
        assert _get(client, keys.aanbieder)["items"] == []

    with clock.fixed("2026-05-04T10:00:00+02:00"):  # Monday: overdue
        [item] = _get(client, keys.gemeente)["items"]
        assert item["state"] == "overdue"
        events = [e for e in _stream(client, keys.gemeente) if e["type"] == "obligation.overdue"]
        assert len(events) == 1 and json.loads(events[0]["xml"])["obligation"] == OBLIGATION
        metrics = client.get("/metrics").text
        assert f'gateway_obligations{{obligation="{OBLIGATION}",state="overdue"}} 1.0' in metrics
        # A second scan does not announce it again.
        app.state.deadline_refresher.min_interval = 0
        _get(client, keys.gemeente)
        assert len([e for e in _stream(client, keys.gemeente) if e["type"] == "obligation.overdue"]) == 1

        r = client.post("/v1/messages", content=samples.answer("ijw", referentie_aanbieder=REF), headers={"X-API-Key": keys.gemeente})
        assert r.status_code == 202, r.text
        assert _get(client, keys.gemeente)["items"] == []
        [late] = _get(client, keys.gemeente, state="late")["items"]
        assert (late["obligation"], late["closed_by"], late["closed"]) == (OBLIGATION, r.json()["message_id"], "2026-05-04")
        # The answer was "in onderzoek": now a decision is due within eight weeks (OP274).
        [decide] = _get(client, keys.gemeente, state="open")["items"]
        assert (decide["obligation"], decide["due"], decide["message_id"]) == (
            "besluit-na-onderzoek", "2026-06-29", r.json()["message_id"])


def _stream(client, key):
    r = client.get(f"/v1/streams/{GEMEENTE}", params={"after": 0}, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_unknown_obligation_is_a_clear_error(client, keys):
    r = client.get("/v1/deadlines", params={"obligation": "nope"}, headers={"X-API-Key": keys.gemeente})
    assert r.status_code == 400 and "GET /v1/deadlines/obligations" in r.text


def test_the_obligations_are_published_with_their_source(client):
    items = client.get("/v1/deadlines/obligations").json()
    stop = next(i for i in items if i["id"] == "stopbericht")
    assert stop["op"] == "OP272" and "tijdelijke stop" in stop["source"]["quote"]


def test_the_service_announces_an_overdue_obligation_without_being_asked(tmp_path, contracts):
    """The timer scan: nobody reads the deadline list, the overdue event still reaches the stream."""
    import time

    from fastapi.testclient import TestClient

    from .conftest import make_app, make_settings, setup_parties

    app = make_app(make_settings(tmp_path, deadline_scan_seconds=0.1), contracts)
    keys = setup_parties(app)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            with clock.fixed("2026-04-23T10:00:00+02:00"):
                xml = samples.request("ijw", products=[Requested(referentie_aanbieder="VOT-TIMER-1")])
                assert client.post("/v1/messages", content=xml, headers={"X-API-Key": keys.aanbieder}).status_code == 202
            with clock.fixed("2026-05-04T10:00:00+02:00"):
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    events = [e for e in _stream(client, keys.gemeente) if e["type"] == "obligation.overdue"]
                    if events:
                        break
                    time.sleep(0.1)
                assert len(events) == 1
    finally:
        app.state.components.store.close()
