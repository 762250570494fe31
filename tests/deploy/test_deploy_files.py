"""The deploy files parse, and every GATEWAY_* variable they set is a setting the gateway reads."""

import re
from pathlib import Path

import yaml

from gateway.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _known_variables() -> set[str]:
    known = {f"GATEWAY_{name.upper()}" for name in Settings.model_fields}
    from gateway.console.settings import ConsoleSettings

    known |= {f"GATEWAY_CONSOLE_{name.upper()}" for name in ConsoleSettings.model_fields}
    return known


def test_every_yaml_file_parses():
    files = sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))
    assert files
    for f in files:
        assert list(yaml.safe_load_all(f.read_text())), f


def test_deploy_sets_only_known_settings():
    used = set()
    for f in DEPLOY.rglob("*"):
        if f.is_file():
            used |= set(re.findall(r"\b(GATEWAY_[A-Z0-9_]*[A-Z0-9])\b", f.read_text()))
    assert used, "the deploy files configure the gateway through GATEWAY_* variables"
    assert used - _known_variables() == set()
