"""Background loops cheap when idle (issue 14 item 4): an idle SOAP delivery round asks neither a
worker thread nor the store (the party cache answers "no endpoint"; SQLite's lease needs no
question), a confirmed PostgreSQL lock is asked again only after `recheck` seconds, and a party
that gets an endpoint is still delivered to as soon as the cache is read again."""

from __future__ import annotations

import asyncio
import threading
import time

import anyio
import pytest

pytest.importorskip("zeep")

from gateway import ggk, samples  # noqa: E402
from gateway.auth.policy import Party  # noqa: E402
from gateway.routing.leader import PublisherLease  # noqa: E402
from gateway.routing.soap_delivery import SoapDelivery  # noqa: E402
from gateway.store import ggk as gstore  # noqa: E402
from testsupport.soap_peer import SoapPeer  # noqa: E402

from .conftest import make_app, make_settings, setup_parties  # noqa: E402

AAN = Party(samples.AANBIEDER, "aanbieder", "")


@pytest.fixture
def gw(tmp_path, contracts):
    app = make_app(make_settings(tmp_path, ggk_soap_delivery=False, party_cache_seconds=0.5,
                                 outbox_poll_seconds=0.01), contracts)
    setup_parties(app)
    yield app
    app.state.components.store.close()


class Counts:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hops = self.party_reads = self.claims = 0
        run_sync, chain_parties, claim_soap = anyio.to_thread.run_sync, gstore.chain_parties, gstore.claim_soap

        async def counted_run_sync(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            self.hops += 1
            return await run_sync(*args, **kwargs)

        def counted_chain_parties(*args):  # noqa: ANN002, ANN202
            self.party_reads += 1
            return chain_parties(*args)

        def counted_claim_soap(*args):  # noqa: ANN002, ANN202
            self.claims += 1
            return claim_soap(*args)

        monkeypatch.setattr(anyio.to_thread, "run_sync", counted_run_sync)
        monkeypatch.setattr(gstore, "chain_parties", counted_chain_parties)
        monkeypatch.setattr(gstore, "claim_soap", counted_claim_soap)


def run_for(delivery: SoapDelivery, seconds: float, during=None) -> None:  # noqa: ANN001
    """Run the delivery loop `seconds`; `during` (if any) is called from another thread meanwhile."""

    async def main() -> None:
        task = asyncio.create_task(delivery.run())
        if during is not None:
            await asyncio.to_thread(during)
        else:
            await asyncio.sleep(seconds)
        await delivery.stop()
        await task

    asyncio.run(main())


def test_an_idle_round_without_endpoints_asks_no_thread_and_no_store(gw, monkeypatch):
    counts = Counts(monkeypatch)
    delivery = SoapDelivery(gw.state.components.store, gw.state.settings)
    run_for(delivery, 1.2)
    # 120 rounds at a 0.01 s poll; the party list is read when its 0.5 s cache runs out, at most
    # three times (each read one hop); the stop releases the lease in one more hop
    assert counts.party_reads <= 3
    assert counts.hops <= counts.party_reads + 1
    assert counts.claims == 0


def test_with_an_endpoint_an_idle_round_claims_without_asking_the_sqlite_lease(gw, monkeypatch):
    gstore.set_chain_party(gw.state.components.store, gstore.ChainParty(samples.AANBIEDER, "http://127.0.0.1:9/x"))
    counts = Counts(monkeypatch)
    delivery = SoapDelivery(gw.state.components.store, gw.state.settings)
    run_for(delivery, 1.0)
    assert counts.claims >= 5  # polled as before (100 rounds at 0.01 s; a loaded machine makes fewer)
    assert counts.hops <= counts.claims + counts.party_reads + 1


def test_a_party_given_an_endpoint_is_delivered_to_once_the_cache_is_read_again(gw):
    """The loop that idled (no endpoint) must not sleep past the party cache: the Du01 reaches the
    peer within the cache's half second and a poll, plus the zeep client's first build (about
    1.5 s; the bound leaves room for a loaded machine, far below a loop that slept on)."""
    store = gw.state.components.store
    delivery = SoapDelivery(store, gw.state.settings)
    took: list[float] = []
    with SoapPeer() as peer:
        def later() -> None:
            time.sleep(0.3)  # the loop has read the party list: no endpoint
            gstore.set_chain_party(store, gstore.ChainParty(samples.AANBIEDER, peer.url))
            gw.state.pipeline.process(ggk.wrap(samples.start("ijw")), AAN)
            start = time.monotonic()
            while not peer.confirmed and time.monotonic() - start < 30:
                time.sleep(0.01)
            took.append(time.monotonic() - start)

        run_for(delivery, 0, during=later)
        assert len(peer.confirmed) == 1
    assert took[0] < 0.5 + 0.01 + 6.0


class FakeConn:
    def __init__(self, lost: threading.Event) -> None:
        self.lost, self.statements = lost, []

    def execution_options(self, **_):  # noqa: ANN003, ANN202
        return self

    def exec_driver_sql(self, sql: str, *args):  # noqa: ANN002, ANN202
        self.statements.append(sql)
        if self.lost.is_set():
            raise ConnectionError("server closed the connection")
        return self

    def scalar(self) -> bool:
        return True

    def close(self) -> None:
        pass


class FakePg:
    dialect = "postgresql"

    def __init__(self) -> None:
        self.lost = threading.Event()
        self.conns: list[FakeConn] = []
        self.engine = self

    def connect(self) -> FakeConn:
        self.conns.append(FakeConn(self.lost))
        return self.conns[-1]


def test_a_confirmed_postgresql_lock_is_asked_again_after_recheck_seconds():
    store = FakePg()
    lease = PublisherLease(store, recheck=0.2)
    assert lease.known() is None  # never confirmed: ask
    assert lease.held()
    assert lease.known() is True
    assert asyncio.run(lease.held_async()) and store.conns[0].statements == ["SELECT pg_try_advisory_lock(%s)"]
    time.sleep(0.25)
    assert lease.known() is None  # no longer taken on trust
    store.lost.set()  # the connection (and its lock) went away meanwhile
    assert not asyncio.run(lease.held_async())
    assert lease.known() is None


def test_sqlite_needs_no_lease_question(gw):
    assert PublisherLease(gw.state.components.store).known() is True
