"""Conditions and constraints on the product classes of 301, 315 and 317 (level 2, retourcode 0001).

ToegewezenProduct (301), AangevraagdProduct (315), NieuwProduct and TeWijzigenProduct (317) share
Product / Omvang / Budget / period rules; only the names of the period elements differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from validators.common import (
    CUTOFF_2020,
    descendants,
    issue,
    parse_date,
    per_message,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import fields, first


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


def _read_products(ctx: RuleContext) -> list[tuple[ProductClass, object, dict]]:
    number = ctx.mtype.number
    found = []
    for pc in ALL_FOUR:
        if pc.number == number:
            for el in descendants(ctx.root, *pc.steps):
                found.append((pc, el, fields(el)))
    return found


def _products(ctx: RuleContext) -> list[tuple[ProductClass, object, dict]]:
    """(class, product element, its children by name) of every product class of the message,
    read once per run for the dozen rules below."""
    return per_message(ctx, "in-message.products", _read_products)


def _items(ctx: RuleContext, classes) -> list[tuple[ProductClass, object, dict]]:
    found = []
    for item in _products(ctx):
        if item[0] in classes:
            found.append(item)
    return found


def _messages(classes) -> tuple[str, ...]:
    return tuple(sorted({pc.number for pc in classes}))


def _text(groups: dict, name: str) -> str | None:
    """The text of the first child `name` in a fields() grouping, None when there is none."""
    same = groups.get(name)
    return same[0].text if same else None


def _open_or_after_2020(f: dict, pc: ProductClass) -> bool:
    end = parse_date(_text(f, pc.end))
    return end is None or end > CUTOFF_2020


@rule(
    "CD041",
    retourcode="0001",
    level="condition",
    messages=_messages(WITH_PRODUCT),
    summary="Omvang is mandatory when Product/Code is filled.",
)
def cd041(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for _pc, _el, f in _items(ctx, WITH_PRODUCT):
        if "Omvang" not in f and "Code" in fields(first(f, "Product")):
            found.append(
                issue(
                    r,
                    ctx,
                    first(fields(first(f, "Product")), "Code"),
                    "Omvang is mandatory when Product/Code is filled",
                )
            )
    return found


@rule(
    "CD075",
    retourcode="0001",
    level="condition",
    messages=_messages(ALL_FOUR),
    summary="The Einddatum of the product is mandatory when Budget is filled.",
)
def cd075(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for pc, _el, f in _products(ctx):
        if "Budget" in f and pc.end not in f:
            found.append(issue(r, ctx, first(f, "Budget"), f"{pc.end} is mandatory when Budget is filled"))
    return found


@rule(
    "CD076",
    retourcode="0001",
    level="condition",
    messages=_messages(ALL_FOUR),
    summary="The Einddatum of the product is mandatory when Omvang/Frequentie is 2 (per week).",
)
def cd076(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for pc, _el, f in _products(ctx):
        if pc.end not in f and _text(fields(first(f, "Omvang")), "Frequentie") == "2":
            found.append(
                issue(
                    r,
                    ctx,
                    first(fields(first(f, "Omvang")), "Frequentie"),
                    f"{pc.end} is mandatory when Frequentie is 2 (per week)",
                )
            )
    return found


@rule(
    "CD077",
    retourcode="0001",
    level="condition",
    messages=_messages(ALL_FOUR),
    summary="Omvang is empty when Budget is filled.",
)
def cd077(r: Rule, ctx: RuleContext) -> list[Issue]:
    return _both_filled(r, ctx, filled="Budget", reported="Omvang")


def _both_filled(r: Rule, ctx: RuleContext, filled: str, reported: str) -> list[Issue]:
    """CD077 / CD078: `reported` must be empty when `filled` is filled (found on `reported`)."""
    found = []
    for _pc, _el, f in _products(ctx):
        if filled in f and reported in f:
            found.append(issue(r, ctx, first(f, reported), f"{reported} must be empty when {filled} is filled",
                               also=[first(f, filled)]))
    return found


@rule(
    "CD078",
    retourcode="0001",
    level="condition",
    messages=_messages(ALL_FOUR),
    summary="Budget is empty when Omvang is filled.",
)
def cd078(r: Rule, ctx: RuleContext) -> list[Issue]:
    return _both_filled(r, ctx, filled="Omvang", reported="Budget")


@rule(
    "CD079",
    retourcode="0001",
    level="condition",
    messages=_messages(WITH_PRODUCT),
    summary="Product is mandatory when Budget is empty.",
)
def cd079(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for _pc, el, f in _items(ctx, WITH_PRODUCT):
        if "Budget" not in f and "Product" not in f:
            found.append(issue(r, ctx, el, "Product is mandatory when Budget is empty"))
    return found


def _omvang_without_code(r: Rule, ctx: RuleContext, pc: ProductClass) -> list[Issue]:
    # The Locaties: the Omvang and the end date the condition read (when there is one).
    found = []
    for _pc, _el, f in _items(ctx, (pc,)):
        if "Omvang" in f and "Code" not in fields(first(f, "Product")) and _open_or_after_2020(f, pc):
            found.append(
                issue(
                    r,
                    ctx,
                    first(f, "Omvang"),
                    f"Omvang must be empty when Product/Code is empty and {pc.end} is after 2020-12-31 or empty",
                    also=[first(f, pc.end)],
                )
            )
    return found


@rule(
    "CD080",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="ToegewezenProduct Omvang is empty when Code is empty and Einddatum is after 2020-12-31 or empty.",
)
def cd080(r: Rule, ctx: RuleContext) -> list[Issue]:
    return _omvang_without_code(r, ctx, TOEGEWEZEN)


@rule(
    "CD095",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="AangevraagdProduct Omvang is empty when Code is empty and ToewijzingEinddatum is after "
    "2020-12-31 or empty.",
)
def cd095(r: Rule, ctx: RuleContext) -> list[Issue]:
    return _omvang_without_code(r, ctx, AANGEVRAAGD)


@rule(
    "CD096",
    retourcode="0001",
    level="condition",
    messages=("317",),
    summary="NieuwProduct Omvang is empty when Code is empty and Einddatum is after 2020-12-31 or empty.",
)
def cd096(r: Rule, ctx: RuleContext) -> list[Issue]:
    return _omvang_without_code(r, ctx, NIEUW)


def _period_issues(r: Rule, ctx: RuleContext, f: dict, start: str, end_name: str, found: list[Issue]) -> None:
    """CS003 on one period: its Einddatum (when filled) is not before its start date."""
    end_el = first(f, end_name)
    if end_el is None:
        return
    start_el = first(f, start)
    if start_el is None:
        return
    begin, end = parse_date(start_el.text), parse_date(end_el.text)
    if begin and end and end < begin:
        found.append(issue(r, ctx, end_el, f"{end_name} {end} is before {start} {begin}", also=[start_el]))


@rule(
    "CS003",
    retourcode="0001",
    level="condition",
    messages=("301", "315", "317"),
    summary="An Einddatum, when filled, is on or after the Begindatum/Ingangsdatum of its period.",
)
def cs003(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    if ctx.mtype.number == "301":
        client = first(fields(ctx.root), "Client")
        contacts = descendants(client, "Contactgegevens", "Contact") + descendants(
            client, "Relaties", "Relatie", "Contact"
        )
        for contact in contacts:
            periode = first(fields(contact), "Periode")
            if periode is not None:
                _period_issues(r, ctx, fields(periode), "Begindatum", "Einddatum", found)
    # An Einddatum without its start date is not flagged: the rule compares with the start date
    # "indien van toepassing" (the official stylesheet flags it; known_differences.toml).
    for b in descendants(ctx.root, "Client", "Beschikking"):
        _period_issues(r, ctx, fields(b), "Ingangsdatum", "Einddatum", found)
    for pc, _el, f in _products(ctx):
        _period_issues(r, ctx, f, pc.start, pc.end, found)
    return found


def _frequentie(r: Rule, ctx: RuleContext, classes) -> list[Issue]:
    found: list[Issue] = []
    for pc, _el, f in _items(ctx, classes):
        omvang = fields(first(f, "Omvang"))
        eenheid = _text(omvang, "Eenheid")
        if eenheid not in _PERIOD_UNITS:
            continue
        if _open_or_after_2020(f, pc) and _text(omvang, "Frequentie") not in _FREQUENTIES_FOR_PERIOD_UNITS:
            # The condition is on the Eenheid: the Locaties are the Eenheid, the Frequentie and
            # the end date the condition read (when there is one).
            found.append(
                issue(
                    r,
                    ctx,
                    first(omvang, "Eenheid"),
                    f"Frequentie must be 2, 4 or 6 for Eenheid {eenheid}",
                    also=[first(omvang, "Frequentie"), first(f, pc.end)],
                )
            )
    return found


@rule(
    "CS338",
    retourcode="0001",
    level="condition",
    messages=("301", "317"),
    summary="If Eenheid is 14, 16, 83 or 84 and Einddatum is after 2020-12-31 or empty, Frequentie is 2, 4 or 6.",
)
def cs338(r: Rule, ctx: RuleContext) -> list[Issue]:
    return _frequentie(r, ctx, (TOEGEWEZEN, NIEUW, TE_WIJZIGEN))


@rule(
    "CS343",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="If Eenheid is 14, 16, 83 or 84 and ToewijzingEinddatum is after 2020-12-31 or empty, "
    "Frequentie is 2, 4 or 6.",
)
def cs343(r: Rule, ctx: RuleContext) -> list[Issue]:
    return _frequentie(r, ctx, (AANGEVRAAGD,))


# --- 315 only ---------------------------------------------------------------------------------

_VERWIJZER_ZORGVERLENERS = frozenset({"02", "03", "04", "05"})


def _aangevraagd(ctx: RuleContext) -> list[dict]:
    """The children by name of each AangevraagdProduct."""
    found = []
    for _pc, _el, f in _items(ctx, (AANGEVRAAGD,)):
        found.append(f)
    return found


def _read_verwijzers(ctx: RuleContext) -> list[dict]:
    found = []
    for f in _aangevraagd(ctx):
        if (v := first(f, "Verwijzer")) is not None:
            found.append(fields(v))
    return found


def _verwijzers(ctx: RuleContext) -> list[dict]:
    """The children by name of each AangevraagdProduct's Verwijzer (absent ones left out)."""
    return per_message(ctx, "in-message.verwijzers", _read_verwijzers)


@rule(
    "CD043",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="BeschikkingIngangsdatum is mandatory when BeschikkingNummer is filled, otherwise empty.",
)
def cd043(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    for f in _aangevraagd(ctx):
        nummer, ingang = "BeschikkingNummer" in f, "BeschikkingIngangsdatum" in f
        if nummer and not ingang:
            found.append(
                issue(
                    r,
                    ctx,
                    first(f, "BeschikkingNummer"),
                    "BeschikkingIngangsdatum is mandatory with a BeschikkingNummer",
                )
            )
        elif ingang and not nummer:
            found.append(
                issue(
                    r,
                    ctx,
                    first(f, "BeschikkingIngangsdatum"),
                    "BeschikkingIngangsdatum must be empty without a BeschikkingNummer",
                )
            )
    return found


@rule(
    "CD066",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="Verwijzer Naam is empty when Type is 02-05 and ZorgverlenerCode is filled.",
)
def cd066(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for v in _verwijzers(ctx):
        if _text(v, "Type") in _VERWIJZER_ZORGVERLENERS and "ZorgverlenerCode" in v and "Naam" in v:
            found.append(
                issue(
                    r, ctx, first(v, "Naam"), "Naam must be empty when ZorgverlenerCode is filled",
                    also=[first(v, "ZorgverlenerCode"), first(v, "Type")],
                )
            )
    return found


@rule(
    "CD067",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="Verwijzer Naam is filled when Type is 02-05 and ZorgverlenerCode is empty.",
)
def cd067(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for v in _verwijzers(ctx):
        if _text(v, "Type") in _VERWIJZER_ZORGVERLENERS and "ZorgverlenerCode" not in v and "Naam" not in v:
            found.append(issue(r, ctx, first(v, "Type"), "Naam is mandatory when ZorgverlenerCode is empty"))
    return found


@rule(
    "CD068",
    retourcode="0001",
    level="condition",
    messages=("315",),
    summary="Verwijzer ZorgverlenerCode is empty when Type is not 02-05.",
)
def cd068(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for v in _verwijzers(ctx):
        if _text(v, "Type") not in _VERWIJZER_ZORGVERLENERS and "ZorgverlenerCode" in v:
            found.append(
                issue(
                    r,
                    ctx,
                    first(v, "ZorgverlenerCode"),
                    f"ZorgverlenerCode must be empty for Verwijzer Type {_text(v, 'Type')}",
                    also=[first(v, "Type")],
                )
            )
    return found
