"""Fixtures of the service tests: an app on a fresh store with two parties, and a live server
(uvicorn on a free loopback port in a thread) for the end-to-end tests."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from gateway import samples
from gateway.auth.keys import key_hash, new_key
from gateway.service import create_app
from gateway.settings import Settings
from testsupport.services import free_port

GEMEENTE = samples.GEMEENTE
AANBIEDER = samples.AANBIEDER
SECRET = "service-test-secret"


@dataclass
class Keys:
    gemeente: str
    aanbieder: str


def make_settings(tmp_path: Path, **overrides) -> Settings:
    values = dict(data_dir=tmp_path, hmac_secret=SECRET, outbox_poll_seconds=0.05,
                  outbox_lease_seconds=1.0)
    values.update(overrides)
    return Settings(**values)


def add_party(store, party_id: str, role: str) -> str:
    store.add_party(party_id, role, f"test {role}")
    key_id, key = new_key()
    store.add_api_key(party_id, key_hash(key), key_id)
    return key


def setup_parties(app) -> Keys:  # noqa: ANN001
    store = app.state.components.store
    return Keys(gemeente=add_party(store, GEMEENTE, "gemeente"),
                aanbieder=add_party(store, AANBIEDER, "aanbieder"))


@pytest.fixture(scope="session")
def contracts():
    """The demo contract registry, loaded once (it is read-only in these tests)."""
    from gateway.pipeline import load_contracts

    return load_contracts(None)


def make_app(settings: Settings, contracts=None):  # noqa: ANN001, ANN201
    from gateway.pipeline import build_components

    return create_app(settings, components=build_components(settings, contracts=contracts))


@pytest.fixture
def app(tmp_path, contracts):
    application = make_app(make_settings(tmp_path), contracts)
    yield application
    application.state.components.store.close()


@pytest.fixture
def keys(app) -> Keys:
    return setup_parties(app)


@pytest.fixture
def client(app) -> Iterator[httpx.Client]:
    """In-process HTTP client (no lifespan: no background tasks)."""
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


class LiveServer:
    """uvicorn serving `app` on a free loopback port in a thread."""

    def __init__(self, app, port: int | None = None, **config) -> None:  # noqa: ANN001, ANN003
        self.port = port or free_port()
        self.scheme = "https" if config.get("ssl_certfile") else "http"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_config=None, lifespan="on", **config))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@contextlib.contextmanager
def live(app, **config) -> Iterator[LiveServer]:  # noqa: ANN001, ANN003
    with LiveServer(app, **config) as server:
        yield server
