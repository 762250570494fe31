"""`gateway deadlines obligations | scan | list` on a SQLite store."""

from __future__ import annotations

import json
from datetime import timedelta

from lxml import etree

from gateway import clock, samples
from gateway.catalog import by_namespace
from gateway.cli import main
from gateway.settings import load_settings
from gateway.store import open_store
from gateway.store.ingest import ingest


def test_scan_then_list_the_overdue(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    store = open_store(url, client_key_secret=load_settings(None, store_url=url, data_dir=str(tmp_path)).secret())
    old = clock.today() - timedelta(days=30)
    raw = samples.request("ijw", dagtekening=old)
    with clock.fixed(old.isoformat() + "T10:00:00+01:00"):
        root = etree.fromstring(raw)
        mid = ingest(store, raw, root, by_namespace(etree.QName(root).namespace), today=clock.today()).message_id
    store.close()
    opts = ["--store-url", url, "--data-dir", str(tmp_path)]
    assert main(["deadlines", "scan", *opts]) == 0
    assert "2 newly overdue" in capsys.readouterr().out
    assert main(["deadlines", "list", *opts, "--party", samples.GEMEENTE, "--obligation", "antwoord-verzoek-om-toewijzing", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["message_id"], row["state"], row["op"]) == (mid, "overdue", "OP274")
    assert main(["deadlines", "list", *opts, "--party", samples.AANBIEDER]) == 0
    assert capsys.readouterr().out == ""
    assert main(["deadlines", "obligations"]) == 0
    assert "OP272" in capsys.readouterr().out
