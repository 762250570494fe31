"""Fixtures for the validation-core tests: our schema registry and the official one."""

from __future__ import annotations

import pytest

from schemas.registry import SchemaRegistry


@pytest.fixture(scope="session")
def registry() -> SchemaRegistry:
    """Our own schemas (schemas/ijw-3.2, schemas/iwmo-3.2)."""
    reg = SchemaRegistry.default()
    if not reg.types():
        pytest.skip("the package's generated schemas are not present")
    return reg


@pytest.fixture(scope="session")
def official_registry(official_dir) -> SchemaRegistry:
    """The official 3.2 XSDs, loaded straight from ../shared (read-only, nothing copied)."""
    return SchemaRegistry([official_dir / "ijw-3.2" / "xsd", official_dir / "iwmo-3.2" / "xsd"])
