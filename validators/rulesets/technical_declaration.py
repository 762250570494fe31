"""Rules of the declaration (323) and its answer (325) that need only the message itself.

xslt class (level 2): TR315, TR316, TR319, TR342, TR358, TR416. Each finding lists the elements
its check compared, as the official report does.

TR319 is classed berichtoverstijgend by the standard (retourcode 9319 on the Prestatie, a partial
rejection), but it compares only dates of the message itself and the official rule-check runs it
with the in-message rules: it is an in-message rule here, so `gateway validate` reports it, and it
keeps its retourcode 9319 on the Prestatie so the 325 rejects just that prestatie.
Every check is one pass with a dict or set: a 323 with 10,000 prestaties stays linear.
"""

from __future__ import annotations

from collections.abc import Iterable

from validators.common import (
    issue,
    parse_date,
    parse_int,
    path_of,
    prestatie_rows,
    signed_amount,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child, text
from validators.rulesets.technical_matching import Earlier, normalize_space

_REF = "ProductReferentie/ReferentieNummer"
_VORIG = "ProductReferentie/VorigReferentieNummer"
# RetourCodes that do not reject (TR342: a listed prestatie must carry a rejection).
_NOT_REJECTING = frozenset({"0200", "8001"})


def _rows(ctx: RuleContext):
    return prestatie_rows(ctx.root, ctx.extra)


def _codes(el) -> list[str]:
    # iterfind("{*}RetourCodes/{*}RetourCode") the same, matched in C instead of by lxml's
    # ElementPath in Python (the 325 builder checks 100,000 prestaties with it)
    return [(c.text or "").strip() for g in el.iterchildren("{*}RetourCodes") for c in g.iterchildren("{*}RetourCode")]


@rule(
    "TR315",
    retourcode="0001",
    level="xslt",
    messages=("323",),
    summary="Prestatie VorigReferentieNummer is unique within the message.",
)
def tr315(r: Rule, ctx: RuleContext) -> list[Issue]:
    # Each VorigReferentieNummer against those of the earlier prestaties (all clients), at both.
    found: list[Issue] = []
    earlier = Earlier()
    for row in _rows(ctx):
        if not row.has(_VORIG):
            continue
        vorig = row.find(_VORIG)
        matched = earlier.match(normalize_space(vorig.text))
        if matched:
            found.append(
                issue(r, ctx, vorig, f"VorigReferentieNummer already used at {path_of(ctx, matched[0])}", also=matched)
            )
        earlier.add(vorig.text or "", vorig, named=bool(matched))
    return found


@rule(
    "TR316",
    retourcode="0001",
    level="xslt",
    messages=("323",),
    summary="A debit is not credited in the same message: no VorigReferentieNummer equals a "
    "ReferentieNummer in the message.",
)
def tr316(r: Rule, ctx: RuleContext) -> list[Issue]:
    # Either order counts: a VorigReferentieNummer equal to an earlier prestatie's
    # ReferentieNummer, a ReferentieNummer equal to an earlier VorigReferentieNummer, or both in
    # one prestatie. The finding names the ReferentieNummer and the VorigReferentieNummer.
    # The matchers hold rows; elements are looked up on a finding only.
    found: list[Issue] = []
    refs, vorige = Earlier(), Earlier()
    for row in _rows(ctx):
        ref_raw, vorig_raw = row.values.get(_REF), row.values.get(_VORIG)
        ref_value = normalize_space(ref_raw) if ref_raw is not None else ""
        vorig_value = normalize_space(vorig_raw) if vorig_raw is not None else ""
        same = ref_value == vorig_value
        vorig_named = ref_named = same
        if vorig_raw is not None and (matched := refs.match(vorig_value)):
            vorig_named = True
            found.append(
                issue(r, ctx, row.find(_VORIG), "credits a debit prestatie of the same message",
                      also=[m.find(_REF) for m in matched])
            )
        if ref_raw is not None and (matched := vorige.match(ref_value)):
            ref_named = True
            found.append(
                issue(r, ctx, row.find(_REF), "is credited by an earlier prestatie of the same message",
                      also=[m.find(_VORIG) for m in matched])
            )
        if same:
            found.append(
                issue(r, ctx, row.find(_REF), "ReferentieNummer equals its own VorigReferentieNummer",
                      also=[row.find(_VORIG)])
            )
        if ref_raw is not None:
            refs.add(ref_raw, row, named=ref_named)
        if vorig_raw is not None:
            vorige.add(vorig_raw, row, named=vorig_named)
    return found


@rule(
    "TR358",
    retourcode="0001",
    level="xslt",
    messages=("323",),
    summary="TotaalIngediendBedrag equals the sum of the prestaties' IngediendBedrag (debit minus credit).",
)
def tr358(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    totaal_el = child(child(ctx.root, "Declaratie"), "TotaalIngediendBedrag")
    dc_el, bedrag_el = child(totaal_el, "DebetCredit"), child(totaal_el, "TotaalBedrag")
    dc = normalize_space(text(dc_el))
    if dc not in ("D", "C"):
        return found
    rows = _rows(ctx)
    som = 0
    for row in rows:
        amount = parse_int(row.values.get("IngediendBedrag/Bedrag")) or 0
        side = row.values.get("IngediendBedrag/DebetCredit")
        som += amount if side == "D" else -amount if side == "C" else 0
    # The total as written must be the sum as a plain number (the official check compares the
    # text: a leading zero or a sign the side contradicts does not match).
    expected = str(som if dc == "D" else -som)
    if normalize_space(text(bedrag_el)) != expected:
        found.append(
            issue(
                r,
                ctx,
                bedrag_el,
                f"TotaalIngediendBedrag is {text(bedrag_el)} {dc} but the prestaties add up to {som}",
                also=[dc_el, *(row.find("IngediendBedrag") for row in rows)],
            )
        )
    return found


@rule(
    "TR416",
    retourcode="0001",
    level="xslt",
    messages=("323",),
    summary="At most one debit Prestatie per ProductPeriode, ProductCategorie, ProductCode and "
    "ToewijzingNummer within a Client.",
)
def tr416(r: Rule, ctx: RuleContext) -> list[Issue]:
    # Per Client (the official check compares a prestatie with its preceding siblings), values
    # as written, every key element present.
    found: list[Issue] = []
    fields = ("ProductPeriode/Begindatum", "ProductPeriode/Einddatum", "ProductCategorie", "ProductCode", "ToewijzingNummer")
    earlier: Earlier | None = None
    client = None
    for row in _rows(ctx):
        if row.client is not client:
            client, earlier = row.client, Earlier()
        key = tuple(row.values.get(f) for f in fields)
        side = row.values.get("IngediendBedrag/DebetCredit")
        if None in key or (side != "D" and normalize_space(side) != "D"):
            continue
        matched = earlier.match(key) if side == "D" else []
        if matched:
            found.append(
                issue(
                    r,
                    ctx,
                    row.el,
                    f"second debit for the same period, product and toewijzing as {path_of(ctx, matched[0])}",
                    also=matched,
                )
            )
        earlier.add(key, row.el, named=bool(matched))
    return found


@rule(
    "TR342",
    retourcode="0001",
    level="xslt",
    messages=("325",),
    summary="A 325 lists only rejected prestaties: their signed sum equals TotaalIngediendBedrag minus "
    "TotaalToegekendBedrag; a rejected DeclaratieAntwoord awards 0.",
)
def tr342(r: Rule, ctx: RuleContext) -> list[Issue]:
    antwoord = child(ctx.root, "DeclaratieAntwoord")
    if antwoord is None:
        return []
    if _answer_rejected(antwoord):
        return tr342_totals(r, ctx, 0)
    found, som = tr342_listed(r, ctx)
    return found + tr342_totals(r, ctx, som)


def _answer_rejected(antwoord) -> bool:  # noqa: ANN001
    return any(c not in _NOT_REJECTING for c in _codes(antwoord))


def tr342_listed(r: Rule, ctx: RuleContext, prestaties: Iterable | None = None) -> tuple[list[Issue], int]:
    """TR342 on the listed prestaties: each carries a rejection; and their signed sum. Apart
    from the totals, so the 325 builder can check its prestaties batch by batch (`prestaties`:
    those elements, read directly instead of as the rows the other rules share)."""
    found: list[Issue] = []
    som = 0
    if prestaties is None:
        listed = ((row.el, row.signed) for row in _rows(ctx))
    else:
        listed = ((p, prestatie_signed(p)) for p in prestaties)
    for el, signed in listed:
        som += signed
        if all(c in _NOT_REJECTING for c in _codes(el)):
            # The rule's own text; the official rule-check compares the sums only.
            found.append(issue(r, ctx, el, "an approved prestatie is listed; a 325 lists only rejected prestaties"))
    return found, som


def prestatie_signed(prestatie) -> int:  # noqa: ANN001
    """`signed_amount(child(prestatie, "IngediendBedrag")) or 0`, each step matched by lxml in C
    (the 325 builder sums 100,000 of them twice)."""
    amount = next(prestatie.iterchildren("{*}IngediendBedrag"), None)
    if amount is None:
        return 0
    bedrag = next(amount.iterchildren("{*}Bedrag"), None)
    value = parse_int(bedrag.text) if bedrag is not None else None
    if value is None:
        return 0
    dc = next(amount.iterchildren("{*}DebetCredit"), None)
    return -value if dc is not None and (dc.text or "").strip() == "C" else value


def tr342_totals(r: Rule, ctx: RuleContext, som: int) -> list[Issue]:
    """TR342 on the totals: a rejected DeclaratieAntwoord awards 0; otherwise TotaalIngediendBedrag
    minus TotaalToegekendBedrag is `som`, the signed sum of the listed prestaties."""
    found: list[Issue] = []
    antwoord = child(ctx.root, "DeclaratieAntwoord")
    if antwoord is None:
        return found
    ingediend_el = child(antwoord, "TotaalIngediendBedrag")
    toegekend_el = child(antwoord, "TotaalToegekendBedrag")
    ingediend = signed_amount(ingediend_el, "TotaalBedrag")
    toegekend = signed_amount(toegekend_el, "TotaalBedrag")
    if _answer_rejected(antwoord):
        if toegekend != 0:
            found.append(
                issue(r, ctx, toegekend_el, "DeclaratieAntwoord is rejected but TotaalToegekendBedrag is not 0")
            )
        return found
    if ingediend is None or toegekend is None or som != ingediend - toegekend:
        found.append(
            issue(
                r,
                ctx,
                toegekend_el,
                f"rejected prestaties add up to {som}, but TotaalIngediendBedrag - TotaalToegekendBedrag "
                f"is {None if ingediend is None or toegekend is None else ingediend - toegekend}",
                also=[ingediend_el],
            )
        )
    return found


@rule(
    "TR319",
    retourcode="9319",
    level="xslt",
    messages=("323",),
    summary="A prestatie's ProductPeriode lies within the current or an earlier DeclaratiePeriode.",
)
def tr319(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    eind_el = child(child(child(ctx.root, "Declaratie"), "DeclaratiePeriode"), "Einddatum")
    period_end = parse_date(text(eind_el))
    if period_end is None:
        return found
    for row in _rows(ctx):
        # the ProductPeriode dates after the end of the DeclaratiePeriode, and that end
        late = [
            row.find(key)
            for key, value in (("ProductPeriode/Begindatum", row.begin), ("ProductPeriode/Einddatum", row.end))
            if value is not None and value > period_end
        ]
        if late:
            found.append(
                issue(
                    r,
                    ctx,
                    late[-1],
                    f"ProductPeriode ends {row.end}, after the DeclaratiePeriode ({period_end})",
                    also=[eind_el, *late],
                    class_el=row.el,
                )
            )
    return found
