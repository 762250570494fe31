"""Find messages through the store's cross-message state tables (read-only).

A declaration (323) names several clients and its answer (325) none on the messages row, so the
client chain and the free-text search reach them through the state the store keeps per product:

- declarations holding a client's prestaties: prestaties by client key (ix_prestaties_client);
- a DeclaratieNummer: declarations (its unique key: law, aanbieder, declaratienummer), probed with
  every aanbieder that sends (loose index scan) and both laws;
- a ToewijzingNummer: allocation_numbers (primary key: law, gemeente, toewijzingnummer) gives the
  owner's client key, whose messages carrying the number are the allocation, start, stop and
  change requests; prestaties on the number give the declarations;
- the answer (325) of a declaration: the link the store keeps when the 325 arrives
  (declarations.answer_message_id, by ix_declarations_message).

Every lookup is bounded (LOOKUP_CAP rows) so one search box entry cannot read a whole table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from gateway.catalog import ALL as ALL_TYPES
from gateway.store import tables as t
from gateway.xmlparse import hardened_parser

LOOKUP_CAP = 1000  # rows any one lookup reads
LAW_OF = {"ijw": "jeugd", "iwmo": "wmo"}
DECLARATION_CODES = {x.standard: x.code for x in ALL_TYPES if x.number == "323"}
ANSWER_CODES = {x.standard: x.code for x in ALL_TYPES if x.number == "325"}
STANDARD_OF_LAW = {v: k for k, v in LAW_OF.items()}


def laws(standard: str | None) -> list[str]:
    if standard:
        law = LAW_OF.get(standard.lower())
        return [law] if law else []
    return list(LAW_OF.values())


def declarations_of_clients(conn: Connection, keys: Iterable[str]) -> list[str]:
    """Message ids of the 323s holding prestaties of these clients (ix_prestaties_client), also
    when the client's allocation never passed through the gateway."""
    keys = [k for k in keys if k]
    if not keys:
        return []
    p = t.prestaties.c
    stmt = select(p.message_id).where(p.client_key.in_(keys)).distinct().limit(LOOKUP_CAP)
    return sorted(conn.execute(stmt).scalars())


def _header_declaratie_identificatie(raw: bytes | None) -> str | None:
    if not raw:
        return None
    try:
        root = etree.fromstring(raw, hardened_parser())
    except etree.XMLSyntaxError:
        return None
    for el in root:
        if isinstance(el.tag, str) and etree.QName(el).localname == "Header":
            for h in el:
                if isinstance(h.tag, str) and etree.QName(h).localname == "DeclaratieIdentificatie":
                    for i in h:
                        if isinstance(i.tag, str) and etree.QName(i).localname == "Identificatie":
                            return (i.text or "").strip() or None
    return None


def answers_of(conn: Connection, declaration_ids: Iterable[str]) -> list[str]:
    """Message ids of the 325s that answered these 323s (linked when each 325 arrived)."""
    ids = sorted(set(declaration_ids))[:LOOKUP_CAP]
    if not ids:
        return []
    d = t.declarations.c
    rows = conn.execute(
        select(d.answer_message_id).where(d.message_id.in_(ids), d.answer_message_id.is_not(None))
    ).all()
    return sorted({r[0] for r in rows})


def declaration_answered(conn: Connection, answer: dict[str, Any]) -> dict[str, Any] | None:
    """The 323 (id, raw) a stored 325 answers: its DeclaratieIdentificatie, sent by the 325's
    receiver (ix_messages_ident_received: sender, code, identificatie)."""
    m = t.messages.c
    ident = _header_declaratie_identificatie(answer.get("raw"))
    code = DECLARATION_CODES.get(answer.get("standard") or "")
    if not (ident and code and answer.get("receiver")):
        return None
    row = conn.execute(
        select(m.id, t.stored(m.raw)).where(m.sender == answer["receiver"], m.code == code, m.identificatie == ident)
        .order_by(m.sender, m.code, m.identificatie).limit(1)
    ).first()
    return dict(row._mapping) if row else None


# A loose index scan: the distinct senders, one index probe each (ix_messages_sender_received),
# instead of DISTINCT over the whole table. Plain SQL that SQLite and PostgreSQL both run.
_DISTINCT_SENDERS = text(
    """
    WITH RECURSIVE s(sender) AS (
        SELECT min(sender) FROM messages
        UNION ALL
        SELECT (SELECT min(m.sender) FROM messages m WHERE m.sender > s.sender) FROM s
        WHERE s.sender IS NOT NULL
    )
    SELECT sender FROM s WHERE sender IS NOT NULL
    """
)


def distinct_senders(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute(_DISTINCT_SENDERS)]


def _parties(conn: Connection, senders: Iterable[str] | None = None) -> tuple[list[str], list[str]]:
    """(gemeenten, aanbieders): the registered parties and every sender (loose index scan, unless
    the caller ran it already)."""
    found = set(distinct_senders(conn) if senders is None else senders)
    found.update(conn.execute(select(t.parties.c.party_id)).scalars())
    return sorted(p for p in found if len(p) == 4), sorted(p for p in found if len(p) == 8)


def ids_for_number(conn: Connection, q: str, standard: str | None = None,
                   senders: Iterable[str] | None = None) -> set[str]:
    """Ids of the messages carrying `q` as a ToewijzingNummer or a DeclaratieNummer (their
    declarations' answers included). Only accepted messages leave state, so a number that only a
    rejected message carried is found through its client's messages, or not at all."""
    q = q.strip()
    wanted = laws(standard)
    if not q or len(q) > 64 or not wanted:
        return set()
    gemeenten, aanbieders = _parties(conn, senders)
    ids: set[str] = set()
    declaration_ids: set[str] = set()
    if aanbieders:
        d = t.declarations.c
        declaration_ids.update(conn.execute(
            select(d.message_id)
            .where(d.law.in_(wanted), d.aanbieder.in_(aanbieders), d.declaratienummer == q)
            .limit(LOOKUP_CAP)
        ).scalars())
    if gemeenten and len(q) <= 32:
        n, p = t.allocation_numbers.c, t.prestaties.c
        owners = conn.execute(
            select(n.law, n.client_key, n.message_id)
            .where(n.law.in_(wanted), n.gemeente.in_(gemeenten), n.toewijzingnummer == q)
            .limit(LOOKUP_CAP)
        ).all()
        ids.update(o.message_id for o in owners)
        if owners:
            m = t.messages.c
            for r in conn.execute(
                select(m.id, m.allocation_numbers)
                .where(m.client_key.in_(sorted({o.client_key for o in owners})))
                .limit(LOOKUP_CAP)
            ):
                if q in {str(x) for x in (r.allocation_numbers or [])}:
                    ids.add(r.id)
        declaration_ids.update(conn.execute(
            select(p.message_id)
            .where(p.law.in_(wanted), p.gemeente.in_(gemeenten), p.toewijzingnummer == q)
            .limit(LOOKUP_CAP)
        ).scalars())
    ids |= declaration_ids
    ids.update(answers_of(conn, declaration_ids))
    return ids


def prestatie_counts(conn: Connection, msg: dict[str, Any]) -> dict[str, int] | None:
    """{"total", "rejected"} prestaties of a stored 323 (rejected by the gateway or later by the
    gemeente's 325), found by their ReferentieNummers (the prestaties' unique key); None when the
    message is no 323 or left no state (it was rejected as a whole)."""
    from gateway.catalog import by_code
    from validators import extract

    code = msg.get("code") or ""
    if not code.endswith("323") or not msg.get("raw") or not msg.get("sender"):
        return None
    try:
        root = etree.fromstring(msg["raw"], hardened_parser())
    except etree.XMLSyntaxError:
        return None
    refs = [pr.referentienummer for pr in extract.declaratie(root).prestaties if pr.referentienummer]
    law = by_code(code).law
    p = t.prestaties.c
    total = rejected = 0
    for i in range(0, len(refs), 500):
        for r in conn.execute(
            select(p.status).where(p.law == law, p.aanbieder == msg["sender"], p.referentienummer.in_(refs[i:i + 500]),
                                   p.message_id == msg["id"])
        ):
            total += 1
            rejected += r.status == "rejected"
    if total == 0:
        return None
    return {"total": total, "rejected": rejected}
