"""The catch-up scan over a real store: start and stop messages through the ingest transaction,
then the obligations table, on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree
from sqlalchemy import select

from gateway import clock, samples
from gateway.catalog import by_namespace
from gateway.deadlines import scan
from gateway.samples import Allocated, Started, Stopped
from gateway.store import open_store
from gateway.store import tables as t
from gateway.store.ingest import ingest

SECRET = "deadline-tests-secret"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    s = open_store(url, client_key_secret=SECRET)
    yield s
    s.close()


def send(store, raw: bytes, at: str) -> str:
    with clock.fixed(at):
        root = etree.fromstring(raw)
        result = ingest(store, raw, root, by_namespace(etree.QName(root).namespace), today=clock.today())
        assert result.verdict == "accepted", [i.rule for i in result.issues]
        scan.refresh(store)  # as the periodic scan would, right after
    return result.message_id


def rows(store) -> dict[tuple[str, str], dict]:
    with store.engine.connect() as conn:
        return {(r["obligation"], r["message_id"]): dict(r) for r in conn.execute(select(t.obligations)).mappings()}


def test_start_and_stops_are_judged_and_kept(store):
    begin = date(2026, 3, 2)
    day = date.fromisoformat
    send(store, samples.allocation("ijw", dagtekening=day("2026-02-25"),
                                   products=[Allocated(ingangsdatum=begin, einddatum=date(2026, 12, 31))]),
         "2026-02-25T09:00:00+01:00")
    start = send(store, samples.start("ijw", dagtekening=day("2026-03-06"),
                                      products=[Started(begindatum=begin, toewijzing_ingangsdatum=begin)]),
                 "2026-03-06T09:00:00+01:00")
    stopped = {"begindatum": begin, "toewijzing_ingangsdatum": begin, "einddatum": date(2026, 4, 24)}
    temporary = send(store, samples.stop("ijw", dagtekening=day("2026-05-05"),
                                         products=[Stopped(reden_beeindiging="20", **stopped)]),
                     "2026-05-05T09:00:00+02:00")
    definitive = send(store, samples.stop("ijw", dagtekening=day("2026-06-15"),
                                          products=[Stopped(reden_beeindiging="02", **stopped)]),
                      "2026-06-15T09:00:00+02:00")
    kept = rows(store)
    assert kept[("startbericht", start)]["state"] == "met"
    # Friday 24 April + 5 working days (Koningsdag not counted) = 4 May; sent on the 5th.
    assert (kept[("stopbericht", temporary)]["due"], kept[("stopbericht", temporary)]["state"]) == (date(2026, 5, 4), "late")
    assert kept[("stopbericht", definitive)]["state"] == "not_assessed"
    # The scan window is 90 days back and to the oldest unresolved obligation: the start of
    # March is out of it now, and stays as it was kept.
    with clock.fixed("2026-09-01"):
        scan.refresh(store)
    assert rows(store)[("startbericht", start)]["state"] == "met"
    # A second scan on the same day changes nothing.
    with clock.fixed("2026-06-16"):
        scan.refresh(store)
        again = scan.refresh(store)
    assert (again.inserted, again.updated, again.newly_overdue) == (0, 0, [])
