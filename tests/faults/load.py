"""A concurrent test client: worker threads send a list of messages to one or more gateways
(round robin), and keep retrying a message through faults (connection refused or reset, 503 +
Retry-After) until it gets a final answer or the deadline passes. Every answer is recorded."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class Send:
    label: str  # unique per message in a run (for reports)
    role: str  # "gemeente" | "aanbieder": whose key sends it
    xml: bytes


@dataclass
class Answer:
    label: str
    status: int | None = None  # final HTTP status; None: never answered before the deadline
    message_id: str | None = None
    verdict: str | None = None
    duplicate: bool = False
    issues: list = field(default_factory=list)
    attempts: int = 0
    in_doubt: bool = False  # an attempt failed without an answer: it may have been stored already
    target: str | None = None
    body: str = ""


@dataclass
class LoadStats:
    """What the client saw on the way, across all messages."""

    statuses: Counter = field(default_factory=Counter)  # every HTTP status received, retries too
    connection_errors: int = 0
    retry_after_missing: int = 0  # 503s without a Retry-After header (a violation)
    bad_bodies: list[str] = field(default_factory=list)  # 5xx bodies, and any body with a trace
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: int, headers: httpx.Headers, text: str) -> None:
        with self.lock:
            self.statuses[status] += 1
            if status == 503 and "retry-after" not in headers:
                self.retry_after_missing += 1
            if (status >= 500 and status != 503) or "Traceback" in text or 'File "' in text:
                self.bad_bodies.append(f"{status}: {text[:300]}")


class Progress:
    """Counts final 2xx answers; lets a fault scenario wait for 'N messages in'."""

    def __init__(self) -> None:
        self.ok = 0
        self._cond = threading.Condition()

    def add(self) -> None:
        with self._cond:
            self.ok += 1
            self._cond.notify_all()

    def wait_for(self, n: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.ok >= n, timeout)


def run_load(
    targets: list[str],
    keys,  # noqa: ANN001 (harness.Keys)
    sends: list[Send],
    *,
    workers: int = 4,
    deadline_seconds: float = 120.0,
    progress: Progress | None = None,
    stats: LoadStats | None = None,
    request_timeout: float = 30.0,
) -> list[Answer]:
    """Send every message once (retrying through faults); the answers in `sends` order."""
    stats = stats if stats is not None else LoadStats()
    deadline = time.monotonic() + deadline_seconds
    rr = itertools.count()
    rr_lock = threading.Lock()
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "http"):
            local.http = httpx.Client(timeout=request_timeout)
        return local.http

    def next_target() -> str:
        with rr_lock:
            return targets[next(rr) % len(targets)]

    def one(send: Send) -> Answer:
        answer = Answer(send.label)
        headers = {"Authorization": f"Bearer {keys.for_sender(send.role)}",
                   "Content-Type": "application/xml"}
        while time.monotonic() < deadline:
            target = next_target()
            answer.attempts += 1
            answer.target = target
            try:
                r = client().post(f"{target}/v1/messages", content=send.xml, headers=headers)
            except httpx.TransportError:
                # Refused (process down) or reset mid-request: the message may or may not be in.
                with stats.lock:
                    stats.connection_errors += 1
                answer.in_doubt = True
                time.sleep(0.2)
                continue
            stats.saw(r.status_code, r.headers, r.text)
            if r.status_code == 503:
                ra = r.headers.get("retry-after", "1")
                time.sleep(min(float(ra) if ra.isdigit() else 1.0, 2.0) * 0.5)
                continue
            answer.status = r.status_code
            answer.body = r.text[:2000]
            try:
                data = r.json()
            except ValueError:
                data = {}
            answer.message_id = data.get("message_id")
            answer.verdict = data.get("verdict")
            answer.duplicate = bool(data.get("duplicate"))
            answer.issues = data.get("issues") or []
            if 200 <= r.status_code < 300 and progress is not None:
                progress.add()
            return answer
        return answer

    with ThreadPoolExecutor(workers) as pool:
        answers = list(pool.map(one, sends))
    return answers


def allocations(standard_mix: tuple[str, ...], n: int, first: int = 0) -> list[Send]:
    """n 301s, each for its own client and its own ToewijzingNummer (all acceptable on their
    own), alternating over `standard_mix`."""
    from gateway import samples

    out = []
    for i in range(first, first + n):
        standard = standard_mix[i % len(standard_mix)]
        xml = samples.allocation(standard, bsn=samples.BSNS[1000 + i],
                                 products=(samples.Allocated(toewijzingnummer=700_000 + i),))
        out.append(Send(f"{standard}-301-{i}", "gemeente", xml))
    return out


def starts(standard_mix: tuple[str, ...], n: int, first: int = 0) -> list[Send]:
    """The 305 for each 301 of `allocations(...)` with the same numbers (needs those 301 in)."""
    from gateway import samples

    out = []
    for i in range(first, first + n):
        standard = standard_mix[i % len(standard_mix)]
        xml = samples.start(standard, bsn=samples.BSNS[1000 + i],
                            products=(samples.Started(toewijzingnummer=700_000 + i),))
        out.append(Send(f"{standard}-305-{i}", "aanbieder", xml))
    return out
