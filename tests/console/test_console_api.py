"""The console's JSON API: login and roles, the log filters, detail, actions and their audit."""

from __future__ import annotations

import json

import httpx
import pytest
from console_helpers import PASSWORD, login

from gateway import observability
from gateway.console import users
from gateway.samples import BSNS


async def test_login_required_and_wrong_password_refused(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        assert (await c.get("/console/api/messages")).status_code == 401
        r = await c.post("/console/api/login", json={"username": "otto", "password": "wrong password!"})
        assert r.status_code == 401
        r = await c.post("/console/api/login", json={"username": "nobody", "password": PASSWORD})
        assert r.status_code == 401
        # a forged cookie is not a session
        c.cookies.set("gw_console", "eyJ1IjoiYWRhIiwiciI6ImFkbWluIn0.9999999999.deadbeef", path="/console")
        assert (await c.get("/console/api/me")).json()["user"] is None


async def test_log_lists_newest_first_with_keyset_pages(app, seeded):
    c = await login(app, "vera")
    seen, cursor = [], None
    while True:
        r = await c.get("/console/api/messages", params={"limit": 4, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200
        page = r.json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    ids = [m["id"] for m in seen]
    assert len(ids) == len(set(ids)) == len(seeded.all_ids) + 1  # + the transport rejection
    stamps = [(m["received_at"], m["id"]) for m in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert all(m["bsn"] is None or m["bsn"].startswith("******") for m in seen)
    body = json.dumps(seen)
    assert not any(b in body for b in BSNS)


@pytest.mark.parametrize(
    "params, check",
    [
        ({"code": "JW323", "verdict": "rejected"}, lambda m: m["code"] == "JW323" and m["verdict"] == "rejected"),
        ({"rule": "TR341"}, lambda m: "TR341" in m["rules"]),
        ({"contract_rule": "CR001"}, lambda m: "CR001" in m["rules"]),
        ({"sender": "23456789"}, lambda m: m["sender"] == "23456789"),
        ({"receiver": "34567890"}, lambda m: m["receiver"] == "34567890"),
        ({"standard": "ijw", "code": "JW301"}, lambda m: m["code"] == "JW301"),
        ({"verdict": "transport_rejected"}, lambda m: m["code"] is None),
    ],
)
async def test_log_filters(app, params, check):
    c = await login(app, "vera")
    items = (await c.get("/console/api/messages", params=params)).json()["items"]
    assert items and all(check(m) for m in items)


async def test_filter_by_chain_free_text_and_time(app, seeded_store):
    store, seeded = seeded_store
    c = await login(app, "vera")
    target = store.get_message(seeded.rejected_declarations[0])
    key = store.client_key(target.raw.decode().split("<Bsn>")[1].split("<")[0])
    chain = (await c.get("/console/api/messages", params={"client_key": key})).json()["items"]
    assert {m["code"] for m in chain} >= {"JW301", "JW305", "JW323", "JW325"}
    # single-client messages by key; declarations and their answers through the state tables
    assert all(m["client_key"] == key for m in chain if m["code"] not in ("JW323", "JW325"))
    by_ident = (await c.get("/console/api/messages", params={"q": target.identificatie})).json()["items"]
    assert [m["id"] for m in by_ident] == [target.id]
    by_id = (await c.get("/console/api/messages", params={"q": target.id})).json()["items"]
    assert [m["id"] for m in by_id] == [target.id]
    window = {"since": target.received_at.isoformat(), "until": target.received_at.isoformat()}
    assert (await c.get("/console/api/messages", params=window)).json()["items"] == []
    r = await c.get("/console/api/messages", params={"cursor": "garbage!"})
    assert r.status_code == 400
    r = await c.get("/console/api/messages", params={"limit": 100000})
    assert r.status_code == 400 and "limit" in r.json()["detail"]


async def test_detail_highlights_issue_lines_and_masks_bsn(app, seeded_store):
    store, seeded = seeded_store
    mid = seeded.rejected_declarations[0]
    c = await login(app, "vera")
    d = (await c.get(f"/console/api/messages/{mid}")).json()
    lines = d["xml"].splitlines()
    by_rule = {i["rule"]: i for i in d["issues"]}
    assert by_rule["TR341"]["path"].endswith("Prestatie[2]/Eenheid")
    assert by_rule["TR341"]["locations"] == [by_rule["TR341"]["path"]]  # an issue with one place
    eenheid_line = lines[by_rule["TR341"]["line"] - 1]
    assert eenheid_line.strip() == "<Eenheid>14</Eenheid>"
    tw_line = lines[by_rule["CR001"]["line"] - 1]
    assert "<ToewijzingNummer>" in tw_line
    assert d["highlight"] == sorted({by_rule["TR341"]["line"], by_rule["CR001"]["line"]})
    # the first Prestatie's Eenheid (04) is not highlighted
    first_eenheid = next(n for n, l in enumerate(lines, 1) if l.strip() == "<Eenheid>04</Eenheid>")
    assert first_eenheid not in d["highlight"]
    everything = json.dumps(d)
    assert not any(b in everything for b in BSNS), "a BSN in clear in the detail"
    assert "<Bsn>******" in d["xml"]
    assert "******" in by_rule["TR341"]["text"]
    assert d["retour"] and "<" in d["retour"]
    codes = [m["code"] for m in d["chain"]]
    assert codes[:2] == ["JW301", "JW305"] and mid in [m["id"] for m in d["chain"]]
    # the client's accepted and partly rejected declarations are found through their prestaties,
    # the gemeente's 325 answering the accepted one through its DeclaratieIdentificatie
    assert codes.count("JW323") == 3 and codes.count("JW325") == 1
    assert d["revealed"] is False


async def test_reveal_needs_role_and_is_audited_first(app, seeded_store):
    store, seeded = seeded_store
    mid = seeded.rejected_declarations[0]
    op = await login(app, "otto")
    r = await op.post(f"/console/api/messages/{mid}/reveal", json={"reason": "client called"})
    assert r.status_code == 403
    pim = await login(app, "pim")
    r = await pim.post(f"/console/api/messages/{mid}/reveal", json={"reason": ""})
    assert r.status_code == 400  # no reason, no view
    r = await pim.post(f"/console/api/messages/{mid}/reveal", json={"reason": "complaint 2026-17"})
    assert r.status_code == 200
    bsn = store.get_message(mid).raw.decode().split("<Bsn>")[1].split("<")[0]
    assert f"<Bsn>{bsn}</Bsn>" in r.json()["xml"]
    entries = store.list_audit(action="reveal_bsn")
    assert [(e.actor, e.target, e.reason) for e in entries] == [("pim", mid, "complaint 2026-17")]


async def test_viewer_cannot_act(app, seeded):
    c = await login(app, "vera")
    mid = seeded.rejected_declarations[0]
    for action, body in (("replay", {"reason": "x" * 5}), ("dead-letter", {"dead": True, "reason": "stuck"}),
                         ("republish", {"destination": "t", "reason": "again"})):
        assert (await c.post(f"/console/api/messages/{mid}/{action}", json=body)).status_code == 403


async def test_actions_need_json(app, seeded):
    c = await login(app, "otto")
    mid = seeded.rejected_declarations[0]
    r = await c.post(f"/console/api/messages/{mid}/dead-letter", data={"dead": "true", "reason": "form post"})
    assert r.status_code == 415


async def test_replay_calls_pipeline_and_audits(app, seeded_store):
    store, seeded = seeded_store
    mid = seeded.rejected_declarations[1]
    c = await login(app, "otto")
    r = await c.post(f"/console/api/messages/{mid}/replay", json={"reason": "rules fixed in 1.2"})
    assert r.status_code == 200, r.text
    out = r.json()
    replayer = app.state.console.replayer
    assert replayer.calls == [(mid, {"actor": "otto", "reason": "rules fixed in 1.2"})]
    assert store.get_message(out["new_message_id"]).replay_of == mid
    [entry] = store.list_audit(action="replay")
    assert (entry.actor, entry.target, entry.reason) == ("otto", mid, "rules fixed in 1.2")
    assert entry.details["new_message_id"] == out["new_message_id"]
    d = (await c.get(f"/console/api/messages/{mid}")).json()
    assert [m["id"] for m in d["replays"]] == [out["new_message_id"]]
    assert d["audit"][0]["action"] == "replay"


async def test_replay_through_the_real_replay_is_audited(seeded_store):
    from console_helpers import make_app

    store, seeded = seeded_store
    app = make_app(store, replayer=None)  # found: gateway.pipeline's replay, else `gateway replay`'s
    c = await login(app, "otto")
    mid = seeded.rejected_declarations[0]
    r = await c.post(f"/console/api/messages/{mid}/replay", json={"reason": "bundle 2026-2 loaded"})
    assert r.status_code == 200, r.text
    out = r.json()
    replayed = store.get_message(out["new_message_id"])
    assert replayed.replay_of == mid and replayed.transport == "replay"
    assert out["verdict"] == replayed.verdict
    console_entries = [e for e in store.list_audit(action="replay") if e.actor == "otto"]
    assert [(e.target, e.reason, e.details["new_message_id"]) for e in console_entries] == [
        (mid, "bundle 2026-2 loaded", replayed.id)]


async def test_replay_of_unknown_message_is_404(app):
    c = await login(app, "otto")
    r = await c.post("/console/api/messages/NOPE/replay", json={"reason": "why not"})
    assert r.status_code == 404


async def test_dead_letter_round_trip_and_republish(app, seeded_store):
    store, seeded = seeded_store
    c = await login(app, "ada")
    mid = next(m for m in seeded.accepted if store.outbox_for(m) and store.outbox_for(m)[0].published_at is None)
    r = await c.post(f"/console/api/messages/{mid}/dead-letter", json={"dead": True, "reason": "receiver gone"})
    assert r.status_code == 200
    assert store.get_message(mid).dead_letter is True
    assert all(o.id not in {x.id for x in store.claim_outbox(100)} for o in store.outbox_for(mid))
    again = await c.post(f"/console/api/messages/{mid}/dead-letter", json={"dead": True, "reason": "twice"})
    assert again.status_code == 409
    assert (await c.get("/console/api/messages", params={"dead_letter": "true"})).json()["items"][0]["id"] == mid
    r = await c.post(f"/console/api/messages/{mid}/dead-letter", json={"dead": False, "reason": "receiver back"})
    assert r.status_code == 200 and store.get_message(mid).dead_letter is False
    r = await c.post(f"/console/api/messages/{mid}/republish",
                     json={"destination": "gw.ijw.0599.jw305.replay", "reason": "lost downstream"})
    assert r.status_code == 200
    rows = store.outbox_for(mid)
    assert rows[-1].destination == "gw.ijw.0599.jw305.replay" and rows[-1].payload == rows[0].payload
    actions = [(e.action, e.actor) for e in store.list_audit()][:3]
    assert actions == [("republish", "ada"), ("undead_letter", "ada"), ("dead_letter", "ada")]
    r = await c.post("/console/api/messages/NOPE/republish", json={"destination": "x", "reason": "why not"})
    assert r.status_code == 404


async def test_proxy_header_login(seeded_store):
    from console_helpers import make_app

    from gateway.console.settings import ConsoleSettings

    store, seeded = seeded_store
    app = make_app(store, settings=ConsoleSettings(session_secret="s" * 32, trusted_user_header="X-Forwarded-User",
                                                    trusted_role_header="X-Forwarded-Role"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        me = await c.get("/console/api/me", headers={"X-Forwarded-User": "sso.jan", "X-Forwarded-Role": "operator"})
        assert me.json()["user"] == "sso.jan" and me.json()["role"] == "operator"
        odd = await c.get("/console/api/me", headers={"X-Forwarded-User": "x", "X-Forwarded-Role": "superuser"})
        assert odd.json()["role"] == "viewer"
        assert (await c.get("/console/api/me")).json()["user"] is None


async def test_dashboard_figures(app, seeded_store):
    store, seeded = seeded_store
    c = await login(app, "vera")
    d = (await c.get("/console/api/dashboard", params={"hours": 24})).json()
    total = sum(r["n"] for r in d["per_hour"])
    assert total == len(seeded.all_ids) + 1
    assert {r["rule"] for r in d["top_rules"]} >= {"TR341", "CR001"}
    rates = {r["provider"]: r for r in d["rejection_rate"]}
    assert rates["12345678"]["rejected"] == 1 and 0 < rates["12345678"]["rate"] < 1
    assert {r["provider"] for r in d["waiting_times"]} == {"12345678", "23456789", "34567890"}
    assert d["care_durations"] and all(r["n"] >= 1 for r in d["care_durations"])
    silent = {r["provider"] for r in d["silent_providers"]}
    assert silent == {"45678901"}
    budget = {r["provider"]: r for r in d["budget"]}
    assert budget["23456789"]["ceiling_cents"] == 50_00
    assert budget["23456789"]["used"] > 1  # declared more than the tiny test ceiling
    assert any(r["waiting"] >= 1 for r in d["outbox_lag"])
    latency = {r["code"]: r for r in d["retour_latency"]}
    n = seeded.clients
    assert latency["JW301"]["answered_by"] == "JW302" and latency["JW301"]["n"] == n
    assert latency["JW301"]["median"] >= 3 * 60 and latency["JW301"]["max"] == (3 + 4 * (n - 1)) * 60
    assert latency["JW323"]["answered_by"] == "JW325" and latency["JW323"]["n"] == n


async def test_pages_and_static_served_with_csp(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        page = await c.get("/console/")
        assert page.status_code == 200 and "app.js" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert (await c.get("/console/static/app.js")).status_code == 200
        assert (await c.get("/console/static/..%2Fapi.py")).status_code == 404
        assert (await c.get("/console/static/nothing.js")).status_code == 404


async def test_console_actions_log_lines_carry_no_bsn(app, seeded):
    import io
    import logging

    stream = io.StringIO()
    handler = observability.configure_logging("INFO", stream=stream)
    try:
        c = await login(app, "ada")
        for mid in seeded.rejected_declarations:
            await c.get(f"/console/api/messages/{mid}")
            await c.post(f"/console/api/messages/{mid}/reveal", json={"reason": "audit check"})
    finally:
        logging.getLogger().removeHandler(handler)
    out = stream.getvalue()
    assert "bsn_revealed" in out and "http_request" in out
    assert observability.find_bsns(out) == []


async def test_role_change_and_disable_apply_to_open_sessions(app, seeded_store):
    store, seeded = seeded_store
    c = await login(app, "otto")
    mid = seeded.rejected_declarations[0]
    users.set_role(store, "otto", "viewer")
    r = await c.post(f"/console/api/messages/{mid}/dead-letter", json={"dead": True, "reason": "stuck here"})
    assert r.status_code == 403
    users.disable(store, "otto")
    assert (await c.get("/console/api/messages")).status_code == 401


async def test_console_in_the_service_app(tmp_path):
    from gateway.pipeline import build_components
    from gateway.service import create_app
    from gateway.settings import Settings

    settings = Settings(data_dir=tmp_path, hmac_secret="console-in-service")
    app = create_app(settings, components=build_components(settings))
    store = app.state.components.store
    try:
        users.add_user(store, "ops", PASSWORD, "operator")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            assert (await c.get("/console/")).status_code == 200
            assert (await c.post("/console/api/login", json={"username": "ops", "password": PASSWORD})).status_code == 200
            assert (await c.get("/console/api/messages")).json() == {"items": [], "next_cursor": None}
            assert (await c.get("/console/api/dashboard")).status_code == 200
            assert (await c.get("/healthz")).json() == {"status": "ok"}
            assert (await c.get("/readyz")).status_code == 200
            assert "gateway_http_request_seconds" in (await c.get("/metrics")).text
    finally:
        store.close()


async def test_facets_offer_the_registered_parties(app):
    c = await login(app, "vera")
    f = (await c.get("/console/api/facets")).json()
    assert {p["party_id"] for p in f["parties"]} >= {"0599", "12345678", "45678901"}
    assert "WMO325" in f["codes"]


async def test_detail_lists_every_location_of_an_issue(app, seeded_store):
    from gateway import samples
    from validators.issues import Issue

    store, _ = seeded_store
    locs = ["/Bericht/Client/Geboortedatum/Datum", "/Bericht/Client/Geboortedatum/DatumGebruik"]
    with store.transaction() as tx:
        mid = tx.save_message(raw=samples.allocation("ijw"), verdict="rejected", transport="http",
                              issues=[Issue(rule="CS139", path=locs[0], locations=locs, text="x")],
                              sender="0513", receiver="12345678", identificatie="LOC1")
    c = await login(app, "vera")
    d = (await c.get(f"/console/api/messages/{mid}")).json()
    [issue] = d["issues"]
    assert issue["path"] == locs[0] and issue["locations"] == locs


async def test_a_refused_soap_delivery_is_sent_again_from_the_console(app, seeded_store):
    """A Fo03 parks only that SOAP row (routing_state delivery_failed, no dead letter); the console's
    'Send the refused delivery again' (dead-letter action, dead false) makes it claimable again."""
    from gateway.store import ggk as gstore

    store, seeded = seeded_store
    c = await login(app, "ada")
    mid = next(m for m in seeded.accepted if any(o.destination != "stream" and o.published_at is None
                                                 for o in store.outbox_for(m)))
    row = next(o for o in store.outbox_for(mid) if o.destination != "stream" and o.published_at is None)
    gstore.refused(store, row.id, "Fo03 IB210: Ontvangende organisatie onbekend")
    record = store.get_message(mid)
    assert not record.dead_letter and record.routing_state == "delivery_failed"
    assert row.id not in {x.id for x in store.claim_outbox(100, 0.01)}
    listed = (await c.get("/console/api/messages", params={"q": mid})).json()["items"]
    assert next(m for m in listed if m["id"] == mid)["routing_state"] == "delivery_failed"
    r = await c.post(f"/console/api/messages/{mid}/dead-letter", json={"dead": False, "reason": "adapter fixed"})
    assert r.status_code == 200, r.text
    assert store.get_message(mid).routing_state == "pending"
    assert row.id in {x.id for x in store.claim_outbox(100)}
    again = await c.post(f"/console/api/messages/{mid}/dead-letter", json={"dead": False, "reason": "twice"})
    assert again.status_code == 409


async def test_an_outbox_error_is_shown_without_a_bsn(app, seeded_store):
    """An outbox row's last error is an exception's text (a broker's, a party's SOAP fault), shown
    in the message's detail: a BSN in it is masked, a database error's row values cut."""
    from gateway import samples

    store, seeded = seeded_store
    bsn = samples.BSNS[91]
    mid = next(m for m in seeded.accepted if store.outbox_for(m))
    store.mark_failed(store.outbox_for(mid)[0].id,
                      f"Fault: client {bsn} unknown\nDETAIL:  Key (ref)=(jansen) already exists.")
    c = await login(app, "otto")
    d = (await c.get(f"/console/api/messages/{mid}")).json()
    error = d["outbox"][0]["last_error"]
    assert bsn not in error and "******" + bsn[-3:] in error and "jansen" not in error, error
