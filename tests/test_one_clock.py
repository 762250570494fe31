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


def test_today_turns_at_dutch_midnight_also_when_kept(monkeypatch):
    """today() keeps its date for the system seconds of that Dutch day: it still turns at midnight
    (also on the 23- and 25-hour days of a DST change) and follows a system clock set back."""
    for fixed_at, day, next_day, hours in [
        ("2026-03-28T23:59:00+01:00", "2026-03-28", "2026-03-29", 0),
        ("2026-03-29T00:59:00+01:00", "2026-03-29", "2026-03-30", 22),  # the 23-hour day
        ("2026-10-25T00:59:00+02:00", "2026-10-25", "2026-10-26", 24),  # the 25-hour day
    ]:
        with clock.fixed(fixed_at):
            since = clock._fixed[1].timestamp()
            step = hours * 3600

            def at(seconds: float, base: float = since) -> None:
                monkeypatch.setattr(clock, "system_seconds", lambda: base + seconds)

            at(0.0)  # the date is worked out here, and kept
            assert clock.today().isoformat() == day
            at(step + 59.5)
            assert clock.today().isoformat() == day
            at(step + 60.5)
            assert clock.today().isoformat() == next_day
            at(step + 59.5)  # the system clock set back
            assert clock.today().isoformat() == day
