"""Conditions and constraints on the product classes of 301, 315 and 317 (level 2, retourcode 0001).

ToegewezenProduct (301), AangevraagdProduct (315), NieuwProduct and TeWijzigenProduct (317) share
Product / Omvang / Budget / period rules; only the names of the period elements differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from validators.common import (
    CUTOFF_2020,
    date_of,
    descendants,
    is_filled,
    issue,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child, text


@dataclass(frozen=True)
class ProductClass:
    number: str
    steps: tuple[str, ...]
    start: str
    end: str
    has_product: bool = True


TOEGEWEZEN = ProductClass(
    "301", ("Client", "ToegewezenProducten", "ToegewezenProduct"), "Ingangsdatum", "Einddatum"
)
AANGEVRAAGD = ProductClass(
    "315",
    ("Client", "AangevraagdeProducten", "AangevraagdProduct"),
    "ToewijzingIngangsdatum",
    "ToewijzingEinddatum",
)
NIEUW = ProductClass(
    "317", ("Client", "Verzoek", "NieuweProducten", "NieuwProduct"), "GewensteIngangsdatum", "Einddatum"
)
TE_WIJZIGEN = ProductClass(
    "317",
    ("Client", "Verzoek", "TeWijzigenProducten", "TeWijzigenProduct"),
    "GewensteIngangsdatum",
    "Einddatum",
    has_product=False,
)
ALL_FOUR = (TOEGEWEZEN, AANGEVRAAGD, NIEUW, TE_WIJZIGEN)
WITH_PRODUCT = (TOEGEWEZEN, AANGEVRAAGD, NIEUW)
# Eenheden that need a Frequentie 2, 4 or 6 (CS338, CS343): etmaal, dagdeel, euro's, stuks.
_PERIOD_UNITS = frozenset({"14", "16", "83", "84"})
_FREQUENTIES_FOR_PERIOD_UNITS = frozenset({"2", "4", "6"})


def _items(ctx: RuleContext, classes) -> Iterator[tuple[ProductClass, object]]:
    for pc in classes:
        if pc.number == ctx.mtype.number:
            for el in descendants(ctx.root, *pc.steps):
                yield pc, el


def _messages(classes) -> tuple[str, ...]:
    return tuple(sorted({pc.number for pc in classes}))


def _open_or_after_2020(el, pc: ProductClass) -> bool:
    end = date_of(el, pc.end)
    return end is None or end > CUTOFF_2020


@rule(
    "CD041",
    retourcode="0001",
    level="condition",
    messages=_messages(WITH_PRODUCT),
    summary="Omvang is mandatory when Product/Code is filled.",
)
def cd041(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for _pc, el in _items(ctx, WITH_PRODUCT):
        if is_filled(el, "Product", "Code") and not is_filled(el, "Omvang"):
            yield issue(r, ctx, child(child(el, "Product"), "Code"), "Omvang is mandatory when Product/Code is filled")


@rule(
    "CD075",
    retourcode="0001",
    level="condition",
    messages=_messages(ALL_FOUR),
    summary="The Einddatum of the product is mandatory when Budget is filled.",
)
def cd075(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for pc, el in _items(ctx, ALL_FOUR):
        if is_filled(el, "Budget") and not is_filled(el, pc.end):
            yield issue(r, ctx, child(el, "Budget"), f"{pc.end} is mandatory when Budget is filled")


@rule(
    "CD076",
    retourcode="0001",
    level="condition",
    messages=_messages(ALL_FOUR),
    summary="The Einddatum of the product is mandatory when Omvang/Frequentie is 2 (per week).",
)
def cd076(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for pc, el in _items(ctx, ALL_FOUR):
        if text(el, "Omvang", "Frequentie") == "2" and not is_filled(el, pc.end):
            yield issue(
                r, ctx, child(child(el, "Omvang"), "Frequentie"), f"{pc.end} is mandatory when Frequentie is 2 (per week)"
            )


@rule(
    "CD077",
    retourcode="0001",
    level="condition",
    messages=_messages(ALL_FOUR),
    summary="Omvang is empty when Budget is filled.",
)
def cd077(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for _pc, el in _items(ctx, ALL_FOUR):
        if is_filled(el, "Budget") and is_filled(el, "Omvang"):
            yield issue(
                r, ctx, child(el, "Omvang"), "Omvang must be empty when Budget is filled", also=[child(el, "Budget")]
            )


@rule(
    "CD078",
    retourcode="0001",
    level="condition",
    messages=_messages(ALL_FOUR),
    summary="Budget is empty when Omvang is filled.",
)
def cd078(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for _pc, el in _items(ctx, ALL_FOUR):
        if is_filled(el, "Omvang") and is_filled(el, "Budget"):
            yield issue(
                r, ctx, child(el, "Budget"), "Budget must be empty when Omvang is filled", also=[child(el, "Omvang")]
            )


@rule(
    "CD079",
    retourcode="0001",
    level="condition",
    messages=_messages(WITH_PRODUCT),
    summary="Product is mandatory when Budget is empty.",
)
def cd079(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for _pc, el in _items(ctx, WITH_PRODUCT):
        if not is_filled(el, "Budget") and not is_filled(el, "Product"):
            yield issue(r, ctx, el, "Product is mandatory when Budget is empty")


def _omvang_without_code(r: Rule, ctx: RuleContext, pc: ProductClass) -> Iterator[Issue]:
    for _pc, el in _items(ctx, (pc,)):
        if is_filled(el, "Omvang") and not is_filled(el, "Product", "Code") and _open_or_after_2020(el, pc):
            # The Locaties: the Omvang and the end date the condition read (when there is one).
            yield issue(
                r,
                ctx,
                child(el, "Omvang"),
                f"Omvang must be empty when Product/Code is empty and {pc.end} is after 2020-12-31 or empty",
                also=[child(el, pc.end)],
            )


@rule(
    "CD080",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="ToegewezenProduct Omvang is empty when Code is empty and Einddatum is after 2020-12-31 or empty.",
)
def cd080(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    yield from _omvang_without_code(r, ctx, TOEGEWEZEN)


@rule(
    "CD095",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="AangevraagdProduct Omvang is empty when Code is empty and ToewijzingEinddatum is after "
    "2020-12-31 or empty.",
)
def cd095(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    yield from _omvang_without_code(r, ctx, AANGEVRAAGD)


@rule(
    "CD096",
    retourcode="0001",
    level="condition",
    messages=("317",),
    summary="NieuwProduct Omvang is empty when Code is empty and Einddatum is after 2020-12-31 or empty.",
)
def cd096(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    yield from _omvang_without_code(r, ctx, NIEUW)


@rule(
    "CS003",
    retourcode="0001",
    level="condition",
    messages=("301", "315", "317"),
    summary="An Einddatum, when filled, is on or after the Begindatum/Ingangsdatum of its period.",
)
def cs003(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.mtype.number == "301":
        client = child(ctx.root, "Client")
        contacts = descendants(client, "Contactgegevens", "Contact") + descendants(
            client, "Relaties", "Relatie", "Contact"
        )
        for contact in contacts:
            periode = child(contact, "Periode")
            begin, end = date_of(periode, "Begindatum"), date_of(periode, "Einddatum")
            if begin and end and end < begin:
                yield issue(
                    r, ctx, child(periode, "Einddatum"), f"Einddatum {end} is before Begindatum {begin}",
                    also=[child(periode, "Begindatum")],
                )
    # An Einddatum without its start date is not flagged: the rule compares with the start date
    # "indien van toepassing" (the official stylesheet flags it; known_differences.toml).
    beschikkingen = [(b, "Ingangsdatum", "Einddatum") for b in descendants(ctx.root, "Client", "Beschikking")]
    products = [(el, pc.start, pc.end) for pc, el in _items(ctx, ALL_FOUR)]
    for el, start, end_name in beschikkingen + products:
        begin, end = date_of(el, start), date_of(el, end_name)
        if begin and end and end < begin:
            yield issue(
                r, ctx, child(el, end_name), f"{end_name} {end} is before {start} {begin}", also=[child(el, start)]
            )


def _frequentie(r: Rule, ctx: RuleContext, classes) -> Iterator[Issue]:
    for pc, el in _items(ctx, classes):
        omvang = child(el, "Omvang")
        if omvang is None or text(omvang, "Eenheid") not in _PERIOD_UNITS:
            continue
        if _open_or_after_2020(el, pc) and text(omvang, "Frequentie") not in _FREQUENTIES_FOR_PERIOD_UNITS:
            # The condition is on the Eenheid: the Locaties are the Eenheid, the Frequentie and
            # the end date the condition read (when there is one).
            yield issue(
                r,
                ctx,
                child(omvang, "Eenheid"),
                f"Frequentie must be 2, 4 or 6 for Eenheid {text(omvang, 'Eenheid')}",
                also=[child(omvang, "Frequentie"), child(el, pc.end)],
            )


@rule(
    "CS338",
    retourcode="0001",
    level="condition",
    messages=("301", "317"),
    summary="If Eenheid is 14, 16, 83 or 84 and Einddatum is after 2020-12-31 or empty, Frequentie is 2, 4 or 6.",
)
def cs338(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    yield from _frequentie(r, ctx, (TOEGEWEZEN, NIEUW, TE_WIJZIGEN))


@rule(
    "CS343",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="If Eenheid is 14, 16, 83 or 84 and ToewijzingEinddatum is after 2020-12-31 or empty, "
    "Frequentie is 2, 4 or 6.",
)
def cs343(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    yield from _frequentie(r, ctx, (AANGEVRAAGD,))


# --- 315 only ---------------------------------------------------------------------------------

_VERWIJZER_ZORGVERLENERS = frozenset({"02", "03", "04", "05"})


def _aangevraagd(ctx: RuleContext):
    return [el for _pc, el in _items(ctx, (AANGEVRAAGD,))]


@rule(
    "CD043",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="BeschikkingIngangsdatum is mandatory when BeschikkingNummer is filled, otherwise empty.",
)
def cd043(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for el in _aangevraagd(ctx):
        nummer, ingang = is_filled(el, "BeschikkingNummer"), is_filled(el, "BeschikkingIngangsdatum")
        if nummer and not ingang:
            yield issue(
                r, ctx, child(el, "BeschikkingNummer"), "BeschikkingIngangsdatum is mandatory with a BeschikkingNummer"
            )
        elif ingang and not nummer:
            yield issue(
                r,
                ctx,
                child(el, "BeschikkingIngangsdatum"),
                "BeschikkingIngangsdatum must be empty without a BeschikkingNummer",
            )


@rule(
    "CD066",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="Verwijzer Naam is empty when Type is 02-05 and ZorgverlenerCode is filled.",
)
def cd066(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for el in _aangevraagd(ctx):
        verwijzer = child(el, "Verwijzer")
        if (
            text(verwijzer, "Type") in _VERWIJZER_ZORGVERLENERS
            and is_filled(verwijzer, "ZorgverlenerCode")
            and is_filled(verwijzer, "Naam")
        ):
            yield issue(
                r, ctx, child(verwijzer, "Naam"), "Naam must be empty when ZorgverlenerCode is filled",
                also=[child(verwijzer, "ZorgverlenerCode"), child(verwijzer, "Type")],
            )


@rule(
    "CD067",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="Verwijzer Naam is filled when Type is 02-05 and ZorgverlenerCode is empty.",
)
def cd067(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for el in _aangevraagd(ctx):
        verwijzer = child(el, "Verwijzer")
        if (
            verwijzer is not None
            and text(verwijzer, "Type") in _VERWIJZER_ZORGVERLENERS
            and not is_filled(verwijzer, "ZorgverlenerCode")
            and not is_filled(verwijzer, "Naam")
        ):
            yield issue(r, ctx, child(verwijzer, "Type"), "Naam is mandatory when ZorgverlenerCode is empty")


@rule(
    "CD068",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="Verwijzer ZorgverlenerCode is empty when Type is not 02-05.",
)
def cd068(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for el in _aangevraagd(ctx):
        verwijzer = child(el, "Verwijzer")
        if (
            verwijzer is not None
            and text(verwijzer, "Type") not in _VERWIJZER_ZORGVERLENERS
            and is_filled(verwijzer, "ZorgverlenerCode")
        ):
            yield issue(
                r,
                ctx,
                child(verwijzer, "ZorgverlenerCode"),
                f"ZorgverlenerCode must be empty for Verwijzer Type {text(verwijzer, 'Type')}",
                also=[child(verwijzer, "Type")],
            )
