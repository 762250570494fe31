"""validate_bytes: the order parse -> detect -> XSD -> in-message rules, and the Report shape."""

from __future__ import annotations

from datetime import date

import pytest
from validation_helpers import find, mutate

from gateway import catalog, samples
from validators import engine
from validators.engine import Rule
from validators.faults import RuleFailed, SchemaUnavailable
from validators.issues import Issue
from validators.validate import Report, validate_bytes


@pytest.fixture
def probe(monkeypatch):
    """Register a level-2 rule for 305 that records what it saw and finds one error."""
    seen: list[engine.RuleContext] = []

    def check(rule, ctx):
        seen.append(ctx)
        yield rule.issue(find(ctx.root, "Client/Bsn"), "probe finding")

    rule = Rule(
        code="ZZ901", retourcode="0001", level="xslt", messages=frozenset({"305"}),
        summary="test probe", check=check,
    )
    engine.load_all()  # the real rules first, so the package import does not run later
    monkeypatch.setitem(engine.REGISTRY, "ZZ901", rule)
    return seen


def test_rules_run_on_a_schema_valid_message(registry, probe):
    report = validate_bytes(samples.build("JW305"), registry, today=date(2026, 3, 4))
    assert [i.rule for i in report.issues if i.rule == "ZZ901"] == ["ZZ901"]
    assert not report.valid and report.schema_valid
    ctx = probe[0]
    assert ctx.today == date(2026, 3, 4) and ctx.mtype == catalog.by_code("JW305")
    assert ctx.root is report.root


def test_rules_apply_only_to_their_message_types(registry, probe):
    validate_bytes(samples.build("JW307"), registry)
    assert probe == []


def test_rules_do_not_run_on_a_schema_invalid_message(registry, probe):
    raw = mutate(samples.build("JW305"), lambda r: setattr(find(r, "Client/Geslacht"), "text", "7"))
    report = validate_bytes(raw, registry)
    assert probe == [] and [i.rule for i in report.issues] == ["XSD"]
    assert not report.schema_valid


def test_run_rules_false_stops_after_the_schema(registry, probe):
    report = validate_bytes(samples.build("JW305"), registry, run_rules=False)
    assert probe == [] and report.valid


def test_a_rule_that_raises_is_a_gateway_fault_not_a_verdict(registry, probe, monkeypatch):
    """A defect in a rule must not reject the sender's message: no Issue, a RuleFailed naming the rule."""
    def broken(rule, ctx):
        raise RuntimeError("bug with 999999990 inside")

    monkeypatch.setitem(
        engine.REGISTRY,
        "ZZ902",
        Rule(code="ZZ902", retourcode="0001", level="condition", messages=frozenset({"305"}),
             summary="broken", check=broken),
    )
    with pytest.raises(RuleFailed) as raised:
        validate_bytes(samples.build("JW305"), registry)
    assert raised.value.rule == "ZZ902" and "internal error" in str(raised.value)
    assert "999999990" not in str(raised.value)  # no message content in what a sender may see


def test_a_schema_that_is_not_loaded_is_a_gateway_fault_not_a_verdict(registry, monkeypatch):
    def missing(mtype):
        raise KeyError(mtype.code)

    monkeypatch.setattr(registry, "schema", missing)
    with pytest.raises(SchemaUnavailable, match="JW305"):
        validate_bytes(samples.build("JW305"), registry)


def test_today_defaults_to_the_dutch_date(registry, probe):
    from validators.validate import today_nl

    validate_bytes(samples.build("JW305"), registry)
    assert probe[0].today == today_nl()


@pytest.mark.parametrize("code", ["JW301", "WMO323", "JW325", "WMO320"])
def test_valid_messages_have_no_errors(code, registry):
    report = validate_bytes(samples.build(code), registry)
    assert report.valid, report.issues
    assert (report.standard, report.message, report.release) == (
        catalog.by_code(code).standard, code, "3.2")


def test_public_form_has_exactly_the_cli_keys(registry):
    raw = mutate(samples.build("WMO305"), lambda r: setattr(find(r, "Client/Geslacht"), "text", "7"))
    public = validate_bytes(raw, registry).public("dir/x.xml")
    assert list(public) == ["file", "standard", "message", "valid", "issues"]
    assert public["file"] == "dir/x.xml" and public["standard"] == "iwmo" and public["message"] == "WMO305"
    assert public["valid"] is False
    assert list(public["issues"][0]) == ["rule", "severity", "path", "locations", "line", "text"]


def test_warnings_alone_keep_a_message_valid():
    report = Report(issues=[Issue(rule="PARSE", severity="warning", text="w")])
    assert report.valid
    report.issues.append(Issue(rule="XSD", text="e"))
    assert not report.valid


def test_stops_after_the_first_failing_stage(registry):
    parse_fail = validate_bytes(b"<a>", registry)
    assert [i.rule for i in parse_fail.issues] == ["PARSE"] and parse_fail.standard is None
    detect_fail = validate_bytes(samples.build("JW305").replace(b"/3_2/", b"/3_1/"), registry)
    assert [i.rule for i in detect_fail.issues] == ["DETECT"]
    assert detect_fail.standard == "ijw" and detect_fail.mtype is None
