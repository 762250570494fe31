"""The one visible chain a message goes through:

    receive (open a StUF-GGk envelope) -> identify -> validate (schema, in-message, cross-message,
    contract) -> store -> route -> retour (in a Du01 when the message came in a Di01)

`Pipeline.process(raw, sender, received_at)` runs it for one message and returns an `Outcome`. It is
synchronous (the store is): the async service calls it in a worker thread, `gateway replay` and the
benchmarks call it directly.

- parse / detect / XSD failure: no retourbericht; a transport rejection (like the hubs' BRS13/IB014)
  is stored with verdict "transport_rejected" and returned to the sender.
- level 2 failure (xslt, condities): retour with 0001 in the Header; nothing else runs.
- otherwise the cross-message, external and contract rules run inside one store transaction, which
  also stores the message, its verdict and retour, the state change and the outbox rows.
- an enveloped message (Di01/Du01, gateway.ggk.ingress): a refused envelope raises EnvelopeError
  (nothing stored); otherwise its payload runs the chain above, parsed once, and the envelope is
  stored with it, with the Du01 around its retour or, for a payload failing its XSD, a Fo01
  StUF055 instead. A referentienummer the zender used before for another envelope: IB216.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from lxml import etree
from pydantic import BaseModel, Field, SkipValidation
from sqlalchemy import exc as sa_exc

from gateway import clock
from gateway.affinity import thread_pin
from gateway.auth.policy import Party, Refused, Route, check_sender, header_route
from gateway.catalog import MessageType
from gateway.ggk import ingress, outbound
from gateway.retour import (
    assess_declaratie,
    build_declaratie_antwoord,
    build_retour,
    declaratie_status,
    rejected_paths,
    rejecting,
)
from gateway.routing import plan
from gateway.routing.correlation import Correlation, bsns, correlate, number_texts
from gateway.settings import Settings
from gateway.store import ConflictError
from gateway.store.ids import new_id, random_bytes
from gateway.store.state import StateHint
from validators import engine, extract
from validators.engine import RuleContext
from validators.faults import RuleFailed
from validators.issues import Issue
from validators.paths import child, fixed_trees, new_scope, text
from validators.state import GROUP_READS
from validators.validate import validate_bytes, validate_root

NL = ZoneInfo("Europe/Amsterdam")
Verdict = Literal["accepted", "rejected", "flagged", "review", "transport_rejected"]
LATER_LEVELS = ("crossmessage", "external", "contract")
TRANSPORT_RULES = {"PARSE", "DETECT", "XSD"}
IDENTIFIER_RULES = frozenset({"TR056"})


class TransportError(BaseModel):
    """Why a message was refused before the standard's checks (no retourbericht exists for it)."""

    code: str
    message: str
    path: str | None = None
    line: int | None = None
    issues: list[dict[str, Any]] = Field(default_factory=list)


class Outcome(BaseModel):
    """What happened to one message (the API's answer and what replay/benchmarks inspect)."""

    message_id: str | None = None
    verdict: Verdict
    code: str | None = None
    sender: str | None = None
    receiver: str | None = None
    # Not validated: the pipeline's own dicts, kept as they are (validation copied each one: a
    # declaration's 100,000 issues a second time, in memory when its row is stored).
    issues: SkipValidation[list[dict[str, Any]]] = Field(default_factory=list)
    retour: bytes | None = Field(None, exclude=True)
    retour_code: str | None = None
    retour_message_id: str | None = None
    transport_error: TransportError | None = None
    # the StUF-GGk envelope's data (ggk.ingress.Received.summary): a fresh dict of the pipeline's own,
    # not validated (a copy of it cost an enveloped message some 6,600 instructions, callgrind)
    envelope: SkipValidation[dict[str, Any] | None] = None
    duplicate: bool = False
    routed: bool = False
    correlation: Correlation = Field(default_factory=Correlation)


@dataclass
class Components:
    """Everything the pipeline needs, built once per process (see `build_components`)."""

    store: Any
    settings: Settings
    secret: bytes
    registry: Any = None  # schemas.registry.SchemaRegistry; None = the package default
    contracts: Any = None  # gateway.contracts registry; None = contract rules see no bundle
    audit_actor: str = "gateway"
    extra: dict[str, Any] = field(default_factory=dict)


def build_components(settings: Settings, *, store: Any = None, contracts: Any = None) -> Components:
    """Open the store and load schemas and contracts as the settings say."""
    from gateway.store import open_store
    from schemas.registry import default_registry

    secret = settings.secret()
    if store is None:
        if settings.store_url and settings.store_url.startswith("sqlite:///"):
            from pathlib import Path

            Path(settings.store_url.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )
        store = open_store(settings.store_url, client_key_secret=secret)
        store.max_group, store.group_leaders = settings.group_commit_max, settings.group_commit_leaders
    registry = None
    if settings.schemas:
        from schemas.registry import SchemaRegistry

        registry = SchemaRegistry.load(settings.schemas)
    if contracts is None:
        contracts = load_contracts(settings.contracts, store)
    # Compile every schema before the first message: a schema compiled lazily under load is a
    # moment in which the gateway cannot judge a message (and a broken set must stop the start).
    (registry or default_registry()).check()
    return Components(store=store, settings=settings, secret=secret, registry=registry, contracts=contracts)


def load_contracts(location: str | None, store: Any = None) -> Any:
    """The contract registry (contract engineer): the bundles in `location`, or the example
    bundles shipped with the package (the demo). Changes through the API are audited in `store`."""
    from gateway.contracts import default_registry

    return default_registry(location, store=store)


def _now() -> datetime:
    return clock.now()


def _new_identificatie() -> str:
    """A fresh 12-character identifier for a retour or a 325 (LDT_IdentificatieBericht)."""
    return random_bytes(6).hex().upper()  # (secrets.token_hex's bytes, without its system call)


def transport_rejection(issues: list[Issue], code: str) -> TransportError:
    """The hubs' kind of transport error (BRS14 not well-formed, BRS13 not XSD-conform, IB004 not
    a message we handle: gateway.retour.TransportRejection), naming the first failing element.
    `code` is used when the issues are not level-1 findings (e.g. BRS06, too large)."""
    from gateway.retour import transport_rejection as level1_rejection

    found = level1_rejection(issues)
    if found is not None:
        return TransportError(code=found.code, message=found.message, path=found.path,
                              line=found.line, issues=found.issues)
    first = issues[0] if issues else None
    return TransportError(code=code, message=first.text if first else "message refused",
                          path=first.path if first else None, line=first.line if first else None,
                          issues=[i.public() for i in issues])


class Pipeline:
    """receive -> identify -> validate -> store -> route -> retour, for one message at a time."""

    def __init__(self, components: Components) -> None:
        self.c = components
        self.settings = components.settings
        self._parties: dict[str, tuple[Any, float]] = {}  # party id -> (record, valid until)
        self._outbound = outbound.Outbound(components.store, self.settings)
        # the pipeline_cpu setting: each thread that runs the chain kept on that CPU (None: off)
        self._pin = thread_pin(getattr(self.settings, "pipeline_cpu", "off"))

    # -- the chain -------------------------------------------------------------------------

    def process(
        self,
        raw: bytes,
        sender: Party | None,
        received_at: datetime | None = None,
        *,
        transport: str = "http",
        today: date | None = None,
    ) -> Outcome:
        """Run the whole chain. Raises `Refused` when the sender may not send this message.

        `sender` is the authenticated party; None means a trusted channel (replay, an inbound
        Kafka topic) where the party named in the header is looked up instead.
        """
        if self._pin is not None:
            self._pin()
        received_at = received_at or _now()
        # The standard's dates are Dutch calendar dates (TR135 compares Dagtekening with "today").
        today = today or received_at.astimezone(NL).date()
        principal = sender.party_id if sender else None

        # receive
        if len(raw) > self.settings.max_message_bytes:
            # The hubs' BRS06 (file too large), not a parse failure: the sender must split it.
            issue = Issue(
                rule="BRS06",
                text=f"message is {len(raw)} bytes; at most {self.settings.max_message_bytes} "
                     "(GATEWAY_MAX_MESSAGE_BYTES)",
            )
            return self._store_transport(raw, [issue], "BRS06", None, principal, received_at, transport)

        # The level-2 rules' lookups of the message's tree (children by name per parent) serve the
        # pipeline's reads and the later rules too, and an envelope's checks of its payload's
        # Header before them: nothing changes the tree in between. Not for a large message (see
        # judge); an envelope is larger than its payload.
        scope = new_scope() if len(raw) < GC_PAUSE_BYTES else None
        envelope = ingress.receive(raw, self.c.registry, scope)  # None: a bare message
        if envelope is not None:
            try:
                ingress.check_zender(envelope, sender)
            except Refused as exc:
                self._audit_envelope_refusal(sender, envelope, exc)
                raise
            ingress.check_ontvanger(envelope, self._known_party)
            raw = envelope.payload.raw
            if scope is None and len(raw) < GC_PAUSE_BYTES:  # a payload below the size its envelope is not
                scope = new_scope()

        with _collector_paused() if len(raw) >= GC_PAUSE_BYTES else contextlib.nullcontext():
            return self._process(raw, sender, received_at, transport, today, principal, envelope, scope)

    def _process(
        self,
        raw: bytes,
        sender: Party | None,
        received_at: datetime,
        transport: str,
        today: date,
        principal: str | None,
        envelope: ingress.Received | None = None,
        scope: dict | None = None,
    ) -> Outcome:
        # identify + validate (levels 1 and 2), in `scope` (see process).
        if envelope is not None:  # the envelope's payload, parsed when the envelope was checked
            report = validate_root(envelope.payload.root, self.c.registry, today=today,
                                   detected=envelope.payload.detected, scope=scope)
        else:
            report = validate_bytes(raw, self.c.registry, today=today, scope=scope)
        root = getattr(report, "root", None)
        mtype: MessageType | None = getattr(report, "mtype", None)
        issues: list[Issue] = list(report.issues)
        transport_issues = [i for i in issues if i.rule in TRANSPORT_RULES and i.severity == "error"]
        if root is None or mtype is None:
            return self._store_transport(
                raw, transport_issues or issues, "IB004", None, principal, received_at, transport
            )

        with _reading(scope):
            route = header_route(root, mtype)
        party = sender or self._party_from_header(route)
        if not (transport_issues and route.sender is None):
            try:
                check_sender(party, mtype, route)
            except Refused as exc:
                self._audit_refusal(party, mtype, route, exc)
                raise
        if transport_issues:
            return self._store_transport(raw, transport_issues, "BRS13", mtype, principal, received_at,
                                         transport, route, envelope)

        for attempt in range(3):
            try:
                return self._process_valid(raw, root, mtype, route, issues, party, received_at, today, transport,
                                           getattr(report, "rule_cache", None) or {}, envelope, scope)
            except ConflictError:
                # Another transaction stored a conflicting row first (same identificatie, same
                # allocation number...). The rules see it on the next attempt and answer accordingly.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _process_valid(
        self,
        raw: bytes,
        root: etree._Element,
        mtype: MessageType,
        route: Route,
        issues: list[Issue],
        party: Party,
        received_at: datetime,
        today: date,
        transport: str,
        rule_cache: dict[str, Any] | None = None,
        envelope: ingress.Received | None = None,
        scope: dict | None = None,
    ) -> Outcome:
        """`rule_cache`: what the level-2 rules computed about this tree (prestatie rows, paths);
        copied per attempt, so nothing a later rule caches (state prefetches) outlives a retry.
        `scope`: the level-2 rules' lookups of the tree (validators.paths.fixed_trees), or None."""
        # Level 2 fails on an error with retourcode 0001; an in-message rule with its own code on a
        # class (TR319: 9319 on the Prestatie) rejects that class only and the later levels still run.
        level2_failed = any(i.severity == "error" and (i.retourcode or "0001") == "0001" for i in issues)
        level2 = issues
        declaratie = []  # taken by the judgement: it must not outlive it (nor a retry use it twice)
        if rule_cache and "prestatie_rows" in rule_cache:
            # The level-2 rules' rows of a declaration (a dict of texts per prestatie, 1.3 KB
            # each) serve no later rule: let them go before the state of 100,000 prestaties is read,
            # turned into the declaration the later rules and the store read (instead of its elements).
            rows = rule_cache.pop("prestatie_rows")
            if not level2_failed:
                declaratie.append(extract.declaratie_from_rows(root, rows))
            del rows
        sha = hashlib.sha256(raw).hexdigest()
        with _reading(scope):
            header = child(root, "Header")
            identificatie = text(header, "BerichtIdentificatie", "Identificatie")
            if mtype.kind == "retour":
                identificatie = text(header, "IdentificatieRetour") or identificatie
            clients = bsns(root)  # the correlation's and the outbox rows' (one walk of the tree)
            numbers = number_texts(root)  # the correlation's and the message row's (likewise)
            correlation = correlate(root, mtype, self.c.secret, clients, numbers)
            hint = _state_hint(root, mtype, route, correlation)
            head = extract.header(root)  # (for extract.remembered: its lookups are the scope's now)

        def judge_and_store(tx: Any) -> Outcome:
            # in the thread that runs the group
            with extract.remembered(root, declaratie=declaratie.pop() if declaratie else None, head=head):
                return judge(tx)

        def judge(tx: Any) -> Outcome:
            # IB216 rides the duplicate check and the store's refusal of a used (zender,
            # referentienummer) (the unique index on the envelope in messages): the envelope is
            # looked up in full only when its payload is a duplicate (the same envelope again?),
            # after its row conflicted (a reused referentienummer), or when a further envelope
            # (envelope_repeats, which that index cannot see) took its reference (asked with the
            # duplicate check, in one statement, where that is not known yet).
            took = None
            if envelope is None:
                same = tx.find_same_message(route.sender, mtype.code, identificatie, sha)
            else:
                same, took = tx.find_same_or_repeat(route.sender, mtype.code, identificatie, sha,
                                                    envelope.zender, envelope.referentienummer)
            if envelope is not None and (same is not None or envelope.recheck_reference or (
                    took if took is not None else tx.repeat_took(envelope.zender, envelope.referentienummer))):
                again = self._same_envelope(envelope, tx.find_envelope(envelope.zender,
                                                                       envelope.referentienummer))
                if again is not None:
                    return again
            if same is not None:
                if envelope is not None:  # the same payload in a further envelope of its own
                    return self._repeat(tx, same, envelope, mtype, root, route, correlation, party, transport)
                return self._duplicate(same, mtype, route, correlation)
            # positional: keywords cost a dataclass __init__ half as much again (validators.validate)
            ctx = RuleContext(root, mtype, today, tx.state, self._contracts_view(mtype, today),
                              dict(rule_cache or {}))
            # The rules only read the trees (as level 2's, validators.validate): their child
            # lookups are grouped per parent once, instead of one lxml scan each, in the scope
            # level 2 began. Not for a large message: a 30,000-prestatie JW323 took about 10%
            # longer so (its rules read the prefetched declaration, and the groups of its large
            # parents only cost).
            with _reading(scope):
                if not level2_failed:
                    found = level2 + run_later_rules(ctx)
                else:
                    # Level 2 failed: nothing else runs, except the identifier check (TR056). The store
                    # registers the identifier of every message it answers, so a second message with
                    # the same Identificatie must be reported as such, not collide with the first.
                    found = level2 + run_later_rules(ctx, only=IDENTIFIER_RULES)
            # The rules are done: what a declaration's prefetch read (a record per prestatie) goes
            # before the retour and the rows are made (apply_state reads only the cached answers).
            tx.state.release_prefetch()
            assessment = _assessment(root, mtype, found)
            verdict, rejected_paths = decide(root, mtype, found, assessment=assessment)
            if verdict == "rejected":
                # Nothing reads the declaration any more (only apply_state would): a rejected 323's
                # prestaties, their paths and toewijzingen go before its 325 is written.
                ctx.extra.clear()
                extract.forget_declaratie(root)
            retour_id = _new_identificatie()
            retour, retour_mtype = self._retour(root, mtype, found, today, assessment, retour_id)
            del assessment  # (a 323's: some 40 MB at 100,000 rejected prestaties, not held while storing)
            # The id is chosen first so the outbox rows can be planned before the message is
            # saved: it is then saved as "pending" at once, not updated afterwards.
            message_id = new_id()
            routed = self._routable(verdict)
            du01 = self._du01(envelope, retour, retour_mtype)
            rows = []
            if routed:
                rows += plan.message_rows(self.settings, self.c.secret, mtype, root, raw, message_id,
                                          route, correlation, clients)
            if retour is not None and retour_mtype is not None:
                rows += plan.retour_rows(self.settings, self.c.secret, retour_mtype, root, retour,
                                         message_id, route, correlation, du01, clients)
            envelope_row, summary = self._envelope_parts(envelope, du01)
            tx.save_message(
                message_id=message_id,
                received_at=received_at,
                mtype=mtype,
                root=root,
                raw=raw,
                sha256=sha,
                sender=route.sender,
                receiver=route.receiver,
                identificatie=identificatie,
                verdict=verdict,
                issues=found,
                retour=retour,
                retour_identificatie=retour_id if retour is not None else None,
                transport=transport,
                received_by=party.party_id,
                routing_state="pending" if rows else "none",
                envelope=envelope_row,
                envelope_payload_at=envelope.head.payload_at if envelope is not None else None,
                answer_payload_at=du01.payload_at if du01 is not None else None,
                number_texts=numbers,
            )
            accepted = verdict != "rejected"
            if accepted:
                # the 323 rules' reading of the declaration (the store needs the same values)
                tx.apply_state(mtype, root, True, rejected_paths,
                               declaratie=ctx.extra.get("crossmessage.declaratie"))
            if rows:  # envelopes out: a Di01 to a chain party, SOAP delivery (gateway.ggk.outbound)
                tx.enqueue(self._outbound.rows(tx, mtype, root, route, raw, message_id, rows))
            return Outcome(
                message_id=message_id,
                verdict=verdict,
                code=mtype.code,
                sender=route.sender,
                receiver=route.receiver,
                issues=_public_in_place(found),
                retour=retour,
                retour_code=retour_mtype.code if retour_mtype else None,
                routed=routed,
                correlation=correlation,
                envelope=summary,
            )

        # store: concurrent messages share one transaction (group commit); the answer comes after
        # the commit, so a 2xx still means stored.
        keys = self._lock_keys(mtype, route, correlation, identificatie)
        if envelope is not None:
            keys = sorted({*keys, f"envelope:{envelope.zender}:{envelope.referentienummer}"})
        try:
            return self._store_group().run(keys,
                                           judge_and_store, (route.sender, mtype.code, identificatie, sha),
                                           alone=len(raw) >= GC_PAUSE_BYTES,
                                           hint=hint)
        except ConflictError:
            if envelope is not None:  # perhaps its referentienummer: the next attempt looks it up
                envelope.recheck_reference = True
            raise

    # -- steps -----------------------------------------------------------------------------

    def _same_envelope(self, envelope: ingress.Received, found: dict[str, Any] | None) -> Outcome | None:
        """IB216: `found` is the envelope stored under this zender's referentienummer, if any.
        The very same envelope again is answered as the first time (duplicate); another envelope
        under it is refused (EnvelopeError REFERENCE_REUSED)."""
        if found is None:
            return None
        if found["envelope_sha256"] != envelope.sha256:
            raise ingress.reused(
                f"zender {envelope.zender} used referentienummer {envelope.referentienummer} before, "
                "for another envelope; every envelope needs a new one")
        record = self.c.store.get_message(found["message_id"])
        stored = found if "answer_code" in found else (self.c.store.get_envelope(found["message_id"]) or {})
        error = None
        if record.verdict == "transport_rejected":
            first = (record.issues or [{}])[0]
            error = TransportError(code="BRS13", message=first.get("text") or "message refused",
                                   path=first.get("path"), line=first.get("line"))
        retour_mtype = None
        if record.retour and record.code:
            from gateway.catalog import by_code

            retour_mtype = _answer_type(by_code(record.code))
        return Outcome(
            message_id=record.id, verdict=record.verdict, code=record.code, sender=record.sender,
            receiver=record.receiver, issues=[_public(i) for i in (record.issues or [])],
            retour=record.retour, retour_code=retour_mtype.code if retour_mtype else None,
            transport_error=error, duplicate=True, routed=self._routable(record.verdict),
            envelope=envelope.summary(stored.get("answer_code"), stored.get("answer_referentienummer")),
        )

    def _audit_envelope_refusal(self, party: Party, envelope: ingress.Received, exc: Refused) -> None:
        """A spoofed zender is recorded like a spoofed Afzender (no message content)."""
        from gateway.observability import get_logger

        get_logger("gateway.pipeline").warning(
            "message_refused", party=party.party_id, code=envelope.envelope.stuurgegevens.functie,
            reason=exc.code, envelope_zender=envelope.zender,
        )
        try:
            self.c.store.audit(
                actor=party.party_id, action="message_refused",
                target=envelope.envelope.stuurgegevens.functie or "envelope", reason=exc.reason,
                details={"code": exc.code, "envelope_zender": envelope.zender,
                         "referentienummer": envelope.referentienummer},
            )
        except Exception:  # auditing must never turn a 403 into a 500
            get_logger("gateway.pipeline").error("audit_failed", exc_info=True)

    @staticmethod
    def _du01(envelope: ingress.Received | None, retour: bytes | None,
              retour_mtype: MessageType | None) -> plan.EnvelopeAnswer | None:
        """The retour of a heenbericht that came in a Di01, in its Du01 (a Du01 received carries
        a retour itself and gets none). It goes out instead of the bare retour (plan.retour_rows)."""
        if envelope is None or retour is None or retour_mtype is None or envelope.berichtcode != "Di01":
            return None
        xml, ref, at = ingress.retour_du01(envelope, retour, retour_mtype)
        return plan.EnvelopeAnswer("Du01", xml, ref, envelope.referentienummer, at)

    @staticmethod
    def _envelope_parts(envelope: ingress.Received | None, answer: plan.EnvelopeAnswer | None
                        ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """What the message's row keeps of the envelope it came in and the Du01 it is answered
        with, and the API's summary of both (None, None for a bare message)."""
        if envelope is None:
            return None, None
        code, ref = (answer.berichtcode, answer.referentienummer) if answer else (None, None)
        return envelope.row(answer.xml if answer else None, code, ref), envelope.summary(code, ref)

    def _known_party(self, party_id: str) -> bool:
        """Whether `party_id` is a known party that is not revoked (the same cache as below)."""
        if not party_id:
            return False
        found = self._party_record(party_id)
        return found is not None and not getattr(found, "revoked_at", None)

    def _party_from_header(self, route: Route) -> Party:
        """The party a trusted channel's message names (replay, inbound Kafka)."""
        if not route.sender:
            raise Refused(403, "the message names no sender", "unknown_party")
        found = self._party_record(route.sender)
        if found is None or getattr(found, "revoked_at", None):
            raise Refused(403, f"sender {route.sender} is not a known party", "unknown_party")
        return Party(found.party_id, found.role, getattr(found, "name", ""))

    def _party_record(self, party_id: str) -> Any:
        """The stored party (None: unknown), looked up at most once per `party_cache_seconds`: a
        month-end burst is thousands of messages from a few dozen parties. A revocation takes
        effect within that time."""
        now = time.monotonic()
        hit = self._parties.get(party_id)
        if hit is not None and hit[1] > now:
            return hit[0]
        found = self.c.store.get_party(party_id)
        ttl = getattr(self.settings, "party_cache_seconds", 0)
        if ttl > 0 and found is not None:  # a party added a moment ago is known at once
            self._parties[party_id] = (found, now + ttl)
        return found

    def _audit_refusal(self, party: Party, mtype: MessageType, route: Route, exc: Refused) -> None:
        """Refusals are recorded (without message content: it may hold a BSN)."""
        from gateway.observability import get_logger

        get_logger("gateway.pipeline").warning(
            "message_refused", party=party.party_id, code=mtype.code, reason=exc.code,
            header_sender=route.sender,
        )
        try:
            self.c.store.audit(
                actor=party.party_id, action="message_refused", target=mtype.code,
                reason=exc.reason, details={"code": exc.code, "header_sender": route.sender},
            )
        except Exception:  # auditing must never turn a 403 into a 500
            get_logger("gateway.pipeline").error("audit_failed", exc_info=True)

    def _store_transport(
        self,
        raw: bytes,
        issues: list[Issue],
        code: str,
        mtype: MessageType | None,
        principal: str | None,
        received_at: datetime,
        transport: str,
        route: Route | None = None,
        envelope: ingress.Received | None = None,
    ) -> Outcome:
        error = transport_rejection(issues, code)
        row = summary = None
        rows: list[Any] = []
        fields: dict[str, Any] = {}
        if envelope is not None:
            again = self._same_envelope(
                envelope, self.c.store.find_envelope(envelope.zender, envelope.referentienummer))
            if again is not None:
                return again
            # The payload fails its XSD: the chain's answer is a Fo01 StUF055, never a retour. It
            # goes to the zender's stream (and topic) in the message's own transaction.
            from gateway.store.ids import new_id

            fo01, ref = ingress.payload_fo01(envelope, error.message)
            answer = plan.EnvelopeAnswer("Fo01", fo01, ref, envelope.referentienummer)
            row, summary = envelope.row(fo01, "Fo01", ref), envelope.summary("Fo01", ref)
            fields["message_id"] = new_id()
            party = (route.sender if route else None) or principal or envelope.zender
            rows = plan.fo01_rows(self.settings, self.c.secret, mtype, party, answer, fields["message_id"],
                                  (envelope.envelope.stuurgegevens.ontvanger.organisatie or "").strip())
            rows = self._outbound.soap(rows)  # and to the zender's SOAP endpoint, if it has one
            fields["routing_state"] = "pending"
        message_id = self.c.store.save_transport_rejection(
            **fields,
            rows=rows,
            received_at=received_at,
            raw=raw,
            sha256=hashlib.sha256(raw).hexdigest(),
            mtype=mtype,
            sender=(route.sender if route else None) or principal,
            receiver=route.receiver if route else None,
            issues=issues,
            transport=transport,
            received_by=principal,
            envelope=row,
        )
        return Outcome(
            message_id=message_id,
            verdict="transport_rejected",
            code=mtype.code if mtype else None,
            sender=(route.sender if route else None) or principal,
            receiver=route.receiver if route else None,
            issues=[i.public() for i in issues],
            transport_error=error,
            envelope=summary,
        )

    def _repeat(self, tx: Any, same: Any, envelope: ingress.Received, mtype: MessageType, root: etree._Element,
                route: Route, correlation: Correlation, party: Party, transport: str) -> Outcome:
        """The payload of a stored message in a further envelope (its own referentienummer): the
        message is not stored or judged again, but the envelope is stored (IB216 holds for it too)
        and, like every enveloped heenbericht, answered: the first answer's retour in a new Du01
        naming this envelope, out the ways a Du01 goes (stream, XML topic, SOAP)."""
        from gateway.store import ggk as ggk_store

        outcome = self._duplicate(same, mtype, route, correlation)
        retour_mtype = _answer_type(mtype) if same.retour else None
        du01 = self._du01(envelope, same.retour, retour_mtype)
        if du01 is not None:
            tx.enqueue(self._outbound.soap(plan.repeat_rows(
                self.settings, self.c.secret, retour_mtype, root, same.retour, same.id, route, correlation, du01)))
        code, ref = (du01.berichtcode, du01.referentienummer) if du01 is not None else (None, None)
        ggk_store.save_repeat(tx, same.id, envelope.row(du01.xml if du01 else None, code, ref), transport,
                              party.party_id)
        outcome.envelope = envelope.summary(code, ref)
        return outcome

    def _duplicate(self, same: Any, mtype: MessageType, route: Route, correlation: Correlation) -> Outcome:
        """The same message again: answered with what was answered the first time."""
        retour_mtype = _answer_type(mtype)
        return Outcome(
            message_id=same.id,
            verdict=same.verdict,
            code=mtype.code,
            sender=route.sender,
            receiver=route.receiver,
            issues=[_public(i) for i in (same.issues or [])],
            retour=same.retour,
            retour_code=retour_mtype.code if (retour_mtype and same.retour) else None,
            duplicate=True,
            routed=self._routable(same.verdict),
            correlation=correlation,
        )

    def _contracts_view(self, mtype: MessageType, today: date) -> Any:
        """What contract rules get as ctx.contracts: the registry (they look up by gemeente/date)."""
        return self.c.contracts

    def _routable(self, verdict: str) -> bool:
        return verdict == "accepted" or (
            (verdict == "flagged" and self.settings.route_flagged)
            or (verdict == "review" and self.settings.route_review)
        )

    def _retour(
        self, root: etree._Element, mtype: MessageType, issues: list[Issue], today: date,
        assessment: Any = None, identificatie: str | None = None,
    ) -> tuple[bytes | None, MessageType | None]:
        """The retourbericht (or the 325 for a 323); None for retours and 325s themselves."""
        answer = _answer_type(mtype)
        if answer is None:
            return None, None
        if mtype.number == "323":
            data = build_declaratie_antwoord(
                root, mtype, issues, identificatie=identificatie or _new_identificatie(), today=today,
                assessment=assessment,
            )
        else:
            data = build_retour(
                root, mtype, issues, identificatie_retour=identificatie or _new_identificatie(), today=today
            )
        return data, answer

    def _store_group(self) -> Any:
        """The store's group committer; a store without one gets a transaction per message."""
        group = getattr(self.c.store, "group_commit", None)
        return group() if group is not None else _OneByOne(self.c.store)

    def _lock_keys(self, mtype: MessageType, route: Route, corr: Correlation,
                   identificatie: str | None = None) -> list[str]:
        """Advisory locks: everything the rules of this message read and write. Messages with
        disjoint keys are independent: they may be judged at the same moment (other processes)
        or in one group transaction. The identifier key is per Identificatie (TR056 and the
        duplicate check read only that), so one sender's messages can share a group."""
        law = mtype.law
        gemeente, aanbieder = _pair(mtype, route)
        keys = [f"sender:{route.sender}:{mtype.code}:{identificatie}"]
        keys += [f"client:{law}:{gemeente}:{aanbieder}:{k}" for k in corr.client_keys]
        keys += [f"gemeente:{gemeente}:toewijzing:{law}:{n}" for n in corr.toewijzingnummers]
        keys += [f"aanbieder:{aanbieder}:referentie:{law}:{r}" for r in corr.referenties]
        if corr.declaratienummer:
            keys.append(f"aanbieder:{aanbieder}:declaratie:{law}:{corr.declaratienummer}")
        if mtype.number == "323":
            keys.append(f"aanbieder:{aanbieder}:budget")
        return sorted(set(keys))


class _OneByOne:
    """A transaction per message, for stores without group commit."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def run(self, lock_keys: list[str], work: Any, probe: Any = None, alone: bool = False, hint: Any = None) -> Any:
        with self.store.transaction(lock_keys) as tx:
            return work(tx)


# From this size on, the cyclic garbage collector pauses while the message is processed (and the
# tree's lookups are not kept per parent: _reading).
GC_PAUSE_BYTES = 1_000_000


def _reading(scope: dict | None) -> Any:
    """Read the message's tree within its scope (validators.paths.fixed_trees); None: as it is.
    Never around code that builds or changes a tree (a retour, an envelope)."""
    return fixed_trees(scope) if scope is not None else contextlib.nullcontext()


@contextlib.contextmanager
def _collector_paused():  # noqa: ANN202
    """A large 323 creates millions of objects (rows, issues) and no garbage cycles worth
    collecting mid-way; the collector's full passes over them cost a third of the time at 30,000
    prestaties. Reference counting still frees everything. With threads: only the call that
    paused it resumes it, and a collector paused by someone else stays as they left it.
    (Entered for large messages only: a small one takes contextlib.nullcontext, no generator.)"""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def run_later_rules(ctx: Any, only: frozenset[str] | None = None) -> list[Issue]:
    """Levels 3/4 and the contract rules (or only the rules `only` names). A rule that raises is the
    gateway's failure, never the message's: a store error propagates as it is (the transaction
    aborts, 503), any other error as RuleFailed (503 too), logged without message content."""
    issues: list[Issue] = []
    for rule in engine.plan(ctx.mtype, LATER_LEVELS):
        if only is not None and rule.code not in only:
            continue
        try:
            issues.extend(rule.check(rule, ctx))
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                sa_exc.TimeoutError, sa_exc.PendingRollbackError, ConflictError):
            raise
        except Exception as exc:
            from gateway.observability import get_logger

            get_logger("gateway.pipeline").error("rule_failed", rule=rule.code, code=ctx.mtype.code,
                                                 error=type(exc).__name__, exc_info=True)
            raise RuleFailed(rule.code, ctx.mtype.code) from exc
    return issues


def _public(issue: Any) -> dict[str, Any]:
    if isinstance(issue, Issue):
        return issue.public()
    return {k: issue.get(k) for k in ("rule", "severity", "path", "locations", "line", "text")}


def _public_in_place(found: list[Issue]) -> list[dict[str, Any]]:
    """The issues' public form, each put in the place of its Issue: a rejected 323's 100,000
    Issues go as their dicts come, instead of both being held at once."""
    for k, issue in enumerate(found):
        found[k] = issue.public()
    return found  # type: ignore[return-value]


def _answer_type(mtype: MessageType) -> MessageType | None:
    return mtype.answered_by


def _state_hint(root: etree._Element, mtype: MessageType, route: Route, corr: Correlation) -> Any:
    """What the message's cross-message rules will read first (validators.state.GROUP_READS), so
    that a group of messages reads it at once; None when its type names nothing."""
    kinds = GROUP_READS.get(mtype.number)
    if not kinds:
        return None
    gemeente, aanbieder = _pair(mtype, route)
    return StateHint(mtype.law, gemeente or "", aanbieder or "", extract.client_bsn(root),
                     tuple(corr.toewijzingnummers), kinds, referenties=tuple(corr.referenties),
                     declaratienummer=corr.declaratienummer,
                     identificatie=corr.answers if mtype.number == "325" else None)


def _pair(mtype: MessageType, route: Route) -> tuple[str | None, str | None]:
    """(gemeente, aanbieder) of a message, whatever its direction."""
    sender_is_gemeente = mtype.sender_role == "gemeente"
    if sender_is_gemeente:
        return route.sender, route.receiver
    return route.receiver, route.sender


def _assessment(root: etree._Element, mtype: MessageType, issues: list[Issue]) -> Any:
    """For a 323: the 325's assessment, shared by `decide` and the 325 builder (computed once)."""
    if mtype.number != "323":
        return None
    return assess_declaratie(root, issues)


def decide(
    root: etree._Element, mtype: MessageType, issues: list[Issue], *, assessment: Any = None
) -> tuple[Verdict, dict[str, list[str]]]:
    """The verdict and, for a 323, its rejected prestaties (partial rejection): path -> retourcodes.

    What rejects is what the retour says rejects (gateway.retour: errors with action reject), so
    the verdict and the retour/325 always agree. A 323 is rejected when its Header or Declaratie
    fails or every prestatie is rejected; otherwise the awarded prestaties go on. Contract
    warnings flag the message ("flagged") or send it to manual review ("review").
    """
    rejected: dict[str, list[str]] = {}
    if rejecting(issues):
        if mtype.number != "323":
            return "rejected", {}
        assessment = assessment or assess_declaratie(root, issues)
        if declaratie_status(assessment) in ("rejected", "declaratie_rejected"):
            return "rejected", {}
        # the assessment counted the prestaties as it walked them (no walk of the whole tree
        # again); all rejected: no paths are needed (100,000 of them for nothing)
        if len(assessment.prestaties) == assessment.prestatie_count:
            return "rejected", {}
        rejected = rejected_paths(assessment)
    flagged = [i for i in issues if i.action in ("flag", "review") and i.severity == "warning"]
    if any(i.action == "review" for i in flagged):
        return "review", rejected
    if flagged:
        return "flagged", rejected
    return "accepted", rejected


__all__ = ["Components", "Outcome", "Pipeline", "Refused", "build_components", "decide"]
