"""Answers that come back (issue 17 item 4): a Fo01 received is stored and linked to the message
whose envelope its crossRefnummer names; a Du01 received is a message like any other (the
pipeline stores it with its envelope) and is linked at read time by its crossRefnummer.

    answers.is_fo01(raw)                               # a Fo01Bericht at the root?
    answers.receive_fo01(store, raw, party, "soap")    # -> Fo01Received; EnvelopeError / Refused
    answers.of_message(store, message_id)              # what went out for it and what came back

A Fo01 whose crossRefnummer names none of our envelopes is stored all the same, unlinked
(`message_id` null): an operator sees it in the console's chain errors and over the API
(GET /v1/ggk/fo01?unlinked=true). The chain sends those too (IB210 for a message another system
of the municipality sent, or one sent before this gateway was there); dropping them would lose
what the chain said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from gateway.auth.policy import Party, Refused
from gateway.ggk.errors import fail
from gateway.ggk.model import CHAIN_PARTIES, NS_STUF, Fout
from gateway.ggk.read import read

FO01_ROOT = f"{{{NS_STUF}}}Fo01Bericht"


def is_fo01(raw: bytes) -> bool:
    """Whether the document's root is a StUF Fo01Bericht (read from the start only)."""
    if NS_STUF.encode() not in raw[:65536]:
        return False
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, load_dtd=False, no_network=True)
    try:
        for offset in range(0, min(len(raw), 1 << 20), 16384):
            parser.feed(raw[offset:offset + 16384])
            for _, el in parser.read_events():
                return el.tag == FO01_ROOT
    except etree.XMLSyntaxError:
        return False
    return False


@dataclass
class Fo01Received:
    id: int
    duplicate: bool
    message_id: str | None  # the message it answers; None: unlinked
    fout: Fout

    def summary(self) -> dict[str, Any]:
        sg = self.fout.stuurgegevens
        return {"fo01_id": self.id, "duplicate": self.duplicate, "linked_message_id": self.message_id,
                "zender": sg.zender.organisatie, "ontvanger": sg.ontvanger.organisatie,
                "referentienummer": sg.referentienummer, "cross_refnummer": sg.cross_refnummer,
                "code": self.fout.code, "plek": self.fout.plek, "omschrijving": self.fout.omschrijving,
                "details": self.fout.details}


def receive_fo01(store: Any, raw: bytes, party: Party | None, transport: str) -> Fo01Received:
    """Check and store a Fo01. Its zender must be the authenticated party or a chain party
    (VECOZO, IB, RINIS: they report the chain's errors); the same Fo01 again is a duplicate;
    another under a used referentienummer of that zender is IB216. Raises EnvelopeError/Refused."""
    from gateway.store import ConflictError
    from gateway.store import ggk as gstore

    message = read(raw)
    if not isinstance(message, Fout) or message.berichtcode != "Fo01":
        raise fail("NOT_AN_ENVELOPE", f"expected a Fo01, got a {message.berichtcode}")
    sg = message.stuurgegevens
    zender = (sg.zender.organisatie or sg.zender.applicatie or "").strip()
    if party is not None and zender != party.party_id and zender not in CHAIN_PARTIES:
        raise Refused(403, f"stuurgegevens.zender.organisatie is {zender or 'empty'}, but you are "
                      f"authenticated as {party.party_id}: a Fo01 comes from you or from the chain "
                      f"({', '.join(sorted(CHAIN_PARTIES))})", "spoofed_sender")
    row = {
        "zender": zender, "ontvanger": (sg.ontvanger.organisatie or "").strip() or None,
        "referentienummer": sg.referentienummer, "cross_refnummer": sg.cross_refnummer,
        "code": message.code[:8], "plek": message.plek, "omschrijving": message.omschrijving[:255],
        "details": message.details, "fo01": bytes(raw), "transport": transport,
        "received_by": party.party_id if party else None,
    }
    try:
        fo01_id, duplicate = gstore.save_fo01(store, row)
    except ConflictError:
        raise fail("REFERENCE_REUSED", f"zender {zender} used referentienummer {sg.referentienummer} before, "
                   "for another message; every message needs a new one",
                   path="/stuurgegevens/referentienummer") from None
    stored = gstore.get_fo01(store, fo01_id) or {}
    return Fo01Received(fo01_id, duplicate, stored.get("message_id"), message)


def of_message(store: Any, message_id: str) -> dict[str, Any]:
    """The envelopes that went out for a message and the answers that came back for them."""
    from gateway.store import ggk as gstore

    found = gstore.answers(store, message_id)
    return {
        "sent": [_plain(s) for s in found["sent"]],
        "du01": [_plain(d) for d in found["du01"]],
        "fo01": [_plain({k: v for k, v in f.items() if k not in ("sha256",)}) for f in found["fo01"]],
    }


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
