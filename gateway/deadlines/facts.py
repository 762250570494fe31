"""Read the facts the deadline check needs from the store (read-only; the store's own tables).

One query for the messages of the window, two for the start and stop rows of the 305s and 307s
among them, one for the arrival of the 301s their toewijzingen came from. Transport rejections,
unidentified messages and retours are not facts: they open and close nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from sqlalchemy import and_, select

from gateway.deadlines.compute import TEMPORARY_STOP, Fact
from gateway.store import tables as t

HEEN = ("301", "305", "307", "315", "317", "319", "323", "325")


def _day(ts: datetime) -> date:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc).date()


def load(store, since: date, until: date | None = None) -> list[Fact]:
    """The facts of every message received from `since` (inclusive) up to `until` (inclusive)."""
    m = t.messages
    cond = [m.c.received_at >= datetime.combine(since, time.min, tzinfo=timezone.utc), m.c.code.is_not(None)]
    if until is not None:
        cond.append(m.c.received_at < datetime.combine(until, time.max, tzinfo=timezone.utc))
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(m.c.id, m.c.received_at, m.c.standard, m.c.code, m.c.sender, m.c.receiver, m.c.client_key,
                   (m.c.retour.is_not(None)).label("has_retour"), m.c.verdict)
            .where(and_(*cond))
        ).all()
        rows = [r for r in rows if r.code and r.code[-3:] in HEEN and r.verdict != "transport_rejected"]
        ids = [r.id for r in rows if r.code.endswith(("305", "307"))]
        refs: dict[str, set[str]] = {}
        antwoord: dict[str, str] = {}
        linked = [r.id for r in rows if r.code.endswith(("301", "315", "317", "319"))]
        for chunk in _chunks(linked, 500):
            for q in (
                select(t.requests.c.message_id, t.requests.c.referentie_aanbieder).where(t.requests.c.message_id.in_(chunk)),
                select(t.allocations.c.message_id, t.allocations.c.referentie_aanbieder)
                .where(t.allocations.c.message_id.in_(chunk), t.allocations.c.referentie_aanbieder.is_not(None)),
            ):
                for mid, ref in conn.execute(q):
                    refs.setdefault(mid, set()).add(ref)
            for mid, ref, va in conn.execute(
                select(t.answers.c.message_id, t.answers.c.referentie_aanbieder, t.answers.c.verzoek_antwoord)
                .where(t.answers.c.message_id.in_(chunk))
            ):
                refs.setdefault(mid, set()).add(ref)
                antwoord[mid] = va
        starts = {}
        stops = {}
        allocated: dict[tuple, date] = {}
        temporary: set[tuple] = set()
        for chunk in _chunks(ids, 500):
            for s in conn.execute(select(t.starts).where(t.starts.c.message_id.in_(chunk))):
                starts.setdefault(s.message_id, s)
            for s in conn.execute(select(t.stops).where(t.stops.c.message_id.in_(chunk))):
                stops.setdefault(s.message_id, s)
        keys = {(s.law, s.gemeente, s.toewijzingnummer) for s in starts.values() if s.toewijzingnummer}
        for law, gemeente, nummer in keys:
            first = conn.execute(
                select(m.c.received_at)
                .select_from(t.allocations.join(m, m.c.id == t.allocations.c.message_id))
                .where(t.allocations.c.law == law, t.allocations.c.gemeente == gemeente,
                       t.allocations.c.toewijzingnummer == nummer)
                .order_by(m.c.received_at)
                .limit(1)
            ).first()
            if first is not None:
                allocated[(law, gemeente, nummer)] = _day(first.received_at)
        for s in stops.values():
            temp = conn.execute(
                select(t.stops.c.message_id)
                .where(t.stops.c.law == s.law, t.stops.c.gemeente == s.gemeente, t.stops.c.aanbieder == s.aanbieder,
                       t.stops.c.client_key == s.client_key, t.stops.c.toewijzingnummer == s.toewijzingnummer,
                       t.stops.c.reden_beeindiging == TEMPORARY_STOP, t.stops.c.message_id != s.message_id)
                .limit(1)
            ).first()
            if temp is not None:
                temporary.add(s.message_id)
    facts = []
    for r in rows:
        start, stop = starts.get(r.id), stops.get(r.id)
        facts.append(
            Fact(
                message_id=r.id,
                standard=r.standard or "",
                kind=r.code[-3:],
                sender=r.sender or "",
                receiver=r.receiver or "",
                received=_day(r.received_at),
                client_key=r.client_key,
                has_retour=bool(r.has_retour),
                begindatum=start.begindatum if start is not None else None,
                allocated=allocated.get((start.law, start.gemeente, start.toewijzingnummer)) if start is not None else None,
                einddatum=stop.einddatum if stop is not None else None,
                reden_beeindiging=stop.reden_beeindiging if stop is not None else None,
                after_temporary_stop=r.id in temporary,
                references=frozenset(refs.get(r.id, ())),
                verzoek_antwoord=antwoord.get(r.id),
            )
        )
    return facts


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]
