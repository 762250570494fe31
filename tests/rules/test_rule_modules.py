"""In-message rules live only in validators/rulesets/technical_*.py and conditions_*.py, because
`gateway validate` imports only those modules (validators.engine.load)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from validators import engine
from validators.rulesets import IN_MESSAGE_MODULES

REPO = Path(__file__).resolve().parents[2]


def test_every_in_message_rule_is_in_an_in_message_module():
    for r in engine.load_all().values():
        module = r.check.__module__.rsplit(".", 1)[-1]
        if r.level in engine.IN_MESSAGE_LEVELS:
            assert module.startswith(IN_MESSAGE_MODULES), (r.code, module)


def test_loading_the_in_message_levels_finds_every_in_message_rule():
    probe = (
        "import json, sys\n"
        "from validators import engine\n"
        "rules = engine.load(engine.IN_MESSAGE_LEVELS)\n"
        "print(json.dumps({'codes': sorted(c for c, r in rules.items() if r.level in engine.IN_MESSAGE_LEVELS),"
        " 'modules': sorted(m for m in sys.modules if m.startswith('validators.rulesets.'))}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, check=True, capture_output=True, text=True)
    found = json.loads(done.stdout)
    expected = sorted(c for c, r in engine.load_all().items() if r.level in engine.IN_MESSAGE_LEVELS)
    assert found["codes"] == expected
    assert all(m.rsplit(".", 1)[-1].startswith(IN_MESSAGE_MODULES) for m in found["modules"])
