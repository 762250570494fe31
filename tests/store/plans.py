"""The plan a database makes for a statement (tests of which index a query uses)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def query_plan(store: Any, stmt: Any, values: Mapping[str, Any] | None = None) -> str:
    """`stmt`'s plan on `store`'s database as one line: SQLite's EXPLAIN QUERY PLAN details, or
    PostgreSQL's EXPLAIN with sequential scans off (a test's few rows: a scan would do otherwise).
    `values`: for its bind parameters (the others keep the statement's own values)."""
    compiled = stmt.compile(store.engine)
    params = {**compiled.params, **{k: v for k, v in (values or {}).items() if k in compiled.params}}
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}",
                                        tuple(params[k] for k in compiled.positiontup or ()))
            return " ".join(r[3] for r in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")
        return " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", params))
