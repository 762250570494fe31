"""The one-call, in-process validation API used by the CLI and the service.

parse (hardened) -> detect (namespace + BerichtCode) -> XSD (level 1) -> in-message rules
(level 2: xslt TRs, condities/constraints), the last only when the schema is satisfied, because
the rules may assume a schema-valid tree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from lxml import etree

from gateway import clock
from gateway.catalog import MessageType
from gateway.detect import Detection, detect
from gateway.xmlparse import ParseLimits, depth_issue, parse
from schemas.registry import SchemaDirError, SchemaRegistry, default_registry
from validators import engine
from validators.beside import beside
from validators.common import prestatie_rows
from validators.faults import RuleFailed, SchemaUnavailable
from validators.issues import Issue, has_errors
from validators.paths import fixed_trees
from validators.xsd import validate_tree

log = logging.getLogger(__name__)
NL = ZoneInfo("Europe/Amsterdam")
# From this size a declaration's depth check and XSD validation (C, the GIL released) run in a
# thread while this one reads its prestatie rows (Python), the level-2 rules' first read: for
# 100,000 prestaties about a second each. (A thread costs more than it saves on a small message.)
BESIDE_BYTES = 1_000_000
_ROWS_READ = frozenset({"323", "325"})  # the messages whose level-2 rules read prestatie_rows


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
    large = run_rules and len(raw) >= BESIDE_BYTES
    parsed = parse(raw, limits, check_depth=not large)
    report.issues.extend(parsed.issues)
    if parsed.root is None:
        return report
    if large:
        return _validate_large(parsed.root, registry, today, report, limits, scope)
    return validate_root(parsed.root, registry, today=today, run_rules=run_rules, report=report, scope=scope)


def _validate_large(
    root: etree._Element, registry: SchemaRegistry, today: date | None, report: Report,
    limits: ParseLimits | None, scope: dict | None,
) -> Report:
    """validate_root of a large tree whose depth is not checked yet: a declaration's prestatie rows
    are read (into the rules' cache) while a thread checks its depth and then its schema. The
    outcome is validate_bytes' own: a tree too deep is refused with that issue alone."""
    found = detect(root, registry)  # (reads the root and its Header only: safe at any depth)
    compiled = None
    if found.mtype is not None and found.mtype.number in _ROWS_READ:
        try:
            compiled = registry.schema(found.mtype)
        except (KeyError, SchemaDirError):
            pass  # validate_root raises it, after the depth check (as without this path)
    validating = threading.Event()

    def check() -> tuple[Issue | None, list[Issue] | None]:
        deep = depth_issue(root, limits)
        if deep or compiled is None:  # (no schema here: validate_root validates, or says why not)
            return deep, None
        validating.set()
        return None, validate_tree(root, compiled)

    def schema_failed() -> bool:
        # lxml fills the schema's error log as libxml2 reports, each report taking the GIL from
        # the reading thread: with thousands of errors the rows (wanted only on a valid tree) cost
        # more than they save, so the first error ends the read. (Seen before this tree's own
        # validation cleared the log, an earlier message's errors end it too: rows then read later.)
        return validating.is_set() and len(compiled.schema.error_log) > 0

    if compiled is None:
        (deep, xsd_issues), rows = check(), None
    else:
        (deep, xsd_issues), rows = beside(check, lambda: _rows_or_none(root, schema_failed))
    if deep:
        report.issues.append(deep)
        return report
    if rows is not None and not xsd_issues:
        report.rule_cache["prestatie_rows"] = rows
    return validate_root(root, registry, today=today, report=report, detected=found, scope=scope,
                         xsd_issues=xsd_issues)


def _rows_or_none(root: etree._Element, stop: Callable[[], bool]) -> list | None:
    """prestatie_rows of a tree not validated yet; None when it does not read or `stop` ended it
    (the rules then read it themselves, after the schema passed, and meet whatever it was)."""
    try:
        return prestatie_rows(root, stop=stop)
    except Exception:  # RowsStopped among them
        return None


def validate_root(
    root: etree._Element,
    registry: SchemaRegistry | None = None,
    *,
    today: date | None = None,
    run_rules: bool = True,
    report: Report | None = None,
    detected: Detection | None = None,
    scope: dict | None = None,
    xsd_issues: list[Issue] | None = None,
) -> Report:
    """Validate a message already parsed by the hardened parser (the payload of a StUF-GGk
    envelope: gateway.ggk parsed it to check the envelope, so it is not parsed twice).
    `detected`: what gateway.detect.detect(root, registry) told already (the envelope's check).
    `scope`: the level-2 rules' lookups are kept there (run_in_message_rules).
    `xsd_issues`: the tree's validation against the message type's schema, done already."""
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
    if xsd_issues is None:
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
