"""The official StUF-GGk envelope set in ../shared/stuf-ggk: reference data for the conformance
tests only (the product never reads it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

REPO = Path(__file__).resolve().parents[2]
STUF_GGK = REPO.parent / "shared" / "stuf-ggk"
OFFICIAL_XSD = STUF_GGK / "ggk0210" / "ggkberichten" / "ggk0210_msg_ggkberichten.xsd"


@pytest.fixture(scope="session")
def stuf_ggk_dir() -> Path:
    if not OFFICIAL_XSD.is_file():
        pytest.skip(f"official StUF-GGk envelope set not present at {STUF_GGK} (needs {OFFICIAL_XSD.name})")
    return STUF_GGK


@pytest.fixture(scope="session")
def official_schema(stuf_ggk_dir) -> etree.XMLSchema:
    """The official envelope schema: ggk0210 including the whole of StUF 03.01."""
    return etree.XMLSchema(etree.parse(str(OFFICIAL_XSD)))


@pytest.fixture(scope="session")
def official_examples(stuf_ggk_dir) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((stuf_ggk_dir / "voorbeeldberichten").glob("*.xml"))}
