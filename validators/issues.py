"""The one shape every finding takes, from the XML parser up to the contract rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Severity = Literal["error", "warning"]
# What the gateway does with a message that has this issue (contract bundles choose per rule).
Action = Literal["reject", "flag", "review"]
_SEVERITIES = frozenset(get_args(Severity))
_ACTIONS = frozenset(get_args(Action))


@dataclass(kw_only=True)
class Issue:
    """A problem found in a message.

    `rule` is "PARSE", "XSD", "DETECT" or an official rule code (TR101, CS139, CD034) or one of
    ours (CR001). `path` is in the official report format
    (`/Bericht/Client/ToegewezenProducten/ToegewezenProduct[2]/Einddatum`). `locations` are all
    the places of the finding as the official report lists them (the Locaties of its Fout: the
    element and the other existing elements the check compared, in document order); `path` is the
    first of them. An issue made with a path only has that one location.

    A plain dataclass: every `gateway validate` and every message creates these, and a pydantic
    model would cost the command a fifth of its start-up and each issue a validation pass.
    """

    rule: str
    severity: Severity = "error"
    path: str | None = None
    locations: list[str] = field(default_factory=list)
    line: int | None = None
    text: str
    # Internal fields, not part of the CLI JSON: where the retourcode goes and which one.
    retourcode: str | None = None
    class_path: str | None = None
    action: Action = "reject"

    def __post_init__(self) -> None:
        if self.severity not in _SEVERITIES:
            raise ValueError(f"severity must be one of {sorted(_SEVERITIES)}, not {self.severity!r}")
        if self.action not in _ACTIONS:
            raise ValueError(f"action must be one of {sorted(_ACTIONS)}, not {self.action!r}")

    def public(self) -> dict:
        """The issue as the CLI's JSON and the API show it."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "locations": self.all_locations,
            "line": self.line,
            "text": self.text,
        }

    @property
    def all_locations(self) -> list[str]:
        return self.locations or ([self.path] if self.path else [])


def has_errors(issues: list[Issue]) -> bool:
    return any(i.severity == "error" for i in issues)
