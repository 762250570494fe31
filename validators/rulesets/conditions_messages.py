"""Conditions and constraints of start/stop (305/307), answer (319) and declaration (323/325).

CS058; CD085, CD086; CD060, CD087, CS100, CS319, CS325, CS337, CS339, CS340. Level 2, 0001.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date, timedelta

from validators.common import (
    PrestatieRow,
    date_of,
    descendants,
    issue,
    parse_int,
    prestatie_rows,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child, fields, first, text

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
def cs058(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    for group, name in (("StartProducten", "StartProduct"), ("StopProducten", "StopProduct")):
        for item in descendants(ctx.root, "Client", group, name):
            status = first(fields(item), "StatusAanlevering")
            if status is not None and (status.text or "").strip() not in ("1", "3"):
                found.append(issue(r, ctx, status, f"StatusAanlevering {status.text} is not allowed; use 1 or 3"))
    return found


@rule(
    "CD085",
    retourcode="0001",
    level="condition",
    messages=("319",),
    summary="RedenAfwijzingVerzoek is filled when VerzoekAntwoord is 1 (verzoek afgewezen).",
)
def cd085(r: Rule, ctx: RuleContext) -> list[Issue]:
    antwoord = fields(first(fields(ctx.root), "Antwoord"))
    verzoek = first(antwoord, "VerzoekAntwoord")
    if verzoek is not None and verzoek.text == "1" and "RedenAfwijzingVerzoek" not in antwoord:
        # The Locatie is the VerzoekAntwoord that demands the reason: a missing element has none.
        return [issue(r, ctx, verzoek, "RedenAfwijzingVerzoek is mandatory when rejecting")]
    return []


@rule(
    "CD086",
    retourcode="0001",
    level="condition",
    messages=("319",),
    summary="RedenAfwijzingVerzoek is empty when VerzoekAntwoord is 2 (aanvraag in onderzoek).",
)
def cd086(r: Rule, ctx: RuleContext) -> list[Issue]:
    antwoord = fields(first(fields(ctx.root), "Antwoord"))
    verzoek = first(antwoord, "VerzoekAntwoord")
    if verzoek is not None and verzoek.text == "2" and "RedenAfwijzingVerzoek" in antwoord:
        return [
            issue(
                r,
                ctx,
                first(antwoord, "RedenAfwijzingVerzoek"),
                "RedenAfwijzingVerzoek must be empty when the request is in onderzoek",
                also=[verzoek],
            )
        ]
    return []


@rule(
    "CD060",
    retourcode="0001",
    level="condition",
    messages=("323", "325"),
    summary="VorigReferentieNummer is mandatory when IngediendBedrag DebetCredit is C, otherwise empty.",
)
def cd060(r: Rule, ctx: RuleContext) -> list[Issue]:
    # Both directions compare the DebetCredit with the VorigReferentieNummer: the Locaties are
    # the DebetCredit and, when it is there, the VorigReferentieNummer.
    found: list[Issue] = []
    vorig = "ProductReferentie/VorigReferentieNummer"
    for row in _rows(ctx):
        credit = row.get("IngediendBedrag/DebetCredit") == "C"
        if credit and not row.has(vorig):
            found.append(
                issue(
                    r, ctx, row.find("IngediendBedrag/DebetCredit"), "a credit prestatie needs VorigReferentieNummer"
                )
            )
        elif not credit and row.has(vorig):
            found.append(
                issue(
                    r,
                    ctx,
                    row.find("IngediendBedrag/DebetCredit"),
                    "VorigReferentieNummer must be empty on a debit prestatie",
                    also=[row.find(vorig)],
                )
            )
    return found


@rule(
    "CD087",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="ProductTarief is mandatory when Eenheid is not 83 (euro's), otherwise empty.",
)
def cd087(r: Rule, ctx: RuleContext) -> list[Issue]:
    # The condition is on the Eenheid: the Locaties are the Eenheid and, when it is there, the
    # ProductTarief. Without an Eenheid (the XSD requires one) there is nothing to compare.
    found: list[Issue] = []
    for row in _rows(ctx):
        eenheid = row.get("Eenheid")
        if eenheid is None:
            continue
        euros = eenheid == "83"
        tarief = row.has("ProductTarief")
        if not euros and not tarief:
            found.append(issue(r, ctx, row.find("Eenheid"), "ProductTarief is mandatory unless Eenheid is 83"))
        elif euros and tarief:
            found.append(
                issue(
                    r,
                    ctx,
                    row.find("Eenheid"),
                    "ProductTarief must be empty when Eenheid is 83",
                    also=[row.find("ProductTarief")],
                )
            )
    return found


@rule(
    "CS100",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="DeclaratiePeriode and ProductPeriode start (Begindatum) on or after 2021-01-01.",
)
def cs100(r: Rule, ctx: RuleContext) -> list[Issue]:
    # A period "is filled with a date" from 2021 on when it starts then: the Begindatum is checked
    # (an Einddatum before its Begindatum is TR137's finding, not a second CS100).
    found: list[Issue] = []
    periode = child(child(ctx.root, "Declaratie"), "DeclaratiePeriode")
    value = date_of(periode, "Begindatum")
    if value is not None and value < _EARLIEST_DECLARATION:
        found.append(issue(r, ctx, child(periode, "Begindatum"), f"Begindatum {value} is before 2021-01-01"))
    for row in _rows(ctx):
        if row.begin is not None and row.begin < _EARLIEST_DECLARATION:
            found.append(
                issue(
                    r, ctx, row.find("ProductPeriode/Begindatum"), f"Begindatum {row.begin} is before 2021-01-01"
                )
            )
    return found


@rule(
    "CS319",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="DeclaratieNummer consists of contiguous letters and/or digits.",
)
def cs319(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    nummer = child(child(ctx.root, "Declaratie"), "DeclaratieNummer")
    if nummer is not None and not re.fullmatch(r"[A-Za-z0-9]+", nummer.text or ""):
        found.append(issue(r, ctx, nummer, "DeclaratieNummer must consist of letters and digits only"))
    return found


def _zero_is_debit(r: Rule, ctx: RuleContext, el, amount_name: str) -> Iterator[Issue]:
    # The check compares the amount with its DebetCredit: both are the Locaties.
    if el is None:
        return
    if parse_int(text(el, amount_name)) == 0 and (text(el, "DebetCredit") or "").strip() != "D":
        yield issue(
            r,
            ctx,
            child(el, "DebetCredit"),
            f"{amount_name} is 0, so DebetCredit must be D",
            also=[child(el, amount_name)],
        )


@rule(
    "CS325",
    retourcode="0001",
    level="condition",
    messages=("323", "325"),
    summary="A (Totaal)Bedrag of 0 carries DebetCredit D.",
)
def cs325(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    top = child(ctx.root, "Declaratie" if ctx.mtype.number == "323" else "DeclaratieAntwoord")
    found.extend(_zero_is_debit(r, ctx, child(top, "TotaalIngediendBedrag"), "TotaalBedrag"))
    if ctx.mtype.number == "325":
        found.extend(_zero_is_debit(r, ctx, child(top, "TotaalToegekendBedrag"), "TotaalBedrag"))
    for row in _rows(ctx):
        if parse_int(row.get("IngediendBedrag/Bedrag")) == 0 and row.get("IngediendBedrag/DebetCredit") != "D":
            found.append(
                issue(
                    r,
                    ctx,
                    row.find("IngediendBedrag/DebetCredit"),
                    "Bedrag is 0, so DebetCredit must be D",
                    also=[row.find("IngediendBedrag/Bedrag")],
                )
            )
    return found


@rule(
    "CS337",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="ProductPeriode Einddatum lies in the same calendar month and year as its Begindatum.",
)
def cs337(r: Rule, ctx: RuleContext) -> list[Issue]:
    # The check compares the two dates of the ProductPeriode: both are its Locaties.
    found: list[Issue] = []
    for row in _rows(ctx):
        begin, end = row.begin, row.end
        if begin and end and (begin.year, begin.month) != (end.year, end.month):
            found.append(
                issue(
                    r,
                    ctx,
                    row.find("ProductPeriode/Einddatum"),
                    f"Einddatum {end} is not in the month of Begindatum {begin}",
                    also=[row.find("ProductPeriode/Begindatum")],
                )
            )
    return found


@rule(
    "CS339",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="When Eenheid is 83 (euro's), IngediendBedrag equals GeleverdVolume.",
)
def cs339(r: Rule, ctx: RuleContext) -> list[Issue]:
    found: list[Issue] = []
    for row in _rows(ctx):
        if row.get("Eenheid") != "83":
            continue
        bedrag, volume = parse_int(row.get("IngediendBedrag/Bedrag")), parse_int(row.get("GeleverdVolume"))
        if bedrag is not None and volume is not None and bedrag != volume:
            found.append(
                issue(
                    r,
                    ctx,
                    row.find("IngediendBedrag/Bedrag"),
                    f"Eenheid 83: IngediendBedrag {bedrag} must equal GeleverdVolume {volume}",
                    also=[row.find("GeleverdVolume")],
                )
            )
    return found


@rule(
    "CS340",
    retourcode="0001",
    level="condition",
    messages=("323",),
    summary="DeclaratiePeriode is exactly one whole calendar month.",
)
def cs340(r: Rule, ctx: RuleContext) -> list[Issue]:
    # Two findings, as the period can fail in two ways: it does not start on the first of a month
    # (the Begindatum), and it does not end the day before the same day a month later (both dates).
    # Together they say "exactly one whole calendar month".
    found: list[Issue] = []
    periode = child(child(ctx.root, "Declaratie"), "DeclaratiePeriode")
    begin, end = date_of(periode, "Begindatum"), date_of(periode, "Einddatum")
    if begin is None or end is None:
        return found
    begin_el, end_el = child(periode, "Begindatum"), child(periode, "Einddatum")
    if begin.day != 1:
        found.append(issue(r, ctx, begin_el, f"DeclaratiePeriode Begindatum {begin} is not the first day of a month"))
    if end + timedelta(days=1) != month_later(begin):
        found.append(
            issue(
                r, ctx, begin_el, f"DeclaratiePeriode {begin}..{end} is not one whole calendar month", also=[end_el]
            )
        )
    return found


def month_later(d: date) -> date:
    """The same day a month later; a day the next month lacks runs on into the month after
    (31 January -> 3 March in a common year), so only a period that starts on the 1st can pass."""
    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    overflow = d.day - calendar.monthrange(year, month)[1]
    if overflow <= 0:
        return d.replace(year=year, month=month)
    return date(year, month, calendar.monthrange(year, month)[1]) + timedelta(days=overflow)
