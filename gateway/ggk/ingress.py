"""The receive step for enveloped messages: a Di01/Du01 is recognised by its root element, checked
and opened here, and its payload goes on through the pipeline as a bare message would.

    received = ingress.receive(raw, registry)   # None: a bare message; EnvelopeError: refused
    ingress.check_zender(received, party)       # zender.organisatie is the authenticated party
    ingress.check_ontvanger(received, known)    # IB210: ontvanger.organisatie is a party we serve
    received.payload.root                       # parsed once: the pipeline validates this tree
    received.row(answer, code)                  # what the store keeps (table message_envelopes)

A root in a StUF namespace that is not a Di01/Du01 (a Fo01, Bv03 posted by mistake) is refused
by `ggk.unwrap` as NOT_AN_ENVELOPE; anything else (including XML that does not parse) is left to
the bare-message path, which reports it as it always did.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lxml import etree

from gateway.auth.policy import Party, Refused
from gateway.ggk import build
from gateway.ggk.errors import EnvelopeError
from gateway.catalog import MessageType
from gateway.ggk.model import (
    CHAIN_PARTIES,
    GGK_APPLICATIE,
    NS_GGK,
    NS_STUF,
    Envelope,
    Stuurgegevens,
    Systeem,
)
from gateway.ggk.payload import Payload, open_payload
from gateway.ggk.read import read

if TYPE_CHECKING:
    from schemas.registry import SchemaRegistry

_CHUNK = 16 * 1024
_NAMESPACES = frozenset({NS_GGK, NS_STUF})


def root_namespace(raw: bytes) -> str | None:
    """The namespace of the root element, read from the start of the document only (no tree is
    built; no DTD is loaded, no entity resolved). None when the start does not parse."""
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, load_dtd=False,
                                 no_network=True, huge_tree=False)
    try:
        for offset in range(0, len(raw), _CHUNK):
            parser.feed(raw[offset:offset + _CHUNK])
            for _, el in parser.read_events():
                return etree.QName(el).namespace
    except etree.XMLSyntaxError:
        return None
    return None


_MARKS = tuple(ns.encode("ascii") for ns in _NAMESPACES)


def is_envelope(raw: bytes) -> bool:
    """Whether this is a StUF message of the chain (Di01, Du01, or a Fo01/Fo03/Bv03). An envelope
    declares one of the two namespaces somewhere, so a document without either is bare and is not
    parsed here (a byte search; the bare message's own parse follows)."""
    if not any(mark in raw for mark in _MARKS):
        return False
    return root_namespace(raw) in _NAMESPACES


@dataclass
class Received:
    """A checked Di01/Du01 as received, and its payload parsed and identified."""

    raw: bytes
    envelope: Envelope
    payload: Payload

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def zender(self) -> str:
        return (self.envelope.stuurgegevens.zender.organisatie or "").strip()

    @property
    def referentienummer(self) -> str:
        return self.envelope.stuurgegevens.referentienummer

    def summary(self, answer_code: str | None = None, answer_referentienummer: str | None = None) -> dict[str, Any]:
        """The `envelope` object of the API's answer."""
        sg, p = self.envelope.stuurgegevens, self.envelope.parameters
        return {
            "berichtcode": self.envelope.berichtcode,
            "referentienummer": sg.referentienummer,
            "cross_refnummer": sg.cross_refnummer,
            "zender": sg.zender.organisatie,
            "ontvanger": sg.ontvanger.organisatie,
            "functie": sg.functie,
            "functie_versie": p.functie_versie,
            "functie_subversie": p.functie_subversie,
            "answer": answer_code,
            "answer_referentienummer": answer_referentienummer,
        }

    def row(self, answer: bytes | None = None, answer_code: str | None = None,
            answer_referentienummer: str | None = None) -> dict[str, Any]:
        """The store's message_envelopes row (without message_id)."""
        sg, p = self.envelope.stuurgegevens, self.envelope.parameters
        return {
            "berichtcode": self.envelope.berichtcode,
            "zender": self.zender,
            "zender_applicatie": sg.zender.applicatie,
            "ontvanger": sg.ontvanger.organisatie,
            "referentienummer": sg.referentienummer,
            "cross_refnummer": sg.cross_refnummer,
            "functie": sg.functie,
            "functie_versie": p.functie_versie,
            "functie_subversie": p.functie_subversie,
            "applicatie_versie": p.applicatie_versie,
            "applicatie_subversie": p.applicatie_subversie,
            "tijdstip_bericht": sg.tijdstip_bericht,
            "envelope": self.raw,
            "envelope_sha256": self.sha256,
            "answer": answer,
            "answer_code": answer_code,
            "answer_referentienummer": answer_referentienummer,
        }


def receive(raw: bytes, registry: SchemaRegistry | None = None) -> Received | None:
    """None for a bare message; the opened envelope otherwise. Raises EnvelopeError."""
    if not is_envelope(raw):
        return None
    message = read(raw)
    if not isinstance(message, Envelope):
        from gateway.ggk.errors import fail

        raise fail("NOT_AN_ENVELOPE", f"a {message.berichtcode} carries no message; send a Di01 or Du01")
    return Received(bytes(raw), message, open_payload(message, registry))


def check_zender(received: Received, party: Party | None) -> None:
    """stuurgegevens.zender.organisatie must be the authenticated party (the payload's sender is
    matched against both by ggk and check_sender). VECOZO, IB and RINIS may sign a Du01 for the
    party whose retour it carries (spec 2.1.03). `party` None: a trusted channel."""
    if party is None:
        return
    zender = received.zender
    if received.envelope.berichtcode == "Du01" and zender in CHAIN_PARTIES:
        return
    if zender != party.party_id:
        raise Refused(
            403,
            f"stuurgegevens.zender.organisatie is {zender or 'empty'}, but you are authenticated as "
            f"{party.party_id}: a party may only send envelopes in its own name",
            "spoofed_sender",
        )


def check_ontvanger(received: Received, known: Callable[[str], bool]) -> None:
    """IB210: stuurgegevens.ontvanger.organisatie must be a party this gateway serves (a known,
    not revoked party; `known` asks the store). The payload's receiver is the same organisation
    (ONTVANGER_MISMATCH), so a message for a stranger is refused before anything is stored."""
    ontvanger = (received.envelope.stuurgegevens.ontvanger.organisatie or "").strip()
    if not known(ontvanger):
        from gateway.ggk.errors import fail

        raise fail("ONTVANGER_UNKNOWN",
                   f"stuurgegevens.ontvanger.organisatie {ontvanger or '(empty)'} is not an organisation "
                   "this gateway serves", path="/stuurgegevens/ontvanger/organisatie")


def reused(code_text: str) -> EnvelopeError:
    from gateway.ggk.errors import fail

    return fail("REFERENCE_REUSED", code_text, path="/stuurgegevens/referentienummer")


def retour_du01(received: Received, retour: bytes, answer: MessageType) -> tuple[bytes, str]:
    """The retour (or 325, of type `answer`) of an enveloped heenbericht in its Du01, and the
    Du01's reference. Built from what is known (the pipeline built the retour from this payload:
    its parties are the heenbericht's, reversed; its versions the same) instead of reading the
    retour again; the result is checked against the envelope schema as every built message."""
    p = received.payload
    ref = build.new_reference()
    sg = Stuurgegevens(
        berichtcode="Du01",
        zender=Systeem(organisatie=p.receiver, applicatie=build.DEFAULT_APPLICATION.naam),
        ontvanger=Systeem(organisatie=p.sender, applicatie=GGK_APPLICATIE),
        referentienummer=ref,
        tijdstip_bericht=build.tijdstip(),
        cross_refnummer=received.referentienummer,
        functie=answer.code,
    )
    return build.envelope(sg, build.DEFAULT_APPLICATION, retour, p.versie, p.subversie), ref


def payload_fo01(received: Received, reason: str) -> tuple[bytes, str]:
    """The Fo01 StUF055 for a payload that fails its XSD, and its referentienummer."""
    data = build.fo01(received.raw, received.envelope, reason)
    ref = etree.fromstring(data).findtext(f".//{{{NS_STUF}}}referentienummer")
    return data, ref or ""
