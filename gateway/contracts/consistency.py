"""Checks that a bundle does not contradict itself (the schema alone cannot say this).

Each check yields (loc, message); loc is the YAML path of the offending place so the loader can
name file, path and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gateway.contracts.codes import PRODUCT_CATEGORIES
from gateway.contracts.models import Bundle, Period, Tariff, example_values

Finding = tuple[tuple[Any, ...], str]

# Valid ProductCategorie per law (JZ020 for iJw, WMO020 for iWmo).
CATEGORIES: dict[str, frozenset[str]] = {law: frozenset(codes) for law, codes in PRODUCT_CATEGORIES.items()}


def check(bundle: Bundle) -> list[Finding]:
    findings: list[Finding] = []
    for fn in (
        _bundle_period,
        _municipalities,
        _lots,
        _products,
        _providers,
        _exceptions,
        _ceilings,
        _transition,
        _example_values,
        _citations,
        _product_list,
    ):
        findings.extend(fn(bundle))
    return findings


def _period(loc: tuple[Any, ...], p: Period) -> Iterator[Finding]:
    if p.valid_to is not None and p.valid_to < p.valid_from:
        yield loc + ("valid_to",), f"valid_to {p.valid_to} is before valid_from {p.valid_from}"


def _bundle_period(b: Bundle) -> Iterator[Finding]:
    yield from _period((), b.period)


def _duplicates(items: list[Any], key, loc: tuple[Any, ...], what: str) -> Iterator[Finding]:
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        k = key(item)
        if k in seen:
            yield loc + (i,), f"duplicate {what} {k!r} (also at {loc[-1]}[{seen[k]}])"
        else:
            seen[k] = i


def _municipalities(b: Bundle) -> Iterator[Finding]:
    yield from _duplicates(b.municipalities, lambda m: m.cbs, ("municipalities",), "municipality")


def _lots(b: Bundle) -> Iterator[Finding]:
    yield from _duplicates(b.lots, lambda lot: lot.id, ("lots",), "lot")


def _tariff_overlaps(tariffs: list[Tariff], loc: tuple[Any, ...]) -> Iterator[Finding]:
    for i, t in enumerate(tariffs):
        yield from _period(loc + (i,), t)
        for j in range(i):
            u = tariffs[j]
            same_scope = (not t.providers and not u.providers) or set(t.providers) & set(u.providers)
            if t.unit == u.unit and same_scope and t.overlaps(u):
                yield loc + (i,), (
                    f"tariff period {t.valid_from}..{t.valid_to or 'open'} for unit {t.unit} overlaps "
                    f"tariffs[{j}] ({u.valid_from}..{u.valid_to or 'open'})"
                )


def _products(b: Bundle) -> Iterator[Finding]:
    lots = {lot.id: lot for lot in b.lots}
    seen: dict[tuple[str, str], int] = {}
    for i, p in enumerate(b.products):
        loc = ("products", i)
        key = (p.law, p.code)
        if key in seen:
            yield loc + ("code",), (
                f"duplicate product code {p.code!r} for law {p.law} (also at products[{seen[key]}]); "
                "each product belongs to exactly one contract"
            )
        else:
            seen[key] = i
        if p.category not in CATEGORIES[p.law]:
            yield loc + ("category",), f"category {p.category} is not a {p.law} ProductCategorie"
        lot = lots.get(p.lot)
        if lot is None:
            yield loc + ("lot",), f"unknown lot {p.lot!r}"
        elif lot.law != p.law and not p.cross_law:
            yield loc + ("law",), (
                f"product law {p.law} differs from its lot's law {lot.law}; set cross_law: true if intended"
            )
        for k, t in enumerate(p.tariffs):
            if t.unit not in p.units:
                yield loc + ("tariffs", k, "unit"), f"tariff unit {t.unit} is not one of the product's units {p.units}"
        yield from _tariff_overlaps(p.tariffs, loc + ("tariffs",))


def _products_by_code(b: Bundle) -> dict[tuple[str, str], Any]:
    return {(p.category, p.code): p for p in b.products}


def _providers(b: Bundle) -> Iterator[Finding]:
    yield from _duplicates(b.providers, lambda p: p.agb, ("providers",), "provider")
    lots = {lot.id for lot in b.lots}
    cbs = {m.cbs for m in b.municipalities}
    for i, prov in enumerate(b.providers):
        for k, line in enumerate(prov.contracts):
            loc = ("providers", i, "contracts", k)
            yield from _period(loc, line)
            if line.lot not in lots:
                yield loc + ("lot",), f"unknown lot {line.lot!r}"
            else:
                in_lot = {p.code for p in b.products if p.lot == line.lot}
                for n, code in enumerate(line.products or []):
                    if code not in in_lot:
                        yield loc + ("products", n), f"product {code!r} is not a product of lot {line.lot!r}"
            for n, m in enumerate(line.municipalities or []):
                if m not in cbs:
                    yield loc + ("municipalities", n), f"municipality {m} is not in this region"
        for k, stop in enumerate(prov.client_stop):
            yield from _period(("providers", i, "client_stop", k), stop)


def _exceptions(b: Bundle) -> Iterator[Finding]:
    yield from _duplicates(b.exceptions, lambda e: e.id, ("exceptions",), "exception id")
    products = _products_by_code(b)
    cbs = {m.cbs for m in b.municipalities}
    for i, e in enumerate(b.exceptions):
        loc = ("exceptions", i)
        yield from _period(loc, e)
        if (e.category, e.code) not in products:
            yield loc + ("code",), f"unknown product {e.category}/{e.code}"
        if e.municipality not in cbs:
            yield loc + ("municipality",), f"municipality {e.municipality} is not in this region"
        if (e.client_hash is None) == (e.toewijzing_nummer is None):
            yield loc, "give exactly one of client_hash (salted hash of the BSN) or toewijzing_nummer"
        if e.client_hash is not None and not b.client_hash_salt:
            yield loc + ("client_hash",), "client_hash needs the bundle's client_hash_salt"


def _ceilings(b: Bundle) -> Iterator[Finding]:
    yield from _duplicates(
        b.budget_ceilings, lambda c: (c.provider, c.year, c.municipality), ("budget_ceilings",), "ceiling"
    )
    lots = {lot.id for lot in b.lots}
    cbs = {m.cbs for m in b.municipalities}
    for i, c in enumerate(b.budget_ceilings):
        loc = ("budget_ceilings", i)
        if c.warning_euro is not None and c.warning_euro > c.ceiling_euro:
            yield loc + ("warning_euro",), f"warning {c.warning_euro} is above the ceiling {c.ceiling_euro}"
        if c.municipality is not None and c.municipality not in cbs:
            yield loc + ("municipality",), f"municipality {c.municipality} is not in this region"
        for n, lot in enumerate(c.lots):
            if lot not in lots:
                yield loc + ("lots", n), f"unknown lot {lot!r}"


def _transition(b: Bundle) -> Iterator[Finding]:
    products = _products_by_code(b)
    current = {(p.law, p.code) for p in b.products}
    seen: dict[tuple[str, str], int] = {}
    for i, m in enumerate(b.transition):
        loc = ("transition", i)
        key = (m.law, m.old_code)
        if key in seen:
            yield loc + ("old_code",), f"duplicate old product code {m.old_code!r} (also at transition[{seen[key]}])"
        else:
            seen[key] = i
        if key in current:
            yield loc + ("old_code",), f"old code {m.old_code!r} is also a current product of this bundle"
        new = products.get((m.new_category, m.new_code))
        if new is None:
            yield loc + ("new_code",), f"maps to unknown product {m.new_category}/{m.new_code}"
        elif new.law != m.law:
            yield loc + ("law",), f"law {m.law} differs from the new product's law {new.law}"
        if m.old_category not in CATEGORIES[m.law]:
            yield loc + ("old_category",), f"category {m.old_category} is not a {m.law} ProductCategorie"
        if new is not None:
            for k, t in enumerate(m.tariffs):
                if t.unit not in new.units:
                    yield loc + ("tariffs", k, "unit"), f"tariff unit {t.unit} is not one of the new product's units"
        yield from _tariff_overlaps(m.tariffs, loc + ("tariffs",))


def _example_values(b: Bundle) -> Iterator[Finding]:
    """The bundle flag must tell the truth: a real bundle holds no invented value, and an example
    bundle marks each invented value itself."""
    marked = example_values(b)
    if not b.example:
        for path in marked:
            yield _loc(path) + ("example",), (
                "marked as an example value but the bundle says example: false; give the real value "
                "or mark the bundle example: true"
            )
    elif not marked:
        yield ("example",), "example: true but no value is marked example: mark each invented value"


def _loc(path: str) -> tuple[Any, ...]:
    """products[3].tariffs[0] -> ("products", 3, "tariffs", 0)."""
    out: list[Any] = []
    for part in path.replace("]", "").split("."):
        name, _, index = part.partition("[")
        out.append(name)
        if index:
            out.append(int(index))
    return tuple(out)


def _citations(b: Bundle) -> Iterator[Finding]:
    if b.plan is not None:
        return
    cited: list[tuple[tuple[Any, ...], Any]] = [(("rule_sources", code), c) for code, c in b.rule_sources.items()]
    cited += [(("lots", i, "source"), lot.source) for i, lot in enumerate(b.lots)]
    cited += [(("transition", i, "source"), m.source) for i, m in enumerate(b.transition)]
    cited += [(("access", law, "source"), a.source) for law, a in b.access.items()]
    cited.append((("budget", "source"), b.budget.source))
    for loc, c in cited:
        if c is not None and not c.document:
            yield loc, "a citation names its document (or the bundle names it once in plan.document)"


def _product_list(b: Bundle) -> Iterator[Finding]:
    pl = b.product_list
    if pl is None:
        return
    if (pl.file is None) == (pl.csv is None):
        yield ("product_list",), "give exactly one of file (a CSV beside the bundle) or csv (its text)"
    lots = {lot.id: lot for lot in b.lots}
    for category, lot_id in pl.lots.items():
        lot = lots.get(lot_id)
        if lot is None:
            yield ("product_list", "lots", category), f"unknown lot {lot_id!r}"
        elif category not in CATEGORIES[lot.law]:
            yield ("product_list", "lots", category), f"category {category} is not a {lot.law} ProductCategorie"
