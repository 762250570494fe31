"""Envelopes out (issue 17 items 3 and 4): which outbox rows of a stored message travel in a
StUF-GGk envelope and to a party's SOAP endpoint.

A party is *reached through the chain* when it has a row in `ggk_parties` (`gateway party chain`):

- a municipal heenbericht (JW301/WMO301, JW319/WMO319: sender role gemeente, kind heen) to such a
  party leaves in a **Di01** (zender = the municipality, ontvanger = the receiver, functie = the
  message code, a fresh UUID v4 referentienummer) instead of bare, on the receiver's stream and XML
  topic (the `.json` topic keeps the typed view, with the `stuf-*` headers); the Di01's
  referentienummer is stored with the message (`outgoing_envelopes`), so the Du01 or Fo01 that
  comes back (crossRefnummer) is linked to it;
- a municipal **325** (declaratie-antwoord) answers its 323: when that 323 came in a Di01, the 325
  leaves in a **Du01** whose crossRefnummer is that Di01's referentienummer (whether or not the
  provider is configured as a chain party: it answers the way the 323 came), stored the same way;
  a 323 that came bare is answered bare;
- with a `soap_url`, every envelope on its stream (Di01, and the Du01/Fo01 answers the pipeline
  builds) gets one more outbox row, destination `soap`, which `gateway.routing.soap_delivery`
  delivers with zeep until the peer answers Bv03.

`Outbound.rows` is the pipeline's one hook. The chain parties are read once per
`party_cache_seconds` (one small table), so a bare message costs no query here (a municipal
325 costs one indexed lookup of its 323's envelope).
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
from gateway.ggk.payload import versions
from gateway.store.records import OutboxRow
from gateway.store.store import SOAP, STREAM
from validators.paths import child, text

STUF_HEADER = "stuf-berichtcode"


class ChainParties:
    """The chain parties, read from the store at most once per `party_cache_seconds` (at least
    half a second)."""

    def __init__(self, store: Any, settings: Any) -> None:
        self.store = store
        self.ttl = max(float(settings.party_cache_seconds), 0.5)
        self._parties: dict[str, Any] = {}
        self._until = 0.0
        self._lock = threading.Lock()

    def get(self, party_id: str | None) -> Any:
        if not party_id:
            return None
        return self.all().get(party_id)

    def fresh(self) -> dict[str, Any] | None:
        """The parties while the cache holds (no store read, safe on the event loop); None when
        they must be read again with `all`."""
        return self._parties if time.monotonic() < self._until else None

    def remaining(self) -> float:
        """Seconds until the cache is read again (0: at the next `all`)."""
        return max(self._until - time.monotonic(), 0.0)

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


def municipal_answer(mtype: MessageType) -> bool:
    """A 325 (declaratie-antwoord) the back office hands in: it answers the provider's 323."""
    return mtype.kind == "antwoord" and mtype.sender_role == "gemeente"


def _built(berichtcode: str, root: etree._Element, mtype: MessageType, route: Route, raw: bytes,
           cross_ref: str | None = None) -> tuple[bytes, str]:
    """The message in its Di01 / Du01, built from what the pipeline knows (no re-parse), and the
    envelope's fresh referentienummer. Checked against the envelope schema like every built one."""
    header = child(root, "Header")
    ref = build.new_reference()
    sg = Stuurgegevens(
        berichtcode=berichtcode,
        zender=Systeem(organisatie=route.sender, applicatie=build.DEFAULT_APPLICATION.naam),
        ontvanger=Systeem(organisatie=route.receiver, applicatie=GGK_APPLICATIE),
        referentienummer=ref,
        tijdstip_bericht=build.tijdstip(),
        cross_refnummer=cross_ref,
        functie=mtype.code,
    )
    return build.envelope(sg, build.DEFAULT_APPLICATION, raw, *versions(header)), ref


def heen_di01(root: etree._Element, mtype: MessageType, route: Route, raw: bytes) -> tuple[bytes, str]:
    """A municipal heenbericht in its Di01 and the Di01's referentienummer."""
    return _built("Di01", root, mtype, route, raw)


def answer_du01(root: etree._Element, mtype: MessageType, route: Route, raw: bytes,
                di01_ref: str) -> tuple[bytes, str]:
    """A municipal 325 in the Du01 answering the Di01 its 323 came in (crossRefnummer `di01_ref`)."""
    return _built("Du01", root, mtype, route, raw, di01_ref)


def _header(row: OutboxRow, name: str) -> str | None:
    for k, v in row.headers:
        if k == name:
            return v.decode() if isinstance(v, bytes) else v
    return None


class Outbound:
    def __init__(self, store: Any, settings: Any) -> None:
        self.parties = ChainParties(store, settings)

    def rows(self, tx: Any, mtype: MessageType, root: etree._Element, route: Route, raw: bytes,
             message_id: str, rows: list[OutboxRow]) -> list[OutboxRow]:
        """The message's outbox rows with its envelopes out: the Di01 of a municipal heenbericht
        to a chain party, the Du01 of a municipal 325 whose 323 came in a Di01, and a SOAP row for
        each envelope on a party with a SOAP endpoint."""
        heen = municipal_heen(mtype) and self.parties.get(route.receiver) is not None
        if (heen or municipal_answer(mtype)) and any(_header(r, "message-id") == message_id for r in rows):
            # (a message not routed has only its retour's rows: nothing of it leaves enveloped)
            if heen:
                di01, ref = heen_di01(root, mtype, route, raw)
                rows = self._enveloped(tx, "Di01", mtype, route, message_id, rows, di01, ref)
            else:
                rows = self._answer_in_du01(tx, mtype, root, route, raw, message_id, rows)
        return self.soap(rows)

    def soap(self, rows: list[OutboxRow]) -> list[OutboxRow]:
        """`rows` and, for every envelope on the stream of a party with a SOAP endpoint, its SOAP row."""
        extra = []
        # While the cache holds, a row to a party that is no chain party (every bare message's)
        # is passed over before its headers are scanned; without a store read the cache would not
        # have made otherwise (one per party_cache_seconds).
        known = self.parties.fresh()
        for row in rows:
            if row.destination != STREAM or (known is not None and known.get(row.party) is None) \
                    or _header(row, STUF_HEADER) is None:
                continue
            party = self.parties.get(row.party)
            if party is not None and party.soap_url:
                extra.append(OutboxRow(party=row.party, destination=SOAP, key=row.key, headers=row.headers,
                                       payload=row.payload, message_id=row.message_id))
        return rows + extra

    @classmethod
    def _answer_in_du01(cls, tx: Any, mtype: MessageType, root: etree._Element, route: Route, raw: bytes,
                        message_id: str, rows: list[OutboxRow]) -> list[OutboxRow]:
        """StUF-envelop 2.1.04 section 2.2: "ggk0210-Di01 als initieel bericht, en ggk0210-Du01 als
        bijbehorend retourbericht"; section 3.3: the Du01's crossRefnummer (required) is the "UUID
        van bijbehorende ggk0210-Di01". A 325 answers its 323, so it leaves in a Du01 naming the
        Di01 the 323 came in. A 323 that came bare has no Di01 to name: its 325 goes back the way
        the 323 came, bare (a Di01 would make the answer an initial message, which it is not)."""
        from gateway.catalog import by_number
        from gateway.store.ggk import declaration_di01

        declaratie = text(child(root, "Header"), "DeclaratieIdentificatie", "Identificatie")
        di01_ref = declaration_di01(tx, by_number(mtype.standard, "323", mtype.release).code,
                                    route.receiver, route.sender, declaratie)
        if di01_ref is None:
            return rows
        du01, ref = answer_du01(root, mtype, route, raw, di01_ref)
        return cls._enveloped(tx, "Du01", mtype, route, message_id, rows, du01, ref, di01_ref)

    @staticmethod
    def _enveloped(tx: Any, berichtcode: str, mtype: MessageType, route: Route, message_id: str,
                   rows: list[OutboxRow], xml: bytes, ref: str, cross_ref: str | None = None) -> list[OutboxRow]:
        """The message's own rows carry the envelope instead of the bare message (stream and XML
        topic; the `.json` topic keeps the typed view), with the stuf-* headers; the envelope's
        referentienummer is stored with the message so the answers that come back are linked."""
        from gateway.store.ggk import save_outgoing

        stuf = [("stuf-berichtcode", berichtcode.encode()), ("stuf-referentienummer", ref.encode())]
        if cross_ref:
            stuf.append(("stuf-cross-refnummer", cross_ref.encode()))
        out = []
        for row in rows:
            if _header(row, "message-id") != message_id:  # the retour's rows (none for a 301 or 325)
                out.append(row)
                continue
            as_xml = row.destination == STREAM or _header(row, "content-type") == "application/xml"
            out.append(row.model_copy(update={"payload": xml if as_xml else row.payload,
                                              "headers": [*row.headers, *stuf]}))
        save_outgoing(tx, dict(referentienummer=ref, message_id=message_id, berichtcode=berichtcode,
                               zender=route.sender or "", ontvanger=route.receiver or "", functie=mtype.code))
        return out
