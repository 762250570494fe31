"""What an independent check found holding, kept as tests so it keeps holding (issue: reliability).

Hostile XML is refused as not well-formed (BRS14) and stored as refused, oversized bodies get 413,
UTF-16 is refused (OP192), a party cannot send in another's name, no key is 401, the console
cookie is HttpOnly + SameSite=Strict, and the API sends no CORS headers.
"""

from __future__ import annotations

from gateway import samples

from .conftest import AANBIEDER
from .test_api import auth

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Bericht [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Bericht xmlns="http://www.istandaarden.nl/ijw/3_2/jw301/schema"><Header>&x;</Header></Bericht>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>"""


def _refused(r, code: str) -> dict:  # noqa: ANN001
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"]["code"] == code and body["verdict"] == "transport_rejected"
    assert "Traceback" not in r.text and "root:" not in r.text
    return body


def test_entities_and_dtds_are_refused_as_brs14(client, keys):
    for doc in (XXE, LAUGHS):
        body = _refused(client.post("/v1/messages", content=doc, headers=auth(keys.gemeente)), "BRS14")
        assert "lol" * 10 not in str(body)


def test_deep_nesting_is_refused_as_brs14(client, keys):
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    body = _refused(client.post("/v1/messages", content=deep, headers=auth(keys.gemeente)), "BRS14")
    assert "deep" in body["error"]["message"].lower() or "depth" in body["error"]["message"].lower()


def test_a_30_mb_body_is_refused_with_413(app, client, keys):
    r = client.post("/v1/messages", content=b"<a>" + b" " * (30 * 1024 * 1024) + b"</a>", headers=auth(keys.gemeente))
    assert r.status_code == 413 and "Traceback" not in r.text
    assert app.state.components.store.count_messages() == 0


def test_utf16_is_refused_naming_op192(client, keys):
    xml = samples.allocation("ijw").replace(b"UTF-8", b"UTF-16").decode().encode("utf-16")
    r = client.post("/v1/messages", content=xml, headers=auth(keys.gemeente))
    assert r.status_code == 422 and "UTF-16" in r.text and "OP192" in r.text


def test_sending_in_another_partys_name_and_no_key_are_refused(client, keys):
    spoofed = samples.start("ijw", aanbieder="87654321")
    r = client.post("/v1/messages", content=spoofed, headers=auth(keys.aanbieder))
    assert r.status_code == 403 and r.json()["error"]["code"] == "spoofed_sender"
    r = client.post("/v1/messages", content=samples.start("ijw"), headers={"Content-Type": "application/xml"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


def test_console_cookie_is_httponly_and_samesite_strict(app, client):
    from gateway.console import users

    users.add_user(app.state.components.store, "ops", "a long enough password", "viewer")
    r = client.post("/console/api/login", json={"username": "ops", "password": "a long enough password"})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie


def test_no_cors(client, keys):
    origin = {"Origin": "https://evil.example"}
    pre = client.options("/v1/messages", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers
    r = client.get("/v1/streams/" + AANBIEDER, headers={**origin, "X-API-Key": keys.aanbieder})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
