"""Schemas to check sample messages against: the official XSDs and ours, both through the registry."""

from __future__ import annotations

import pytest
from lxml import etree

from schemas.registry import SchemaRegistry


def _compiled(registry: SchemaRegistry) -> dict[str, etree.XMLSchema]:
    return {t.code: registry.schema(t).schema for t in registry.types()}


@pytest.fixture(scope="session")
def official_schemas(official_dir) -> dict[str, etree.XMLSchema]:
    """Message code -> compiled official XSD (21 of 28: iWmo has no retour/325 XSDs)."""
    return _compiled(SchemaRegistry([official_dir / "ijw-3.2" / "xsd", official_dir / "iwmo-3.2" / "xsd"]))


@pytest.fixture(scope="session")
def our_schemas() -> dict[str, etree.XMLSchema]:
    """Message code -> our generated XSD under schemas/."""
    return _compiled(SchemaRegistry.default())
