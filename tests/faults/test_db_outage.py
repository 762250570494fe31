"""PostgreSQL goes away under load (simulated on the test's own database: its backends are
terminated, then it refuses connections for a while). The sender gets 503 with Retry-After and a
clear error, never a 500 or a stack trace; /healthz stays up, /readyz says not ready; afterwards
every message is stored once and published once (after dedup)."""

from __future__ import annotations

import pytest

from . import scenarios
from .conftest import assert_held

pytestmark = [pytest.mark.postgres, pytest.mark.broker]


def test_database_outage_under_load_answers_503_and_recovers(tmp_path, pg_url, broker):
    report = scenarios.db_outage(tmp_path, pg_url, broker.bootstrap, messages=60, terminations=2,
                                 outage_seconds=2.0)
    assert_held(report)
