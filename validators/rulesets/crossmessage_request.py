"""Cross-message rules of requests and answers: VOT (315), VOW (317), antwoord (319).

315: TR347 (AangevraagdProduct), TR374 (Client).
317: TR304 (Client; registered with the 323 side), TR347, TR349, TR374 (Verzoek), TR350 (OngewijzigdProduct), TR351, TR357,
TR373, TR375, TR411, TR412 (TeWijzigenProduct), TR361 (the overlapping product).
319: TR355, TR359, TR360, TR365 (Antwoord).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from validators import extract
from validators.common import OPEN_END, Period, per_message, stacked
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child
from validators.rulesets.crossmessage_support import between, client_el, dagtekening

CUTOFF_2020 = date(2020, 12, 31)


# --- 315 and 317 ---------------------------------------------------------------------------


def _referenties(ctx: RuleContext) -> list[tuple[str, object, object]]:
    """(ReferentieAanbieder, its element, the class reporting it) of a 315 or 317."""
    if ctx.mtype.number == "315":
        return [
            (p.referentie_aanbieder, child(p.el, "ReferentieAanbieder"), p.el)
            for p in extract.requested_products(ctx.root)
            if p.referentie_aanbieder
        ]
    v = _verzoek(ctx)
    if not v.referentie_aanbieder:
        return []
    return [(v.referentie_aanbieder, child(v.el, "ReferentieAanbieder"), v.el)]


@rule(
    "TR347",
    retourcode="9347",
    level="crossmessage",
    messages=("315", "317"),
    summary="ReferentieAanbieder is unique for the aanbieder within the legal domain",
)
def tr347(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    for ref, el, cls in _referenties(ctx):
        if ctx.state.request(b.law, b.aanbieder, ref) is not None:
            yield r.issue(el, f"ReferentieAanbieder {ref} was already used in an earlier request", class_el=cls)


@rule(
    "TR374",
    retourcode="9374",
    level="crossmessage",
    messages=("315", "317"),
    summary="A request is allowed only when no request of the client with this aanbieder is pending",
)
def tr374(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    bsn = extract.client_bsn(ctx.root)
    if not bsn:
        return
    pending = ctx.state.open_requests(b.law, b.gemeente, b.aanbieder, bsn)
    if pending:
        cls = client_el(ctx) if ctx.mtype.number == "315" else _verzoek(ctx).el
        yield r.issue(
            cls,
            f"request {pending[0].referentie_aanbieder} of this client is still pending "
            "(no 301 or rejecting 319 yet)",
            class_el=cls,
        )


# --- 317 -----------------------------------------------------------------------------------


def _verzoek(ctx: RuleContext) -> extract.Verzoek:
    """The 317's Verzoek, read once per rule run (a dozen rules walk its products)."""
    return per_message(ctx, "crossmessage.verzoek", _read_verzoek)


def _read_verzoek(ctx: RuleContext) -> extract.Verzoek:
    return extract.verzoek(ctx.root)


def _vow(ctx: RuleContext):  # noqa: ANN202
    """(between, bsn, verzoek, {ToewijzingNummer: current allocation of this client}), found once
    per rule run (the state does not change while the rules run). Read it, never change it."""
    return per_message(ctx, "crossmessage.vow", _read_vow)


def _read_vow(ctx: RuleContext):  # noqa: ANN202
    b = between(ctx)
    bsn = extract.client_bsn(ctx.root) or ""
    allocations = {a.toewijzingnummer: a for a in ctx.state.client_allocations(b.law, b.gemeente, b.aanbieder, bsn)}
    return b, bsn, _verzoek(ctx), allocations


def _existing_items(v: extract.Verzoek, kind: str | None = None) -> list[extract.VowItem]:
    return [i for i in v.items if i.kind != "nieuw" and (kind is None or i.kind == kind) and i.toewijzingnummer]


def tr304_vow(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    """TR304 for a 317 (registered in crossmessage_declaration, with the 323 side)."""
    if ctx.state is None:
        return
    b, bsn, v, mine = _vow(ctx)
    ck = ctx.state.client_key(bsn)
    for item in _existing_items(v):
        if item.toewijzingnummer in mine:
            continue
        a = ctx.state.allocation(b.law, b.gemeente, item.toewijzingnummer)
        if a is not None and a.aanbieder == b.aanbieder and a.client_key != ck:
            cl = client_el(ctx)
            yield r.issue(
                child(cl, "Bsn"),
                f"toewijzing {item.toewijzingnummer} belongs to another client",
                class_el=cl,
            )
            return


@rule(
    "TR349",
    retourcode="9349",
    level="crossmessage",
    messages=("317",),
    summary="A VOW names every actual toewijzing of the client as Ongewijzigd or TeWijzigen",
)
def tr349(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    _b, _bsn, v, mine = _vow(ctx)
    if v.el is None:
        return
    named = {i.toewijzingnummer for i in _existing_items(v)}
    day = dagtekening(ctx)
    missing = sorted(n for n, a in mine.items() if a.actual_on(day) and n not in named)
    if missing:
        yield r.issue(v.el, f"actual toewijzingen missing from the request: {', '.join(missing)}", class_el=v.el)


def _actual_allocation(ctx: RuleContext, mine: dict, item: extract.VowItem):  # noqa: ANN202
    a = mine.get(item.toewijzingnummer)
    return a if a is not None and a.actual_on(dagtekening(ctx)) else None


@rule(
    "TR350",
    retourcode="9350",
    level="crossmessage",
    messages=("317",),
    summary="An OngewijzigdProduct refers to an actual toewijzing",
)
def tr350(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    _b, _bsn, v, mine = _vow(ctx)
    for item in _existing_items(v, "ongewijzigd"):
        if _actual_allocation(ctx, mine, item) is None:
            yield r.issue(
                child(item.el, "ToewijzingNummer"),
                f"toewijzing {item.toewijzingnummer} is not an actual toewijzing of this client",
                class_el=item.el,
            )


@rule(
    "TR351",
    retourcode="9351",
    level="crossmessage",
    messages=("317",),
    summary="A TeWijzigenProduct refers to an actual toewijzing",
)
def tr351(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    _b, _bsn, v, mine = _vow(ctx)
    for item in _existing_items(v, "tewijzigen"):
        if _actual_allocation(ctx, mine, item) is None:
            yield r.issue(
                child(item.el, "ToewijzingNummer"),
                f"toewijzing {item.toewijzingnummer} is not an actual toewijzing of this client",
                class_el=item.el,
            )


def _changes(ctx: RuleContext) -> Iterator[tuple[extract.VowItem, object]]:
    """TeWijzigenProducten with the actual toewijzing they change (the others are TR351's)."""
    if ctx.state is None:
        return
    _b, _bsn, v, mine = _vow(ctx)
    for item in _existing_items(v, "tewijzigen"):
        a = _actual_allocation(ctx, mine, item)
        if a is not None:
            yield item, a


@rule(
    "TR357",
    retourcode="9357",
    level="crossmessage",
    messages=("317",),
    summary="A GewensteIngangsdatum on or before the Dagtekening equals the toewijzing's Ingangsdatum",
)
def tr357(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    day = dagtekening(ctx)
    for item, a in _changes(ctx):
        g = item.gewenste_ingangsdatum
        if g is not None and g <= day and g != a.ingangsdatum:
            yield r.issue(
                child(item.el, "GewensteIngangsdatum"),
                f"GewensteIngangsdatum {g} is not after the Dagtekening and differs from the "
                f"Ingangsdatum {a.ingangsdatum} of toewijzing {a.toewijzingnummer}",
                class_el=item.el,
            )


@rule(
    "TR373",
    retourcode="9373",
    level="crossmessage",
    messages=("317",),
    summary="A change of Budget or of a total volume (frequentie 6) starts on the toewijzing's Ingangsdatum",
)
def tr373(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for item, a in _changes(ctx):
        budget_changed = item.budget is not None and item.budget != a.budget
        o = item.omvang
        total_changed = (
            o is not None
            and (o.frequentie == "6" or a.frequentie == "6")
            and (o.volume, o.eenheid, o.frequentie) != (a.volume, a.eenheid, a.frequentie)
        )
        if (budget_changed or total_changed) and item.gewenste_ingangsdatum != a.ingangsdatum:
            yield r.issue(
                child(item.el, "GewensteIngangsdatum"),
                f"a change of {'Budget' if budget_changed else 'the total Omvang'} must start on the "
                f"Ingangsdatum {a.ingangsdatum} of toewijzing {a.toewijzingnummer}",
                class_el=item.el,
            )


def _open_after_2020(a) -> bool:  # noqa: ANN001
    return a.einddatum is None or a.einddatum > CUTOFF_2020


@rule(
    "TR375",
    retourcode="9375",
    level="crossmessage",
    messages=("317",),
    summary="No Omvang when the toewijzing has no Product and ends after 2020 or is open",
)
def tr375(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for item, a in _changes(ctx):
        if item.omvang is not None and a.categorie is None and _open_after_2020(a):
            yield r.issue(
                child(item.el, "Omvang"),
                f"toewijzing {a.toewijzingnummer} has no Product, so Omvang stays empty",
                class_el=item.el,
            )


@rule(
    "TR411",
    retourcode="9411",
    level="crossmessage",
    messages=("317",),
    summary="Omvang is mandatory when the toewijzing has a Product Code",
)
def tr411(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for item, a in _changes(ctx):
        if item.omvang is None and a.code is not None:
            yield r.issue(
                item.el,
                f"toewijzing {a.toewijzingnummer} has ProductCode {a.code}, so Omvang is mandatory",
                class_el=item.el,
            )


@rule(
    "TR412",
    retourcode="9412",
    level="crossmessage",
    messages=("317",),
    summary="No Omvang when the toewijzing has no Product Code and ends after 2020 or is open",
)
def tr412(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for item, a in _changes(ctx):
        if item.omvang is not None and a.code is None and _open_after_2020(a):
            yield r.issue(
                child(item.el, "Omvang"),
                f"toewijzing {a.toewijzingnummer} has no ProductCode, so Omvang stays empty",
                class_el=item.el,
            )


@rule(
    "TR361",
    retourcode="9361",
    level="crossmessage",
    messages=("317",),
    summary="A product occurs more than once in a VOW only with periods that do not overlap",
)
def tr361(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    _b, _bsn, v, mine = _vow(ctx)
    periods: list[Period] = []
    for item in v.items:
        if item.kind == "nieuw":
            if item.gewenste_ingangsdatum is None:
                continue
            periods.append(
                Period(item.el, item.categorie, item.code, item.gewenste_ingangsdatum, item.einddatum or OPEN_END)
            )
            continue
        a = mine.get(item.toewijzingnummer)
        if a is None:
            continue  # TR350/TR351 report it
        start = a.ingangsdatum
        end = (item.einddatum if item.kind == "tewijzigen" and item.einddatum else a.einddatum) or OPEN_END
        periods.append(Period(item.el, a.categorie, a.code, start, end))
    for p, why in stacked(periods, wmo=ctx.mtype.standard == "iwmo"):
        yield r.issue(p.el, f"overlapping periods: {why}", class_el=p.el)


# --- 319 -----------------------------------------------------------------------------------


def _answer(ctx: RuleContext):  # noqa: ANN202
    """(between, the 319's Antwoord), read once per rule run. Read it, never change it."""
    return between(ctx), per_message(ctx, "crossmessage.antwoord", _read_antwoord)


def _read_antwoord(ctx: RuleContext) -> extract.Antwoord:
    return extract.antwoord(ctx.root)


@rule(
    "TR355",
    retourcode="9355",
    level="crossmessage",
    messages=("319",),
    summary="The ReferentieAanbieder of an answer occurs in an earlier VOT or VOW",
)
def tr355(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b, a = _answer(ctx)
    if not a.referentie_aanbieder:
        return
    req = ctx.state.request(b.law, b.aanbieder, a.referentie_aanbieder)
    if req is None or req.gemeente != b.gemeente:
        yield r.issue(
            child(a.el, "ReferentieAanbieder"),
            f"no request {a.referentie_aanbieder} of aanbieder {b.aanbieder} to gemeente {b.gemeente}",
            class_el=a.el,
        )


@rule(
    "TR359",
    retourcode="9359",
    level="crossmessage",
    messages=("319",),
    summary="No answer after a toewijzing (301) honouring the same ReferentieAanbieder",
)
def tr359(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b, a = _answer(ctx)
    if a.referentie_aanbieder and ctx.state.allocation_with_referentie(b.law, b.aanbieder, a.referentie_aanbieder):
        yield r.issue(
            child(a.el, "ReferentieAanbieder"),
            f"request {a.referentie_aanbieder} was already answered with a toewijzing",
            class_el=a.el,
        )


@rule(
    "TR360",
    retourcode="9360",
    level="crossmessage",
    messages=("319",),
    summary="'In onderzoek' (VerzoekAntwoord 2) only as the first answer to a request",
)
def tr360(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b, a = _answer(ctx)
    if a.verzoek_antwoord != "2" or not a.referentie_aanbieder:
        return
    if ctx.state.answers(b.law, b.aanbieder, a.referentie_aanbieder):
        yield r.issue(
            child(a.el, "VerzoekAntwoord"),
            f"request {a.referentie_aanbieder} already has an answer",
            class_el=a.el,
        )


@rule(
    "TR365",
    retourcode="9365",
    level="crossmessage",
    messages=("319",),
    summary="An earlier answer to the same request must have been 'in onderzoek'",
)
def tr365(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b, a = _answer(ctx)
    if not a.referentie_aanbieder:
        return
    earlier = ctx.state.answers(b.law, b.aanbieder, a.referentie_aanbieder)
    if any(x.verzoek_antwoord != "2" for x in earlier):
        yield r.issue(
            child(a.el, "ReferentieAanbieder"),
            f"request {a.referentie_aanbieder} was already answered definitively",
            class_el=a.el,
        )
