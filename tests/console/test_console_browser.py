"""The console in a real browser: Debian's headless Chromium driven by Playwright.

Log in, filter the log, open a rejected declaration, see the highlighted element and its rule,
replay it, find the audit entry; a privacy officer shows a BSN (audited). Screenshots of the main
pages are always taken (a page that cannot render fails the test) and are written to
docs/screenshots/ only with CONSOLE_SCREENSHOTS=1, so a test run leaves the tree clean.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from console_helpers import PASSWORD, make_app

from gateway.console.actions import find_replayer
from gateway.samples import BSNS
from gateway.store import MessageFilter
from testsupport import services

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        if services.REQUIRE_SERVICES:
            pytest.fail(f"required browser missing: {CHROMIUM}")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def server(seeded_store):
    """The console app served by uvicorn on a free loopback port, in a thread."""
    import uvicorn

    store, seeded = seeded_store
    # the real replay: gateway.pipeline's when it has one, else `gateway replay`'s replay_message
    assert find_replayer(None, None, store) is not None
    app = make_app(store, replayer=None)
    port = services.free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "console server did not start"
    try:
        yield f"http://127.0.0.1:{port}", store, seeded
    finally:
        srv.should_exit = True
        thread.join(5)


def expect(locator):
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def shot(page, name: str) -> None:
    png = page.screenshot(full_page=True)
    assert png.startswith(b"\x89PNG")
    if os.environ.get("CONSOLE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / f"{name}.png").write_bytes(png)


def log_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/console/")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#log-rows tr")


def test_operator_filters_opens_rejected_declaration_replays_and_sees_audit(server, browser):
    base, store, seeded = server
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    log_in(page, base, "otto")
    assert page.locator("#who").inner_text().startswith("otto (operator)")
    stored = len(seeded.all_ids) + 1  # + the transport rejection
    assert stored > 50, "the seed should need a second page"
    expect(page.locator("#log-rows tr")).to_have_count(50)
    shot(page, "log")
    page.click("#next-page")  # keyset pagination: the rest, then the end
    expect(page.locator("#log-rows tr")).to_have_count(stored)
    expect(page.locator("#next-page")).to_be_hidden()

    # filter: rejected declarations
    page.fill("#f-code", "JW323")
    page.select_option("#f-verdict", "rejected")
    page.click("#apply")
    rows = page.locator("#log-rows tr")
    expect(rows).to_have_count(len(seeded.rejected_declarations))
    for i in range(rows.count()):
        text = rows.nth(i).inner_text()
        assert "JW323" in text and "rejected" in text and "TR341" in text
    assert "code=JW323" in page.url and "verdict=rejected" in page.url
    shot(page, "log-filtered")

    # open the newest rejected declaration
    mid = rows.first.get_attribute("data-id")
    assert mid in seeded.rejected_declarations
    rows.first.click()
    page.wait_for_selector("#issues li")
    highlighted = page.locator("pre#xml .ln.hl")
    hl_text = [highlighted.nth(i).inner_text().strip() for i in range(highlighted.count())]
    assert "<Eenheid>14</Eenheid>" in hl_text
    assert any(t.startswith("<ToewijzingNummer>") for t in hl_text)
    assert "<Eenheid>04</Eenheid>" not in hl_text
    issues = page.locator("#issues").inner_text()
    assert "TR341" in issues and "CR001" in issues and "Prestatie[2]/Eenheid" in issues
    xml = page.locator("pre#xml").inner_text()
    assert "<Bsn>******" in xml
    assert not any(bsn in page.content() for bsn in BSNS)
    assert page.locator("#reveal").count() == 0  # an operator may not show BSNs
    shot(page, "message-rejected-declaration")

    # replay it
    page.fill("#replay-reason", "contract bundle corrected")
    page.click("#replay")
    page.wait_for_selector("#message-audit tbody tr")
    audit_row = page.locator("#message-audit tbody tr").first.inner_text()
    assert "otto" in audit_row and "replay" in audit_row and "contract bundle corrected" in audit_row
    assert "Replayed" in page.locator("#toast").inner_text()
    [entry] = [e for e in store.list_audit(action="replay") if e.target == mid]
    assert entry.actor == "otto" and entry.reason == "contract bundle corrected"
    replays = store.replays_of(mid)
    assert len(replays) == 1
    page.wait_for_selector("#replays")
    assert replays[0].id in page.locator("#replays").inner_text() or page.locator("#replays tr").count() == 2

    # the audit log page shows it too
    page.click("a[data-nav=audit]")
    page.wait_for_selector("#audit tbody tr")
    assert "contract bundle corrected" in page.locator("#audit").inner_text()
    shot(page, "audit")

    page.click("a[data-nav=dashboard]")
    page.wait_for_selector("#chart-type rect")
    page.wait_for_selector("#chart-rules rect")
    assert page.locator("#silent").inner_text().count("45678901") == 1
    shot(page, "dashboard")
    assert errors == [], errors


def test_privacy_officer_reveals_bsn_with_reason(server, browser):
    base, store, seeded = server
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    log_in(page, base, "pim")
    mid = seeded.rejected_declarations[0]
    page.goto(f"{base}/console/#/message/{mid}")
    page.wait_for_selector("#reveal")
    page.click("#reveal")  # no reason: refused
    page.wait_for_selector("#toast div.error")
    assert store.list_audit(action="reveal_bsn") == []
    page.fill("#reveal-reason", "data subject access request")
    page.click("#reveal")
    page.wait_for_selector("#revealed")
    bsn = store.get_message(mid).raw.decode().split("<Bsn>")[1].split("<")[0]
    assert f"<Bsn>{bsn}</Bsn>" in page.locator("pre#xml").inner_text()
    [entry] = store.list_audit(action="reveal_bsn")
    assert (entry.actor, entry.target, entry.reason) == ("pim", mid, "data subject access request")
    # a fresh load masks again
    page.reload()
    page.wait_for_selector("#issues li")
    assert bsn not in page.locator("pre#xml").inner_text()

    # from the chain to the allocation, and from there to the client's messages in the log
    page.locator("#chain tbody tr").first.click()
    page.wait_for_selector("#client-log")
    assert "JW301" in page.locator("h1").inner_text()
    page.click("#client-log")
    rows = page.locator("#log-rows tr")
    expect(rows.first).to_be_visible()
    key = store.client_key(bsn)
    assert "client_key=" + key in page.url
    own = len(store.list_messages(MessageFilter(client_key=key), limit=500).items)
    # plus what the state tables add: the accepted and the partly rejected declaration and the
    # gemeente's 325 (the rejected declaration left no state)
    expect(rows).to_have_count(own + 3)
    text = page.locator("#log-rows").inner_text()
    assert text.count("JW323") == 2 and "JW325" in text and "partly rejected" in text


def test_partly_rejected_declaration_in_log_and_detail_and_number_search(server, browser):
    base, store, seeded = server
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "vera")
    page.select_option("#f-verdict", "partly_rejected")
    page.click("#apply")
    rows = page.locator("#log-rows tr")
    expect(rows).to_have_count(len(seeded.partly_rejected))
    assert "accepted" in rows.first.inner_text() and "partly rejected" in rows.first.inner_text()
    rows.first.click()
    page.wait_for_selector("#prestaties")
    assert page.locator("#prestaties").inner_text() == "2 stored, 1 rejected"
    assert "partly rejected" in page.locator("h1").inner_text()
    highlighted = [t.strip() for t in page.locator("pre#xml .ln.hl").all_inner_texts()]
    assert highlighted == ["<Eenheid>14</Eenheid>"]
    shot(page, "message-partly-rejected")

    # a ToewijzingNummer typed in the search box finds the messages that carry it
    page.goto(f"{base}/console/#/log")
    page.wait_for_selector("#f-q")
    page.fill("#f-q", "2000")
    page.click("#apply")
    rows = page.locator("#log-rows tr")
    expect(rows).to_have_count(6)  # 301, 305, 307, two accepted 323s, the gemeente's 325
    codes = sorted(rows.nth(i).locator("td").nth(1).inner_text() for i in range(6))
    assert codes == ["JW301", "JW305", "JW307", "JW323", "JW323", "JW325"]
    shot(page, "log-number-search")
    assert errors == [], errors


def test_envelope_card_next_to_an_enveloped_message(server, browser, tmp_path):
    """A message that came in a StUF-GGk Di01 shows its envelope and the Du01 answer in a card."""
    from gateway import ggk, samples
    from gateway.pipeline import Pipeline, build_components
    from gateway.settings import Settings

    base, store, _ = server
    pipeline = Pipeline(build_components(Settings(data_dir=tmp_path, hmac_secret="browser-ggk"), store=store))
    out = pipeline.process(ggk.wrap(samples.allocation("ijw")), None)
    assert out.envelope and out.envelope["answer"] == "Du01"
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "vera")
    page.goto(f"{base}/console/#/message/{out.message_id}")
    page.wait_for_selector("#envelope")
    card = page.locator("#envelope").inner_text()
    assert "StUF-GGk envelope" in card and out.envelope["referentienummer"] in card
    assert "Di01" in card and f"Du01 {out.envelope['answer_referentienummer']}" in card
    assert "0003/0002" in card and "JW301" in card
    shot(page, "message-envelope")
    # a bare message has no such card
    page.goto(f"{base}/console/#/log")
    page.wait_for_selector("#log-rows tr")
    page.locator(f"#log-rows tr:not([data-id='{out.message_id}'])").first.click()
    page.wait_for_selector("#issues")
    assert page.locator("#envelope").count() == 0
    assert errors == [], errors


def test_answers_shown_on_the_message_page(server, browser, tmp_path):
    """The Du01 the gateway answered a Di01 with, and the chain's Fo01 about it, on the message page."""
    from gateway import ggk, samples
    from gateway.ggk import answers
    from gateway.pipeline import Pipeline, build_components
    from gateway.settings import Settings
    from testsupport.soap_peer import chain_fo01

    base, store, _ = server
    pipeline = Pipeline(build_components(Settings(data_dir=tmp_path, hmac_secret="browser-ggk"), store=store))
    out = pipeline.process(ggk.wrap(samples.allocation("ijw")), None)
    du01_ref = out.envelope["answer_referentienummer"]
    fo01 = answers.receive_fo01(store, chain_fo01(du01_ref, samples.AANBIEDER, code="IB102"), None, "http")
    assert fo01.message_id == out.message_id
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "vera")
    page.goto(f"{base}/console/#/message/{out.message_id}")
    page.wait_for_selector("#answers")
    card = page.locator("#answers").inner_text()
    assert "Envelopes out and answers" in card and du01_ref in card
    assert "Fo01 IB102" in card and "from IB" in card
    shot(page, "message-answers")
    # the chain errors page: this one linked, and one naming nothing of ours shown as unlinked
    import uuid

    answers.receive_fo01(store, chain_fo01(str(uuid.uuid4()), samples.GEMEENTE), None, "http")
    page.click("#nav a[data-nav='chain-errors']")
    page.wait_for_selector("#fo01-rows tr")
    rows = page.locator("#fo01-rows tbody tr")
    assert rows.count() == 2
    page.check("#fo01-unlinked")
    expect(page.locator("#fo01-rows tbody tr")).to_have_count(1)
    assert "unlinked" in page.locator("#fo01-rows tbody tr").inner_text()
    shot(page, "chain-errors")
    assert errors == [], errors


def test_a_refused_soap_delivery_is_shown_and_sent_again(server, browser):
    """A Fo03 parked one SOAP row: the log tags the message 'delivery refused' and its page offers
    'Send the refused delivery again' instead of 'Move to dead letters'."""
    from gateway.store import ggk as gstore

    base, store, seeded = server
    mid = next(m for m in seeded.accepted if any(o.destination != "stream" and o.published_at is None
                                                 for o in store.outbox_for(m)))
    row = next(o for o in store.outbox_for(mid) if o.destination != "stream" and o.published_at is None)
    gstore.refused(store, row.id, "Fo03 IB210: Ontvangende organisatie onbekend")
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base, "ada")
    page.goto(f"{base}/console/#/log?q={mid}")
    expect(page.locator("#log-rows tr")).to_have_count(1)
    assert "delivery refused" in page.locator("#log-rows").inner_text()
    page.goto(f"{base}/console/#/message/{mid}")
    button = page.locator("#dead-letter")
    expect(button).to_have_text("Send the refused delivery again")
    page.fill("#dead-reason", "adapter certificate renewed")
    button.click()
    page.wait_for_selector("#toast div:not(.error)")
    assert store.get_message(mid).routing_state == "pending" and not store.get_message(mid).dead_letter
    assert row.id in {x.id for x in store.claim_outbox(100)}
    assert errors == []
