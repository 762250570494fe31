"""Dashboard figures, computed from the message flow in a time window.

Message figures scan the window through ix_messages_received (a window of a day is a small part
of a large store); indicators read the cross-message state tables (allocations, starts, stops,
prestaties), which hold one row per product, not per message. The day indicators are computed by
the database as a histogram (provider, days, count): every row counts, and what comes back is at
most providers x distinct day counts, whatever the size of the tables.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from lxml import etree
from sqlalchemy import Integer, and_, case, func, select
from sqlalchemy.engine import Connection

from gateway import clock
from gateway.catalog import ALL as ALL_TYPES
from gateway.catalog import by_code
from gateway.console.queries import _aware, _db_time
from gateway.store import tables as t
from gateway.xmlparse import hardened_parser
from validators.paths import child, text

# Verdicts that mean "the message was refused" (gateway.pipeline.Verdict).
REJECTED_VERDICTS = ("rejected", "transport_rejected")


def _hour(conn: Connection, col: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return func.to_char(func.date_trunc("hour", func.timezone("UTC", col)), 'YYYY-MM-DD"T"HH24:00')
    return func.strftime("%Y-%m-%dT%H:00", col)


def _window(conn: Connection, since: datetime, until: datetime) -> Any:
    m = t.messages.c
    return and_(m.received_at >= _db_time(conn, since), m.received_at < _db_time(conn, until))


def _is_rejected() -> Any:
    return t.messages.c.verdict.in_(REJECTED_VERDICTS)


def per_hour(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    m = t.messages.c
    hour = _hour(conn, m.received_at).label("hour")
    stmt = (
        select(hour, m.code, m.verdict, func.count().label("n"))
        .where(_window(conn, since, until))
        .group_by(hour, m.code, m.verdict)
        .order_by(hour)
    )
    return [{"hour": r.hour, "code": r.code, "verdict": r.verdict, "n": r.n} for r in conn.execute(stmt)]


def top_rules(conn: Connection, since: datetime, until: datetime, limit: int = 10) -> list[dict[str, Any]]:
    mi, m = t.message_issues, t.messages
    n = func.count().label("n")
    stmt = (
        select(mi.c.rule, n)
        .select_from(m.join(mi, mi.c.message_id == m.c.id))
        .where(_window(conn, since, until))
        .group_by(mi.c.rule)
        .order_by(n.desc(), mi.c.rule)
        .limit(limit)
    )
    return [{"rule": r.rule, "n": r.n} for r in conn.execute(stmt)]


def rejection_rate(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per provider (AGB code, 8 digits): messages sent, rejected, rate."""
    m = t.messages.c
    rejected = func.sum(case((_is_rejected(), 1), else_=0)).label("rejected")
    stmt = (
        select(m.sender, func.count().label("total"), rejected)
        .where(_window(conn, since, until), func.length(m.sender) == 8)
        .group_by(m.sender)
    )
    out = [
        {"provider": r.sender, "total": r.total, "rejected": int(r.rejected or 0),
         "rate": round((r.rejected or 0) / r.total, 4) if r.total else 0.0}
        for r in conn.execute(stmt)
    ]
    return sorted(out, key=lambda x: (-x["rate"], x["provider"]))


RETOUR_CAP = 5_000  # newest retours per request whose heen we look up


def _answered_identificatie(raw: bytes, kind: str) -> str | None:
    """The BerichtIdentificatie of the heen a retour / 325 answers (read from its header)."""
    try:
        root = etree.fromstring(raw, hardened_parser())
    except etree.XMLSyntaxError:
        return None
    header = child(root, "Header")
    if kind == "antwoord":  # a 325 names the 323 in DeclaratieIdentificatie (TR337)
        return text(header, "DeclaratieIdentificatie", "Identificatie")
    # a retour copies the heen's header (IV028): its BerichtIdentificatie is the heen's
    return text(header, "BerichtIdentificatie", "Identificatie")


def retour_latency_capped(conn: Connection, since: datetime, until: datetime) -> bool:
    """True when the window holds more retours than retour_latency reads (it reads the newest
    RETOUR_CAP): the page says so instead of presenting a part as the whole."""
    m = t.messages.c
    codes = [x.code for x in ALL_TYPES if x.kind in ("retour", "antwoord")]
    over = conn.execute(
        select(m.id).where(_window(conn, since, until), m.code.in_(codes)).offset(RETOUR_CAP).limit(1)
    ).first()
    return over is not None


def retour_latency(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per heen type: time from a heen to the retour (or 325) its receiver sent back.

    The pipeline stores a retour under its own IdentificatieRetour, so we read which heen it
    answers from its header, then find that heen through ix_messages_ident_received
    (sender = the retour's receiver, heen code, identificatie)."""
    m = t.messages.c
    answer_codes = {x.code: x for x in ALL_TYPES if x.kind in ("retour", "antwoord")}
    heen_of = {(x.standard, x.answered_by_number): x for x in ALL_TYPES if x.answered_by_number}
    rows = conn.execute(
        select(m.code, m.receiver, m.received_at, t.stored(m.raw))
        .where(_window(conn, since, until), m.code.in_(list(answer_codes)))
        .order_by(m.received_at.desc())
        .limit(RETOUR_CAP)
    ).all()
    wanted: dict[tuple[str, str], dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        ans = answer_codes[r.code]
        heen = heen_of.get((ans.standard, ans.number))
        ident = _answered_identificatie(r.raw, ans.kind) if heen else None
        if heen and ident and r.receiver:
            wanted[(r.receiver, heen.code)][ident].append(_aware(r.received_at))
    per: dict[str, list[float]] = defaultdict(list)
    for (sender, code), by_ident in wanted.items():
        idents = list(by_ident)
        for i in range(0, len(idents), 500):
            for h in conn.execute(
                select(m.identificatie, m.received_at).where(
                    m.sender == sender, m.code == code, m.identificatie.in_(idents[i : i + 500])
                )
            ):
                for answered_at in by_ident.get(h.identificatie, []):
                    per[code].append(max((answered_at - _aware(h.received_at)).total_seconds(), 0.0))
    return [
        {"code": code, "answered_by": by_code(code).answered_by.code, "n": len(v), **_spread(v)}
        for code, v in sorted(per.items())
    ]


def _spread(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    return {"median": round(statistics.median(values), 2), "p90": round(p90, 2), "max": round(values[-1], 2)}


def outbox_lag(conn: Connection, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per destination: rows waiting and the age of the oldest (ix_outbox_pending)."""
    o = t.outbox.c
    now = now or clock.now()
    stmt = (
        select(o.destination, func.count().label("waiting"), func.min(o.created_at).label("oldest"))
        .where(*t.outbox_waiting(o))  # streams are read, not delivered
        .group_by(o.destination)
    )
    return [
        {"destination": r.destination, "waiting": r.waiting,
         "lag_seconds": round((now - _aware(r.oldest)).total_seconds(), 1) if r.oldest else 0.0}
        for r in conn.execute(stmt)
    ]


def _day_diff(conn: Connection, a: Any, b: Any) -> Any:
    """Whole days from date a to date b, in SQL."""
    if conn.dialect.name == "postgresql":
        return b - a  # date - date is an integer there
    return func.cast(func.julianday(b) - func.julianday(a), Integer)


def _histogram_spread(rows: Any) -> list[dict[str, Any]]:
    """(provider, days, n) rows -> per provider n, median, p90, max (negative days count as 0)."""
    hist: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for provider, days, n in rows:
        if days is not None:
            hist[provider][max(int(days), 0)] += int(n)
    out = []
    for provider, counts in sorted(hist.items()):
        total = sum(counts.values())
        out.append({"provider": provider, "n": total, **_weighted_spread(counts, total)})
    return out


def _weighted_spread(counts: dict[int, int], total: int) -> dict[str, float]:
    """The same median / p90 / max as _spread over the expanded values, from a histogram."""
    ordered = sorted(counts.items())

    def nth(k: int) -> int:  # the k-th value (0-based) of the sorted expansion
        seen = 0
        for value, n in ordered:
            seen += n
            if k < seen:
                return value
        return ordered[-1][0]

    if total % 2:
        median = float(nth(total // 2))
    else:
        median = (nth(total // 2 - 1) + nth(total // 2)) / 2
    p90 = nth(min(total - 1, int(round(0.9 * (total - 1)))))
    return {"median": round(median, 2), "p90": round(float(p90), 2), "max": round(float(ordered[-1][0]), 2)}


def waiting_times(conn: Connection) -> list[dict[str, Any]]:
    """Days from allocation (Toewijzingsdatum, else Ingangsdatum) to the start of care, per provider."""
    a, s = t.allocations.c, t.starts.c
    days = _day_diff(conn, func.coalesce(a.toewijzingsdatum, a.ingangsdatum), s.begindatum).label("days")
    stmt = (
        select(a.aanbieder, days, func.count().label("n"))
        .select_from(t.allocations.join(t.starts, and_(
            s.law == a.law, s.gemeente == a.gemeente, s.aanbieder == a.aanbieder,
            s.client_key == a.client_key, s.toewijzingnummer == a.toewijzingnummer,
        )))
        .where(s.status == "active")
        .group_by(a.aanbieder, days)
    )
    return _histogram_spread(conn.execute(stmt))


def care_durations(conn: Connection) -> list[dict[str, Any]]:
    """Days from start to stop of care per provider (active start and stop of the same product)."""
    s, p = t.starts.c, t.stops.c
    days = _day_diff(conn, s.begindatum, p.einddatum).label("days")
    stmt = (
        select(s.aanbieder, days, func.count().label("n"))
        .select_from(t.starts.join(t.stops, and_(
            p.law == s.law, p.gemeente == s.gemeente, p.aanbieder == s.aanbieder,
            p.client_key == s.client_key, p.toewijzingnummer == s.toewijzingnummer,
            p.categorie == s.categorie, p.code == s.code, p.begindatum == s.begindatum,
        )))
        .where(s.status == "active", p.status == "active")
        .group_by(s.aanbieder, days)
    )
    return _histogram_spread(conn.execute(stmt))


def declared_against_budget(conn: Connection, year: int, ceilings: dict[str, int] | None) -> list[dict[str, Any]]:
    """Accepted declared amount (debit minus credit, eurocent) per provider in `year`, with its
    budget ceiling from the contract registry when one is known."""
    p = t.prestaties.c
    signed = case((p.debet_credit == "C", -p.bedrag), else_=p.bedrag)
    stmt = (
        select(p.aanbieder, func.sum(signed).label("declared"))
        .where(p.status == "accepted", p.periode_begin >= date(year, 1, 1), p.periode_begin < date(year + 1, 1, 1))
        .group_by(p.aanbieder)
    )
    declared = {r.aanbieder: int(r.declared or 0) for r in conn.execute(stmt)}
    ceilings = ceilings or {}
    out = []
    for provider in sorted(set(declared) | set(ceilings)):
        ceiling = ceilings.get(provider)
        amount = declared.get(provider, 0)
        out.append({
            "provider": provider, "declared_cents": amount, "ceiling_cents": ceiling,
            "used": round(amount / ceiling, 4) if ceiling else None,
        })
    return out


def silent_providers(conn: Connection) -> list[dict[str, Any]]:
    """Providers holding allocations but never declaring under that law."""
    a, d = t.allocations.c, t.declarations.c
    no_decl = ~select(d.id).where(d.law == a.law, d.aanbieder == a.aanbieder).exists()
    stmt = (
        select(a.aanbieder, a.law, func.count().label("allocations"), func.min(a.ingangsdatum).label("since"))
        .where(no_decl)
        .group_by(a.aanbieder, a.law)
        .order_by(a.aanbieder)
    )
    return [
        {"provider": r.aanbieder, "law": r.law, "allocations": r.allocations,
         "since": r.since.isoformat() if r.since else None}
        for r in conn.execute(stmt)
    ]


def dashboard(conn: Connection, hours: int = 24, now: datetime | None = None,
              ceilings: dict[str, int] | None = None) -> dict[str, Any]:
    now = now or clock.now()
    since = now - timedelta(hours=hours)
    return {
        "since": since.isoformat(),
        "until": now.isoformat(),
        "per_hour": per_hour(conn, since, now),
        "top_rules": top_rules(conn, since, now),
        "rejection_rate": rejection_rate(conn, since, now),
        "retour_latency": retour_latency(conn, since, now),
        "retour_latency_sample": RETOUR_CAP if retour_latency_capped(conn, since, now) else None,
        "outbox_lag": outbox_lag(conn, now),
        "waiting_times": waiting_times(conn),
        "care_durations": care_durations(conn),
        "budget": declared_against_budget(conn, now.year, ceilings),
        "silent_providers": silent_providers(conn),
    }
