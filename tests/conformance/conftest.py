import pytest

from . import official


@pytest.fixture(scope="session", autouse=True)
def _official_present():
    if not official.available():
        pytest.skip(f"official stylesheets not present under {official.OFFICIAL}")
