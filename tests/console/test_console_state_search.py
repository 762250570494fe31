"""Log search through the cross-message state: a client's declarations and their answers, free
text on ToewijzingNummer / DeclaratieNummer, partly rejected declarations, and the day indicators
of the dashboard computed by the database (no row cap)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from console_helpers import login
from lxml import etree
from sqlalchemy import insert, select

from benchmarks import loadgen
from gateway import clock
from gateway.console import dashboards, queries
from gateway.store import tables as t


def _text(raw: bytes, local: str) -> str:
    root = etree.fromstring(raw)
    return next(e.text for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == local)


def _client_zero(store, seeded):
    """Client 0: allocation 2000, start, stop, an accepted and a partly rejected declaration, a
    325 from the gemeente answering the accepted one, and a rejected declaration (no state)."""
    target = store.get_message(seeded.rejected_declarations[0])
    bsn = _text(target.raw, "Bsn")
    return store.client_key(bsn)


async def _all_pages(c, params, limit=2):
    items, cursor = [], None
    while True:
        p = dict(params, limit=limit) | ({"cursor": cursor} if cursor else {})
        r = (await c.get("/console/api/messages", params=p)).json()
        items += r["items"]
        cursor = r["next_cursor"]
        if not cursor:
            return items


async def test_client_chain_filter_finds_declarations_and_answers(app, seeded_store):
    store, seeded = seeded_store
    key = _client_zero(store, seeded)
    c = await login(app, "vera")
    items = await _all_pages(c, {"client_key": key})
    ids = [m["id"] for m in items]
    assert len(ids) == len(set(ids)), "a message twice across pages"
    codes = sorted(m["code"] for m in items)
    # 301, 302-less (retours have no client), 305, 307, two accepted 323s, the gemeente's 325
    assert codes == ["JW301", "JW305", "JW307", "JW323", "JW323", "JW325"], codes
    assert seeded.partly_rejected[0] in ids
    # newest first across the keyset pages
    assert [m["received_at"] for m in items] == sorted((m["received_at"] for m in items), reverse=True)
    # another client's declaration is not in this chain
    other = _client_of(store, seeded, 1)
    assert other != key
    other_ids = {m["id"] for m in await _all_pages(c, {"client_key": other}, limit=50)}
    assert not (other_ids & set(ids))
    # the other filters still apply to the declarations found through the state
    only = (await c.get("/console/api/messages", params={"client_key": key, "code": "JW325"})).json()["items"]
    assert [m["code"] for m in only] == ["JW325"]


def _client_of(store, seeded, i):
    with store.engine.connect() as conn:
        return conn.execute(
            select(t.messages.c.client_key).where(t.messages.c.code == "JW301").order_by(t.messages.c.received_at)
            .offset(i).limit(1)
        ).scalar_one()


async def test_detail_chain_of_declaration_and_of_its_answer(app, seeded_store):
    store, seeded = seeded_store
    c = await login(app, "vera")
    key = _client_zero(store, seeded)
    chain = (await c.get("/console/api/messages", params={"client_key": key, "code": "JW325"})).json()["items"]
    answer_id = chain[0]["id"]
    answer = (await c.get(f"/console/api/messages/{answer_id}")).json()
    codes = [m["code"] for m in answer["chain"]]
    # the 325 accepted everything and names no client: its declaration's client is the chain
    assert codes[:2] == ["JW301", "JW305"] and "JW323" in codes and answer_id in [m["id"] for m in answer["chain"]]
    decl = next(m for m in answer["chain"] if m["code"] == "JW323" and m["id"] not in seeded.partly_rejected)
    d = (await c.get(f"/console/api/messages/{decl['id']}")).json()
    assert answer_id in [m["id"] for m in d["chain"]]


async def test_free_text_finds_toewijzingnummer_and_declaratienummer(app, seeded_store):
    store, seeded = seeded_store
    c = await login(app, "vera")
    key = _client_zero(store, seeded)
    found = await _all_pages(c, {"q": "2000"}, limit=50)
    codes = sorted(m["code"] for m in found)
    # the allocation, start, stop of number 2000, the accepted declarations on it and the answer;
    # the rejected declaration left no state and is not found by its number
    assert codes == ["JW301", "JW305", "JW307", "JW323", "JW323", "JW325"], codes
    assert all(m["client_key"] in (key, None) for m in found)
    assert seeded.rejected_declarations[0] not in {m["id"] for m in found}
    decl = next(m for m in found if m["code"] == "JW323" and m["id"] not in seeded.partly_rejected)
    nummer = _text(store.get_message(decl["id"]).raw, "DeclaratieNummer")
    by_nummer = (await c.get("/console/api/messages", params={"q": nummer})).json()["items"]
    assert sorted(m["code"] for m in by_nummer) == ["JW323", "JW325"]
    assert decl["id"] in {m["id"] for m in by_nummer}
    # the standard filter narrows the number lookups: 2000 is an iJw number
    assert (await c.get("/console/api/messages", params={"q": "2000", "standard": "iwmo"})).json()["items"] == []
    assert (await c.get("/console/api/messages", params={"q": "no-such-number"})).json()["items"] == []


async def test_partly_rejected_declaration_is_marked_and_filterable(app, seeded_store):
    store, seeded = seeded_store
    c = await login(app, "vera")
    part = seeded.partly_rejected[0]
    found = (await c.get("/console/api/messages", params={"verdict": "partly_rejected"})).json()["items"]
    assert [m["id"] for m in found] == [part]
    assert found[0]["verdict"] == "accepted" and found[0]["partly_rejected"] is True
    accepted = (await c.get("/console/api/messages", params={"verdict": "accepted", "code": "JW323"})).json()["items"]
    assert {m["id"]: m["partly_rejected"] for m in accepted}[part] is True
    assert sum(m["partly_rejected"] for m in accepted) == 1
    # combined with the other filters (type, standard, rule-driven scan)
    for extra, expected in (({"code": "JW323"}, [part]), ({"code": "JW301"}, []), ({"standard": "iwmo"}, []),
                            ({"standard": "ijw"}, [part]), ({"rule": "TR341"}, [part]), ({"rule": "CR001"}, [])):
        got = (await c.get("/console/api/messages", params={"verdict": "partly_rejected", **extra})).json()["items"]
        assert [m["id"] for m in got] == expected, extra
    d = (await c.get(f"/console/api/messages/{part}")).json()
    assert d["message"]["partly_rejected"] is True
    assert d["prestaties"] == {"total": 2, "rejected": 1}
    # a wholly rejected declaration is rejected, not "partly"
    rej = (await c.get(f"/console/api/messages/{seeded.rejected_declarations[0]}")).json()
    assert rej["message"]["partly_rejected"] is False and rej["prestaties"] is None


async def test_gemeente_325_refusing_a_prestatie_marks_the_declaration(app, seeded_store):
    """A 325 from the gemeente that echoes a prestatie rejects it in the state: the detail of the
    (accepted) declaration then says partly rejected."""
    from gateway import samples
    from gateway.catalog import by_code

    store, seeded = seeded_store
    c = await login(app, "vera")
    key = _client_zero(store, seeded)
    decl = next(m for m in await _all_pages(c, {"client_key": key, "code": "JW323"}, limit=50)
                if m["id"] not in seeded.partly_rejected)
    raw = store.get_message(decl["id"]).raw
    ref = _text(raw, "ReferentieNummer")
    answer = samples.declaration_answer(raw, rejected={ref: ["0200"]})
    root = etree.fromstring(answer)
    with store.transaction() as tx:
        tx.save_message(raw=answer, verdict="accepted", mtype=by_code("JW325"), root=root)
        tx.apply_state(by_code("JW325"), root, accepted=True)
    d = (await c.get(f"/console/api/messages/{decl['id']}")).json()
    assert d["prestaties"] == {"total": 1, "rejected": 1}
    assert d["message"]["partly_rejected"] is True


@pytest.mark.parametrize("params", [
    {"client_key": "KEY"}, {"q": "2000"}, {"verdict": "partly_rejected"},
])
def test_state_lookups_use_indexes_on_sqlite(seeded_store, params):
    """Every statement the log runs for these filters, EXPLAINed: no full scan of the messages or
    the state tables (the million-row test repeats this on PostgreSQL)."""
    store, seeded = seeded_store
    if params.get("client_key"):
        params = {"client_key": _client_zero(store, seeded)}
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    scans = loadgen.scans_of_executed(store.engine, lambda conn: queries.list_messages(conn, queries.LogFilter(**params)))
    assert scans == [], scans


def test_day_indicators_count_every_row(seeded_store):
    """Waiting time and duration come from SQL aggregates over all rows: more rows than the
    former 50,000 cap are all counted, and median/p90/max match the values computed in Python."""
    store, _ = seeded_store
    a, s, st = t.allocations, t.starts, t.stops
    some_message = store.list_messages(limit=1).items[0].id
    provider = "99999999"
    waits = [(i % 40) for i in range(60_000)]  # days from Toewijzingsdatum to Begindatum
    base = date(2026, 1, 1)
    allocs, starts, stops = [], [], []
    for i, wait in enumerate(waits):
        common = dict(message_id=some_message, law="jeugd", gemeente="0599", aanbieder=provider,
                      client_key=f"k{i}", toewijzingnummer=f"N{i}")
        allocs.append(common | dict(ingangsdatum=base, toewijzingsdatum=base))
        starts.append(common | dict(categorie="45", code="45A48", begindatum=base + timedelta(days=wait),
                                    status="active", actual=False))
        if i % 3 == 0:
            stops.append(common | dict(categorie="45", code="45A48", begindatum=base + timedelta(days=wait),
                                       reden_beeindiging="02", einddatum=base + timedelta(days=wait + i % 100),
                                       status="active"))
    with store.engine.begin() as conn:
        conn.execute(insert(a), allocs)
        conn.execute(insert(s), starts)
        conn.execute(insert(st), stops)
    with store.engine.connect() as conn:
        waiting = {r["provider"]: r for r in dashboards.waiting_times(conn)}[provider]
        durations = {r["provider"]: r for r in dashboards.care_durations(conn)}[provider]
    assert waiting == {"provider": provider, "n": len(waits), **dashboards._spread([float(w) for w in waits])}
    lengths = [float(i % 100) for i in range(0, len(waits), 3)]
    assert durations == {"provider": provider, "n": len(lengths), **dashboards._spread(lengths)}


def test_weighted_spread_matches_the_plain_one():
    values = [0, 0, 3, 5, 5, 5, 9, 12, 40, 41, 41]
    for n in range(1, len(values) + 1):
        part = values[:n]
        counts: dict[int, int] = {}
        for v in part:
            counts[v] = counts.get(v, 0) + 1
        assert dashboards._weighted_spread(counts, n) == dashboards._spread([float(v) for v in part]), part


def test_retour_latency_says_when_it_read_a_sample(seeded_store, monkeypatch):

    store, _ = seeded_store
    now = clock.now()
    with store.engine.connect() as conn:
        full = dashboards.dashboard(conn, hours=24, now=now)
        assert full["retour_latency_sample"] is None and full["retour_latency"]
        monkeypatch.setattr(dashboards, "RETOUR_CAP", 2)
        capped = dashboards.dashboard(conn, hours=24, now=now)
    assert capped["retour_latency_sample"] == 2
    assert sum(r["n"] for r in capped["retour_latency"]) <= 2 < sum(r["n"] for r in full["retour_latency"])
