"""Contract rules on which products a provider may receive, start, request or declare.

Retourcode choice (WJ001 has no contract code besides 0611): S329 "ProductCode ongeldig" (TR381,
"a code valid in the product code list in use") is the closest for a product outside the
provider's contracted product list, for an old code after its cut-off and for a product closed by
a cliëntenstop. It is offered for 301, 305, 307, 315, 317 and 323 and sits on the product class.
"""

from __future__ import annotations

from collections.abc import Iterator

from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.rulesets.contract_common import contract_issue, message_parties, product_name, resolved


@rule(
    "CR001",
    retourcode="S329",
    level="contract",
    messages=("301", "305", "315", "317", "323"),
    summary="Product per contract: the provider holds a contract (or an exception contract) for the "
    "product with this municipality on that date.",
)
def cr001(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    who = message_parties(ctx)
    for res in resolved(ctx):
        if res.expired or res.credit or res.special:
            continue
        item = res.item
        if res.aspecific:
            if not res.contracted:
                yield contract_issue(
                    r,
                    ctx,
                    res.idx,
                    item.product_el("Categorie"),
                    f"provider {who.aanbieder} holds no contract for any product of category {item.category} "
                    f"with municipality {who.gemeente} on {item.on}",
                    class_el=item.el,
                )
            continue
        if res.product is None:
            yield contract_issue(
                r,
                ctx,
                res.idx,
                item.product_el("Code"),
                f"product {product_name(res)} is not in the product list of region {res.idx.bundle.name}",
                class_el=item.el,
            )
        elif not res.contracted:
            yield contract_issue(
                r,
                ctx,
                res.idx,
                item.product_el("Code"),
                f"provider {who.aanbieder} holds no contract or exception for product {product_name(res)} "
                f"(lot {res.product.lot}) with municipality {who.gemeente} on {item.on}",
                class_el=item.el,
            )


@rule(
    "CR007",
    retourcode="S329",
    level="contract",
    messages=("301", "305", "315", "317", "323"),
    summary="Transition: an old product code is accepted (and mapped to the new one) only until the "
    "bundle's cut-off date.",
)
def cr007(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for res in resolved(ctx):
        if not res.expired or res.credit:
            continue
        m = res.mapping
        yield contract_issue(
            r,
            ctx,
            res.idx,
            res.item.product_el("Code"),
            f"old product code {m.old_code} was accepted until {m.until}; from then use "
            f"{m.new_category}/{m.new_code} (date {res.item.on})",
            class_el=res.item.el,
        )


@rule(
    "CR008",
    retourcode="S329",
    level="contract",
    messages=("301", "315"),
    summary="Cliëntenstop: no new allocation or request for a provider under a client stop; running "
    "care continues.",
)
def cr008(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    who = message_parties(ctx)
    if not who.aanbieder:
        return
    for res in resolved(ctx):
        item = res.item
        if not item.initial:
            continue
        # A 301 resend keeps its original Toewijzingsdatum (IV013): only decisions taken during
        # the stop are new allocations. A 315 is new by nature and counts on its start date.
        day = item.decided_on if ctx.mtype.number == "301" else item.on
        if day is None or not res.idx.in_client_stop(who.aanbieder, day):
            continue
        yield contract_issue(
            r,
            ctx,
            res.idx,
            item.product_el("Code"),
            f"provider {who.aanbieder} is under a cliëntenstop on {day}: no new allocations",
            class_el=item.el,
        )
