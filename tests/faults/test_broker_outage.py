"""The broker goes down under load and comes back on the same port: the gateway keeps answering
202 (stored), the outbox keeps the backlog, which drains after the restart; a consumer of the new
broker sees every message stored since the outage once (after dedup) and nothing from before."""

from __future__ import annotations

import pytest

from . import scenarios
from .conftest import assert_held

pytestmark = [pytest.mark.broker]


def test_broker_outage_under_load_sqlite(tmp_path, sqlite_url, broker):
    report = scenarios.broker_outage(tmp_path, sqlite_url, broker, before=20, during=30, after=30,
                                     outage_seconds=3.0)
    assert_held(report)
    assert report.figures["backlog_at_restart"] > 0
