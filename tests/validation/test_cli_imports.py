"""`gateway validate` and `gateway --help` import only what they use (issue 14, item 1).

Import sets, not timings: each command runs in a fresh interpreter and reports `sys.modules`.
The start-up figures themselves are in benchmarks/bench_cli_startup.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import samples
from gateway.cli import SUBCOMMANDS, build_parser, command_of

REPO = Path(__file__).resolve().parents[2]

# What a subcommand that needs no service, store or broker must never load.
HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "aiokafka",
    "pydantic",
    "pydantic_settings",
    "gateway.store",
    "gateway.settings",
    "gateway.service",
    "gateway.pipeline",
    "gateway.retour",
    "gateway.contracts",
    "gateway.console",
)
# Rules a plain `validate` does not run (levels 3 and 4 and the contract rules).
LATER_RULES = ("validators.rulesets.crossmessage_", "validators.rulesets.contract_")

PROBE = """
import json, sys
from gateway.cli import main
out, argv = sys.argv[1], sys.argv[2:]
try:
    status = main(argv)
except SystemExit as exc:  # --help exits
    status = exc.code
with open(out, "w") as fh:
    json.dump({"status": status, "modules": sorted(sys.modules)}, fh)
"""


def modules_after(tmp_path: Path, *argv: str) -> tuple[int, list[str]]:
    out = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *argv],
        cwd=REPO, check=True, capture_output=True, timeout=120,
    )
    found = json.loads(out.read_text())
    return found["status"], found["modules"]


def loaded(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    """The modules of `packages` (a package and everything under it) that were imported."""
    return [m for m in modules if m in packages or m.startswith(tuple(p + "." for p in packages))]


def test_validate_imports_neither_service_nor_store(tmp_path):
    msg = tmp_path / "jw301.xml"
    msg.write_bytes(samples.build("JW301"))
    status, modules = modules_after(tmp_path, "validate", "--quiet", str(msg))
    assert status == 0  # it did validate (so the in-message rules ran)
    assert "validators.rulesets.technical_keys" in modules
    assert loaded(modules, HEAVY) == []
    assert [m for m in modules if m.startswith(LATER_RULES)] == []
    assert [m for m in modules if m.startswith("gateway.cli.") and m != "gateway.cli.validate"] == []


def test_help_imports_no_subcommand(tmp_path):
    status, modules = modules_after(tmp_path, "--help")
    assert status == 0
    assert loaded(modules, HEAVY) == []
    assert [m for m in modules if m.startswith(("gateway.cli.", "validators", "schemas"))] == []


def test_the_listed_help_lines_are_the_subcommands_own():
    """--help shows the lines in gateway.cli.SUBCOMMANDS; each module registers the same one."""
    full = build_parser()
    actions = full._subparsers._group_actions[0]._choices_actions  # noqa: SLF001
    assert {a.dest: a.help for a in actions} == SUBCOMMANDS


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["validate", "x.xml"], "validate"),
        (["-h"], None),
        (["--help", "serve"], "serve"),
        (["nonsense"], None),
        (["--", "validate"], None),
        ([], None),
    ],
)
def test_command_of(argv, command):
    assert command_of(argv) == command
