"""The `gateway` command. Each subcommand lives in its own module in this package.

A subcommand module defines `register(subparsers)` that adds its parser and sets `func`
(a callable taking the parsed args and returning an exit status).

Only the module of the subcommand being run is imported: `gateway validate` must not pay for
FastAPI, SQLAlchemy or the store, and `gateway --help` for none of them. The one-line help of
every subcommand is therefore listed here too (tests/validation/test_cli_imports.py checks it
against the modules).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Subcommand -> its one-line help, in the order `--help` lists them.
SUBCOMMANDS: dict[str, str] = {
    "serve": "run the gateway service",
    "validate": "validate iJw/iWmo message files (XSD and in-message rules)",
    "retour": "print the retourbericht (or declaratie-antwoord) for a heenbericht",
    "replay": "re-validate stored messages through the current rules",
    "party": "manage sending parties and their API keys / certificates",
    "contracts": "check and list regional contract bundles",
    "user": "manage operator console users",
    "deadlines": "obligations of the exchange: overdue and due-soon lists",
    "ggk": "wrap a message in a StUF-GGk envelope, or check and unwrap one",
}


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line: the top-level parser has no options that take a
    value, so it is the first argument that is not an option."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in SUBCOMMANDS else None
    return None


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser with `commands` fully registered (default: all of them); the others get a
    placeholder that only carries their help line, so their modules are not imported."""
    full = set(SUBCOMMANDS if commands is None else commands)
    parser = argparse.ArgumentParser(
        prog="gateway", description="Validating message gateway for iJw 3.2 and iWmo 3.2."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_line in SUBCOMMANDS.items():
        if name in full:
            importlib.import_module(f"gateway.cli.{name}").register(sub)
        else:
            sub.add_parser(name, help=help_line)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = command_of(argv)
    parser = build_parser([command] if command else [])
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args) or 0)
