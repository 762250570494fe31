"""Helpers of the cross-message rules: who the message is between, and in which legal domain.

The rules read earlier messages through `ctx.state` (gateway.store.StateView). Without a state
(e.g. `gateway validate` on a single file) the state-based rules report nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.store import extract
from validators.engine import RuleContext
from validators.paths import child


@dataclass(frozen=True)
class Between:
    law: str  # jeugd | wmo
    gemeente: str
    aanbieder: str


def between(ctx: RuleContext) -> Between:
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
