"""Building the chain's StUF messages: Di01 and Du01 around a bare message, Fo01 (StUF055) for a
payload that fails its XSD, Bv03 and Fo03 as the SOAP service's answers.

Every message built is checked against our envelope schema before it is returned: a value that
does not fit (an application name of two letters, a Fo01 text too long) is an EnvelopeError with
code BUILD, never an envelope the chain would refuse. References are fresh UUID version 4;
tijdstipBericht is the gateway clock in Dutch local time (yyyymmddhhmmss, as the official examples).
"""

from __future__ import annotations

import base64
import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from lxml import etree

from gateway import catalog, clock
from gateway.ggk import payload as payloads
from gateway.ggk import schema
from gateway.ggk.errors import GgkError, fail
from gateway.ggk.model import (
    GGK_APPLICATIE,
    NS_GGK,
    NS_STUF,
    ROOT_OF,
    Application,
    Envelope,
    Stuurgegevens,
    Systeem,
)
from gateway.ggk.read import MAX_ENVELOPE_BYTES, parse_envelope

if TYPE_CHECKING:
    from schemas.registry import SchemaRegistry

NSMAP = {"StUF": NS_STUF, "GGK": NS_GGK}
DEFAULT_APPLICATION = Application()
STUF055_TEXT = "Berichtbody is niet conform schema in sectormodel"


def new_reference() -> str:
    """A referentienummer: UUID version 4, lower case (the chain's pattern). What uuid.uuid4()
    makes (16 random bytes, version 4, RFC 4122 variant), written without building a UUID object:
    one is made for every retour, and the object costs more than the random bytes."""
    r = bytearray(os.urandom(16))
    r[6] = (r[6] & 0x0F) | 0x40  # version 4
    r[8] = (r[8] & 0x3F) | 0x80  # variant 10xx
    h = r.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_SECOND = timedelta(seconds=1)
# (start, end, text) of the last UTC second written: every retour of that second has the same
# tijdstipBericht, so the time zone conversion is done once a second, not once a message.
_last_second: tuple[datetime, datetime, str] | None = None


def tijdstip() -> str:
    """tijdstipBericht: yyyymmddhhmmss in Dutch local time (as strftime("%Y%m%d%H%M%S"), cheaper)."""
    global _last_second
    now = clock.now()
    last = _last_second
    if last is not None and last[0] <= now < last[1]:
        return last[2]
    t = now.astimezone(clock.NL)
    text = "%04d%02d%02d%02d%02d%02d" % (t.year, t.month, t.day, t.hour, t.minute, t.second)
    start = now.replace(microsecond=0)  # a UTC second lies within one Dutch second
    _last_second = (start, start + _SECOND, text)
    return text


def _sub(parent: etree._Element, ns: str, name: str, value: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{name}")
    if value is not None:
        el.text = value
    return el


def _systeem(parent: etree._Element, name: str, s: Systeem) -> None:
    el = _sub(parent, NS_STUF, name)
    for field in ("organisatie", "applicatie", "administratie", "gebruiker"):
        value = getattr(s, field)
        if value is not None:
            _sub(el, NS_STUF, field, value)


def _stuurgegevens(parent: etree._Element, ns: str, sg: Stuurgegevens) -> None:
    el = _sub(parent, ns, "stuurgegevens")
    _sub(el, NS_STUF, "berichtcode", sg.berichtcode)
    _systeem(el, "zender", sg.zender)
    _systeem(el, "ontvanger", sg.ontvanger)
    _sub(el, NS_STUF, "referentienummer", sg.referentienummer)
    _sub(el, NS_STUF, "tijdstipBericht", sg.tijdstip_bericht)
    if sg.cross_refnummer is not None:
        _sub(el, NS_STUF, "crossRefnummer", sg.cross_refnummer)
    if sg.functie is not None:
        _sub(el, NS_STUF, "functie", sg.functie)


def _root(berichtcode: str) -> etree._Element:
    ns, name = ROOT_OF[berichtcode]
    return etree.Element(f"{{{ns}}}{name}", nsmap=NSMAP)


def _finish(root: etree._Element) -> bytes:
    found = schema.findings(root)
    if found:
        raise fail("BUILD", f"the {etree.QName(root).localname} built does not conform: {found[0].text}",
                   path=found[0].path)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if len(data) > MAX_ENVELOPE_BYTES:
        raise fail("ENVELOPE_TOO_LARGE", f"the envelope would be {len(data) / (1024 * 1024):.1f} MB; "
                   "the limit is 25 MB, payload included")
    return data


def envelope(sg: Stuurgegevens, app: Application, payload: bytes, functie_versie: str,
             functie_subversie: str, *, bestandsnaam: str | None = None) -> bytes:
    """A Di01 or Du01 from its parts (no payload checks: see `wrap`)."""
    root = _root(sg.berichtcode)
    _stuurgegevens(root, NS_GGK, sg)
    params = _sub(root, NS_GGK, "parameters")
    for name, value in (("applicatieVersie", app.versie), ("applicatieSubversie", app.subversie),
                        ("functieVersie", functie_versie), ("functieSubversie", functie_subversie)):
        _sub(params, NS_GGK, name, value)
    bericht = _sub(params, NS_GGK, "bericht")
    encoded = base64.b64encode(payload).decode("ascii")
    if bestandsnaam is None:
        _sub(bericht, NS_GGK, "xmlBestand", encoded)
    else:
        _sub(bericht, NS_GGK, "tekstBestand", encoded).set("bestandsnaam", bestandsnaam)
    return _finish(root)


def wrap(message: bytes, *, cross_ref: str | None = None, app: Application = DEFAULT_APPLICATION,
         zender_applicatie: str | None = None, referentienummer: str | None = None,
         registry: SchemaRegistry | None = None) -> bytes:
    """A bare iJw/iWmo message in its envelope: a heenbericht in a Di01, a retour (or 325) in a
    Du01 whose crossRefnummer (`cross_ref`, required) is the Di01's referentienummer.

    zender/ontvanger are the message's sender/receiver (a retour's Ontvanger/Afzender: it keeps
    the heenbericht's Header), functie its type, functieVersie and
    functieSubversie its BerichtVersie/BerichtSubversie."""
    msg = payloads.message(message, registry)
    retour = msg.mtype.kind != "heen"
    if retour and cross_ref is None:
        raise fail("BUILD", f"a {msg.mtype.code} is a retour: its Du01 needs the heenbericht's Di01 "
                   "referentienummer as crossRefnummer")
    if not retour and cross_ref is not None:
        raise fail("BUILD", f"a {msg.mtype.code} is a heenbericht: its Di01 has no crossRefnummer")
    sg = Stuurgegevens(
        berichtcode="Du01" if retour else "Di01",
        zender=Systeem(organisatie=msg.sender, applicatie=zender_applicatie or app.naam),
        ontvanger=Systeem(organisatie=msg.receiver, applicatie=GGK_APPLICATIE),
        referentienummer=referentienummer or new_reference(),
        tijdstip_bericht=tijdstip(),
        cross_refnummer=cross_ref,
        functie=msg.mtype.code,
    )
    return envelope(sg, app, msg.raw, msg.versie, msg.subversie)


def wrap_retour(retour: bytes, heen: Envelope, *, app: Application = DEFAULT_APPLICATION,
                registry: SchemaRegistry | None = None) -> bytes:
    """The Du01 answering a received Di01: crossRefnummer is the Di01's referentienummer, functie
    the retour's code, which must be the answer to the Di01's functie (JW301 -> JW302)."""
    if heen.berichtcode != "Di01":
        raise fail("BUILD", f"a retour answers a Di01, not a {heen.berichtcode}")
    msg = payloads.message(retour, registry)
    try:
        expected = catalog.by_code(heen.stuurgegevens.functie or "").answered_by
    except KeyError:
        expected = None
    if expected is None or expected.code != msg.mtype.code:
        want = expected.code if expected else "no retour"
        raise fail("BUILD", f"the Di01 carries a {heen.stuurgegevens.functie}, answered by {want}, "
                   f"not by the {msg.mtype.code} given")
    return wrap(retour, cross_ref=heen.stuurgegevens.referentienummer, app=app, registry=registry)


def _answer_header(berichtcode: str, received: Stuurgegevens | None, zender: Systeem,
                   ontvanger: Systeem | None) -> Stuurgegevens:
    return Stuurgegevens(
        berichtcode=berichtcode,
        zender=zender,
        ontvanger=ontvanger or (received.zender if received else Systeem(applicatie="onbekend")),
        referentienummer=new_reference(),
        tijdstip_bericht=tijdstip(),
        cross_refnummer=received.referentienummer if received else "",
    )


def _us(received: Stuurgegevens | None, app: Application) -> Systeem:
    """The gateway as sender of an answer: the organisation the received message was for."""
    return Systeem(organisatie=received.ontvanger.organisatie if received else None, applicatie=app.naam)


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def _body(root: etree._Element, code: str, plek: str, omschrijving: str, details: str | None,
          details_xml: etree._Element | None) -> None:
    body = _sub(root, NS_STUF, "body")
    _sub(body, NS_STUF, "code", code)
    _sub(body, NS_STUF, "plek", plek)
    _sub(body, NS_STUF, "omschrijving", _cut(omschrijving, 200))
    if details is not None:
        _sub(body, NS_STUF, "details", _cut(details, 1000))
    if details_xml is not None:
        _sub(body, NS_STUF, "detailsXML").append(details_xml)


def fo01(received_raw: bytes, received: Envelope, reason: str, *,
         app: Application = DEFAULT_APPLICATION) -> bytes:
    """The Fo01 a municipality sends for a payload that fails its XSD (StUF055), to the Di01's
    sender through the GGk: details = functie-applicatieVersie+applicatieSubversie of the Di01,
    detailsXML = the original envelope as XML (no base64, no CDATA). Never a retour as well."""
    sg = received.stuurgegevens
    header = _answer_header("Fo01", sg, _us(sg, app),
                            Systeem(organisatie=sg.zender.organisatie, applicatie=GGK_APPLICATIE))
    root = _root("Fo01")
    _stuurgegevens(root, NS_STUF, header)
    original, _ = parse_envelope(received_raw)
    p = received.parameters
    _body(root, "StUF055", "client", f"{STUF055_TEXT}: {reason}",
          f"{sg.functie}-{p.applicatie_versie}{p.applicatie_subversie}", original)
    return _finish(root)


def fo03(err: GgkError, received: Stuurgegevens | None = None, *,
         app: Application = DEFAULT_APPLICATION) -> bytes:
    """The Fo03 fault the SOAP service answers a refused message with (nothing stored)."""
    root = _root("Fo03")
    _stuurgegevens(root, NS_STUF, _answer_header("Fo03", received, _us(received, app), None))
    where = f" at {err.path}" if err.path else ""
    _body(root, err.stuf_code, err.plek, err.text, f"{err.code}{where}", None)
    return _finish(root)


def bv03(received: Stuurgegevens, *, app: Application = DEFAULT_APPLICATION) -> bytes:
    """The Bv03 the SOAP service answers a stored message with."""
    root = _root("Bv03")
    _stuurgegevens(root, NS_STUF, _answer_header("Bv03", received, _us(received, app), None))
    return _finish(root)
