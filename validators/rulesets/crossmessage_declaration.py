"""Cross-message rules of the declaratie (323).

On the Declaratie class (a failure rejects the whole declaration): TR333, TR318.
On the Prestatie (a failure rejects that prestatie only): TR304, TR307, TR308, TR314, TR321,
TR322, TR323, TR338, TR339, TR340, TR341, TR369, TR384, TR387, TR388, TR389, TR390.

A prestatie relates to its toewijzing by ToewijzingNummer within the gemeente the 323 goes to
(TR338). Rules that compare with the toewijzing skip a prestatie without one (TR338 reports it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from validators import extract
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child
from validators.rulesets.crossmessage_declaration_answer import tr304_answer
from validators.rulesets.crossmessage_request import tr304_vow
from validators.rulesets.crossmessage_support import between, declaratie, prestatie_issue

MINUTE, HOUR = "01", "04"
OUTPUT_UNITS = frozenset({"82", "83"})  # outputgericht: weeks count by Sundays (IV077)


def _decl(ctx: RuleContext) -> extract.Declaratie:
    return declaratie(ctx)


def _allocations(ctx: RuleContext) -> list[tuple[extract.Prestatie, object]]:
    """Each debit prestatie with a ToewijzingNummer and the toewijzing of that number in the
    gemeente (None when there is none), looked up once per message for TR338, TR304 and
    `_with_allocation` (the state does not change while the rules run)."""
    found = ctx.extra.get("crossmessage.allocations")
    if found is None:
        b = between(ctx)
        allocation = ctx.state.allocation
        found = [
            (p, allocation(b.law, b.gemeente, p.toewijzingnummer))
            for p in _decl(ctx).prestaties
            # a credit mirrors its debit, which was checked when it came in
            if p.debet_credit != "C" and p.toewijzingnummer
        ]
        ctx.extra["crossmessage.allocations"] = found
    return found


def _with_allocation(ctx: RuleContext) -> list[tuple[extract.Prestatie, object]]:
    """Prestaties (not credits) with the toewijzing of this aanbieder and client they declare on.
    Found once per message (eleven rules walk them; the state does not change while they run)."""
    if ctx.state is None:
        return []
    found = ctx.extra.get("crossmessage.with_allocation")
    if found is None:
        aanbieder = between(ctx).aanbieder
        key = ctx.state.client_key
        found = [(p, a) for p, a in _allocations(ctx)
                 if a is not None and a.aanbieder == aanbieder and a.client_key == key(p.bsn)]
        ctx.extra["crossmessage.with_allocation"] = found
    return found


def _el(p: extract.Prestatie, *names: str):  # noqa: ANN202
    el = p.el
    for n in names:
        el = child(el, n)
    return el if el is not None else p.el


# --- declaration level -----------------------------------------------------------------------


@rule(
    "TR333",
    retourcode="9333",
    level="crossmessage",
    messages=("323",),
    summary="DeclaratieNummer is unique for the aanbieder within the legal domain",
)
def tr333(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    d = _decl(ctx)
    if d.nummer and ctx.state.declaration(b.law, b.aanbieder, d.nummer) is not None:
        yield r.issue(
            child(d.el, "DeclaratieNummer"), f"DeclaratieNummer {d.nummer} was already used", class_el=d.el
        )


@rule(
    "TR318",
    retourcode="8214",
    level="crossmessage",
    messages=("323",),
    summary="A DeclaratiePeriode is not earlier than the last one declared, and follows on from it when "
    "the declaration itself shows care in the months between",
)
def tr318(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    # "Care was delivered in every period" is in no message as such. What the gateway can see:
    # (1) IV090: a declaration never goes back before the last DeclaratiePeriode;
    # (2) a debit prestatie is evidence of care in the month of its ProductPeriode. A debit in this
    #     declaration for a month strictly between the last DeclaratiePeriode and this one shows
    #     care in a period that was skipped: the periods should have followed on (the TR318
    #     example). Stored prestaties cannot show this: each lies within its own, earlier period.
    if ctx.state is None:
        return
    b = between(ctx)
    d = _decl(ctx)
    last = ctx.state.last_declaration_period(b.law, b.gemeente, b.aanbieder)
    if d.periode_begin is None or last is None:
        return
    el = child(d.el, "DeclaratiePeriode")
    if d.periode_begin < last:
        yield r.issue(el, f"DeclaratiePeriode {d.periode_begin} lies before the last declared period {last}",
                      class_el=d.el)
        return
    following = _month_after(last)
    if d.periode_begin <= following:
        return  # the same period again (a correction) or the next one
    skipped = sorted({
        p.periode_begin.replace(day=1)
        for p in d.prestaties
        if not p.is_credit and p.periode_begin is not None and last < p.periode_begin.replace(day=1) < d.periode_begin
    })
    if skipped:
        months = ", ".join(m.strftime("%Y-%m") for m in skipped)
        yield r.issue(
            el,
            f"this declaration shows care in {months}, after the last declared period {last:%Y-%m} but "
            f"before DeclaratiePeriode {d.periode_begin:%Y-%m}: with care in every period the "
            f"DeclaratiePeriode follows on ({following:%Y-%m})",
            class_el=d.el,
        )


def _month_after(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


# --- references between prestaties ----------------------------------------------------------


@rule(
    "TR314",
    retourcode="8021",
    level="crossmessage",
    messages=("323",),
    summary="A prestatie's ReferentieNummer is unique for the aanbieder within the legal domain",
)
def tr314(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    for p in _decl(ctx).prestaties:
        if p.referentienummer and ctx.state.prestatie(b.law, b.aanbieder, p.referentienummer) is not None:
            yield prestatie_issue(r, ctx,
                _el(p, "ProductReferentie", "ReferentieNummer"),
                f"ReferentieNummer {p.referentienummer} was already declared",
                class_el=p.el,
            )


@rule(
    "TR323",
    retourcode="8017",
    level="crossmessage",
    messages=("323",),
    summary="A credit's VorigReferentieNummer is the ReferentieNummer of an earlier, not rejected debit",
)
def tr323(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    for p in _decl(ctx).prestaties:
        if not p.is_credit:
            continue
        debit = (
            ctx.state.prestatie(b.law, b.aanbieder, p.vorig_referentienummer) if p.vorig_referentienummer else None
        )
        if debit is None or debit.debet_credit != "D" or debit.status != "accepted":
            yield prestatie_issue(r, ctx,
                _el(p, "ProductReferentie", "VorigReferentieNummer"),
                f"no accepted debit prestatie {p.vorig_referentienummer} to credit",
                class_el=p.el,
            )


@rule(
    "TR390",
    retourcode="9390",
    level="crossmessage",
    messages=("323",),
    summary="A debit prestatie is credited only once",
)
def tr390(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    for p in _decl(ctx).prestaties:
        if p.is_credit and p.vorig_referentienummer and ctx.state.credits_of(b.law, b.aanbieder, p.vorig_referentienummer):
            yield prestatie_issue(r, ctx,
                _el(p, "ProductReferentie", "VorigReferentieNummer"),
                f"prestatie {p.vorig_referentienummer} was already credited",
                class_el=p.el,
            )


@rule(
    "TR389",
    retourcode="9389",
    level="crossmessage",
    messages=("323",),
    summary="A debit for the same ProductPeriode, product and toewijzing only after the earlier one was credited",
)
def tr389(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    prestaties = _decl(ctx).prestaties
    credited_here = {p.vorig_referentienummer for p in prestaties if p.is_credit and p.vorig_referentienummer}
    for p in prestaties:
        if p.is_credit or p.periode_begin is None or p.periode_eind is None:
            continue
        earlier = ctx.state.debits_for(
            b.law, b.aanbieder, p.toewijzingnummer, p.categorie, p.code, p.periode_begin, p.periode_eind
        )
        open_debits = [d for d in earlier if not d.credited and d.referentienummer not in credited_here]
        if open_debits:
            yield prestatie_issue(r, ctx,
                _el(p, "ProductPeriode"),
                f"prestatie {open_debits[0].referentienummer} for the same period, product and toewijzing "
                "was not credited",
                class_el=p.el,
            )


# --- the prestatie against its toewijzing ---------------------------------------------------


@rule(
    "TR338",
    retourcode="9338",
    level="crossmessage",
    messages=("323",),
    summary="A prestatie relates to a toegewezen product of the aanbieder via ToewijzingNummer",
)
def tr338(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    numbered = iter(_allocations(ctx))  # the debits with a number, in order, with their toewijzing
    pending = next(numbered, None)
    for p in _decl(ctx).prestaties:
        if p.is_credit:
            continue
        a = None
        if pending is not None and pending[0] is p:
            a = pending[1]
            pending = next(numbered, None)
        if a is None or a.aanbieder != b.aanbieder:
            yield prestatie_issue(r, ctx,
                _el(p, "ToewijzingNummer"),
                f"no toewijzing {p.toewijzingnummer} of gemeente {b.gemeente} for aanbieder {b.aanbieder}",
                class_el=p.el,
            )


@rule(
    "TR304",
    retourcode="8187",
    level="crossmessage",
    messages=("317", "323", "325"),
    summary="The Bsn is the Bsn of the client of the referenced toewijzing (317, 323) or prestatie (325)",
)
def tr304(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    if ctx.mtype.number == "317":
        yield from tr304_vow(r, ctx)
        return
    if ctx.mtype.number == "325":
        yield from tr304_answer(r, ctx)
        return
    b = between(ctx)
    for p, a in _allocations(ctx):
        if a is not None and a.aanbieder == b.aanbieder and a.client_key != ctx.state.client_key(p.bsn):
            yield prestatie_issue(r, ctx,
                _el(p, "ToewijzingNummer"),
                f"toewijzing {p.toewijzingnummer} belongs to another client",
                class_el=p.el,
            )


@rule(
    "TR339",
    retourcode="9339",
    level="crossmessage",
    messages=("323",),
    summary="ProductCategorie equals the toewijzing's Categorie (when it has one)",
)
def tr339(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for p, a in _with_allocation(ctx):
        if a.categorie and p.categorie != a.categorie:
            yield prestatie_issue(r, ctx,
                _el(p, "ProductCategorie"),
                f"ProductCategorie {p.categorie} differs from {a.categorie} of toewijzing {a.toewijzingnummer}",
                class_el=p.el,
            )


@rule(
    "TR340",
    retourcode="9340",
    level="crossmessage",
    messages=("323",),
    summary="ProductCode equals the toewijzing's Code (when it has one)",
)
def tr340(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for p, a in _with_allocation(ctx):
        if a.code and p.code != a.code:
            yield prestatie_issue(r, ctx,
                _el(p, "ProductCode"),
                f"ProductCode {p.code} differs from {a.code} of toewijzing {a.toewijzingnummer}",
                class_el=p.el,
            )


@rule(
    "TR341",
    retourcode="9341",
    level="crossmessage",
    messages=("323",),
    summary="Eenheid fits the toewijzing's Eenheid (equal, or minutes against hours); for an aspecific "
    "or generic toewijzing, the contract's Eenheid of the declared product",
)
def tr341(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for p, a in _with_allocation(ctx):
        if a.eenheid:
            if p.eenheid != a.eenheid and not (a.eenheid == HOUR and p.eenheid == MINUTE):
                yield prestatie_issue(r, ctx,
                    _el(p, "Eenheid"),
                    f"Eenheid {p.eenheid} does not fit Eenheid {a.eenheid} of toewijzing {a.toewijzingnummer}",
                    class_el=p.el,
                )
            continue
        # Aspecific and generic toewijzingen have no Omvang: the unit is the contract's (TR341
        # toelichting). Without a contract registry, a region for the gemeente, or the product in
        # its list, there is nothing to compare with: no finding.
        units = _contract_units(ctx, p)
        if units and p.eenheid and not (p.eenheid in units or (p.eenheid == MINUTE and HOUR in units)):
            yield prestatie_issue(r, ctx,
                _el(p, "Eenheid"),
                f"Eenheid {p.eenheid} is not the contracted unit ({', '.join(units)}) of product "
                f"{p.categorie}/{p.code} on the {'aspecific' if a.categorie else 'generic'} "
                f"toewijzing {a.toewijzingnummer}",
                class_el=p.el,
            )


def _contract_units(ctx: RuleContext, p: extract.Prestatie) -> list[str] | None:
    """The units the region's contract sets for the declared product on its ProductPeriode, or None.

    An old product code in transition counts as its new product (with the old tariffs' units
    while the run-off has its own tariffs), as the contract rules read it (CR003, CR007)."""
    lookup = getattr(ctx.contracts, "lookup", None)
    if lookup is None or p.periode_begin is None or not p.code:
        return None
    idx = lookup(between(ctx).gemeente, p.periode_begin)
    if idx is None:
        return None
    mapping = idx.transition(ctx.mtype.law, p.code)
    if mapping is not None:
        if p.periode_begin > mapping.until:
            return None  # an expired old code is CR007's finding
        if mapping.tariffs:
            return sorted({t.unit for t in mapping.tariffs})
        product = idx.product(mapping.new_category, mapping.new_code)
    else:
        product = idx.product(p.categorie, p.code, ctx.mtype.law)
    return list(product.units) if product is not None else None


@rule(
    "TR384",
    retourcode="9384",
    level="crossmessage",
    messages=("323",),
    summary="No declaration on a toewijzing deleted with RedenWijziging 13",
)
def tr384(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for p, a in _with_allocation(ctx):
        if a.reden_wijziging == "13":
            yield prestatie_issue(r, ctx,
                _el(p, "ToewijzingNummer"), f"toewijzing {a.toewijzingnummer} was deleted (RedenWijziging 13)",
                class_el=p.el,
            )


@rule(
    "TR307",
    retourcode="9307",
    level="crossmessage",
    messages=("323",),
    summary="ProductPeriode Begindatum is on or after the toewijzing's Ingangsdatum",
)
def tr307(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for p, a in _with_allocation(ctx):
        if p.periode_begin is not None and p.periode_begin < a.ingangsdatum:
            yield prestatie_issue(r, ctx,
                _el(p, "ProductPeriode", "Begindatum"),
                f"ProductPeriode begins {p.periode_begin}, before the toewijzing's Ingangsdatum {a.ingangsdatum}",
                class_el=p.el,
            )


@rule(
    "TR308",
    retourcode="9308",
    level="crossmessage",
    messages=("323",),
    summary="ProductPeriode Einddatum is on or before the toewijzing's Einddatum",
)
def tr308(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for p, a in _with_allocation(ctx):
        if p.periode_eind is not None and a.einddatum is not None and p.periode_eind > a.einddatum:
            yield prestatie_issue(r, ctx,
                _el(p, "ProductPeriode", "Einddatum"),
                f"ProductPeriode ends {p.periode_eind}, after the toewijzing's Einddatum {a.einddatum}",
                class_el=p.el,
            )


def _month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


@rule(
    "TR387",
    retourcode="9387",
    level="crossmessage",
    messages=("323",),
    summary="ProductPeriode starts on the 1st, or on the toewijzing's Ingangsdatum later in that month",
)
def tr387(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for p, a in _with_allocation(ctx):
        b = p.periode_begin
        if b is None:
            continue
        first = b.replace(day=1)
        expected = a.ingangsdatum if first < a.ingangsdatum <= _month_end(b) else first
        if b != expected and not b < a.ingangsdatum:  # before the Ingangsdatum is TR307's case
            yield prestatie_issue(r, ctx,
                _el(p, "ProductPeriode", "Begindatum"),
                f"ProductPeriode should begin on {expected}",
                class_el=p.el,
            )


@rule(
    "TR388",
    retourcode="9388",
    level="crossmessage",
    messages=("323",),
    summary="ProductPeriode ends on the last day of the month, or on the toewijzing's earlier Einddatum",
)
def tr388(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for p, a in _with_allocation(ctx):
        e = p.periode_eind
        if e is None:
            continue
        last = _month_end(e)
        end = a.einddatum
        expected = end if end is not None and e.replace(day=1) <= end < last else last
        if e != expected and not (end is not None and e > end):  # after the Einddatum is TR308's case
            yield prestatie_issue(r, ctx,
                _el(p, "ProductPeriode", "Einddatum"),
                f"ProductPeriode should end on {expected}",
                class_el=p.el,
            )


# --- volumes and budget -----------------------------------------------------------------------


def _in_alloc_units(volume: int, eenheid: str | None, a) -> float:  # noqa: ANN001
    """A declared volume in the toewijzing's unit (minutes declared against hours, IV081)."""
    if a.eenheid == HOUR and eenheid == MINUTE:
        return volume / 60
    return volume


def _iso_weeks(begin: date, end: date) -> int:
    """Number of (partial) ISO-8601 weeks touched by [begin, end] (IV076)."""
    first_monday = begin - timedelta(days=begin.weekday())
    last_monday = end - timedelta(days=end.weekday())
    return (last_monday - first_monday).days // 7 + 1


def _sundays(begin: date, end: date) -> int:
    first = begin + timedelta(days=(6 - begin.weekday()) % 7)
    return 0 if first > end else (end - first).days // 7 + 1


def _weeks(a, begin: date, end: date) -> int:  # noqa: ANN001
    """Weeks that count in [begin, end] (IV076, IV077). Inspanning: the (partial) ISO weeks.
    Output: the Sundays, plus the last broken week of a toewijzing that does not end on a Sunday,
    counted in the period holding the toewijzing's last Sunday (IV076 example 2: a toewijzing to
    Friday 5 September gets its last week in August, and nothing in September)."""
    if a.eenheid in OUTPUT_UNITS:
        n = _sundays(begin, end)
        end_day = a.einddatum
        if end_day is not None and end_day.weekday() != 6:
            last_sunday = end_day - timedelta(days=end_day.weekday() + 1)
            if last_sunday < a.ingangsdatum:
                last_sunday = end_day  # no Sunday in the whole toewijzing: its one broken week ends here
            if begin <= last_sunday <= end:
                n += 1
        return n
    return _iso_weeks(begin, end)


def _months(begin: date, end: date) -> int:
    return (end.year - begin.year) * 12 + end.month - begin.month + 1


def _max_in(a, begin: date, end: date) -> float | None:  # noqa: ANN001
    """The most that may be declared in [begin, end] under the toewijzing's Omvang."""
    if a.volume is None or a.frequentie is None:
        return None
    if a.frequentie == "1":
        return a.volume * ((end - begin).days + 1)
    if a.frequentie == "2":
        return a.volume * _weeks(a, begin, end)
    if a.frequentie == "4":
        return a.volume * _months(begin, end)
    if a.frequentie == "6":
        return a.volume
    return None


@rule(
    "TR321",
    retourcode="9321",
    level="crossmessage",
    messages=("323",),
    summary="GeleverdVolume fits the toewijzing's Omvang for the ProductPeriode",
)
def tr321(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    # IV078: a broken (partial) week or month at the toewijzing's start or end may hold up to the
    # whole frequency volume (inspanning; for output the region agrees, and the full frequency
    # volume is the most any such agreement allows). Periods count only within the toewijzing
    # (IV077 "binnen de toewijzing"); a ProductPeriode outside it is TR307/TR308's finding.
    wmo = ctx.mtype.standard == "iwmo"
    for p, a in _with_allocation(ctx):
        if p.volume is None or p.periode_begin is None or p.periode_eind is None:
            continue
        begin = max(p.periode_begin, a.ingangsdatum)
        end = min(p.periode_eind, a.einddatum) if a.einddatum is not None else p.periode_eind
        if begin > end:
            continue
        if wmo and a.categorie == "01" and a.frequentie == "2" and a.volume is not None:
            limit = 6 * a.volume  # iWmo huishoudelijke hulp, weekly: up to 6 weeks' volume (IV077)
        else:
            limit = _max_in(a, begin, end)
        if limit is not None and _in_alloc_units(p.volume, p.eenheid, a) > limit:
            yield prestatie_issue(r, ctx,
                _el(p, "GeleverdVolume"),
                f"GeleverdVolume {p.volume} exceeds the {limit:g} allowed for this ProductPeriode "
                f"by toewijzing {a.toewijzingnummer}",
                class_el=p.el,
            )


def _running_totals(ctx: RuleContext) -> list[tuple[extract.Prestatie, object, float, int]]:
    """Each debit with its toewijzing and the total declared on it including this prestatie
    (earlier messages, then this message in document order): in the toewijzing's unit (TR322) and
    as declared (TR369). Made once for both rules: one pass and one state read per toewijzing."""
    found = ctx.extra.get("crossmessage.running_totals")
    if found is not None:
        return found
    b = between(ctx)
    totals: dict[str, list] = {}  # number -> [in the toewijzing's unit, as declared]
    credits: dict[str, list[extract.Prestatie]] = {}
    for c in _decl(ctx).prestaties:
        if c.is_credit and c.toewijzingnummer and c.volume is not None:
            credits.setdefault(c.toewijzingnummer, []).append(c)
    declared = ctx.state.declared_volumes
    found = []
    for p, a in _with_allocation(ctx):
        if p.volume is None:
            continue
        n = a.toewijzingnummer
        total = totals.get(n)
        if total is None:
            stored = declared(b.law, b.gemeente, b.aanbieder, n)
            mine = credits.get(n, ())
            if not stored and not mine:  # nothing declared on it yet (a new toewijzing): the sums below are 0
                total = totals[n] = [0, 0]
            else:  # credits in this message lower the total before the debits count (OP366)
                total = totals[n] = [
                    sum(_in_alloc_units(v, u, a) for u, v in stored.items()) - sum(
                        _in_alloc_units(c.volume, c.eenheid, a) for c in mine),
                    sum(stored.values()) - sum(c.volume for c in mine),
                ]
        total[0] += _in_alloc_units(p.volume, p.eenheid, a)
        total[1] += p.volume
        found.append((p, a, total[0], total[1]))
    ctx.extra["crossmessage.running_totals"] = found
    return found


@rule(
    "TR322",
    retourcode="9322",
    level="crossmessage",
    messages=("323",),
    summary="The sum of declared volumes fits the toewijzing's Omvang over its whole term (an open term "
    "until the end of the DeclaratiePeriode)",
)
def tr322(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    # An open-ended toewijzing (no Einddatum; never weekly, CD076) has run, as far as anything
    # can have been delivered, until the end of this DeclaratiePeriode: no prestatie lies later
    # (TR319, IV090), so that is the term its total is measured over.
    period_end = _decl(ctx).periode_eind
    for p, a, total, _declared in _running_totals(ctx):
        if a.volume is None or a.frequentie is None:
            continue
        term_end = a.einddatum or period_end
        if a.frequentie != "6" and (term_end is None or term_end < a.ingangsdatum):
            continue
        limit = a.volume if a.frequentie == "6" else _max_in(a, a.ingangsdatum, term_end)
        if limit is not None and total > limit:
            yield prestatie_issue(r, ctx,
                _el(p, "GeleverdVolume"),
                f"declared volume on toewijzing {a.toewijzingnummer} reaches {total:g}, more than the "
                f"{limit:g} allowed over its term",
                class_el=p.el,
            )


@rule(
    "TR369",
    retourcode="9369",
    level="crossmessage",
    messages=("323",),
    summary="With a Budget, the sum of GeleverdVolume over all prestaties fits the Budget",
)
def tr369(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    for p, a, _in_units, total in _running_totals(ctx):
        if a.budget is not None and total > a.budget:
            yield prestatie_issue(r, ctx,
                _el(p, "GeleverdVolume"),
                f"declared {total:g} on toewijzing {a.toewijzingnummer} exceeds its Budget {a.budget}",
                class_el=p.el,
            )
