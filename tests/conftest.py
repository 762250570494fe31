"""Shared fixtures: real PostgreSQL databases and a real Kafka-protocol broker.

When a service is absent the tests that need it skip with the reason, unless
GATEWAY_REQUIRE_SERVICES=1 (as in .ci/run), where they fail instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.testing import services

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
OFFICIAL = SHARED / "istandaarden"


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
