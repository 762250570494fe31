"""Property-based tests: hypothesis on the parser, the validate API, the pipeline and the HTTP API,
and schemathesis against our OpenAPI.

Example counts are small by default (the normal test run); GATEWAY_FUZZ=long (set by
benchmarks/faults_long.py) multiplies them by 10. `fuzz_settings(n)` gives a test n examples by
default and 10 x n in the long form; shrinking is bounded so a failure is reported quickly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings

LONG = os.environ.get("GATEWAY_FUZZ") == "long"
SECRET = "fuzz-secret"


def fuzz_settings(examples: int, **kwargs) -> settings:
    return settings(
        max_examples=examples * (10 if LONG else 1),
        deadline=None,
        derandomize=not LONG,  # the CI run is reproducible; the long form explores
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large, HealthCheck.filter_too_much],
        **kwargs,
    )


@dataclass
class Api:
    app: object
    gemeente_key: str
    aanbieder_key: str


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Api:
    """The service app in-process on a fresh SQLite store, with the two sample parties."""
    from gateway.auth.keys import key_hash, new_key
    from gateway.pipeline import build_components
    from gateway.samples import AANBIEDER, GEMEENTE
    from gateway.service import create_app
    from gateway.settings import Settings

    base = tmp_path_factory.mktemp("fuzz")
    s = Settings(data_dir=base, hmac_secret=SECRET)
    app = create_app(s, components=build_components(s))
    store = app.state.components.store
    keys = []
    for party, role in ((GEMEENTE, "gemeente"), (AANBIEDER, "aanbieder")):
        store.add_party(party, role, f"fuzz {role}")
        key_id, key = new_key()
        store.add_api_key(party, key_hash(key), key_id)
        keys.append(key)
    yield Api(app, *keys)
    store.close()
