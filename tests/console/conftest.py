"""Console fixtures: a seeded store, an app with the console mounted, and logged-in clients."""

from __future__ import annotations

import shutil
import warnings

import httpx
import pytest
from fastapi import FastAPI

import console_seed
from bsn_log_check import pytest_configure, pytest_sessionfinish, pytest_terminal_summary  # noqa: F401
from gateway import console, observability
from gateway.console import users
from gateway.console.settings import ConsoleSettings

PASSWORD = "correct horse battery"
ROLES = {"vera": "viewer", "otto": "operator", "pim": "privacy", "ada": "admin"}


def open_test_store(url: str):
    from gateway.store import open_store

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return open_store(url, client_key_secret="console-test-secret")


class FakeReplayer:
    """Stands in for the pipeline's replay where a test needs to see what the console passes."""

    def __init__(self, store):
        self.store = store
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, message_id: str, **kwargs):
        self.calls.append((message_id, kwargs))
        rec = self.store.get_message(message_id)
        with self.store.transaction() as tx:
            new_id = tx.save_message(raw=rec.raw, verdict="accepted", issues=[], replay_of=message_id,
                                     transport="replay", sender=rec.sender, receiver=rec.receiver,
                                     identificatie=rec.identificatie)
        return {"message_id": new_id, "verdict": "accepted"}


def make_app(store, replayer=None, settings: ConsoleSettings | None = None) -> FastAPI:
    app = FastAPI()
    observability.install(app, metrics_obj=observability.Metrics())
    app.include_router(console.router)
    console.setup(app, store=store, replayer=replayer,
                  settings=settings or ConsoleSettings(session_secret="test-secret-" + "x" * 20),
                  budgets={"12345678": 10_000_00, "23456789": 50_00})
    return app


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


async def login(app: FastAPI, user: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    r = await client.post("/console/api/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client
