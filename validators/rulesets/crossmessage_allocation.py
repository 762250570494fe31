"""Cross-message rules of the toewijzing (301): TR332, TR379, TR385. Reported on ToegewezenProduct."""

from __future__ import annotations

from collections.abc import Iterator

from validators import extract
from validators.common import per_message
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child
from validators.rulesets.crossmessage_support import between


def _allocations(ctx: RuleContext) -> list[extract.Allocation]:
    """The 301's ToegewezenProducten, read once per rule run (three rules walk them)."""
    return per_message(ctx, "crossmessage.allocations_301", _read_allocations)


def _read_allocations(ctx: RuleContext) -> list[extract.Allocation]:
    return extract.allocations(ctx.root)


@rule(
    "TR332",
    retourcode="9332",
    level="crossmessage",
    messages=("301",),
    summary="A ToewijzingNummer is unique per gemeente within the legal domain",
)
def tr332(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    ck = ctx.state.client_key(extract.client_bsn(ctx.root))
    for a in _allocations(ctx):
        if not a.toewijzingnummer:
            continue
        owner = ctx.state.allocation_owner(b.law, b.gemeente, a.toewijzingnummer)
        if owner is not None and owner != (b.aanbieder, ck):
            yield r.issue(
                child(a.el, "ToewijzingNummer"),
                f"ToewijzingNummer {a.toewijzingnummer} of gemeente {b.gemeente} was already issued "
                "for another client or aanbieder",
                class_el=a.el,
            )


@rule(
    "TR379",
    retourcode="9379",
    level="crossmessage",
    messages=("301",),
    summary="ReferentieAanbieder is filled only in the first 301 honouring that VOT/VOW",
)
def tr379(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    ck = ctx.state.client_key(extract.client_bsn(ctx.root))
    for a in _allocations(ctx):
        ref = a.referentie_aanbieder
        if not ref:
            continue
        el = child(a.el, "ReferentieAanbieder")
        request = ctx.state.request(b.law, b.aanbieder, ref)
        if request is None or request.gemeente != b.gemeente or request.client_key != ck:
            yield r.issue(
                el, f"ReferentieAanbieder {ref} does not refer to a request of this client", class_el=a.el
            )
        elif ctx.state.allocation_with_referentie(b.law, b.aanbieder, ref):
            yield r.issue(
                el,
                f"request {ref} was already honoured by an earlier 301; later 301s leave "
                "ReferentieAanbieder empty",
                class_el=a.el,
            )


@rule(
    "TR385",
    retourcode="9385",
    level="crossmessage",
    messages=("301",),
    summary="A toewijzing with approved, not credited prestaties cannot be deleted (RedenWijziging 13)",
)
def tr385(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b = between(ctx)
    for a in _allocations(ctx):
        if a.reden_wijziging != "13" or not a.toewijzingnummer:
            continue
        if ctx.state.has_approved_prestaties(b.law, b.gemeente, a.toewijzingnummer):
            yield r.issue(
                child(a.el, "RedenWijziging"),
                f"toewijzing {a.toewijzingnummer} has approved prestaties that were not credited",
                class_el=a.el,
            )
