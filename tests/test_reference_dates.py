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
def test_date_sensitive_modules_pass_on_every_reference_date(tmp_path):
    """The three dates run at once (each child is one process; the machine has two cores and this
    test waits for them), so the suite pays about half the time it did for one after the other."""
    runs = {}
    for reference in REFERENCE_DATES:
        env = {**os.environ, "GATEWAY_TEST_DATE": reference}
        env.pop("GATEWAY_CLOCK", None)  # the child sets it from GATEWAY_TEST_DATE
        runs[reference] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not slow",
             "--basetemp", str(tmp_path / reference), *DATE_SENSITIVE],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
    failures = []
    for reference, proc in runs.items():
        try:
            out, err = proc.communicate(timeout=900)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        tail = "\n".join(out.splitlines()[-25:])
        if proc.returncode != 0 or " passed" not in tail or "failed" in tail:
            failures.append(f"on {reference}:\n{tail}\n{err[-2000:]}")
    assert not failures, "\n\n".join(failures)
