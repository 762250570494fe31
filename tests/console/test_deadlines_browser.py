"""The deadlines page in a real browser: an operator filters the overdue obligations by region,
party and obligation, and opens the message that opened one."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from console_helpers import PASSWORD, ROLES, open_test_store
from fastapi import FastAPI
from lxml import etree
from test_console_browser import browser, expect, shot  # noqa: F401 (fixture)

from gateway import clock, console, observability, samples
from gateway.catalog import by_namespace
from gateway.console import users
from gateway.console.settings import ConsoleSettings
from gateway.contracts import default_registry
from gateway.samples import Requested
from gateway.store.ingest import ingest
from testsupport import services

pytestmark = pytest.mark.browser

GOUDA, ROTTERDAM, PROVIDER = "0513", "0599", "12345678"


def _send(store, raw: bytes, day) -> str:
    with clock.fixed(day.isoformat() + "T10:00:00+01:00"):
        root = etree.fromstring(raw)
        result = ingest(store, raw, root, by_namespace(etree.QName(root).namespace), today=clock.today())
    assert result.verdict == "accepted", [i.rule for i in result.issues]
    return result.message_id


@pytest.fixture
def server(tmp_path):
    import uvicorn

    store = open_test_store(f"sqlite:///{tmp_path / 'd.db'}")
    for name, role in ROLES.items():
        users.add_user(store, name, PASSWORD, role)
    old = clock.today() - timedelta(days=30)
    sent = {}
    for gemeente, ref in ((GOUDA, "VOT-GOUDA-1"), (ROTTERDAM, "VOT-ROTTERDAM-1")):
        raw = samples.request("ijw", gemeente=gemeente, dagtekening=old, products=[Requested(referentie_aanbieder=ref)])
        sent[gemeente] = _send(store, raw, old)
    app = FastAPI()
    observability.install(app, metrics_obj=observability.Metrics())
    app.include_router(console.router)
    console.setup(app, store=store, settings=ConsoleSettings(session_secret="test-secret-" + "x" * 20),
                  contracts=default_registry())
    port = services.free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    try:
        yield f"http://127.0.0.1:{port}", sent
    finally:
        srv.should_exit = True
        thread.join(5)
        store.close()


def test_operator_filters_overdue_obligations(server, browser):  # noqa: F811
    base, sent = server
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/console/")
    page.fill("#username", "otto")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#nav a[data-nav=deadlines]")
    page.click("#nav a[data-nav=deadlines]")
    rows = page.locator("#deadline-rows tbody tr")
    # Each 315 left two obligations overdue: the retour (ingest alone sends none) and the answer.
    expect(rows).to_have_count(4)
    shot(page, "deadlines")

    page.select_option("#d-region", "midden-holland")
    page.click("#d-apply")
    expect(rows).to_have_count(2)
    assert "region=midden-holland" in page.url
    for i in range(2):
        assert GOUDA in rows.nth(i).inner_text() and "overdue" in rows.nth(i).inner_text()

    page.select_option("#d-region", "")
    page.select_option("#d-obligation", "antwoord-verzoek-om-toewijzing")
    page.fill("#d-party", ROTTERDAM)
    page.click("#d-apply")
    expect(rows).to_have_count(1)
    assert "OP274" in rows.first.inner_text()

    page.click(f"#deadline-rows a[href='#/message/{sent[ROTTERDAM]}']")
    page.wait_for_selector("#issues, #message-audit")
    assert sent[ROTTERDAM] in page.url
    assert errors == []
