"""CR006: access routes per law: which request routes (315, 317) and which referrers are allowed.

Example: in Midden-Holland Wmo access runs entirely through the municipality, so a
provider-initiated WMO315 goes to manual review, and only the municipality refers (Verwijzer 01).

Retourcode: WJ001 has no code for a route or referrer the region does not accept; S329 (TR381,
"product not valid in the product list in use", here: not obtainable through this route) is the
closest, on the AangevraagdProduct (referrer) or the Client (route).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child, text
from validators.rulesets.contract_common import contract_issue, message_parties, resolved

_COD327 = {
    "01": "gemeente",
    "02": "huisarts",
    "03": "jeugdarts",
    "04": "gecertificeerde instelling",
    "05": "medisch specialist",
    "06": "zelfverwijzer",
    "08": "rechter/OvJ",
}


@rule(
    "CR006",
    retourcode="S329",
    level="contract",
    messages=("315", "317"),
    summary="Access: the request route and the referrer (Verwijzer Type) are allowed for the law in this "
    "region (e.g. a provider-initiated WMO315 goes to manual review).",
)
def cr006(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.contracts is None:
        return
    law = ctx.mtype.law
    who = message_parties(ctx)
    sent = text(ctx.root, "Header", "BerichtIdentificatie", "Dagtekening")
    try:
        day = date.fromisoformat(sent) if sent else ctx.today
    except ValueError:
        day = ctx.today
    # The route policy in force when the request was made; referrers per requested product below.
    idx = ctx.contracts.lookup(who.gemeente, day)
    policy = idx.bundle.access.get(law) if idx is not None else None
    route = policy.routes.get(ctx.mtype.number, "accept") if policy is not None else "accept"
    client = child(ctx.root, "Client")
    if route != "accept":
        yield contract_issue(
            r,
            ctx,
            idx,
            client,
            f"route {ctx.mtype.code} from provider {who.aanbieder} is not a regular access route for the "
            f"{law} law in this region",
            class_el=client,
            action=route,
        )
    if ctx.mtype.number != "315":
        return
    for res in resolved(ctx):
        item = res.item
        item_policy = res.idx.bundle.access.get(law)
        if item.verwijzer_type is None or item_policy is None:
            continue
        lot = res.idx.lots.get(res.product.lot) if res.product is not None else None
        allowed = lot.referrers if lot is not None and lot.referrers else item_policy.referrers
        if item.verwijzer_type not in allowed:
            yield contract_issue(
                r,
                ctx,
                res.idx,
                _at(item.el, "Verwijzer", "Type"),
                f"referrer {item.verwijzer_type} ({_COD327.get(item.verwijzer_type, '?')}) may not refer to "
                f"{'lot ' + lot.id if lot else law + ' care'} in this region (allowed: {', '.join(allowed)})",
                class_el=item.el,
            )


def _at(el, *names):
    """The descendant along `names`, or `el` itself when it is absent (an issue needs a place)."""
    node = el
    for name in names:
        node = child(node, name)
        if node is None:
            return el
    return node
