"""StUF-GGk envelopes of the ISD chain (StUF-envelop 2.1 patch 04): read, check and build them.

    from gateway import ggk
    opened = ggk.unwrap(raw)            # Di01/Du01 -> Opened(envelope, payload); EnvelopeError if refused
    ggk.read(raw)                       # any of Di01, Du01, Fo01, Fo03, Bv03, typed
    ggk.wrap(message)                   # a bare heenbericht -> Di01 bytes
    ggk.wrap_retour(retour, envelope)   # its retour -> Du01 bytes (crossRefnummer = Di01's referentienummer)
    ggk.fo01(raw, envelope, reason)     # payload fails its XSD -> Fo01 StUF055
    ggk.bv03(sg) / ggk.fo03(error, sg)  # the SOAP service's answers

Layers: `read` (size, hardened parse, our schema in xsd/, base64), `payload` (the payload as an
iJw/iWmo message and the envelope rules that need it), `build`. Errors: `errors.CODES` maps each of
our codes to the chain's StUF/IB code. docs/ggk.md describes the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.ggk import plain
from gateway.ggk.build import bv03, envelope, fo01, fo03, new_reference, wrap, wrap_retour
from gateway.ggk.errors import CODES, EnvelopeError, GgkError, fail
from gateway.ggk.model import Application, Bevestiging, Envelope, Fout, Stuurgegevens, Systeem
from gateway.ggk.payload import Payload, open_payload
from gateway.ggk.read import MAX_ENVELOPE_BYTES, read

if TYPE_CHECKING:
    from schemas.registry import SchemaRegistry


@dataclass
class Opened:
    """A checked Di01/Du01 and its payload, parsed and identified."""

    envelope: Envelope
    payload: Payload


def unwrap(raw: bytes, registry: SchemaRegistry | None = None) -> Opened:
    """A Di01 or Du01 opened: envelope checked, payload decoded, parsed and matched against it.
    Raises EnvelopeError (a Fo01/Fo03/Bv03 is not an envelope with a payload: NOT_AN_ENVELOPE).
    An envelope in the plain form is read as the receive path reads it (gateway.ggk.plain)."""
    head = plain.head(raw)
    if head is not None:
        envelope = head.envelope()
        return Opened(envelope, open_payload(envelope, registry))
    message = read(raw)
    if not isinstance(message, Envelope):
        raise fail("NOT_AN_ENVELOPE", f"a {message.berichtcode} carries no payload; expected a Di01 or Du01")
    return Opened(message, open_payload(message, registry))


__all__ = [
    "CODES", "MAX_ENVELOPE_BYTES", "Application", "Bevestiging", "Envelope", "EnvelopeError", "Fout",
    "GgkError", "Opened", "Payload", "Stuurgegevens", "Systeem", "bv03", "envelope", "fo01", "fo03",
    "new_reference", "open_payload", "read", "unwrap", "wrap", "wrap_retour",
]
