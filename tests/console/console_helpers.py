"""Helpers shared by the console tests (imported by name: conftest modules all share one name)."""

from __future__ import annotations

import warnings

import httpx
from fastapi import FastAPI

from gateway import console, observability
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


async def login(app: FastAPI, user: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    r = await client.post("/console/api/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client
