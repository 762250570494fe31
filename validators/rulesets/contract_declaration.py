"""Contract rules on declared prestaties (323): no-show, lump sums, tariff, unit and amount.

Credit prestaties are skipped: a gemeente may reject a credit only for technical reasons (IV085).

Retourcodes: a no-show or lump-sum product is not a declarable product code: S329 (TR381, the
closest WJ001 code; the standard has no no-show code). A tariff or unit that differs from the
contract: 0611 (TR418, "het ingediende tarief komt niet overeen met het contractuele tarief"). An
IngediendBedrag that is not volume x contracted tariff: 9346 (TR346).
"""

from __future__ import annotations

from collections.abc import Iterator

from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child
from validators.rulesets.contract_common import contract_issue, message_parties, product_name, resolved


def _euro(cents: int | None) -> str:
    return "-" if cents is None else f"{cents / 100:.2f}"


@rule(
    "CR002",
    retourcode="S329",
    level="contract",
    messages=("323",),
    summary="No-show is never declared: a prestatie on a product the region marks as no-show is refused "
    "(the at most 25 euro client bill stays outside the message traffic).",
)
def cr002(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for res in resolved(ctx):
        if res.credit or res.product is None or not res.product.no_show:
            continue
        yield contract_issue(
            r,
            ctx,
            res.idx,
            res.item.product_el("Code"),
            f"product {product_name(res)} is a no-show (missed appointment): never declarable, "
            "whatever the amount",
            class_el=res.item.el,
        )


@rule(
    "CR005",
    retourcode="S329",
    level="contract",
    messages=("323",),
    summary="Lump-sum and task-funded (taakgericht) products are never declared per client.",
)
def cr005(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for res in resolved(ctx):
        p = res.product
        if res.credit or p is None or p.no_show:
            continue
        variant = res.idx.variant(p)
        if p.lump_sum or variant == "taakgericht":
            why = "paid as a lump sum" if p.lump_sum else "funded per task (taakgericht)"
            yield contract_issue(
                r,
                ctx,
                res.idx,
                res.item.product_el("Code"),
                f"product {product_name(res)} is {why}: never declared per client",
                class_el=res.item.el,
            )


@rule(
    "CR003",
    retourcode="0611",
    level="contract",
    messages=("301", "315", "317", "323"),
    summary="Declared Eenheid and ProductTarief equal the contracted ones for that date (per provider "
    "where the bundle says so) and IngediendBedrag = GeleverdVolume x contracted tariff (TR418, TR346); "
    "an allocation or request uses a contracted Eenheid and Frequentie.",
)
def cr003(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    if ctx.mtype.number != "323":
        yield from _omvang(r, ctx)
        return
    who = message_parties(ctx)
    for res in resolved(ctx):
        item = res.item
        p = res.product
        # Uncontracted, no-show and lump-sum prestaties are refused by CR001/CR002/CR005 already.
        if res.credit or p is None or res.special or not res.contracted or item.unit is None:
            continue
        units = [t.unit for t in res.tariffs] if res.mapping is not None and res.mapping.tariffs else p.units
        if not res.idx.allows_unit(units, item.unit):
            yield contract_issue(
                r,
                ctx,
                res.idx,
                item.product_el("Eenheid"),
                f"Eenheid {item.unit} is not a contracted unit of product {product_name(res)} ({', '.join(units)})",
                class_el=item.el,
            )
            continue
        if item.unit == "83":
            continue  # euro's: the volume is the amount (CS339), no tariff
        tariff = res.idx.tariff(res.tariffs, item.unit, who.aanbieder or "", item.on)
        if tariff is None:
            continue  # the bundle sets no tariff for this product and date: nothing to compare
        if item.tarief != tariff.cents:
            per = f" ({_euro(tariff.per_hour_cents)} per hour / 60)" if tariff.per_hour_cents else ""
            yield contract_issue(
                r,
                ctx,
                res.idx,
                item.product_el("Tarief"),
                f"ProductTarief {_euro(item.tarief)} differs from the contract tariff {_euro(tariff.cents)}{per} "
                f"for product {product_name(res)} on {item.on}",
                class_el=item.el,
            )
            continue
        if item.volume is not None and item.bedrag is not None:
            expected = tariff.amount(item.volume)
            if item.bedrag != expected:
                yield contract_issue(
                    r,
                    ctx,
                    res.idx,
                    item.product_el("IngediendBedrag"),
                    f"IngediendBedrag {_euro(item.bedrag)} is not GeleverdVolume {item.volume} x contract "
                    f"tariff = {_euro(expected)}",
                    class_el=item.el,
                    retourcode="9346",
                )



def _omvang(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    """301/315/317: the Omvang's Eenheid and Frequentie are among the product's contracted ones.

    Retourcode S329 (TR381): 0611 exists for declarations only; the product as specified is not
    one of the contract's."""
    for res in resolved(ctx):
        item, p = res.item, res.product
        if p is None or res.special or not res.contracted or item.unit is None:
            continue
        omvang = child(item.el, "Omvang")
        if not res.idx.allows_unit(p.units, item.unit):
            yield contract_issue(
                r,
                ctx,
                res.idx,
                child(omvang, "Eenheid") if omvang is not None else item.el,
                f"Eenheid {item.unit} is not a contracted unit of product {product_name(res)} ({', '.join(p.units)})",
                class_el=item.el,
                retourcode="S329",
            )
        elif p.frequencies and item.frequency is not None and item.frequency not in p.frequencies:
            yield contract_issue(
                r,
                ctx,
                res.idx,
                child(omvang, "Frequentie") if omvang is not None else item.el,
                f"Frequentie {item.frequency} is not a contracted frequency of product {product_name(res)} "
                f"({', '.join(p.frequencies)})",
                class_el=item.el,
                retourcode="S329",
            )
