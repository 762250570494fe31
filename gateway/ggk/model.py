"""The typed shapes of the five StUF messages of the ISD chain, as the rest of the gateway sees them.

Field names follow the StUF element names (snake_case). An `Envelope` holds the decoded payload;
`metadata()` is what is stored with a message (everything but the payload).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from gateway.ggk.errors import Plek

NS_STUF = "http://www.egem.nl/StUF/StUF0301"
NS_GGK = "http://www.stufstandaarden.nl/koppelvlak/ggk0210"

Berichtcode = Literal["Di01", "Du01", "Fo01", "Fo03", "Bv03"]

# Root element (namespace, local name) -> berichtcode
ROOTS: dict[tuple[str, str], Berichtcode] = {
    (NS_GGK, "envelopHeenbericht-ggk_Di01"): "Di01",
    (NS_GGK, "envelopRetourbericht-ggk_Du01"): "Du01",
    (NS_STUF, "Fo01Bericht"): "Fo01",
    (NS_STUF, "Fo03Bericht"): "Fo03",
    (NS_STUF, "Bv03Bericht"): "Bv03",
}
ROOT_OF: dict[Berichtcode, tuple[str, str]] = {code: key for key, code in ROOTS.items()}

# Chain parties that may sign a Du01 or Fo01 themselves (spec 2.1.03: traceability).
CHAIN_PARTIES = frozenset({"VECOZO", "IB", "RINIS"})
# stuurgegevens.ontvanger.applicatie of an envelope: a fixed value (spec 3.1-3.3).
GGK_APPLICATIE = "GGk"


class Systeem(BaseModel):
    """zender / ontvanger: the organisation (CBS-gemeentecode, AGB-code, IB, ...) and its application."""

    organisatie: str | None = None
    applicatie: str
    administratie: str | None = None
    gebruiker: str | None = None


class Stuurgegevens(BaseModel):
    berichtcode: Berichtcode
    zender: Systeem
    ontvanger: Systeem
    referentienummer: str
    tijdstip_bericht: str  # yyyymmddhhmmss[fff], local time
    cross_refnummer: str | None = None  # Du01, Fo01, Fo03, Bv03
    functie: str | None = None  # Di01, Du01: the payload's message type, e.g. WMO301


class Parameters(BaseModel):
    applicatie_versie: str
    applicatie_subversie: str
    functie_versie: str
    functie_subversie: str
    bestand: Literal["xml", "tekst"]
    bestandsnaam: str | None = None  # tekstBestand only


class Envelope(BaseModel):
    """A ggk0210-Di01 (heenbericht) or ggk0210-Du01 (retourbericht) with its decoded payload."""

    berichtcode: Literal["Di01", "Du01"]
    stuurgegevens: Stuurgegevens
    parameters: Parameters
    payload: bytes = Field(repr=False)

    def metadata(self) -> dict:
        """What is stored with the message: everything but the payload."""
        return self.model_dump(exclude={"payload"}) | {"payload_bytes": len(self.payload)}


class Fout(BaseModel):
    """A StUF Fo01 (error sent to a party) or Fo03 (SOAP fault between chain parties)."""

    berichtcode: Literal["Fo01", "Fo03"]
    stuurgegevens: Stuurgegevens
    code: str
    plek: Plek
    omschrijving: str
    details: str | None = None
    details_xml: bytes | None = Field(default=None, repr=False)  # the children of detailsXML


class Bevestiging(BaseModel):
    """A StUF Bv03: receipt confirmed."""

    berichtcode: Literal["Bv03"]
    stuurgegevens: Stuurgegevens


Message = Annotated[Envelope | Fout | Bevestiging, Field(discriminator="berichtcode")]


class Application(BaseModel):
    """The sending application as envelopes name it: a name without version (spec 2.5) and
    the version and subversion as four digits each."""

    naam: str = "iJwiWmoGateway"
    versie: str = "0001"
    subversie: str = "0000"
