"""The fault scenarios, parameterised by size: the tests run them small (tests/faults/test_*.py),
benchmarks/faults_long.py runs them large. Each returns a Report: the figures measured and the
list of violated guarantees (empty when every guarantee held).

Guarantees checked (see docs/faults.md):
- every message that got a 2xx is stored, under the message id it was answered with;
- nothing is stored twice: one row per (sender, type, identificatie, bytes), one accepted row per
  (sender, type, identificatie);
- every Kafka outbox row is published, and a consumer deduplicating on the `message-id` header
  sees exactly the outbox's messages, each once (redeliveries after a crash are counted);
- the sender never sees a 5xx other than 503, a 503 always carries Retry-After, no answer
  carries a stack trace; no BSN appears in clear in the gateway's log.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from . import harness
from .harness import GatewayProcess, Keys
from .load import Answer, LoadStats, Progress, Send, allocations, run_load, starts

MIX = ("ijw", "iwmo")
_BSN = re.compile(rb"<(?:\w+:)?Bsn>(\d{9})</")


@dataclass
class Report:
    scenario: str
    params: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.violations.append(message)

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "params": self.params, "figures": self.figures,
                "violations": self.violations, "passed": not self.violations}


# -- shared checks -------------------------------------------------------------------------------

def check_answers(report: Report, sends: list[Send], answers: list[Answer], stats: LoadStats) -> None:
    unanswered = [a.label for a in answers if a.status is None]
    not_2xx = [f"{a.label}: {a.status} {a.body[:200]}" for a in answers if a.status and a.status >= 300]
    report.check(not unanswered, f"{len(unanswered)} messages never answered: {unanswered[:5]}")
    report.check(not not_2xx, f"{len(not_2xx)} messages refused: {not_2xx[:3]}")
    ids = [a.message_id for a in answers if a.status and 200 <= a.status < 300]
    report.check(len(set(ids)) == len(ids), "two different messages were answered with one message id")
    report.check(not stats.bad_bodies, f"5xx (not 503) or stack trace seen: {stats.bad_bodies[:3]}")
    report.check(stats.retry_after_missing == 0, f"{stats.retry_after_missing} 503s without Retry-After")
    report.figures.update(
        messages=len(sends),
        acked=len(ids),
        statuses_seen={str(k): v for k, v in sorted(stats.statuses.items())},
        connection_errors=stats.connection_errors,
        in_doubt=sum(a.in_doubt for a in answers),
        in_doubt_answered_as_duplicate=sum(a.in_doubt and a.duplicate for a in answers),
        attempts=sum(a.attempts for a in answers),
    )


def check_store(report: Report, store, answers: list[Answer], expected_rows: int | None) -> None:  # noqa: ANN001
    rows = harness.stored_messages(store)
    by_id = {r["id"]: r for r in rows}
    acked = [a for a in answers if a.status and 200 <= a.status < 300]
    missing = [a.label for a in acked if a.message_id not in by_id]
    report.check(not missing, f"{len(missing)} acknowledged messages are not stored: {missing[:5]}")
    wrong = [a.label for a in acked if a.message_id in by_id and by_id[a.message_id]["verdict"] != a.verdict]
    report.check(not wrong, f"stored verdict differs from the answered one: {wrong[:5]}")
    copies = Counter((r["sender"], r["code"], r["identificatie"], r["sha256"]) for r in rows)
    doubled = [k[:3] for k, n in copies.items() if n > 1]
    report.check(not doubled, f"{len(doubled)} messages stored more than once: {doubled[:3]}")
    accepted = Counter((r["sender"], r["code"], r["identificatie"]) for r in rows if r["verdict"] == "accepted")
    twice = [k for k, n in accepted.items() if n > 1]
    report.check(not twice, f"{len(twice)} identificaties accepted more than once: {twice[:3]}")
    if expected_rows is not None:
        report.check(len(rows) == expected_rows, f"{len(rows)} messages stored, expected {expected_rows}")
    report.figures["stored"] = len(rows)


def check_published(report: Report, store, bootstrap: str, *, after_outbox_id: int = 0,  # noqa: ANN001
                    drain_timeout: float = 60.0, check_order: bool = True) -> set[str]:
    """All Kafka rows (after `after_outbox_id`) published; the consumer sees exactly those
    (returns the message ids it saw)."""
    started = time.monotonic()
    pending = harness.wait_drained(store, drain_timeout)
    report.figures["drain_seconds"] = round(time.monotonic() - started, 2)
    report.check(pending == 0, f"{pending} outbox rows still unpublished after {drain_timeout}s")
    rows = harness.kafka_outbox(store, after_outbox_id)
    want = {r[3] for r in rows}
    topics = sorted({r[1] for r in rows})
    records = harness.consume_all(bootstrap, topics, want, timeout=max(20.0, len(rows) / 50)) if rows else []
    seen = harness.record_ids(records)
    distinct = set(seen)
    report.check(want <= distinct, f"{len(want - distinct)} published messages never reached the consumer")
    report.check(distinct <= want, f"{len(distinct - want)} unexpected message ids on the topics")
    report.figures.update(kafka_rows=len(rows), consumed=len(seen), consumed_distinct=len(distinct),
                          redelivered=len(seen) - len(distinct))
    if check_order:
        # After deduplication, each (topic, key) must read in outbox order.
        want_order: dict[tuple[str, str | None], list[str]] = {}
        for _, topic, key, mid, _ in rows:
            want_order.setdefault((topic, key), []).append(mid)
        got_order: dict[tuple[str, str | None], list[str]] = {}
        first: set[str] = set()
        for rec, mid in zip(records, seen, strict=True):
            if mid in first:
                continue
            first.add(mid)
            got_order.setdefault((rec.topic, rec.key.decode() if rec.key else None), []).append(mid)
        bad = [k for k in want_order if got_order.get(k) != want_order[k]]
        report.check(not bad, f"{len(bad)} partition keys read out of outbox order")
    return distinct


# A nine-digit run on its own: not part of a longer number (a hex id, a byte count, a float's
# digits), where the same nine digits are a chance match and no BSN. Letters around it do not
# save it: "bsn999912345" is a BSN in clear.
_STANDALONE_NINE = re.compile(r"(?<![0-9])[0-9]{9}(?![0-9])")


@dataclass(frozen=True)
class Leak:
    process: str
    log_path: str
    line_number: int  # 1-based
    line: str  # 300 characters of the line around the first leak, every leaked BSN masked (******782)


def find_leaks(name: str, log_path: str, text: str, bsns: set[str]) -> list[Leak]:
    """Every line of `text` holding one of `bsns` as a whole nine-digit number."""
    leaks = []
    for n, line in enumerate(text.splitlines(), 1):
        found = [m for m in _STANDALONE_NINE.finditer(line) if m.group(0) in bsns]
        if found:
            hits = {m.group(0) for m in found}
            shown = _STANDALONE_NINE.sub(lambda m: "******" + m.group(0)[-3:] if m.group(0) in hits
                                         else m.group(0), line)
            start = max(0, found[0].start() - 150)  # the same length masked: positions hold
            leaks.append(Leak(name, log_path, n, shown[start:start + 300]))
    return leaks


_LONGER_RUN = re.compile(r"[0-9]{10,}")


def chance_matches(text: str, bsns: set[str]) -> int:
    """How often one of `bsns` occurs inside a longer digit run of `text` (what a bare substring
    test counted as a leak, and is none)."""
    return sum(run[i:i + 9] in bsns for run in _LONGER_RUN.findall(text) for i in range(len(run) - 8))


def sent_bsns(sends: list[Send]) -> set[str]:
    return {m.decode() for s in sends for m in _BSN.findall(s.xml)}


def check_logs(report: Report, procs: list[GatewayProcess], sends: list[Send]) -> None:
    """No BSN that was sent appears in clear (as a whole number) in any process's log. A leak is
    reported by process, log file and line (the BSN masked in the report); the log file is
    the caller's to keep (benchmarks/faults_long.py copies a failed scenario's logs)."""
    bsns = sent_bsns(sends)
    leaks = [leak for p in procs for leak in find_leaks(p.name, str(p.log_path), p.log_text(), bsns)]
    report.figures["log_leaks"] = len(leaks)
    report.figures["log_chance_matches"] = sum(chance_matches(p.log_text(), bsns) for p in procs)
    for leak in leaks[:5]:
        report.violations.append(f"a BSN appears in clear in the log of {leak.process} ({leak.log_path}, "
                                 f"line {leak.line_number}): {leak.line}")
    report.check(len(leaks) <= 5, f"... and {len(leaks) - 5} more lines with a BSN in clear")


# -- 1. kill -9 under load -----------------------------------------------------------------------

def kill9(base: Path, store_url: str, bootstrap: str | None, *, messages: int = 80, workers: int = 4,
          kills: int = 1, down_seconds: float = 0.5) -> Report:
    """kill -9 of the gateway while a client sends; restart on the same port; the client retries
    what got no answer. Every 2xx is stored and published once (after dedup), nothing twice."""
    report = Report("kill9", dict(store=store_url.split(":")[0], messages=messages, workers=workers,
                                  kills=kills, broker=bool(bootstrap)))
    keys = harness.prepare_store(store_url)
    sends = allocations(MIX, messages)
    gw = GatewayProcess(base / "gw", store_url, kafka_bootstrap=bootstrap)
    gw.start()
    progress, stats = Progress(), LoadStats()
    answers: list[Answer] = []
    try:
        loader = threading.Thread(target=lambda: answers.extend(
            run_load([gw.url], keys, sends, workers=workers, progress=progress, stats=stats,
                     deadline_seconds=60 + messages / 5)), daemon=True)
        loader.start()
        restart_seconds = []
        for k in range(kills):
            progress.wait_for(messages * (k + 1) // (kills + 1), timeout=120)
            gw.kill9()
            time.sleep(down_seconds)
            t0 = time.monotonic()
            gw.start()
            restart_seconds.append(round(time.monotonic() - t0, 2))
        loader.join()
        report.figures["restart_seconds"] = restart_seconds
        check_answers(report, sends, answers, stats)
        store = harness.open_test_store(store_url)
        try:
            check_store(report, store, answers, expected_rows=messages)
            if bootstrap:
                check_published(report, store, bootstrap)
        finally:
            store.close()
        check_logs(report, [gw], sends)
    finally:
        gw.stop()
    return report


# -- 2. broker down under load -------------------------------------------------------------------

def broker_outage(base: Path, store_url: str, broker, *, before: int = 20, during: int = 30,  # noqa: ANN001
                  after: int = 30, outage_seconds: float = 3.0, workers: int = 4) -> Report:
    """The broker stops while messages keep coming and restarts (empty: tansu keeps its log in
    memory) on the same port. The gateway keeps answering 202; the outbox keeps what it could
    not publish; after the restart the backlog drains and a consumer of the new broker sees every
    message stored since the outage exactly once (after dedup) and nothing from before it."""
    from testsupport.services import TansuBroker

    report = Report("broker_outage", dict(store=store_url.split(":")[0], before=before, during=during,
                                          after=after, outage_seconds=outage_seconds, workers=workers))
    keys = harness.prepare_store(store_url)
    sends = allocations(MIX, before + during + after)
    first, second, third = sends[:before], sends[before:before + during], sends[before + during:]
    gw = GatewayProcess(base / "gw", store_url, kafka_bootstrap=broker.bootstrap)
    gw.start()
    store = harness.open_test_store(store_url)
    stats = LoadStats()
    answers: list[Answer] = []
    new_broker = None
    try:
        # Phase 1: broker up; all published and seen before it stops.
        answers += run_load([gw.url], keys, first, workers=workers, stats=stats)
        check_published(report, store, broker.bootstrap)
        phase1 = harness.kafka_outbox(store)
        last_phase1 = phase1[-1][0] if phase1 else 0
        # Phase 2: broker down, messages keep coming; 202 means stored.
        failures = ("publish_failed", "broker_unavailable")
        failed_before = gw.count_events(*failures)
        broker.stop()
        t0 = time.monotonic()
        answers += run_load([gw.url], keys, second, workers=workers, stats=stats)
        report.figures["accepted_while_down_seconds"] = round(time.monotonic() - t0, 2)
        backlog = store.pending_outbox_count()
        report.figures["backlog_at_restart"] = backlog
        report.check(backlog == 2 * during,  # each 301: its topic row and its 302's
                     f"outbox holds {backlog} rows while the broker is down, expected {2 * during}")
        # tansu forgets its topics on restart yet acknowledges a produce to a topic it no longer
        # has (the record is gone): a producer that lived through the restart with its cached
        # metadata would lose data that a real Kafka keeps. So the new broker only starts once
        # the publisher has noticed the outage (after its 5 s request timeout) and dropped its
        # producer; the next producer asks for metadata, which creates the topics again.
        noticed = gw.wait_for_events(failures, failed_before, timeout=60)
        report.check(noticed, "the publisher never noticed the broker was down")
        report.figures["publisher_noticed_after_seconds"] = round(time.monotonic() - t0, 2)
        time.sleep(max(0.0, outage_seconds - (time.monotonic() - t0)))
        report.figures["outage_seconds_actual"] = round(time.monotonic() - t0, 2)
        # Phase 3: a new, empty broker on the same port; more messages while the backlog drains.
        new_broker = TansuBroker(port=broker.port).start()
        answers += run_load([gw.url], keys, third, workers=workers, stats=stats)
        check_answers(report, sends, answers, stats)
        check_store(report, store, answers, expected_rows=len(sends))
        later = Report("later", {})
        seen = check_published(later, store, new_broker.bootstrap, after_outbox_id=last_phase1,
                               drain_timeout=120)
        report.violations += later.violations
        report.figures.update({f"after_restart_{k}": v for k, v in later.figures.items()})
        republished = {r[3] for r in phase1} & seen
        report.check(not republished, f"{len(republished)} rows published before the outage were sent again")
        check_logs(report, [gw], sends)
        dead = harness.dead_letters(store)
        report.check(dead == 0, f"{dead} messages dead-lettered by the outage")
    finally:
        gw.stop()
        store.close()
        if new_broker is not None:
            new_broker.stop()
    return report


# -- 3. database outage under load ---------------------------------------------------------------

def _pg_admin(sql: str, *params: Any) -> None:
    import psycopg

    from testsupport.services import PG_ADMIN_URL

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql, params or None)


def terminate_backends(dbname: str) -> None:
    _pg_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
              "AND pid <> pg_backend_pid()", dbname)


def refuse_connections(dbname: str, refuse: bool) -> None:
    _pg_admin(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS {"false" if refuse else "true"}')
    if refuse:
        terminate_backends(dbname)


def probe_during_outage(report: Report, gw: GatewayProcess, keys: Keys, xml: bytes) -> None:
    """While the database refuses connections: a message gets 503 + Retry-After and a clear error,
    /healthz stays 200 (the process lives), /readyz says 503 (not ready)."""
    r = httpx.post(f"{gw.url}/v1/messages", content=xml, timeout=30,
                   headers={"Authorization": f"Bearer {keys.gemeente}", "Content-Type": "application/xml"})
    report.figures["outage_probe"] = {"status": r.status_code, "retry_after": r.headers.get("retry-after"),
                                      "body": r.text[:300]}
    report.check(r.status_code == 503, f"during the outage a message got {r.status_code}, not 503: {r.text[:200]}")
    report.check("retry-after" in r.headers, "the 503 during the outage has no Retry-After")
    try:
        err = r.json().get("error", {})
    except ValueError:
        err = {}
    report.check(bool(err.get("code")) and bool(err.get("message")), f"unclear error body: {r.text[:200]}")
    report.check("Traceback" not in r.text and 'File "' not in r.text, "stack trace in the answer")
    report.check(httpx.get(f"{gw.url}/healthz", timeout=5).status_code == 200, "/healthz not 200 in the outage")
    report.check(httpx.get(f"{gw.url}/readyz", timeout=5).status_code == 503, "/readyz not 503 in the outage")


def db_outage(base: Path, pg_url: str, bootstrap: str | None, *, messages: int = 60, workers: int = 4,
              terminations: int = 2, outage_seconds: float = 2.0) -> Report:
    """PostgreSQL goes away under load, simulated on the test database only: its backends are
    terminated (`terminations` times), then it refuses connections for `outage_seconds`
    (ALLOW_CONNECTIONS false). The sender gets 503 + Retry-After, never a 500 or a trace; the
    client retries; afterwards every message is stored once and (with a broker) published."""
    report = Report("db_outage", dict(messages=messages, workers=workers, terminations=terminations,
                                      outage_seconds=outage_seconds, broker=bool(bootstrap)))
    dbname = pg_url.rsplit("/", 1)[1]
    keys = harness.prepare_store(pg_url)
    sends = allocations(MIX, messages)
    probe = allocations(("ijw",), 1, first=messages)[0]
    gw = GatewayProcess(base / "gw", pg_url, kafka_bootstrap=bootstrap)
    gw.start()
    progress, stats = Progress(), LoadStats()
    answers: list[Answer] = []
    try:
        loader = threading.Thread(target=lambda: answers.extend(
            run_load([gw.url], keys, sends, workers=workers, progress=progress, stats=stats,
                     deadline_seconds=90 + outage_seconds * 2 + messages / 5)), daemon=True)
        loader.start()
        # Terminations spread over the first half of the load, the refusal at its middle: half
        # the messages are still to come, so the load itself meets the outage.
        for k in range(terminations):
            progress.wait_for(messages * (k + 1) // (2 * (terminations + 1)), timeout=60)
            terminate_backends(dbname)
        progress.wait_for(messages // 2, timeout=60)
        refuse_connections(dbname, True)
        t0 = time.monotonic()
        try:
            probe_during_outage(report, gw, keys, probe.xml)
            time.sleep(max(0.0, outage_seconds - (time.monotonic() - t0)))
        finally:
            refuse_connections(dbname, False)
        report.figures["outage_seconds_actual"] = round(time.monotonic() - t0, 2)
        loader.join()
        check_answers(report, sends, answers, stats)
        report.check(stats.statuses[503] > 0, "no 503 seen: the outage did not hit the load")
        report.check(gw.alive(), "the gateway process died")
        ready = httpx.get(f"{gw.url}/readyz", timeout=5).status_code
        report.check(ready == 200, f"/readyz is {ready} after the outage")
        store = harness.open_test_store(pg_url)
        try:
            check_store(report, store, answers, expected_rows=messages)
            if bootstrap:
                check_published(report, store, bootstrap)
        finally:
            store.close()
        check_logs(report, [gw], sends)
    finally:
        gw.stop()
    return report


# -- 4. several gateway processes on one PostgreSQL and one broker -------------------------------

def race(targets: list[str], keys: Keys, sends: list[Send]) -> list[Answer]:
    """Send sends[i] to targets[i % n], all released at the same moment."""
    barrier = threading.Barrier(len(sends))
    answers: list[Answer | None] = [None] * len(sends)

    def go(i: int) -> None:
        send = sends[i]
        with httpx.Client(timeout=30) as http:
            http.get(f"{targets[i % len(targets)]}/healthz")  # connect before the start line
            barrier.wait()
            r = http.post(f"{targets[i % len(targets)]}/v1/messages", content=send.xml,
                          headers={"Authorization": f"Bearer {keys.for_sender(send.role)}",
                                   "Content-Type": "application/xml"})
        data = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        answers[i] = Answer(send.label, r.status_code, data.get("message_id"), data.get("verdict"),
                            bool(data.get("duplicate")), data.get("issues") or [], 1, body=r.text[:500])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(sends))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return [a or Answer(s.label) for a, s in zip(answers, sends, strict=True)]


def _rules(a: Answer) -> set[str]:
    return {i.get("rule") for i in a.issues if i.get("severity") == "error"}


def multi_process(base: Path, pg_url: str, bootstrap: str, *, processes: int = 2, clients: int = 20,
                  races: int = 3, workers: int = 4, kill_one: bool = False) -> Report:
    """`processes` gateways on one PostgreSQL and one broker, the client going round robin:
    a 301 through one process and its 305 through another are both accepted (shared state); the
    same ToewijzingNummer for different clients, the same Identificatie with different content,
    and the very same message, each sent at the same moment through every process, are accepted
    exactly once; nothing is lost or stored twice, and every message is published once.
    With `kill_one`, the first process is killed (-9) during the 301 load, the client fails over
    to the others, and the process is restarted before the 305s (its leased outbox rows are taken
    over by the other publishers when the lease ends)."""
    from gateway import samples

    report = Report("multi_process", dict(processes=processes, clients=clients, races=races, workers=workers,
                                          kill_one=kill_one))
    keys = harness.prepare_store(pg_url)
    stats = LoadStats()
    with harness.gateways(processes, base, pg_url, kafka_bootstrap=bootstrap) as procs:
        urls = [p.url for p in procs]
        t0 = time.monotonic()
        allocs = allocations(MIX, clients)
        if kill_one:
            progress, answers = Progress(), []
            loader = threading.Thread(target=lambda: answers.extend(run_load(
                urls, keys, allocs, workers=workers, stats=stats, progress=progress)), daemon=True)
            loader.start()
            progress.wait_for(clients // 3, timeout=60)
            procs[0].kill9()
            loader.join()
            report.check(stats.connection_errors > 0, "the kill did not hit the load")
            procs[0].start()
        else:
            answers = run_load(urls, keys, allocs, workers=workers, stats=stats)
        chain = starts(MIX, clients)
        # The 305s go round robin offset by one: each through another process than its 301.
        answers += run_load(urls[1:] + urls[:1], keys, chain, workers=workers, stats=stats)
        report.figures["load_seconds"] = round(time.monotonic() - t0, 2)
        sends = allocs + chain
        not_accepted = [f"{a.label}: {a.verdict} {sorted(_rules(a))}" for a in answers if a.verdict != "accepted"]
        report.check(not not_accepted, f"{len(not_accepted)} of the chain not accepted: {not_accepted[:3]}")
        # Control: a 305 for a toewijzing nobody issued is refused (the 305 check is real).
        control = samples.start("ijw", bsn=samples.BSNS[4999],
                                products=(samples.Started(toewijzingnummer=999_999),))
        ctl = race(urls[:1], keys, [Send("control-305", "aanbieder", control)])[0]
        report.check(ctl.verdict == "rejected", f"a 305 without a 301 was {ctl.verdict}")
        race_answers: list[Answer] = [ctl]
        race_sends: list[Send] = [Send("control-305", "aanbieder", control)]
        n = processes
        outcomes = Counter()
        for r in range(races):
            # Same ToewijzingNummer, different clients (TR332).
            same_nr = [Send(f"tr332-{r}-{j}", "gemeente", samples.allocation(
                MIX[r % 2], bsn=samples.BSNS[5000 + r * 10 + j],
                products=(samples.Allocated(toewijzingnummer=800_000 + r),))) for j in range(n)]
            got = race(urls, keys, same_nr)
            acc = [a for a in got if a.verdict == "accepted"]
            others_ok = all("TR332" in _rules(a) for a in got if a.verdict != "accepted")
            report.check(len(acc) == 1 and others_ok,
                         f"race {r}: same ToewijzingNummer accepted {len(acc)} times "
                         f"({[(a.verdict, sorted(_rules(a))) for a in got]})")
            outcomes["tr332_races_held"] += len(acc) == 1 and others_ok
            # Same Identificatie, different content (TR056).
            ident = f"RACE{r:04d}X{processes}"
            same_id = [Send(f"tr056-{r}-{j}", "gemeente", samples.allocation(
                MIX[r % 2], identificatie=ident, bsn=samples.BSNS[6000 + r * 10 + j],
                products=(samples.Allocated(toewijzingnummer=810_000 + r * 10 + j),))) for j in range(n)]
            got2 = race(urls, keys, same_id)
            acc2 = [a for a in got2 if a.verdict == "accepted"]
            others2 = all("TR056" in _rules(a) for a in got2 if a.verdict != "accepted")
            report.check(len(acc2) == 1 and others2,
                         f"race {r}: one Identificatie accepted {len(acc2)} times "
                         f"({[(a.verdict, sorted(_rules(a))) for a in got2]})")
            outcomes["tr056_races_held"] += len(acc2) == 1 and others2
            # The very same message through every process at once: stored once, same answer.
            one = samples.allocation(MIX[r % 2], bsn=samples.BSNS[7000 + r],
                                     products=(samples.Allocated(toewijzingnummer=820_000 + r),))
            got3 = race(urls, keys, [Send(f"dup-{r}-{j}", "gemeente", one) for j in range(n)])
            ids3 = {a.message_id for a in got3}
            firsts = sum(not a.duplicate for a in got3)
            report.check(len(ids3) == 1 and firsts == 1 and all(a.verdict == "accepted" for a in got3),
                         f"race {r}: the same message got ids {ids3}, {firsts} first deliveries")
            outcomes["duplicate_races_held"] += len(ids3) == 1 and firsts == 1
            race_answers += got + got2 + got3[:1]
            race_sends += same_nr + same_id + [Send(f"dup-{r}", "gemeente", one)]
        report.figures.update(outcomes)
        bad = [f"{a.label}: {a.status}" for a in race_answers if a.status != 202]
        report.check(not bad, f"race answers not 202: {bad[:5]}")
        check_answers(report, sends, answers, stats)
        store = harness.open_test_store(pg_url)
        try:
            check_store(report, store, answers + race_answers, expected_rows=len(sends) + len(race_sends))
            # Several publishers may interleave rows of one key (docs/service.md): no order check.
            check_published(report, store, bootstrap, check_order=False)
        finally:
            store.close()
        check_logs(report, procs, sends + race_sends)
        report.check(all(p.alive() for p in procs), "a gateway process died")
    return report
