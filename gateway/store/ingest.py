"""The ingest transaction: judge a message against stored state and store it with its effects.

    result = ingest(store, raw, root, mtype, today=today, prior_issues=level2_issues)

One transaction, under locks on everything the message's rules read and write: the idempotency
lookup, the cross-message and external rules (and contract rules when `contracts` is given), the
message row, its state and its outbox rows. `gateway.pipeline` does the same inside its own
chain (with the retour); `gateway replay` and the store tests use this function.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lxml import etree
from sqlalchemy.exc import SQLAlchemyError

from gateway.catalog import MessageType
from validators import extract
from gateway.store.apply import parties
from gateway.store.store import ConflictError, Store, Transaction
from validators import engine
from validators.faults import RuleFailed
from validators.issues import Issue
from validators.paths import local_name

log = logging.getLogger(__name__)
LATER_LEVELS: tuple[engine.Level, ...] = ("crossmessage", "external")


@dataclass
class IngestResult:
    message_id: str
    verdict: str
    issues: list[Any] = field(default_factory=list)  # Issue, or stored dicts for a duplicate
    duplicate: bool = False
    rejected_paths: list[str] = field(default_factory=list)

    @property
    def codes(self) -> set[str]:
        """The rule codes of the error issues (handy in tests and logs)."""
        return {
            (i.rule if isinstance(i, Issue) else i.get("rule"))
            for i in self.issues
            if (i.severity if isinstance(i, Issue) else i.get("severity")) == "error"
        }


def lock_keys(store: Store, mtype: MessageType, root: etree._Element) -> list[str]:
    """Advisory lock keys covering what the rules of this message read and write."""
    law = mtype.law
    gemeente, aanbieder = parties(mtype, root)
    h = extract.header(root)
    keys = {f"ident:{h.afzender}:{mtype.code}:{h.identificatie}"}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        name, value = local_name(el), (el.text or "").strip()
        if not value:
            continue
        if name == "Bsn":
            keys.add(f"client:{law}:{gemeente}:{aanbieder}:{store.client_key(value)}")
        elif name == "ToewijzingNummer":
            keys.add(f"toewijzing:{law}:{gemeente}:{value}")
        elif name == "ReferentieAanbieder":
            keys.add(f"referentie:{law}:{aanbieder}:{value}")
    if mtype.number in ("323", "325") or mtype.number == "301":
        # declarations of one aanbieder, and a 301 deleting a declared toewijzing (TR385)
        keys.add(f"declaraties:{law}:{aanbieder}")
    return sorted(keys)


def run_rules(ctx: engine.RuleContext, levels: Iterable[engine.Level] = LATER_LEVELS) -> list[Issue]:
    """Rules one at a time; one that raises is the gateway's failure (RuleFailed), not a finding."""
    issues: list[Issue] = []
    for r in engine.rules_for(ctx.mtype, levels):
        try:
            issues.extend(r.check(r, ctx))
        except (SQLAlchemyError, ConflictError):
            raise  # the store failed, not the rule: the transaction aborts
        except Exception as exc:
            log.exception("rule %s raised %s on a %s message", r.code, type(exc).__name__, ctx.mtype.code)
            raise RuleFailed(r.code, ctx.mtype.code) from exc
    return issues


def decide(root: etree._Element, mtype: MessageType, issues: list[Issue]) -> tuple[str, list[str]]:
    """(verdict, rejected prestatie paths). An error rejects a message; in a 323 an error on a
    Prestatie (or its Client) rejects only those prestaties, unless all of them are rejected."""
    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity == "warning"]
    rejected: list[str] = []
    if errors:
        if mtype.number != "323":
            return "rejected", []
        d = extract.declaratie(root)
        paths = extract.prestatie_paths(d)
        prestaties = [paths[id(p.el)] for p in d.prestaties]
        known = set(prestaties)
        by_client: dict[str, list[str]] = {}
        for path in prestaties:
            by_client.setdefault(path.split("/Prestaties/", 1)[0], []).append(path)
        chosen: set[str] = set()
        for issue in errors:
            where = issue.class_path or ""
            if issue.retourcode == "0001" or "/Clienten/Client" not in where:
                return "rejected", []
            if where in known:
                chosen.add(where)
            elif where in by_client:  # an error on a Client rejects all its prestaties
                chosen.update(by_client[where])
            else:
                return "rejected", []
        if chosen >= known:
            return "rejected", []
        rejected = [p for p in prestaties if p in chosen]
    if any(i.action == "review" for i in warnings):
        return "review", rejected
    if any(i.action == "flag" for i in warnings):
        return "flagged", rejected
    return "accepted", rejected


def ingest(
    store: Store,
    raw: bytes,
    root: etree._Element,
    mtype: MessageType,
    *,
    today: date,
    prior_issues: Iterable[Issue] = (),
    contracts: Any = None,
    received_at: datetime | None = None,
    transport: str | None = None,
    received_by: str | None = None,
    replay_of: str | None = None,
    exclude_message_id: str | set[str] | None = None,
    outbox: Callable[[Transaction, str, str], Iterable[Any]] | None = None,
    retour: Callable[[list[Issue]], bytes | None] | None = None,
    record_state: Callable[[str], bool] = lambda verdict: verdict != "rejected",
    retries: int = 3,
) -> IngestResult:
    """Judge and store one schema-valid message. `prior_issues` are its level-2 findings (when
    there are errors among them the later levels do not run). `outbox(tx, message_id, verdict)`
    returns the rows to enqueue; `retour(issues)` builds the retour to store with the message.
    `replay_of`/`exclude_message_id` re-judge a stored message without its own state;
    `record_state(verdict)` says whether the message's state is recorded (replay: only when a
    rejected message is now accepted, as its state is already there otherwise). A ConflictError
    (a unique constraint caught a race the locks did not cover) re-runs the whole transaction
    up to `retries` times: the next run sees the winner's state and judges accordingly."""
    for attempt in range(retries + 1):
        try:
            return _ingest_once(
                store, raw, root, mtype, today=today, prior_issues=prior_issues, contracts=contracts,
                received_at=received_at, transport=transport, received_by=received_by, replay_of=replay_of,
                exclude_message_id=exclude_message_id, outbox=outbox, retour=retour, record_state=record_state,
            )
        except ConflictError:
            if attempt == retries:
                raise
            log.info("ingest conflict on a %s, retrying", mtype.code)
    raise AssertionError("unreachable")


def _ingest_once(
    store: Store,
    raw: bytes,
    root: etree._Element,
    mtype: MessageType,
    *,
    today: date,
    prior_issues: Iterable[Issue],
    contracts: Any,
    received_at: datetime | None,
    transport: str | None,
    received_by: str | None,
    replay_of: str | None,
    exclude_message_id: str | set[str] | None,
    outbox: Callable[[Transaction, str, str], Iterable[Any]] | None,
    retour: Callable[[list[Issue]], bytes | None] | None,
    record_state: Callable[[str], bool],
) -> IngestResult:
    prior = list(prior_issues)
    sha = hashlib.sha256(raw).hexdigest()
    h = extract.header(root)
    levels = LATER_LEVELS + (("contract",) if contracts is not None else ())
    with store.transaction(lock_keys(store, mtype, root)) as tx:
        if replay_of is None:
            same = tx.find_same_message(h.afzender, mtype.code, h.identificatie, sha)
            if same is not None:
                return IngestResult(same.id, same.verdict, list(same.issues), duplicate=True)
        issues = list(prior)
        # later levels run unless level 2 failed (0001); TR319's 9319 rejects only its Prestatie
        if not any(i.severity == "error" and (i.retourcode or "0001") == "0001" for i in prior):
            tx.state.exclude_message_id = exclude_message_id
            ctx = engine.RuleContext(root, mtype, today, state=tx.state, contracts=contracts)
            issues += run_rules(ctx, levels)
            tx.state.exclude_message_id = None
        verdict, rejected = decide(root, mtype, issues)
        message_id = tx.save_message(
            raw=raw,
            verdict=verdict,
            issues=issues,
            mtype=mtype,
            root=root,
            sha256=sha,
            received_at=received_at,
            retour=retour(issues) if retour else None,
            transport=transport,
            received_by=received_by,
            replay_of=replay_of,
        )
        if verdict != "rejected" and record_state(verdict):
            tx.apply_state(mtype, root, True, rejected)
        if outbox is not None:
            rows = list(outbox(tx, message_id, verdict))
            if rows:
                tx.enqueue(rows)
    return IngestResult(message_id, verdict, issues, rejected_paths=rejected)
