"""Cross-message rules of the declaratie-antwoord (325), checked where the 325 passes the gateway
on its way to the aanbieder: TR337, TR371 (Header), TR376 (DeclaratieAntwoord), TR366, TR367,
TR304 (Prestatie).

A 325 gets no retour (FAQ): these findings reject the 325 at the gateway and are reported to the
gemeente that sent it. TR337, TR371 and TR376 have no official retourcode ("n.v.t.").
"""

from __future__ import annotations

from collections.abc import Iterator

from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child, text
from validators.rulesets.crossmessage_support import between, declaratie, header

NVT = "n.v.t."


def _related(ctx: RuleContext):  # noqa: ANN202
    """The 323 this 325 answers, found by its DeclaratieNummer."""
    b = between(ctx)
    d = declaratie(ctx)
    found = ctx.state.declaration(b.law, b.aanbieder, d.nummer) if d.nummer else None
    return b, d, found


@rule(
    "TR337",
    retourcode=NVT,
    level="crossmessage",
    messages=("325",),
    summary="DeclaratieIdentificatie equals the BerichtIdentificatie of an earlier 323",
)
def tr337(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    hd = header(ctx)
    ident = (text(hd, "DeclaratieIdentificatie", "Identificatie") or "").strip()
    if ident and ctx.state.declaration_by_identificatie(b.law, b.aanbieder, ident) is None:
        yield r.issue(
            child(child(hd, "DeclaratieIdentificatie"), "Identificatie"),
            f"no declaratiebericht {ident} of aanbieder {b.aanbieder} was received",
            class_el=hd,
        )


@rule(
    "TR371",
    retourcode=NVT,
    level="crossmessage",
    messages=("325",),
    summary="XsdVersieDeclaratie equals the XsdVersie of the related 323",
)
def tr371(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    hd = header(ctx)
    ident = (text(hd, "DeclaratieIdentificatie", "Identificatie") or "").strip()
    found = ctx.state.declaration_by_identificatie(b.law, b.aanbieder, ident) if ident else None
    el = child(hd, "XsdVersieDeclaratie")
    if found is None or el is None or not found.xsd_versie:
        return
    given = {"basis": (text(el, "BasisschemaXsdVersie") or "").strip() or None,
             "bericht": (text(el, "BerichtXsdVersie") or "").strip() or None}
    if given != found.xsd_versie:
        yield r.issue(el, "XsdVersieDeclaratie differs from the XsdVersie of the declaratiebericht", class_el=hd)


@rule(
    "TR376",
    retourcode=NVT,
    level="crossmessage",
    messages=("325",),
    summary="DeclaratieNummer equals the DeclaratieNummer of an earlier received declaratie",
)
def tr376(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b, d, found = _related(ctx)
    if d.nummer and found is None:
        yield r.issue(
            child(d.el, "DeclaratieNummer"), f"no declaratie {d.nummer} of aanbieder {b.aanbieder}", class_el=d.el
        )


def _echoed(ctx: RuleContext):  # noqa: ANN202
    if ctx.state is None:
        return
    b = between(ctx)
    for p in declaratie(ctx).prestaties:
        if p.referentienummer:
            yield p, ctx.state.prestatie(b.law, b.aanbieder, p.referentienummer)


@rule(
    "TR366",
    retourcode="9366",
    level="crossmessage",
    messages=("325",),
    summary="Each Prestatie of a 325 relates to a declared prestatie via ProductReferentie",
)
def tr366(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for p, stored in _echoed(ctx) or ():
        if stored is None:
            yield r.issue(
                child(child(p.el, "ProductReferentie"), "ReferentieNummer"),
                f"prestatie {p.referentienummer} was not declared",
                class_el=p.el,
            )


@rule(
    "TR367",
    retourcode="9367",
    level="crossmessage",
    messages=("325",),
    summary="A Prestatie of a 325 has the values of the declared prestatie",
)
def tr367(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for p, s in _echoed(ctx) or ():
        if s is None:
            continue
        mine = (p.vorig_referentienummer, p.toewijzingnummer, p.categorie, p.code, p.periode_begin,
                p.periode_eind, p.volume, p.eenheid, p.tarief, p.bedrag, p.debet_credit)
        theirs = (s.vorig_referentienummer, s.toewijzingnummer, s.categorie, s.code, s.periode_begin,
                  s.periode_eind, s.volume, s.eenheid, s.tarief, s.bedrag, s.debet_credit)
        if mine != theirs:
            names = ("VorigReferentieNummer", "ToewijzingNummer", "ProductCategorie", "ProductCode",
                     "ProductPeriode/Begindatum", "ProductPeriode/Einddatum", "GeleverdVolume", "Eenheid",
                     "ProductTarief", "IngediendBedrag", "DebetCredit")
            differ = [n for n, a, b in zip(names, mine, theirs, strict=True) if a != b]
            yield r.issue(p.el, f"differs from the declared prestatie in {', '.join(differ)}", class_el=p.el)


def tr304_answer(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    """TR304 for a 325 (registered in crossmessage_declaration with the 317 and 323 sides)."""
    for p, s in _echoed(ctx) or ():
        if s is not None and s.client_key != ctx.state.client_key(p.bsn):
            yield r.issue(child(p.client_el, "Bsn"), f"prestatie {p.referentienummer} belongs to another client",
                          class_el=p.el)
