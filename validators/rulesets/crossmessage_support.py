"""Helpers of the cross-message rules: who the message is between, and in which legal domain.

The rules read earlier messages through `ctx.state` (a validators.state.StateReader). Without a
state (e.g. `gateway validate` on a single file) the state-based rules report nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from validators import extract
from validators.common import per_message
from validators.engine import Rule, RuleContext
from validators.issues import Issue
from validators.paths import child, element_path, local_name


@dataclass(frozen=True)
class Between:
    law: str  # jeugd | wmo
    gemeente: str
    aanbieder: str


def between(ctx: RuleContext) -> Between:
    """Who the message is between, read once per rule run (most cross-message rules ask)."""
    return per_message(ctx, "crossmessage.between", _read_between)


def _read_between(ctx: RuleContext) -> Between:
    h = extract.header(ctx.root)
    if ctx.mtype.sender_role == "gemeente":
        gemeente, aanbieder = h.afzender, h.ontvanger
    else:
        gemeente, aanbieder = h.ontvanger, h.afzender
    return Between(ctx.mtype.law, gemeente or "", aanbieder or "")


def header(ctx: RuleContext):  # noqa: ANN201
    return child(ctx.root, "Header")


def client_el(ctx: RuleContext):  # noqa: ANN201
    return child(ctx.root, "Client")


def dagtekening(ctx: RuleContext):  # noqa: ANN201
    """The message's Dagtekening, or today when it is unreadable."""
    return extract.header(ctx.root).dagtekening or ctx.today


def declaratie(ctx: RuleContext) -> extract.Declaratie:
    """The 323's Declaratie (or the 325's DeclaratieAntwoord), read once per message; the first
    call also prefetches the state its prestaties need (validators.state.Prefetching)."""
    d = ctx.extra.get("crossmessage.declaratie")
    if d is None:
        d = ctx.extra["crossmessage.declaratie"] = extract.declaratie(ctx.root)
        prefetch = getattr(ctx.state, "prefetch_declaration", None)
        if prefetch is not None:
            b = between(ctx)
            numbers = {p.toewijzingnummer for p in d.prestaties if p.toewijzingnummer}
            refs = {p.referentienummer for p in d.prestaties if p.referentienummer}
            refs |= {p.vorig_referentienummer for p in d.prestaties if p.vorig_referentienummer}
            prefetch(b.law, b.gemeente, b.aanbieder, numbers, refs)
    return d


def _path(ctx: RuleContext, el) -> str:  # noqa: ANN001
    """element_path, via the paths of the declaration's Clients and Prestaties computed once
    (element_path counts siblings for every call: quadratic over 100 000 prestaties)."""
    paths = ctx.extra.get("crossmessage.paths")
    if paths is None:
        paths = ctx.extra["crossmessage.paths"] = extract.prestatie_paths(declaratie(ctx))
    steps = []
    node = el
    while node is not None:
        known = paths.get(id(node))
        if known is not None:
            return "/".join([known, *reversed(steps)])
        steps.append(local_name(node))  # below a Prestatie every element name is unique
        node = node.getparent()
    return element_path(el)


def prestatie_issue(r: Rule, ctx: RuleContext, el, text: str, *, class_el) -> Issue:  # noqa: ANN001
    """`r.issue(el, text, class_el=...)` for elements of a declaration's prestaties, fast."""
    class_path = _path(ctx, class_el)
    if el is class_el:
        path = class_path
    elif el.getparent() is class_el and id(class_el) in ctx.extra["crossmessage.paths"]:
        # a child of the Prestatie (what most findings name): its path is the Prestatie's and its
        # name, which `_path` would find by walking up to it
        path = f"{class_path}/{local_name(el)}"
    else:
        path = _path(ctx, el)
    return Issue(
        rule=r.code,
        severity=r.severity,
        path=path,
        line=el.sourceline,
        text=text,
        retourcode=r.retourcode,
        class_path=class_path,
    )
