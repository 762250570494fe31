"""Console fixtures: a seeded store, an app with the console mounted, and logged-in clients."""

from __future__ import annotations

import shutil

import console_seed
import pytest
from console_helpers import PASSWORD, ROLES, FakeReplayer, make_app, open_test_store

from gateway.console import users


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory):
    """Seed one SQLite file per session (argon2 hashing and the flow take a second); each test
    gets its own copy of it."""
    path = tmp_path_factory.mktemp("console-template") / "console.db"
    store = open_test_store(f"sqlite:///{path}")
    seeded = console_seed.seed(store)
    for name, role in ROLES.items():
        users.add_user(store, name, PASSWORD, role)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path, seeded


@pytest.fixture
def seeded_store(seeded_template, tmp_path):
    template, seeded = seeded_template
    copy = tmp_path / "console.db"
    shutil.copyfile(template, copy)
    store = open_test_store(f"sqlite:///{copy}")
    yield store, seeded
    store.close()


@pytest.fixture
def app(seeded_store):
    store, _ = seeded_store
    return make_app(store, replayer=FakeReplayer(store))


@pytest.fixture
def seeded(seeded_store):
    return seeded_store[1]


