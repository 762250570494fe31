"""Large declarations for benchmarks, built by string templating (lxml would dominate the time)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from gateway.samples.bsn import BSNS
from gateway.samples.heen import allocation
from gateway.samples.params import DEFAULT_PRODUCT, DEFAULT_TARIEF, Allocated
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


def _layout(n_prestaties: int, n_clients: int | None) -> list[list[int]]:
    """Prestatie indexes per client: n_clients near-equal runs of 0..n_prestaties-1."""
    if n_prestaties < 1:
        raise ValueError("a declaration needs at least one prestatie")
    n_clients = n_clients or max(1, min(len(BSNS), n_prestaties // 20))
    if not 1 <= n_clients <= min(len(BSNS), n_prestaties):
        raise ValueError(f"n_clients must be between 1 and {min(len(BSNS), n_prestaties)}")
    per_client, extra = divmod(n_prestaties, n_clients)
    if per_client + (1 if extra else 0) > 1000:
        raise ValueError("at most 1000 prestaties per client (one product code each)")
    out, i = [], 0
    for c in range(n_clients):
        size = per_client + (1 if c < extra else 0)
        out.append(list(range(i, i + size)))
        i += size
    return out


def _code(cat: str, j: int) -> str:
    # a code of its own for every prestatie of a client, so its toewijzingen do not stack (TR302)
    return f"{cat}{j:03d}"


def _volume(i: int) -> int:
    return 1 + i % 10  # within the toewijzing's Omvang of 10 hours a month (TR321)


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
    """A valid 323 with `n_prestaties` debit prestaties for last month, spread over `n_clients` clients.

    Prestatie i is on toewijzing first_toewijzing + i with product code <cat><j> (j = its place within
    the client), so TR101/TR416 hold; the total is their sum (TR358). Default client count: one per
    20 prestaties, at most len(BSNS). `large_declaration_allocations` gives the matching 301s.
    """
    layout = _layout(n_prestaties, n_clients)
    mt = message_type(standard, "323")
    dag = dagtekening or today()
    begin, end = previous_month(dag)
    cat = DEFAULT_PRODUCT[standard][0]
    basis, bericht = XSD_VERSIONS[standard]
    p = standard  # prefix of the basisschema namespace
    tag = unique_id("", 8)
    parts: list[str] = []
    total = 0
    for c, indexes in enumerate(layout):
        parts.append(f"<Client><Bsn>{BSNS[c]}</Bsn><Prestaties>\n")
        for j, i in enumerate(indexes):
            volume = _volume(i)
            bedrag = volume * DEFAULT_TARIEF
            total += bedrag
            parts.append(
                _PRESTATIE.format(
                    p=p, ref=f"{tag}{i}", toewijzing=first_toewijzing + i, cat=cat, code=_code(cat, j),
                    begin=begin, end=end, volume=volume, tarief=DEFAULT_TARIEF, bedrag=bedrag,
                )
            )
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


def large_declaration_allocations(
    standard: str = "ijw",
    n_prestaties: int = 1000,
    *,
    n_clients: int | None = None,
    gemeente: str = "0599",
    aanbieder: str = "12345678",
    first_toewijzing: int = 100_000,
) -> Iterator[bytes]:
    """The 301s (one per client) that create every toewijzing `large_declaration` with the same
    arguments declares on, so a store fed with them first accepts the declaration."""
    cat = DEFAULT_PRODUCT[standard][0]
    for c, indexes in enumerate(_layout(n_prestaties, n_clients)):
        products = tuple(
            Allocated(toewijzingnummer=first_toewijzing + i, categorie=cat, code=_code(cat, j))
            for j, i in enumerate(indexes)
        )
        yield allocation(standard, gemeente=gemeente, aanbieder=aanbieder, bsn=BSNS[c], products=products)
