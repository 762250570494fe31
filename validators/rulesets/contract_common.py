"""Shared by the contract rules (CR001..): which bundle and product apply to each item, and
how an issue gets the action the region chose.

`ctx.contracts` is a `validators.contract_view.ContractLookup` (gateway.contracts implements it);
without it, or for a municipality in no region, the contract rules find nothing. Items are
resolved once per message and cached in `ctx.extra`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from validators.contract_items import Item, Parties, items, parties
from validators.contract_view import ContractIndex, ContractProduct, ContractTransition
from validators.common import path_of, per_message
from validators.engine import Rule, RuleContext
from validators.issues import Issue

_CACHE = "contract_items"


@dataclass
class Resolved:
    item: Item
    idx: ContractIndex
    product: ContractProduct | None  # the (new) product; None when unknown or an expired old code
    mapping: ContractTransition | None = None  # set when the message used an old product code
    expired: bool = False  # an old code past its cut-off (CR007)
    contracted: bool = False  # provider holds a contract or an exception for it (CR001)
    aspecific: bool = False  # category only (no ProductCode): contracted = some product of it

    @property
    def tariffs(self) -> list[Any]:
        if self.mapping is not None and self.mapping.tariffs:
            return self.mapping.tariffs
        return self.product.tariffs if self.product is not None else []

    @property
    def special(self) -> bool:
        """No-show and lump-sum products have their own rules (CR002, CR005)."""
        return self.product is not None and (
            self.product.no_show or self.product.lump_sum or self.idx.variant(self.product) == "taakgericht"
        )

    @property
    def credit(self) -> bool:
        # A credit can only be rejected for technical reasons (IV085): contract rules skip it.
        return self.item.debet_credit == "C"


def message_parties(ctx: RuleContext) -> Parties:
    """The message's gemeente and aanbieder, read once per rule run. Read it, never change it."""
    return per_message(ctx, "contract.parties", _read_parties)


def _read_parties(ctx: RuleContext) -> Parties:
    return parties(ctx.root, ctx.mtype)


def resolved(ctx: RuleContext) -> list[Resolved]:
    """Every product item of the message that falls under a region's bundle, resolved."""
    if _CACHE in ctx.extra:
        return ctx.extra[_CACHE]
    out: list[Resolved] = []
    registry = ctx.contracts
    if registry is not None:
        who = message_parties(ctx)
        law = ctx.mtype.law
        # The bundle per date, looked up once: a declaration's 100,000 prestaties share a few
        # dates, and each lookup walks every region's versions.
        bundles: dict[Any, Any] = {}
        for item in items(ctx.root, ctx.mtype):
            if item.on is None or item.deleted or (item.code is None and item.category is None):
                continue  # generic (budget only): no product to compare
            if item.on not in bundles:
                bundles[item.on] = registry.lookup(who.gemeente, item.on)
            idx = bundles[item.on]
            if idx is None:
                continue
            r = Resolved(item=item, idx=idx, product=None)
            if item.code is None:
                # Aspecific: any product of the category may be delivered (and declared, TR339).
                r.aspecific = True
                r.contracted = bool(who.aanbieder) and idx.contracted_in_category(
                    who.aanbieder, who.gemeente, law, item.category, item.on
                )
                out.append(r)
                continue
            mapping = idx.transition(law, item.code)
            if mapping is not None:
                r.mapping = mapping
                if item.on > mapping.until:
                    r.expired = True
                else:
                    r.product = idx.product(mapping.new_category, mapping.new_code)
            else:
                r.product = idx.product(item.category, item.code, law)
            if r.product is not None and who.aanbieder:
                r.contracted = idx.is_contracted(who.aanbieder, who.gemeente, r.product, item.on) or (
                    idx.exception_for(
                        who.aanbieder,
                        who.gemeente,
                        r.product,
                        item.on,
                        bsn=item.bsn,
                        toewijzing_nummer=item.toewijzing_nummer,
                    )
                    is not None
                )
            out.append(r)
    ctx.extra[_CACHE] = out
    return out


def contract_issue(
    rule: Rule,
    ctx: RuleContext,
    idx: ContractIndex,
    el,
    text: str,
    *,
    class_el,
    retourcode: str | None = None,
    action: str | None = None,
) -> Issue:
    """An issue with the action the bundle chose for this rule: flag/review do not reject.

    Paths come from the run's shared one-pass index (validators.common.path_of), so a declaration
    with 10,000 refused prestaties stays linear."""
    action = action or idx.action(rule.code)
    return Issue(
        rule=rule.code,
        severity="error" if action == "reject" else "warning",
        path=path_of(ctx, el) if el is not None else None,
        line=el.sourceline if el is not None else None,
        text=f"{text} [region {idx.bundle.region}, action {action}]",
        retourcode=retourcode or rule.retourcode,
        class_path=path_of(ctx, class_el) if class_el is not None else None,
        action=action,
    )


def product_name(r: Resolved) -> str:
    item = r.item
    name = f"{item.category}/{item.code}" if item.category else str(item.code)
    if r.product is not None and r.product.code != item.code:
        name += f" (now {r.product.category}/{r.product.code})"
    return name
