"""Conditions and constraints of start/stop (305/307), answer (319) and declaration (323/325).

CS058; CD085, CD086; CD060, CD087, CS100, CS319, CS325, CS337, CS339, CS340. Level 2, 0001.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date

from validators.common import (
    PrestatieRow,
    date_of,
    descendants,
    is_filled,
    issue,
    missing,
    parse_int,
    prestatie_rows,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child, text

_EARLIEST_DECLARATION = date(2021, 1, 1)


def _rows(ctx: RuleContext) -> list[PrestatieRow]:
    return prestatie_rows(ctx.root, ctx.extra)


@rule(
    "CS058",
    retourcode="0001",
    level="condition",
    messages=("305", "307"),
    summary="StatusAanlevering is 1 (eerste aanlevering) or 3 (verwijderen aanlevering).",
)
def cs058(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    items = descendants(ctx.root, "Client", "StartProducten", "StartProduct") + descendants(
        ctx.root, "Client", "StopProducten", "StopProduct"
    )
    for item in items:
        status = child(item, "StatusAanlevering")
        if status is not None and (status.text or "").strip() not in ("1", "3"):
            yield issue(r, ctx, status, f"StatusAanlevering {status.text} is not allowed; use 1 or 3")


@rule(
    "CD085",
    retourcode="0001",
    level="condition",
    messages=("319",),
    summary="RedenAfwijzingVerzoek is filled when VerzoekAntwoord is 1 (verzoek afgewezen).",
)
def cd085(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    antwoord = child(ctx.root, "Antwoord")
    if text(antwoord, "VerzoekAntwoord") == "1" and not is_filled(antwoord, "RedenAfwijzingVerzoek"):
        yield missing(r, ctx, antwoord, "RedenAfwijzingVerzoek", "RedenAfwijzingVerzoek is mandatory when rejecting")


@rule(
    "CD086",
    retourcode="0001",
    level="condition",
    messages=("319",),
    summary="RedenAfwijzingVerzoek is empty when VerzoekAntwoord is 2 (aanvraag in onderzoek).",
)
def cd086(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    antwoord = child(ctx.root, "Antwoord")
    if text(antwoord, "VerzoekAntwoord") == "2" and is_filled(antwoord, "RedenAfwijzingVerzoek"):
        yield issue(
            r,
            ctx,
            child(antwoord, "RedenAfwijzingVerzoek"),
            "RedenAfwijzingVerzoek must be empty when the request is in onderzoek",
        )


@rule(
    "CD060",
    retourcode="0001",
    level="condition",
    messages=("323", "325"),
    summary="VorigReferentieNummer is mandatory when IngediendBedrag DebetCredit is C, otherwise empty.",
)
def cd060(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    vorig = "ProductReferentie/VorigReferentieNummer"
    for row in _rows(ctx):
        credit = row.get("IngediendBedrag/DebetCredit") == "C"
        if credit and not row.has(vorig):
            referentie = row.find("ProductReferentie")
            if referentie is not None:
                yield missing(r, ctx, referentie, "VorigReferentieNummer", "a credit prestatie needs VorigReferentieNummer")
        elif not credit and row.has(vorig):
            yield issue(r, ctx, row.find(vorig), "VorigReferentieNummer must be empty on a debit prestatie")


@rule(
    "CD087",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="ProductTarief is mandatory when Eenheid is not 83 (euro's), otherwise empty.",
)
def cd087(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for row in _rows(ctx):
        euros = row.get("Eenheid") == "83"
        tarief = row.has("ProductTarief")
        if not euros and not tarief:
            yield missing(r, ctx, row.el, "ProductTarief", "ProductTarief is mandatory unless Eenheid is 83")
        elif euros and tarief:
            yield issue(r, ctx, row.find("ProductTarief"), "ProductTarief must be empty when Eenheid is 83")


@rule(
    "CS100",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="DeclaratiePeriode and ProductPeriode dates are on or after 2021-01-01.",
)
def cs100(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    periode = child(child(ctx.root, "Declaratie"), "DeclaratiePeriode")
    for name in ("Begindatum", "Einddatum"):
        value = date_of(periode, name)
        if value is not None and value < _EARLIEST_DECLARATION:
            yield issue(r, ctx, child(periode, name), f"{name} {value} is before 2021-01-01")
    for row in _rows(ctx):
        for name, value in (("Begindatum", row.begin), ("Einddatum", row.end)):
            if value is not None and value < _EARLIEST_DECLARATION:
                yield issue(r, ctx, row.find(f"ProductPeriode/{name}"), f"{name} {value} is before 2021-01-01")


@rule(
    "CS319",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="DeclaratieNummer consists of contiguous letters and/or digits.",
)
def cs319(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    nummer = child(child(ctx.root, "Declaratie"), "DeclaratieNummer")
    if nummer is not None and not re.fullmatch(r"[A-Za-z0-9]+", nummer.text or ""):
        yield issue(r, ctx, nummer, "DeclaratieNummer must consist of letters and digits only")


def _zero_is_debit(r: Rule, ctx: RuleContext, el, amount_name: str) -> Iterator[Issue]:
    if el is None:
        return
    if parse_int(text(el, amount_name)) == 0 and (text(el, "DebetCredit") or "").strip() != "D":
        yield issue(r, ctx, child(el, "DebetCredit"), f"{amount_name} is 0, so DebetCredit must be D")


@rule(
    "CS325",
    retourcode="0001",
    level="condition",
    messages=("323", "325"),
    summary="A (Totaal)Bedrag of 0 carries DebetCredit D.",
)
def cs325(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    top = child(ctx.root, "Declaratie" if ctx.mtype.number == "323" else "DeclaratieAntwoord")
    yield from _zero_is_debit(r, ctx, child(top, "TotaalIngediendBedrag"), "TotaalBedrag")
    if ctx.mtype.number == "325":
        yield from _zero_is_debit(r, ctx, child(top, "TotaalToegekendBedrag"), "TotaalBedrag")
    for row in _rows(ctx):
        if parse_int(row.get("IngediendBedrag/Bedrag")) == 0 and row.get("IngediendBedrag/DebetCredit") != "D":
            yield issue(r, ctx, row.find("IngediendBedrag/DebetCredit"), "Bedrag is 0, so DebetCredit must be D")


@rule(
    "CS337",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="ProductPeriode Einddatum lies in the same calendar month and year as its Begindatum.",
)
def cs337(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for row in _rows(ctx):
        begin, end = row.begin, row.end
        if begin and end and (begin.year, begin.month) != (end.year, end.month):
            yield issue(
                r,
                ctx,
                row.find("ProductPeriode/Einddatum"), f"Einddatum {end} is not in the month of Begindatum {begin}"
            )


@rule(
    "CS339",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="When Eenheid is 83 (euro's), IngediendBedrag equals GeleverdVolume.",
)
def cs339(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for row in _rows(ctx):
        if row.get("Eenheid") != "83":
            continue
        bedrag, volume = parse_int(row.get("IngediendBedrag/Bedrag")), parse_int(row.get("GeleverdVolume"))
        if bedrag is not None and volume is not None and bedrag != volume:
            yield issue(
                r,
                ctx,
                row.find("IngediendBedrag/Bedrag"),
                f"Eenheid 83: IngediendBedrag {bedrag} must equal GeleverdVolume {volume}",
            )


@rule(
    "CS340",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="DeclaratiePeriode is exactly one whole calendar month.",
)
def cs340(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    periode = child(child(ctx.root, "Declaratie"), "DeclaratiePeriode")
    begin, end = date_of(periode, "Begindatum"), date_of(periode, "Einddatum")
    if begin is None or end is None:
        return
    last = calendar.monthrange(begin.year, begin.month)[1]
    if begin.day != 1 or end != begin.replace(day=last):
        yield issue(r, ctx, periode, f"DeclaratiePeriode {begin}..{end} is not one whole calendar month")
