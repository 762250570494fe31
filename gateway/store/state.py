"""StateView: what the cross-message rules may read, inside the message's transaction.

Every method takes the legal domain (`law`: "jeugd" | "wmo") and the parties it concerns; methods
that concern a client take the BSN and look it up by its keyed hash. `exclude_message_id` hides the
state a message itself contributed, so `gateway replay` judges a stored message as on arrival.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import repeat, zip_longest
from typing import Any

from sqlalchemy import ARRAY, and_, any_, bindparam, func, or_, select
from sqlalchemy.engine import Connection

from gateway.store import tables as t
from gateway.store.clientkey import client_key
from gateway.store.prepared import Prepared, pipelined
from gateway.store.records import (
    AllocationRow,
    AllocationState,
    AnswerState,
    DeclarationState,
    PrestatieRow,
    PrestatieState,
    RequestState,
    StartState,
    StopState,
)


# Statements built once per (query, with or without excluded messages): SQLAlchemy reuses their
# compiled form, and values travel as parameters. Building them per call cost more than running them.
_STATEMENTS: dict[tuple[str, bool], Any] = {}


def _eq(table: Any, names: Iterable[str]) -> list[Any]:
    """`column = :column` for each name (the parameter is named after the column)."""
    return [table.c[n] == bindparam(n) for n in names]


class StateView:
    def __init__(self, conn: Connection, secret: bytes, exclude_message_id: str | set[str] | None = None):
        self._conn = conn
        self._secret = secret
        self._exclude = exclude_message_id
        # Answers within one message's judgement: the state does not change while rules run.
        # Cleared whenever the transaction writes state (Transaction.apply_state).
        self._cache: dict[tuple, object] = {}
        self._keys: dict[str, str] = {}
        # A declaration's prefetch: (kind, law, parties) -> (the numbers or references it covers,
        # the answers that are not empty). 100,000 prestaties without a tuple key each.
        self._pre: dict[tuple, tuple[set[str], dict[str, Any]]] = {}

    @property
    def exclude_message_id(self) -> str | set[str] | None:
        return self._exclude

    @exclude_message_id.setter
    def exclude_message_id(self, value: str | set[str] | None) -> None:
        self._exclude = value
        self.invalidate()

    def invalidate(self) -> None:
        self._cache.clear()
        self._pre.clear()

    def release_prefetch(self) -> None:
        """The rules are done: what a declaration's prefetch read (a record per prestatie) goes
        now, not when the group's transaction ends. `cached` answers stay (apply_state reads them)."""
        self._pre.clear()

    def _prefetched(self, scope: tuple, key: str | None, empty: Any) -> tuple[bool, Any]:
        """(True, the answer) when a prefetch covered `key` in `scope`, else (False, None)."""
        pre = self._pre.get(scope)
        if pre is None or key not in pre[0]:
            return False, None
        return True, pre[1].get(key, empty)

    def client_key(self, bsn: str | None) -> str:
        bsn = bsn or ""
        key = self._keys.get(bsn)
        if key is None:
            key = self._keys[bsn] = client_key(self._secret, bsn)
        return key

    def _run(self, name: str, table: Any, build: Callable[[], Any], **params: Any) -> list[dict[str, Any]]:
        """The rows (as dicts) of the statement `build()` (made once per name), leaving out rows of
        the excluded messages (replay) through an expanding parameter. On the message path (no
        exclusion) the statement runs prepared on the DBAPI cursor (gateway.store.prepared)."""
        excluded = self._exclude
        key = (name, bool(excluded))
        stmt = _STATEMENTS.get(key)
        if stmt is None:
            stmt = build()
            if excluded:
                stmt = stmt.where(table.c.message_id.notin_(bindparam("excluded_ids", expanding=True)))
            else:
                stmt = Prepared(stmt)
            _STATEMENTS[key] = stmt
        if excluded:
            params["excluded_ids"] = [excluded] if isinstance(excluded, str) else sorted(excluded)
            return [dict(r) for r in self._conn.execute(stmt, params).mappings()]
        return stmt.rows(self._conn, params)

    def _not_excluded(self, table):  # noqa: ANN001
        excluded = self.exclude_message_id
        if not excluded:
            return True
        if isinstance(excluded, str):
            return table.c.message_id != excluded
        return table.c.message_id.notin_(sorted(excluded))

    # --- identifiers (TR056) ---------------------------------------------------------------

    def identifier_used(self, sender: str, code: str, identificatie: str) -> bool:
        key = ("identifier_used", sender, code, identificatie)  # a group looks them up at once
        if key not in self._cache:
            mi = t.message_identifiers
            self._cache[key] = bool(self._run(
                "identifier_used", mi,
                lambda: select(mi.c.message_id).where(*_eq(mi, ("sender", "code", "identificatie"))),
                sender=sender, code=code, identificatie=identificatie,
            ))
        return self._cache[key]  # type: ignore[return-value]

    def cached(self, key: tuple, default: object = None) -> object:
        """What this view read under `key` (its cache keys), or `default` (gateway.store.apply)."""
        return self._cache.get(key, default)

    def seed(self, known: dict[tuple, object]) -> None:
        """Answers looked up for a whole group at once (gateway.store.Batch), in this view's cache."""
        self._cache.update(known)

    # --- allocations -----------------------------------------------------------------------

    def _current_allocations(self, *where) -> list[AllocationState]:  # noqa: ANN002
        a = t.allocations
        rows = self._conn.execute(
            select(a)
            .where(*where, self._not_excluded(a))
            .order_by(a.c.toewijzingnummer, a.c.toewijzingsdatum, a.c.toewijzingstijd, a.c.id)
        ).mappings()
        latest: dict[tuple, AllocationState] = {}
        for r in rows:  # ordered ascending: the last one per number is the current version
            latest[(r["law"], r["gemeente"], r["toewijzingnummer"])] = AllocationState(
                **{k: r[k] for k in AllocationState.model_fields}
            )
        return list(latest.values())

    def _current_allocations_by(self, name: str, names: tuple[str, ...], **params: Any) -> list[AllocationState]:
        """`_current_allocations` on equality of `names`, with a prepared statement."""
        a = t.allocations
        return _latest(self._run(name, a, lambda: select(a).where(*_eq(a, names)), **params))

    def allocation(self, law: str, gemeente: str, toewijzingnummer: str) -> AllocationState | None:
        """The current version of a ToegewezenProduct, whoever it was given to."""
        hit, found = self._prefetched(("allocation", law, gemeente), toewijzingnummer, None)
        if hit:
            return found
        key = ("allocation", law, gemeente, toewijzingnummer)
        if key not in self._cache:
            found = self._current_allocations_by(
                "allocation", ("law", "gemeente", "toewijzingnummer"),
                law=law, gemeente=gemeente, toewijzingnummer=toewijzingnummer,
            )
            self._cache[key] = found[0] if found else None
        return self._cache[key]  # type: ignore[return-value]

    def allocation_owner(self, law: str, gemeente: str, toewijzingnummer: str) -> tuple[str, str] | None:
        """(aanbieder, client_key) the number was first issued to (TR332)."""
        key = ("allocation_owner", law, gemeente, toewijzingnummer)
        if key not in self._cache:
            n = t.allocation_numbers
            row = self._run(
                "allocation_owner", n,
                lambda: select(n.c.aanbieder, n.c.client_key).where(*_eq(n, ("law", "gemeente", "toewijzingnummer"))),
                law=law, gemeente=gemeente, toewijzingnummer=toewijzingnummer,
            )
            self._cache[key] = (row[0]["aanbieder"], row[0]["client_key"]) if row else None
        return self._cache[key]  # type: ignore[return-value]

    def client_allocations(self, law: str, gemeente: str, aanbieder: str, bsn: str) -> list[AllocationState]:
        ck = self.client_key(bsn)
        key = ("client_allocations", law, gemeente, aanbieder, ck)
        if key not in self._cache:
            self._cache[key] = self._current_allocations_by(
                "client_allocations", ("law", "gemeente", "aanbieder", "client_key"),
                law=law, gemeente=gemeente, aanbieder=aanbieder, client_key=ck,
            )
        return list(self._cache[key])  # type: ignore[call-overload]

    def allocation_with_referentie(self, law: str, aanbieder: str, referentie: str) -> bool:
        """Was a 301 with this ReferentieAanbieder sent before (TR359, TR379)?"""
        seeded = self._cache.get(("allocation_with_referentie", law, aanbieder, referentie), _UNSEEDED)
        if seeded is not _UNSEEDED:  # read with the rest of its group (group_reads)
            return seeded  # type: ignore[return-value]
        a = t.allocations
        row = self._run(
            "allocation_with_referentie", a,
            lambda: select(a.c.id).where(*_eq(a, ("law", "aanbieder", "referentie_aanbieder"))).limit(1),
            law=law, aanbieder=aanbieder, referentie_aanbieder=referentie,
        )
        return bool(row)

    # --- starts and stops ------------------------------------------------------------------

    def _regie_where(self, table, law, gemeente, aanbieder, bsn, toewijzingnummer):  # noqa: ANN001
        where = [
            table.c.law == law,
            table.c.gemeente == gemeente,
            table.c.aanbieder == aanbieder,
            table.c.client_key == self.client_key(bsn),
            self._not_excluded(table),
        ]
        if toewijzingnummer is not None:
            where.append(table.c.toewijzingnummer == toewijzingnummer)
        return where

    def starts(
        self, law: str, gemeente: str, aanbieder: str, bsn: str, toewijzingnummer: str | None = None
    ) -> list[StartState]:
        """Active (not deleted) starts of the client, optionally of one allocation."""
        return self._active("starts", t.starts, StartState, law, gemeente, aanbieder, bsn, toewijzingnummer)

    def stops(
        self, law: str, gemeente: str, aanbieder: str, bsn: str, toewijzingnummer: str | None = None
    ) -> list[StopState]:
        """Active (not deleted) stops of the client, optionally of one allocation."""
        return self._active("stops", t.stops, StopState, law, gemeente, aanbieder, bsn, toewijzingnummer)

    def _active(self, kind: str, s: Any, record: Any, law: str, gemeente: str, aanbieder: str, bsn: str,
                toewijzingnummer: str | None) -> list[Any]:
        """The active rows of a start or stop table for one client (and allocation), as records.
        Read once per client and message (the start/stop rules ask up to three times, per
        allocation too); a client has a handful of them."""
        ck = self.client_key(bsn)
        key = (kind, law, gemeente, aanbieder, ck)
        found = self._cache.get(key)
        if found is None:
            names = ("law", "gemeente", "aanbieder", "client_key")
            rows = self._run(
                f"{kind}:client", s,
                lambda: select(s).where(*_eq(s, names), s.c.status == "active").order_by(s.c.id),
                law=law, gemeente=gemeente, aanbieder=aanbieder, client_key=ck,
            )
            found = self._cache[key] = [record.model_validate(r) for r in rows]
        if toewijzingnummer is None:
            return list(found)  # type: ignore[arg-type]
        return [x for x in found if x.toewijzingnummer == toewijzingnummer]  # type: ignore[attr-defined]

    # --- requests and answers --------------------------------------------------------------

    def request(self, law: str, aanbieder: str, referentie: str) -> RequestState | None:
        seeded = self._cache.get(("request", law, aanbieder, referentie), _UNSEEDED)
        if seeded is not _UNSEEDED:
            return seeded  # type: ignore[return-value]
        r = t.requests
        row = self._run(
            "request", r, lambda: select(r).where(*_eq(r, ("law", "aanbieder", "referentie_aanbieder"))),
            law=law, aanbieder=aanbieder, referentie_aanbieder=referentie,
        )
        return RequestState.model_validate(row[0]) if row else None

    def open_requests(self, law: str, gemeente: str, aanbieder: str, bsn: str) -> list[RequestState]:
        """Requests of the client with this aanbieder that are still in behandeling (TR374)."""
        seeded = self._cache.get(("open_requests", law, gemeente, aanbieder, self.client_key(bsn)), _UNSEEDED)
        if seeded is not _UNSEEDED:
            return list(seeded)  # type: ignore[call-overload]
        r = t.requests
        rows = self._run(
            "open_requests", r,
            lambda: select(r).where(*_eq(r, ("law", "gemeente", "aanbieder", "client_key")),
                                    or_(r.c.status == "pending", r.c.status == "onderzoek")),
            law=law, gemeente=gemeente, aanbieder=aanbieder, client_key=self.client_key(bsn),
        )
        return [RequestState.model_validate(row) for row in rows]

    def answers(self, law: str, aanbieder: str, referentie: str) -> list[AnswerState]:
        seeded = self._cache.get(("answers", law, aanbieder, referentie), _UNSEEDED)
        if seeded is not _UNSEEDED:
            return list(seeded)  # type: ignore[call-overload]
        a = t.answers
        rows = self._run(
            "answers", a,
            lambda: select(a).where(*_eq(a, ("law", "aanbieder", "referentie_aanbieder"))).order_by(a.c.id),
            law=law, aanbieder=aanbieder, referentie_aanbieder=referentie,
        )
        return [AnswerState.model_validate(row) for row in rows]

    # --- declarations ----------------------------------------------------------------------

    def declaration(self, law: str, aanbieder: str, declaratienummer: str) -> DeclarationState | None:
        seeded = self._cache.get(("declaration", law, aanbieder, declaratienummer), _UNSEEDED)
        if seeded is not _UNSEEDED:
            return seeded  # type: ignore[return-value]
        d = t.declarations
        row = self._run(
            "declaration", d, lambda: select(d).where(*_eq(d, ("law", "aanbieder", "declaratienummer"))),
            law=law, aanbieder=aanbieder, declaratienummer=declaratienummer,
        )
        return DeclarationState.model_validate(row[0]) if row else None

    def declaration_by_identificatie(self, law: str, aanbieder: str, identificatie: str) -> DeclarationState | None:
        """The 323 with this BerichtIdentificatie from this aanbieder (TR337)."""
        seeded = self._cache.get(("declaration_by_identificatie", law, aanbieder, identificatie), _UNSEEDED)
        if seeded is not _UNSEEDED:
            return seeded  # type: ignore[return-value]
        d = t.declarations
        row = self._run(
            "declaration_by_identificatie", d,
            lambda: select(d).where(*_eq(d, ("law", "aanbieder", "identificatie"))).order_by(d.c.id),
            law=law, aanbieder=aanbieder, identificatie=identificatie,
        )
        return DeclarationState.model_validate(row[0]) if row else None

    def last_declaration_period(self, law: str, gemeente: str, aanbieder: str) -> date | None:
        """Begindatum of the latest DeclaratiePeriode this aanbieder declared to this gemeente."""
        seeded = self._cache.get(("last_declaration_period", law, gemeente, aanbieder), _UNSEEDED)
        if seeded is not _UNSEEDED:
            return seeded  # type: ignore[return-value]
        d = t.declarations
        return self._run(
            "last_declaration_period", d,
            lambda: select(func.max(d.c.periode_begin).label("latest")).where(*_eq(d, ("law", "gemeente", "aanbieder"))),
            law=law, gemeente=gemeente, aanbieder=aanbieder,
        )[0]["latest"]

    def _prestaties(self, *where) -> list[PrestatieState]:  # noqa: ANN002
        p = t.prestaties
        rows = self._conn.execute(select(p).where(*where, self._not_excluded(p)).order_by(p.c.id)).mappings()
        return [PrestatieState(**{k: r[k] for k in PrestatieState.model_fields}) for r in rows]

    def prestatie(self, law: str, aanbieder: str, referentienummer: str) -> PrestatieState | None:
        """The prestatie with this ReferentieNummer, accepted or rejected (TR314, TR323)."""
        hit, found = self._prefetched(("prestatie", law, aanbieder), referentienummer, None)
        if hit:
            return found
        key = ("prestatie", law, aanbieder, referentienummer)
        if key not in self._cache:
            p = t.prestaties
            found = self._prestaties(
                p.c.law == law, p.c.aanbieder == aanbieder, p.c.referentienummer == referentienummer
            )
            self._cache[key] = found[0] if found else None
        return self._cache[key]  # type: ignore[return-value]

    def credits_of(self, law: str, aanbieder: str, referentienummer: str) -> list[PrestatieState]:
        """Accepted credits whose VorigReferentieNummer is this debit's ReferentieNummer (TR390)."""
        hit, found = self._prefetched(("credits_of", law, aanbieder), referentienummer, _NO_ROWS)
        if hit:
            return found
        key = ("credits_of", law, aanbieder, referentienummer)
        if key not in self._cache:
            p = t.prestaties
            self._cache[key] = self._prestaties(
                p.c.law == law,
                p.c.aanbieder == aanbieder,
                p.c.vorig_referentienummer == referentienummer,
                p.c.debet_credit == "C",
                p.c.status == "accepted",
            )
        return self._cache[key]  # type: ignore[return-value]

    def debits_for(
        self,
        law: str,
        aanbieder: str,
        toewijzingnummer: str | None,
        categorie: str | None,
        code: str | None,
        periode_begin: date,
        periode_eind: date,
    ) -> list[PrestatieState]:
        """Accepted debits for the same ProductPeriode + product + ToewijzingNummer (TR389)."""
        return [
            d
            for d in self._debits_on(law, aanbieder, toewijzingnummer)
            if (d.categorie, d.code, d.periode_begin, d.periode_eind) == (categorie, code, periode_begin, periode_eind)
        ]

    def _debits_on(self, law: str, aanbieder: str, toewijzingnummer: str | None) -> list[PrestatieState]:
        hit, found = self._prefetched(("debits_on", law, aanbieder), toewijzingnummer, _NO_ROWS)
        if hit:
            return found
        key = ("debits_on", law, aanbieder, toewijzingnummer)
        if key not in self._cache:
            p = t.prestaties
            self._cache[key] = self._prestaties(
                p.c.law == law,
                p.c.aanbieder == aanbieder,
                p.c.toewijzingnummer == toewijzingnummer,
                p.c.debet_credit == "D",
                p.c.status == "accepted",
            )
        return self._cache[key]  # type: ignore[return-value]

    def has_approved_prestaties(self, law: str, gemeente: str, toewijzingnummer: str) -> bool:
        """Accepted, not credited debits on this allocation (TR385)."""
        p = t.prestaties
        row = self._conn.execute(
            select(p.c.id).where(
                p.c.law == law,
                p.c.gemeente == gemeente,
                p.c.toewijzingnummer == toewijzingnummer,
                p.c.debet_credit == "D",
                p.c.status == "accepted",
                p.c.credited == False,  # noqa: E712
                self._not_excluded(p),
            ).limit(1)
        ).first()
        return row is not None

    def declared_volumes(self, law: str, gemeente: str, aanbieder: str, toewijzingnummer: str) -> dict[str, int]:
        """Per Eenheid: Σ GeleverdVolume of accepted debits minus accepted credits on an
        allocation (TR322, TR369)."""
        hit, found = self._prefetched(("declared_volumes", law, gemeente, aanbieder), toewijzingnummer, _NO_VOLUMES)
        if hit:
            return dict(found)
        key = ("declared_volumes", law, gemeente, aanbieder, toewijzingnummer)
        if key in self._cache:
            return dict(self._cache[key])  # type: ignore[arg-type]
        p = t.prestaties
        rows = self._conn.execute(
            select(p.c.eenheid, p.c.debet_credit, func.coalesce(func.sum(p.c.volume), 0))
            .where(
                p.c.law == law,
                p.c.gemeente == gemeente,
                p.c.aanbieder == aanbieder,
                p.c.toewijzingnummer == toewijzingnummer,
                p.c.status == "accepted",
                self._not_excluded(p),
            )
            .group_by(p.c.eenheid, p.c.debet_credit)
        ).all()
        out: dict[str, int] = {}
        for eenheid, dc, total in rows:
            out[eenheid or ""] = out.get(eenheid or "", 0) + (-1 if dc == "C" else 1) * int(total or 0)
        self._cache[key] = out
        return dict(out)

    def prefetch_declaration(
        self,
        law: str,
        gemeente: str,
        aanbieder: str,
        toewijzingnummers: set[str],
        referentienummers: set[str],
    ) -> None:
        """Load in a few queries what the 323 rules ask per prestatie: the toewijzingen, earlier
        prestaties by ReferentieNummer, their credits, the debits and volumes per toewijzing.
        A declaration of 100 000 prestaties costs some hundred queries instead of millions."""
        a, p = t.allocations, t.prestaties
        numbers, refs = sorted(n for n in toewijzingnummers if n), sorted(r for r in referentienummers if r)
        lga = dict(law=law, gemeente=gemeente, aanbieder=aanbieder)
        seen: dict = {}  # texts and dates shared between the records read here
        covered_numbers, covered_refs = set(numbers), set(refs)
        allocations: dict[str, Any] = {}
        all_debits: dict[str, list] = {}
        all_volumes: dict[str, dict[str, int]] = {}
        prestaties: dict[str, Any] = {}
        all_credits: dict[str, list] = {}
        la, lg = {"law": law, "aanbieder": aanbieder}, {"law": law, "gemeente": gemeente}

        def accepted(dc: str) -> Callable[[Any], Any]:  # the accepted debits or credits
            return lambda c: select(p).where(*_eq(p, ("law", "aanbieder")), c, p.c.debet_credit == dc,
                                             p.c.status == "accepted")

        volumes = (lambda c: select(p.c.toewijzingnummer, p.c.eenheid, p.c.debet_credit,
                                    func.coalesce(func.sum(p.c.volume), 0).label("total"))
                   .where(*_eq(p, ("law", "gemeente", "aanbieder")), c, p.c.status == "accepted")
                   .group_by(p.c.toewijzingnummer, p.c.eenheid, p.c.debet_credit))
        # A chunk of numbers and one of references read together: on PostgreSQL their five reads
        # go in one round trip (each took one, while the 323's whole group waited on it).
        for numbers_chunk, refs_chunk in zip_longest(_chunks(numbers), _chunks(refs), fillvalue=None):
            asks: list[_Ask] = []
            if numbers_chunk:
                asks += [
                    _Ask("prefetch_allocations", a.c.toewijzingnummer, numbers_chunk,
                         lambda c: select(a).where(*_eq(a, ("law", "gemeente")), c), lg),
                    _Ask("prefetch_debits", p.c.toewijzingnummer, numbers_chunk, accepted("D"), la),
                    _Ask("prefetch_volumes", p.c.toewijzingnummer, numbers_chunk, volumes, lga, columns=False),
                ]
            if refs_chunk:
                asks += [
                    _Ask("prefetch_prestaties", p.c.referentienummer, refs_chunk,
                         lambda c: select(p).where(*_eq(p, ("law", "aanbieder")), c), la),
                    _Ask("prefetch_credits", p.c.vorig_referentienummer, refs_chunk, accepted("C"), la),
                ]
            got = iter(self._in_together(asks))
            if numbers_chunk:
                allocations.update((x.toewijzingnummer, x) for x in _latest_rows(*next(got), seen))
                for x in _rows_as(PrestatieRow, *next(got), seen):
                    all_debits.setdefault(x.toewijzingnummer, []).append(x)
                for r in next(got):
                    v, eenheid = all_volumes.setdefault(r["toewijzingnummer"], {}), r["eenheid"] or ""
                    v[eenheid] = v.get(eenheid, 0) + (-1 if r["debet_credit"] == "C" else 1) * int(r["total"] or 0)
            if refs_chunk:
                for x in _rows_as(PrestatieRow, *next(got), seen):
                    if x.referentienummer not in prestaties:  # the first, as before
                        prestaties[x.referentienummer] = x
                for x in _rows_as(PrestatieRow, *next(got), seen):
                    all_credits.setdefault(x.vorig_referentienummer, []).append(x)
        for scope, covered, found in (
            (("allocation", law, gemeente), covered_numbers, allocations),
            (("debits_on", law, aanbieder), covered_numbers, all_debits),
            (("declared_volumes", law, gemeente, aanbieder), covered_numbers, all_volumes),
            (("prestatie", law, aanbieder), covered_refs, prestaties),
            (("credits_of", law, aanbieder), covered_refs, all_credits),
        ):
            earlier = self._pre.get(scope)  # a second prefetch in the same view adds to the first
            self._pre[scope] = (earlier[0] | covered, {**earlier[1], **found}) if earlier else (covered, found)

    def _in_columns(self, name: str, table: Any, column: Any, values: list[str], build: Callable[[Any], Any],
                    **params: Any) -> tuple[list[str], list[Sequence]]:
        """`_in_rows` column by column (Prepared.columns): for the prefetch's per-prestatie rows."""
        if self._exclude or self._conn.dialect.name == "postgresql":
            return _as_columns(self._in_rows(name, table, column, values, build, **params))
        return _bucketed(name, column, values, build, params).columns(self._conn, params)

    def _in_together(self, asks: list[_Ask]) -> list[Any]:
        """The answers of `asks`, in order: `_in_columns` or (`columns` false) `_in_rows` of each.
        PostgreSQL: all sent in one pipeline and read after its end, one round trip for all."""
        if self._exclude or self._conn.dialect.name != "postgresql":
            return [(self._in_columns if ask.columns else self._in_rows)(
                ask.name, ask.column.table, ask.column, ask.values, ask.build, **ask.params) for ask in asks]
        with pipelined(self._conn):
            sent = [(stmt, stmt.send(self._conn, {**ask.params, "in_values": ask.values}), ask.columns)
                    for ask in asks for stmt in (_any_statement(ask.name, ask.column, ask.build),)]
        # collected after the block: its end (one Sync) brought every answer
        return [_as_columns(stmt.collect(self._conn, cursor)) if columns else stmt.collect(self._conn, cursor)
                for stmt, cursor, columns in sent]

    def _in_rows(self, name: str, table: Any, column: Any, values: list[str], build: Callable[[Any], Any],
                 **params: Any) -> list[dict[str, Any]]:
        """Rows of `build(column IN values)` (at most _CHUNK values). On the message path a prepared
        statement with as many parameters as the smallest of _BUCKETS that holds the values, the
        unused ones NULL (which matches nothing): compiled once per size, run on the DBAPI cursor. (A
        declaration of ten prestaties binding 500 parameters cost more than its query.) With
        excluded messages (replay) Core with an expanding IN list."""
        if self._exclude:
            stmt = build(column.in_(values)).where(self._not_excluded(table))
            return [dict(r) for r in self._conn.execute(stmt, params).mappings()]
        if self._conn.dialect.name == "postgresql":
            # One array parameter (column = ANY($1)): the statement stays short, so psycopg keeps
            # its parsed form; a 500-placeholder IN list was parsed again by psycopg on every
            # execution (longer than its statement cache takes), several ms of client CPU each.
            params["in_values"] = values
            return _any_statement(name, column, build).rows(self._conn, params)
        return _bucketed(name, column, values, build, params).rows(self._conn, params)

    def declared_total(self, aanbieder: str, year: int, gemeente: str | None = None) -> int:
        """Eurocent of accepted debits minus accepted credits whose ProductPeriode starts in `year`.

        For the contract rules' budget ceilings (both legal domains together).
        """
        p = t.prestaties
        total = 0
        for dc, sign in (("D", 1), ("C", -1)):
            where = [
                p.c.aanbieder == aanbieder,
                p.c.periode_begin >= date(year, 1, 1),
                p.c.periode_begin < date(year + 1, 1, 1),
                p.c.debet_credit == dc,
                p.c.status == "accepted",
                self._not_excluded(p),
            ]
            if gemeente is not None:
                where.append(p.c.gemeente == gemeente)
            s = self._conn.execute(select(func.coalesce(func.sum(p.c.bedrag), 0)).where(*where)).scalar()
            total += sign * int(s or 0)
        return total


def _bucketed(name: str, column: Any, values: list[str], build: Callable[[Any], Any], params: dict[str, Any]) -> Prepared:
    """The prepared `build(column IN ...)` with room for `values` (the smallest of _BUCKETS that
    holds them), `params` given the values and NULL for the places not needed."""
    size = next(b for b in _BUCKETS if b >= len(values))
    stmt = _IN_STATEMENTS.get((name, size))
    if stmt is None:
        stmt = _IN_STATEMENTS[(name, size)] = Prepared(build(column.in_([bindparam(n) for n in _IN_NAMES[:size]])))
    params.update(zip(_IN_NAMES, values))
    params.update(dict.fromkeys(_IN_NAMES[len(values):size]))
    return stmt


def _latest(rows: list[dict[str, Any]], seen: dict | None = None) -> list[AllocationState]:
    """The current version of each allocation among `rows`. Sorted here, not in SQL: an ORDER BY
    toewijzingnummer made SQLite read a client's allocations through the (law, gemeente,
    toewijzingnummer) index, i.e. every allocation of the gemeente, instead of the client index."""
    latest: dict[tuple, dict[str, Any]] = {}
    for r in sorted(rows, key=_allocation_order):  # ascending: the last one per number is current
        latest[(r["law"], r["gemeente"], r["toewijzingnummer"])] = r
    return [_record(AllocationState, r, seen) for r in latest.values()]


_SHARED_TYPES = {str, date, type(None)}  # a prefetch's columns shared between rows (never equal to each other)


def _rows_as(cls: Any, names: list[str], cols: list[Sequence], seen: dict, *, by_id: bool = True) -> list[Any]:
    """Rows given column by column (`cols`, named `names`), sorted by id unless `by_id` is false,
    as `cls`: a NamedTuple of some of those columns. Equal texts and dates shared between rows
    through `seen` (a declaration's prefetch holds 100,000 of them). Column by column, so the
    work per value runs in C (map), not in a Python loop."""
    if not cols or not cols[0]:
        return []
    ix = {n: i for i, n in enumerate(names)}
    picked = [cols[ix[f]] for f in cls._fields]
    share = seen.setdefault
    # only texts and dates are shared (as before): never a bool (True == 1) nor a number
    picked = [list(map(share, col, col)) if set(map(type, col)) <= _SHARED_TYPES else col for col in picked]
    rows = list(map(tuple.__new__, repeat(cls), zip(*picked, strict=True)))
    if by_id:
        ids = cols[ix["id"]]
        rows = [rows[k] for k in sorted(range(len(rows)), key=ids.__getitem__)]
    return rows


def _latest_rows(names: list[str], cols: list[Sequence], seen: dict) -> list[AllocationRow]:
    """`_latest` of rows given column by column, as AllocationRow."""
    if not cols or not cols[0]:
        return []
    ix = {n: i for i, n in enumerate(names)}
    keys = list(zip(cols[ix["law"]], cols[ix["gemeente"]], cols[ix["toewijzingnummer"]], strict=True))
    if len(set(keys)) == len(keys):  # one version per number (the usual case): each is current
        return _rows_as(AllocationRow, names, cols, seen, by_id=False)
    rows = [dict(zip(names, r, strict=True)) for r in zip(*cols, strict=True)]  # (rare: a number twice)
    latest: dict[tuple, int] = {}
    # ascending, as _latest: the last one per number is current
    for k in sorted(range(len(rows)), key=lambda k: _allocation_order(rows[k])):
        latest[keys[k]] = k
    chosen = list(latest.values())
    return _rows_as(AllocationRow, names, [[col[k] for k in chosen] for col in cols], seen, by_id=False)


_FIELDS: dict[type, tuple[tuple[str, ...], frozenset[str]]] = {}


def _record(cls: Any, r: dict[str, Any], seen: dict | None = None) -> Any:
    """`cls(**row)` with one fields-set shared by all records of `cls` (each its own set of
    seventeen names cost 700 bytes) and, given `seen`, equal texts and dates shared between
    records. A declaration's prefetch holds 100,000 of them: 3 KB each became under 1 KB.
    (Validated, as before: pydantic's validator is faster than model_construct.)"""
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = (tuple(cls.model_fields), frozenset(cls.model_fields))
    names, fields_set = found
    if seen is None:
        values = r  # (the row's other columns are ignored: no dict of the fields' own to make)
    else:
        values = {}
        for k in names:
            v = r[k]
            if type(v) is str or type(v) is date:  # (never equal to each other: one dict serves both)
                v = seen.setdefault(v, v)
            values[k] = v
    record = cls.model_validate(values)
    object.__setattr__(record, "__pydantic_fields_set__", fields_set)  # what model_construct sets too
    return record


# --- a group's reads at once ---------------------------------------------------------------------


@dataclass(frozen=True)
class StateHint:
    """What one message's rules will read, as far as its type tells (gateway.pipeline): `kinds`
    among "starts", "stops" (the client's), "client_allocations", "allocation" and
    "allocation_owner" (per number in `numbers`). A hint that misses a read costs that read
    later; one that names too much costs a few rows."""

    law: str
    gemeente: str
    aanbieder: str
    bsn: str | None
    numbers: tuple[str, ...]
    kinds: frozenset[str]
    # for the kinds of _KEYED_KINDS: the message's ReferentieAanbieder values, its DeclaratieNummer
    # and (a 325) the DeclaratieIdentificatie of the 323 it answers
    referenties: tuple[str, ...] = ()
    declaratienummer: str | None = None
    identificatie: str | None = None


_GROUP_READS: dict[tuple[str, int], Prepared] = {}
_CLIENT_COLS = ("law", "gemeente", "aanbieder", "client_key")
_NUMBER_COLS = ("law", "gemeente", "toewijzingnummer")


# kind -> (table, the columns of its keys, whether only active rows count)
_GROUP_KINDS: dict[str, tuple[Any, tuple[str, ...], bool]] = {
    "starts": (t.starts, _CLIENT_COLS, True),
    "stops": (t.stops, _CLIENT_COLS, True),
    "client_allocations": (t.allocations, _CLIENT_COLS, False),
    "allocation": (t.allocations, _NUMBER_COLS, False),
    "allocation_owner": (t.allocation_numbers, _NUMBER_COLS, False),
}


def group_size(n: int) -> int:
    """How many keys the statement of a group lookup of `n` keys has: `n` rounded up to a power of
    two, the keys it does not need bound to NULL (which matches nothing). A statement per group
    size made some 60 statements per kind to compile (and to prepare, and to keep in the
    database driver's statement cache); now there are seven up to 64, those up to 16 compiled
    beforehand (`prepare_group_reads`, from Store._prepare_group_lookups)."""
    return 1 << max(n - 1, 0).bit_length()


_REF_COLS = ("law", "aanbieder", "referentie_aanbieder")
_r, _d = t.requests, t.declarations
# PostgreSQL only (a read there costs a round trip, in which the leader's whole group waits; on
# SQLite a read costs no more than its share of the group's statement): kind -> (table, the
# columns of its keys, further conditions, the columns read (None: all), GROUP BY its keys)
_KEYED_KINDS: dict[str, tuple[Any, tuple[str, ...], tuple[Any, ...], Any, bool]] = {
    "request": (_r, _REF_COLS, (), None, False),  # TR347, TR355, TR379
    "open_requests": (_r, _CLIENT_COLS, (or_(_r.c.status == "pending", _r.c.status == "onderzoek"),), None,
                      False),  # TR374
    "answers": (t.answers, _REF_COLS, (), None, False),  # TR360, TR365
    "allocation_with_referentie": (t.allocations, _REF_COLS, (), (), False),  # TR359, TR379
    "declaration": (_d, ("law", "aanbieder", "declaratienummer"), (), None, False),  # TR333, a 325's 323
    "declaration_by_identificatie": (_d, ("law", "aanbieder", "identificatie"), (), None, False),  # TR337
    "last_declaration_period": (_d, ("law", "gemeente", "aanbieder"), (),
                                (func.max(_d.c.periode_begin).label("latest"),), True),  # TR318
}


def _any_of(kind: str, n: int) -> Prepared:
    """SELECT rows of the kind's table matching any of `group_size(n)` tuples of its key columns
    (parameters <col><i>): an OR of equalities, which both databases answer from the index on
    those columns."""
    size = group_size(n)
    found = _GROUP_READS.get((kind, size))
    if found is None:
        if kind in _GROUP_KINDS:
            table, cols, active = _GROUP_KINDS[kind]
            extra, columns, grouped = ((table.c.status == "active",) if active else ()), None, False
        else:
            table, cols, extra, columns, grouped = _KEYED_KINDS[kind]
        cond = or_(*(and_(*(table.c[c] == bindparam(f"{c}{i}") for c in cols)) for i in range(size)))
        stmt = select(table) if columns is None else select(*(table.c[c] for c in cols), *columns)
        stmt = stmt.where(cond, *extra)
        if grouped:
            stmt = stmt.group_by(*(table.c[c] for c in cols))
        found = _GROUP_READS[(kind, size)] = Prepared(stmt)
    return found


def _params(cols: tuple[str, ...], keys: list[tuple]) -> dict[str, Any]:
    """The parameters of `_any_of(kind, len(keys))` for `keys` (the unused ones NULL)."""
    params = {f"{c}{i}": v for i, key in enumerate(keys) for c, v in zip(cols, key, strict=True)}
    params.update({f"{c}{i}": None for i in range(len(keys), group_size(len(keys))) for c in cols})
    return params


def group_sizes(largest: int) -> list[int]:
    """The sizes `group_size` gives for groups of 1 to `largest` keys."""
    return [1 << k for k in range(group_size(max(largest, 1)).bit_length())]


def prepare_group_reads(dialect: Any, largest: int) -> None:
    """Compile the group lookups of every size up to `largest` keys now, before messages wait for
    them (a compile takes longer than the lookup)."""
    kinds = [*_GROUP_KINDS, *_KEYED_KINDS] if dialect.name == "postgresql" else list(_GROUP_KINDS)
    for kind in kinds:
        for size in group_sizes(largest):
            _any_of(kind, size).compiled(dialect)


def prefetch_group(conn: Connection, secret: bytes, hints: Iterable[StateHint]) -> dict[tuple, object]:
    """The answers StateView would give to the reads the `hints` name, one query per kind for
    all messages of a group, keyed as StateView caches them (StateView.seed). Valid for the whole
    group: its messages have disjoint lock keys and their writes wait for the group's end."""
    known: dict[tuple, object] = {}
    keyed = conn.dialect.name == "postgresql"
    sent = [(q, q.send(conn, params), take) for q, params, take in group_reads(secret, hints, keyed=keyed)]
    for q, cursor, take in sent:
        take(q.collect(conn, cursor), known)
    return known


def group_reads(secret: bytes, hints: Iterable[StateHint], *, keyed: bool = False
                ) -> list[tuple[Prepared, dict[str, Any], Any]]:
    """The queries of `prefetch_group`: (statement, parameters, take(rows, known)), to be sent
    together (gateway.store.Batch sends them in one pipeline with the group's other reads).
    `keyed`: the kinds of _KEYED_KINDS too (PostgreSQL)."""
    clients: dict[str, set[tuple]] = {}
    numbers: dict[str, set[tuple]] = {}
    other: dict[str, set[tuple]] = {}  # _KEYED_KINDS: kind -> its keys
    for h in hints:
        ck = client_key(secret, h.bsn) if h.bsn else None
        for kind in h.kinds:
            if kind in ("starts", "stops", "client_allocations") and ck:
                clients.setdefault(kind, set()).add((h.law, h.gemeente, h.aanbieder, ck))
            elif kind in ("allocation", "allocation_owner"):
                numbers.setdefault(kind, set()).update((h.law, h.gemeente, n) for n in h.numbers if n)
            elif keyed and kind in _KEYED_KINDS:
                other.setdefault(kind, set()).update(_keyed_keys(kind, h, ck))
    reads: list[tuple[Prepared, dict[str, Any], Any]] = []
    for kind, found in other.items():
        if not found:  # (no ReferentieAanbieder in the group's messages...)
            continue
        keys = sorted(found)
        reads.append((_any_of(kind, len(keys)), _params(_KEYED_KINDS[kind][1], keys), _keyed_take(kind, keys)))

    def active(kind: str, record: Any, keys: list[tuple]) -> Any:
        def take(rows: list[dict[str, Any]], known: dict[tuple, object]) -> None:
            by: dict[tuple, list] = {k: [] for k in keys}
            for r in sorted(rows, key=lambda r: r["id"]):
                by[tuple(r[c] for c in _CLIENT_COLS)].append(record.model_validate(r))
            known.update(((kind, *k), v) for k, v in by.items())
        return take

    for kind, record in (("starts", StartState), ("stops", StopState)):
        keys = sorted(clients.get(kind, ()))
        if keys:
            reads.append((_any_of(kind, len(keys)), _params(_CLIENT_COLS, keys), active(kind, record, keys)))

    def allocations(kind: str, cols: tuple[str, ...], keys: list[tuple]) -> Any:
        def take(rows: list[dict[str, Any]], known: dict[tuple, object]) -> None:
            grouped: dict[tuple, list] = {k: [] for k in keys}
            for r in rows:
                grouped[tuple(r[c] for c in cols)].append(r)
            for k, v in grouped.items():
                found = _latest(v)
                known[(kind, *k)] = found if kind == "client_allocations" else (found[0] if found else None)
        return take

    keys = sorted(clients.get("client_allocations", ()))
    if keys:
        reads.append((_any_of("client_allocations", len(keys)),
                      _params(_CLIENT_COLS, keys), allocations("client_allocations", _CLIENT_COLS, keys)))
    keys = sorted(numbers.get("allocation", ()))
    if keys:
        reads.append((_any_of("allocation", len(keys)),
                      _params(_NUMBER_COLS, keys), allocations("allocation", _NUMBER_COLS, keys)))
    owner_keys = sorted(numbers.get("allocation_owner", ()))
    if owner_keys:
        def owners(rows: list[dict[str, Any]], known: dict[tuple, object]) -> None:
            found = {tuple(r[c] for c in _NUMBER_COLS): (r["aanbieder"], r["client_key"]) for r in rows}
            known.update((("allocation_owner", *k), found.get(k)) for k in owner_keys)
        reads.append((_any_of("allocation_owner", len(owner_keys)),
                      _params(_NUMBER_COLS, owner_keys), owners))
    return reads


def _keyed_keys(kind: str, h: StateHint, ck: str | None) -> list[tuple]:
    """The keys a hint names for one of _KEYED_KINDS (as its columns, in their order)."""
    if kind in ("request", "answers", "allocation_with_referentie"):
        return [(h.law, h.aanbieder, r) for r in h.referenties if r]
    if kind == "open_requests":
        return [(h.law, h.gemeente, h.aanbieder, ck)] if ck else []
    if kind == "declaration":
        return [(h.law, h.aanbieder, h.declaratienummer)] if h.declaratienummer else []
    if kind == "declaration_by_identificatie":
        return [(h.law, h.aanbieder, h.identificatie)] if h.identificatie else []
    return [(h.law, h.gemeente, h.aanbieder)]  # last_declaration_period


def _keyed_take(kind: str, keys: list[tuple]) -> Any:
    """take(rows, known) of a group read of one of _KEYED_KINDS: per key the answer StateView's
    method gives, under its cache key (kind, *key)."""
    cols = _KEYED_KINDS[kind][1]

    def take(rows: list[dict[str, Any]], known: dict[tuple, object]) -> None:
        by: dict[tuple, list] = {k: [] for k in keys}
        for r in rows:
            by[tuple(r[c] for c in cols)].append(r)
        for k, found in by.items():
            if kind == "last_declaration_period":
                answer: object = found[0]["latest"] if found else None
            elif kind == "allocation_with_referentie":
                answer = bool(found)
            else:
                found.sort(key=lambda r: r["id"])
                if kind in ("open_requests", "answers"):
                    record = RequestState if kind == "open_requests" else AnswerState
                    answer = [record.model_validate(r) for r in found]
                else:
                    record = RequestState if kind == "request" else DeclarationState
                    answer = record.model_validate(found[0]) if found else None
            known[(kind, *k)] = answer
    return take


def _allocation_order(r: dict[str, Any]) -> tuple:
    """toewijzingnummer, toewijzingsdatum, toewijzingstijd, id ascending (a missing date or time
    first, as SQLite orders NULL)."""
    d, tijd = r["toewijzingsdatum"], r["toewijzingstijd"]
    return (r["toewijzingnummer"], d is not None, d or date.min, tijd is not None, tijd or "", r["id"])


_UNSEEDED = object()  # StateView: no answer of a group read (Batch.prefetch) under this key

# One shared empty answer for the many numbers a prefetch finds nothing for (never changed: the
# readers iterate them, and declared_volumes hands out a copy).
_NO_ROWS: list = []
_NO_VOLUMES: dict = {}
_CHUNK = 500  # values per IN list of a prefetch (and parameters of its prepared statement)
_BUCKETS = (8, 64, _CHUNK)  # parameters of a prefetch's prepared IN statements (one statement per size)
_IN_NAMES = tuple(f"in{i}" for i in range(_CHUNK))
_IN_STATEMENTS: dict[tuple[str, int], Any] = {}


@dataclass(frozen=True)
class _Ask:
    """One read of StateView.prefetch_declaration: the arguments of `_in_columns` (`columns`
    false: of `_in_rows`), its table being its column's."""

    name: str
    column: Any
    values: list[str]
    build: Callable[[Any], Any]
    params: dict[str, Any]
    columns: bool = True


def _any_statement(name: str, column: Any, build: Callable[[Any], Any]) -> Prepared:
    """PostgreSQL: `build(column = ANY($in_values))`, made once per read `name`."""
    stmt = _IN_STATEMENTS.get((name, 0))
    if stmt is None:
        stmt = _IN_STATEMENTS[(name, 0)] = Prepared(
            build(column == any_(bindparam("in_values", type_=ARRAY(column.type)))))
    return stmt


def _as_columns(rows: list[dict[str, Any]]) -> tuple[list[str], list[Sequence]]:
    """Rows as (their column names, one sequence of values per column)."""
    if not rows:
        return [], []
    return list(rows[0]), list(zip(*(r.values() for r in rows), strict=True))




def _chunks(values: list[str], size: int = _CHUNK):  # noqa: ANN201
    for i in range(0, len(values), size):
        yield values[i : i + size]
