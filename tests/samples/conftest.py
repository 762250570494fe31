"""Schemas to check sample messages against: the official XSDs (from a cleaned temp copy) and ours."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from gateway.catalog import ALL

REPO = Path(__file__).resolve().parents[2]
_START = re.compile(rb"<\?xml|<xs:schema")
_END = b"</xs:schema>"


def _clean(raw: bytes) -> bytes:
    """Drop a leading Markdown line and anything after </xs:schema> (quirks of the reference copy)."""
    start = _START.search(raw)
    raw = raw[start.start() if start else 0 :]
    end = raw.find(_END)
    return raw[: end + len(_END)] if end >= 0 else raw


def _compile_dir(src: Path, dst: Path) -> dict[str, etree.XMLSchema]:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.xsd"):
        name = "basisschema.xsd" if f.name.lower() == "basisschema.xsd" else f.name
        (dst / name).write_bytes(_clean(f.read_bytes()))
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    out = {}
    for f in dst.glob("*.xsd"):
        if f.name != "basisschema.xsd":
            out[f.stem.upper()] = etree.XMLSchema(etree.parse(str(f), parser))
    return out


@pytest.fixture(scope="session")
def official_schemas(official_dir: Path, tmp_path_factory) -> dict[str, etree.XMLSchema]:
    """Message code -> compiled official XSD (21 of 28: iWmo has no retour/325 XSDs)."""
    tmp = tmp_path_factory.mktemp("official-xsd")
    schemas: dict[str, etree.XMLSchema] = {}
    for std in ("ijw-3.2", "iwmo-3.2"):
        schemas.update(_compile_dir(official_dir / std / "xsd", tmp / std))
    return schemas


@pytest.fixture(scope="session")
def our_schemas(tmp_path_factory) -> dict[str, etree.XMLSchema]:
    """Message code -> our generated XSD under schemas/, for the types present (may be none yet)."""
    tmp = tmp_path_factory.mktemp("our-xsd")
    schemas: dict[str, etree.XMLSchema] = {}
    for std in ("ijw-3.2", "iwmo-3.2"):
        d = REPO / "schemas" / std
        if d.is_dir() and (any(d.glob("basisschema.xsd")) or any(d.glob("Basisschema.xsd"))):
            try:
                schemas.update(_compile_dir(d, tmp / std))
            except etree.XMLSchemaParseError:
                continue  # work in progress by the schema engineer; the test reports what it has
    known = {t.code for t in ALL}
    return {k: v for k, v in schemas.items() if k in known}


def assert_valid(schema: etree.XMLSchema, message: bytes, what: str = "") -> None:
    doc = etree.fromstring(message)
    if not schema.validate(doc):
        errors = "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise AssertionError(f"{what} not schema-valid:\n{errors}\n{message.decode()[:4000]}")
