"""Operator actions: replay, re-publish, dead-letter, and showing a BSN; each one audited.

Every action writes its audit row in the same store transaction as its effect, so there is no
effect without its record (who, when, which message, why).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from gateway import clock
from gateway.store import tables as t
from gateway.store.store import PARKED  # where a dead-lettered message's unpublished rows are parked


class ActionError(Exception):
    """An action that cannot be done; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def now() -> datetime:
    return clock.now()


def _audit(conn: Any, actor: str, action: str, target: str | None, reason: str | None,
           details: dict[str, Any] | None = None) -> int:
    result = conn.execute(
        t.audit_log.insert().values(
            at=now(), actor=actor, action=action, target=target, reason=reason, details=details or {}
        )
    )
    return int(result.inserted_primary_key[0])


def _require_message(conn: Any, message_id: str) -> dict[str, Any]:
    m = t.messages.c
    row = conn.execute(
        select(m.id, m.dead_letter, m.verdict, m.receiver, m.client_key, m.routing_state).where(m.id == message_id)
    ).first()
    if row is None:
        raise ActionError(404, f"no message {message_id}")
    return dict(row._mapping)


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ActionError(400, "say why: a reason of at least 3 characters is required")
    return reason[:2000]


def set_dead_letter(store: Any, actor: str, message_id: str, dead: bool, reason: str | None) -> dict:
    """Move a message to the dead-letter list (its undelivered rows are parked) or out of it
    (its undelivered rows are claimable again, as Store.requeue_dead_letter does). A message whose
    envelope a SOAP endpoint refused (routing_state delivery_failed: that row alone is parked,
    gateway.store.ggk.refused) is moved "out" the same way: the refused delivery is tried again."""
    why = _reason(reason)
    o, m = t.outbox, t.messages
    with store.transaction() as tx:
        msg = _require_message(tx.conn, message_id)
        parked = bool(msg["dead_letter"]) or (not dead and msg["routing_state"] == "delivery_failed")
        if parked == dead:
            raise ActionError(409, "already in the dead-letter list" if dead else "not in the dead-letter list")
        pending = o.c.message_id == message_id, o.c.published_at.is_(None)
        if dead:
            rows = tx.conn.execute(update(o).where(*pending).values(claimed_until=PARKED)).rowcount
            tx.conn.execute(update(m).where(m.c.id == message_id).values(dead_letter=True, routing_state="dead_letter"))
        else:
            rows = tx.conn.execute(update(o).where(*pending).values(claimed_until=None, attempts=0)).rowcount
            state = "pending" if rows else ("routed" if msg["routing_state"] == "dead_letter" else msg["routing_state"])
            tx.conn.execute(update(m).where(m.c.id == message_id).values(dead_letter=False, routing_state=state))
        audit_id = _audit(tx.conn, actor, "dead_letter" if dead else "undead_letter", message_id, why,
                          {"outbox_rows": rows})
    return {"message_id": message_id, "dead_letter": dead, "audit_id": audit_id}


def republish(store: Any, actor: str, message_id: str, destination: str, reason: str | None) -> dict:
    """Queue the message again for `destination` (a new outbox row; the publisher delivers it).

    Payload, key and headers are those of the message's latest outbox row, so the receiver gets
    exactly what was routed before; a message never routed goes out as its raw XML.
    """
    why = _reason(reason)
    destination = (destination or "").strip()
    if not destination or len(destination) > 255:
        raise ActionError(400, "name the destination (a Kafka topic, or 'stream' for the party stream)")
    o = t.outbox.c
    with store.transaction() as tx:
        msg = _require_message(tx.conn, message_id)
        last = tx.conn.execute(
            select(o.party, o.key, o.headers, t.stored(o.payload)).where(o.message_id == message_id).order_by(o.id.desc()).limit(1)
        ).first()
        if last is not None:
            party, key, headers, payload = last.party, last.key, list(last.headers or []), last.payload
        else:
            raw = tx.conn.execute(select(t.stored(t.messages.c.raw)).where(t.messages.c.id == message_id)).scalar_one()
            party, key, headers, payload = msg["receiver"], msg["client_key"], [], raw
        headers = [h for h in headers if not (isinstance(h, list | tuple) and h and h[0] == "republished-by")]
        headers.append(["republished-by", actor])
        result = tx.conn.execute(
            t.outbox.insert().values(
                message_id=message_id, party=party, destination=destination, key=key, headers=headers,
                payload=payload, created_at=now(), attempts=0,
            )
        )
        outbox_id = int(result.inserted_primary_key[0])
        if destination != "stream":
            tx.conn.execute(update(t.messages).where(t.messages.c.id == message_id).values(routing_state="pending"))
        audit_id = _audit(tx.conn, actor, "republish", message_id, why, {"destination": destination, "outbox_id": outbox_id})
    return {"message_id": message_id, "outbox_id": outbox_id, "audit_id": audit_id}


def record_bsn_view(store: Any, actor: str, message_id: str, reason: str | None) -> int:
    """Audit that `actor` sees the BSNs of `message_id` in full, before they are shown."""
    why = _reason(reason)
    with store.transaction() as tx:
        _require_message(tx.conn, message_id)
        return _audit(tx.conn, actor, "reveal_bsn", message_id, why)


# --- replay -----------------------------------------------------------------------------------

Replayer = Callable[..., Any]


def find_replayer(
    explicit: Replayer | None = None, pipeline: Any = None, store: Any = None, components: Any = None
) -> Replayer | None:
    """The replay entry point: an explicit callable, the pipeline's `replay` method, a
    module-level `gateway.pipeline.replay`, or `gateway replay`'s own `replay_message` on the
    store; each is called as (message_id, actor=, reason=)."""
    if explicit is not None:
        return explicit
    method = getattr(pipeline, "replay", None)
    if callable(method):
        return method
    try:
        fn = getattr(importlib.import_module("gateway.pipeline"), "replay", None)
    except ModuleNotFoundError:
        fn = None
    if callable(fn):
        return fn
    if store is not None:
        return _cli_replayer(store, components)
    return None


def _cli_replayer(store: Any, components: Any) -> Replayer | None:
    """Replay as `gateway replay --id` does: judged as on arrival, stored with replay_of, routed
    only when a formerly rejected message is now accepted."""
    try:
        from gateway.cli import replay as cli_replay
    except ImportError:
        return None
    router = None
    settings, secret = getattr(components, "settings", None), getattr(components, "secret", None)
    rows_for = getattr(cli_replay, "_rows_for", None)
    if settings is not None and secret is not None and rows_for is not None:
        router = rows_for(settings, secret)
    contracts = getattr(components, "contracts", None)

    def run(message_id: str, actor: str = "console", reason: str = "") -> dict[str, Any]:
        original = store.get_message(message_id)
        if original is None:
            raise ActionError(404, f"no message {message_id}")
        r = cli_replay.replay_message(store, original, contracts=contracts, router=router)
        return {"message_id": r.replay_id, "verdict": r.now, "was": r.was, "changed": r.changed}

    return run


async def replay(store: Any, actor: str, message_id: str, reason: str | None, replayer: Replayer | None) -> dict:
    """Run a stored message through the current rules again (the pipeline stores the result as a
    new message with replay_of = id); we audit who asked, why, and what came out."""
    why = _reason(reason)
    with store.engine.connect() as conn:
        _require_message(conn, message_id)
    if replayer is None:
        raise ActionError(503, "replay is not available: the pipeline has no replay entry point")
    if inspect.iscoroutinefunction(replayer) or inspect.iscoroutinefunction(getattr(replayer, "__call__", None)):
        result = await _call(replayer, message_id, actor, why)
    else:
        # the pipeline and the store are synchronous: keep the event loop free meanwhile
        from starlette.concurrency import run_in_threadpool

        result = await run_in_threadpool(_call, replayer, message_id, actor, why)
    outcome = _outcome(result)
    with store.transaction() as tx:
        audit_id = _audit(tx.conn, actor, "replay", message_id, why, outcome)
    return {"message_id": message_id, "audit_id": audit_id, **outcome}


def _call(replayer: Replayer, message_id: str, actor: str, reason: str) -> Any:
    params = inspect.signature(replayer).parameters
    kwargs = {k: v for k, v in (("actor", actor), ("reason", reason)) if k in params
              or any(p.kind is p.VAR_KEYWORD for p in params.values())}
    return replayer(message_id, **kwargs)


def _outcome(result: Any) -> dict[str, Any]:
    """The new message id and verdict out of what the pipeline returns (Outcome, dict or id)."""
    if result is None:
        return {}
    if isinstance(result, str):
        return {"new_message_id": result}
    get = result.get if isinstance(result, dict) else (lambda k, d=None: getattr(result, k, d))
    new_id = get("message_id", None) or get("new_message_id", None)
    out: dict[str, Any] = {}
    if new_id:
        out["new_message_id"] = str(new_id)
    for key in ("verdict", "was", "changed"):
        if get(key, None) is not None:
            out[key] = get(key, None)
    return out
