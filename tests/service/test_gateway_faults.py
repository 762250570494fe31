"""When the gateway, not the message, fails (a schema not loaded, a rule's defect, the store
locked), the sender gets 503 with Retry-After and nothing is stored: never a 4xx or a retour."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc

from gateway import samples
from validators import engine
from validators.engine import Rule

from .test_api import auth


def _stored(app) -> int:  # noqa: ANN001
    return app.state.components.store.count_messages()


def _assert_fault(r, code: str) -> None:  # noqa: ANN001
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"].isdigit()
    body = r.json()["error"]
    assert body["code"] == code
    assert "not your message" in body["message"] or code == "store_unavailable"
    assert "Traceback" not in r.text and 'File "' not in r.text


def test_a_schema_that_is_not_loaded_answers_503_not_brs13(app, client, keys, monkeypatch):
    registry = app.state.components.registry
    if registry is None:
        from schemas.registry import default_registry

        registry = default_registry()

    def missing(mtype):
        raise KeyError(mtype.code)

    monkeypatch.setattr(registry, "schema", missing)
    r = client.post("/v1/messages", content=samples.build("JW301"), headers=auth(keys.gemeente))
    _assert_fault(r, "schema_unavailable")
    assert _stored(app) == 0


@pytest.mark.parametrize("level", ["condition", "crossmessage", "contract"])
def test_a_rule_that_raises_answers_503_and_stores_nothing(app, client, keys, monkeypatch, level):
    def broken(rule, ctx):
        raise RuntimeError("defect")

    engine.load_all()
    monkeypatch.setitem(engine.REGISTRY, "ZZ903", Rule(
        code="ZZ903", retourcode="0001", level=level, messages=frozenset({"301"}),
        summary="broken", check=broken))
    r = client.post("/v1/messages", content=samples.build("JW301"), headers=auth(keys.gemeente))
    _assert_fault(r, "rule_failed")
    assert "ZZ903" in r.json()["error"]["message"]
    assert _stored(app) == 0
    # Repaired: the same message is then judged normally (it was never recorded as seen).
    monkeypatch.delitem(engine.REGISTRY, "ZZ903")
    again = client.post("/v1/messages", content=samples.build("JW301"), headers=auth(keys.gemeente))
    assert again.status_code == 202 and again.json()["duplicate"] is False


def test_a_locked_database_answers_503_and_stores_nothing(app, client, keys, monkeypatch):
    def locked(*args, **kwargs):
        raise sa_exc.OperationalError("insert", {}, Exception("database is locked"))

    monkeypatch.setattr(app.state.pipeline, "_process_valid", locked)
    r = client.post("/v1/messages", content=samples.build("JW301"), headers=auth(keys.gemeente))
    _assert_fault(r, "store_unavailable")
    assert _stored(app) == 0


def test_a_fault_in_one_zip_entry_answers_503_for_the_batch(app, client, keys, monkeypatch):
    import io
    import zipfile

    def broken(rule, ctx):
        raise RuntimeError("defect")

    engine.load_all()
    monkeypatch.setitem(engine.REGISTRY, "ZZ904", Rule(
        code="ZZ904", retourcode="0001", level="condition", messages=frozenset({"301"}),
        summary="broken", check=broken))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.xml", samples.build("JW301"))
    r = client.post("/v1/batches", content=buf.getvalue(),
                    headers={**auth(keys.gemeente), "Content-Type": "application/zip"})
    _assert_fault(r, "rule_failed")


def test_readiness_names_what_is_loaded(client):
    body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert set(body["checks"]) >= {"store", "schemas", "rules", "contracts"}


def test_readiness_says_when_schemas_are_not_compiled(app, client, monkeypatch):
    from schemas.registry import default_registry

    registry = app.state.components.registry or default_registry()
    monkeypatch.setattr(registry, "missing", lambda: ["JW301"])
    r = client.get("/readyz")
    assert r.status_code == 503 and "JW301" in r.json()["checks"]["schemas"]["reason"]
