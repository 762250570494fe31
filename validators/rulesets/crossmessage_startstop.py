"""Cross-message rules of start (305) and stop (307): TR019 (with the Product of IV075), TR063,
TR071, TR074, TR326, TR382, TR413, TR414, TR415. Reported on the StartProduct / StopProduct.

Items with StatusAanlevering 3 (delete) get only TR063 and TR071: "no further content checks".
Keys: a start is (ToewijzingNummer, Product, Begindatum), a stop adds RedenBeeindiging and
Einddatum (digest §1.3); a start and its stops share the start key (TR382).
"""

from __future__ import annotations

from collections.abc import Iterator

from validators import extract
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child
from validators.rulesets.crossmessage_support import between

DELETE = "3"
TEMPORARY = "20"  # RedenBeeindiging "tijdelijke stop" (JZ588 / WMO588)


def _items(ctx: RuleContext, deleted: bool | None = None) -> list[extract.RegieItem]:
    items = ctx.extra.get("crossmessage.regie_items")
    if items is None:  # read once per message: nine rules walk the same start/stop products
        items = ctx.extra["crossmessage.regie_items"] = extract.regie_items(ctx.root)
    if deleted is None:
        return items
    return [i for i in items if (i.status == DELETE) == deleted]


def _start_key(s) -> tuple:  # noqa: ANN001  (StartState or StopState)
    return (s.toewijzingnummer, s.categorie, s.code, s.begindatum)


def _stop_key(s) -> tuple:  # noqa: ANN001
    return _start_key(s) + (s.reden_beeindiging, s.einddatum)


def _ctx(ctx: RuleContext):  # noqa: ANN202
    b = between(ctx)
    return b, extract.client_bsn(ctx.root) or ""


@rule(
    "TR019",
    retourcode="9019",
    level="crossmessage",
    messages=("305", "307"),
    summary="A start/stop relates via ToewijzingNummer to a toewijzing of this aanbieder and client, "
    "with the toegewezen Product (IV075)",
)
def tr019(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b, bsn = _ctx(ctx)
    ck = ctx.state.client_key(bsn)
    for item in _items(ctx, deleted=False):
        if not item.toewijzingnummer:
            continue  # taakgericht: no link to a toewijzing (IV096)
        a = ctx.state.allocation(b.law, b.gemeente, item.toewijzingnummer)
        if a is None or a.aanbieder != b.aanbieder or a.client_key != ck:
            yield r.issue(
                child(item.el, "ToewijzingNummer"),
                f"no toewijzing {item.toewijzingnummer} of gemeente {b.gemeente} for this aanbieder and client",
                class_el=item.el,
            )
            continue
        if ctx.mtype.number == "305" and a.deleted:
            # RedenWijziging 13 counts as never sent: nothing to start. (A stop is left alone: it
            # ends care that did start; TR382 ties it to that start.)
            yield r.issue(
                child(item.el, "ToewijzingNummer"),
                f"toewijzing {item.toewijzingnummer} was deleted (RedenWijziging 13): it cannot be started",
                class_el=item.el,
            )
            continue
        wrong = _product_mismatch(item, a)
        if wrong:
            product = child(item.el, "Product")
            yield r.issue(product if product is not None else item.el, wrong, class_el=item.el)


def _product_text(categorie: str | None, code: str | None) -> str:
    if not categorie and not code:
        return "no Product"
    return f"Product {categorie or '-'}/{code or '-'}"


def _product_mismatch(item: extract.RegieItem, a) -> str | None:  # noqa: ANN001  (AllocationState)
    """Why the item's Product is not the toegewezen Product (IV075), or None when it is.

    The Product is copied from the toewijzing: specific = Categorie + Code, aspecific = Categorie
    only, generic = no Product. So both fields must equal the toewijzing's, absent where it has none.
    """
    mine = (item.categorie or None, item.code or None)
    theirs = (a.categorie or None, a.code or None)
    if mine == theirs:
        return None
    kind = "specific" if theirs[1] else "aspecific" if theirs[0] else "generic"
    return (
        f"{_product_text(*mine)} differs from the {kind} toewijzing {a.toewijzingnummer} "
        f"({_product_text(*theirs)}); a start or stop copies the toegewezen Product"
    )


@rule(
    "TR063",
    retourcode="9063",
    level="crossmessage",
    messages=("305", "307"),
    summary="Deleting (StatusAanlevering 3) needs an earlier delivery with the same logical key",
)
def tr063(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b, bsn = _ctx(ctx)
    is_stop = ctx.mtype.number == "307"
    if is_stop:
        known = {_stop_key(s) for s in ctx.state.stops(b.law, b.gemeente, b.aanbieder, bsn)}
    else:
        known = {_start_key(s) for s in ctx.state.starts(b.law, b.gemeente, b.aanbieder, bsn)}
    for item in _items(ctx, deleted=True):
        key = item.stop_key() if is_stop else item.start_key()
        if key not in known:
            yield r.issue(
                child(item.el, "StatusAanlevering"),
                "nothing with this logical key was delivered before, so it cannot be deleted",
                class_el=item.el,
            )


@rule(
    "TR071",
    retourcode="9071",
    level="crossmessage",
    messages=("305",),
    summary="A start cannot be deleted once a stop was sent for it",
)
def tr071(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b, bsn = _ctx(ctx)
    stopped = {_start_key(s) for s in ctx.state.stops(b.law, b.gemeente, b.aanbieder, bsn)}
    for item in _items(ctx, deleted=True):
        if item.start_key() in stopped:
            yield r.issue(
                child(item.el, "StatusAanlevering"),
                "a stop was already sent for this start; delete the stop first",
                class_el=item.el,
            )


@rule(
    "TR074",
    retourcode="9074",
    level="crossmessage",
    messages=("305", "307"),
    summary="A new delivery (StatusAanlevering 1) has a logical key not received before",
)
def tr074(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b, bsn = _ctx(ctx)
    is_stop = ctx.mtype.number == "307"
    if is_stop:
        known = {_stop_key(s) for s in ctx.state.stops(b.law, b.gemeente, b.aanbieder, bsn)}
    else:
        known = {_start_key(s) for s in ctx.state.starts(b.law, b.gemeente, b.aanbieder, bsn)}
    # A delete in the same message frees its key for a replacement.
    known -= {i.stop_key() if is_stop else i.start_key() for i in _items(ctx, deleted=True)}
    for item in _items(ctx, deleted=False):
        if (item.stop_key() if is_stop else item.start_key()) in known:
            yield r.issue(
                child(item.el, "StatusAanlevering"),
                "a " + ("stop" if is_stop else "start") + " with this logical key was already received",
                class_el=item.el,
            )


@rule(
    "TR326",
    retourcode="9326",
    level="crossmessage",
    messages=("305",),
    summary="A start is allowed only when no actual (not stopped, not deleted) start exists for the toewijzing",
)
def tr326(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b, bsn = _ctx(ctx)
    deleted_here = {i.start_key() for i in _items(ctx, deleted=True)}
    for item in _items(ctx, deleted=False):
        if not item.toewijzingnummer:
            continue
        running = [
            s
            for s in ctx.state.starts(b.law, b.gemeente, b.aanbieder, bsn, item.toewijzingnummer)
            if s.actual and _start_key(s) not in deleted_here and _start_key(s) != item.start_key()
        ]
        if running:
            yield r.issue(
                child(item.el, "Begindatum"),
                f"the start of {running[0].begindatum} for toewijzing {item.toewijzingnummer} "
                "has not been stopped",
                class_el=item.el,
            )


@rule(
    "TR382",
    retourcode="9069",
    level="crossmessage",
    messages=("307",),
    summary="A stop copies the key of an actual start (ToewijzingNummer, Product, Begindatum)",
)
def tr382(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    b, bsn = _ctx(ctx)
    starts = {_start_key(s) for s in ctx.state.starts(b.law, b.gemeente, b.aanbieder, bsn)}
    for item in _items(ctx, deleted=False):
        if item.start_key() not in starts:
            yield r.issue(
                child(item.el, "Begindatum"),
                "no start with the same ToewijzingNummer, Product and Begindatum was received",
                class_el=item.el,
            )


def _earlier_stops(ctx: RuleContext, item: extract.RegieItem):  # noqa: ANN202
    """Active stops with the same Bsn, ToewijzingNummer and Begindatum (TR413-TR415)."""
    b, bsn = _ctx(ctx)
    return [
        s
        for s in ctx.state.stops(b.law, b.gemeente, b.aanbieder, bsn, item.toewijzingnummer or "")
        if s.begindatum == item.begindatum
    ]


def _live_stop_items(ctx: RuleContext) -> Iterator[tuple[extract.RegieItem, list]]:
    if ctx.state is None:
        return
    deleted_here = {i.stop_key() for i in _items(ctx, deleted=True)}
    for item in _items(ctx, deleted=False):
        earlier = [s for s in _earlier_stops(ctx, item) if _stop_key(s) not in deleted_here]
        earlier = [s for s in earlier if _stop_key(s) != item.stop_key()]  # same key: TR074's case
        if earlier:
            yield item, earlier


@rule(
    "TR413",
    retourcode="9413",
    level="crossmessage",
    messages=("307",),
    summary="After a temporary stop (reden 20) another stop cannot be temporary",
)
def tr413(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for item, earlier in _live_stop_items(ctx):
        if item.reden_beeindiging == TEMPORARY and any(s.reden_beeindiging == TEMPORARY for s in earlier):
            yield r.issue(
                child(item.el, "RedenBeeindiging"),
                "a temporary stop already exists for this start; the next stop must be definitive",
                class_el=item.el,
            )


@rule(
    "TR414",
    retourcode="9414",
    level="crossmessage",
    messages=("307",),
    summary="A stop's Einddatum is not before the Einddatum of the earlier stop of the same start",
)
def tr414(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for item, earlier in _live_stop_items(ctx):
        latest = max(s.einddatum for s in earlier)
        if item.einddatum is not None and item.einddatum < latest:
            yield r.issue(
                child(item.el, "Einddatum"),
                f"Einddatum {item.einddatum} lies before the Einddatum {latest} of the earlier stop",
                class_el=item.el,
            )


@rule(
    "TR415",
    retourcode="9415",
    level="crossmessage",
    messages=("307",),
    summary="No stop is allowed after a definitive stop (reden other than 20) of the same start",
)
def tr415(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for item, earlier in _live_stop_items(ctx):
        if any(s.reden_beeindiging != TEMPORARY for s in earlier):
            yield r.issue(
                child(item.el, "RedenBeeindiging"),
                "this start was already stopped definitively",
                class_el=item.el,
            )
