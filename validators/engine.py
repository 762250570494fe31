"""The rule engine: rules are data (code, retourcode, level, messages) plus one small check function.

A rule module registers its rules with `@rule(...)`; `rules_for()` lists what applies to a message
type and `run()` applies them. Levels follow the standard's control levels (IV032):

- "xslt"        technische regels of the xslt class (level 2, retourcode 0001 in the Header)
- "condition"   condities and constraints CDxxx / CSxxx / RSxxx (level 2, 0001)
- "crossmessage" berichtoverstijgende regels (level 3, the rule's own retourcode on its class)
- "external"    externe-bron rules (level 4: system date, CBS list, product list)
- "contract"    the region's contract rules (our CRxxx codes, mapped to a WJ001 retourcode)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from lxml import etree

from gateway.catalog import MessageType
from validators.issues import Issue, Severity
from validators.paths import PathIndex, element_path

if TYPE_CHECKING:
    from validators.contract_view import ContractLookup
    from validators.state import StateReader

Level = Literal["xslt", "condition", "crossmessage", "external", "contract"]
IN_MESSAGE_LEVELS: tuple[Level, ...] = ("xslt", "condition")
ALL_LEVELS: tuple[Level, ...] = ("xslt", "condition", "crossmessage", "external", "contract")


@dataclass
class RuleContext:
    """What a rule may look at: the parsed message and, for later levels, state and contracts."""

    root: etree._Element
    mtype: MessageType
    today: date
    # Level 3 rules read stored state, contract rules the region's bundles, through interfaces
    # defined here in validators/ (gateway.store and gateway.contracts implement them).
    state: StateReader | None = None
    contracts: ContractLookup | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Check = Callable[["Rule", RuleContext], Iterable[Issue]]


@dataclass(frozen=True)
class Rule:
    code: str  # TR101, CS139, CD034, CR001
    retourcode: str  # WJ001 code a failure yields (0001 for every level-2 rule)
    level: Level
    messages: frozenset[str]  # message numbers: "301", "323", ...
    summary: str  # one line, English
    check: Check = field(compare=False, repr=False)
    standards: frozenset[str] = frozenset({"ijw", "iwmo"})
    severity: Severity = "error"

    def applies_to(self, mtype: MessageType) -> bool:
        return mtype.number in self.messages and mtype.standard in self.standards

    def issue(
        self,
        el: etree._Element | None,
        text: str,
        *,
        also: Iterable[etree._Element | None] = (),
        class_el: etree._Element | None = None,
        severity: Severity | None = None,
        retourcode: str | None = None,
    ) -> Issue:
        """An issue of this rule at element `el` and the other existing elements its check compared
        (`also`: all become `locations`, in document order); `class_el` is the class that carries
        the retourcode. For a rule run, validators.common.issue shares the run's path index."""
        locations = PathIndex().locations([el, *also]) if also else []
        return Issue(
            rule=self.code,
            severity=severity or self.severity,
            path=locations[0] if locations else (element_path(el) if el is not None else None),
            locations=locations,
            line=el.sourceline if el is not None else None,
            text=text,
            retourcode=retourcode or self.retourcode,
            class_path=element_path(class_el) if class_el is not None else None,
        )


class _Registry(dict[str, "Rule"]):
    """The rules by code. Every change bumps `version`, so the prepared plans (`rules_for`) that
    were resolved from an older registry are resolved again (tests add and remove probe rules)."""

    version = 0

    def _changed(self) -> None:
        self.version += 1

    def __setitem__(self, key: str, value: Rule) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed()

    def pop(self, *args):  # noqa: ANN002, ANN201
        try:
            return super().pop(*args)
        finally:
            self._changed()

    def popitem(self) -> tuple[str, Rule]:
        try:
            return super().popitem()
        finally:
            self._changed()

    def setdefault(self, key: str, default: Rule) -> Rule:  # type: ignore[override]
        try:
            return super().setdefault(key, default)
        finally:
            self._changed()

    def update(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().update(*args, **kwargs)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()


REGISTRY: _Registry = _Registry()


def rule(
    code: str,
    *,
    retourcode: str,
    level: Level,
    messages: Iterable[str],
    summary: str,
    standards: Iterable[str] = ("ijw", "iwmo"),
    severity: Severity = "error",
) -> Callable[[Check], Check]:
    """Register a check function as the rule `code`."""

    def register(fn: Check) -> Check:
        if code in REGISTRY:
            raise ValueError(f"rule {code} registered twice")
        REGISTRY[code] = Rule(
            code=code,
            retourcode=retourcode,
            level=level,
            messages=frozenset(messages),
            summary=summary,
            check=fn,
            standards=frozenset(standards),
            severity=severity,
        )
        return fn

    return register


_LOADED: set[str] = set()  # "in-message" and/or "all": the rule modules imported so far


def load(levels: Iterable[Level] = ALL_LEVELS) -> dict[str, Rule]:
    """Import the rule modules `levels` need (for in-message levels only technical_* and
    conditions_*, see validators.rulesets) and return the registry."""
    group = "in-message" if set(levels) <= set(IN_MESSAGE_LEVELS) else "all"
    if group not in _LOADED and "all" not in _LOADED:
        from validators import rulesets

        rulesets.import_modules(rulesets.IN_MESSAGE_MODULES if group == "in-message" else None)
        _LOADED.add(group)
    return REGISTRY


def load_all() -> dict[str, Rule]:
    """Import every rule module so the registry is complete."""
    return load(ALL_LEVELS)


# Prepared rule plans: (standard, message number, levels) -> (registry version, the rules that
# apply, in registry order). Resolved once per message type instead of filtering every rule per
# message; the key holds just what Rule.applies_to reads.
_PLANS: dict[tuple, tuple[int, tuple[Rule, ...]]] = {}


_HASHABLE_LEVELS = (tuple, frozenset)  # level collections usable as a plan key as they are


def plan(mtype: MessageType, levels: Iterable[Level] = ALL_LEVELS) -> tuple[Rule, ...]:
    """The rules of `levels` that apply to `mtype`, resolved once per registry version."""
    if not isinstance(levels, _HASHABLE_LEVELS):
        levels = frozenset(levels)
    key = (mtype.standard, mtype.number, levels)
    found = _PLANS.get(key)
    if found is not None and found[0] == REGISTRY.version:
        return found[1]
    wanted = set(levels)
    registry = load(wanted)  # may import rule modules, which changes the version
    version = REGISTRY.version
    rules = tuple(r for r in registry.values() if r.level in wanted and r.applies_to(mtype))
    if len(_PLANS) > 1_000:  # message types come from the schema registry: few, but stay bounded
        _PLANS.clear()
    _PLANS[key] = (version, rules)
    return rules


def rules_for(mtype: MessageType, levels: Iterable[Level] = ALL_LEVELS) -> list[Rule]:
    return list(plan(mtype, levels))


def run(ctx: RuleContext, levels: Iterable[Level] = IN_MESSAGE_LEVELS) -> list[Issue]:
    """Apply every rule of `levels` that applies to the message; issues in document order per rule."""
    issues: list[Issue] = []
    for r in plan(ctx.mtype, levels):
        issues.extend(r.check(r, ctx))
    return issues
