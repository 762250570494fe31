"""Matching a value against the elements before it, as the official rule-check compares them
(helpers for TR315, TR316, TR383 and TR416; no rules here).

The official checks are pairwise: every element looks back at the earlier ones with the same
value and each pair becomes a Fout. The report, as a set of Locaties, is then: the later element
and every earlier one it matched. `Earlier` gives the same set in one pass: a dict from value to
the earlier elements; a finding names the first of them and those no finding named yet.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

_XML_SPACE = re.compile(r"[ \t\r\n]+")


def normalize_space(value: str | None) -> str:
    """XPath normalize-space: XML whitespace stripped at both ends and collapsed inside."""
    if not value:
        return ""
    if " " not in value and "\t" not in value and "\n" not in value and "\r" not in value:
        return value  # the common case, without the regex (called per prestatie)
    return _XML_SPACE.sub(" ", value).strip(" \t\r\n")


class Earlier:
    """The elements seen so far, by value: the first of each value, and the ones no finding names yet."""

    def __init__(self) -> None:
        self._first: dict[Hashable, Any] = {}
        self._unnamed: dict[Hashable, list[Any]] = {}

    def add(self, key: Hashable, el: Any, *, named: bool = False) -> None:
        """Remember `el` (an element, or what leads to one) under `key`; `named` when a finding
        already lists it."""
        if key not in self._first:
            self._first[key] = el
        elif not named:
            self._unnamed.setdefault(key, []).append(el)

    def match(self, key: Hashable) -> list[Any]:
        """The first earlier element with `key` and those no finding named yet; empty when there is
        none. Linear over a run: each element is handed out at most once besides the first."""
        first = self._first.get(key)
        if first is None:
            return []
        return [first, *self._unnamed.pop(key, ())]
