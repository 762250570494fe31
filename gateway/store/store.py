"""The durable message store: one synchronous, typed API over SQLite or PostgreSQL.

`open_store(url)` migrates the database and returns a `Store`. Everything one message changes
(message row, issues, identifier, state, outbox rows, audit) happens in one `store.transaction()`,
so a crash leaves either all of it or none of it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lxml import etree
from sqlalchemy import (
    and_, bindparam, event, exists, func, insert, literal, null, or_, select, tuple_, union_all, update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from gateway import clock
from gateway.catalog import MessageType
from gateway.store import checkpoint, elided, pgqueue
from gateway.store import tables as t
from gateway.store.apply import apply_state as _apply_state
from gateway.store.clientkey import client_key, mask_bsn, resolve_secret
from gateway.store.engine import make_engine, migrate
from gateway.store.ids import new_id
from gateway.store.issuejson import issue_json
from gateway.store.kept import KeptConnections
from gateway.store.prepared import (
    LARGE,
    Deferred,
    Prepared,
    Pieces,
    Processed,
    _error,
    command,
    forget_kept,
    insert_together,
    pipeline_supported,
    pipelined,
)
from gateway.store.records import (
    ApiKeyRecord,
    AuditRecord,
    ClientCertRecord,
    EncodedHeaders,
    ContractBundleRecord,
    MessageFilter,
    MessagePage,
    MessageRecord,
    OutboxRecord,
    OutboxRow,
    PartyRecord,
    StreamItem,
    UserRecord,
)
from gateway.store.state import StateView, group_reads, group_size, group_sizes, prepare_group_reads
from gateway.xmlparse import hardened_parser
from validators import extract
from validators.issues import Issue

VERDICTS = ("accepted", "rejected", "flagged", "review", "transport_rejected")
STREAM = "stream"  # outbox destination of rows read through GET /v1/streams/{party}
SOAP = "soap"  # outbox destination of envelopes delivered to a party's SOAP endpoint (gateway.store.ggk)
# A dead-lettered outbox row's claimed_until: parked far in the future rather than deleted, it stays visible.
PARKED = datetime(9999, 1, 1, tzinfo=UTC)


class ConflictError(RuntimeError):
    """A unique constraint stopped a concurrent write: the message was not stored; process it again."""


def _primary_message(error: BaseException | None) -> str:
    """A DBAPI error's first line: which constraint failed. PostgreSQL's DETAIL after it names
    the row's values (a BSN, a message's bytes), which a ConflictError must not carry on."""
    primary = getattr(getattr(error, "diag", None), "message_primary", None)
    return primary or str(error).split("\n", 1)[0]


def now_utc() -> datetime:
    return clock.now()


def _utc(dt: datetime | None) -> datetime | None:
    """Stored times are UTC; SQLite hands them back naive."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _db_time(dt: datetime | None) -> datetime | None:
    return None if dt is None else _utc(dt)


def lock_id(key: str) -> int:
    """A signed 64-bit advisory lock id for a lock key string."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def issue_dict(issue: Any) -> dict[str, Any]:
    """An Issue as stored: its public form plus the retourcode, class path and action."""
    if isinstance(issue, dict):
        return dict(issue)
    data = issue.public()
    data.update(
        retourcode=getattr(issue, "retourcode", None),
        class_path=getattr(issue, "class_path", None),
        action=getattr(issue, "action", None),
    )
    return data


def _headers_out(headers: Iterable[tuple[str, bytes | str]]) -> list[list[str]] | list[tuple[str, str]]:
    """A row's headers as stored: [name, text] pairs (JSON arrays; the texts the gateway's own
    headers were made of as they are, records.EncodedHeaders)."""
    if headers.__class__ is EncodedHeaders:
        return headers.texts  # type: ignore[attr-defined]
    return [[name, value.decode("utf-8", "replace") if isinstance(value, bytes) else value]
            for name, value in headers]


def _headers_in(stored: Any) -> list[tuple[str, bytes]]:
    return [(n, v.encode()) for n, v in (stored or [])]


def _row_to_message(row: Any, with_bytes: bool = False) -> MessageRecord:
    data = {k: row[k] for k in MessageRecord.model_fields if k not in ("raw", "retour") and k in row}
    data["received_at"] = _utc(data["received_at"])
    data["allocation_numbers"] = data.get("allocation_numbers") or []
    if with_bytes:
        data["raw"] = row["raw"]
        data["retour"] = row["retour"]
    return MessageRecord(**data)


def encode_cursor(received_at: datetime, message_id: str) -> str:
    raw = f"{_utc(received_at).isoformat()}|{message_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """(received_at, id) from a cursor; ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, message_id = raw.split("|", 1)
        return _utc(datetime.fromisoformat(at)), message_id
    except Exception as exc:
        raise ValueError("invalid cursor") from exc


# Statements built once: SQLAlchemy then reuses their compiled form, and building a statement per
# message cost more than running it (issue 14). Values are passed as parameters.
# The ones on every message's path run on the DBAPI cursor (gateway.store.prepared).
_INSERT_MESSAGE = Prepared(insert(t.messages))
_ENCODE_AT_ONCE = 1000  # issues of a message from which they are encoded when it is saved
_INSERT_ISSUES = Prepared(insert(t.message_issues))
_INSERT_IDENTIFIER = Prepared(insert(t.message_identifiers))
_INSERT_OUTBOX = Prepared(insert(t.outbox))
_ENVELOPE_COLUMNS = {name: t.stored_envelope_column(name) for name in t.ENVELOPE_FIELDS}
# IB216 for a new message's envelope against the further envelopes (envelope_repeats): the unique
# index on messages sees only the envelopes messages came in (revision 0016: a trigger on messages
# cost every message, bare ones too, about 40 us on SQLite).
# EXISTS rather than LIMIT 1: a LIMIT's own parameters took Prepared's slow path for its
# parameters, at every enveloped message.
_REPEAT_REFERENCE = Prepared(
    select(exists().where(t.envelope_repeats.c.zender == bindparam("zender"),
                          t.envelope_repeats.c.referentienummer == bindparam("referentienummer")).label("took")))
_FIND_ENVELOPE = [
    select(e.c.message_id, e.c.envelope_sha256, e.c.answer_code, e.c.answer_referentienummer).where(
        e.c.zender == bindparam("zender"), e.c.referentienummer == bindparam("referentienummer"))
    for e in (t.message_envelopes, t.envelope_repeats)  # the first envelope of a message, then further ones
]
_INSERT_OUTBOX_RETURNING = insert(t.outbox).returning(t.outbox.c.id, sort_by_parameter_order=True)
_MARK_PENDING = Prepared(
    update(t.messages)
    .where(t.messages.c.id == bindparam("mid"), t.messages.c.routing_state == "none")
    .values(routing_state="pending")
)
def _same_conditions(sender: Any) -> tuple[Any, ...]:
    """A stored original with these bytes under (sender, code, identificatie): the duplicate check."""
    m = t.messages.c
    return (sender, m.code == bindparam("code"), m.identificatie == bindparam("identificatie"),
            m.sha256 == bindparam("sha256"), m.replay_of.is_(None), m.verdict != "transport_rejected")


def _same_message(sender: Any) -> Any:
    """The first stored original with these bytes under (sender, code, identificatie)."""
    m = t.messages.c
    return select(*t.with_stored(t.messages)).where(*_same_conditions(sender)).order_by(m.received_at, m.id).limit(1)


_SAME_MESSAGE = Prepared(_same_message(t.messages.c.sender == bindparam("sender")))


def _same_exists() -> Any:
    """Whether _SAME_MESSAGE finds a message (an EXISTS of the same conditions)."""
    return exists().where(*_same_conditions(t.messages.c.sender == bindparam("sender")))


def _same_message_or_repeat() -> Any:
    """repeat_took and whether _SAME_MESSAGE finds a message, in one statement for an enveloped
    message (one row of two EXISTS): the lookup on its own cost an enveloped message a
    statement's round through the driver (about 35,000 instructions of the 545,000 an envelope
    added, issue 17). Whether, not which: an earlier delivery is rare (it is then read as
    find_same_message reads it), and its 40 columns, NULL or not, cost more to fetch than the
    statement saved; and no LIMIT, whose parameters took Prepared's slow path."""
    r = t.envelope_repeats.c
    took = exists().where(r.zender == bindparam("zender"), r.referentienummer == bindparam("referentienummer"))
    return select(took.label("repeat_took"), _same_exists().label("same"))


_SAME_MESSAGE_OR_REPEAT = Prepared(_same_message_or_repeat())
# A bare message's duplicate check asks whether first, as the enveloped one does: the row's 40
# columns (fetched, converted, made a dict, then a MessageRecord) cost more than the second
# statement an earlier delivery (rare) then takes.
_SAME_MESSAGE_EXISTS = Prepared(select(_same_exists().label("same")))
_SAME_MESSAGE_NO_SENDER = Prepared(_same_message(t.messages.c.sender.is_(None)))

_SAME_MESSAGES: dict[int, Prepared] = {}


def _same_messages(n: int) -> Prepared:
    """The messages under any of `n` (sender, code, identificatie), earliest first: one OR of
    equalities (parameters s<i>, c<i>, i<i>), which SQLite answers from the identifier index.
    A row-value IN list, or a condition on replay_of next to it, made SQLite scan the whole table
    (it took the replay_of index: a group's lookup grew with every message stored, and 8 senders
    were slower than one). Replays and transport rejections are left out by the caller."""
    n = group_size(n)  # (the parameters of the keys not needed are NULL: Batch.prefetch)
    found = _SAME_MESSAGES.get(n)
    if found is None:
        m = t.messages.c
        found = _SAME_MESSAGES[n] = Prepared(
            select(*t.with_stored(t.messages))
            .where(or_(*(and_(m.sender == bindparam(f"s{i}"), m.code == bindparam(f"c{i}"),
                              m.identificatie == bindparam(f"i{i}")) for i in range(n))))
            .order_by(m.received_at, m.id)
        )
    return found


_IDENTIFIERS: dict[int, Prepared] = {}
_SAME_AND_IDENTIFIERS: dict[int, Prepared] = {}
_PREPARED_GROUP = 16  # group lookups compiled beforehand up to this size (Store._prepare_group_lookups)


def _identifiers(n: int) -> Prepared:
    """The registered identifiers among `n` (sender, code, identificatie), parameters as in
    `_same_messages` (TR056 for a whole group)."""
    n = group_size(n)
    found = _IDENTIFIERS.get(n)
    if found is None:
        mi = t.message_identifiers.c
        found = _IDENTIFIERS[n] = Prepared(
            select(mi.sender, mi.code, mi.identificatie)
            .where(or_(*(and_(mi.sender == bindparam(f"s{i}"), mi.code == bindparam(f"c{i}"),
                              mi.identificatie == bindparam(f"i{i}")) for i in range(n))))
        )
    return found


def _same_and_identifiers(n: int) -> Prepared:
    """PostgreSQL: `_same_messages` and `_identifiers` as one statement (UNION ALL; the same
    parameters): each row's `found_as` says which ("m": a message row, "i": a registered identifier,
    in sender/code/identificatie, its other columns NULL). A statement sent costs the client some
    70,000 instructions whatever it reads (psycopg's execution in Python), and every group sent
    both (Batch.prefetch)."""
    n = group_size(n)
    found = _SAME_AND_IDENTIFIERS.get(n)
    if found is None:
        mi = t.message_identifiers.c
        columns = t.with_stored(t.messages)
        registered = {"sender": mi.sender, "code": mi.code, "identificatie": mi.identificatie}
        messages = _same_messages(n).stmt.order_by(None).add_columns(literal("m").label("found_as"))
        identifiers = select(
            *(registered[c.name].label(c.name) if c.name in registered else null().label(c.key) for c in columns),
            literal("i").label("found_as"),
        ).where(or_(*(and_(mi.sender == bindparam(f"s{i}"), mi.code == bindparam(f"c{i}"),
                           mi.identificatie == bindparam(f"i{i}")) for i in range(n))))
        union = union_all(messages, identifiers).subquery()
        found = _SAME_AND_IDENTIFIERS[n] = Prepared(
            select(union).order_by(union.c.found_as, union.c.received_at, union.c.id))
    return found


class Writes:
    """Rows of a group of messages, written at the end of their shared transaction with one
    executemany per table (gateway.store.group). State changes run in message order after the
    message rows (their foreign keys point at them)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.issues: list[dict[str, Any]] = []
        self.identifiers: list[dict[str, Any]] = []
        self.later: list[Any] = []  # callables (conn) -> None: state, in message order
        self.outbox: list[dict[str, Any]] = []
        # state writes kept back by the `later` callables (prepared.Deferred): one executemany each
        self.deferred: dict[Prepared, list[Any]] = {}

    def flush(self, conn: Connection, commit: bool = False) -> None:
        """`commit`: PostgreSQL commits in the round trip of the group's rows, not in one of its
        own (the transaction's end then finds nothing left to commit). Other databases commit as
        they did; so does a caller without `commit`."""
        # PostgreSQL: the whole flush in one pipeline, answered at its end: a group without reads
        # in its state changes costs one round trip (with the COMMIT), where the message rows,
        # the state changes and the commit took one each. A state change's read waits for what
        # was sent before it; its Core statement ends the pipeline (Pipeline), which the next
        # change resumes.
        with pipelined(conn) as pipeline:
            insert_together(conn, ((_INSERT_MESSAGE, self.messages), (_INSERT_ISSUES, self.issues),
                                   (_INSERT_IDENTIFIER, self.identifiers), (_INSERT_OUTBOX, self.outbox)))
            for write in self.later:  # (their rows refer to the messages: after them)
                write(conn)
                pipeline.resume()
            for stmt, rows in self.deferred.items():  # the state rows, one executemany per statement
                stmt.executemany(conn, rows)
            if commit and pipeline.resume():  # queued behind them, answered with them at the block's end
                command(conn, "COMMIT")


class Transaction:
    """One message's unit of work: read state, store the message and its effects, or nothing.

    With `writes` (a group commit) the rows are collected there and written when the group's
    transaction ends, instead of at once; reads see the state as the group found it."""

    def __init__(self, store: Store, conn: Connection, writes: Writes | None = None,
                 same: dict[tuple, Any] | None = None):
        self.store = store
        self.conn = conn
        self.state = StateView(conn, store.secret)
        self.last_message_id: str | None = None
        self._saved_pending: set[str] = set()  # saved with routing_state "pending" already
        # the last saved message's bytes: an outbox row carrying them names them (payload_of)
        self._saved_bytes: tuple[str, bytes, bytes | None, bytes | None] | None = None
        self._writes = writes
        self._same = same if same is not None else {}

    def _write(self, stmt: Prepared, params: Any, kind: str) -> None:
        if self._writes is None:
            if isinstance(params, list):
                stmt.executemany(self.conn, params)
            else:
                stmt.execute(self.conn, params)
        elif isinstance(params, list):
            getattr(self._writes, kind).extend(params)
        else:
            getattr(self._writes, kind).append(params)

    def find_same_message(
        self, sender: str | None, code: str | None, identificatie: str | None, sha256: str
    ) -> MessageRecord | None:
        """The earlier delivery of exactly this message (same sender, type, id and bytes), if any.
        Transport rejections do not count: such a message was never received in the standard's
        sense (OP286), and replays are not deliveries."""
        probe = (sender, code, identificatie, sha256)
        if probe in self._same:  # looked up with the rest of its group (Batch.prefetch_same)
            return self._same[probe]
        params = dict(code=code, identificatie=identificatie, sha256=sha256)
        if sender is None:  # "= NULL" matches nothing; the query said IS NULL
            row = _SAME_MESSAGE_NO_SENDER.first(self.conn, params)
            return _row_to_message(row, with_bytes=True) if row else None
        params["sender"] = sender
        return self._read_same(params) if _SAME_MESSAGE_EXISTS.scalar(self.conn, params) else None

    def _read_same(self, params: dict[str, Any]) -> MessageRecord | None:
        """The earlier delivery an EXISTS found (sender given)."""
        row = _SAME_MESSAGE.first(self.conn, params)
        return _row_to_message(row, with_bytes=True) if row else None

    def find_same_or_repeat(
        self, sender: str | None, code: str | None, identificatie: str | None, sha256: str, zender: str,
        referentienummer: str,
    ) -> tuple[MessageRecord | None, bool | None]:
        """find_same_message and, for an enveloped message, repeat_took, asked at once where the
        earlier delivery is not known yet; (earlier delivery, repeat_took or None: not asked)."""
        probe = (sender, code, identificatie, sha256)
        if sender is None or probe in self._same:
            return self.find_same_message(sender, code, identificatie, sha256), None
        params = dict(sender=sender, code=code, identificatie=identificatie, sha256=sha256)
        row = _SAME_MESSAGE_OR_REPEAT.first(self.conn, dict(
            params, zender=zender, referentienummer=referentienummer))
        same = self._read_same(params) if row["same"] else None
        return same, bool(row["repeat_took"])

    def save_message(
        self,
        *,
        raw: bytes,
        verdict: str,
        issues: Iterable[Any] = (),
        mtype: MessageType | None = None,
        root: etree._Element | None = None,
        received_at: datetime | None = None,
        sha256: str | None = None,
        sender: str | None = None,
        receiver: str | None = None,
        identificatie: str | None = None,
        dagtekening: date | None = None,
        retour: bytes | None = None,
        retour_identificatie: str | None = None,
        transport: str | None = None,
        received_by: str | None = None,
        replay_of: str | None = None,
        routing_state: str = "none",
        message_id: str | None = None,
        envelope: Mapping[str, Any] | None = None,
        envelope_payload_at: int | None = None,
        answer_payload_at: int | None = None,
        number_texts: list[str | None] | None = None,
    ) -> str:
        """Store a message with its verdict, issues and retour; returns its id. `envelope`: the
        StUF-GGk envelope it came in and the answer to it (ggk.ingress.Received.row), kept in its
        row; a (zender, referentienummer) used before raises ConflictError (IB216).
        `envelope_payload_at` / `answer_payload_at`: where the base64 of `raw` / `retour` stands in
        the envelope / answer, when the caller knows (gateway.store.elided.cut). `number_texts`:
        the texts of `root`'s ToewijzingNummer elements in document order, when the caller read
        them already (gateway.routing.correlation.number_texts).

        Identity fields not given are read from `root`. The (sender, code, identificatie) of a
        message that is not transport-rejected, not a replay and not itself a TR056 duplicate is
        registered as used (TR056); a concurrent duplicate raises ConflictError.
        """
        if verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}")
        issues = issues if isinstance(issues, list) else list(issues)
        if len(issues) < _ENCODE_AT_ONCE:
            issue_rows = [issue_dict(i) for i in issues]
            stored_issues, firsts = issue_rows, _first_of_rules(issue_rows)
        elif self.conn.dialect.name == "sqlite":
            stored_issues, firsts = _encoded_issues(issues)
        else:
            issue_rows = [issue_dict(i) for i in issues]
            stored_issues = _INSERT_MESSAGE.processed(self.conn.dialect, "issues", issue_rows)
            firsts = _first_of_rules(issue_rows)
            del issue_rows
        h = extract.header(root) if root is not None else None
        bsn = None
        numbers: list[str] = []
        if root is not None:
            bsn = extract.client_bsn(root)
            # lxml filters by local name in C ({*}: any namespace): a 323 has a million elements
            if number_texts is None:
                number_texts = [el.text for el in root.iter("{*}ToewijzingNummer")]
            numbers = list(dict.fromkeys(t.strip() for t in number_texts if t))
        if retour is not None and retour_identificatie is None:
            retour_identificatie = _retour_identificatie(retour)
        message_id = message_id or new_id()
        at = _db_time(received_at) or now_utc()
        # A transport-rejected message can carry anything in its header: keep to the columns
        # (sender, receiver and identificatie below, once their header fallbacks are in).
        retour_identificatie = _fit(retour_identificatie, 64)
        transport, received_by = _fit(transport, 16), _fit(received_by, 64)
        code = mtype.code if mtype is not None else None
        sender = _fit(sender if sender is not None else (h.afzender if h else None), 16)
        receiver = _fit(receiver if receiver is not None else (h.ontvanger if h else None), 16)
        identificatie = _fit(identificatie if identificatie is not None else (h.identificatie if h else None), 64)
        row = dict(
            id=message_id,
            received_at=at,
            standard=mtype.standard if mtype else None,
            code=code,
            sender=sender,
            receiver=receiver,
            identificatie=identificatie,
            dagtekening=dagtekening or (h.dagtekening if h else None),
            raw=raw,
            sha256=sha256 or hashlib.sha256(raw).hexdigest(),
            verdict=verdict,
            # Many issues (a rejected 323): converted now (SQLite: the JSON text), so their dicts
            # go before the group's rows are written.
            issues=stored_issues,
            retour=retour,
            retour_identificatie=retour_identificatie,
            client_key=client_key(self.store.secret, bsn) or None,
            bsn_masked=mask_bsn(bsn),
            allocation_numbers=numbers,
            routing_state=routing_state,
            replay_of=replay_of,
            transport=transport,
            received_by=received_by,
        )
        answer = None  # the Du01 an outbox row may name: only one kept cut (whole, it is a copy anyway)
        if envelope is not None:
            row.update(zip(map(_ENVELOPE_COLUMNS.__getitem__, envelope), envelope.values()))
            # the message and its retour are in the row already: not again as base64
            row["envelope"], row["envelope_payload_at"] = elided.cut(envelope.get("envelope"), raw, envelope_payload_at)
            row["envelope_answer"], row["envelope_answer_payload_at"] = elided.cut(
                envelope.get("answer"), retour, answer_payload_at)
            if row["envelope_answer_payload_at"] is not None:
                answer = envelope["answer"]
        self._write(_INSERT_MESSAGE, row, "messages")
        issue_index = [dict(message_id=message_id, rule=i["rule"][:16], retourcode=i.get("retourcode"), received_at=at)
                       for i in firsts]
        if issue_index:  # one executemany, not one statement per rule
            self._write(_INSERT_ISSUES, issue_index, "issues")
        duplicate_id = any(i["rule"] == "TR056" for i in firsts)
        if (
            verdict != "transport_rejected"
            and replay_of is None
            and not duplicate_id
            and sender
            and code
            and identificatie
        ):
            # A concurrent duplicate violates the primary key: the transaction ends in ConflictError.
            self._write(
                _INSERT_IDENTIFIER,
                dict(sender=sender, code=code, identificatie=identificatie, message_id=message_id),
                "identifiers",
            )
        self.last_message_id = message_id
        self._saved_bytes = (message_id, raw, retour, answer)
        if routing_state == "pending":
            self._saved_pending.add(message_id)
        return message_id

    def repeat_took(self, zender: str, referentienummer: str) -> bool:
        """Whether a further envelope (envelope_repeats) took this zender's referentienummer (IB216)."""
        return bool(_REPEAT_REFERENCE.scalar(self.conn, dict(zender=zender, referentienummer=referentienummer)))

    def find_envelope(self, zender: str, referentienummer: str) -> dict[str, Any] | None:
        """The stored envelope of `zender` with this referentienummer (IB216), without bytes: the
        one a message arrived in, or a further one that brought its payload again."""
        for stmt in _FIND_ENVELOPE:
            row = self.conn.execute(stmt, dict(zender=zender, referentienummer=referentienummer)).mappings().first()
            if row:
                return dict(row)
        return None

    def apply_state(
        self,
        mtype: MessageType,
        root: etree._Element,
        accepted: bool = True,
        rejected_prestatie_paths: Mapping[str, list[str]] | Iterable[str] = (),
        message_id: str | None = None,
        declaratie: Any = None,
    ) -> None:
        """Record the state an accepted message creates (for a 323: its prestaties, the ones at
        `rejected_prestatie_paths` as rejected, with their retourcodes when it maps path -> codes).
        A rejected message changes no state.
        `declaratie`: the message's extract.declaratie when the rules read it already."""
        if not accepted:
            return
        message_id = message_id or self.last_message_id
        if message_id is None:
            raise RuntimeError("save_message first: state rows refer to their message")
        rejected = (dict(rejected_prestatie_paths) if isinstance(rejected_prestatie_paths, Mapping)
                    else frozenset(rejected_prestatie_paths))
        view = self.state  # what the rules read: apply_state need not read it again
        view.release_prefetch()  # kept until the group's writes otherwise
        if self._writes is not None:
            secret, deferred = self.store.secret, self._writes.deferred
            # what the rules read of this tree (its header...), for the write after theirs
            again = extract.current(root)

            def write(conn: Connection) -> None:
                with extract.remembered(root, again=again):
                    _apply_state(Deferred(conn, deferred), secret, message_id, mtype, root, rejected,
                                 declaratie=declaratie, view=view)

            self._writes.later.append(write)
            return
        _apply_state(self.conn, self.store.secret, message_id, mtype, root, rejected, declaratie=declaratie,
                     view=view)
        self.state.invalidate()

    def _payload_of(self, message_id: str, payload: bytes) -> str | None:
        """"raw", "retour" or "answer" (the Du01, kept cut) when `payload` is those bytes of message
        `message_id`, saved in this transaction (the outbox row then names them instead of a copy:
        tables.outbox payload_of)."""
        saved = self._saved_bytes
        if saved is None or saved[0] != message_id:
            return None
        _, raw, retour, answer = saved
        if payload is raw or payload == raw:
            return "raw"
        if payload is retour or (retour is not None and payload == retour):
            return "retour"
        if payload is answer or (answer is not None and payload == answer):
            return "answer"
        return None

    def enqueue(self, rows: Iterable[OutboxRow | dict[str, Any] | Any]) -> list[int]:
        """Add outbox rows (published later by the routing worker, or read from a party stream)."""
        values = []
        created = now_utc()  # (the rows of one call: made at one moment)
        for row in rows:
            if not isinstance(row, OutboxRow):
                row = OutboxRow.model_validate(row if isinstance(row, dict) else row, from_attributes=True)
            message_id = row.message_id or self.last_message_id
            if message_id is None:
                raise RuntimeError("enqueue needs a message id")
            payload, payload_of = row.payload, self._payload_of(message_id, row.payload)
            values.append(dict(
                message_id=message_id,
                party=row.party,
                destination=row.destination,
                key=row.key,
                headers=_headers_out(row.headers),
                payload=b"" if payload_of else payload,
                payload_of=payload_of,
                created_at=created,
            ))
        if not values:
            return []
        pending = self.last_message_id and self.last_message_id not in self._saved_pending
        if self._writes is not None:  # written with the group; their ids are not known yet
            self._writes.outbox.extend(values)
            if pending:
                mid = self.last_message_id
                self._writes.later.append(lambda conn: _MARK_PENDING.execute(conn, dict(mid=mid)))
            return []
        # One statement for all rows (insertmanyvalues), ids in the order of the rows.
        ids = list(self.conn.execute(_INSERT_OUTBOX_RETURNING, values).scalars())
        if pending:
            _MARK_PENDING.execute(self.conn, dict(mid=self.last_message_id))
        return ids

    def audit(
        self,
        actor: str,
        action: str,
        target: str | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.conn.execute(
            insert(t.audit_log).values(
                at=now_utc(), actor=actor, action=action, target=target, reason=reason, details=details
            )
        )


def _first_of_rules(items: Iterable[Any], seen: set[str] | None = None) -> list[dict[str, Any]]:
    """The first issue of each rule among `items` (rows as issue_dict makes them, or Issues: a row
    is made for the firsts alone), as rows; rules in `seen` already left out (`seen` grows)."""
    seen = set() if seen is None else seen
    firsts = []
    for i in items:
        row = None if i.__class__ is Issue else i if isinstance(i, dict) else issue_dict(i)
        rule = i.rule if row is None else row.get("rule")
        if rule and rule not in seen:
            seen.add(rule)
            firsts.append(row if row is not None else issue_dict(i))
    return firsts


_ENCODE_CHUNK = 100  # issues per piece: some 32 KB of text (below malloc's mmap threshold)


def _encoded_issues(issues: list[Any]) -> tuple[Any, list[dict[str, Any]]]:
    """Many issues as SQLite stores them, and the first issue of each rule: the JSON text that
    SQLAlchemy's JSON type writes (json.dumps of the list), encoded 100 issues at a time, so the
    dicts of 100,000 issues and their text are never in memory at once. From LARGE bytes on, the
    pieces themselves (prepared.Pieces, kept in large_values, prepared._keep_apart); else as text."""
    parts = [b"["]
    seen: set[str] = set()
    firsts: list[dict[str, Any]] = []
    for start in range(0, len(issues), _ENCODE_CHUNK):
        chunk = issues[start:start + _ENCODE_CHUNK]
        firsts += _first_of_rules(chunk, seen)
        text = ", ".join([issue_json(i, issue_dict) for i in chunk])  # json.dumps of their dicts, less the brackets
        parts.append(((", " if start else "") + text).encode())
    parts.append(b"]")
    value = Pieces(parts)
    if len(value) >= LARGE:
        return value, firsts
    return Processed(bytes(value).decode()), firsts


def _fit(value: str | None, size: int) -> str | None:
    return value[:size] if value is not None else None


def _retour_identificatie(retour: bytes) -> str | None:
    try:
        root = etree.fromstring(retour, hardened_parser())
    except etree.XMLSyntaxError:
        return None
    from validators.paths import child, text

    h = child(root, "Header")
    return text(h, "IdentificatieRetour") or text(h, "BerichtIdentificatie", "Identificatie")


def _ident_params(idents: list[tuple]) -> dict[str, Any]:
    """The parameters of `_same_messages` and `_identifiers` for these (sender, code, identificatie)."""
    params: dict[str, Any] = {}
    for i, (sender, code, identificatie) in enumerate(idents):
        params.update({f"s{i}": sender, f"c{i}": code, f"i{i}": identificatie})
    for i in range(len(idents), group_size(len(idents))):  # (NULL matches nothing)
        params.update({f"s{i}": None, f"c{i}": None, f"i{i}": None})
    return params


class Batch:
    """The shared transaction of a group of messages."""

    def __init__(self, store: Store, conn: Connection) -> None:
        self.store = store
        self.conn = conn
        self.writes = Writes()
        self.same: dict[tuple, MessageRecord | None] = {}  # earlier deliveries, looked up at once
        self.known: dict[tuple, object] = {}  # state answers looked up at once (StateView.seed)

    def transaction(self) -> Transaction:
        tx = Transaction(self.store, self.conn, self.writes, self.same)
        tx.state.seed(self.known)
        return tx

    def prefetch(self, probes: Iterable[tuple[str | None, str | None, str | None, str]] = (),
                 hints: Iterable[Any] = (), lock: str | None = None, begin: bool = False) -> None:
        """What the group's messages will look up, one query per kind, all sent before any answer
        is read (PostgreSQL: one round trip, with `lock`, the group's lock command, ahead of them).
        `probes`: their idempotency lookups (sender, code, identificatie, sha256); units of a
        group have disjoint lock keys, so no two are the same message and none stores what
        another looks up. `hints`: StateHints, what their rules will read. `begin`: send the
        transaction's BEGIN first (the connection is in autocommit mode: `_pg_transaction`)."""
        wanted = {p for p in probes if p[0] is not None and p[1] is not None and p[2] is not None}
        idents = sorted({p[:3] for p in wanted})
        reads: list[tuple[Any, Any, Any]] = []
        if idents and self.conn.dialect.name == "sqlite" and not begin:
            # No round trips to share: the identifiers first, and the earlier deliveries looked
            # up only under the registered ones (usually none). A delivery is stored under an
            # unregistered identifier only as a TR056 duplicate, which needs a registered one
            # (transport rejections and replays are no deliveries), and identifiers are never
            # removed: so an unregistered one has none. (The messages lookup, an OR of 16
            # equalities over the identifier index, cost a group more than both its answers.)
            used = self._identifiers_used(idents)
            registered = [ident for ident in idents if ident in used]
            if registered:
                reads.append((_same_messages(len(registered)), _ident_params(registered),
                              lambda rows, _k: self._same_found(wanted, rows)))
            else:
                self._same_found(wanted, [])
        elif idents:  # (PostgreSQL) the earlier deliveries and the registered identifiers in one statement

            def found(rows: list[dict[str, Any]], known: dict[tuple, object]) -> None:
                used = {(r["sender"], r["code"], r["identificatie"]) for r in rows if r["found_as"] == "i"}
                # TR056 asks this of every message (StateView.identifier_used)
                known.update((("identifier_used", *ident), ident in used) for ident in idents)
                self._same_found(wanted, [r for r in rows if r["found_as"] == "m"])

            reads.append((_same_and_identifiers(len(idents)), _ident_params(idents), found))
        hints = list(hints)
        if hints:
            reads += group_reads(self.store.secret, hints, keyed=self.store.dialect == "postgresql")
        with pipelined(self.conn):
            if begin:  # the transaction's start, with its first reads when it pipelines
                command(self.conn, "BEGIN")
            if lock is not None:  # the group's advisory locks, in the order of their ids
                _group_lock(self.conn, lock)
            sent = [(q, q.send(self.conn, params), take) for q, params, take in reads]
        # Collected after the block: its end (one Sync) brought every answer. Collecting inside
        # asked for them with a flush of its own, and the Sync then cost a second round trip.
        for q, cursor, take in sent:
            rows = q.collect(self.conn, cursor)
            if take is not None:
                take(rows, self.known)

    def _identifiers_used(self, idents: list[tuple]) -> set[tuple]:
        """Which of `idents` (sender, code, identificatie) are registered (TR056 asks this of
        every message: StateView.identifier_used, answered from `known`)."""
        rows = _identifiers(len(idents)).rows(self.conn, _ident_params(idents))
        used = {(r["sender"], r["code"], r["identificatie"]) for r in rows}
        self.known.update((("identifier_used", *ident), ident in used) for ident in idents)
        return used

    def _same_found(self, wanted: set[tuple], rows: list[dict[str, Any]]) -> None:
        for p in wanted:
            self.same[p] = None
        for row in rows:  # ordered: the earliest delivery of each probe wins
            if row["replay_of"] is not None or row["verdict"] == "transport_rejected":
                continue  # not a delivery (as in _same_message)
            key = (row["sender"], row["code"], row["identificatie"], row["sha256"])
            if key in wanted and self.same.get(key) is None:
                self.same[key] = _row_to_message(row, with_bytes=True)


@contextmanager
def _pg_transaction(conn: Connection) -> Iterator[bool]:
    """PostgreSQL: the group's transaction begun by the store, not by psycopg, and without
    SQLAlchemy's transaction around it. psycopg begins a transaction in pipeline mode with a BEGIN
    and a Sync of its own: a round trip before the group's lock and reads could even be sent. In
    autocommit mode it sends nothing itself; the group sends BEGIN in the pipeline of its first
    reads (Batch.prefetch) and COMMIT in that of its writes (Writes.flush). The kept connection
    stays in autocommit mode between groups (no transaction open): switching it on and off, and
    SQLAlchemy's begin and commit, cost every group some 100,000 instructions under the GIL (issue
    14); SQLAlchemy puts it back in its usual mode when it returns to the pool (its isolation level
    is reset on checkin). A Core statement inside the group makes SQLAlchemy begin its own side of
    the transaction, which ends here. Yields whether the caller must send BEGIN (not when psycopg
    cannot pipeline: it then begins and SQLAlchemy commits, as for any transaction)."""
    driver = conn.connection.driver_connection
    if not pipeline_supported(driver):
        try:
            with conn.begin():
                yield False
        except IntegrityError as exc:
            raise ConflictError(_primary_message(exc.orig)) from exc
        return
    if not driver.autocommit:  # the connection's first group
        conn.execution_options(isolation_level="AUTOCOMMIT")
    try:
        if driver.pgconn.transaction_status != _IDLE:  # (not expected: every group ends its transaction)
            driver.rollback()
        yield True
        if conn.in_transaction():  # a Core statement ran: its side ends (Writes.flush sent COMMIT)
            conn.commit()
        if driver.pgconn.transaction_status != _IDLE:  # (not expected: Writes.flush sent COMMIT)
            try:
                driver.commit()
            except conn.dialect.loaded_dbapi.Error as exc:
                raise _error(conn, "COMMIT", None, exc) from exc
    except IntegrityError as exc:
        raise ConflictError(_primary_message(exc.orig)) from exc
    finally:
        _end_group(conn, driver, lambda d: d.pgconn.transaction_status != _IDLE)


class _SQLiteTransaction:
    """SQLite: a group's BEGIN IMMEDIATE and COMMIT sent on the DBAPI connection, without
    SQLAlchemy's transaction around them: its begin and commit (events, a transaction object,
    the commit's dispatch) cost some 18 us of CPU per group under the GIL, more than the BEGIN
    and the COMMIT themselves (issue 14). A Core statement inside the group makes SQLAlchemy
    begin its own side of the transaction; the engine then sends no BEGIN of its own
    (engine._sqlite_begin, `begin_sql` None) and that side is committed or rolled back here.
    Same guarantee: the group's rows are written and committed before any caller is answered;
    a unique-constraint violation raises ConflictError (as Store._conn). The WAL checkpoint is
    the `checkpointer`'s (gateway.store.checkpoint); after a `large` group never its caller's.
    (A context manager of its own, not a generator's: that cost every group some 3 us more.)"""

    __slots__ = ("checkpointer", "conn", "driver", "large")

    def __init__(self, conn: Connection, checkpointer: checkpoint.Checkpointer | None, large: bool = False) -> None:
        self.conn, self.checkpointer, self.large = conn, checkpointer, large
        self.driver: Any = None

    def __enter__(self) -> None:
        conn = self.conn
        self.driver = conn.connection.driver_connection
        conn.info["begin_sql"] = None
        try:
            command(conn, "BEGIN IMMEDIATE")
        except IntegrityError as exc:
            self._end()
            raise ConflictError(_primary_message(exc.orig)) from exc
        except BaseException:
            self._end()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, _tb: object) -> None:
        conn = self.conn
        try:
            if exc_type is None:
                if conn.in_transaction():  # a Core statement ran: its side ends with the commit
                    conn.commit()
                else:
                    command(conn, "COMMIT")
                if self.checkpointer is not None:
                    self.checkpointer.committed(self.driver, self.large)
            elif isinstance(exc, IntegrityError):
                raise ConflictError(_primary_message(exc.orig)) from exc
        except IntegrityError as error:
            raise ConflictError(_primary_message(error.orig)) from error
        finally:
            self._end()

    def _end(self) -> None:
        conn = self.conn
        conn.info.pop("begin_sql", None)
        forget_kept(conn)
        _end_group(conn, self.driver, lambda d: d.in_transaction)


def _end_group(conn: Connection, driver: Any, still_open: Callable[[Any], bool]) -> None:
    """What is left open of a group's transaction (the group failed, or its COMMIT did) rolled
    back on both sides, SQLAlchemy's and the driver's (`still_open(driver)`): nothing of it stays.
    A connection that cannot is invalidated, so it is not kept; the group's own error goes on."""
    try:
        if conn.in_transaction():
            conn.rollback()
        if still_open(driver):
            driver.rollback()
    except Exception as exc:  # noqa: BLE001 (the connection is lost or unusable)
        if not conn.invalidated:
            conn.invalidate(exc)


_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE (psycopg is imported only with a PostgreSQL store)
_GROUP_LOCK = threading.Lock()
# A group's lock (PostgreSQL): one statement text for every group, its ids a parameter, prepared
# once per connection, where a text naming the ids was parsed, analysed and planned at every group
# (some 30 us of the backend's CPU per group). unnest keeps the array's order: the locks are
# taken in the order of their sorted ids.
_LOCK_STATEMENT = (b"SELECT pg_advisory_xact_lock(l.k) FROM unnest($1::bigint[]) WITH ORDINALITY AS l(k, n) "
               b"ORDER BY l.n")


def _lock_ids(lock_keys: Iterable[str]) -> str | None:
    """The ids of `lock_keys`' advisory locks, sorted, as an array literal (None: no keys)."""
    ids = sorted({lock_id(key) for key in lock_keys})
    return f"{{{','.join(map(str, ids))}}}" if ids else None


def _group_lock(conn: Connection, ids: str) -> None:
    """Queue the group's lock (`ids`: _lock_ids) in its pipeline, prepared (pgqueue); without
    that pipeline as a command naming the ids."""
    if not pgqueue.prepared_command(conn.connection.dbapi_connection, _LOCK_STATEMENT, [ids.encode()]):
        command(conn, _lock_text(ids), keep=False)


def _lock_text(ids: str) -> str:
    """The lock statement with `ids` (_lock_ids: integers only, nothing from outside) in its text."""
    return _LOCK_STATEMENT.decode().replace("$1", f"'{ids}'")


def _lock_sql(lock_keys: Iterable[str]) -> str | None:
    """The statement taking the advisory locks of `lock_keys` in the order of their sorted ids
    (None: no keys), for a group (sent as psycopg sends its own commands, prepared.command, where
    a cursor's execution cost the group some 60,000 instructions in Python) and for
    Store._locked alike. The ids are in its text (integers only: nothing from outside goes into
    it); unnest keeps the array's order."""
    ids = _lock_ids(lock_keys)
    return _lock_text(ids) if ids is not None else None


class Store:
    """The store. Thread-safe: each call uses its own pooled connection."""

    def __init__(self, engine: Engine, secret: bytes, *, max_group: int = 64, group_leaders: int = 2):
        self.engine = engine
        self.secret = secret
        self.dialect = engine.dialect.name
        self.max_group = max_group
        self.group_leaders = group_leaders
        self._group: Any = None
        self._kept = KeptConnections(engine, keep=group_leaders if self.dialect != "sqlite" else 1)
        self._checkpointer = self._attach_checkpointer() if self.dialect == "sqlite" else None

    def _attach_checkpointer(self) -> checkpoint.Checkpointer | None:
        """SQLite: the WAL's checkpointer, told of every commit: a group's after its COMMIT
        (_SQLiteTransaction), any other (Core's) at its commit."""
        with self.engine.connect() as conn:
            checkpointer = checkpoint.attach(conn.connection.driver_connection)
        if checkpointer is not None:
            event.listen(self.engine, "commit", self._core_committed)
        return checkpointer

    def _core_committed(self, _conn: Connection) -> None:
        if self._checkpointer is not None:
            self._checkpointer.committed()

    def close(self) -> None:
        self._kept.close()
        if self._checkpointer is not None:
            event.remove(self.engine, "commit", self._core_committed)
            checkpoint.release(self._checkpointer)
            self._checkpointer = None
        self.engine.dispose()

    def client_key(self, bsn: str | None) -> str:
        return client_key(self.secret, bsn)

    # --- transactions ----------------------------------------------------------------------

    @contextmanager
    def _conn(self, write: bool = True) -> Iterator[Connection]:
        """A transaction on a pooled connection."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite" and write:
                conn.info["begin_sql"] = "BEGIN IMMEDIATE"
            try:
                with conn.begin():
                    yield conn
            except IntegrityError as exc:
                raise ConflictError(_primary_message(exc.orig)) from exc
            finally:
                forget_kept(conn)

    @contextmanager
    def _locked(self, lock_keys: Iterable[str]) -> Iterator[Connection]:
        with self._conn() as conn:
            if self.dialect == "postgresql" and (lock := _lock_sql(lock_keys)) is not None:
                conn.exec_driver_sql(lock)  # one round trip
            yield conn

    @contextmanager
    def transaction(self, lock_keys: Iterable[str] = ()) -> Iterator[Transaction]:
        """One unit of work. PostgreSQL: transaction-scoped advisory locks on `lock_keys` (taken
        in sorted order of their ids, so two transactions never deadlock on them); SQLite: BEGIN
        IMMEDIATE, which serialises writers. A unique-constraint violation raises ConflictError."""
        with self._locked(lock_keys) as conn:
            yield Transaction(self, conn)

    @contextmanager
    def group_transaction(self, lock_keys: Iterable[str] = (), probes: Iterable[tuple] = (),
                          hints: Iterable[Any] = (), *, large: bool = False) -> Iterator[Batch]:
        """One transaction for a group of messages (gateway.store.group): `batch.transaction()`
        gives each its Transaction; their rows are written, together, before the commit. The
        group's lock and its lookups (Batch.prefetch: `probes`, `hints`) go in one round trip.
        `large`: a large message's group (SQLite: its commit never checkpoints the WAL itself)."""
        if self.dialect == "sqlite":
            with self._kept.connection() as conn, _SQLiteTransaction(conn, self._checkpointer, large):
                batch = Batch(self, conn)
                batch.prefetch(probes, hints)
                yield batch
                batch.writes.flush(conn)
            return
        # PostgreSQL (the other store): BEGIN, the group's lock and its lookups in one pipeline
        with self._kept.connection() as conn, _pg_transaction(conn) as begin:
            batch = Batch(self, conn)
            batch.prefetch(probes, hints, _lock_ids(lock_keys), begin=begin)
            yield batch
            batch.writes.flush(conn, commit=True)

    def group_commit(self) -> Any:
        """This store's group committer (one per store, shared by every pipeline on it)."""
        with _GROUP_LOCK:
            if self._group is None:
                from gateway.store.group import GroupCommit

                # SQLite serialises writers: one group at a time. PostgreSQL: a few groups at
                # once on their own connections overlap their round trips.
                leaders = 1 if self.dialect == "sqlite" else self.group_leaders
                self._prepare_group_lookups()
                self._group = GroupCommit(self, max_group=self.max_group, leaders=leaders)
            return self._group

    def _prepare_group_lookups(self) -> None:
        """Compile a group's lookups for the usual group sizes now (about 40 ms, once per process):
        compiled at a group's first use of a size, they cost the first groups of 8 senders more
        than their messages' work. Larger groups (32, 64: 150 ms more) compile theirs when they
        first occur."""
        # A store opened without migrating has not met its server yet: its dialect learns the
        # server's version at the first connection, and a compile depends on it.
        with self.engine.connect():
            pass
        dialect, largest = self.engine.dialect, min(self.max_group, _PREPARED_GROUP)
        for size in group_sizes(largest):
            if dialect.name == "postgresql":
                _same_and_identifiers(size).compiled(dialect)
            else:
                _same_messages(size).compiled(dialect)
                _identifiers(size).compiled(dialect)
        prepare_group_reads(dialect, largest)

    def state_view(self, conn: Connection, exclude_message_id: str | None = None) -> StateView:
        return StateView(conn, self.secret, exclude_message_id)

    # --- messages --------------------------------------------------------------------------

    def save_transport_rejection(self, *, envelope: dict[str, Any] | None = None,
                                 rows: list[OutboxRow] | None = None, **fields: Any) -> str:
        """Store a message refused before the standard's checks (no retour; verdict
        transport_rejected), with the envelope it came in (and its Fo01), if any, and the outbox
        rows that carry that Fo01 to its sender, in one transaction."""
        with self.transaction() as tx:
            message_id = tx.save_message(verdict="transport_rejected", envelope=envelope, **fields)
            if rows:
                tx.enqueue(rows)
            return message_id

    def get_envelope(self, message_id: str) -> dict[str, Any] | None:
        """The envelope row of a message that came enveloped (None for a bare message)."""
        e = t.message_envelopes
        with self.engine.connect() as conn:
            row = conn.execute(select(e).where(e.c.message_id == message_id)).mappings().first()
            return elided.whole_row(conn, row) if row else None

    def find_envelope(self, zender: str, referentienummer: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return Transaction(self, conn).find_envelope(zender, referentienummer)

    def get_message(self, message_id: str, with_bytes: bool = True) -> MessageRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*t.with_stored(t.messages)).where(t.messages.c.id == message_id)).mappings().first()
        return _row_to_message(row, with_bytes) if row else None

    def list_messages(
        self, flt: MessageFilter | None = None, limit: int = 50, cursor: str | None = None
    ) -> MessagePage:
        """Newest first, keyset-paginated on (received_at, id); `cursor` is the previous page's
        `next_cursor`. Every filter is served by an index that ends in (received_at, id)."""
        flt = flt or MessageFilter()
        limit = max(1, min(limit, 500))
        m, mi = t.messages, t.message_issues
        cols = [c for c in t.with_stored(m) if c.name not in ("raw", "retour")]
        if flt.rule:
            q = (
                select(*cols)
                .select_from(mi.join(m, m.c.id == mi.c.message_id))
                .where(mi.c.rule == flt.rule)
            )
            order_at, order_id = mi.c.received_at, mi.c.message_id
        else:
            q = select(*cols)
            order_at, order_id = m.c.received_at, m.c.id
        where = []
        if flt.since:
            where.append(order_at >= _db_time(flt.since))
        if flt.until:
            where.append(order_at < _db_time(flt.until))
        for field in ("code", "sender", "receiver", "verdict", "client_key"):
            value = getattr(flt, field)
            if value:
                where.append(getattr(m.c, field) == value)
        if flt.bsn:
            where.append(m.c.client_key == self.client_key(flt.bsn))
        if flt.party:
            where.append(or_(m.c.sender == flt.party, m.c.receiver == flt.party))
        if not flt.include_replays:
            where.append(m.c.replay_of.is_(None))
        if cursor:
            at, mid = decode_cursor(cursor)
            where.append(tuple_(order_at, order_id) < tuple_(_db_time(at), mid))
        q = q.where(and_(*where)) if where else q
        q = q.order_by(order_at.desc(), order_id.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        items = [_row_to_message(r) for r in rows[:limit]]
        next_cursor = encode_cursor(items[-1].received_at, items[-1].id) if len(rows) > limit else None
        return MessagePage(items=items, next_cursor=next_cursor)

    def related_messages(self, client_key_value: str, limit: int = 100) -> list[MessageRecord]:
        """All messages of one client (by client key), newest first."""
        return self.list_messages(MessageFilter(client_key=client_key_value), limit=limit).items

    def replays_of(self, message_id: str) -> list[MessageRecord]:
        m = t.messages
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*t.with_stored(m)).where(m.c.replay_of == message_id).order_by(m.c.received_at, m.c.id)
            ).mappings().all()
        return [_row_to_message(r) for r in rows]

    def iter_messages(
        self,
        since: datetime | None = None,
        codes: Iterable[str] = (),
        ids: Iterable[str] = (),
        include_replays: bool = False,
        batch: int = 200,
    ) -> Iterator[MessageRecord]:
        """Stored messages oldest first, with their bytes (for replay)."""
        m = t.messages
        where = []
        if since:
            where.append(m.c.received_at >= _db_time(since))
        codes, ids = [c.upper() for c in codes], list(ids)
        if codes:
            where.append(m.c.code.in_(codes))
        if ids:
            where.append(m.c.id.in_(ids))
        if not include_replays:
            where.append(m.c.replay_of.is_(None))
        last: tuple | None = None
        while True:
            q = select(*t.with_stored(m)).where(*where)
            if last:
                q = q.where(tuple_(m.c.received_at, m.c.id) > tuple_(*last))
            with self.engine.connect() as conn:
                rows = conn.execute(q.order_by(m.c.received_at, m.c.id).limit(batch)).mappings().all()
            if not rows:
                return
            for r in rows:
                yield _row_to_message(r, with_bytes=True)
            last = (rows[-1]["received_at"], rows[-1]["id"])

    def set_routing_state(self, message_id: str, state: str) -> None:
        with self._conn() as conn:
            conn.execute(update(t.messages).where(t.messages.c.id == message_id).values(routing_state=state))

    def set_dead_letter(self, message_id: str, dead: bool = True) -> None:
        with self._conn() as conn:
            conn.execute(update(t.messages).where(t.messages.c.id == message_id).values(dead_letter=dead))

    def count_messages(self, verdict: str | None = None) -> int:
        m = t.messages
        q = select(func.count()).select_from(m)
        if verdict:
            q = q.where(m.c.verdict == verdict)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    # --- outbox ----------------------------------------------------------------------------

    def _outbox_record(self, r: Any) -> OutboxRecord:
        payload = r["payload"]
        if r.get("payload_ref") is not None or r.get("payload_of") is not None:
            # a row selected whole (gateway.store.ggk's claim): its payload kept apart, or its message's
            o = t.outbox
            with self.engine.connect() as conn:
                payload = conn.execute(select(t.stored(o.c.payload, label=False)).where(o.c.id == r["id"])).scalar_one()
        return OutboxRecord(
            id=r["id"], message_id=r["message_id"], party=r["party"], destination=r["destination"],
            key=r["key"], headers=_headers_in(r["headers"]), payload=payload,
            created_at=_utc(r["created_at"]), published_at=_utc(r["published_at"]),
            attempts=r["attempts"], last_error=r["last_error"],
        )

    def claim_outbox(self, limit: int = 100, lease_seconds: float = 30) -> list[OutboxRecord]:
        """Unpublished Kafka rows (not party streams, not SOAP deliveries) for this publisher, oldest first. A claim is a
        lease: rows not marked published or failed within `lease_seconds` are claimable again."""
        o = t.outbox
        now = now_utc()
        with self._conn() as conn:
            q = (
                select(*t.with_stored(o))
                .where(
                    *t.outbox_waiting(o.c),
                    o.c.destination != SOAP,  # SOAP rows: gateway.routing.soap_delivery
                    or_(o.c.claimed_until.is_(None), o.c.claimed_until < now),
                )
                .order_by(o.c.id)
                .limit(limit)
            )
            if self.dialect == "postgresql":
                q = q.with_for_update(skip_locked=True, of=o)
            rows = conn.execute(q).mappings().all()
            if rows:
                conn.execute(
                    update(o)
                    .where(o.c.id.in_([r["id"] for r in rows]))
                    .values(claimed_until=now + timedelta(seconds=lease_seconds))
                )
        return [self._outbox_record(r) for r in rows]

    def mark_published(self, outbox_ids: Iterable[int]) -> None:
        ids = list(outbox_ids)
        if not ids:
            return
        o, m = t.outbox, t.messages
        with self._conn() as conn:
            conn.execute(
                update(o).where(o.c.id.in_(ids)).values(published_at=now_utc(), claimed_until=None, attempts=o.c.attempts + 1)
            )
            # A message is routed when none of its rows is still waiting.
            message_ids = [r[0] for r in conn.execute(select(o.c.message_id).where(o.c.id.in_(ids))).all()]
            for mid in set(message_ids):
                waiting = conn.execute(
                    select(o.c.id).where(o.c.message_id == mid, o.c.published_at.is_(None), o.c.destination != STREAM).limit(1)
                ).first()
                if waiting is None:
                    conn.execute(update(m).where(m.c.id == mid).values(routing_state="routed"))

    def mark_failed(self, outbox_id: int, error: str, dead_letter_after: int = 10) -> bool:
        """Count a failed attempt; after `dead_letter_after` attempts the message is dead-lettered
        (its row stays unpublished and is no longer claimed). Returns True when dead-lettered."""
        o, m = t.outbox, t.messages
        with self._conn() as conn:
            row = conn.execute(select(o.c.attempts, o.c.message_id).where(o.c.id == outbox_id)).first()
            if row is None:
                return False
            attempts = row[0] + 1
            dead = attempts >= dead_letter_after
            conn.execute(
                update(o)
                .where(o.c.id == outbox_id)
                .values(
                    attempts=attempts,
                    last_error=error[:2000],
                    claimed_until=PARKED if dead else None,
                )
            )
            if dead:
                conn.execute(
                    update(m).where(m.c.id == row[1]).values(dead_letter=True, routing_state="dead_letter")
                )
        return dead

    def requeue_dead_letter(self, message_id: str) -> int:
        """Make a dead-lettered message's unpublished rows claimable again (console action)."""
        o, m = t.outbox, t.messages
        with self._conn() as conn:
            n = conn.execute(
                update(o)
                .where(o.c.message_id == message_id, o.c.published_at.is_(None), o.c.destination != STREAM)
                .values(claimed_until=None, attempts=0)
            ).rowcount
            conn.execute(update(m).where(m.c.id == message_id).values(dead_letter=False, routing_state="pending"))
        return n

    def outbox_for(self, message_id: str) -> list[OutboxRecord]:
        o = t.outbox
        with self.engine.connect() as conn:
            rows = conn.execute(select(*t.with_stored(o)).where(o.c.message_id == message_id).order_by(o.c.id)
                                ).mappings().all()
        return [self._outbox_record(r) for r in rows]

    def pending_outbox_count(self) -> int:
        o = t.outbox
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(o).where(*t.outbox_waiting(o.c))
                ).scalar()
                or 0
            )

    # --- streams ---------------------------------------------------------------------------

    def read_stream(self, party: str, after: int | None = None, limit: int = 100) -> list[StreamItem]:
        """The party's stream entries with position > `after` (default: its last ack), oldest first.
        Served by the index (party, destination, id)."""
        o = t.outbox
        if after is None:
            after = self.stream_offset(party)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*t.with_stored(o))
                .where(o.c.party == party, o.c.destination == STREAM, o.c.id > after)
                .order_by(o.c.id)
                .limit(max(1, min(limit, 1000)))
            ).mappings().all()
        return [
            StreamItem(
                position=r["id"], message_id=r["message_id"], destination=r["destination"], key=r["key"],
                headers=_headers_in(r["headers"]), payload=r["payload"], created_at=_utc(r["created_at"]),
            )
            for r in rows
        ]

    def deliveries(self, message_id: str) -> list[tuple[str, str | None, bool]]:
        """(destination, party, done) of every outbox row of a message: a Kafka row is done when
        published, a stream row when its party acknowledged it."""
        o = t.outbox
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(o.c.destination, o.c.party, o.c.published_at).where(o.c.message_id == message_id)
            ).all()
        return [(d, p, published is not None) for d, p, published in rows]

    def stream_offset(self, party: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(t.stream_offsets.c.acked).where(t.stream_offsets.c.party == party)
            ).scalar()
        return int(value or 0)

    def ack_stream(self, party: str, position: int) -> int:
        """Record that `party` processed everything up to `position`; never moves backwards."""
        so, o = t.stream_offsets, t.outbox
        now = now_utc()
        with self._conn() as conn:
            current = conn.execute(select(so.c.acked).where(so.c.party == party).with_for_update()).scalar()
            if current is None:
                conn.execute(insert(so).values(party=party, acked=position, updated_at=now))
                current = 0
            elif position > current:
                conn.execute(update(so).where(so.c.party == party).values(acked=position, updated_at=now))
            if position > current:
                conn.execute(
                    update(o)
                    .where(o.c.party == party, o.c.destination == STREAM, o.c.id > current, o.c.id <= position,
                           o.c.published_at.is_(None))
                    .values(published_at=now)
                )
            return max(position, current)

    # --- parties, keys, certificates -------------------------------------------------------

    def add_party(self, party_id: str, role: str, name: str = "") -> PartyRecord:
        if role not in ("gemeente", "aanbieder"):
            raise ValueError("role must be gemeente or aanbieder")
        with self._conn() as conn:
            conn.execute(insert(t.parties).values(party_id=party_id, role=role, name=name, created_at=now_utc()))
        return self.get_party(party_id)  # type: ignore[return-value]

    def get_party(self, party_id: str) -> PartyRecord | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.parties).where(t.parties.c.party_id == party_id)).mappings().first()
        return _party(r) if r else None

    def list_parties(self) -> list[PartyRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.parties).order_by(t.parties.c.party_id)).mappings().all()
        return [_party(r) for r in rows]

    def revoke_party(self, party_id: str) -> None:
        now = now_utc()
        with self._conn() as conn:
            conn.execute(update(t.parties).where(t.parties.c.party_id == party_id).values(revoked_at=now))
            conn.execute(
                update(t.api_keys)
                .where(t.api_keys.c.party_id == party_id, t.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    def create_api_key(self, party_id: str) -> tuple[ApiKeyRecord, str]:
        """A new key for the party: returns the record and the secret, shown once, stored only as
        its sha256. The secret is `gwk_<key_id>_<32 random bytes, urlsafe>`."""
        key_id = secrets.token_hex(8)
        secret = f"gwk_{key_id}_{secrets.token_urlsafe(32)}"
        return self.add_api_key(party_id, hashlib.sha256(secret.encode()).hexdigest(), key_id), secret

    def add_api_key(self, party_id: str, key_hash: str, key_id: str | None = None) -> ApiKeyRecord:
        key_id = key_id or secrets.token_hex(8)
        with self._conn() as conn:
            conn.execute(
                insert(t.api_keys).values(key_id=key_id, key_hash=key_hash, party_id=party_id, created_at=now_utc())
            )
        return ApiKeyRecord(key_id=key_id, party_id=party_id, created_at=now_utc())

    def find_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        """The live key with this sha256 hash, whose party is not revoked."""
        k, p = t.api_keys, t.parties
        with self.engine.connect() as conn:
            r = conn.execute(
                select(k)
                .join(p, p.c.party_id == k.c.party_id)
                .where(k.c.key_hash == key_hash, k.c.revoked_at.is_(None), p.c.revoked_at.is_(None))
            ).mappings().first()
        return _api_key(r) if r else None

    def find_key_party(self, key_hash: str) -> PartyRecord | None:
        """The party of the live key with this sha256 hash, when the party is live too: what
        every request asks, in one prepared query (None: look closer with find_api_key)."""
        with self.engine.connect() as conn:
            r = conn.execute(_KEY_PARTY, dict(key_hash=key_hash)).mappings().first()
        return _party(r) if r else None

    def list_api_keys(self, party_id: str | None = None) -> list[ApiKeyRecord]:
        k = t.api_keys
        q = select(k).order_by(k.c.created_at)
        if party_id:
            q = q.where(k.c.party_id == party_id)
        with self.engine.connect() as conn:
            return [_api_key(r) for r in conn.execute(q).mappings().all()]

    def revoke_api_key(self, key_id: str) -> bool:
        with self._conn() as conn:
            n = conn.execute(
                update(t.api_keys)
                .where(t.api_keys.c.key_id == key_id, t.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now_utc())
            ).rowcount
        return n > 0

    def add_client_cert(self, fingerprint: str, party_id: str) -> ClientCertRecord:
        fingerprint = fingerprint.lower().replace(":", "")
        with self._conn() as conn:
            conn.execute(
                insert(t.client_certs).values(fingerprint=fingerprint, party_id=party_id, created_at=now_utc())
            )
        return ClientCertRecord(fingerprint=fingerprint, party_id=party_id, created_at=now_utc())

    def find_client_cert(self, fingerprint: str) -> ClientCertRecord | None:
        c, p = t.client_certs, t.parties
        with self.engine.connect() as conn:
            r = conn.execute(
                select(c)
                .join(p, p.c.party_id == c.c.party_id)
                .where(
                    c.c.fingerprint == fingerprint.lower().replace(":", ""),
                    c.c.revoked_at.is_(None),
                    p.c.revoked_at.is_(None),
                )
            ).mappings().first()
        if not r:
            return None
        return ClientCertRecord(
            fingerprint=r["fingerprint"], party_id=r["party_id"], created_at=_utc(r["created_at"]),
            revoked_at=_utc(r["revoked_at"]),
        )

    def revoke_client_cert(self, fingerprint: str) -> bool:
        with self._conn() as conn:
            n = conn.execute(
                update(t.client_certs)
                .where(t.client_certs.c.fingerprint == fingerprint.lower().replace(":", ""))
                .values(revoked_at=now_utc())
            ).rowcount
        return n > 0

    # --- users and audit -------------------------------------------------------------------

    def add_user(self, username: str, password_hash: str, role: str) -> UserRecord:
        with self._conn() as conn:
            conn.execute(
                insert(t.users).values(username=username, password_hash=password_hash, role=role, created_at=now_utc())
            )
        return self.get_user(username)  # type: ignore[return-value]

    def get_user(self, username: str) -> UserRecord | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.users).where(t.users.c.username == username)).mappings().first()
        if not r:
            return None
        return UserRecord(
            username=r["username"], password_hash=r["password_hash"], role=r["role"],
            created_at=_utc(r["created_at"]), disabled_at=_utc(r["disabled_at"]),
        )

    def list_users(self) -> list[UserRecord]:
        with self.engine.connect() as conn:
            names = [r[0] for r in conn.execute(select(t.users.c.username).order_by(t.users.c.username)).all()]
        return [u for u in (self.get_user(n) for n in names) if u]

    def set_password(self, username: str, password_hash: str) -> bool:
        with self._conn() as conn:
            return conn.execute(
                update(t.users).where(t.users.c.username == username).values(password_hash=password_hash)
            ).rowcount > 0

    def set_user_role(self, username: str, role: str) -> bool:
        with self._conn() as conn:
            return conn.execute(update(t.users).where(t.users.c.username == username).values(role=role)).rowcount > 0

    def disable_user(self, username: str) -> bool:
        with self._conn() as conn:
            return conn.execute(
                update(t.users).where(t.users.c.username == username).values(disabled_at=now_utc())
            ).rowcount > 0

    def audit(
        self,
        actor: str,
        action: str,
        target: str | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        with self.transaction() as tx:
            tx.audit(actor, action, target, reason, details)

    def list_audit(self, limit: int = 100, before_id: int | None = None, action: str | None = None) -> list[AuditRecord]:
        a = t.audit_log
        q = select(a).order_by(a.c.id.desc()).limit(max(1, min(limit, 1000)))
        if before_id:
            q = q.where(a.c.id < before_id)
        if action:
            q = q.where(a.c.action == action)
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [
            AuditRecord(
                id=r["id"], at=_utc(r["at"]), actor=r["actor"], action=r["action"], target=r["target"],
                reason=r["reason"], details=r["details"],
            )
            for r in rows
        ]

    # --- contract bundles ------------------------------------------------------------------

    def add_contract_bundle(
        self, region: str, version: str, effective_from: date, yaml_text: str, loaded_by: str
    ) -> ContractBundleRecord:
        with self._conn() as conn:
            new = conn.execute(
                insert(t.contract_bundles)
                .values(
                    region=region, version=version, effective_from=effective_from, yaml_text=yaml_text,
                    loaded_at=now_utc(), loaded_by=loaded_by,
                )
                .returning(t.contract_bundles.c.id)
            ).scalar_one()
        return self._bundles(t.contract_bundles.c.id == new)[0]

    def _bundles(self, *where) -> list[ContractBundleRecord]:  # noqa: ANN002
        b = t.contract_bundles
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(b).where(*where).order_by(b.c.region, b.c.effective_from, b.c.id)
            ).mappings().all()
        return [
            ContractBundleRecord(**{**dict(r), "loaded_at": _utc(r["loaded_at"])}) for r in rows
        ]

    def list_contract_bundles(self, region: str | None = None) -> list[ContractBundleRecord]:
        b = t.contract_bundles
        return self._bundles(b.c.region == region) if region else self._bundles()

    def contract_bundle(self, region: str, version: str) -> ContractBundleRecord | None:
        b = t.contract_bundles
        found = self._bundles(b.c.region == region, b.c.version == version)
        return found[0] if found else None

    def contract_bundle_in_force(self, region: str, on: date) -> ContractBundleRecord | None:
        """The bundle of `region` with the latest effective_from on or before `on`."""
        b = t.contract_bundles
        found = self._bundles(b.c.region == region, b.c.effective_from <= on)
        return found[-1] if found else None


_KEY_PARTY = (
    select(t.parties)
    .join(t.api_keys, t.api_keys.c.party_id == t.parties.c.party_id)
    .where(t.api_keys.c.key_hash == bindparam("key_hash"), t.api_keys.c.revoked_at.is_(None),
           t.parties.c.revoked_at.is_(None))
)


def _party(r: Any) -> PartyRecord:
    return PartyRecord(
        party_id=r["party_id"], role=r["role"], name=r["name"], created_at=_utc(r["created_at"]),
        revoked_at=_utc(r["revoked_at"]),
    )


def _api_key(r: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=r["key_id"], party_id=r["party_id"], created_at=_utc(r["created_at"]),
        revoked_at=_utc(r["revoked_at"]),
    )


def open_store(url: str, client_key_secret: str | bytes | None = None, *, migrate_schema: bool = True) -> Store:
    """Open (and migrate) the store at a SQLAlchemy URL: sqlite:///path or postgresql://..."""
    engine = make_engine(url)
    if migrate_schema:
        migrate(engine)
    return Store(engine, resolve_secret(client_key_secret))
