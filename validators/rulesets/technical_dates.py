"""Date rules of the xslt class: TR002, TR018, TR134, TR137, TR335, TR380 (level 2, retourcode 0001).

The TR texts do not name their elements; the bindings below are those of the official rule-check
(see docs/rules.md, "Element bindings"). Dates are compared with the message's own
Header/BerichtIdentificatie/Dagtekening, never with the system clock (that is TR135, level 4).
Each finding lists the dates it compared (the Dagtekening too), as the official report does.
"""

from __future__ import annotations

from validators.common import (
    PrestatieRow,
    dagtekening,
    dagtekening_el,
    date_of,
    descendants,
    geboortedata,
    issue,
    parse_date,
    prestatie_rows,
    years_before,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child, first, text

# The dates TR134 checks, per message number, as element paths below the root (the official
# rule-check's binding: the TR text names no elements). In 323 and 325 the Prestaties'
# ProductPeriode/Begindatum come on top, read from the prestatie rows.
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
    "323": [("Declaratie", "DeclaratiePeriode", "Begindatum")],
    "325": [],
}
_DECLARATION = ("323", "325")

# Periods whose Einddatum TR137 checks (Begindatum <= Einddatum <= Dagtekening).
# (The ProductPeriode of every Prestatie, in 323 and 325, comes from the rows.)
_TR137_PERIODS: dict[str, list[tuple[str, ...]]] = {"323": [("Declaratie", "DeclaratiePeriode")], "325": []}


_dagtekening_el = dagtekening_el


@rule(
    "TR002",
    retourcode="0001",
    level="xslt",
    # the retours echo the Geboortedatum and the official set checks it there too
    messages=("301", "302", "305", "306", "307", "308", "315", "316"),
    summary="Every Geboortedatum (client, relatie) is not more than 120 years before the Dagtekening, unless unknown.",
)
def tr002(r: Rule, ctx: RuleContext) -> list[Issue]:
    dag = dagtekening(ctx.root)
    if dag is None:
        return []
    limit = years_before(dag, 120)
    own, relaties = geboortedata(ctx)
    found: list[Issue] = []
    for _geboorte, f in [*own[:1], *relaties]:
        datum_el = first(f, "Datum")
        value = datum_el.text if datum_el is not None else None
        born = parse_date(value)
        if born is None or born >= limit:
            continue
        gebruik_el = first(f, "DatumGebruik")
        unknown = gebruik_el is not None and gebruik_el.text == "3" and value == "1900-01-01"
        if not unknown:
            found.append(
                issue(
                    r, ctx, datum_el, f"Geboortedatum is more than 120 years before Dagtekening {dag}",
                    also=[_dagtekening_el(ctx.root)],
                )
            )
    return found


@rule(
    "TR018",
    retourcode="0001",
    level="xslt",
    messages=("307",),
    summary="StopProduct Einddatum is on or after its Begindatum.",
)
def tr018(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    for stop in descendants(ctx.root, "Client", "StopProducten", "StopProduct"):
        begin_el, end_el = child(stop, "Begindatum"), child(stop, "Einddatum")
        begin, end = parse_date(text(begin_el)), parse_date(text(end_el))
        if begin and end and end < begin:
            found.append(issue(r, ctx, end_el, f"Einddatum {end} is before Begindatum {begin}", also=[begin_el]))
    return found


@rule(
    "TR134",
    retourcode="0001",
    level="xslt",
    messages=tuple(_TR134_DATES),
    summary="Date exists and is not later than the message Dagtekening.",
)
def tr134(r: Rule, ctx: RuleContext) -> list[Issue]:
    dag = dagtekening(ctx.root)
    if dag is None:
        return []
    # (date element or prestatie row, value): a row's element is looked up on a finding only
    found = []
    for steps in _TR134_DATES.get(ctx.mtype.number, ()):
        for el in descendants(ctx.root, *steps):
            value = parse_date(el.text)
            if value is None or value > dag:
                found.append((el, value))
    if ctx.mtype.number in _DECLARATION:
        for row in prestatie_rows(ctx.root, ctx.extra):
            if row.begin is None or row.begin > dag:
                found.append((row, row.begin))
    if not found:
        return []
    dag_el = _dagtekening_el(ctx.root)
    out: list[Issue] = []
    for where, value in found:
        if isinstance(where, PrestatieRow):
            if not where.has("ProductPeriode/Begindatum"):
                continue
            where = where.find("ProductPeriode/Begindatum")
        if value is None:
            out.append(issue(r, ctx, where, f"{text(where)!r} is not an existing date"))
        else:
            out.append(issue(r, ctx, where, f"date {value} is after the message Dagtekening {dag}", also=[dag_el]))
    return out


@rule(
    "TR137",
    retourcode="0001",
    level="xslt",
    messages=tuple(_TR137_PERIODS),
    summary="Period Einddatum is on or after its Begindatum and not after the message Dagtekening.",
)
def tr137(r: Rule, ctx: RuleContext) -> list[Issue]:
    # Two checks, as the official rule-check makes them: Begindatum <= Einddatum (both dates
    # are the Locaties) and Einddatum <= Dagtekening (Einddatum and the Header's Dagtekening).
    found: list[Issue] = []
    dag = dagtekening(ctx.root)
    dag_el = _dagtekening_el(ctx.root)
    # (period element or prestatie row, begin, end); elements are looked up on a finding only
    periods: list = [
        (p, date_of(p, "Begindatum"), date_of(p, "Einddatum"))
        for steps in _TR137_PERIODS.get(ctx.mtype.number, [])
        for p in descendants(ctx.root, *steps)
    ]
    if ctx.mtype.number in _DECLARATION:
        periods += [(row, row.begin, row.end) for row in prestatie_rows(ctx.root, ctx.extra)]
    for period, begin, end in periods:
        if end is None:
            continue
        before = begin is not None and end < begin
        late = dag is not None and end > dag
        if not (before or late):
            continue
        if isinstance(period, PrestatieRow):
            begin_el, end_el = period.find("ProductPeriode/Begindatum"), period.find("ProductPeriode/Einddatum")
        else:
            begin_el, end_el = child(period, "Begindatum"), child(period, "Einddatum")
        if before:
            found.append(issue(r, ctx, end_el, f"Einddatum {end} is before Begindatum {begin}", also=[begin_el]))
        if late:
            found.append(
                issue(r, ctx, end_el, f"Einddatum {end} is after the message Dagtekening {dag}", also=[dag_el])
            )
    return found


@rule(
    "TR335",
    retourcode="0001",
    level="xslt",
    messages=("323",),
    summary="Prestatie ProductPeriode Einddatum is not more than 5 years before the DeclaratieDagtekening.",
)
def tr335(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    dd_el = child(child(ctx.root, "Declaratie"), "DeclaratieDagtekening")
    dd = parse_date(text(dd_el))
    if dd is None:
        return found
    limit = years_before(dd, 5)
    for row in prestatie_rows(ctx.root, ctx.extra):
        if row.end is not None and row.end < limit:
            found.append(
                issue(
                    r,
                    ctx,
                    row.find("ProductPeriode/Einddatum"),
                    f"Einddatum {row.end} is more than 5 years before DeclaratieDagtekening {dd}",
                    also=[dd_el],
                )
            )
    return found


@rule(
    "TR380",
    retourcode="0001",
    level="xslt",
    messages=("317",),
    summary="NieuwProduct GewensteIngangsdatum is after the message Dagtekening.",
)
def tr380(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    dag = dagtekening(ctx.root)
    if dag is None:
        return found
    dag_el = _dagtekening_el(ctx.root)
    for nieuw in descendants(ctx.root, "Client", "Verzoek", "NieuweProducten", "NieuwProduct"):
        wanted_el = child(nieuw, "GewensteIngangsdatum")
        wanted = parse_date(text(wanted_el))
        if wanted is not None and wanted <= dag:
            found.append(
                issue(
                    r,
                    ctx,
                    wanted_el,
                    f"GewensteIngangsdatum {wanted} is not after the message Dagtekening {dag}",
                    also=[dag_el],
                )
            )
    return found
