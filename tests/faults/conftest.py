"""Fault tests run real `gateway serve` processes; each test starts and stops its own."""

from __future__ import annotations

import pytest


def assert_held(report) -> None:  # noqa: ANN001
    """Fail with every violated guarantee and the figures measured."""
    assert not report.violations, "\n".join(report.violations) + f"\nfigures: {report.figures}"


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'gateway.db'}"
