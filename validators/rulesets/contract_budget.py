"""CR004: budget ceilings per provider and year.

Declared totals come from the store (`ctx.state.declared_total(aanbieder, year, gemeente)`:
eurocent of accepted debits minus credits whose ProductPeriode starts in that year); without
stored state the rule is skipped. At the warning level the back office is told (flag). Above the
ceiling the bundle's `budget.above_ceiling` decides:

- refuse_new_allocations: new allocations (301) and requests (315) are refused, declarations flagged;
- refuse: declarations above the ceiling are refused too, unless `pay_running_care` (running care
  is always paid, as the VNG contract standard and Midden-Holland require): then they are flagged;
- flag: everything is flagged.

Retourcodes: no WJ001 code speaks of budgets. A refused declaration gets 0611 (TR418: above the
ceiling the contract pays no tariff for it); a refused allocation or request gets S329 (TR381: the
product is closed to this provider), both on the product class.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.rulesets.contract_common import Resolved, contract_issue, message_parties, resolved


def _cents(euro: Decimal) -> int:
    return int(euro * 100)


def _euro(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def _is_new_allocation(ctx: RuleContext, res: Resolved, gemeente: str | None) -> bool:
    item = res.item
    if not item.initial:
        return False
    if ctx.mtype.number == "301" and item.toewijzing_nummer and hasattr(ctx.state, "allocation"):
        # A resend of a known toewijzing is running care, not a new allocation.
        return ctx.state.allocation(ctx.mtype.law, gemeente, item.toewijzing_nummer) is None
    return True


@rule(
    "CR004",
    retourcode="0611",
    level="contract",
    messages=("301", "315", "323"),
    summary="Budget ceiling per provider and year: flag at the warning level; above the ceiling refuse "
    "new allocations, flag or refuse as the region chose (running care paid where it says so).",
)
def cr004(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.state is None:
        return
    who = message_parties(ctx)
    if not who.aanbieder:
        return
    if ctx.mtype.number == "323":
        yield from _declaration(r, ctx, who.aanbieder, who.gemeente)
    else:
        yield from _allocation(r, ctx, who.aanbieder, who.gemeente)


def _declaration(r: Rule, ctx: RuleContext, agb: str, gemeente: str | None) -> Iterator[Issue]:
    running: dict[tuple[int, str | None], int] = {}
    warned: set[tuple[int, str | None]] = set()
    for res in resolved(ctx):
        item = res.item
        if not res.credit and (res.expired or res.special or not res.contracted):
            continue  # refused by CR001/CR002/CR005/CR007: it will not count towards the ceiling
        ceiling = res.idx.ceiling(agb, item.on.year, gemeente)
        if ceiling is None or item.bedrag is None:
            continue
        key = (ceiling.year, ceiling.municipality)
        if key not in running:
            running[key] = int(ctx.state.declared_total(agb, ceiling.year, gemeente=ceiling.municipality))
        running[key] += -item.bedrag if res.credit else item.bedrag
        if res.credit:
            continue
        total, limit, warn = running[key], _cents(ceiling.ceiling_euro), _cents(ceiling.warning_level)
        policy = res.idx.bundle.budget
        where = f" in {ceiling.municipality}" if ceiling.municipality else ""
        if total > limit and policy.above_ceiling == "refuse" and not policy.pay_running_care:
            yield contract_issue(
                r,
                ctx,
                res.idx,
                item.el,
                f"declared total {_euro(total)} of provider {agb}{where} for {ceiling.year} exceeds the "
                f"ceiling {_euro(limit)}",
                class_el=item.el,
            )
        elif total >= warn and key not in warned:
            warned.add(key)
            state = "exceeds the ceiling" if total > limit else "reached the warning level"
            yield contract_issue(
                r,
                ctx,
                res.idx,
                item.el,
                f"declared total {_euro(total)} of provider {agb}{where} for {ceiling.year} {state} "
                f"(warning {_euro(warn)}, ceiling {_euro(limit)})",
                class_el=item.el,
                action="flag",
            )


def _allocation(r: Rule, ctx: RuleContext, agb: str, gemeente: str | None) -> Iterator[Issue]:
    totals: dict[tuple[int, str | None], int] = {}
    for res in resolved(ctx):
        item = res.item
        ceiling = res.idx.ceiling(agb, item.on.year, gemeente)
        if ceiling is None or not _is_new_allocation(ctx, res, gemeente):
            continue
        key = (ceiling.year, ceiling.municipality)
        if key not in totals:
            totals[key] = int(ctx.state.declared_total(agb, ceiling.year, gemeente=ceiling.municipality))
        total, limit, warn = totals[key], _cents(ceiling.ceiling_euro), _cents(ceiling.warning_level)
        policy = res.idx.bundle.budget
        if total > limit:
            refuse = policy.above_ceiling in ("refuse", "refuse_new_allocations")
            yield contract_issue(
                r,
                ctx,
                res.idx,
                item.product_el("Code"),
                f"provider {agb} has declared {_euro(total)} for {ceiling.year}, above its ceiling "
                f"{_euro(limit)}: {'no new allocations' if refuse else 'new allocation flagged'}",
                class_el=item.el,
                retourcode="S329",
                action=None if refuse else "flag",
            )
        elif total >= warn:
            yield contract_issue(
                r,
                ctx,
                res.idx,
                item.product_el("Code"),
                f"provider {agb} has declared {_euro(total)} for {ceiling.year}: warning level "
                f"{_euro(warn)} of ceiling {_euro(limit)} reached",
                class_el=item.el,
                retourcode="S329",
                action="flag",
            )
