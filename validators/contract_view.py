"""What the contract rules (CRxxx) may read of a region's contract bundle.

The rules define this interface; `gateway.contracts` implements it (`ContractRegistry.lookup`
returns a `BundleIndex`; checked by tests/contracts/test_contract_view.py), so validators/ never
imports the contract registry. `RuleContext.contracts` is a `ContractLookup` or None.

The bundle's own models (the lots, access policy, budget policy, ceilings, tariffs) are read by
attribute and typed loosely here: their shape is the bundle schema's (docs/ and
gateway/contracts/models.py), not something the rules define.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol, runtime_checkable


class ContractProduct(Protocol):
    """A product of the region's product list."""

    @property
    def category(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def lot(self) -> str: ...
    @property
    def units(self) -> Sequence[str]: ...
    @property
    def tariffs(self) -> Sequence[Any]: ...
    @property
    def lump_sum(self) -> bool: ...
    @property
    def no_show(self) -> bool: ...


class ContractTransition(Protocol):
    """An old product code mapped to its new product until a cut-off date."""

    @property
    def new_category(self) -> str: ...
    @property
    def new_code(self) -> str: ...
    @property
    def until(self) -> date: ...
    @property
    def tariffs(self) -> Sequence[Any]: ...


class ContractIndex(Protocol):
    """One region's bundle, indexed for the questions the rules ask."""

    bundle: Any  # region, name, access (per law), budget policy
    lots: Mapping[str, Any]  # lot id -> lot (referrers, variant)

    def product(self, category: str | None, code: str | None, law: str | None = None) -> ContractProduct | None: ...
    def variant(self, product: ContractProduct) -> str: ...
    def transition(self, law: str, code: str | None) -> ContractTransition | None: ...
    def is_contracted(self, agb: str, gemeente: str, product: ContractProduct, on: date) -> bool: ...
    def contracted_in_category(self, agb: str, gemeente: str, law: str, category: str, on: date) -> bool: ...
    def exception_for(
        self,
        agb: str,
        gemeente: str,
        product: ContractProduct,
        on: date,
        *,
        bsn: str | None = None,
        toewijzing_nummer: str | None = None,
    ) -> Any | None: ...
    def in_client_stop(self, agb: str, on: date) -> bool: ...
    def tariff(self, tariffs: list[Any], unit: str, agb: str, on: date) -> Any | None:
        """The expected tariff (cents, unit, per_hour_cents, amount(volume)) or None."""
        ...

    def allows_unit(self, units: list[str], unit: str) -> bool: ...
    def ceiling(self, agb: str, year: int, gemeente: str | None) -> Any | None:
        """The provider's budget ceiling (year, municipality, ceiling_euro, warning_level)."""
        ...

    def action(self, rule_code: str) -> str:
        """What the region does on a failure of `rule_code`: reject, flag or review."""
        ...


@runtime_checkable
class ContractLookup(Protocol):
    """The contract registry as the rules see it."""

    def lookup(self, gemeente: str | None, on: date) -> ContractIndex | None:
        """The bundle in effect for municipality `gemeente` on `on`, or None."""
        ...
