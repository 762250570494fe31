"""Header rules across messages and against external sources: TR056, TR135, TR378.

All three are reported on the Header (a retour with only a Header carrying the code, IV028).
"""

from __future__ import annotations

from collections.abc import Iterator

from validators import extract
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child
from validators.rulesets.crossmessage_gemeentecodes import GEMEENTECODES_2026
from validators.rulesets.crossmessage_support import header

HEEN = ("301", "305", "307", "315", "317", "319", "323", "325")


@rule(
    "TR056",
    retourcode="9056",
    level="crossmessage",
    messages=HEEN,
    summary="Identificatie is unique per berichtsoort for the sender",
)
def tr056(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    h = extract.header(ctx.root)
    if not h.afzender or not h.identificatie:
        return
    if ctx.state.identifier_used(h.afzender, ctx.mtype.code, h.identificatie):
        hd = header(ctx)
        yield r.issue(
            child(child(hd, "BerichtIdentificatie"), "Identificatie"),
            f"Identificatie {h.identificatie} was already used by {h.afzender} for a {ctx.mtype.code}",
            class_el=hd,
        )


@rule(
    "TR135",
    retourcode="8848",
    level="external",
    messages=HEEN,
    summary="Dagtekening is an existing date, not later than the receiver's system date",
)
def tr135(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    h = extract.header(ctx.root)
    hd = header(ctx)
    el = child(child(hd, "BerichtIdentificatie"), "Dagtekening")
    if el is None:
        return
    if h.dagtekening is None:
        yield r.issue(el, f"Dagtekening {h.dagtekening_text!r} is not an existing date", class_el=hd)
    elif h.dagtekening > ctx.today:
        yield r.issue(el, f"Dagtekening {h.dagtekening} lies after today ({ctx.today})", class_el=hd)


@rule(
    "TR378",
    retourcode="S300",
    level="external",
    messages=HEEN,
    summary="A gemeente code exists in the CBS list of municipalities",
)
def tr378(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    # Only the current CBS list (2026) is held: codes of municipalities merged away earlier are
    # refused, though TR378 allows them for an Ingangsdatum before the merger.
    hd = header(ctx)
    side = "Afzender" if ctx.mtype.sender_role == "gemeente" else "Ontvanger"
    el = child(hd, side)
    code = (el.text or "").strip() if el is not None else ""
    if el is not None and code not in GEMEENTECODES_2026:
        yield r.issue(el, f"gemeente code {code} is not in the CBS list of municipalities", class_el=hd)
    if ctx.mtype.number == "319":
        antwoord = child(ctx.root, "Antwoord")
        wpb = child(antwoord, "Woonplaatsbeginsel")
        g = child(wpb, "Gemeente")
        if g is not None and (g.text or "").strip() not in GEMEENTECODES_2026:
            yield r.issue(
                g, f"gemeente code {(g.text or '').strip()} is not in the CBS list of municipalities",
                class_el=wpb,
            )
