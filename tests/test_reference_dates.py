"""The suite passes on any day: the date-sensitive modules run again as if it were a month end, a
leap day and the last day of a year (GATEWAY_TEST_DATE, read by tests/conftest.py into
gateway.clock, and by subprocess gateways through GATEWAY_CLOCK)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Every module whose messages or expectations are built from "today".
DATE_SENSITIVE = [
    "tests/retour",
    "tests/rules",
    "tests/samples",
    "tests/validation/test_validate_api.py",
    "tests/store/test_rules_declaration.py",
    "tests/store/test_rules_declaration_answer.py",
    "tests/store/test_rules_allocation_regie.py",
    "tests/store/test_rules_requests.py",
    "tests/contracts",
]

REFERENCE_DATES = ["2027-01-31", "2028-02-29", "2026-12-31"]


@pytest.mark.slow
@pytest.mark.parametrize("reference", REFERENCE_DATES)
def test_date_sensitive_modules_pass_on_a_reference_date(reference, tmp_path):
    """One child pytest per date; under xdist (scripts/test) the three spread over the workers."""
    env = {**os.environ, "GATEWAY_TEST_DATE": reference}
    env.pop("GATEWAY_CLOCK", None)  # the child sets it from GATEWAY_TEST_DATE
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-m", "not slow", "--basetemp", str(tmp_path / reference), *DATE_SENSITIVE],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )
    tail = "\n".join(proc.stdout.splitlines()[-25:])
    assert proc.returncode == 0 and " passed" in tail and "failed" not in tail, (
        f"on {reference}:\n{tail}\n{proc.stderr[-2000:]}")
