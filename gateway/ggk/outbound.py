"""Envelopes out (issue 17 items 3 and 4): which outbox rows of a stored message travel in a
StUF-GGk envelope and to a party's SOAP endpoint.

A party is *reached through the chain* when it has a row in `ggk_parties` (`gateway party chain`):

- a municipal heenbericht (JW301/WMO301, JW319/WMO319: sender role gemeente, kind heen) to such a
  party leaves in a **Di01** (zender = the municipality, ontvanger = the receiver, functie = the
  message code, a fresh UUID v4 referentienummer) instead of bare, on the receiver's stream and XML
  topic (the `.json` topic keeps the typed view, with the `stuf-*` headers); the Di01's
  referentienummer is stored with the message (`outgoing_envelopes`), so the Du01 or Fo01 that
  comes back (crossRefnummer) is linked to it;
- with a `soap_url`, every envelope on its stream (Di01, and the Du01/Fo01 answers the pipeline
  builds) gets one more outbox row, destination `soap`, which `gateway.routing.soap_delivery`
  delivers with zeep until the peer answers Bv03.

`Outbound.rows` is the pipeline's one hook. The chain parties are read once per
`party_cache_seconds` (one small table), so a bare message costs no query here.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from lxml import etree

from gateway.auth.policy import Route
from gateway.catalog import MessageType
from gateway.ggk import build
from gateway.ggk.model import GGK_APPLICATIE, Stuurgegevens, Systeem
from gateway.ggk.payload import _version
from gateway.store.records import OutboxRow
from gateway.store.store import SOAP, STREAM
from validators.paths import child, text

STUF_HEADER = "stuf-berichtcode"


class ChainParties:
    """The chain parties, read from the store at most once per `ttl` seconds."""

    def __init__(self, store: Any, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        self._parties: dict[str, Any] = {}
        self._until = 0.0
        self._lock = threading.Lock()

    def get(self, party_id: str | None) -> Any:
        if not party_id:
            return None
        return self.all().get(party_id)

    def all(self) -> dict[str, Any]:
        now = time.monotonic()
        if now >= self._until:
            with self._lock:
                if now >= self._until:
                    from gateway.store.ggk import chain_parties

                    self._parties = chain_parties(self.store)
                    self._until = now + self.ttl
        return self._parties


def municipal_heen(mtype: MessageType) -> bool:
    return mtype.kind == "heen" and mtype.sender_role == "gemeente"


def heen_di01(root: etree._Element, mtype: MessageType, route: Route, raw: bytes) -> tuple[bytes, str]:
    """A municipal heenbericht in its Di01, built from what the pipeline knows (no re-parse), and
    the Di01's referentienummer. Checked against the envelope schema like every built envelope."""
    header = child(root, "Header")
    ref = build.new_reference()
    sg = Stuurgegevens(
        berichtcode="Di01",
        zender=Systeem(organisatie=route.sender, applicatie=build.DEFAULT_APPLICATION.naam),
        ontvanger=Systeem(organisatie=route.receiver, applicatie=GGK_APPLICATIE),
        referentienummer=ref,
        tijdstip_bericht=build.tijdstip(),
        functie=mtype.code,
    )
    return build.envelope(sg, build.DEFAULT_APPLICATION, raw, _version(text(header, "BerichtVersie")),
                          _version(text(header, "BerichtSubversie"))), ref


def _header(row: OutboxRow, name: str) -> str | None:
    for k, v in row.headers:
        if k == name:
            return v.decode() if isinstance(v, bytes) else v
    return None


class Outbound:
    def __init__(self, store: Any, settings: Any) -> None:
        self.parties = ChainParties(store, max(float(getattr(settings, "party_cache_seconds", 5.0)), 0.5))

    def rows(self, tx: Any, mtype: MessageType, root: etree._Element, route: Route, raw: bytes,
             message_id: str, rows: list[OutboxRow]) -> list[OutboxRow]:
        """The message's outbox rows with its envelopes out: the Di01 of a municipal heenbericht
        to a chain party, and a SOAP row for each envelope on a party with a SOAP endpoint."""
        if municipal_heen(mtype) and self.parties.get(route.receiver) is not None:
            rows = self._in_di01(tx, mtype, root, route, raw, message_id, rows)
        return self.soap(rows)

    def soap(self, rows: list[OutboxRow]) -> list[OutboxRow]:
        """`rows` and, for every envelope on the stream of a party with a SOAP endpoint, its SOAP row."""
        extra = []
        for row in rows:
            if row.destination != STREAM or _header(row, STUF_HEADER) is None:
                continue
            party = self.parties.get(row.party)
            if party is not None and party.soap_url:
                extra.append(OutboxRow(party=row.party, destination=SOAP, key=row.key, headers=row.headers,
                                       payload=row.payload, message_id=row.message_id))
        return rows + extra

    @staticmethod
    def _in_di01(tx: Any, mtype: MessageType, root: etree._Element, route: Route, raw: bytes, message_id: str,
                 rows: list[OutboxRow]) -> list[OutboxRow]:
        from gateway.store.ggk import save_outgoing

        di01, ref = heen_di01(root, mtype, route, raw)
        stuf = [("stuf-berichtcode", b"Di01"), ("stuf-referentienummer", ref.encode())]
        out = []
        for row in rows:
            if _header(row, "message-id") != message_id:  # the retour's rows (none for a 301)
                out.append(row)
                continue
            xml = row.destination == STREAM or _header(row, "content-type") == "application/xml"
            out.append(row.model_copy(update={"payload": di01 if xml else row.payload,
                                              "headers": [*row.headers, *stuf]}))
        save_outgoing(tx, dict(referentienummer=ref, message_id=message_id, berichtcode="Di01",
                               zender=route.sender or "", ontvanger=route.receiver or "", functie=mtype.code))
        return out
