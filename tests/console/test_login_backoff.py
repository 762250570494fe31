"""Console logins back off per user name and per client address, and every wrong password is audited."""

from __future__ import annotations

import httpx
from console_helpers import PASSWORD

from gateway import clock

LOGIN = "/console/api/login"


def _client(app, address: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_25_wrong_passwords_back_off_and_are_audited(app, seeded_store):
    store, _ = seeded_store
    statuses, waits = [], []
    async with _client(app) as c:
        for _ in range(25):
            r = await c.post(LOGIN, json={"username": "ada", "password": "wrong"})
            statuses.append(r.status_code)
            waits.append(int(r.headers.get("Retry-After", 0)))
        # the right password does not get through while the back-off lasts: nothing is checked
        blocked = await c.post(LOGIN, json={"username": "ada", "password": PASSWORD})
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert "Traceback" not in blocked.text
    failed = store.list_audit(action="console_login_failed", limit=100)
    assert len(failed) == 5  # throttled attempts are refused before any check
    assert {a.target for a in failed} == {"ada"}
    assert failed[0].details["address"] == "10.0.0.1" and failed[0].details["backoff_seconds"] >= 1


async def test_the_back_off_doubles_and_ends(app):
    async with _client(app) as c:
        for _ in range(5):
            await c.post(LOGIN, json={"username": "otto", "password": "wrong"})
        first = int((await c.post(LOGIN, json={"username": "otto", "password": PASSWORD})).headers["Retry-After"])
        with clock.fixed(clock.now() + _seconds(first + 1)):
            r = await c.post(LOGIN, json={"username": "otto", "password": "wrong"})
            assert r.status_code == 401  # checked again, and wrong again: the wait doubles
            second = int((await c.post(LOGIN, json={"username": "otto", "password": PASSWORD})).headers["Retry-After"])
            assert second >= 2 * first - 1
        with clock.fixed(clock.now() + _seconds(first + second + 2)):
            ok = await c.post(LOGIN, json={"username": "otto", "password": PASSWORD})
            assert ok.status_code == 200
            # a successful login clears the user's count
            assert (await c.post(LOGIN, json={"username": "otto", "password": "wrong"})).status_code == 401


async def test_one_address_trying_many_names_backs_off(app, seeded_store):
    store, _ = seeded_store
    async with _client(app, "10.0.0.9") as c:
        codes = [(await c.post(LOGIN, json={"username": f"guess{i}", "password": "x"})).status_code for i in range(21)]
        assert codes[:20] == [401] * 20 and codes[20] == 429
        # an unknown name is audited without the name (it may be a mistyped password)
        assert {a.target for a in store.list_audit(action="console_login_failed", limit=100)} == {None}
    async with _client(app, "10.0.0.10") as other:  # another address is not held back
        assert (await other.post(LOGIN, json={"username": "vera", "password": PASSWORD})).status_code == 200


def _seconds(n: int):
    from datetime import timedelta

    return timedelta(seconds=n)
