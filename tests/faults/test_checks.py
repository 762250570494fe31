"""The checks of the fault scenarios catch what they claim to catch (fed made-up evidence): a
scenario that passes means the guarantees held, not that the checks looked away."""

from __future__ import annotations

from collections import namedtuple

from . import harness, scenarios
from .load import Answer, LoadStats, Send

Record = namedtuple("Record", "topic key headers")


def answer(label: str, mid: str | None, status: int | None = 202, verdict: str = "accepted") -> Answer:
    return Answer(label, status=status, message_id=mid, verdict=verdict)


def test_answers_unanswered_refused_and_traces_are_violations():
    report = scenarios.Report("t", {})
    stats = LoadStats()
    stats.saw(500, {}, '{"error": 1}')
    stats.saw(503, {}, "busy")  # no Retry-After
    sends = [Send(str(i), "gemeente", b"") for i in range(4)]
    scenarios.check_answers(report, sends, [answer("0", "A"), answer("1", None, None),
                                            answer("2", "C", 422), answer("3", "A")], stats)
    text = "\n".join(report.violations)
    for expected in ("never answered", "refused", "one message id", "5xx", "without Retry-After"):
        assert expected in text, (expected, text)


def test_store_missing_doubled_and_twice_accepted_are_violations(monkeypatch):
    rows = [
        dict(id="A", sender="0599", code="JW301", identificatie="X1", sha256="s1", verdict="accepted"),
        dict(id="B", sender="0599", code="JW301", identificatie="X2", sha256="s2", verdict="accepted"),
        dict(id="C", sender="0599", code="JW301", identificatie="X2", sha256="s2", verdict="accepted"),
        dict(id="D", sender="0599", code="JW301", identificatie="X1", sha256="s9", verdict="accepted"),
    ]
    monkeypatch.setattr(harness, "stored_messages", lambda store: rows)
    report = scenarios.Report("t", {})
    scenarios.check_store(report, None, [answer("a", "A"), answer("z", "Z"), answer("b", "B", verdict="rejected")],
                          expected_rows=3)
    text = "\n".join(report.violations)
    for expected in ("not stored", "verdict differs", "more than once", "accepted more than once", "4 messages stored"):
        assert expected in text, (expected, text)


def test_lost_unexpected_and_reordered_records_are_violations(monkeypatch):
    outbox = [(1, "t", "k", "m1", True), (2, "t", "k", "m2", True), (3, "t", "k", "m3", True)]
    seen = [Record("t", b"k", [("message-id", m.encode())]) for m in ("m2", "m1", "m1", "zz")]
    monkeypatch.setattr(harness, "wait_drained", lambda store, timeout: 1)
    monkeypatch.setattr(harness, "kafka_outbox", lambda store, after=0: outbox)
    monkeypatch.setattr(harness, "consume_all", lambda *a, **k: seen)
    report = scenarios.Report("t", {})
    scenarios.check_published(report, None, "127.0.0.1:1")
    text = "\n".join(report.violations)
    for expected in ("still unpublished", "never reached", "unexpected message ids", "out of outbox order"):
        assert expected in text, (expected, text)
    assert report.figures["redelivered"] == 1


class FakeProcess:
    name = "gw0"
    log_path = "/tmp/gw0.log"

    def __init__(self, log: str) -> None:
        self._log = log

    def log_text(self) -> str:
        return self._log


def _logs_check(log: str) -> scenarios.Report:
    from gateway import samples

    xml = samples.allocation("ijw", bsn=samples.BSNS[77])
    report = scenarios.Report("t", {})
    scenarios.check_logs(report, [FakeProcess(log)], [Send("x", "gemeente", xml)])
    return report


def test_a_bsn_in_a_log_is_a_violation():
    from gateway import samples

    bsn = samples.BSNS[77]
    assert not _logs_check('{"client_key": "ab12"}').violations
    for line in (f'{{"bsn": "{bsn}"}}',  # a value in clear
                 f'{{"n": {bsn}}}',  # a bare number
                 f"psycopg.errors.UniqueViolation: DETAIL:  Key (name)=({bsn}) already exists.",
                 f"  File \"x.py\", line 3, in f\nValueError: no client bsn{bsn}x"):  # in a traceback
        report = _logs_check('{"event": "before"}\n' + line + "\n")
        assert report.violations, line
        text = report.violations[0]
        # The report names the process, the log and the line (the BSN's: the last one of `line`),
        # and does not repeat the BSN.
        bsn_line = 2 + line.count("\n")
        assert "gw0" in text and "/tmp/gw0.log" in text and f"line {bsn_line})" in text, text
        assert bsn not in text and "******" + bsn[-3:] in text, text


def test_a_bsn_inside_a_longer_number_is_no_violation():
    from gateway import samples

    bsn = samples.BSNS[77]
    for line in (f'{{"client_key": "ab1{bsn}7cd"}}',  # inside a hex id's digit run
                 f'{{"bytes": 4{bsn}}}', f'{{"seconds": 0.{bsn}12}}', f'{{"id": {bsn}0}}'):
        report = _logs_check(line)
        assert not report.violations, (line, report.violations)
        assert report.figures["log_chance_matches"] == 1  # what the old substring test called a leak
