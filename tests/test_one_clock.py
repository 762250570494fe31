"""The product reads the time in one place (gateway.clock), so tests can set it."""

from __future__ import annotations

import ast
from pathlib import Path

from gateway import clock

REPO = Path(__file__).resolve().parent.parent
PRODUCT = ["gateway", "validators", "mappers", "schemas"]
# attribute calls that read the system clock
READS = {("date", "today"), ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
         ("time", "time"), ("time", "time_ns"), ("time", "localtime"), ("time", "gmtime")}


def _clock_reads(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else None
            if (name, node.func.attr) in READS:
                found.append(f"{path.relative_to(REPO)}:{node.lineno} {name}.{node.func.attr}()")
        if isinstance(node, ast.Attribute) and node.attr == "TimeStamper":
            found.append(f"{path.relative_to(REPO)}:{node.lineno} structlog TimeStamper")
    return found


def test_no_product_module_reads_the_system_clock():
    reads = [r for package in PRODUCT for path in sorted((REPO / package).rglob("*.py"))
             if path != REPO / "gateway" / "clock.py" for r in _clock_reads(path)]
    assert reads == []


def test_the_clock_can_be_fixed_and_runs_on():
    with clock.fixed("2028-02-29"):
        assert clock.today().isoformat() == "2028-02-29"
        first = clock.now()
        assert first.tzinfo is not None and clock.now() >= first
    with clock.fixed("2026-12-31T23:30:00+00:00"):
        assert clock.today().isoformat() == "2027-01-01"  # already New Year in the Netherlands
