"""A declaration's prefetch (StateView.prefetch_declaration, plain tuples read in a few queries)
answers exactly as the per-prestatie reads do (pydantic records, one query each): every field the
rules read, the derived ones (deleted, actual_on) and the order of lists. A wrong column, a wrong
current version of a toewijzing or a wrong order would change verdicts of large declarations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway import samples
from gateway.samples import BSNS, Allocated, Prestatie
from gateway.store.state import StateView
from tests.store.test_rules_allocation_regie import ok
from validators import state as proto

A, B = BSNS[0], BSNS[1]
ALLOCATION_FIELDS = [n for n, v in vars(proto.AllocationRecord).items() if isinstance(v, property)]
PRESTATIE_FIELDS = [n for n, v in vars(proto.PrestatieRecord).items() if isinstance(v, property)]


def _fields(record, names):  # noqa: ANN001, ANN202
    return None if record is None else tuple((n, type(getattr(record, n)), getattr(record, n)) for n in names)


def _store_some_history(store):  # noqa: ANN001, ANN202
    base = Allocated()
    ok(store, samples.allocation(products=(Allocated(toewijzingnummer=101, budget=None),
                                           Allocated(toewijzingnummer=102, einddatum=None))))
    # a later version of 101 (the current one), and 103 given to another client, then deleted
    ok(store, samples.allocation(products=(Allocated(toewijzingnummer=101, volume=12,
                                                     toewijzingsdatum=base.toewijzingsdatum + timedelta(days=1)),)))
    ok(store, samples.allocation(bsn=B, products=(Allocated(toewijzingnummer=103),)))
    ok(store, samples.allocation(bsn=B, products=(Allocated(toewijzingnummer=103, reden_wijziging="13",
                                                            toewijzingsdatum=base.toewijzingsdatum + timedelta(days=2)),)))
    ok(store, samples.declaration(clients={A: [Prestatie(referentienummer="P-1", toewijzingnummer=101),
                                               Prestatie(referentienummer="P-2", toewijzingnummer=102, volume=3)]}))
    ok(store, samples.declaration(clients={A: [
        Prestatie(referentienummer="C-1", vorig_referentienummer="P-1", toewijzingnummer=101, debet_credit="C"),
        Prestatie(referentienummer="P-3", toewijzingnummer=101, volume=5)]}))


def test_prefetched_answers_equal_the_single_reads(store):
    _store_some_history(store)
    law, gemeente, aanbieder = "jeugd", samples.GEMEENTE, samples.AANBIEDER
    numbers = {"101", "102", "103", "999"}
    refs = {"P-1", "P-2", "P-3", "C-1", "X-9"}
    with store.engine.connect() as conn:
        pre, single = StateView(conn, store.secret), StateView(conn, store.secret)
        pre.prefetch_declaration(law, gemeente, aanbieder, numbers, refs)
        found = 0
        for n in sorted(numbers):
            a, b = pre.allocation(law, gemeente, n), single.allocation(law, gemeente, n)
            assert _fields(a, ALLOCATION_FIELDS) == _fields(b, ALLOCATION_FIELDS), n
            if b is not None:
                found += 1
                assert (a.deleted, a.actual_on(b.ingangsdatum)) == (b.deleted, b.actual_on(b.ingangsdatum))
            assert pre.declared_volumes(law, gemeente, aanbieder, n) == single.declared_volumes(
                law, gemeente, aanbieder, n)
            assert [_fields(p, PRESTATIE_FIELDS) for p in pre._debits_on(law, aanbieder, n)] == [
                _fields(p, PRESTATIE_FIELDS) for p in single._debits_on(law, aanbieder, n)]
        assert found == 3
        assert pre.allocation(law, gemeente, "101").volume == 12  # the later version
        assert pre.allocation(law, gemeente, "103").deleted
        for r in sorted(refs):
            assert _fields(pre.prestatie(law, aanbieder, r), PRESTATIE_FIELDS) == _fields(
                single.prestatie(law, aanbieder, r), PRESTATIE_FIELDS), r
            assert [_fields(p, PRESTATIE_FIELDS) for p in pre.credits_of(law, aanbieder, r)] == [
                _fields(p, PRESTATIE_FIELDS) for p in single.credits_of(law, aanbieder, r)], r
        assert len(pre.credits_of(law, aanbieder, "P-1")) == 1
        assert [p.referentienummer for p in pre._debits_on(law, aanbieder, "101")] == ["P-1", "P-3"]
        # numbers with one version each (no ordering of versions needed) read the same
        only = StateView(conn, store.secret)
        only.prefetch_declaration(law, gemeente, aanbieder, {"102"}, set())
        assert _fields(only.allocation(law, gemeente, "102"), ALLOCATION_FIELDS) == _fields(
            single.allocation(law, gemeente, "102"), ALLOCATION_FIELDS)


def test_prefetched_answers_equal_the_single_reads_over_several_chunks(store, monkeypatch):
    """Chunks of numbers and of references are read in pairs (one round trip on PostgreSQL):
    more chunks of one than of the other still answer as the single reads."""
    from gateway.store import state

    chunks = state._chunks
    monkeypatch.setattr(state, "_chunks", lambda values: chunks(values, 2))
    _store_some_history(store)
    law, gemeente, aanbieder = "jeugd", samples.GEMEENTE, samples.AANBIEDER
    numbers, refs = {"101", "102", "103"}, {"P-1", "P-2", "P-3", "C-1", "X-9"}
    with store.engine.connect() as conn:
        pre, single = StateView(conn, store.secret), StateView(conn, store.secret)
        pre.prefetch_declaration(law, gemeente, aanbieder, numbers, refs)
        for n in sorted(numbers):
            assert _fields(pre.allocation(law, gemeente, n), ALLOCATION_FIELDS) == _fields(
                single.allocation(law, gemeente, n), ALLOCATION_FIELDS), n
            assert pre.declared_volumes(law, gemeente, aanbieder, n) == single.declared_volumes(
                law, gemeente, aanbieder, n)
            assert [_fields(p, PRESTATIE_FIELDS) for p in pre._debits_on(law, aanbieder, n)] == [
                _fields(p, PRESTATIE_FIELDS) for p in single._debits_on(law, aanbieder, n)]
        for r in sorted(refs):
            assert _fields(pre.prestatie(law, aanbieder, r), PRESTATIE_FIELDS) == _fields(
                single.prestatie(law, aanbieder, r), PRESTATIE_FIELDS), r
            assert [_fields(p, PRESTATIE_FIELDS) for p in pre.credits_of(law, aanbieder, r)] == [
                _fields(p, PRESTATIE_FIELDS) for p in single.credits_of(law, aanbieder, r)], r
        assert pre.allocation(law, gemeente, "101").volume == 12
        assert len(pre.credits_of(law, aanbieder, "P-1")) == 1


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_declarations_prefetch_is_one_round_trip_on_postgres(store, monkeypatch):
    """A 323's five prefetch reads go in one pipeline: one round trip, in which the group it is
    judged in waits, instead of five."""
    import psycopg

    trips = []
    execute, sync = psycopg.RawCursor.execute, psycopg.Pipeline._enqueue_sync

    def counted_execute(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if self.connection._pipeline is None:  # outside a pipeline a statement waits for its answer
            trips.append("statement")
        return execute(self, *args, **kwargs)

    def counted_sync(self):  # noqa: ANN001, ANN202 (each Sync a round trip: its answer is waited for)
        trips.append("sync")
        return sync(self)

    _store_some_history(store)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")  # the transaction begun (in a group it is: its BEGIN is not counted here)
        view = StateView(conn, store.secret)
        monkeypatch.setattr(psycopg.RawCursor, "execute", counted_execute)
        monkeypatch.setattr(psycopg.Pipeline, "_enqueue_sync", counted_sync)
        view.prefetch_declaration("jeugd", samples.GEMEENTE, samples.AANBIEDER, {"101", "102"}, {"P-1", "P-2"})
        monkeypatch.undo()
        assert trips == ["sync"]
        assert view.allocation("jeugd", samples.GEMEENTE, "101").volume == 12
