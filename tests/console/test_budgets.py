"""Budget ceilings for the dashboard, read from the contract registry's bundles."""

from __future__ import annotations

import pytest

from gateway.console.budgets import ceilings_from_contracts


@pytest.fixture(scope="module")
def registry():
    from gateway.contracts import default_registry

    return default_registry()


def test_ceilings_of_the_demo_bundles(registry):
    got = ceilings_from_contracts(registry, 2026)
    # midden-holland 2026: 12345678 at EUR 400,000; noord-limburg 2026: 45670003 at EUR 1,250,000
    assert got["12345678"] == 400_000_00
    assert got["45670003"] == 1_250_000_00
    assert "45670003" in ceilings_from_contracts(registry, 2025)
    assert "12345678" not in ceilings_from_contracts(registry, 2025)
    assert ceilings_from_contracts(registry, 1999) == {}


def test_no_registry_means_no_ceilings():
    assert ceilings_from_contracts(None, 2026) == {}
