"""Who may send what, topic names, partition keys and correlation ids."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway import clock, samples
from gateway.auth.policy import Party, Refused, check_sender, header_route, may_send
from gateway.catalog import ALL, by_code
from gateway.routing.correlation import correlate
from gateway.routing.plan import partition_key
from gateway.routing.topics import topic_for

SECRET = b"test-secret"


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_role_policy_matches_the_standard(standard):
    prefix = "JW" if standard == "ijw" else "WMO"
    aanbieder = {f"{prefix}{n}" for n in ("305", "307", "315", "317", "323", "302", "320")}
    gemeente = {f"{prefix}{n}" for n in ("301", "319", "325", "306", "308", "316", "318")}
    types = [t for t in ALL if t.standard == standard]
    assert {t.code for t in types if may_send("aanbieder", t)} == aanbieder
    assert {t.code for t in types if may_send("gemeente", t)} == gemeente


def test_retour_sender_is_the_heen_receiver():
    heen = samples.allocation("ijw", gemeente="0599", aanbieder="12345678")
    retour = samples.retour(heen)
    root = etree.fromstring(retour)
    route = header_route(root, by_code("JW302"))
    assert (route.sender, route.receiver) == ("12345678", "0599")
    check_sender(Party("12345678", "aanbieder"), by_code("JW302"), route)
    with pytest.raises(Refused) as exc:
        check_sender(Party("0599", "gemeente"), by_code("JW302"), route)
    assert exc.value.code == "wrong_role"


def test_spoofed_afzender_refused():
    root = etree.fromstring(samples.start("ijw", aanbieder="87654321"))
    route = header_route(root, by_code("JW305"))
    with pytest.raises(Refused) as exc:
        check_sender(Party("12345678", "aanbieder"), by_code("JW305"), route)
    assert exc.value.status == 403 and exc.value.code == "spoofed_sender"
    assert "87654321" in exc.value.reason and "12345678" in exc.value.reason


def test_topic_names():
    assert topic_for("gw", by_code("JW301"), "12345678") == "gw.ijw.12345678.jw301"
    assert topic_for("gw", by_code("WMO325"), "12345678", "json") == "gw.iwmo.12345678.wmo325.json"
    with pytest.raises(ValueError):
        topic_for("gw", by_code("JW301"), "../x")


def test_partition_key_links_a_clients_chain_without_the_bsn():
    bsn = samples.BSNS[5]
    keys = set()
    for code, raw in [
        ("JW301", samples.allocation("ijw", bsn=bsn)),
        ("JW305", samples.start("ijw", bsn=bsn)),
        ("JW307", samples.stop("ijw", bsn=bsn)),
        ("JW323", samples.declaration("ijw", clients={bsn: [samples.Prestatie()]})),
    ]:
        root = etree.fromstring(raw)
        mtype = by_code(code)
        route = header_route(root, mtype)
        key = partition_key(SECRET, mtype, root, route, correlate(root, mtype, SECRET))
        assert bsn not in key
        keys.add(key)
    assert len(keys) == 1
    other = etree.fromstring(samples.start("ijw", bsn=samples.BSNS[6]))
    mtype = by_code("JW305")
    assert partition_key(SECRET, mtype, other, header_route(other, mtype),
                         correlate(other, mtype, SECRET)) not in keys
    # Another secret gives other keys: the key is keyed, not a plain hash of the BSN.
    root = etree.fromstring(samples.start("ijw", bsn=bsn))
    assert partition_key(b"other", mtype, root, header_route(root, mtype),
                         correlate(root, mtype, b"other")) not in keys


def test_correlation_of_a_declaration_answer_names_the_declaration():
    decl = samples.declaration("ijw")
    answer = samples.declaration_answer(decl)
    root = etree.fromstring(answer)
    corr = correlate(root, by_code("JW325"), SECRET)
    decl_root = etree.fromstring(decl)
    ident = decl_root.find(".//{*}BerichtIdentificatie/{*}Identificatie").text
    assert corr.answers == ident
    assert corr.declaratienummer == decl_root.find(".//{*}DeclaratieNummer").text
    assert corr.client_keys == []  # a fully awarded 325 lists no clients (only rejected ones)


def test_json_and_xml_payloads_go_to_their_own_topics(tmp_path):
    import json

    from gateway.routing.plan import message_rows, retour_rows
    from gateway.settings import Settings

    settings = Settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:9", payload_formats=["xml", "json"])
    raw = samples.start("ijw")
    root = etree.fromstring(raw)
    mtype = by_code("JW305")
    route = header_route(root, mtype)
    corr = correlate(root, mtype, SECRET)
    rows = message_rows(settings, SECRET, mtype, root, raw, "MSG1", route, corr)
    assert [r.destination for r in rows] == ["stream", "gw.ijw.0599.jw305", "gw.ijw.0599.jw305.json"]
    assert rows[0].party == "0599" and rows[1].party is None
    assert rows[1].payload == raw
    envelope = json.loads(rows[2].payload)
    assert envelope["type"] == "JW305" and envelope["content"]["Header"]["BerichtCode"] == "438"
    assert envelope["headers"]["message-id"] == "MSG1"  # the typed view: tests/service/test_typed_views.py
    headers = dict(rows[2].headers)
    assert headers["content-type"] == b"application/json" and headers["type"] == b"JW305"
    assert samples.BSNS[0].encode() not in b"".join(v for _, v in rows[1].headers)  # no BSN in headers
    back = retour_rows(settings, SECRET, by_code("JW306"), root, b"<retour/>", "MSG1", route, corr)
    assert [r.destination for r in back] == ["stream", "gw.ijw.12345678.jw306", "gw.ijw.12345678.jw306.json"]
    assert back[0].party == "12345678" and dict(back[1].headers)["message-id"] == b"MSG1-R"
    assert len({r.key for r in rows + back}) == 1  # the retour keeps the client's key


def test_pipeline_judges_dates_in_dutch_time(tmp_path):
    """At 23:30 UTC it is already the next day in the Netherlands: a message dated that Dutch day
    is not "in the future" (TR135)."""
    from datetime import timedelta

    from gateway.auth.policy import Party
    from gateway.pipeline import Pipeline, build_components
    from gateway.settings import Settings

    pipeline = Pipeline(build_components(Settings(data_dir=tmp_path, hmac_secret="x")))
    now = clock.now().replace(hour=23, minute=30, second=0, microsecond=0) - timedelta(days=1)
    dutch_day = (now + timedelta(hours=2)).date()
    xml = samples.request("ijw", dagtekening=dutch_day)
    outcome = pipeline.process(xml, Party(samples.AANBIEDER, "aanbieder"), now)
    assert outcome.verdict == "accepted", outcome.issues
    pipeline.c.store.close()


@pytest.mark.postgres
def test_one_publisher_per_postgres_store(pg_url):
    from gateway.routing.leader import PublisherLease
    from gateway.store import open_store

    a, b = open_store(pg_url, b"x"), open_store(pg_url, b"x")
    first, second = PublisherLease(a), PublisherLease(b)
    try:
        assert first.held() is True
        assert second.held() is False  # another instance is the publisher
        assert first.held() is True  # still held, on its own connection
        first.release()
        assert second.held() is True  # taken over
        assert first.held() is False
    finally:
        first.release()
        second.release()
        a.close()
        b.close()


@pytest.mark.parametrize("code", [t.code for t in ALL])
def test_correlation_lists_keep_document_order(code):
    """correlate walks the tree once per name: each list is in document order and keeps its
    duplicates out, as one walk over both names gave it (with ReferentieAanbieder and
    ToewijzingNummer interleaved here)."""
    root = etree.fromstring(samples.build(code))
    from validators.paths import local_name

    seen = [el for el in root.iter() if isinstance(el.tag, str)]
    for i, el in enumerate(seen[1:6]):  # a few more of each, in between the message's own
        etree.SubElement(el, f"{{{etree.QName(el).namespace}}}ToewijzingNummer").text = f" {i % 2} "
        etree.SubElement(el, f"{{{etree.QName(el).namespace}}}ReferentieAanbieder").text = f"R{i % 3}"
    numbers, refs = [], []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if local_name(el) == "ToewijzingNummer":
            numbers.append((el.text or "").strip())
        elif local_name(el) == "ReferentieAanbieder":
            refs.append((el.text or "").strip())
    corr = correlate(root, by_code(code), SECRET)
    assert corr.toewijzingnummers == list(dict.fromkeys(n for n in numbers if n))
    assert corr.referenties == list(dict.fromkeys(r for r in refs if r))
