"""Budget ceilings per provider out of the contract registry (gateway.contracts), for the dashboard."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any


def ceilings_from_contracts(registry: Any, year: int) -> dict[str, int]:
    """{AGB code: ceiling in eurocent} for `year`: the regional ceilings of the bundle versions in
    effect on 1 January or 31 December of that year, summed over regions (a provider can work in
    several). Per-municipality ceilings are summed when a provider has no regional one."""
    if registry is None or not hasattr(registry, "regions"):
        return {}
    out: dict[str, int] = {}
    for region in registry.regions():
        loaded = registry.effective(region, date(year, 12, 31)) or registry.effective(region, date(year, 1, 1))
        if loaded is None:
            continue
        regional: dict[str, Decimal] = {}
        local: dict[str, Decimal] = {}
        for c in loaded.bundle.budget_ceilings:
            if c.year != year:
                continue
            target = regional if c.municipality is None else local
            target[c.provider] = target.get(c.provider, Decimal(0)) + Decimal(c.ceiling_euro)
        for provider in set(regional) | set(local):
            euro = regional.get(provider, local.get(provider, Decimal(0)))
            out[provider] = out.get(provider, 0) + int(euro * 100)
    return out
