"""The `gateway` command. Each subcommand lives in its own module in this package.

A subcommand module defines `register(subparsers)` that adds its parser and sets `func`
(a callable taking the parsed args and returning an exit status).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand modules, in the order `--help` lists them. A module that is not there yet is skipped.
SUBCOMMANDS = ("serve", "validate", "retour", "replay", "party", "contracts", "user", "deadlines")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway", description="Validating message gateway for iJw 3.2 and iWmo 3.2."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"gateway.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"gateway.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args) or 0)
