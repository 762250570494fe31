"""The store options shared by the commands that administer the store (`party`, `user`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--settings", metavar="FILE", help="YAML settings file (for the store URL)")
    parser.add_argument("--store-url", help="store URL (default: from settings)")
    parser.add_argument("--data-dir", help="data directory (default ./var)")


def open_store_from_args(args: argparse.Namespace):  # noqa: ANN201
    """The store the settings (or --store-url / --data-dir) name, created when it is a new SQLite file."""
    from gateway.settings import load_settings
    from gateway.store import open_store

    overrides = {k: v for k, v in (("store_url", args.store_url), ("data_dir", args.data_dir)) if v}
    settings = load_settings(args.settings, **overrides)
    if settings.store_url.startswith("sqlite:///"):
        Path(settings.store_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return open_store(settings.store_url, client_key_secret=settings.secret())
