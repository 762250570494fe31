"""`gateway replay [--store URL] [--since ISO] [--code JW301] [--id ID] [--dry-run]`

Re-validate stored messages through the current schemas and rules (e.g. after a rule fix or a
new contract bundle) and record the new verdict as a new message row with `replay_of` = the
original. Each message is judged as on arrival: its own state is hidden from the rules, and the
date is the day it was received (so TR135 does not turn old messages into future ones).

Nothing is sent twice:
- no retour is produced (the sender already has one);
- state is recorded and routing rows are enqueued only when a message that was rejected is now
  accepted (it was never routed and never changed state). An accepted message that would now be
  rejected is only recorded: its state and what was routed stay, for an operator to follow up
  (`changed` in the output; the replay rows carry replay_of).
Output: one JSON line per message {"id", "code", "was", "now", "replay_id", "changed", "rules"}; a
summary on stderr; an audit entry. Exit status 0, or 2 on a usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway.store import Store, open_store
from gateway.store.ingest import ingest
from gateway.store.records import MessageRecord

NL = ZoneInfo("Europe/Amsterdam")
ROUTABLE = ("accepted",)


@dataclass
class Replayed:
    id: str
    code: str | None
    was: str
    now: str
    replay_id: str | None
    changed: bool
    rules: list[str]


def _rows_for(settings: Any, secret: bytes):  # noqa: ANN202
    """Routing rows for a message that was rejected and is now accepted (None: no router here)."""
    try:
        from gateway.auth.policy import header_route
        from gateway.routing import plan
        from gateway.routing.correlation import correlate
    except ImportError:
        return None

    def rows(root, mtype, raw, message_id):  # noqa: ANN001, ANN202
        return plan.message_rows(
            settings, secret, mtype, root, raw, message_id, header_route(root, mtype), correlate(root, mtype, secret)
        )

    return rows


def replay_message(store: Store, original: MessageRecord, *, contracts: Any = None, router=None) -> Replayed:  # noqa: ANN001
    from validators.validate import validate_bytes

    today = original.received_at.astimezone(NL).date()
    report = validate_bytes(original.raw, today=today)
    if report.mtype is None or not report.schema_valid:
        with store.transaction() as tx:
            rid = tx.save_message(
                raw=original.raw, verdict="transport_rejected", issues=report.issues, mtype=report.mtype,
                root=report.root, replay_of=original.id, transport="replay",
            )
        rules = sorted({i.rule for i in report.issues})
        return Replayed(original.id, original.code, original.verdict, "transport_rejected", rid,
                        original.verdict != "transport_rejected", rules)
    # Whose state is in the store for this message: the original's, or that of an earlier replay
    # that accepted it. That state is hidden from the rules and never recorded twice.
    applied_by = original.id if original.verdict not in ("rejected", "transport_rejected") else None
    if applied_by is None:
        applied_by = next(
            (r.id for r in reversed(store.replays_of(original.id))
             if r.verdict not in ("rejected", "transport_rejected")),
            None,
        )
    was_rejected = applied_by is None
    view = contracts.view(today) if contracts is not None and hasattr(contracts, "view") else contracts

    def outbox(tx, message_id, verdict):  # noqa: ANN001, ANN202
        if router is None or not was_rejected or verdict not in ROUTABLE:
            return []
        return router(report.root, report.mtype, original.raw, message_id)

    result = ingest(
        store, original.raw, report.root, report.mtype, today=today, prior_issues=report.issues,
        contracts=view, transport="replay", replay_of=original.id, exclude_message_id={original.id, applied_by} - {None},
        outbox=outbox, record_state=lambda verdict: was_rejected,
    )
    return Replayed(original.id, original.code, original.verdict, result.verdict, result.message_id,
                    result.verdict != original.verdict, sorted(result.codes))


def replay(
    store: Store,
    *,
    since: datetime | None = None,
    codes: Iterable[str] = (),
    ids: Iterable[str] = (),
    contracts: Any = None,
    router=None,  # noqa: ANN001
    actor: str = "replay",
    include_transport_rejected: bool = False,
) -> list[Replayed]:
    """Replay the selected original messages (oldest first); returns what happened to each."""
    out = []
    # lazily, in keyset batches: replays are new rows the iteration skips (replay_of is set)
    for original in store.iter_messages(since=since, codes=codes, ids=ids):
        if original.verdict == "transport_rejected" and not include_transport_rejected:
            continue
        out.append(replay_message(store, original, contracts=contracts, router=router))
    store.audit(
        actor, "replay", target=",".join(ids) or ",".join(codes) or None,
        reason=f"since {since.isoformat()}" if since else None,
        details={"replayed": len(out), "changed": sum(r.changed for r in out)},
    )
    return out


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "replay",
        help="re-validate stored messages through the current rules",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--store", metavar="URL", help="store URL (default: the service settings)")
    p.add_argument("--since", metavar="ISO", help="only messages received at or after this time")
    p.add_argument("--code", action="append", default=[], metavar="CODE", help="message type, e.g. JW301 (repeatable)")
    p.add_argument("--id", action="append", default=[], metavar="ID", help="message id (repeatable)")
    p.add_argument("--include-transport-rejected", action="store_true",
                   help="also replay messages refused at the transport level (parse/XSD)")
    p.set_defaults(func=main)


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"--since {value!r} is not an ISO date or time") from exc
    return at if at.tzinfo else at.replace(tzinfo=NL)


def main(args: argparse.Namespace) -> int:
    try:
        since = _since(args.since)
    except ValueError as exc:
        print(f"gateway replay: {exc}", file=sys.stderr)
        return 2
    settings = None
    secret: bytes | None = None
    try:
        from gateway.settings import Settings

        settings = Settings()
        secret = settings.secret()
    except Exception as exc:  # settings are optional when --store is given
        if not args.store:
            print(f"gateway replay: no --store and no usable settings ({exc})", file=sys.stderr)
            return 2
    url = args.store or settings.store_url
    store = open_store(url, client_key_secret=secret)
    contracts = None
    try:
        from gateway.pipeline import load_contracts

        contracts = load_contracts(settings.contracts if settings else None)
    except Exception:
        contracts = None
    router = _rows_for(settings, store.secret) if settings is not None else None
    from validators.faults import GatewayFault

    try:
        results = replay(
            store, since=since, codes=args.code, ids=args.id, contracts=contracts, router=router,
            actor=f"cli:{getpass.getuser()}", include_transport_rejected=args.include_transport_rejected,
        )
    except GatewayFault as exc:  # the gateway's defect, not a verdict: stop, change nothing more
        print(f"gateway replay: stopped: {exc}; the messages before it were replayed", file=sys.stderr)
        store.close()
        return 1
    for r in results:
        print(json.dumps(asdict(r)))
    changed = sum(r.changed for r in results)
    print(f"replayed {len(results)} message(s), {changed} with a changed verdict", file=sys.stderr)
    store.close()
    return 0
