"""Rules of the toewijzing (301), xslt class: TR006, TR061, TR302 (level 2, retourcode 0001)."""

from __future__ import annotations

from validators.common import (
    OPEN_END,
    Period,
    contacts,
    date_of,
    descendants,
    issue,
    stacked,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import fields, first, text

# Contact soorten that count as an address of the client for TR061: BRP, correspondentie, verblijf.
_TR061_SOORTEN = frozenset({"01", "02", "03"})
# A toewijzing with Einddatum = Ingangsdatum and one of these reasons is not actual (TR302).
_NOT_ACTUAL_REASONS = frozenset({"13", "01"})


@rule(
    "TR006",
    retourcode="0001",
    level="xslt",
    messages=("301",),
    summary="Every Contact has a Telefoon and/or both Adres/Huis and Adres/Postcode.",
)
def tr006(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for contact, f, adres in contacts(ctx):
        if "Telefoon" not in f and not ("Huis" in adres and "Postcode" in adres):
            found.append(issue(r, ctx, contact, "Contact has neither Telefoon nor both Huis and Postcode"))
    return found


@rule(
    "TR061",
    retourcode="0001",
    level="xslt",
    messages=("301",),
    summary="The Client has at least one Contact with Soort 01 (BRP), 02 (correspondentie) or 03 (verblijf).",
)
def tr061(r: Rule, ctx: RuleContext) -> list[Issue]:
    gegevens = first(fields(first(fields(ctx.root), "Client")), "Contactgegevens")
    if gegevens is None:
        return []
    listed = fields(gegevens).get("Contact", ())
    soorten = {(text(c, "Soort") or "").strip() for c in listed}
    if soorten & _TR061_SOORTEN:
        return []
    # at every Contact it looked at, as the official report lists them
    return [
        issue(
            r,
            ctx,
            listed[0] if listed else gegevens,
            "no Contact with Soort 01, 02 or 03 (BRP, correspondentie or verblijf)",
            also=listed[1:],
        )
    ]


def allocation_periods(root) -> list[Period]:
    """The actual ToegewezenProducten of a 301 as periods (verwijderd/vervallen ones left out)."""
    periods = []
    for tp in descendants(root, "Client", "ToegewezenProducten", "ToegewezenProduct"):
        start, end = date_of(tp, "Ingangsdatum"), date_of(tp, "Einddatum")
        if start is None:
            continue
        if end == start and (text(tp, "RedenWijziging") or "").strip() in _NOT_ACTUAL_REASONS:
            continue
        periods.append(
            Period(
                el=tp,
                category=(text(tp, "Product", "Categorie") or "").strip() or None,
                code=(text(tp, "Product", "Code") or "").strip() or None,
                start=start,
                end=end or OPEN_END,
            )
        )
    return periods


@rule(
    "TR302",
    retourcode="0001",
    level="xslt",
    messages=("301",),
    summary="A product occurs more than once in a 301 only with non-overlapping periods "
    "(code, else category, else any; iWmo: categories 11-14 may overlap).",
)
def tr302(r: Rule, ctx: RuleContext) -> list[Issue]:
    holder = first(fields(first(fields(ctx.root), "Client")), "ToegewezenProducten")
    products = fields(holder).get("ToegewezenProduct", ())
    if len(products) < 2:
        return []  # a product can only be stacked on another one
    found = []
    for p, why in stacked(allocation_periods(ctx.root), wmo=ctx.mtype.standard == "iwmo"):
        found.append(issue(r, ctx, p.el, f"stacked toewijzing: {why}"))
    return found
