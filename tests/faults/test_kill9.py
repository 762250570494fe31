"""kill -9 of `gateway serve` under load, then a restart: every 2xx is stored and published, none
twice (the client retries what got no answer; the gateway answers a retry of a stored message
as a duplicate with the same message id)."""

from __future__ import annotations

import pytest

from . import scenarios
from .conftest import assert_held

pytestmark = [pytest.mark.broker]


def test_kill9_under_load_sqlite(tmp_path, sqlite_url, broker):
    report = scenarios.kill9(tmp_path, sqlite_url, broker.bootstrap, messages=80, kills=1)
    assert_held(report)
    assert report.figures["connection_errors"] > 0, "the kill did not hit the load"


@pytest.mark.postgres
def test_kill9_under_load_postgres(tmp_path, pg_url, broker):
    report = scenarios.kill9(tmp_path, pg_url, broker.bootstrap, messages=80, kills=1)
    assert_held(report)
    assert report.figures["connection_errors"] > 0, "the kill did not hit the load"
