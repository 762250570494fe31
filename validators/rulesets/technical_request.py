"""Rules of the requests and the answer (315, 317, 319), xslt class (level 2, retourcode 0001).

TR383, TR386 (315); TR352, TR353, TR410 (317); TR377, TR409 (319, iJw only: iWmo has no
Woonplaatsbeginsel).
"""

from __future__ import annotations

from validators.common import (
    OPEN_END,
    Period,
    date_of,
    descendants,
    issue,
    missing,
    path_of,
    stacked,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child, children, text
from validators.rulesets.technical_matching import Earlier, normalize_space


def _periods(items, start_name: str, end_name: str) -> list[Period]:
    periods = []
    for el in items:
        start = date_of(el, start_name)
        if start is None:
            continue
        periods.append(
            Period(
                el=el,
                category=(text(el, "Product", "Categorie") or "").strip() or None,
                code=(text(el, "Product", "Code") or "").strip() or None,
                start=start,
                end=date_of(el, end_name) or OPEN_END,
            )
        )
    return periods


@rule(
    "TR383",
    retourcode="0001",
    level="xslt",
    messages=("315",),
    summary="ReferentieAanbieder is unique per AangevraagdProduct within the message.",
)
def tr383(r: Rule, ctx: RuleContext) -> list[Issue]:
    # The official check reports the earlier occurrences of a value (each later product compares
    # its value with the products before it and flags theirs): A, A, A lists the first two.
    found: list[Issue] = []
    for lijst in descendants(ctx.root, "Client", "AangevraagdeProducten"):
        earlier = Earlier()
        for p in children(lijst, "AangevraagdProduct"):
            ref = child(p, "ReferentieAanbieder")
            if ref is None:
                continue
            flagged = earlier.match(normalize_space(ref.text))
            if flagged:
                found.append(
                    issue(
                        r,
                        ctx,
                        flagged[0],
                        f"ReferentieAanbieder is used again by {path_of(ctx, p)}",
                        also=flagged[1:],
                    )
                )
            earlier.add(ref.text or "", ref)  # never named as the later one: TR383 lists earlier ones
    return found


@rule(
    "TR386",
    retourcode="0001",
    level="xslt",
    messages=("315",),
    summary="A product occurs more than once in a VOT only with non-overlapping periods "
    "(iWmo: categories 11-14 may overlap).",
)
def tr386(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    products = descendants(ctx.root, "Client", "AangevraagdeProducten", "AangevraagdProduct")
    if len(products) < 2:
        return found  # a product can only be stacked on another one
    periods = _periods(products, "ToewijzingIngangsdatum", "ToewijzingEinddatum")
    for p, why in stacked(periods, wmo=ctx.mtype.standard == "iwmo"):
        found.append(issue(r, ctx, p.el, f"stacked request: {why}"))
    return found


@rule(
    "TR410",
    retourcode="0001",
    level="xslt",
    messages=("317",),
    summary="A product occurs more than once among the NieuwProduct classes only with non-overlapping "
    "periods (iWmo: categories 11-14 may overlap).",
)
def tr410(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    products = descendants(ctx.root, "Client", "Verzoek", "NieuweProducten", "NieuwProduct")
    if len(products) < 2:
        return found  # a product can only be stacked on another one
    periods = _periods(products, "GewensteIngangsdatum", "Einddatum")
    for p, why in stacked(periods, wmo=ctx.mtype.standard == "iwmo"):
        found.append(issue(r, ctx, p.el, f"stacked NieuwProduct: {why}"))
    return found


@rule(
    "TR352",
    retourcode="0001",
    level="xslt",
    messages=("317",),
    summary="A VOW contains at least one OngewijzigdProduct or TeWijzigenProduct.",
)
def tr352(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    verzoek = child(child(ctx.root, "Client"), "Verzoek")
    if verzoek is None:
        return found
    if not (
        descendants(verzoek, "OngewijzigdeProducten", "OngewijzigdProduct")
        or descendants(verzoek, "TeWijzigenProducten", "TeWijzigenProduct")
    ):
        found.append(issue(r, ctx, verzoek, "Verzoek has no OngewijzigdProduct and no TeWijzigenProduct"))
    return found


@rule(
    "TR353",
    retourcode="0001",
    level="xslt",
    messages=("317",),
    summary="A VOW contains at least one TeWijzigenProduct or NieuwProduct.",
)
def tr353(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    verzoek = child(child(ctx.root, "Client"), "Verzoek")
    if verzoek is None:
        return found
    if not (
        descendants(verzoek, "TeWijzigenProducten", "TeWijzigenProduct")
        or descendants(verzoek, "NieuweProducten", "NieuwProduct")
    ):
        found.append(issue(r, ctx, verzoek, "Verzoek has no TeWijzigenProduct and no NieuwProduct"))
    return found


@rule(
    "TR377",
    retourcode="0001",
    level="xslt",
    messages=("319",),
    standards=("ijw",),
    summary="If RedenAfwijzingVerzoek is 8 (Woonplaatsbeginsel), the class Woonplaatsbeginsel is present.",
)
def tr377(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    antwoord = child(ctx.root, "Antwoord")
    if antwoord is None:
        return found
    if text(antwoord, "RedenAfwijzingVerzoek") == "8" and child(antwoord, "Woonplaatsbeginsel") is None:
        found.append(
            missing(
                r, ctx, antwoord, "Woonplaatsbeginsel", "RedenAfwijzingVerzoek is 8 but Woonplaatsbeginsel is missing"
            )
        )
    return found


@rule(
    "TR409",
    retourcode="0001",
    level="xslt",
    messages=("319",),
    standards=("ijw",),
    summary="If RedenAfwijzingVerzoek is not 8 (Woonplaatsbeginsel), the class Woonplaatsbeginsel is absent.",
)
def tr409(r: Rule, ctx: RuleContext) -> list[Issue]:
    # Only a RedenAfwijzingVerzoek other than 8 forbids the class: without a reason (an accepted
    # request) the rule does not apply, as in the official rule-check.
    found: list[Issue] = []
    antwoord = child(ctx.root, "Antwoord")
    reden = child(antwoord, "RedenAfwijzingVerzoek")
    woonplaats = child(antwoord, "Woonplaatsbeginsel")
    if reden is not None and woonplaats is not None and (reden.text or "").strip() != "8":
        found.append(
            issue(
                r, ctx, woonplaats, "Woonplaatsbeginsel given while RedenAfwijzingVerzoek is not 8", also=[reden]
            )
        )
    return found
