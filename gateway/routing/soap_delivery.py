"""SOAP delivery: the outbox's `soap` rows (a Di01, Du01 or Fo01 for a party with a SOAP endpoint,
gateway.ggk.outbound) go to that endpoint's OntvangAsynchroon with zeep, as the outbox publisher
sends Kafka rows (gateway.routing.publisher): claimed with a lease, in order per party and key, one
instance at a time (its own advisory lock, gateway.routing.leader).

Each answer decides the row's fate:

    Bv03 naming our referentienummer   delivered: marked published, never sent again
    Fo03 (soap:Client fault)           refused for good: this row alone a dead letter at once,
                                       the StUF code in last_error; the message's other rows go
                                       on, its routing_state is delivery_failed (store.ggk.refused)
    soap:Server fault, HTTP error,     transient: attempts + 1, sent again after a back-off
    no connection, timeout, no Bv03    (ggk_soap_retry_seconds doubling up to ggk_soap_retry_max_seconds),
                                       never given up on: later rows of the same key wait behind it

At least once: a process that dies after the peer's Bv03 but before the row is marked sends the
envelope again after a restart; its referentienummer is the same, so the peer's IB216 check
recognises it (our own service answers the same envelope with Bv03 again and stores it once).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import anyio
from lxml import etree

from gateway.observability import get_logger
from gateway.routing.leader import PublisherLease
from gateway.settings import Settings
from gateway.xmlparse import hardened_parser

log = get_logger("gateway.soap_delivery")
LOCK_KEY = "gateway:soap-delivery"
BINDING = "{http://www.stufstandaarden.nl/koppelvlak/ggk0210}SOAPOntvangAsynchroon"
OPERATIONS = {"envelopHeenbericht-ggk_Di01": "ggk_Di01", "envelopRetourbericht-ggk_Du01": "ggk_Du01",
              "Fo01Bericht": "Fo01"}


class Refused(Exception):
    """The peer answered Fo03, or the row holds no envelope: it will never be delivered as it is."""


class NotConfirmed(Exception):
    """Anything else than a Bv03 for our envelope: try again later."""


_local_wsdl_lock = threading.Lock()
_local_wsdl: dict[str, str] = {}


def local_wsdl(address: str) -> str:
    """Our own OntvangAsynchroon WSDL (gateway/ggk/wsdl) for `address`, written once to a private
    temporary folder with its imports pointing at the package's schemas: the same contract as
    the chain's, without fetching anything from the peer."""
    from gateway.ggk.schema import XSD_DIR
    from gateway.ggk.soap import WSDL_DIR

    with _local_wsdl_lock:
        found = _local_wsdl.get(address)
        if found and Path(found).exists():
            return found
        folder = Path(tempfile.mkdtemp(prefix="gateway-wsdl-"))
        stuf = folder / "StUF.wsdl"
        stuf.write_text((WSDL_DIR / "StUF.wsdl").read_text("utf-8").format(
            stuf_xsd=str(XSD_DIR / "stuf.xsd")), "utf-8")
        main = folder / "OntvangAsynchroon.wsdl"
        main.write_text((WSDL_DIR / "OntvangAsynchroon.wsdl").read_text("utf-8").format(
            address=address, stuf_wsdl=str(stuf), ggk_xsd=str(XSD_DIR / "ggk.xsd")), "utf-8")
        _local_wsdl[address] = str(main)
        return str(main)


class Peer:
    """A zeep client for one party's endpoint (synchronous: used in worker threads)."""

    def __init__(self, party: Any, timeout: float) -> None:
        import requests
        import zeep
        from zeep.transports import Transport

        session = requests.Session()
        if party.tls_ca:
            # REQUESTS_CA_BUNDLE in the environment would override the session's CA bundle: the
            # environment is left out, except its proxy settings for this address
            session.trust_env = False
            session.proxies = requests.utils.get_environ_proxies(party.soap_url)
            session.verify = party.tls_ca
        if party.tls_cert:
            session.cert = (party.tls_cert, party.tls_key) if party.tls_key else party.tls_cert
        transport = Transport(session=session, timeout=timeout, operation_timeout=timeout)
        wsdl = party.wsdl_url or local_wsdl(party.soap_url)
        self.client = zeep.Client(wsdl, transport=transport)
        # the address configured, whatever the WSDL names
        self.service = self.client.create_service(BINDING, party.soap_url)
        self.config = party
        self.session = session

    def close(self) -> None:
        """Close the kept-alive connections to the peer."""
        with contextlib.suppress(Exception):
            self.session.close()

    def send(self, envelope: bytes, referentienummer: str | None) -> str:
        """Deliver one envelope; the Bv03's referentienummer. Raises Refused (Fo03) or another
        exception (retried)."""
        from zeep.exceptions import Fault

        try:
            root = etree.fromstring(envelope, hardened_parser(huge_text=True))
        except etree.XMLSyntaxError as exc:
            raise Refused(f"not deliverable over SOAP: the row holds no XML ({exc.msg})") from None
        name = etree.QName(root)
        operation = OPERATIONS.get(name.localname)
        if operation is None:  # e.g. a bare message republished to 'soap' from the console
            raise Refused(f"not deliverable over SOAP: a {name.localname} is no Di01, Du01 or Fo01")
        element = self.client.get_element(f"{{{name.namespace}}}{name.localname}")
        obj = element.parse(root, self.client.wsdl.types)
        try:
            answer = getattr(self.service, operation)(**{k: obj[k] for k in obj})
        except Fault as fault:
            code = (fault.code or "").rsplit(":", 1)[-1]
            stuf = _fo03_code(fault.detail)
            if code == "Client" and stuf:
                raise Refused(f"Fo03 {stuf}: {fault.message}"[:1000]) from None
            raise NotConfirmed(f"soap:{code or 'fault'}: {fault.message}"[:1000]) from None
        sg = answer["stuurgegevens"] if not hasattr(answer, "berichtcode") else answer
        if sg is None or sg["berichtcode"] != "Bv03":
            raise NotConfirmed("the answer is no Bv03")
        if referentienummer and sg["crossRefnummer"] != referentienummer:
            raise NotConfirmed(f"the Bv03 confirms {sg['crossRefnummer']}, not our {referentienummer}")
        return sg["referentienummer"]


def _fo03_code(detail: Any) -> str | None:
    if detail is None:
        return None
    return detail.findtext(".//{http://www.egem.nl/StUF/StUF0301}code")


def _header(row: Any, name: str) -> str | None:
    for k, v in row.headers:
        if k == name:
            return v.decode() if isinstance(v, bytes) else v
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (Refused, NotConfirmed)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:1000]


class SoapDelivery:
    def __init__(self, store: Any, settings: Settings, metrics: Any = None) -> None:
        from gateway.ggk.outbound import ChainParties

        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.parties = ChainParties(store, settings)
        self.lease = PublisherLease(store, LOCK_KEY)
        self._peers: dict[Any, Peer] = {}
        self._stop = asyncio.Event()
        self.delivered = 0

    def backoff(self, attempts: int) -> float:
        """Seconds until the next try after `attempts` failed ones."""
        base = self.settings.ggk_soap_retry_seconds
        return min(base * (2 ** max(attempts - 1, 0)), self.settings.ggk_soap_retry_max_seconds)

    def _peer(self, party_id: str) -> Peer:
        party = self.parties.get(party_id)
        if party is None or not party.soap_url:
            raise NotConfirmed(f"party {party_id} has no SOAP endpoint (any more)")
        peer = self._peers.get(party)
        if peer is None:  # a changed configuration is another key: a new client
            for key in [k for k in self._peers if k.party_id == party_id]:
                self._peers.pop(key).close()
            peer = self._peers[party] = Peer(party, self.settings.ggk_soap_timeout_seconds)
        return peer

    def deliver_group(self, group: list[Any]) -> int:
        """Send the rows of one (party, key) in order; stop at the first that is not confirmed
        (later rows stay claimed until their lease ends and then wait behind its back-off)."""
        from gateway.store import ggk as gstore

        done = 0
        for row in group:
            try:
                ref = _header(row, "stuf-referentienummer")
                bv03 = self._peer(row.party).send(row.payload, ref)
            except Refused as exc:
                log.warning("soap_refused", outbox_id=row.id, party=row.party, error=str(exc)[:200])
                gstore.refused(self.store, row.id, str(exc))
                self._count(row, "refused")
                continue  # a dead letter does not hold back the rest
            except Exception as exc:
                delay = self.backoff(row.attempts + 1)
                log.warning("soap_delivery_failed", outbox_id=row.id, party=row.party, retry_in=delay,
                            error=_describe(exc)[:200])
                gstore.retry_later(self.store, row.id, _describe(exc), delay)
                gstore.release(self.store, [r.id for r in group[group.index(row) + 1:]])
                self._count(row, "error")
                return done
            self.store.mark_published([row.id])
            log.info("soap_delivered", outbox_id=row.id, party=row.party, bv03=bv03)
            self._count(row, "ok")
            done += 1
        return done

    def _count(self, row: Any, outcome: str) -> None:
        if self.metrics is not None:
            with contextlib.suppress(Exception):
                self.metrics.routed.labels(f"soap:{_header(row, 'stuf-berichtcode') or '?'}", outcome).inc()

    async def has_endpoints(self) -> bool:
        """Does any party have a SOAP endpoint? From the party cache without a thread hop while it
        holds (an idle round then costs no store read and no worker thread)."""
        parties = self.parties.fresh()
        if parties is None:
            parties = await anyio.to_thread.run_sync(self.parties.all)
        return any(p.soap_url for p in parties.values())

    async def deliver_round(self) -> int:
        """Claim a batch and deliver it, groups side by side; the number of rows delivered."""
        from gateway.store import ggk as gstore

        if not await self.has_endpoints():
            return 0  # no SOAP endpoint configured: no outbox scan (rows of a removed one wait)
        lease = self.settings.outbox_lease_seconds + 2 * self.settings.ggk_soap_timeout_seconds
        rows = await anyio.to_thread.run_sync(
            lambda: gstore.claim_soap(self.store, self.settings.outbox_batch, lease))
        if not rows:
            return 0
        groups: OrderedDict[tuple[str | None, str | None], list[Any]] = OrderedDict()
        for row in rows:
            groups.setdefault((row.party, row.key), []).append(row)
        counts = await asyncio.gather(*(anyio.to_thread.run_sync(self.deliver_group, g) for g in groups.values()))
        self.delivered += sum(counts)
        return sum(counts)

    async def run(self) -> None:
        while not self._stop.is_set():
            pause = self.settings.outbox_poll_seconds
            try:
                # The lease is asked for only before a claim: without an endpoint nothing is claimed,
                # and the answer cannot change before the party list is read again
                if not await self.has_endpoints():
                    pause = max(pause, self.parties.remaining())
                elif not await self.lease.held_async():
                    pause = max(1.0, self.settings.outbox_lease_seconds)
                elif await self.deliver_round() > 0:
                    continue
            except Exception:
                log.error("soap_round_failed", exc_info=True)
                pause = max(pause, 1.0)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)

    def close_peers(self) -> None:
        """Let go of the peers' connections (kept alive between deliveries)."""
        peers, self._peers = list(self._peers.values()), {}
        for peer in peers:
            peer.close()

    async def stop(self) -> None:
        self._stop.set()
        self.close_peers()
        await anyio.to_thread.run_sync(self.lease.release)
