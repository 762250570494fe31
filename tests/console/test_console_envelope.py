"""The console's message detail shows the StUF-GGk envelope next to the message (issue 17, item 5):
its stuurgegevens and the Du01/Fo01 the gateway answered with, never the envelope's bytes (their
base64 payload would carry a BSN past the masking)."""

from __future__ import annotations

import base64
import json

from console_helpers import login
from lxml import etree

from gateway import ggk, samples
from gateway.ggk.model import NS_STUF
from gateway.pipeline import Pipeline, build_components
from gateway.samples import BSNS
from gateway.settings import Settings


def _pipeline(store, tmp_path) -> Pipeline:  # noqa: ANN001
    settings = Settings(data_dir=tmp_path, hmac_secret="console-envelope")
    return Pipeline(build_components(settings, store=store))


def _ref(xml: bytes) -> str:
    return etree.fromstring(xml).findtext(f".//{{{NS_STUF}}}referentienummer")


async def test_detail_shows_the_envelope_and_its_du01(app, seeded_store, tmp_path):
    store, _ = seeded_store
    di01 = ggk.wrap(samples.allocation("ijw"))
    out = _pipeline(store, tmp_path).process(di01, None)
    assert out.verdict == "accepted", out
    c = await login(app, "vera")
    d = (await c.get(f"/console/api/messages/{out.message_id}")).json()
    env = d["envelope"]
    assert env["berichtcode"] == "Di01" and env["referentienummer"] == _ref(di01)
    assert (env["zender"], env["ontvanger"], env["functie"]) == (samples.GEMEENTE, samples.AANBIEDER, "JW301")
    assert (env["functie_versie"], env["functie_subversie"]) == ("0003", "0002")
    assert env["answer_code"] == "Du01" and env["answer_referentienummer"] == out.envelope["answer_referentienummer"]
    assert env["fout"] is None and env["cross_refnummer"] is None
    everything = json.dumps(d)
    assert "envelope_sha256" in env and "xmlBestand" not in everything
    assert base64.b64encode(store.get_message(out.message_id).raw).decode()[:40] not in everything
    assert not any(b in everything for b in BSNS), "a BSN in clear in the detail"


async def test_detail_shows_the_fo01_of_a_payload_failing_its_xsd(app, seeded_store, tmp_path):
    store, _ = seeded_store
    bad = samples.start("ijw").replace(b"<Begindatum>", b"<Begindatum>x", 1)
    out = _pipeline(store, tmp_path).process(ggk.wrap(bad), None)
    assert out.verdict == "transport_rejected"
    c = await login(app, "vera")
    env = (await c.get(f"/console/api/messages/{out.message_id}")).json()["envelope"]
    assert env["answer_code"] == "Fo01" and env["fout"]["code"] == "StUF055"
    assert "Begindatum" in env["fout"]["omschrijving"] and env["fout"]["details"].startswith("JW305-")


async def test_a_bare_message_has_no_envelope(app, seeded):
    c = await login(app, "vera")
    mid = (await c.get("/console/api/messages")).json()["items"][0]["id"]
    assert (await c.get(f"/console/api/messages/{mid}")).json()["envelope"] is None
