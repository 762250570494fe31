"""Rules of the toewijzing (301), xslt class: TR006, TR061, TR302 (level 2, retourcode 0001)."""

from __future__ import annotations

from collections.abc import Iterator

from validators.common import (
    OPEN_END,
    Period,
    date_of,
    descendants,
    is_filled,
    issue,
    stacked,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child, text

# Contact soorten that count as an address of the client for TR061: BRP, correspondentie, verblijf.
_TR061_SOORTEN = frozenset({"01", "02", "03"})
# A toewijzing with Einddatum = Ingangsdatum and one of these reasons is not actual (TR302).
_NOT_ACTUAL_REASONS = frozenset({"13", "01"})


def _contacts(root) -> list:
    client = child(root, "Client")
    return descendants(client, "Contactgegevens", "Contact") + descendants(
        client, "Relaties", "Relatie", "Contact"
    )


@rule(
    "TR006",
    retourcode="0001",
    level="xslt",
    messages=("301",),
    summary="Every Contact has a Telefoon and/or both Adres/Huis and Adres/Postcode.",
)
def tr006(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for contact in _contacts(ctx.root):
        has_phone = is_filled(contact, "Telefoon")
        has_address = is_filled(contact, "Adres", "Huis") and is_filled(contact, "Adres", "Postcode")
        if not (has_phone or has_address):
            yield issue(r, ctx, contact, "Contact has neither Telefoon nor both Huis and Postcode")


@rule(
    "TR061",
    retourcode="0001",
    level="xslt",
    messages=("301",),
    summary="The Client has at least one Contact with Soort 01 (BRP), 02 (correspondentie) or 03 (verblijf).",
)
def tr061(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    gegevens = child(child(ctx.root, "Client"), "Contactgegevens")
    if gegevens is None:
        return
    contacts = descendants(gegevens, "Contact")
    soorten = {(text(c, "Soort") or "").strip() for c in contacts}
    if not soorten & _TR061_SOORTEN:
        # at every Contact it looked at, as the official report lists them
        yield issue(
            r,
            ctx,
            contacts[0] if contacts else gegevens,
            "no Contact with Soort 01, 02 or 03 (BRP, correspondentie or verblijf)",
            also=contacts[1:],
        )


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
def tr302(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if len(descendants(ctx.root, "Client", "ToegewezenProducten", "ToegewezenProduct")) < 2:
        return  # a product can only be stacked on another one
    for p, why in stacked(allocation_periods(ctx.root), wmo=ctx.mtype.standard == "iwmo"):
        yield issue(r, ctx, p.el, f"stacked toewijzing: {why}")
