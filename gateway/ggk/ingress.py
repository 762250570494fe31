"""The receive step for enveloped messages: a Di01/Du01 is recognised by its root element, checked
and opened here, and its payload goes on through the pipeline as a bare message would.

    received = ingress.receive(raw, registry)   # None: a bare message; EnvelopeError: refused
    ingress.check_zender(received, party)       # zender.organisatie is the authenticated party
    ingress.check_ontvanger(received, known)    # IB210: ontvanger.organisatie is a party we serve
    received.payload.root                       # parsed once: the pipeline validates this tree
    received.row(answer, code)                  # what the store keeps (in the message's row)

A root in a StUF namespace that is not a Di01/Du01 (a Fo01, Bv03 posted by mistake) is refused
by `ggk.unwrap` as NOT_AN_ENVELOPE; anything else (including XML that does not parse) is left to
the bare-message path, which reports it as it always did.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lxml import etree

from gateway.auth.policy import Party, Refused
from gateway.catalog import MessageType
from gateway.ggk import b64, build, plain
from gateway.ggk.errors import EnvelopeError, fail
from gateway.ggk.model import (
    CHAIN_PARTIES,
    GGK_APPLICATIE,
    NS_GGK,
    NS_STUF,
    Application,
    Envelope,
    Stuurgegevens,
    Systeem,
)
from gateway.ggk.payload import Payload, check
from gateway.ggk.read import MAX_ENVELOPE_BYTES, Head, check_root, head, parse_root

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


class Received:
    """A checked Di01/Du01 as received (`head`: its fields), and its payload parsed and identified.
    `envelope` is the typed Envelope, built when asked for (the receive path reads `head`).
    berichtcode, zender, ontvanger and referentienummer are read once here: the pipeline asks
    for them some ten times per message."""

    __slots__ = ("raw", "head", "payload", "recheck_reference", "berichtcode", "zender", "ontvanger",
                 "referentienummer", "_sha256", "_envelope")

    def __init__(self, raw: bytes, head: Head, payload: Payload) -> None:
        self.raw = raw
        self.head = head
        self.payload = payload
        # Set when storing it conflicted: the pipeline then looks its referentienummer up (IB216).
        self.recheck_reference = False
        self.berichtcode: str = head.berichtcode
        self.zender: str = (head.zender.get("organisatie") or "").strip()
        self.ontvanger: str = (head.ontvanger.get("organisatie") or "").strip()
        self.referentienummer: str = head.referentienummer
        self._sha256: str | None = None
        self._envelope: Envelope | None = None

    @property
    def envelope(self) -> Envelope:
        if self._envelope is None:
            self._envelope = self.head.envelope()
        return self._envelope

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = hashlib.sha256(self.raw).hexdigest()
        return self._sha256

    def summary(self, answer_code: str | None = None, answer_referentienummer: str | None = None) -> dict[str, Any]:
        """The `envelope` object of the API's answer."""
        h = self.head
        return {
            "berichtcode": h.berichtcode,
            "referentienummer": h.referentienummer,
            "cross_refnummer": h.cross_refnummer,
            "zender": h.zender.get("organisatie"),
            "ontvanger": h.ontvanger.get("organisatie"),
            "functie": h.functie,
            "functie_versie": h.functie_versie,
            "functie_subversie": h.functie_subversie,
            "answer": answer_code,
            "answer_referentienummer": answer_referentienummer,
        }

    def row(self, answer: bytes | None = None, answer_code: str | None = None,
            answer_referentienummer: str | None = None) -> dict[str, Any]:
        """What the store keeps of the envelope, in the message's row (Transaction.save_message)."""
        h = self.head
        return {
            "berichtcode": h.berichtcode,
            "zender": self.zender,
            "zender_applicatie": h.zender.get("applicatie", ""),
            "ontvanger": h.ontvanger.get("organisatie"),
            "referentienummer": h.referentienummer,
            "cross_refnummer": h.cross_refnummer,
            "functie": h.functie,
            "functie_versie": h.functie_versie,
            "functie_subversie": h.functie_subversie,
            "applicatie_versie": h.applicatie_versie,
            "applicatie_subversie": h.applicatie_subversie,
            "tijdstip_bericht": h.tijdstip_bericht,
            "envelope": self.raw,
            "envelope_sha256": self.sha256,
            "answer": answer,
            "answer_code": answer_code,
            "answer_referentienummer": answer_referentienummer,
        }


def receive(raw: bytes, registry: SchemaRegistry | None = None, scope: dict | None = None) -> Received | None:
    """None for a bare message; the opened envelope otherwise. Raises EnvelopeError. `scope`
    (validators.paths.new_scope): where the payload's Header lookups are kept for the pipeline.

    An envelope in the plain form (gateway.ggk.plain) is read without a tree. Any other is parsed
    once: its root tells an envelope from a bare message that merely mentions a StUF namespace
    (is_envelope's answer, without a second parser on the same bytes), our schema checks it."""
    if not any(mark in raw for mark in _MARKS):
        return None
    h = plain.head(raw)  # the form nearly every envelope has, read without a tree; None: the full path
    if h is None:
        try:
            root = parse_root(raw)
        except EnvelopeError:
            if root_namespace(raw) not in _NAMESPACES:
                return None  # not an envelope that fails to parse: the bare path reports it
            raise
        tag = root.tag if isinstance(root.tag, str) else ""
        if not tag.startswith("{") or tag[1:].partition("}")[0] not in _NAMESPACES:
            return None
        berichtcode = check_root(root)
        if berichtcode not in ("Di01", "Du01"):
            raise fail("NOT_AN_ENVELOPE", f"a {berichtcode} carries no message; send a Di01 or Du01")
        h = head(root, berichtcode)
    payload = check(h.berichtcode, h.payload, h.bestand, h.bestandsnaam, h.functie, h.functie_versie,
                    h.functie_subversie, h.zender.get("organisatie"), h.ontvanger.get("organisatie"), registry, scope)
    return Received(bytes(raw), h, payload)


def check_zender(received: Received, party: Party | None) -> None:
    """stuurgegevens.zender.organisatie must be the authenticated party (the payload's sender is
    matched against both by ggk and check_sender). VECOZO, IB and RINIS may sign a Du01 for the
    party whose retour it carries (spec 2.1.03). `party` None: a trusted channel."""
    if party is None:
        return
    zender = received.zender
    if received.berichtcode == "Du01" and zender in CHAIN_PARTIES:
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
    ontvanger = received.ontvanger
    if not known(ontvanger):
        raise fail("ONTVANGER_UNKNOWN",
                   f"stuurgegevens.ontvanger.organisatie {ontvanger or '(empty)'} is not an organisation "
                   "this gateway serves", path="/stuurgegevens/ontvanger/organisatie")


def reused(code_text: str) -> EnvelopeError:
    return fail("REFERENCE_REUSED", code_text, path="/stuurgegevens/referentienummer")


# The Du01 of a retour as build.envelope writes it (pretty printed, the same namespace prefixes),
# with the few values that vary as slots: filled in by string formatting instead of building and
# schema-checking a tree for every retour. tests/ggk proves it byte for byte equal to
# build.envelope and valid under our schema.
_DU01 = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    f'<GGK:envelopRetourbericht-ggk_Du01 xmlns:StUF="{NS_STUF}" xmlns:GGK="{NS_GGK}">\n'
    "  <GGK:stuurgegevens>\n"
    "    <StUF:berichtcode>Du01</StUF:berichtcode>\n"
    "    <StUF:zender>\n"
    "      <StUF:organisatie>{zender}</StUF:organisatie>\n"
    "      <StUF:applicatie>{applicatie}</StUF:applicatie>\n"
    "    </StUF:zender>\n"
    "    <StUF:ontvanger>\n"
    "      <StUF:organisatie>{ontvanger}</StUF:organisatie>\n"
    f"      <StUF:applicatie>{GGK_APPLICATIE}</StUF:applicatie>\n"
    "    </StUF:ontvanger>\n"
    "    <StUF:referentienummer>{ref}</StUF:referentienummer>\n"
    "    <StUF:tijdstipBericht>{tijdstip}</StUF:tijdstipBericht>\n"
    "    <StUF:crossRefnummer>{cross}</StUF:crossRefnummer>\n"
    "    <StUF:functie>{functie}</StUF:functie>\n"
    "  </GGK:stuurgegevens>\n"
    "  <GGK:parameters>\n"
    "    <GGK:applicatieVersie>{app_versie}</GGK:applicatieVersie>\n"
    "    <GGK:applicatieSubversie>{app_subversie}</GGK:applicatieSubversie>\n"
    "    <GGK:functieVersie>{versie}</GGK:functieVersie>\n"
    "    <GGK:functieSubversie>{subversie}</GGK:functieSubversie>\n"
    "    <GGK:bericht>\n"
    "      <GGK:xmlBestand>{payload}</GGK:xmlBestand>\n"
    "    </GGK:bericht>\n"
    "  </GGK:parameters>\n"
    "</GGK:envelopRetourbericht-ggk_Du01>\n"
)
_TIJDSTIP = re.compile(r"[0-9]{8,17}")
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


_SLOTS = ("zender", "applicatie", "ontvanger", "ref", "tijdstip", "cross", "functie", "app_versie",
          "app_subversie", "versie", "subversie", "payload")
# The template cut at its slots, as bytes: a Du01 is the pieces joined with the values between
# them (str.format over the whole template, and decoding and re-encoding the base64 payload as
# text, cost more than the rest of the Du01 together).
_PIECES = tuple(piece.encode("utf-8") for piece in re.split(
    r"\{(?:" + "|".join(_SLOTS) + r")\}", _DU01.replace("{{", "{").replace("}}", "}")))
if tuple(re.findall(r"\{([a-z_]+)\}", _DU01)) != _SLOTS:  # the join below names the slots in this order
    raise RuntimeError("the Du01 template's slots are not in the order du01_bytes fills them")


def _plain(value: str, limit: int) -> bool:
    """Text lxml writes unchanged, within the slot's length."""
    return len(value) <= limit and (value.isalnum() or not _NEEDS_BUILD.search(value))


def _four_digits(value: str) -> bool:
    return len(value) == 4 and value.isascii() and value.isdigit()


@functools.lru_cache(maxsize=256)
def _fixed(zender: str, ontvanger: str, functie: str, versie: str, subversie: str, naam: str, app_versie: str,
           app_subversie: str) -> tuple[bytes, bytes] | None:
    """The template up to referentienummer and from crossRefnummer to the payload with these
    values in place: the same for every Du01 of one application, pair of parties, message type
    and version (checked and encoded once), or None when a value does not fit its slot
    (organisatie at most 200 characters, applicatie 3 to 50, functie at most 30, versions of four
    digits, all text lxml writes unchanged)."""
    if not (3 <= len(naam) <= 50 and _plain(naam, 50) and _plain(zender, 200) and _plain(ontvanger, 200)
            and _plain(functie, 30) and all(map(_four_digits, (versie, subversie, app_versie, app_subversie)))):
        return None
    p = _PIECES
    return (b"".join((p[0], zender.encode(), p[1], naam.encode(), p[2], ontvanger.encode(), p[3])),
            b"".join((p[6], functie.encode(), p[7], app_versie.encode(), p[8], app_subversie.encode(), p[9],
                      versie.encode(), p[10], subversie.encode(), p[11])))


# Characters that lxml escapes or normalises in text (markup, carriage returns, control characters)
# and surrounding whitespace: values with these take the tree builder.
_NEEDS_BUILD = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f]|^\s|\s$")


def du01_bytes(zender: str, ontvanger: str, ref: str, tijdstip: str, cross: str, functie: str,
               payload: bytes, versie: str, subversie: str,
               app: Application = build.DEFAULT_APPLICATION) -> bytes:
    """A Du01 (xmlBestand) equal to build.envelope's for these values."""
    if _UUID4.fullmatch(ref) is None or _TIJDSTIP.fullmatch(tijdstip) is None:
        return _built(zender, ontvanger, ref, tijdstip, cross, functie, payload, versie, subversie, app)
    return _du01(zender, ontvanger, ref, tijdstip, cross, functie, payload, versie, subversie, app)[0]


def _built(zender: str, ontvanger: str, ref: str, tijdstip: str, cross: str, functie: str,
           payload: bytes, versie: str, subversie: str, app: Application) -> bytes:
    """The Du01 built as a tree and checked against our schema (build.envelope)."""
    sg = Stuurgegevens(
        berichtcode="Du01",
        zender=Systeem(organisatie=zender, applicatie=app.naam),
        ontvanger=Systeem(organisatie=ontvanger, applicatie=GGK_APPLICATIE),
        referentienummer=ref, tijdstip_bericht=tijdstip, cross_refnummer=cross, functie=functie,
    )
    return build.envelope(sg, app, payload, versie, subversie)


def _du01(zender: str, ontvanger: str, ref: str, tijdstip: str, cross: str, functie: str,
          payload: bytes, versie: str, subversie: str, app: Application) -> tuple[bytes, int | None]:
    """du01_bytes for a `ref` and `tijdstip` known to fit (build.new_reference, build.tijdstip),
    and where the payload's base64 starts in it (None: built as a tree).
    Every other value must meet what our schema asks of its slot (organisatie at most 200
    characters, functie at most 30, crossRefnummer a UUID v4, versions of four digits) and be text
    lxml writes unchanged; otherwise the Du01 is built as a tree and schema-checked."""
    fixed = _fixed(zender, ontvanger, functie, versie, subversie, app.naam, app.versie, app.subversie)
    if fixed is None or _UUID4.fullmatch(cross) is None:
        return _built(zender, ontvanger, ref, tijdstip, cross, functie, payload, versie, subversie, app), None
    p = _PIECES
    encoded = b64.encode(payload)
    data = b"".join((fixed[0], ref.encode(), p[4], tijdstip.encode(), p[5], cross.encode(), fixed[1],
                     encoded, p[12]))
    if len(data) > MAX_ENVELOPE_BYTES:
        raise fail("ENVELOPE_TOO_LARGE", f"the envelope would be {len(data) / (1024 * 1024):.1f} MB; "
                   "the limit is 25 MB, payload included")
    return data, len(data) - len(p[12]) - len(encoded)


def retour_du01(received: Received, retour: bytes, answer: MessageType) -> tuple[bytes, str, int | None]:
    """The retour (or 325, of type `answer`) of an enveloped heenbericht in its Du01, the Du01's
    reference, and where the retour's base64 starts in it (None: not known). Built from what is known (the pipeline built the retour from this payload:
    its parties are the heenbericht's, reversed; its versions the same) instead of reading the
    retour again. Every value comes from the checked Di01 and payload or from the gateway itself;
    the template still sends a value it cannot vouch for through the schema-checked builder."""
    p = received.payload
    ref = build.new_reference()
    data, at = _du01(p.receiver, p.sender, ref, build.tijdstip(), received.referentienummer, answer.code,
                     retour, p.versie, p.subversie, build.DEFAULT_APPLICATION)
    return data, ref, at


def payload_fo01(received: Received, reason: str) -> tuple[bytes, str]:
    """The Fo01 StUF055 for a payload that fails its XSD, and its referentienummer."""
    data = build.fo01(received.raw, received.envelope, reason)
    ref = etree.fromstring(data).findtext(f".//{{{NS_STUF}}}referentienummer")
    return data, ref or ""
