"""Read queries of the console, on the store's tables (read-only import of gateway.store.tables).

Every log query is an index range scan ordered by (received_at, id) with keyset pagination:
the page after a cursor starts strictly below it, so a page costs the same on page 1 and page
10 000, and no query counts or scans the whole table. Which index serves which filter:

- no filter / time / standard            ix_messages_received (standard is filtered in the scan)
- message type                            ix_messages_code_received
- sender / receiver / verdict / client    ix_messages_{sender,receiver,verdict,client}_received
- rule code / contract rule               ix_message_issues_rule_received, then messages by id
- free text on ids                        the primary key, and ix_messages_ident_received (sender, code,
                                          identificatie) probed with every known sender and type
- free text on numbers, client chain of   the state tables (gateway/console/statelookup.py) resolve
  declarations and answers                them to message ids first, then the primary key
- verdict "partly_rejected"               ix_messages_code_received on the 323 codes
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Text, and_, cast, func, literal, literal_column, or_, select, tuple_, union_all
from sqlalchemy.engine import Connection

from gateway.catalog import ALL as ALL_TYPES
from gateway.console import statelookup
from gateway.console.statelookup import distinct_senders
from gateway.store import tables as t
from gateway.xmlparse import hardened_parser

MAX_PAGE = 200
CHAIN_LIMIT = 200

# Columns of the log list: never raw XML, never the retour (they can be large).
LOG_COLUMNS = [
    t.messages.c.id,
    t.messages.c.received_at,
    t.messages.c.standard,
    t.messages.c.code,
    t.messages.c.sender,
    t.messages.c.receiver,
    t.messages.c.identificatie,
    t.messages.c.verdict,
    t.stored(t.messages.c.issues),  # (a rejected 323's are kept apart: gateway.store.tables.large_values)
    t.messages.c.bsn_masked,
    t.messages.c.client_key,
    t.messages.c.routing_state,
    t.messages.c.dead_letter,
    t.messages.c.replay_of,
    t.messages.c.transport,
]


class LogFilter(BaseModel):
    """The message-log filters, as the console's query string carries them."""

    since: datetime | None = None
    until: datetime | None = None
    standard: str | None = None
    code: str | None = None
    sender: str | None = None
    receiver: str | None = None
    verdict: str | None = None
    rule: str | None = None
    contract_rule: str | None = None
    client_key: str | None = None
    q: str | None = Field(
        None, description="a message id, BerichtIdentificatie, ToewijzingNummer or DeclaratieNummer")
    dead_letter: bool | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: str | None = None

    @field_validator(
        "standard", "code", "sender", "receiver", "verdict", "rule", "contract_rule", "client_key",
        "q", "cursor", mode="before",
    )
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            return v or None
        return v

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            v = v.replace(tzinfo=timezone.utc)
        return v


class BadCursor(ValueError):
    pass


def encode_cursor(received_at: datetime, message_id: str) -> str:
    raw = f"{_aware(received_at).isoformat()}|{message_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, mid = raw.split("|", 1)
        return _aware(datetime.fromisoformat(at)), mid
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("invalid cursor") from exc


def _aware(dt: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything the store writes is UTC.
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _db_time(conn: Connection, dt: datetime) -> datetime:
    """A timestamp as the store compares it: SQLite keeps naive UTC strings."""
    dt = _aware(dt)
    if conn.dialect.name == "sqlite":
        return dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def _codes_of_standard(standard: str) -> list[str]:
    return [m.code for m in ALL_TYPES if m.standard == standard.lower()]


def _message_conditions(conn: Connection, f: LogFilter) -> list[Any]:
    m = t.messages.c
    cond: list[Any] = []
    if f.since:
        cond.append(m.received_at >= _db_time(conn, f.since))
    if f.until:
        cond.append(m.received_at < _db_time(conn, f.until))
    if f.standard:
        cond.append(m.standard == f.standard.lower())
    if f.code:
        cond.append(m.code == f.code.upper())
    if f.sender:
        cond.append(m.sender == f.sender)
    if f.receiver:
        cond.append(m.receiver == f.receiver)
    if f.verdict == PARTLY_REJECTED:
        cond.append(_partly_rejected(conn))
        codes = _partly_codes(f)
        if f.code:
            cond.append(m.code.in_(codes))  # another type than 323 cannot match
        elif len(codes) == 1 or f.rule or f.contract_rule:
            cond.append(m.code.in_(codes) if len(codes) > 1 else m.code == codes[0])
        # else: log_statement walks ix_messages_code_received once per 323 code
    elif f.verdict:
        cond.append(m.verdict == f.verdict)
    if f.client_key:
        cond.append(_client_chain(conn, f.client_key))
    if f.dead_letter is not None:
        cond.append(m.dead_letter == f.dead_letter)
    if f.q:
        cond.append(_free_text(conn, f))
    return cond


# A 323 whose rejected prestaties were refused while the rest went through keeps verdict
# "accepted" (or flagged/review) with error issues: the log calls it partly rejected.
PARTLY_REJECTED = "partly_rejected"
_NOT_REJECTED = ("accepted", "flagged", "review")
# how the store serialises an error issue (json.dumps of Issue.public(): default separators)
_ERROR_ISSUE = '"severity": "error"'


def _partly_codes(f: LogFilter) -> list[str]:
    return [x.code for x in ALL_TYPES if x.number == "323" and (not f.standard or x.standard == f.standard.lower())]


def _partly_rejected(conn: Connection) -> Any:
    """Not rejected, with an error issue. Checked on the rows of an ordered walk of
    ix_messages_code_received (the caller fixes the code). strpos/instr rather than LIKE: the
    planner takes an unknown function result as common (1/3) where it takes LIKE '%..%' as very
    rare, and then prefers reading every 323 and sorting them to walking the index in order."""
    m = t.messages.c
    issues = cast(t.stored(m.issues, label=False), Text)
    found = func.strpos(issues, _ERROR_ISSUE) if conn.dialect.name == "postgresql" else func.instr(issues, _ERROR_ISSUE)
    return and_(m.verdict.in_(_NOT_REJECTED), found > 0)


def is_partly_rejected(row: dict[str, Any]) -> bool:
    return bool(
        (row.get("code") or "").endswith("323")
        and row.get("verdict") in _NOT_REJECTED
        and any(isinstance(i, dict) and i.get("severity") == "error" for i in row.get("issues") or [])
    )


def _client_chain(conn: Connection, key: str) -> Any:
    """The client's own messages (ix_messages_client_received) and the declarations holding its
    prestaties with their answers, resolved to ids through the state tables first (one OR of the
    client key and a short id list: both sides are index lookups)."""
    m = t.messages.c
    declarations = statelookup.declarations_of_clients(conn, [key])
    ids = sorted(set(declarations) | set(statelookup.answers_of(conn, declarations)))
    if not ids:
        return m.client_key == key
    return or_(m.client_key == key, m.id.in_(ids))


FREE_TEXT_CAP = 1000


def free_text_statements(conn: Connection, f: LogFilter, senders: list[str] | None = None) -> list[Any]:
    """Queries for the ids of messages whose BerichtIdentificatie is q (ix_messages_ident_received).

    ix_messages_ident_received starts with (sender, code); PostgreSQL 15 has no skip scan, so we hand it
    the senders that occur (found by a loose index scan) and the types they can send: IN lists it
    probes the index with. Gemeenten (4 digits) and aanbieders (8 digits) send different types,
    so each gets its own query: half the probes of one senders x all types list.
    """
    m = t.messages.c
    if senders is None:
        senders = [f.sender] if f.sender else distinct_senders(conn)
    types = [x for x in ALL_TYPES if (not f.standard or x.standard == f.standard.lower())
             and (not f.code or x.code == f.code.upper())]
    # the catalogue's sender role is who sends the type, retours included (an aanbieder sends 302)
    by_role = {"gemeente": [s for s in senders if len(s) == 4], "aanbieder": [s for s in senders if len(s) != 4]}
    out = []
    for role, group in by_role.items():
        codes = [x.code for x in types if x.sender_role == role]
        if group and codes:
            out.append(
                select(m.id)
                .where(m.sender.in_(group), m.code.in_(codes), m.identificatie == f.q)
                .limit(FREE_TEXT_CAP)
            )
    return out


def _free_text(conn: Connection, f: LogFilter) -> Any:
    """q as a message id (primary key), a BerichtIdentificatie, a ToewijzingNummer or a
    DeclaratieNummer, resolved to ids first: one OR over all would lead PostgreSQL to a
    sequential scan."""
    m = t.messages.c
    ids = {f.q}
    everyone = distinct_senders(conn)  # one loose index scan for both lookups
    for stmt in free_text_statements(conn, f, [f.sender] if f.sender else everyone):
        ids |= set(conn.execute(stmt).scalars())
    ids |= statelookup.ids_for_number(conn, f.q, f.standard, everyone)
    return m.id.in_(sorted(ids))


def log_statement(conn: Connection, f: LogFilter) -> Any | None:
    """The SELECT of one log page (limit + 1 rows), or None when the filters cannot match."""
    m = t.messages
    cond = _message_conditions(conn, f)
    rule = f.rule or f.contract_rule
    if f.rule and f.contract_rule and f.rule.upper() != f.contract_rule.upper():
        return None  # one issue row has one rule code: both cannot hold
    if rule:
        # Drive the scan from the issue index; the other filters apply per joined row.
        mi = t.message_issues
        order_at, order_id = mi.c.received_at, mi.c.message_id
        stmt = (
            select(*LOG_COLUMNS)
            .select_from(mi.join(m, m.c.id == mi.c.message_id))
            .where(mi.c.rule == rule.upper(), *cond)
        )
        if f.since:
            stmt = stmt.where(mi.c.received_at >= _db_time(conn, f.since))
        if f.until:
            stmt = stmt.where(mi.c.received_at < _db_time(conn, f.until))
    else:
        order_at, order_id = m.c.received_at, m.c.id
        stmt = select(*LOG_COLUMNS).where(*cond)
    if f.cursor:
        at, mid = decode_cursor(f.cursor)
        stmt = stmt.where(tuple_(order_at, order_id) < tuple_(literal(_db_time(conn, at)), literal(mid)))
    # One extra row tells whether there is a next page.
    stmt = stmt.order_by(order_at.desc(), order_id.desc()).limit(f.limit + 1)
    codes = _partly_codes(f)
    if not rule and f.verdict == PARTLY_REJECTED and not f.code and len(codes) > 1:
        # code IN (JW323, WMO323) would read every 323 and sort them: one ordered index walk per
        # code (ix_messages_code_received), each stopping after a page, merged.
        parts = [stmt.where(m.c.code == code).subquery().select() for code in codes]
        merged = union_all(*parts).subquery()
        return select(merged).order_by(merged.c.received_at.desc(), merged.c.id.desc()).limit(f.limit + 1)
    return stmt


def list_messages(conn: Connection, f: LogFilter) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the message log, newest first, and the cursor of the next page (or None)."""
    stmt = log_statement(conn, f)
    if stmt is None:
        return [], None
    rows = [dict(r._mapping) for r in conn.execute(stmt)]
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    seen: set[str] = set()
    page = []
    for r in rows:  # defensive: the store writes one issue row per rule and message
        if r["id"] in seen:
            continue
        seen.add(r["id"])
        page.append(_log_row(r))
    next_cursor = encode_cursor(rows[-1]["received_at"], rows[-1]["id"]) if more and rows else None
    return page, next_cursor


def _rules_of(issues: Any) -> list[str]:
    out: list[str] = []
    for i in issues or []:
        code = i.get("rule") if isinstance(i, dict) else None
        if code and code not in out:
            out.append(code)
    return out


def _log_row(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "received_at": _aware(r["received_at"]).isoformat(),
        "standard": r["standard"],
        "code": r["code"],
        "sender": r["sender"],
        "receiver": r["receiver"],
        "identificatie": r["identificatie"],
        "verdict": r["verdict"],
        "partly_rejected": is_partly_rejected(r),
        "rules": _rules_of(r["issues"]),
        "bsn": r["bsn_masked"],
        "client_key": r["client_key"],
        "routing_state": r["routing_state"],
        "dead_letter": bool(r["dead_letter"]),
        "replay_of": r["replay_of"],
        "transport": r["transport"],
    }


def get_message(conn: Connection, message_id: str) -> dict[str, Any] | None:
    """Every column of one message (raw XML and retour included), or None."""
    row = conn.execute(select(*t.with_stored(t.messages)).where(t.messages.c.id == message_id)).first()
    if row is None:
        return None
    d = dict(row._mapping)
    d["received_at"] = _aware(d["received_at"])
    return d


def outbox_rows(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    """The routing history of a message: its outbox rows, oldest first (payload left out)."""
    o = t.outbox.c
    stmt = (
        select(o.id, o.destination, o.party, o.key, o.created_at, o.published_at, o.attempts, o.last_error)
        .where(o.message_id == message_id)
        .order_by(o.id)
    )
    out = []
    for r in conn.execute(stmt):
        d = dict(r._mapping)
        for k in ("created_at", "published_at"):
            d[k] = _aware(d[k]).isoformat() if d[k] else None
        out.append(d)
    return out


# the bytes (the payload's BSNs), and how they are kept
_NOT_SHOWN = frozenset({"envelope_cut", "answer_cut", "envelope_payload_at", "answer_payload_at", "message_id"})


def envelope(conn: Connection, message_id: str) -> dict[str, Any] | None:
    """The StUF-GGk envelope a message came in and the gateway's answer (Du01 / Fo01), as data:
    never the envelope's bytes, whose base64 payload would carry the BSNs past the masking. For a
    Fo01 its StUF code and text (the first XSD finding, masked by the caller)."""
    e = t.message_envelopes.c
    cols = [c for c in t.message_envelopes.c if c.name not in _NOT_SHOWN]
    # a Fo01 answer is kept whole (no payload of the message in it to cut out)
    row = conn.execute(select(*cols, e.answer_cut.label("answer")).where(e.message_id == message_id)).mappings().first()
    if row is None:
        return None
    out = {k: v for k, v in row.items() if k != "answer"}
    out["fout"] = None
    if row["answer_code"] == "Fo01" and row["answer"]:
        from gateway import ggk
        from gateway.ggk.errors import EnvelopeError

        try:
            fo01 = ggk.read(row["answer"])
            out["fout"] = {"code": fo01.code, "plek": fo01.plek, "omschrijving": fo01.omschrijving,
                           "details": fo01.details}
        except EnvelopeError:  # a stored answer the reader no longer takes: show the rest
            pass
    return out


def _bsns_in(raw: bytes | None, cap: int = 20) -> list[str]:
    """The BSNs in a message (a 323/325 names one per Client), without parsing twice."""
    from lxml import etree

    if not raw:
        return []
    try:
        root = etree.fromstring(raw, hardened_parser())
    except etree.XMLSyntaxError:
        return []
    found = [
        (el.text or "").strip() for el in root.iter()
        if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == "Bsn" and (el.text or "").strip()
    ]
    return list(dict.fromkeys(found))[:cap]


def chain(conn: Connection, msg: dict[str, Any], key_of: Any, limit: int = CHAIN_LIMIT) -> list[dict[str, Any]]:
    """The messages of this message's client(s), oldest first: allocation -> start -> stop ->
    declaration -> answer.

    Single-client messages carry a client key (ix_messages_client_received). A declaration or its
    answer names several clients and has none, so we hash the BSNs it holds with the store's key
    (`key_of`); the declarations holding prestaties of those clients and their answers come from
    the state tables (statelookup).
    """
    m = t.messages.c
    keys = [msg["client_key"]] if msg.get("client_key") else [k for k in map(key_of, _bsns_in(msg.get("raw"))) if k]
    rows: dict[str, dict[str, Any]] = {}
    declaration = statelookup.declaration_answered(conn, msg) if (msg.get("code") or "").endswith("325") else None
    if declaration is not None and not keys:
        # a 325 that refused nothing names no client: its declaration's clients are the chain
        keys = [k for k in map(key_of, _bsns_in(declaration["raw"])) if k]
    if keys:
        stmt = select(*LOG_COLUMNS).where(m.client_key.in_(keys)).order_by(m.received_at, m.id).limit(limit)
        for r in conn.execute(stmt):
            rows[r.id] = dict(r._mapping)
        declarations = statelookup.declarations_of_clients(conn, keys)
        if msg.get("id") and (msg.get("code") or "").endswith("323"):
            declarations.append(msg["id"])  # its own answers, also when it names no client (8001)
        if declaration is not None:
            declarations.append(declaration["id"])
        ids = sorted(set(declarations) | set(statelookup.answers_of(conn, declarations)))
        for i in range(0, len(ids), 500):
            for r in conn.execute(select(*LOG_COLUMNS).where(m.id.in_(ids[i:i + 500]))):
                rows[r.id] = dict(r._mapping)
    if msg.get("id") and msg["id"] not in rows:
        rows[msg["id"]] = {k: msg.get(k) for k in (c.name for c in LOG_COLUMNS)}
    ordered = sorted(rows.values(), key=lambda r: (_aware(r["received_at"]), r["id"]))
    return [_log_row(r) for r in ordered[:limit]]


def replays_statement(conn: Connection, message_id: str) -> Any:
    cond = t.messages.c.replay_of == message_id
    if conn.dialect.name == "sqlite":
        # Nearly every replay_of is NULL, so after ANALYZE SQLite's statistics make
        # ix_messages_replay_of look useless and it scans the table; likelihood() says the term
        # is rare, and it takes the index.
        cond = func.likelihood(cond, literal_column("0.000001"))
    # No ORDER BY either (SQLite would walk ix_messages_received for it): replays are few and
    # sorted in Python.
    return select(*LOG_COLUMNS).where(cond).limit(CHAIN_LIMIT)


def replays_of(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    rows = [dict(r._mapping) for r in conn.execute(replays_statement(conn, message_id))]
    rows.sort(key=lambda r: (_aware(r["received_at"]), r["id"]))
    return [_log_row(r) for r in rows]


def audit_entries(
    conn: Connection, target: str | None = None, limit: int = 100, before_id: int | None = None
) -> list[dict[str, Any]]:
    """Audit log entries, newest first; for one message when `target` is given."""
    a = t.audit_log.c
    stmt = select(t.audit_log)
    if target:
        stmt = stmt.where(a.target == target)
    if before_id:
        stmt = stmt.where(a.id < before_id)
    stmt = stmt.order_by(a.at.desc(), a.id.desc()).limit(min(limit, 500))
    out = []
    for r in conn.execute(stmt):
        d = dict(r._mapping)
        d["at"] = _aware(d["at"]).isoformat()
        out.append(d)
    return out


def facets(conn: Connection) -> dict[str, list[str]]:
    """Choices for the filter form: standards, message types and the registered parties."""
    parties = [dict(r._mapping) for r in conn.execute(
        select(t.parties.c.party_id, t.parties.c.role, t.parties.c.name).order_by(t.parties.c.party_id)
    )]
    return {
        "standards": ["ijw", "iwmo"],
        "codes": [x.code for x in ALL_TYPES],
        "parties": parties,
    }
