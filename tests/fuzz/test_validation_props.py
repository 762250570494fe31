"""Properties of the parser, the validate API and the whole pipeline on hostile and broken input
(tests/fuzz/strategies.py: real messages of all 28 types broken at tree and byte level, and noise):

- gateway.xmlparse.parse never raises; it returns a root or at least one PARSE error;
- validators.validate.validate_bytes never raises; every issue has the documented shape
  (rule code, severity, path in the report format, line, text) and the verdict is consistent;
- Pipeline.process never raises anything but `Refused` (our error type for a sender that may not
  send this); its Outcome is consistent and the message is stored exactly when it says so.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import event, given

from gateway.xmlparse import parse
from validators.issues import Issue
from validators.validate import validate_bytes

from .conftest import fuzz_settings
from .strategies import hostile_messages

RULE = re.compile(r"^(PARSE|XSD|DETECT|(TR|CD|CS|RS|CR)\d{3})$")
PATH = re.compile(r"^/[A-Za-z][\w.-]*(\[\d+\])?(/[A-Za-z@][\w.:-]*(\[\d+\])?)*$")
VERDICTS = {"accepted", "rejected", "flagged", "review", "transport_rejected"}


def assert_issue_shape(issue: Issue) -> None:
    public = issue.public()
    assert set(public) == {"rule", "severity", "path", "locations", "line", "text"}
    assert RULE.match(public["rule"]), public
    assert public["severity"] in ("error", "warning")
    assert public["path"] is None or PATH.match(public["path"]), public
    assert public["line"] is None or (isinstance(public["line"], int) and public["line"] >= 1), public
    assert isinstance(public["text"], str) and public["text"].strip(), public
    assert "Traceback" not in public["text"]


@given(raw=hostile_messages())
@fuzz_settings(200)
def test_parse_never_raises_and_explains_a_refusal(raw):
    result = parse(raw)
    if result.root is None:
        errors = [i for i in result.issues if i.severity == "error"]
        assert errors and all(i.rule == "PARSE" for i in errors), result.issues
    for issue in result.issues:
        assert_issue_shape(issue)


@given(raw=hostile_messages())
@fuzz_settings(200)
def test_validate_bytes_never_raises_and_issues_have_the_documented_shape(raw):
    report = validate_bytes(raw)
    event("valid" if report.valid else "schema-valid" if report.schema_valid else
          "detected" if report.mtype else "parsed" if report.root is not None else "unparsed")
    for issue in report.issues:
        assert_issue_shape(issue)
    public = report.public("fuzz.xml")
    assert set(public) == {"file", "standard", "message", "valid", "issues"}
    if report.valid:
        assert report.schema_valid and report.mtype is not None and report.root is not None
    if report.root is None:
        assert not report.valid and any(i.rule == "PARSE" for i in report.issues)
    elif report.mtype is None:
        assert not report.valid and any(i.rule in ("DETECT", "PARSE") for i in report.issues)


@pytest.fixture(scope="module")
def pipeline(api):
    from gateway.pipeline import Pipeline

    return Pipeline(api.app.state.components)


@given(raw=hostile_messages())
@fuzz_settings(120)
def test_pipeline_never_raises_but_refused_and_stores_what_it_says(pipeline, raw):
    from gateway.auth.policy import Party, Refused
    from gateway.samples import GEMEENTE

    store = pipeline.c.store
    before = store.count_messages()
    try:
        outcome = pipeline.process(raw, Party(GEMEENTE, "gemeente", "fuzz"))
    except Refused as exc:  # a message of a type or Afzender this party may not send
        event("refused")
        assert exc.status in (401, 403) and exc.reason
        assert store.count_messages() == before
        return
    event(outcome.verdict)
    assert outcome.verdict in VERDICTS
    assert outcome.message_id and store.get_message(outcome.message_id) is not None
    assert store.count_messages() == before + (0 if outcome.duplicate else 1)
    for issue in outcome.issues:
        assert_issue_shape(Issue(**issue))
    if outcome.verdict == "transport_rejected":
        assert outcome.transport_error is not None and outcome.transport_error.message
        assert outcome.retour is None
    else:
        assert outcome.code is not None
