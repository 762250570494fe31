"""The one-call, in-process validation API used by the CLI and the service.

parse (hardened) -> detect (namespace + BerichtCode) -> XSD (level 1) -> in-message rules
(level 2: xslt TRs, condities/constraints), the last only when the schema is satisfied, because
the rules may assume a schema-valid tree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from lxml import etree

from gateway import clock
from gateway.catalog import MessageType
from gateway.detect import Detection, detect
from gateway.xmlparse import ParseLimits, parse
from schemas.registry import SchemaDirError, SchemaRegistry, default_registry
from validators import engine
from validators.faults import RuleFailed, SchemaUnavailable
from validators.issues import Issue, has_errors
from validators.paths import fixed_trees
from validators.xsd import validate_tree

log = logging.getLogger(__name__)
NL = ZoneInfo("Europe/Amsterdam")


def today_nl() -> date:
    """The Dutch calendar date: the standard's dates are local dates without a time zone."""
    return clock.today()


@dataclass
class Report:
    """The outcome of validating one message."""

    standard: str | None = None
    message: str | None = None  # "JW301"
    mtype: MessageType | None = None
    root: etree._Element | None = field(default=None, repr=False)  # not serialised
    issues: list[Issue] = field(default_factory=list)
    schema_valid: bool = False  # parsed, detected and XSD-valid (level 1 passed)
    # What the level-2 rules cached about the tree (RuleContext.extra: prestatie rows, the path
    # index): the pipeline hands it to the later rules so a large 323 is read once, not twice.
    rule_cache: dict = field(default_factory=dict, repr=False)

    @property
    def valid(self) -> bool:
        return not has_errors(self.issues)

    @property
    def release(self) -> str | None:
        return self.mtype.release if self.mtype else None

    def public(self, file: str | None = None) -> dict:
        """The CLI's JSON object for this message (exactly these keys)."""
        return {
            "file": file,
            "standard": self.standard,
            "message": self.message,
            "valid": self.valid,
            "issues": [i.public() for i in self.issues],
        }


def run_in_message_rules(
    root: etree._Element, mtype: MessageType, today: date, cache: dict | None = None,
    scope: dict | None = None,
) -> list[Issue]:
    """Level-2 rules. A rule that raises is the gateway's defect, not a finding: it is logged
    without message content and raised as RuleFailed, so the sender gets no verdict it did not earn.
    `cache` becomes the rules' RuleContext.extra (so a caller can reuse what they computed);
    `scope` (validators.paths.new_scope) keeps their lookups for the caller's further reads."""
    rules = engine.plan(mtype, engine.IN_MESSAGE_LEVELS)
    if not rules:  # (a 320: no context and no scope to set up)
        return []
    # positional: keywords cost a dataclass __init__ half as much again, once per message
    ctx = engine.RuleContext(root, mtype, today, None, None, cache if cache is not None else {})
    issues: list[Issue] = []
    with fixed_trees(scope):
        for rule in rules:
            try:
                issues.extend(rule.check(rule, ctx))
            except Exception as exc:
                log.exception("rule %s raised %s on a %s message", rule.code, type(exc).__name__, mtype.code)
                raise RuleFailed(rule.code, mtype.code) from exc
    return issues


def validate_bytes(
    raw: bytes,
    registry: SchemaRegistry | None = None,
    *,
    today: date | None = None,
    run_rules: bool = True,
    limits: ParseLimits | None = None,
    scope: dict | None = None,
) -> Report:
    """Validate one message given as bytes. Never raises for bad input: everything about the
    message is an Issue. Raises GatewayFault when the gateway itself cannot judge it."""
    registry = registry or default_registry()
    report = Report()
    parsed = parse(raw, limits)
    report.issues.extend(parsed.issues)
    if parsed.root is None:
        return report
    return validate_root(parsed.root, registry, today=today, run_rules=run_rules, report=report, scope=scope)


def validate_root(
    root: etree._Element,
    registry: SchemaRegistry | None = None,
    *,
    today: date | None = None,
    run_rules: bool = True,
    report: Report | None = None,
    detected: Detection | None = None,
    scope: dict | None = None,
) -> Report:
    """Validate a message already parsed by the hardened parser (the payload of a StUF-GGk
    envelope: gateway.ggk parsed it to check the envelope, so it is not parsed twice).
    `detected`: what gateway.detect.detect(root, registry) told already (the envelope's check).
    `scope`: the level-2 rules' lookups are kept there (run_in_message_rules)."""
    registry = registry or default_registry()
    report = report if report is not None else Report()
    report.root = root
    found = detected if detected is not None else detect(root, registry)
    report.standard = found.standard
    report.message = found.code
    report.issues.extend(found.issues)
    if found.mtype is None:
        return report
    report.mtype = found.mtype
    report.message = found.mtype.code
    try:
        compiled = registry.schema(found.mtype)
    except (KeyError, SchemaDirError) as exc:
        log.error("no usable schema for %s: %s", found.mtype.code, exc)
        raise SchemaUnavailable(found.mtype.code, type(exc).__name__) from exc
    xsd_issues = validate_tree(root, compiled)
    report.issues.extend(xsd_issues)
    if xsd_issues:
        return report
    report.schema_valid = True
    if run_rules:
        report.issues.extend(
            run_in_message_rules(root, found.mtype, today or today_nl(), report.rule_cache, scope)
        )
    return report
