"""The store's StUF-GGk outbound part (revision 0009): parties reached through the chain and their
SOAP endpoint, the Di01s the gateway sends, the outbox rows delivered over SOAP, Fo01s received
and the answers (Du01, Fo01) linked to the message they answer.

Plain functions taking the Store (or, for what is written with a message, its Transaction), so the
store's own module stays as it is. SOAP rows are outbox rows with destination `soap`: the Kafka
publisher never claims them (Store.claim_outbox), `gateway.routing.soap_delivery` does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, insert, null, or_, select, update

from gateway.store import elided
from gateway.store import tables as t
from gateway.store.prepared import Prepared
from gateway.store.records import OutboxRecord
from gateway.store.store import PARKED, SOAP, ConflictError, now_utc



# --- parties reached through the chain ---------------------------------------------------------


@dataclass(frozen=True)
class ChainParty:
    party_id: str
    soap_url: str | None = None
    wsdl_url: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None


def set_chain_party(store: Any, party: ChainParty) -> None:
    """Add or change a party's chain settings (its party must exist)."""
    g = t.ggk_parties
    values = dict(soap_url=party.soap_url, wsdl_url=party.wsdl_url, tls_ca=party.tls_ca,
                  tls_cert=party.tls_cert, tls_key=party.tls_key, updated_at=now_utc())
    with store._conn() as conn:
        if conn.execute(select(t.parties.c.party_id).where(t.parties.c.party_id == party.party_id)).first() is None:
            raise LookupError(f"no party {party.party_id}")
        done = conn.execute(update(g).where(g.c.party_id == party.party_id).values(**values)).rowcount
        if not done:
            conn.execute(insert(g).values(party_id=party.party_id, **values))


def remove_chain_party(store: Any, party_id: str) -> bool:
    with store._conn() as conn:
        return bool(conn.execute(delete(t.ggk_parties).where(t.ggk_parties.c.party_id == party_id)).rowcount)


def chain_parties(store: Any) -> dict[str, ChainParty]:
    g = t.ggk_parties
    with store.engine.connect() as conn:
        rows = conn.execute(select(g)).mappings().all()
    return {r["party_id"]: ChainParty(r["party_id"], r["soap_url"], r["wsdl_url"], r["tls_ca"], r["tls_cert"],
                                      r["tls_key"]) for r in rows}


# --- the Di01s we send -------------------------------------------------------------------------


def save_outgoing(tx: Any, row: dict[str, Any]) -> None:
    """Record an outgoing Di01 (or the Du01 around a municipal 325) with its message, in the
    message's transaction (after the message row: in a group commit with the state changes)."""
    _insert_with_message(tx, insert(t.outgoing_envelopes), dict(row, created_at=now_utc()))


def save_repeat(tx: Any, message_id: str, row: dict[str, Any], transport: str | None,
                received_by: str | None) -> None:
    """A further envelope that brought the payload of message `message_id` (stored already), with
    the answer it got, in the transaction that answers it."""
    _insert_with_message(tx, insert(t.envelope_repeats), dict(
        row, message_id=message_id, received_at=now_utc(), transport=transport, received_by=received_by))


def _insert_with_message(tx: Any, stmt: Any, params: dict[str, Any]) -> None:
    """Run `stmt` in the message's transaction; in a group commit after the group's message rows
    (the row refers to its message), with the state changes."""
    if tx._writes is None:
        tx.conn.execute(stmt, params)
    else:
        tx._writes.later.append(lambda conn: conn.execute(stmt, params))


def repeats_of(store: Any, message_id: str) -> list[dict[str, Any]]:
    """The further envelopes that brought message `message_id` again, oldest first (no bytes)."""
    r = t.envelope_repeats
    cols = [c for c in r.c if c.name not in ("envelope", "answer")]
    with store.engine.connect() as conn:
        rows = conn.execute(select(*cols).where(r.c.message_id == message_id).order_by(r.c.id)).mappings().all()
    return [dict(x) for x in rows]


def envelope_of(store: Any, message_id: str, referentienummer: str) -> dict[str, Any] | None:
    """The envelope of message `message_id` with this referentienummer: the one it arrived in, or
    a further one that brought it again (with the answer each got)."""
    with store.engine.connect() as conn:
        for e in (t.message_envelopes, t.envelope_repeats):
            row = conn.execute(select(e).where(e.c.message_id == message_id,
                                               e.c.referentienummer == referentienummer)).mappings().first()
            if row is not None:
                return elided.whole_row(conn, row) if e is t.message_envelopes else dict(row)
    return None


_DECLARATION_DI01 = Prepared(
    select(t.messages.c.envelope_referentienummer.label("referentienummer"))
    .where(t.messages.c.sender == bindparam("sender"), t.messages.c.code == bindparam("code"),
           t.messages.c.identificatie == bindparam("identificatie"), t.messages.c.receiver == bindparam("receiver"),
           t.messages.c.envelope_berichtcode == "Di01")
    .order_by(t.messages.c.received_at.desc()).limit(1))


def declaration_di01(tx: Any, code: str, sender: str | None, receiver: str | None,
                     identificatie: str | None) -> str | None:
    """The referentienummer of the Di01 a 323 came in (None: it came bare, or is not stored):
    the 323 of `sender` to `receiver` with this Identificatie, its latest delivery. Read in the
    325's transaction (served by ix_messages_ident_received), prepared: built with Core for every
    325, the query cost more than its answer."""
    if not (sender and receiver and identificatie):
        return None
    found = _DECLARATION_DI01.first(tx.conn, dict(sender=sender, code=code, identificatie=identificatie,
                                                  receiver=receiver))
    return found["referentienummer"] if found else None


def outgoing_of(store: Any, message_id: str) -> list[dict[str, Any]]:
    o = t.outgoing_envelopes
    with store.engine.connect() as conn:
        rows = conn.execute(select(o).where(o.c.message_id == message_id).order_by(o.c.created_at)).mappings().all()
    return [dict(r) for r in rows]


def message_of_reference(conn: Any, referentienummer: str) -> str | None:
    """The message one of our envelopes belongs to: a Di01 we sent for it, or the Du01/Fo01 we
    answered it with."""
    o = t.outgoing_envelopes
    found = conn.execute(select(o.c.message_id).where(o.c.referentienummer == referentienummer)).scalar()
    for e in (t.message_envelopes, t.envelope_repeats):
        if found is None:
            found = conn.execute(select(e.c.message_id).where(e.c.answer_referentienummer == referentienummer)
                                 .limit(1)).scalar()
    return found


# --- SOAP rows of the outbox --------------------------------------------------------------------


def claim_soap(store: Any, limit: int, lease_seconds: float) -> list[OutboxRecord]:
    """Unsent SOAP rows whose time has come, oldest first. A row in back-off holds back the later
    rows of its party and key (order per key, as the Kafka publisher keeps it); a dead-lettered
    row (parked) does not. The claim is a lease like Store.claim_outbox's."""
    o = t.outbox
    earlier = t.outbox.alias("earlier")
    now = now_utc()
    with store._conn() as conn:
        blocked = exists().where(
            earlier.c.destination == SOAP, earlier.c.party == o.c.party,
            or_(earlier.c.key == o.c.key, and_(earlier.c.key.is_(None), o.c.key.is_(None))),
            earlier.c.id < o.c.id, earlier.c.published_at.is_(None),
            # in back-off (or in flight): not dead (parked), not claimable now. An earlier row that
            # is claimable now is claimed in this round, before this one.
            earlier.c.claimed_until >= now, earlier.c.claimed_until < PARKED,
        )
        q = (select(o).where(o.c.destination == SOAP, *t.outbox_waiting(o.c),
                             or_(o.c.claimed_until.is_(None), o.c.claimed_until < now), ~blocked)
             .order_by(o.c.id).limit(limit))
        if store.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = conn.execute(q).mappings().all()
        if rows:
            conn.execute(update(o).where(o.c.id.in_([r["id"] for r in rows]))
                         .values(claimed_until=now + timedelta(seconds=lease_seconds)))
    return [store._outbox_record(r) for r in rows]


def retry_later(store: Any, outbox_id: int, error: str, delay: float) -> None:
    """A transient failure: counted, kept, claimable again after `delay` seconds (never dead)."""
    o = t.outbox
    with store._conn() as conn:
        conn.execute(update(o).where(o.c.id == outbox_id, o.c.published_at.is_(None)).values(
            attempts=o.c.attempts + 1, last_error=error[:2000],
            claimed_until=now_utc() + timedelta(seconds=delay)))


def release(store: Any, outbox_ids: list[int]) -> None:
    """Rows claimed but not tried (behind a failed row of their key): claimable again at once,
    where the earlier row's back-off holds them back."""
    if not outbox_ids:
        return
    o = t.outbox
    with store._conn() as conn:
        conn.execute(update(o).where(o.c.id.in_(outbox_ids), o.c.published_at.is_(None))
                     .values(claimed_until=None))


DELIVERY_FAILED = "delivery_failed"  # messages.routing_state: one of its SOAP rows was refused


def refused(store: Any, outbox_id: int, error: str) -> None:
    """The peer refused the envelope for good (Fo03): this SOAP row alone becomes a dead letter
    (parked, never claimed again, the StUF code in last_error). The message's other rows (its
    stream and Kafka rows, another party's SOAP row) go on as they are and the message is not
    dead-lettered: its routing_state becomes `delivery_failed` (unless an operator dead-lettered
    it), which `Store.requeue_dead_letter` / the console's "Send again" undo."""
    o, m = t.outbox, t.messages
    with store._conn() as conn:
        message_id = conn.execute(select(o.c.message_id).where(o.c.id == outbox_id)).scalar()
        conn.execute(update(o).where(o.c.id == outbox_id, o.c.published_at.is_(None)).values(
            attempts=o.c.attempts + 1, last_error=error[:2000], claimed_until=PARKED))
        if message_id is not None:
            conn.execute(update(m).where(m.c.id == message_id, m.c.dead_letter.is_(False))
                         .values(routing_state=DELIVERY_FAILED))


def soap_rows_of(store: Any, message_id: str) -> list[OutboxRecord]:
    return [r for r in store.outbox_for(message_id) if r.destination == SOAP]


# --- Fo01s received ----------------------------------------------------------------------------


def save_fo01(store: Any, row: dict[str, Any]) -> tuple[int, bool]:
    """Store a received Fo01 (linked to our message when its crossRefnummer names one of our
    envelopes). The same Fo01 again: (its id, True). Another Fo01 under a referentienummer its
    zender used before: ConflictError (IB216)."""
    f = t.received_fo01
    sha = hashlib.sha256(row["fo01"]).hexdigest()
    with store._conn() as conn:
        same = conn.execute(select(f.c.id, f.c.sha256).where(
            f.c.zender == row["zender"], f.c.referentienummer == row["referentienummer"])).first()
        if same is not None:
            if same[1] != sha:
                raise ConflictError("referentienummer reused")
            return int(same[0]), True
        linked = message_of_reference(conn, row["cross_refnummer"]) if row.get("cross_refnummer") else None
        new = conn.execute(insert(f).values(**row, sha256=sha, message_id=linked, received_at=now_utc())
                           .returning(f.c.id)).scalar()
    return int(new), False


def get_fo01(store: Any, fo01_id: int) -> dict[str, Any] | None:
    f = t.received_fo01
    with store.engine.connect() as conn:
        r = conn.execute(select(f).where(f.c.id == fo01_id)).mappings().first()
    return dict(r) if r else None


_FO01_COLUMNS = [c for c in t.received_fo01.c if c.name != "fo01"]


def list_fo01(store: Any, *, unlinked: bool = False, party: str | None = None, limit: int = 100) -> list[dict]:
    """Received Fo01s, newest first; `unlinked`: those that name none of our envelopes;
    `party`: those addressed to or received from it."""
    f = t.received_fo01
    q = select(*_FO01_COLUMNS).order_by(f.c.received_at.desc(), f.c.id.desc()).limit(max(1, min(limit, 500)))
    if unlinked:
        q = q.where(f.c.message_id.is_(None))
    if party:
        q = q.where(or_(f.c.ontvanger == party, f.c.received_by == party, f.c.zender == party))
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings().all()]


# --- answers to a message's envelopes ----------------------------------------------------------


def answers(store: Any, message_id: str) -> dict[str, Any]:
    """What came back for a message: its outgoing envelopes (the Di01s we sent, the Du01/Fo01 we
    answered it with) and the Du01s and Fo01s whose crossRefnummer names one of them."""
    o, e, m, f = t.outgoing_envelopes, t.message_envelopes, t.messages, t.received_fo01
    with store.engine.connect() as conn:
        sent = [dict(r) for r in conn.execute(
            select(o.c.referentienummer, o.c.berichtcode, o.c.zender, o.c.ontvanger, o.c.functie, o.c.created_at)
            .where(o.c.message_id == message_id).order_by(o.c.created_at)).mappings().all()]
        # the answers to the envelope it came in and to any further envelope that brought it again
        r = t.envelope_repeats
        own = [*conn.execute(select(e.c.answer_code, e.c.answer_referentienummer, e.c.ontvanger, e.c.zender,
                                    null().label("received_at"))
                             .where(e.c.message_id == message_id)).all(),
               *conn.execute(select(r.c.answer_code, r.c.answer_referentienummer, r.c.ontvanger, r.c.zender,
                                    r.c.received_at)
                             .where(r.c.message_id == message_id).order_by(r.c.id)).all()]
        for code, ref, ontvanger, zender, at in own:
            if ref:
                sent.append({"referentienummer": ref, "berichtcode": code, "zender": ontvanger, "ontvanger": zender,
                             "functie": None, "created_at": at})
        refs = [s["referentienummer"] for s in sent]
        du01 = []
        fo01 = []
        if refs:
            du01 = [dict(r) for r in conn.execute(
                select(e.c.message_id, e.c.berichtcode, e.c.referentienummer, e.c.cross_refnummer, e.c.zender,
                       e.c.functie, m.c.received_at, m.c.code, m.c.verdict)
                .join(m, m.c.id == e.c.message_id)
                .where(e.c.cross_refnummer.in_(refs)).order_by(m.c.received_at)).mappings().all()]
        fo01 = [dict(r) for r in conn.execute(
            select(*_FO01_COLUMNS).where(or_(f.c.message_id == message_id, f.c.cross_refnummer.in_(refs or [""])))
            .order_by(f.c.received_at, f.c.id)).mappings().all()]
    return {"sent": sent, "du01": du01, "fo01": fo01}

