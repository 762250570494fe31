"""Rules of the declaration (323) and its answer (325) that need only the message itself.

xslt class (level 2, 0001): TR315, TR316, TR342, TR358, TR416.
TR319 is classed berichtoverstijgend by the standard (retourcode 9319 on the Prestatie, a partial
rejection) but needs nothing beyond the message: it is registered at level "crossmessage" with its
official retourcode so the 325 rejects just the prestatie, and runs without stored state.
Every check is one pass with a dict or set: a 323 with 10,000 prestaties stays linear.
"""

from __future__ import annotations

from collections.abc import Iterator

from validators.common import (
    date_of,
    issue,
    later_duplicates,
    path_of,
    prestatie_rows,
    signed_amount,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child

# Level-3 rules that need no stored state: tools holding only the message may run them too.
STATELESS_LEVEL3 = ("TR319",)

_VORIG = "ProductReferentie/VorigReferentieNummer"
# RetourCodes that do not reject (TR342: a listed prestatie must carry a rejection).
_NOT_REJECTING = frozenset({"0200", "8001"})


def _rows(ctx: RuleContext):
    return prestatie_rows(ctx.root, ctx.extra)


def _codes(el) -> list[str]:
    return [(c.text or "").strip() for c in el.iterfind("{*}RetourCodes/{*}RetourCode")]


@rule(
    "TR315",
    retourcode="0001",
    level="xslt",
    messages=("323",),
    summary="Prestatie VorigReferentieNummer is unique within the message.",
)
def tr315(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    vorige = ((row, (row.get(_VORIG),)) for row in _rows(ctx) if row.has(_VORIG))
    for dup, first in later_duplicates(vorige):
        yield issue(r, ctx, dup.find(_VORIG), f"VorigReferentieNummer already used at {path_of(ctx, first.el)}")


@rule(
    "TR316",
    retourcode="0001",
    level="xslt",
    messages=("323",),
    summary="A debit is not credited in the same message: no VorigReferentieNummer equals a "
    "ReferentieNummer in the message.",
)
def tr316(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    rows = _rows(ctx)
    nummers = {row.get("ProductReferentie/ReferentieNummer") for row in rows}
    for row in rows:
        if row.has(_VORIG) and row.get(_VORIG) in nummers:
            yield issue(r, ctx, row.find(_VORIG), "credits a debit prestatie of the same message")


@rule(
    "TR358",
    retourcode="0001",
    level="xslt",
    messages=("323",),
    summary="TotaalIngediendBedrag equals the sum of the prestaties' IngediendBedrag (debit minus credit).",
)
def tr358(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    totaal_el = child(child(ctx.root, "Declaratie"), "TotaalIngediendBedrag")
    totaal = signed_amount(totaal_el, "TotaalBedrag")
    if totaal is None:
        return
    som = sum(row.signed for row in _rows(ctx))
    if som != totaal:
        yield issue(r, ctx, totaal_el, f"TotaalIngediendBedrag is {totaal} but the prestaties add up to {som}")


@rule(
    "TR416",
    retourcode="0001",
    level="xslt",
    messages=("323",),
    summary="At most one debit Prestatie per ProductPeriode, ProductCategorie, ProductCode and "
    "ToewijzingNummer in a message.",
)
def tr416(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    debits = (
        (row, (row.begin, row.end, row.get("ProductCategorie"), row.get("ProductCode"), row.get("ToewijzingNummer")))
        for row in _rows(ctx)
        if row.get("IngediendBedrag/DebetCredit") == "D"
    )
    for dup, first in later_duplicates(debits):
        yield issue(
            r,
            ctx,
            dup.el, f"second debit for the same period, product and toewijzing as {path_of(ctx, first.el)}"
        )


@rule(
    "TR342",
    retourcode="0001",
    level="xslt",
    messages=("325",),
    summary="A 325 lists only rejected prestaties: their signed sum equals TotaalIngediendBedrag minus "
    "TotaalToegekendBedrag; a rejected DeclaratieAntwoord has no Clienten and awards 0.",
)
def tr342(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    antwoord = child(ctx.root, "DeclaratieAntwoord")
    if antwoord is None:
        return
    ingediend = signed_amount(child(antwoord, "TotaalIngediendBedrag"), "TotaalBedrag")
    toegekend_el = child(antwoord, "TotaalToegekendBedrag")
    toegekend = signed_amount(toegekend_el, "TotaalBedrag")
    if any(c not in _NOT_REJECTING for c in _codes(antwoord)):
        if child(antwoord, "Clienten") is not None:
            yield issue(r, ctx, child(antwoord, "Clienten"), "DeclaratieAntwoord is rejected but lists Clienten")
        if toegekend not in (None, 0):
            yield issue(r, ctx, toegekend_el, "DeclaratieAntwoord is rejected but TotaalToegekendBedrag is not 0")
        return
    som = 0
    for row in _rows(ctx):
        som += row.signed
        if all(c in _NOT_REJECTING for c in _codes(row.el)):
            yield issue(r, ctx, row.el, "an approved prestatie is listed; a 325 lists only rejected prestaties")
    if ingediend is not None and toegekend is not None and som != ingediend - toegekend:
        yield issue(
            r,
            ctx,
            toegekend_el,
            f"rejected prestaties add up to {som}, but TotaalIngediendBedrag - TotaalToegekendBedrag "
            f"is {ingediend - toegekend}",
        )


@rule(
    "TR319",
    retourcode="9319",
    level="crossmessage",
    messages=("323",),
    summary="A prestatie's ProductPeriode lies within the current or an earlier DeclaratiePeriode "
    "(evaluated in-message).",
)
def tr319(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    declaratie = child(ctx.root, "Declaratie")
    period_end = date_of(declaratie, "DeclaratiePeriode", "Einddatum")
    if period_end is None:
        return
    for row in _rows(ctx):
        if row.end is not None and row.end > period_end:
            yield issue(
                r,
                ctx,
                child(row.el, "ProductPeriode"),
                f"ProductPeriode ends {row.end}, after the DeclaratiePeriode ({period_end})",
                class_el=row.el,
            )
