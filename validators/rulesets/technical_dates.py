"""Date rules of the xslt class: TR002, TR018, TR134, TR137, TR335, TR380 (level 2, retourcode 0001).

The TR texts do not name their elements; the bindings below follow the digest's reading of the
standard (see docs/rules.md, "Element bindings"). Dates are compared with the message's own
Header/BerichtIdentificatie/Dagtekening, never with the system clock (that is TR135, level 4).
"""

from __future__ import annotations

from collections.abc import Iterator

from validators.common import (
    PrestatieRow,
    dagtekening,
    date_of,
    descendants,
    issue,
    parse_date,
    prestatie_rows,
    years_before,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child, text

# Element paths below the root per message number, as (class path..., date element path...).
_TR134_DATES: dict[str, list[tuple[str, ...]]] = {
    "301": [
        ("Client", "Geboortedatum", "Datum"),
        ("Client", "Relaties", "Relatie", "Geboortedatum", "Datum"),
        ("Client", "ToegewezenProducten", "ToegewezenProduct", "Toewijzingsdatum"),
    ],
    "305": [
        ("Client", "Geboortedatum", "Datum"),
        ("Client", "StartProducten", "StartProduct", "Begindatum"),
    ],
    "307": [
        ("Client", "Geboortedatum", "Datum"),
        ("Client", "StopProducten", "StopProduct", "Einddatum"),
    ],
    "315": [("Client", "Geboortedatum", "Datum")],
    "323": [("Declaratie", "DeclaratieDagtekening")],
    "325": [],
}
# In 323 and 325 TR134 also covers every Prestatie's ProductPeriode/Begindatum (read from the rows).
_DECLARATION = ("323", "325")

# Periods whose Einddatum TR137 checks (Begindatum <= Einddatum <= Dagtekening).
# (The ProductPeriode of every Prestatie, in 323 and 325, comes from the rows.)
_TR137_PERIODS: dict[str, list[tuple[str, ...]]] = {"323": [("Declaratie", "DeclaratiePeriode")], "325": []}


@rule(
    "TR002",
    retourcode="0001",
    level="xslt",
    # the retours echo the Geboortedatum and the official set checks it there too
    messages=("301", "302", "305", "306", "307", "308", "315", "316"),
    summary="Every Geboortedatum (client, relatie) is not more than 120 years before the Dagtekening, unless unknown.",
)
def tr002(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    dag = dagtekening(ctx.root)
    if dag is None:
        return
    dag_el = child(child(child(ctx.root, "Header"), "BerichtIdentificatie"), "Dagtekening")
    limit = years_before(dag, 120)
    client = child(ctx.root, "Client")
    for geboorte in [child(client, "Geboortedatum"), *descendants(client, "Relaties", "Relatie", "Geboortedatum")]:
        if geboorte is None:
            continue
        datum_el = child(geboorte, "Datum")
        born = parse_date(text(datum_el))
        unknown = text(geboorte, "DatumGebruik") == "3" and text(datum_el) == "1900-01-01"
        if born is not None and not unknown and born < limit:
            yield issue(r, ctx, datum_el, f"Geboortedatum is more than 120 years before Dagtekening {dag}", also=[dag_el])


@rule(
    "TR018",
    retourcode="0001",
    level="xslt",
    messages=("307",),
    summary="StopProduct Einddatum is on or after its Begindatum.",
)
def tr018(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for stop in descendants(ctx.root, "Client", "StopProducten", "StopProduct"):
        begin, end = date_of(stop, "Begindatum"), date_of(stop, "Einddatum")
        if begin and end and end < begin:
            yield issue(r, ctx, child(stop, "Einddatum"), f"Einddatum {end} is before Begindatum {begin}")


@rule(
    "TR134",
    retourcode="0001",
    level="xslt",
    messages=tuple(_TR134_DATES),
    summary="Date exists and is not later than the message Dagtekening.",
)
def tr134(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    dag = dagtekening(ctx.root)
    if dag is None:
        return
    for steps in _TR134_DATES.get(ctx.mtype.number, []):
        for el in descendants(ctx.root, *steps):
            value = parse_date(text(el))
            if value is None:
                yield issue(r, ctx, el, f"{text(el)!r} is not an existing date")
            elif value > dag:
                yield issue(r, ctx, el, f"date {value} is after the message Dagtekening {dag}")
    if ctx.mtype.number in _DECLARATION:
        for row in prestatie_rows(ctx.root, ctx.extra):
            if row.begin is None and row.has("ProductPeriode/Begindatum"):
                yield issue(r, ctx, row.find("ProductPeriode/Begindatum"), "ProductPeriode Begindatum is not an existing date")
            elif row.begin is not None and row.begin > dag:
                yield issue(
                    r,
                    ctx,
                    row.find("ProductPeriode/Begindatum"),
                    f"date {row.begin} is after the message Dagtekening {dag}",
                )


@rule(
    "TR137",
    retourcode="0001",
    level="xslt",
    messages=tuple(_TR137_PERIODS),
    summary="Period Einddatum is on or after its Begindatum and not after the message Dagtekening.",
)
def tr137(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    dag = dagtekening(ctx.root)
    periods = [
        (p, date_of(p, "Begindatum"), date_of(p, "Einddatum"))
        for steps in _TR137_PERIODS.get(ctx.mtype.number, [])
        for p in descendants(ctx.root, *steps)
    ]
    rows = prestatie_rows(ctx.root, ctx.extra) if ctx.mtype.number in _DECLARATION else []
    periods += [(row, row.begin, row.end) for row in rows]
    for period, begin, end in periods:
        if end is None:
            continue
        if begin is not None and end < begin:
            why = f"Einddatum {end} is before Begindatum {begin}"
        elif dag is not None and end > dag:
            why = f"Einddatum {end} is after the message Dagtekening {dag}"
        else:
            continue
        where = period.find("ProductPeriode/Einddatum") if isinstance(period, PrestatieRow) else child(period, "Einddatum")
        yield issue(r, ctx, where, why)


@rule(
    "TR335",
    retourcode="0001",
    level="xslt",
    messages=("323",),
    summary="Prestatie ProductPeriode Einddatum is not more than 5 years before the DeclaratieDagtekening.",
)
def tr335(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    declaratie = child(ctx.root, "Declaratie")
    dd = date_of(declaratie, "DeclaratieDagtekening")
    if dd is None:
        return
    limit = years_before(dd, 5)
    for row in prestatie_rows(ctx.root, ctx.extra):
        if row.end is not None and row.end < limit:
            yield issue(
                r,
                ctx,
                row.find("ProductPeriode/Einddatum"),
                f"Einddatum {row.end} is more than 5 years before DeclaratieDagtekening {dd}",
            )


@rule(
    "TR380",
    retourcode="0001",
    level="xslt",
    messages=("317",),
    summary="NieuwProduct GewensteIngangsdatum is after the message Dagtekening.",
)
def tr380(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    dag = dagtekening(ctx.root)
    if dag is None:
        return
    for nieuw in descendants(ctx.root, "Client", "Verzoek", "NieuweProducten", "NieuwProduct"):
        wanted = date_of(nieuw, "GewensteIngangsdatum")
        if wanted is not None and wanted <= dag:
            yield issue(
                r,
                ctx,
                child(nieuw, "GewensteIngangsdatum"),
                f"GewensteIngangsdatum {wanted} is not after the message Dagtekening {dag}",
            )
