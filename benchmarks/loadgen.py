"""Synthetic message rows in bulk, to prove the console's queries at a million stored messages.

Rows look like the pipeline's (types, parties, verdicts, issues, client keys, sortable ids spread
over `days`), but `raw` is a short stand-in document: the log never reads it and the detail page
reads one row by primary key, so its size does not change what is measured, only the disk used.
Loading goes around the store's per-message API on purpose: executemany on SQLite, COPY on
PostgreSQL, in batches, with the loaded tables' secondary indexes dropped and built again from
their own definitions afterwards (one sort per index instead of a million random inserts into
each), then ANALYZE so the planner knows the table.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from gateway import clock
from gateway.catalog import ALL as ALL_TYPES
from gateway.store import tables as t
from gateway.store.ids import _ulid

RAW = b'<Bericht xmlns="urn:loadgen"><Header><Note>synthetic row</Note></Header></Bericht>'
RULES = ["TR301", "TR304", "TR341", "TR389", "TR056", "CS139", "CD034", "TR315", "TR332", "TR074",
         "TR326", "TR347", "TR333", "TR314", "TR358", "CR001", "CR002", "CR003", "CR004", "CR005", "XSD"]
# message numbers with their share of traffic (heen and retour alike)
MIX = {"301": 14, "302": 14, "305": 12, "306": 12, "307": 5, "308": 5, "315": 3, "316": 3,
       "317": 2, "318": 2, "319": 3, "320": 3, "323": 12, "325": 10}
VERDICTS = (("accepted", 87), ("rejected", 9), ("flagged", 3), ("transport_rejected", 1))

COLUMNS = ["id", "received_at", "standard", "code", "sender", "receiver", "identificatie", "dagtekening",
           "raw", "sha256", "verdict", "issues", "retour", "retour_identificatie", "client_key", "bsn_masked",
           "allocation_numbers", "routing_state", "dead_letter", "replay_of", "transport", "received_by"]


@dataclass(frozen=True)
class Plan:
    rows: int
    days: int = 30
    gemeenten: int = 40
    aanbieders: int = 400
    clients: int = 200_000
    seed: int = 7


def gemeente(i: int) -> str:
    return f"{1000 + i:04d}"


def aanbieder(i: int) -> str:
    return f"{70000000 + i:08d}"


def client_key(i: int) -> str:
    return hashlib.sha256(f"loadgen-client-{i}".encode()).hexdigest()


def toewijzingnummer(client: int) -> str:
    return f"{client:08d}"


LAW = {"ijw": "jeugd", "iwmo": "wmo"}
PARTLY_SHARE = 0.05  # accepted 323s with a refused prestatie


def generate(plan: Plan, now: datetime | None = None) -> Iterator[tuple[dict[str, Any], list[str], dict[str, list]]]:
    """(message row, its rule codes, its state rows), oldest first.

    A client belongs to one gemeente (client % gemeenten) and has one ToewijzingNummer; its
    301/305/307 carry it, and every 323 that is not rejected holds 1-3 prestaties of clients of
    its gemeente on their numbers (declarations and prestaties rows, as the store writes them),
    so the client chain and the number search have declarations to find."""
    rnd = random.Random(plan.seed)
    now = now or clock.now()
    start = now - timedelta(days=plan.days)
    span_ms = plan.days * 86_400_000
    types = {(m.standard, m.number): m for m in ALL_TYPES}
    numbers, weights = zip(*MIX.items(), strict=True)
    verdicts, vweights = zip(*VERDICTS, strict=True)
    step = span_ms / plan.rows
    owned: set[tuple[str, str, str]] = set()
    start_ms = int(start.timestamp() * 1000)
    for i in range(plan.rows):
        ms = start_ms + int(i * step)
        standard = "ijw" if rnd.random() < 0.6 else "iwmo"
        mt = types[(standard, rnd.choices(numbers, weights)[0])]
        client = rnd.randrange(plan.clients)
        gi = client % plan.gemeenten
        g, a = gemeente(gi), aanbieder(rnd.randrange(plan.aanbieders))
        sender, receiver = (g, a) if mt.sender_role == "gemeente" else (a, g)
        verdict = rnd.choices(verdicts, vweights)[0]
        rules: list[str] = []
        if verdict in ("rejected", "transport_rejected", "flagged"):
            rules = sorted(set(rnd.choices(RULES, k=rnd.randint(1, 2))))
        single_client = mt.number not in ("323", "325")
        ck = client_key(client) if single_client else None
        carried = [toewijzingnummer(client)] if mt.number in ("301", "305", "307") else []
        at = datetime.fromtimestamp(ms / 1000, UTC)
        mid = _ulid(ms, rnd.getrandbits(80))
        issues = [{"rule": r, "severity": "error", "path": "/Bericht/Header", "text": f"synthetic {r}"} for r in rules]
        state: dict[str, list] = {"declarations": [], "prestaties": [], "allocation_numbers": []}
        if mt.number == "301" and verdict in ("accepted", "flagged") and (LAW[standard], g, carried[0]) not in owned:
            owned.add((LAW[standard], g, carried[0]))  # TR332: the first allocation owns the number
            state["allocation_numbers"].append({
                "law": LAW[standard], "gemeente": g, "toewijzingnummer": carried[0], "aanbieder": a,
                "client_key": ck, "message_id": mid})
        if mt.number == "323" and verdict in ("accepted", "flagged"):
            partly = verdict == "accepted" and rnd.random() < PARTLY_SHARE
            if partly:
                rules = ["TR341"]
                issues = [{"rule": "TR341", "severity": "error", "text": "synthetic TR341",
                           "path": "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie[2]/Eenheid"}]
            law = LAW[standard]
            day = at.date().replace(day=1)
            state["declarations"].append({
                "id": i + 1, "message_id": mid, "law": law, "gemeente": g, "aanbieder": a,
                "declaratienummer": f"D{i:011d}", "identificatie": f"L{i:011d}",
                "periode_begin": day, "periode_eind": day})
            clients = sorted({(rnd.randrange(plan.clients // plan.gemeenten) * plan.gemeenten + gi) % plan.clients
                              for _ in range(rnd.randint(1, 3))})
            if partly:  # one refused prestatie, one awarded: partly, not wholly rejected
                clients = [clients[0], clients[0]] if len(clients) == 1 else clients
            for j, c in enumerate(clients):
                state["prestaties"].append({
                    "message_id": mid, "declaration_id": i + 1, "law": law, "gemeente": g, "aanbieder": a,
                    "client_key": client_key(c), "referentienummer": f"R{i:011d}-{j}", "debet_credit": "D",
                    "toewijzingnummer": toewijzingnummer(c), "periode_begin": day, "periode_eind": day,
                    "bedrag": 10_000, "status": "rejected" if partly and j == 0 else "accepted"})
        yield {
            "id": mid,
            "received_at": at,
            "standard": standard,
            "code": mt.code,
            "sender": sender,
            "receiver": receiver,
            "identificatie": f"L{i:011d}",
            "dagtekening": at.date(),
            "raw": RAW,
            "sha256": hashlib.sha256(mid.encode()).hexdigest(),
            "verdict": verdict,
            "issues": issues,
            "retour": None,
            "retour_identificatie": None,
            "client_key": ck,
            "bsn_masked": f"******{rnd.randrange(1000):03d}" if ck else None,
            "allocation_numbers": carried,
            "routing_state": "routed" if verdict == "accepted" else "none",
            "dead_letter": False,
            "replay_of": None,
            "transport": "http",
            "received_by": sender,
        }, rules, state


def _parties(plan: Plan) -> list[dict[str, Any]]:
    now = clock.now()
    return [{"party_id": gemeente(i), "role": "gemeente", "name": f"Gemeente {i}", "created_at": now}
            for i in range(plan.gemeenten)] + [
        {"party_id": aanbieder(i), "role": "aanbieder", "name": f"Aanbieder {i}", "created_at": now}
        for i in range(plan.aanbieders)]


def load(engine: Engine, plan: Plan, batch: int = 20_000, now: datetime | None = None) -> dict[str, float]:
    """Insert `plan.rows` messages (and their issue rows and the parties); returns timings."""
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(t.parties), _parties(plan))
    with _indexes_built_after(engine):
        if engine.dialect.name == "postgresql":
            _load_pg(engine, plan, batch, now)
        else:
            _load_sqlite(engine, plan, batch, now)
    loaded = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return {"load_s": round(loaded - started, 2), "analyze_s": round(time.perf_counter() - loaded, 2)}


LOADED_TABLES = ("messages", "message_issues", "declarations", "prestaties", "allocation_numbers")


def _secondary_indexes(conn: Any) -> list[tuple[str, str]]:
    """(name, definition) of the loaded tables' indexes that no constraint owns."""
    if conn.dialect.name == "postgresql":
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema()"
            " AND i.tablename = ANY(%(tables)s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
            " WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)"
            " ORDER BY i.indexname", {"tables": list(LOADED_TABLES)})]
    # an index SQLite made for a constraint has no SQL of its own
    marks = ", ".join("?" * len(LOADED_TABLES))
    return [tuple(r) for r in conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})"
        " ORDER BY name", LOADED_TABLES)]


@contextmanager
def _indexes_built_after(engine: Engine) -> Iterator[None]:
    with engine.begin() as conn:
        indexes = _secondary_indexes(conn)
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        else:
            conn.exec_driver_sql("PRAGMA cache_size = -512000")  # sorts in memory: 512 MB
        for _, definition in indexes:
            conn.exec_driver_sql(definition)
        if engine.dialect.name != "postgresql":
            conn.exec_driver_sql("PRAGMA cache_size = -2000")


def _sqlite_value(col: str, v: Any) -> Any:
    if isinstance(v, datetime):
        # SQLAlchemy's SQLite DateTime storage format (naive UTC)
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if col in ("issues", "allocation_numbers"):
        return json.dumps(v)
    if col == "dagtekening":
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


DECLARATION_COLUMNS = ["id", "message_id", "law", "gemeente", "aanbieder", "declaratienummer", "identificatie",
                       "periode_begin", "periode_eind"]
NUMBER_COLUMNS = ["law", "gemeente", "toewijzingnummer", "aanbieder", "client_key", "message_id"]
PRESTATIE_COLUMNS = ["message_id", "declaration_id", "law", "gemeente", "aanbieder", "client_key",
                     "referentienummer", "debet_credit", "toewijzingnummer", "periode_begin", "periode_eind",
                     "bedrag", "status"]


def _insert_sql(table: str, columns: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _load_sqlite(engine: Engine, plan: Plan, batch: int, now: datetime | None) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA synchronous=OFF")
        msg_sql = _insert_sql("messages", COLUMNS)
        iss_sql = "INSERT INTO message_issues (message_id, rule, retourcode, received_at) VALUES (?, ?, ?, ?)"
        decl_sql = _insert_sql("declarations", DECLARATION_COLUMNS)
        pres_sql = _insert_sql("prestaties", PRESTATIE_COLUMNS)
        num_sql = _insert_sql("allocation_numbers", NUMBER_COLUMNS)
        numbers: list[tuple] = []
        msgs: list[tuple] = []
        issues: list[tuple] = []
        decls: list[tuple] = []
        prestaties: list[tuple] = []

        def flush() -> None:
            cur.executemany(msg_sql, msgs)
            cur.executemany(iss_sql, issues)
            cur.executemany(decl_sql, decls)
            cur.executemany(pres_sql, prestaties)
            cur.executemany(num_sql, numbers)
            for rows in (msgs, issues, decls, prestaties, numbers):
                rows.clear()

        def plain(v: Any) -> Any:
            return v.isoformat() if hasattr(v, "isoformat") else v

        cur.execute("BEGIN")
        for row, rules, state in generate(plan, now):
            msgs.append(tuple(_sqlite_value(c, row[c]) for c in COLUMNS))
            at = _sqlite_value("received_at", row["received_at"])
            issues.extend((row["id"], r, None, at) for r in rules)
            decls.extend(tuple(plain(d[c]) for c in DECLARATION_COLUMNS) for d in state["declarations"])
            prestaties.extend(tuple(plain(p[c]) for c in PRESTATIE_COLUMNS) for p in state["prestaties"])
            numbers.extend(tuple(n[c] for c in NUMBER_COLUMNS) for n in state["allocation_numbers"])
            if len(msgs) >= batch:
                flush()
        flush()
        cur.execute("COMMIT")
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        raw.close()


def _load_pg(engine: Engine, plan: Plan, batch: int, now: datetime | None) -> None:
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection  # psycopg 3 connection
        with dbapi.cursor() as cur:
            issue_rows: list[tuple] = []
            decls: list[tuple] = []
            prestaties: list[tuple] = []
            numbers: list[tuple] = []
            with cur.copy(f"COPY messages ({', '.join(COLUMNS)}) FROM STDIN") as cp_msgs:
                for row, rules, state in generate(plan, now):
                    cp_msgs.write_row(tuple(
                        json.dumps(row[c]) if c in ("issues", "allocation_numbers") else row[c] for c in COLUMNS
                    ))
                    issue_rows.extend((row["id"], r, None, row["received_at"]) for r in rules)
                    decls.extend(tuple(d[c] for c in DECLARATION_COLUMNS) for d in state["declarations"])
                    prestaties.extend(tuple(p[c] for c in PRESTATIE_COLUMNS) for p in state["prestaties"])
                    numbers.extend(tuple(n[c] for c in NUMBER_COLUMNS) for n in state["allocation_numbers"])
            for table, columns, rows in (
                ("message_issues", ["message_id", "rule", "retourcode", "received_at"], issue_rows),
                ("declarations", DECLARATION_COLUMNS, decls),
                ("prestaties", PRESTATIE_COLUMNS, prestaties),
                ("allocation_numbers", NUMBER_COLUMNS, numbers),
            ):
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
                    for r in rows:
                        cp.write_row(r)
            # the ids were given: move the sequence past them for the store's own inserts
            cur.execute("SELECT setval(pg_get_serial_sequence('declarations', 'id'), "
                        "(SELECT coalesce(max(id), 0) + 1 FROM declarations), false)")
        dbapi.commit()
    finally:
        raw.close()


# --- what the scale test and the benchmark measure ----------------------------------------------


def scenarios(plan: Plan, engine: Engine, now: datetime | None = None) -> dict[str, dict[str, str]]:
    """Log filters as the console sends them (query parameters), with values that exist in a
    store loaded by `load(plan)`: a busy provider, a client with a chain, a mid-table cursor."""
    from sqlalchemy import select

    from gateway.console.queries import encode_cursor

    now = now or clock.now()
    m = t.messages.c
    with engine.connect() as conn:
        some = conn.execute(
            select(m.client_key, m.identificatie).where(m.client_key.is_not(None)).order_by(m.received_at.desc()).limit(1)
        ).first()
        # the provider of the newest rejection: "rejected from a provider, 7 days" has rows
        rejecting = conn.execute(
            select(m.sender).where(m.verdict == "rejected", m.sender.like("7%")).order_by(m.received_at.desc()).limit(1)
        ).scalar()
        # a cursor half-way down the log: the page after it must cost what page one costs
        mid = conn.execute(
            select(m.received_at, m.id).order_by(m.received_at.desc(), m.id.desc()).offset(plan.rows // 2).limit(1)
        ).first()
        # a client of the newest declaration: its chain holds 301/305/307 and 323s
        # (one whose own messages are stored too: its numbers are read from them)
        declared = next(
            (r for r in conn.execute(
                select(t.prestaties.c.client_key, t.prestaties.c.toewijzingnummer)
                .order_by(t.prestaties.c.id.desc()).limit(500)
            ).all() if conn.execute(
                select(m.id).where(m.client_key == r.client_key, m.code.in_(["JW301", "WMO301"])).limit(1)
            ).first()),
            None,
        )
        nummer = conn.execute(
            select(t.declarations.c.declaratienummer).order_by(t.declarations.c.id.desc()).limit(1)
        ).scalar()
    day_ago = now - timedelta(days=1)
    return {
        "newest page": {},
        "type JW323": {"code": "JW323"},
        "verdict rejected": {"verdict": "rejected"},
        "sender (provider)": {"sender": aanbieder(3)},
        "receiver (gemeente)": {"receiver": gemeente(5)},
        "type + verdict": {"code": "JW323", "verdict": "rejected"},
        "rule TR341": {"rule": "TR341"},
        "contract rule CR004": {"contract_rule": "CR004"},
        "client chain": {"client_key": some.client_key},
        "free text identificatie": {"q": some.identificatie},
        "one hour, a day ago": {"since": day_ago.isoformat(), "until": (day_ago + timedelta(hours=1)).isoformat()},
        "standard iwmo": {"standard": "iwmo"},
        "page at the middle (cursor)": {"cursor": encode_cursor(mid.received_at, mid.id)},
        "rejected from a provider, 7 days": {
            "verdict": "rejected", "sender": rejecting, "since": (now - timedelta(days=7)).isoformat()},
        "client chain with declarations": {"client_key": declared.client_key},
        "free text ToewijzingNummer": {"q": declared.toewijzingnummer},
        "free text DeclaratieNummer": {"q": nummer},
        "verdict partly rejected": {"verdict": "partly_rejected"},
    }


def store_detail_subject(store: Any) -> str:
    """A real rejected declaration (two issues at real element paths) with its client's allocation
    and start, stored through the store's API: what the detail page is measured on."""
    from lxml import etree

    from gateway import samples
    from gateway.catalog import by_code
    from validators.issues import Issue
    from validators.paths import element_path

    nr = 424242
    bsn = samples.BSNS[1]
    flow = [
        ("JW301", samples.allocation(bsn=bsn, products=(samples.Allocated(toewijzingnummer=nr),)), "accepted"),
        ("JW305", samples.start(bsn=bsn, products=(samples.Started(toewijzingnummer=nr),)), "accepted"),
    ]
    bad = samples.declaration(clients={bsn: [samples.Prestatie(toewijzingnummer=nr),
                                             samples.Prestatie(toewijzingnummer=nr, eenheid="14")]})
    flow.append(("JW323", bad, "rejected"))
    message_id = ""
    for code, raw, verdict in flow:
        root = etree.fromstring(raw)
        issues = []
        if verdict == "rejected":
            eenheid = [e for e in root.iter() if isinstance(e.tag, str) and e.tag.endswith("}Eenheid")][1]
            issues = [Issue(rule="TR341", path=element_path(eenheid), text="Eenheid differs from the toewijzing")]
        with store.transaction() as tx:
            message_id = tx.save_message(raw=raw, verdict=verdict, issues=issues, mtype=by_code(code), root=root)
            tx.apply_state(by_code(code), root, accepted=verdict == "accepted")
    return message_id


BIG_TABLES = {"messages", "message_issues", "prestaties", "declarations", "allocations", "allocation_numbers",
              "starts", "stops"}


def full_scans(conn: Any, stmt: Any) -> tuple[list[str], str]:
    """(tables read by a full scan, the plan as text) for a SELECT, from EXPLAIN.

    SQLite: a `SCAN <table>` line without an index. PostgreSQL: a `Seq Scan` node. An ordered
    walk of an index (`SCAN messages USING INDEX ix_messages_received`) is no full scan: it stops
    after the page's rows.
    """
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    return explain_sql(conn, str(compiled))


def explain_sql(conn: Any, sql: str, params: Any = None) -> tuple[list[str], str]:
    """full_scans for SQL text as the driver receives it (with its parameters)."""
    if conn.dialect.name == "postgresql":
        if params is None:
            sql = sql.replace("%", "%%")
        plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql, params if params is not None else ()).scalar()
        plan = plan if isinstance(plan, list) else json.loads(plan)
        scans: list[str] = []
        lines: list[str] = []

        def walk(node: dict, depth: int = 0) -> None:
            lines.append("  " * depth + f"{node['Node Type']} {node.get('Relation Name', '')} {node.get('Index Name', '')}".rstrip())
            if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in BIG_TABLES:
                scans.append(node["Relation Name"])
            for sub in node.get("Plans", []):
                walk(sub, depth + 1)

        walk(plan[0]["Plan"])
        return scans, "\n".join(lines)
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params if params is not None else ()).all()
    details = [r[-1] for r in rows]
    scans = [d.split()[1] for d in details
             if d.startswith("SCAN ") and "USING" not in d and d.split()[1] in BIG_TABLES]
    return scans, "\n".join(details)


def scans_of_executed(engine: Engine, fn: Any) -> list[tuple[str, str]]:
    """Run fn(conn) and EXPLAIN every SELECT it sent: [(full scan tables, plan)] of those that
    read a large table by a full scan. Catches the lookups a filter runs before its page query."""
    from sqlalchemy import event

    sent: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, parameters))

    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", capture)
        try:
            fn(conn)
        finally:
            event.remove(conn, "before_cursor_execute", capture)
        out = []
        for sql, params in sent:
            scans, plan = explain_sql(conn, sql, params)
            if scans:
                out.append((", ".join(scans), sql + "\n" + plan))
        return out
