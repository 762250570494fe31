"""What happened to a declaration, a prestatie or a client's care in a month, read from stored facts.

A 323's prestaties are stored with their outcome when the gateway judges the 323 (accepted, or
rejected with the retourcodes of its 325) and again when the municipality's own 325 arrives
(`apply._declaration_answer` links it and records what it rejected). Nothing here scans messages.
A party sees only declarations in which it is the aanbieder or the gemeente.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Connection

from gateway.store import tables as t

_d, _p = t.declarations, t.prestaties
LAWS = {"ijw": "jeugd", "jeugd": "jeugd", "iwmo": "wmo", "wmo": "wmo"}


def _visible(table: Any, party: str) -> Any:
    return or_(table.c.aanbieder == party, table.c.gemeente == party)


def _prestatie(row: Any) -> dict[str, Any]:
    return {
        "referentienummer": row.referentienummer, "vorig_referentienummer": row.vorig_referentienummer,
        "debet_credit": row.debet_credit, "toewijzingnummer": row.toewijzingnummer,
        "product": {"categorie": row.categorie, "code": row.code},
        "periode": {"begin": row.periode_begin.isoformat(), "eind": row.periode_eind.isoformat()},
        "volume": row.volume, "eenheid": row.eenheid, "tarief": row.tarief, "bedrag": row.bedrag,
        "status": row.status, "retourcodes": list(row.retourcodes or []), "granted": row.granted,
        "decided_by": row.decided_by, "credited": bool(row.credited), "declaration_message_id": row.message_id,
    }


def _totals(prestaties: list[dict[str, Any]]) -> dict[str, int]:
    def signed(p: dict[str, Any]) -> int:
        return -p["bedrag"] if p["debet_credit"] == "C" else p["bedrag"]

    return {
        "submitted": sum(signed(p) for p in prestaties),
        # rows stored before revision 0007 have no granted amount: accepted means granted in full,
        # as in totals()
        "granted": sum(signed(p) if p["granted"] is None else p["granted"]
                       for p in prestaties if p["status"] == "accepted"),
        "rejected": sum(signed(p) for p in prestaties if p["status"] == "rejected"),
        "prestaties": len(prestaties),
        "prestaties_rejected": sum(1 for p in prestaties if p["status"] == "rejected"),
    }


def _first(conn: Connection, table: Any, column: str, value: str, law: str, party: str) -> Any:
    """The first row of `table` with `column` = value under the law, of a declaration the party is in."""
    return conn.execute(
        select(table).where(table.c.law == LAWS.get(law, law), table.c[column] == value, _visible(table, party))
        .order_by(table.c.id).limit(1)
    ).first()


def declaration(conn: Connection, law: str, declaratienummer: str, party: str) -> dict[str, Any] | None:
    """A declaration by its number (unique per aanbieder and law), with every prestatie's outcome."""
    head = _first(conn, _d, "declaratienummer", declaratienummer, law, party)
    if head is None:
        return None
    rows = conn.execute(select(_p).where(_p.c.declaration_id == head.id).order_by(_p.c.id)).all()
    prestaties = [_prestatie(r) for r in rows]
    return {
        "law": head.law, "declaratienummer": head.declaratienummer, "gemeente": head.gemeente,
        "aanbieder": head.aanbieder, "message_id": head.message_id, "identificatie": head.identificatie,
        "periode": {"begin": head.periode_begin.isoformat(), "eind": head.periode_eind.isoformat()},
        "answer_message_id": head.answer_message_id,
        "answered_at": head.answered_at.isoformat() if head.answered_at else None,
        "totals": _totals(prestaties), "prestaties": prestaties,
    }


def prestatie(conn: Connection, law: str, referentienummer: str, party: str) -> dict[str, Any] | None:
    """One prestatie by its ReferentieNummer (unique per aanbieder and law; the caller's own)."""
    row = _first(conn, _p, "referentienummer", referentienummer, law, party)
    if row is None:
        return None
    number = conn.execute(select(_d.c.declaratienummer).where(_d.c.id == row.declaration_id)).scalar()
    return {**_prestatie(row), "declaratienummer": number, "gemeente": row.gemeente, "aanbieder": row.aanbieder}


def client_period(conn: Connection, client_key: str, first: date, last: date, party: str) -> dict[str, Any]:
    """Every prestatie of one client whose period overlaps [first, last], and their totals."""
    rows = conn.execute(
        select(_p, _d.c.declaratienummer).join(_d, _d.c.id == _p.c.declaration_id)
        .where(_p.c.client_key == client_key, _visible(_p, party),
               _p.c.periode_begin <= last, _p.c.periode_eind >= first)
        .order_by(_p.c.periode_begin, _p.c.id)
    ).all()
    prestaties = [{**_prestatie(r), "declaratienummer": r.declaratienummer} for r in rows]
    return {"periode": {"begin": first.isoformat(), "eind": last.isoformat()},
            "totals": _totals(prestaties), "prestaties": prestaties}


def totals(conn: Connection, party: str, first: date, last: date) -> list[dict[str, Any]]:
    """Per law, gemeente and aanbieder: what was declared for care in [first, last] and what became
    of it (eurocent; credits count negative). The region indicators read these same facts."""
    signed = case((_p.c.debet_credit == "C", -_p.c.bedrag), else_=_p.c.bedrag)
    rejected = _p.c.status == "rejected"
    rows = conn.execute(
        select(
            _p.c.law, _p.c.gemeente, _p.c.aanbieder,
            func.count().label("prestaties"),
            func.sum(signed).label("submitted"),
            func.sum(case((rejected, 0), else_=func.coalesce(_p.c.granted, signed))).label("granted"),
            func.sum(case((rejected, signed), else_=0)).label("rejected"),
            func.sum(case((rejected, 1), else_=0)).label("prestaties_rejected"),
        )
        .where(_visible(_p, party), and_(_p.c.periode_begin <= last, _p.c.periode_eind >= first))
        .group_by(_p.c.law, _p.c.gemeente, _p.c.aanbieder)
        .order_by(_p.c.law, _p.c.gemeente, _p.c.aanbieder)
    ).all()
    return [{"law": r.law, "gemeente": r.gemeente, "aanbieder": r.aanbieder, "prestaties": int(r.prestaties),
             "prestaties_rejected": int(r.prestaties_rejected or 0), "submitted": int(r.submitted or 0),
             "granted": int(r.granted or 0), "rejected": int(r.rejected or 0)} for r in rows]
