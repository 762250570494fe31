"""Read a bundle's YAML keeping line numbers, so every problem can name its place.

Numbers stay strings: CBS codes (0513), units (04) and categories (01) are codes, and YAML 1.1
would turn an unquoted 0513 into the octal number 331. Pydantic turns the strings that really are
numbers (years, euro amounts) into numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml


class _CodeLoader(yaml.SafeLoader):
    """SafeLoader without the int and float resolvers."""


_CodeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bundle, located in its source."""

    source: str  # file name or "<api>"
    path: str  # YAML path: products[3].tariffs[0].valid_from ("" for the whole document)
    line: int | None  # 1-based
    message: str

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
        if self.path:
            where += f": {self.path}"
        return f"{where}: {self.message}"


class BundleError(ValueError):
    """A bundle was refused; `problems` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def public(self) -> list[dict]:
        """The problems as an API answer shows them (a 422 body)."""
        return [{"source": p.source, "path": p.path, "line": p.line, "message": p.message} for p in self.problems]


@dataclass
class YamlDocument:
    data: Any
    node: yaml.Node | None
    source: str

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The line of the deepest node reachable along `loc` (pydantic error loc or our path)."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else None
        for step in loc:
            if node is None:
                break
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if str(key.value) == str(step):
                        nxt = value
                        # A problem with a key's value points at the key's line.
                        line = key.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                if 0 <= step < len(node.value):
                    nxt = node.value[step]
                    line = nxt.start_mark.line + 1
            if nxt is None:
                break
            node = nxt
        return line

    def problem(self, loc: Sequence[str | int], message: str) -> Problem:
        return Problem(self.source, format_path(loc), self.line_of(loc), message)


def format_path(loc: Sequence[str | int]) -> str:
    out = ""
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += ("." if out else "") + str(step)
    return out


def parse(text: str, source: str) -> YamlDocument:
    """Parse YAML text; a syntax error becomes a located BundleError."""
    try:
        for event in yaml.parse(text, Loader=_CodeLoader):
            # Anchors and aliases are never needed in a bundle and are the way to a YAML bomb.
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                line = event.start_mark.line + 1
                raise BundleError([Problem(source, "", line, "YAML anchors and aliases are not allowed in a bundle")])
        node = yaml.compose(text, Loader=_CodeLoader)
        data = yaml.load(text, Loader=_CodeLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise BundleError([Problem(source, "", line, f"not valid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise BundleError([Problem(source, "", None, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise BundleError([Problem(source, "", 1, "a bundle is a YAML mapping (region, lots, products, ...)")])
    return YamlDocument(data=data, node=node, source=source)
