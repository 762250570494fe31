"""Two and four gateway processes on one PostgreSQL and one broker, the test client going round
robin: no message lost or stored twice, every message published once (after dedup), and the
cross-message rules hold across processes (a 305 through another process than its 301 is
accepted; the same ToewijzingNummer (TR332), the same Identificatie (TR056) and the very same
message, sent at the same moment through every process, are accepted exactly once)."""

from __future__ import annotations

import pytest

from . import scenarios
from .conftest import assert_held

pytestmark = [pytest.mark.postgres, pytest.mark.broker]


@pytest.mark.parametrize("processes", [2, 4])
def test_processes_share_one_store_and_broker(processes, tmp_path, pg_url, broker):
    report = scenarios.multi_process(tmp_path, pg_url, broker.bootstrap, processes=processes,
                                     clients=20, races=3)
    assert_held(report)
    assert report.figures["tr332_races_held"] == 3


def test_one_of_two_processes_killed_under_load(tmp_path, pg_url, broker):
    """kill -9 of one process while the client goes round robin: the client fails over, the
    survivor's publisher takes over the dead one's leased outbox rows, nothing is lost or doubled."""
    report = scenarios.multi_process(tmp_path, pg_url, broker.bootstrap, processes=2, clients=60,
                                     races=2, kill_one=True)
    assert_held(report)
    assert report.figures["connection_errors"] > 0
