"""The registry with a real store (SQLite and PostgreSQL): bundles kept and audited, and the budget
ceiling judged on declared totals the store holds."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree

import gateway.store as store_mod
from gateway import clock, samples
from gateway.catalog import by_code
from gateway.contracts import BundleError, ContractRegistry
from tests.contracts.conftest import GOUDA, GROENE_HART, MH


@pytest.fixture
def store(store_url):
    s = store_mod.open_store(store_url, client_key_secret="contract-tests")
    yield s
    s.close()


def test_accepted_bundle_is_stored_audited_and_reloaded(store):
    reg = ContractRegistry(store=store)
    reg.load_text(MH.read_text(), actor="alice", source="upload")
    stored = store.contract_bundle("midden-holland", "2025.1")
    assert stored is not None and stored.loaded_by == "alice" and stored.effective_from == date(2025, 1, 1)
    audit = store.list_audit(action="contract_bundle.load")
    assert [(a.actor, a.target) for a in audit] == [("alice", "midden-holland@2025.1")]
    assert audit[0].details["sha256"] == reg.versions("midden-holland")[0].sha256
    # A restart reloads what was accepted, without storing or auditing it twice.
    again = ContractRegistry(store=store)
    assert [v.bundle.version for v in again.load_stored()] == ["2025.1"]
    assert again.lookup(GOUDA, date(2025, 3, 1)) is not None
    assert len(store.list_contract_bundles()) == 1 and len(store.list_audit(action="contract_bundle.load")) == 1


def test_changed_text_under_a_stored_version_is_refused(store):
    ContractRegistry(store=store).load_text(MH.read_text(), actor="alice")
    fresh = ContractRegistry(store=store)
    with pytest.raises(BundleError) as exc:
        fresh.load_text(MH.read_text().replace("RWO sociaal domein", "RWO"), actor="bob", source="upload")
    assert exc.value.problems[0].path == "version" and "the store" in exc.value.problems[0].message
    assert [a.actor for a in store.list_audit(action="contract_bundle.load")] == ["alice"]


def _ingest(store, registry, code, xml):
    from gateway.store.ingest import ingest

    root = etree.fromstring(xml)
    return ingest(store, xml, root, by_code(code), today=clock.today(), contracts=registry)


@pytest.mark.parametrize("std", ["ijw", "iwmo"])
def test_cr004_budget_ceiling_on_stored_totals(store, std):
    """Ceiling 1,000 euro (warning 700): 600 is accepted, the next 600 crosses the ceiling.

    Midden-Holland pays running care (flag); a region that refuses above the ceiling rejects it."""
    year = samples.previous_month()[0].year
    ceiling = f'{{provider: "12345678", year: {year}, ceiling_euro: 1000}}'
    mh_ceiling = (
        '{provider: "12345678", year: 2026, ceiling_euro: 400000, warning_fraction: 0.70, '
        "lots: [ambulant-jeugd, dagbesteding-jeugd], example: true}"
    )
    assert mh_ceiling in MH.read_text()
    text = MH.read_text().replace(mh_ceiling, ceiling)
    pays = ContractRegistry()
    pays.load_text(text, actor="test")
    refuses = ContractRegistry()
    refuses.load_text(
        text.replace("above_ceiling: refuse_new_allocations", "above_ceiling: refuse").replace(
            "pay_running_care: true", "pay_running_care: false"
        ),
        actor="test",
    )
    code = "JW" if std == "ijw" else "WMO"
    for n, bsn in enumerate(samples.BSNS[:3]):
        alloc = samples.allocation(
            std, gemeente=GOUDA, aanbieder=GROENE_HART, bsn=bsn, products=(samples.Allocated(toewijzingnummer=2001 + n),)
        )
        assert _ingest(store, pays, f"{code}301", alloc).verdict == "accepted"

    def declare(n, registry):
        xml = samples.declaration(
            std,
            gemeente=GOUDA,
            aanbieder=GROENE_HART,
            clients={samples.BSNS[n]: [samples.Prestatie(toewijzingnummer=2001 + n)]},  # 8 h x 75 = 600
        )
        return _ingest(store, registry, f"{code}323", xml)

    first = declare(0, pays)
    assert (first.verdict, [i.rule for i in first.issues]) == ("accepted", [])
    second = declare(1, pays)
    assert second.verdict == "flagged"
    assert [(i.rule, i.action) for i in second.issues] == [("CR004", "flag")]
    third = declare(2, refuses)  # stored total now 1,200 > 1,000
    assert third.verdict == "rejected"
    assert [(i.rule, i.severity, i.retourcode) for i in third.issues] == [("CR004", "error", "0611")]
