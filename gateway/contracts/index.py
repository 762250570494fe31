"""Questions the contract rules ask one bundle: is this product contracted, what is the tariff, ...

Built once per loaded bundle; plain lookups, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from gateway.contracts.clients import client_hash
from gateway.contracts.codes import DEFAULT_ACTIONS
from gateway.contracts.models import (
    BudgetCeiling,
    Bundle,
    ExceptionContract,
    Lot,
    Product,
    Tariff,
    TransitionMapping,
)


@dataclass(frozen=True)
class ContractTariff:
    """The tariff that applies to a declared unit, in eurocent as the messages carry it."""

    cents: int  # the ProductTarief expected in the prestatie
    unit: str  # the declared unit
    per_hour_cents: int | None = None  # set when an hourly tariff is declared in minutes (IV081)
    source: Tariff | None = None

    def amount(self, volume: int) -> int:
        """IngediendBedrag for `volume` units (TR346/IV081: hour rate x minutes / 60, rounded)."""
        if self.per_hour_cents is not None:
            exact = Decimal(self.per_hour_cents) * volume / 60
            return int(exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
        return self.cents * volume


def _cents(euro: Decimal) -> int:
    return int((euro * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


class BundleIndex:
    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.lots: dict[str, Lot] = {lot.id: lot for lot in bundle.lots}
        self.products: dict[tuple[str, str], Product] = {(p.category, p.code): p for p in bundle.products}
        self._by_code: dict[tuple[str, str], Product] = {(p.law, p.code): p for p in bundle.products}
        self.providers = {p.agb: p for p in bundle.providers}
        self.municipalities = {m.cbs for m in bundle.municipalities}
        self._old_codes: dict[tuple[str, str], TransitionMapping] = {(m.law, m.old_code): m for m in bundle.transition}

    # -- products -------------------------------------------------------------------------------

    def product(self, category: str | None, code: str | None, law: str | None = None) -> Product | None:
        """The product by category and code; by code alone (per law) when the category is absent."""
        if code is None:
            return None
        if category is not None:
            return self.products.get((category, code))
        if law is not None:
            return self._by_code.get((law, code))
        return None

    def variant(self, product: Product) -> str:
        return product.variant or self.lots[product.lot].variant

    def transition(self, law: str, code: str | None) -> TransitionMapping | None:
        """The old-to-new mapping when `code` is an old product code of this region."""
        if code is None:
            return None
        return self._old_codes.get((law, code))

    def map_product(self, law: str, category: str, code: str, on: date) -> tuple[str, str] | None:
        """The new (category, code) for an old code still accepted on `on`; None when not an old code
        or past its cut-off. The router publishes this instead of the old code."""
        m = self.transition(law, code)
        if m is None or on > m.until:
            return None
        return (m.new_category, m.new_code)

    # -- contracts ------------------------------------------------------------------------------

    def is_contracted(self, agb: str, gemeente: str, product: Product, on: date) -> bool:
        provider = self.providers.get(agb)
        if provider is None:
            return False
        for line in provider.contracts:
            if line.lot != product.lot or not line.covers(on):
                continue
            if line.municipalities is not None and gemeente not in line.municipalities:
                continue
            if line.products is not None and product.code not in line.products:
                continue
            return True
        return False

    def contracted_in_category(self, agb: str, gemeente: str, law: str, category: str, on: date) -> bool:
        """For an aspecific item (category only): a contract for at least one product of it."""
        return any(
            p.law == law and p.category == category and not p.no_show and self.is_contracted(agb, gemeente, p, on)
            for p in self.bundle.products
        )

    def exception_for(
        self,
        agb: str,
        gemeente: str,
        product: Product,
        on: date,
        *,
        bsn: str | None = None,
        toewijzing_nummer: str | None = None,
    ) -> ExceptionContract | None:
        hashed = None
        if bsn and self.bundle.client_hash_salt:
            hashed = client_hash(bsn, self.bundle.client_hash_salt)
        for e in self.bundle.exceptions:
            if (e.provider, e.municipality, e.category, e.code) != (agb, gemeente, product.category, product.code):
                continue
            if not e.covers(on):
                continue
            if e.client_hash is not None and e.client_hash == hashed:
                return e
            if e.toewijzing_nummer is not None and e.toewijzing_nummer == toewijzing_nummer:
                return e
        return None

    def in_client_stop(self, agb: str, on: date) -> bool:
        provider = self.providers.get(agb)
        return provider is not None and any(p.covers(on) for p in provider.client_stop)

    # -- tariffs --------------------------------------------------------------------------------

    def tariff(self, tariffs: list[Tariff], unit: str, agb: str, on: date) -> ContractTariff | None:
        """The contracted tariff for `unit` on `on`; a provider's own tariff wins over the general one.

        Hours may be declared in minutes (TR341, IV081): then the hourly tariff / 60 applies.
        """
        found = _pick(tariffs, unit, agb, on)
        if found is not None:
            return ContractTariff(cents=_cents(found.euro), unit=unit, source=found)
        if unit == "01":
            hourly = _pick(tariffs, "04", agb, on)
            if hourly is not None:
                per_hour = _cents(hourly.euro)
                per_minute = int((Decimal(per_hour) / 60).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
                return ContractTariff(cents=per_minute, unit="01", per_hour_cents=per_hour, source=hourly)
        return None

    def allows_unit(self, units: list[str], unit: str) -> bool:
        return unit in units or (unit == "01" and "04" in units)

    # -- budget, rules --------------------------------------------------------------------------

    def ceiling(self, agb: str, year: int, gemeente: str | None) -> BudgetCeiling | None:
        """The ceiling for the provider and year: per municipality if the bundle has one, else regional."""
        regional = None
        for c in self.bundle.budget_ceilings:
            if c.provider != agb or c.year != year:
                continue
            if c.municipality is not None and c.municipality == gemeente:
                return c
            if c.municipality is None:
                regional = c
        return regional

    def action(self, rule_code: str) -> str:
        return self.bundle.rules.get(rule_code, DEFAULT_ACTIONS.get(rule_code, "reject"))


def _pick(tariffs: list[Tariff], unit: str, agb: str, on: date) -> Tariff | None:
    general = None
    for t in tariffs:
        if t.unit != unit or not t.covers(on):
            continue
        if t.providers:
            if agb in t.providers:
                return t
        elif general is None:
            general = t
    return general
