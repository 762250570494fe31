"""Helpers for the contract tests: the embedded registry, bundle variants and a contract-level run."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree

from gateway import clock
from gateway.catalog import by_code
from gateway.contracts import BUNDLES_DIR, ContractRegistry, default_registry
from validators import engine

MH = BUNDLES_DIR / "midden-holland.yaml"
NL = BUNDLES_DIR / "noord-limburg.yaml"

# Midden-Holland example data used across the tests.
GOUDA = "0513"
KRIMPENERWAARD = "1931"
GROENE_HART = "12345678"  # ambulant jeugd + wmo, dagbesteding jeugd
GOUWE = "12340002"  # ambulant wmo, dagbesteding wmo, HbH in Gouda and Waddinxveen only
HS_CENTRUM = "12340003"  # hoog-specialistisch, own tariff for 43HS1
GI = "12340005"  # JB/JR only
DE_LINDE = "12340006"  # 45A01 and 54G01 only; cliëntenstop 2026-06-01..2026-12-31
URC_PROVIDER = "12340099"  # no contract; URC for 45A02, toewijzing 7001, Gouda

PRODUCT = {"ijw": ("45", "45A01"), "iwmo": ("02", "02A01")}
NO_SHOW = {"ijw": ("45", "45NS1"), "iwmo": ("02", "02NS1")}
CODE = {"ijw": "JW", "iwmo": "WMO"}


@pytest.fixture(scope="session")
def registry() -> ContractRegistry:
    return default_registry()


def variant(path, *replacements: tuple[str, str]) -> ContractRegistry:
    """A registry holding one bundle whose text was changed by (old, new) replacements."""
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, f"{old!r} not in {path.name}"
        text = text.replace(old, new)
    reg = ContractRegistry()
    reg.load_text(text, actor="test", source=path.name)
    return reg


def run(registry, code: str, xml: bytes, *, state=None, today: date | None = None):
    """The contract-level issues of one message."""
    root = etree.fromstring(xml)
    ctx = engine.RuleContext(
        root=root, mtype=by_code(code), today=today or clock.today(), state=state, contracts=registry
    )
    return engine.run(ctx, levels=("contract",))


def only(issues, rule: str):
    return [i for i in issues if i.rule == rule]
