"""Our engine against the official stylesheet on one message, and the figures over a corpus.

A difference is (message type, side, rule, Locatie): side "missing" when the official report has
the pair and ours does not, "extra" when ours has a pair the official report does not.
Every difference the suite accepts is listed in known_differences.toml with its reason.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gateway import catalog
from validators.validate import validate_bytes

from . import official
from .generator import REFERENCE_DAY, Case

KNOWN_FILE = Path(__file__).with_name("known_differences.toml")


def ours(xml: bytes) -> set[official.Pair]:
    """Our (code, Locatie) pairs: every location of every issue. Schema, parse or detection
    issues count too (the corpus is valid against the official XSD, so each is a difference)."""
    report = validate_bytes(xml, today=REFERENCE_DAY)
    out: set[official.Pair] = set()
    for issue in report.issues:
        if issue.severity != "error":
            continue
        locations = getattr(issue, "locations", None) or [issue.path or ""]
        out.update((issue.rule, loc) for loc in locations)
    return out


@dataclass(frozen=True)
class Difference:
    code: str
    side: str  # "missing" | "extra"
    rule: str
    locatie: str


@dataclass(frozen=True)
class Known:
    rule: str
    side: str
    reason: str
    message: str = "*"
    locatie: str = "*"
    quote: str = ""
    open: bool = False  # a known gap still to close (issue 13), not an accepted difference

    def matches(self, d: Difference) -> bool:
        return (
            self.rule == d.rule
            and self.side in (d.side, "both")
            and _glob(self.message).fullmatch(d.code) is not None
            and _glob(self.locatie).fullmatch(d.locatie) is not None
        )


def _glob(pattern: str) -> re.Pattern:
    return re.compile(re.escape(pattern).replace(r"\*", ".*"))


def known(path: Path = KNOWN_FILE) -> list[Known]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Known(**entry) for entry in data.get("difference", [])]


def explain(d: Difference, entries: list[Known]) -> Known | None:
    return next((k for k in entries if k.matches(d)), None)


@dataclass
class Tally:
    """Counts for recall and precision."""

    agree: int = 0
    official_only: int = 0
    ours_only: int = 0

    @property
    def recall(self) -> float:
        total = self.agree + self.official_only
        return self.agree / total if total else 1.0

    @property
    def precision(self) -> float:
        total = self.agree + self.ours_only
        return self.agree / total if total else 1.0

    def add(self, theirs: set, mine: set) -> None:
        self.agree += len(theirs & mine)
        self.official_only += len(theirs - mine)
        self.ours_only += len(mine - theirs)

    def as_dict(self) -> dict:
        return {
            "agree": self.agree,
            "official_only": self.official_only,
            "ours_only": self.ours_only,
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
        }


@dataclass
class Outcome:
    messages: int = 0
    messages_equal: int = 0
    pairs: Tally = field(default_factory=Tally)
    codes: Tally = field(default_factory=Tally)  # per message, rule codes only
    per_rule: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    per_type: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    differences: list[tuple[Difference, Case]] = field(default_factory=list)

    def add(self, case: Case, mine: set[official.Pair]) -> None:
        theirs = set(case.official)
        self.messages += 1
        self.messages_equal += theirs == mine
        self.pairs.add(theirs, mine)
        self.codes.add({c for c, _ in theirs}, {c for c, _ in mine})
        for rule in {c for c, _ in theirs | mine}:
            self.per_rule[rule].add({p for p in theirs if p[0] == rule}, {p for p in mine if p[0] == rule})
        self.per_type[case.code]["messages"] += 1
        self.per_type[case.code]["equal"] += theirs == mine
        for rule, loc in sorted(theirs - mine):
            self.differences.append((Difference(case.code, "missing", rule, loc), case))
        for rule, loc in sorted(mine - theirs):
            self.differences.append((Difference(case.code, "extra", rule, loc), case))


def run(cases: Iterable[Case]) -> Outcome:
    outcome = Outcome()
    for case in cases:
        outcome.add(case, ours(case.xml))
    return outcome


def standard_of(code: str) -> str:
    return catalog.by_code(code).standard
