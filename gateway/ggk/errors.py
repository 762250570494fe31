"""Every way an envelope can be refused: our code, the StUF/IB code of the chain's error-code list,
the StUF `plek` and a one-line meaning.

The codes on the right are those of "Foutcodes asynchroon berichtenverkeer ISD-keten 2.1 patch 04
revisie 3". Where the list has no code for exactly our case the nearest one is used and the table
says so (docs/ggk.md repeats this table). The chain answers a refused envelope with that code in a
Fo03 (between chain parties, SOAP) or a Fo01 (to the sender); a payload that fails its own XSD is
the one case a municipality answers with a Fo01 itself (StUF055).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

Plek = Literal["client", "server"]


@dataclass(frozen=True)
class Code:
    stuf: str  # the code in the Fo01/Fo03 body (at most 7 characters)
    plek: Plek
    meaning: str
    exact: bool = True  # False: the list has no code for this case, `stuf` is the nearest


CODES: dict[str, Code] = {
    # -- the envelope itself ------------------------------------------------------------------
    "ENVELOPE_TOO_LARGE": Code("IB007", "server", "Bericht is te groot: the envelope exceeds 25 MB"),
    "ENVELOPE_NOT_XML": Code(
        "RIN001", "client", "the envelope is not well-formed UTF-8 XML, or carries a DOCTYPE"
    ),
    "NOT_AN_ENVELOPE": Code(
        "RIN001", "client", "the root element is none of Di01, Du01, Fo01, Fo03, Bv03"
    ),
    "ENVELOPE_SCHEMA": Code("RIN001", "client", "the StUF envelope does not conform to its XSD"),
    "REFERENCE_NOT_UUID4": Code(
        "IB009", "client", "(cross)referentienummer is not a UUID version 4"
    ),
    "BERICHTCODE": Code(
        "IB240", "client", "berichtcode does not fit the envelope (Di01, Du01, Fo01, ...)"
    ),
    # -- the payload ------------------------------------------------------------------------
    "PAYLOAD_BASE64": Code(
        "RIN001", "client", "the payload is not valid base64", exact=False
    ),
    "PAYLOAD_TOO_LARGE": Code("IB007", "server", "Bericht is te groot: the decoded payload exceeds 25 MB"),
    "PAYLOAD_NOT_XML": Code(
        "StUF055", "client",
        "xmlBestand is not well-formed UTF-8 XML, or carries a DOCTYPE / entities",
    ),
    "PAYLOAD_UNKNOWN": Code(
        "StUF055", "client", "xmlBestand is not an iJw/iWmo 3.2 message this gateway holds"
    ),
    "FUNCTIE_MISMATCH": Code(
        "IB240", "client",
        "stuurgegevens.functie is not the payload's message type, or a retour travels in a Di01 "
        "(a heenbericht in a Du01)",
        exact=False,
    ),
    "VERSIE_MISMATCH": Code(
        "IB240", "client",
        "functieVersie/functieSubversie are not the payload's BerichtVersie/BerichtSubversie",
        exact=False,
    ),
    "ZENDER_MISMATCH": Code(
        "IB234", "client", "zender.organisatie is not the payload's sender", exact=False
    ),
    "ONTVANGER_MISMATCH": Code(
        "IB102", "client", "ontvanger.organisatie is not the payload's receiver", exact=False
    ),
    "PAYLOAD_SCHEMA": Code(
        "StUF055", "client", "Berichtbody is niet conform schema in sectormodel"
    ),
    # -- stateful checks: the codes for the service to use (issue 17, item 6) -----------------
    "ONTVANGER_UNKNOWN": Code("IB210", "client", "Ontvangende organisatie onbekend"),
    "REFERENCE_REUSED": Code(
        "IB216", "client", "Combinatie zender en referentienummer niet uniek"
    ),
    # -- building an envelope from bad input (our own mistakes or the caller's) ---------------
    "BUILD": Code("RIN001", "server", "an envelope could not be built from the given values", exact=False),
}


class GgkError(BaseModel):
    """One refusal, as the API, the CLI and a Fo01/Fo03 body show it."""

    code: str  # one of CODES
    stuf_code: str  # IB009, StUF055, ... (the Fo01/Fo03 body code)
    plek: Plek
    text: str  # what exactly is wrong, for a person; never contains payload content
    path: str | None = None  # the element, e.g. /envelopHeenbericht-ggk_Di01/stuurgegevens/functie
    line: int | None = None

    def line_text(self) -> str:
        """`IB009 REFERENCE_NOT_UUID4 (line 13): ...` for a log or the CLI."""
        where = f" (line {self.line})" if self.line else ""
        return f"{self.stuf_code} {self.code}{where}: {self.text}"


def error(code: str, text: str, *, path: str | None = None, line: int | None = None) -> GgkError:
    spec = CODES[code]
    return GgkError(code=code, stuf_code=spec.stuf, plek=spec.plek, text=text, path=path, line=line)


class EnvelopeError(ValueError):
    """An envelope (or the input for one) that is refused; `.error` says why."""

    def __init__(self, err: GgkError):
        super().__init__(err.line_text())
        self.error = err


def fail(code: str, text: str, *, path: str | None = None, line: int | None = None) -> EnvelopeError:
    return EnvelopeError(error(code, text, path=path, line=line))
