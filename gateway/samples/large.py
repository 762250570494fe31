"""Large declarations for benchmarks, built by string templating (lxml would dominate the time)."""

from __future__ import annotations

from datetime import date

from gateway.samples.bsn import BSNS
from gateway.samples.params import DEFAULT_PRODUCT, DEFAULT_TARIEF
from gateway.samples.xmlbuild import XSD_VERSIONS, message_type, previous_month, today, unique_id

# `{p}` is the basisschema prefix: children of ProductReferentie, ProductPeriode and IngediendBedrag
# live in the basisschema namespace.
_PRESTATIE = (
    "<Prestatie><ProductReferentie><{p}:ReferentieNummer>{ref}</{p}:ReferentieNummer></ProductReferentie>"
    "<ToewijzingNummer>{toewijzing}</ToewijzingNummer><ProductCategorie>{cat}</ProductCategorie>"
    "<ProductCode>{code}</ProductCode><ProductPeriode><{p}:Begindatum>{begin}</{p}:Begindatum>"
    "<{p}:Einddatum>{end}</{p}:Einddatum></ProductPeriode><GeleverdVolume>{volume}</GeleverdVolume>"
    "<Eenheid>04</Eenheid><ProductTarief>{tarief}</ProductTarief><IngediendBedrag>"
    "<{p}:Bedrag>{bedrag}</{p}:Bedrag><{p}:DebetCredit>D</{p}:DebetCredit></IngediendBedrag></Prestatie>\n"
)


def large_declaration(
    standard: str = "ijw",
    n_prestaties: int = 1000,
    *,
    n_clients: int | None = None,
    gemeente: str = "0599",
    aanbieder: str = "12345678",
    dagtekening: date | None = None,
    first_toewijzing: int = 100_000,
) -> bytes:
    """A valid 323 with `n_prestaties` debit prestaties spread over `n_clients` clients.

    Every prestatie has its own ToewijzingNummer (first_toewijzing + i), so TR101/TR416 hold; the
    total is their sum (TR358). Default client count: one per 20 prestaties, at most len(BSNS).
    """
    if n_prestaties < 1:
        raise ValueError("a declaration needs at least one prestatie")
    n_clients = n_clients or max(1, min(len(BSNS), n_prestaties // 20))
    if n_clients > min(len(BSNS), n_prestaties):
        raise ValueError(f"n_clients must be between 1 and {min(len(BSNS), n_prestaties)}")
    mt = message_type(standard, "323")
    dag = dagtekening or today()
    begin, end = previous_month(dag)
    cat, code = DEFAULT_PRODUCT[standard]
    basis, bericht = XSD_VERSIONS[standard]
    p = standard  # prefix of the basisschema namespace
    tag = unique_id("", 8)
    parts: list[str] = []
    total = 0
    per_client, extra = divmod(n_prestaties, n_clients)
    i = 0
    for c in range(n_clients):
        parts.append(f"<Client><Bsn>{BSNS[c]}</Bsn><Prestaties>\n")
        for _ in range(per_client + (1 if c < extra else 0)):
            volume = 1 + i % 40
            bedrag = volume * DEFAULT_TARIEF
            total += bedrag
            parts.append(
                _PRESTATIE.format(
                    p=p, ref=f"{tag}{i}", toewijzing=first_toewijzing + i, cat=cat, code=code,
                    begin=begin, end=end, volume=volume, tarief=DEFAULT_TARIEF, bedrag=bedrag,
                )
            )
            i += 1
        parts.append("</Prestaties></Client>\n")
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Bericht xmlns="{mt.namespace}" xmlns:{p}="{mt.basis_namespace}"><Header><BerichtCode>{mt.berichtcode}</BerichtCode>'
        "<BerichtVersie>3</BerichtVersie><BerichtSubversie>2</BerichtSubversie>"
        f"<Afzender>{aanbieder}</Afzender><Ontvanger>{gemeente}</Ontvanger>"
        f"<BerichtIdentificatie><{p}:Identificatie>{unique_id('L')}</{p}:Identificatie>"
        f"<{p}:Dagtekening>{dag}</{p}:Dagtekening></BerichtIdentificatie>"
        f"<XsdVersie><{p}:BasisschemaXsdVersie>{basis}</{p}:BasisschemaXsdVersie>"
        f"<{p}:BerichtXsdVersie>{bericht}</{p}:BerichtXsdVersie></XsdVersie></Header>\n"
        f"<Declaratie><DeclaratieNummer>{unique_id('D')}</DeclaratieNummer>"
        f"<DeclaratiePeriode><{p}:Begindatum>{begin}</{p}:Begindatum><{p}:Einddatum>{end}</{p}:Einddatum>"
        "</DeclaratiePeriode>"
        f"<DeclaratieDagtekening>{dag}</DeclaratieDagtekening>"
        f"<TotaalIngediendBedrag><{p}:TotaalBedrag>{total}</{p}:TotaalBedrag><{p}:DebetCredit>D</{p}:DebetCredit>"
        "</TotaalIngediendBedrag><Clienten>\n"
    )
    return (head + "".join(parts) + "</Clienten></Declaratie></Bericht>\n").encode("utf-8")
