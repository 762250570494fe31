"""Which obligations the stored messages open and close, and where each stands on a date.

Pure functions over `Fact`s (one per stored message, see gateway.deadlines.facts); no I/O.

States: open (not yet due), due_soon (due within `soon` working days), overdue (past due, nothing
closed it), met (closed by its due date), late (closed after it), not_assessed (the moment the
term starts is not in the messages, e.g. a definitive stop after a temporary one, OP272 in 3.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from gateway.deadlines import calendar
from gateway.deadlines.rules import Due, Obligation, load

TEMPORARY_STOP = "20"  # JZ588/WMO588 Reden beëindiging: levering is tijdelijk beëindigd


@dataclass(frozen=True)
class Fact:
    """What the deadline check needs to know of one stored message."""

    message_id: str
    standard: str  # ijw | iwmo
    kind: str  # message number: "301", "315", ...
    sender: str
    receiver: str
    received: date
    client_key: str | None = None
    has_retour: bool = False
    begindatum: date | None = None  # 305: start of delivery
    einddatum: date | None = None  # 307: end of delivery
    reden_beeindiging: str | None = None  # 307
    allocated: date | None = None  # 305: arrival of the 301 of its toewijzing (retroactive allocations)
    after_temporary_stop: bool = False  # 307: a temporary stop of the same delivery came before
    # ReferentieAanbieder of the request(s) a 315/317 makes or a 301/319 answers: an answer closes
    # the request it names (a 319 carries no client). Empty: matched by client instead.
    references: frozenset[str] = frozenset()
    verzoek_antwoord: str | None = None  # 319: 1 afgewezen, 2 in onderzoek


@dataclass
class Status:
    obligation: str
    op: str
    message_id: str  # the message that opened it
    kind: str
    standard: str
    party: str  # who must act
    counterparty: str
    client_key: str | None
    opened: date
    due: date | None
    state: str = "open"
    closed_by: str | None = None
    closed: date | None = None
    note: str | None = None

    def public(self) -> dict:
        out = dict(self.__dict__)
        for k in ("opened", "due", "closed"):
            out[k] = out[k].isoformat() if out[k] else None
        return out


def due_date(due: Due, start: date) -> date:
    if due.working_days is not None:
        return calendar.add_working_days(start, due.working_days)
    return start + timedelta(days=due.days or 0)


@dataclass
class _Open:
    status: Status
    ob: Obligation
    references: frozenset[str] = frozenset()


def _same_case(w: _Open, f: Fact) -> bool:
    """The closing message answers the opening one: the same request reference, or (when either
    carries none) the same client."""
    if w.references and f.references:
        return bool(w.references & f.references)
    return f.client_key is not None and f.client_key == w.status.client_key


def _matches(cond: dict[str, list[str]], f: Fact) -> bool:
    return all(getattr(f, k, None) in v for k, v in cond.items())


def _closes(o: Obligation, f: Fact) -> bool:
    """A closer's conditions apply only where the closer has that field (a 301 has no
    VerzoekAntwoord)."""
    return all(getattr(f, k, None) is None or getattr(f, k) in v for k, v in o.close_if.items())


def evaluate(facts: Iterable[Fact], today: date, soon: int = 2, obligations: Iterable[Obligation] | None = None) -> list[Status]:
    """Every obligation the facts open, with its state on `today`."""
    obs = [o for o in (obligations if obligations is not None else load()) if o.tracked]
    ordered = sorted(facts, key=lambda f: (f.received, f.message_id))
    out: list[Status] = []
    waiting: list[_Open] = []  # obligations of check "open" not yet closed, oldest first
    for f in ordered:
        # First: does this message close an obligation still open (oldest first, one each)?
        for w in waiting:
            s = w.status
            if s.closed_by is None and f.kind in w.ob.closes and f.standard == s.standard and (
                f.sender == s.party and f.receiver == s.counterparty and _same_case(w, f) and _closes(w.ob, f)
            ):
                s.closed_by, s.closed = f.message_id, f.received
                s.state = "met" if f.received <= s.due else "late"  # type: ignore[operator]
                break
        waiting = [w for w in waiting if w.status.closed_by is None]
        for o in obs:
            if f.kind not in o.opens or f.standard not in o.standards or not _matches(o.when, f):
                continue
            if o.check == "arrival":
                out.append(_on_arrival(o, f))
                continue
            party, counter = (f.receiver, f.sender) if o.actor == "receiver" else (f.sender, f.receiver)
            s = Status(o.id, o.op, f.message_id, f.kind, f.standard, party, counter, f.client_key, f.received,
                       due_date(o.due, f.received))
            if "retour" in o.closes and f.has_retour:
                s.closed_by, s.closed, s.state = f.message_id, f.received, "met"
                s.note = "answered by its own retourbericht"
            else:
                waiting.append(_Open(s, o, f.references))
            out.append(s)
    for s in out:
        if s.closed_by is None and s.state == "open" and s.due is not None:
            s.state = _open_state(s.due, today, soon)
    return out


def _open_state(due: date, today: date, soon: int) -> str:
    if today > due:
        return "overdue"
    if calendar.working_days_between(today, due) <= soon:
        return "due_soon"
    return "open"


def _on_arrival(o: Obligation, f: Fact) -> Status:
    """A start or stop message judged by the dates it carries (OP271, OP272)."""
    s = Status(o.id, o.op, f.message_id, f.kind, f.standard, f.sender, f.receiver, f.client_key, f.received, None,
               closed_by=f.message_id, closed=f.received)
    start = f.begindatum if o.due.start == "begindatum" else f.einddatum if o.due.start == "einddatum" else f.received
    if start is None:
        s.state, s.note = "not_assessed", f"the message carries no {o.due.start}"
        return s
    if o.due.start == "einddatum" and f.after_temporary_stop and f.reden_beeindiging != TEMPORARY_STOP:
        # 3.2: after a temporary stop the term runs from when the stop became definitive, which
        # no message tells.
        s.state = "not_assessed"
        s.note = "definitive stop after a temporary stop: due five working days after it became known (OP272)"
        return s
    if o.due.start == "begindatum" and f.allocated is not None and f.allocated > start:
        start = f.allocated
        s.note = "allocated retroactively: counted from the arrival of the 301 (OP271)"
    s.opened = start
    s.due = due_date(o.due, start)
    s.state = "met" if f.received <= s.due else "late"
    return s


def for_party(statuses: Iterable[Status], party: str) -> list[Status]:
    return [s for s in statuses if s.party == party]
