"""Shared fixtures: real PostgreSQL databases and a real Kafka-protocol broker.

When a service is absent the tests that need it skip with the reason, unless
GATEWAY_REQUIRE_SERVICES=1 (as in .ci/run), where they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway import clock
from testsupport import services

# every log line of the run goes to one file, searched for BSNs at the end
pytest_plugins = ["testsupport.bsn_log_check"]

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
OFFICIAL = SHARED / "istandaarden"


def pytest_configure(config):
    """GATEWAY_TEST_DATE (an ISO date) runs the whole suite as if it were that day.

    Set before collection, so module constants such as TODAY = clock.today() see it, and put in
    GATEWAY_CLOCK so a gateway that a test starts as a subprocess runs on the same date. Without
    it the suite runs on the real date: it must pass on any day (tests/test_reference_dates.py
    runs the date-sensitive modules on a month end, a leap day and a year boundary).
    """
    reference = os.environ.get("GATEWAY_TEST_DATE")
    if reference:
        os.environ["GATEWAY_CLOCK"] = reference
    clock.set_clock(os.environ.get("GATEWAY_CLOCK") or None)


def pytest_collection_modifyitems(items):
    """The long tests first: under xdist (scripts/test) the rest of the suite runs beside them
    instead of waiting behind them at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _reference_clock():
    """Every test starts on the run's reference date, whatever an earlier test did to the clock."""
    clock.set_clock(os.environ.get("GATEWAY_CLOCK") or None)
    yield


def _unavailable(reason: str) -> None:
    if services.REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def official_dir() -> Path:
    """../shared/istandaarden, the official release; tests that compare with it skip without it."""
    if not (OFFICIAL / "ijw-3.2" / "xsd").is_dir():
        pytest.skip(f"official iStandaarden set not present at {OFFICIAL}")
    return OFFICIAL


@pytest.fixture
def pg_url() -> str:
    """A fresh, empty PostgreSQL database (SQLAlchemy URL), dropped after the test."""
    reason = services.pg_available()
    if reason:
        _unavailable(reason)
    with services.temporary_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    """Run a test on both stores: an SQLite file and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    reason = services.pg_available()
    if reason:
        _unavailable(reason)
    with services.temporary_pg_database() as url:
        yield url


@pytest.fixture
def broker():
    """A tansu broker on a free loopback port, stopped after the test."""
    b = services.TansuBroker()
    try:
        b.start()
    except services.ServiceUnavailable as exc:
        _unavailable(str(exc))
    try:
        yield b
    finally:
        b.stop()


# With GATEWAY_REQUIRE_SERVICES=1 (.ci/run) a skipped test is a failure: every test must run.
_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if services.REQUIRE_SERVICES and _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if services.REQUIRE_SERVICES and _skipped:
        terminalreporter.write_line(
            f"GATEWAY_REQUIRE_SERVICES=1 but {len(_skipped)} test(s) were skipped:", red=True
        )
        for line in _skipped[:50]:
            terminalreporter.write_line(f"  {line}", red=True)
