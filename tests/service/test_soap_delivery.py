"""Envelopes out to a party's SOAP endpoint (issue 17 item 3): delivered with zeep (the client built
from our OntvangAsynchroon WSDL) to a real SOAP peer on a loopback port (testsupport.soap_peer),
retried with back-off until Bv03, a Fo03 a dead letter, nothing twice, resumed after a restart."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from lxml import etree

pytest.importorskip("zeep")

from gateway import clock, ggk, samples  # noqa: E402
from gateway.auth.policy import Party  # noqa: E402
from gateway.ggk.model import NS_STUF  # noqa: E402
from gateway.routing.soap_delivery import SoapDelivery  # noqa: E402
from gateway.store import ggk as gstore  # noqa: E402
from gateway.store.store import SOAP, STREAM  # noqa: E402
from testsupport.services import free_port  # noqa: E402
from testsupport.soap_peer import SoapPeer  # noqa: E402

from .conftest import live, make_app, make_settings, setup_parties  # noqa: E402

GEMEENTE, AANBIEDER = samples.GEMEENTE, samples.AANBIEDER
GEM = Party(GEMEENTE, "gemeente", "")
AAN = Party(AANBIEDER, "aanbieder", "")


def settings(tmp_path, **kw):  # noqa: ANN001, ANN201
    values = dict(ggk_soap_delivery=False, ggk_soap_retry_seconds=0.2, ggk_soap_retry_max_seconds=0.4,
                  ggk_soap_timeout_seconds=2.0, party_cache_seconds=0.5)
    return make_settings(tmp_path, **(values | kw))


@pytest.fixture
def gw(tmp_path, contracts, store_url):
    """On SQLite and PostgreSQL."""
    app = make_app(settings(tmp_path, store_url=store_url), contracts)
    setup_parties(app)
    yield app
    app.state.components.store.close()


@pytest.fixture
def peer():
    with SoapPeer() as p:
        yield p


def chain(app, party: str, url: str | None) -> None:  # noqa: ANN001
    gstore.set_chain_party(app.state.components.store, gstore.ChainParty(party, url))


def stuf(xml: bytes, local: str) -> str | None:
    return etree.fromstring(xml).findtext(f".//{{{NS_STUF}}}{local}")


def send_di01(app) -> tuple[str, bytes]:  # noqa: ANN001
    """A provider's JW305 in a Di01: its JW306 leaves in a Du01 to the provider."""
    outcome = app.state.pipeline.process(ggk.wrap(samples.start("ijw")), AAN)
    store = app.state.components.store
    return outcome.message_id, store.get_envelope(outcome.message_id)["answer"]


def soap_rows(app, message_id: str):  # noqa: ANN001, ANN201
    return gstore.soap_rows_of(app.state.components.store, message_id)


def deliver(app) -> int:  # noqa: ANN001
    return asyncio.run(SoapDelivery(app.state.components.store, app.state.settings).deliver_round())


def test_no_soap_row_without_an_endpoint(gw):
    mid, _ = send_di01(gw)
    assert soap_rows(gw, mid) == []
    assert [r.destination for r in gw.state.components.store.outbox_for(mid)] == [STREAM]


def test_the_du01_is_delivered_once_and_confirmed_by_bv03(gw, peer):
    chain(gw, AANBIEDER, peer.url)
    mid, du01 = send_di01(gw)
    [row] = soap_rows(gw, mid)
    assert row.payload == du01 and row.party == AANBIEDER
    assert deliver(gw) == 1
    assert peer.confirmed == [stuf(du01, "referentienummer")]
    # what the peer got is our Du01: the same stuurgegevens, the same payload
    received = ggk.read(peer.received[0])
    assert received.berichtcode == "Du01" and received.payload == ggk.read(du01).payload
    assert received.stuurgegevens.cross_refnummer == ggk.read(du01).stuurgegevens.cross_refnummer
    [row] = soap_rows(gw, mid)
    assert row.published_at is not None
    assert deliver(gw) == 0 and peer.requests == 1  # never twice


def test_a_fo03_dead_letters_the_soap_row_alone_with_its_stuf_code(gw, peer):
    chain(gw, AANBIEDER, peer.url)
    peer.mode = "fo03"
    mid, _ = send_di01(gw)
    assert deliver(gw) == 0
    [row] = soap_rows(gw, mid)
    assert row.published_at is None and row.last_error.startswith("Fo03 IB210")
    record = gw.state.components.store.get_message(mid)
    # the JW305 itself reached the gemeente: the message is no dead letter, its state names the refusal
    assert not record.dead_letter and record.routing_state == "delivery_failed"
    deliver(gw)
    assert peer.requests == 1  # a refused envelope is not sent again by itself
    # the operator's requeue (console) sends it again
    gw.state.components.store.requeue_dead_letter(mid)
    peer.mode = "bv03"
    assert deliver(gw) == 1 and soap_rows(gw, mid)[0].published_at is not None
    assert gw.state.components.store.get_message(mid).routing_state == "routed"


def test_a_fo03_leaves_the_messages_stream_and_kafka_rows_as_they_are(tmp_path, contracts, store_url, peer):
    """A JW301 to a chain party with a SOAP endpoint and a broker: the peer refuses the Di01 (Fo03).
    Only the SOAP row is parked; the stream row stays readable and the Kafka rows claimable, and
    GET /v1/messages/{id} says delivery_failed."""
    from fastapi.testclient import TestClient

    app = make_app(settings(tmp_path, store_url=store_url, kafka_bootstrap="127.0.0.1:9"), contracts)
    keys = setup_parties(app)
    store = app.state.components.store
    try:
        chain(app, AANBIEDER, peer.url)
        peer.mode = "fo03"
        mid = app.state.pipeline.process(samples.allocation("ijw"), GEM).message_id
        before = {r.id: r for r in store.outbox_for(mid) if r.destination != SOAP}
        assert {r.destination for r in before.values()} - {STREAM}  # Kafka rows were planned
        assert deliver(app) == 0 and peer.requests == 1
        [soap] = soap_rows(app, mid)
        assert soap.last_error.startswith("Fo03 IB210") and soap.published_at is None
        after = {r.id: r for r in store.outbox_for(mid) if r.destination != SOAP}
        assert {i: (r.attempts, r.last_error, r.published_at) for i, r in after.items()} == {
            i: (0, None, None) for i in before}
        kafka = {r.id for r in store.claim_outbox(100, 1)}
        assert kafka == {i for i, r in before.items() if r.destination != STREAM}
        assert [i.message_id for i in store.read_stream(AANBIEDER, after=0)] == [mid]
        record = store.get_message(mid)
        assert not record.dead_letter and record.routing_state == "delivery_failed"
        store.mark_published(kafka)  # the topics get it: the refusal stays visible
        with TestClient(app, raise_server_exceptions=False) as http:
            view = http.get(f"/v1/messages/{mid}", headers={"X-API-Key": keys.gemeente}).json()
        assert view["routing_state"] == "delivery_failed"
    finally:
        store.close()


@pytest.mark.parametrize("mode", ["server", "garbage"])
def test_a_server_fault_is_retried_after_a_back_off_until_bv03(tmp_path, contracts, store_url, peer, mode):
    # back-offs far longer than the test takes on a loaded machine, ended by moving the clock past
    # them: with 0.2 s the immediate second round could already fall after the back-off
    gw = make_app(settings(tmp_path, store_url=store_url, ggk_soap_retry_seconds=60.0,
                           ggk_soap_retry_max_seconds=100.0), contracts)
    try:
        setup_parties(gw)
        chain(gw, AANBIEDER, peer.url)
        peer.mode = mode
        mid, du01 = send_di01(gw)
        start = clock.now()
        assert deliver(gw) == 0
        [row] = soap_rows(gw, mid)
        assert row.attempts == 1 and row.published_at is None and row.last_error
        assert not gw.state.components.store.get_message(mid).dead_letter
        assert deliver(gw) == 0 and peer.requests == 1  # in back-off: not tried again at once
        with clock.fixed(start + timedelta(seconds=61)):
            deliver(gw)
            assert peer.requests == 2 and soap_rows(gw, mid)[0].attempts == 2
        peer.mode = "bv03"
        # the back-off doubled, up to its maximum (100 s): still waiting 61 s after the second try
        with clock.fixed(start + timedelta(seconds=122)):
            assert deliver(gw) == 0 and peer.requests == 2
        with clock.fixed(start + timedelta(seconds=162)):
            assert deliver(gw) == 1
        assert peer.confirmed == [stuf(du01, "referentienummer")]
    finally:
        gw.state.components.store.close()


def test_a_peer_that_hangs_times_out_and_is_retried(tmp_path, contracts):
    app = make_app(settings(tmp_path, ggk_soap_timeout_seconds=0.5), contracts)
    setup_parties(app)
    try:
        with SoapPeer("hang", hang_seconds=2.0) as peer:
            chain(app, AANBIEDER, peer.url)
            mid, _ = send_di01(app)
            started = time.monotonic()
            assert deliver(app) == 0
            assert time.monotonic() - started < 1.9
            [row] = soap_rows(app, mid)
            assert "Timeout" in row.last_error and row.published_at is None
    finally:
        app.state.components.store.close()


def test_no_connection_is_retried(gw):
    chain(gw, AANBIEDER, f"http://127.0.0.1:{free_port()}/OntvangAsynchroon")
    mid, _ = send_di01(gw)
    assert deliver(gw) == 0
    [row] = soap_rows(gw, mid)
    assert "ConnectionError" in row.last_error and row.attempts == 1


def test_a_later_envelope_of_the_same_key_waits_behind_one_in_back_off(tmp_path, contracts, store_url, peer):
    # a back-off far longer than the test takes on a loaded machine, ended by moving the clock
    # past it: a 0.2 s back-off could pass before the second delivery round began
    gw = make_app(settings(tmp_path, store_url=store_url, ggk_soap_retry_seconds=60.0,
                           ggk_soap_retry_max_seconds=60.0), contracts)
    try:
        setup_parties(gw)
        chain(gw, AANBIEDER, peer.url)
        peer.mode = "server"
        first, _ = send_di01(gw)
        deliver(gw)
        second = gw.state.pipeline.process(ggk.wrap(samples.start("ijw")), AAN).message_id
        assert soap_rows(gw, first)[0].key == soap_rows(gw, second)[0].key  # one client: one key
        peer.mode = "bv03"
        assert deliver(gw) == 0  # the second is held back while the first is in back-off
        assert soap_rows(gw, first)[0].attempts == 1
        with clock.fixed(clock.now() + timedelta(seconds=61)):  # the back-off ends
            assert deliver(gw) == 2
        order = [stuf(x, "crossRefnummer") for x in peer.received]
        refs = [gw.state.components.store.get_envelope(m)["referentienummer"] for m in (first, second)]
        assert order == refs
    finally:
        gw.state.components.store.close()


def test_delivery_resumes_after_a_restart(tmp_path, contracts, peer):
    """A process that stored the Du01 (and one that claimed its row) and died: the next process
    on the same store delivers it, once."""
    app = make_app(settings(tmp_path), contracts)
    setup_parties(app)
    chain(app, AANBIEDER, peer.url)
    mid, _ = send_di01(app)
    mid2, _ = send_di01(app)
    # the second row is claimed by a process that dies before sending (its lease runs out)
    store = app.state.components.store
    claimed = gstore.claim_soap(store, 1, 0.3)
    assert [r.message_id for r in claimed] == [mid]
    store.close()
    time.sleep(0.35)
    again = make_app(settings(tmp_path), contracts)
    try:
        assert deliver(again) == 2
        assert all(r.published_at for m in (mid, mid2) for r in soap_rows(again, m))
        assert peer.requests == 2
    finally:
        again.state.components.store.close()


def test_the_service_delivers_in_the_background(tmp_path, contracts, peer, store_url):
    """The live service: its background task (on PostgreSQL: holding the delivery's advisory lock)
    delivers the Du01 of a Di01 posted to it."""
    import httpx

    app = make_app(settings(tmp_path, ggk_soap_delivery=True, store_url=store_url), contracts)
    keys = setup_parties(app)
    chain(app, AANBIEDER, peer.url)
    try:
        with live(app) as server:
            r = httpx.post(f"{server.url}/v1/messages", content=ggk.wrap(samples.start("ijw")),
                           headers={"X-API-Key": keys.aanbieder})
            assert r.status_code == 202, r.text
            deadline = time.monotonic() + 10
            while not peer.confirmed and time.monotonic() < deadline:
                time.sleep(0.05)
            assert peer.confirmed == [r.json()["envelope"]["answer_referentienummer"]]
    finally:
        app.state.components.store.close()


def test_switched_off_nothing_is_delivered_and_nothing_is_lost(tmp_path, contracts, peer):
    import httpx

    app = make_app(settings(tmp_path), contracts)  # ggk_soap_delivery=False
    keys = setup_parties(app)
    chain(app, AANBIEDER, peer.url)
    try:
        with live(app) as server:
            r = httpx.post(f"{server.url}/v1/messages", content=ggk.wrap(samples.start("ijw")),
                           headers={"X-API-Key": keys.aanbieder})
            time.sleep(0.5)
        assert peer.requests == 0
        assert soap_rows(app, r.json()["message_id"])[0].published_at is None
    finally:
        app.state.components.store.close()


def test_the_kafka_publisher_never_claims_soap_rows(gw, peer):
    chain(gw, AANBIEDER, peer.url)
    send_di01(gw)
    assert all(r.destination != SOAP for r in gw.state.components.store.claim_outbox(100, 1))


def test_a_row_that_holds_no_envelope_is_a_dead_letter_not_retried(gw, peer):
    """E.g. the console's republish of a bare message to 'soap': never deliverable as it is."""
    from gateway.store.records import OutboxRow

    chain(gw, AANBIEDER, peer.url)
    mid, _ = send_di01(gw)
    with gw.state.components.store.transaction() as tx:
        tx.enqueue([OutboxRow(party=AANBIEDER, destination=SOAP, key="k", payload=samples.start("ijw"),
                              message_id=mid)])
    assert deliver(gw) == 1  # the Du01; the bare message is refused without a request
    bare = [r for r in soap_rows(gw, mid) if r.published_at is None]
    assert len(bare) == 1 and bare[0].last_error.startswith("not deliverable over SOAP")
    assert peer.requests == 1 and gw.state.components.store.get_message(mid).routing_state == "delivery_failed"
