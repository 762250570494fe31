"""Leaf values: from their XML text to the Python type of the field, and back.

XML Schema collapses whitespace for xs:integer, xs:date and xs:time and allows several spellings of
one value (`+5`, `005`, ` 5 `; `12:00:00.5`). `read` returns the value and, when the text is not
the value's canonical spelling, that text too, so the writer can give back what was received.
An xs:string keeps its text exactly, an enumeration (a code list) must match one code exactly.
"""

from __future__ import annotations

import re
from datetime import date, time
from enum import Enum
from typing import Any

_WS = re.compile(r"[ \t\n\r]+")
_INT = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?")


class LeafError(ValueError):
    """The text is not a value of the field's type."""


def _collapse(text: str) -> str:
    return _WS.sub(" ", text).strip(" ")


def _int(text: str) -> int:
    v = _collapse(text)
    if not _INT.fullmatch(v):
        raise LeafError(f"{text!r} is not an integer")
    return int(v)


def _date(text: str) -> date:
    m = _DATE.fullmatch(_collapse(text))
    if not m:
        raise LeafError(f"{text!r} is not a date without time zone (YYYY-MM-DD)")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise LeafError(f"{text!r} is not a date this gateway can represent: {exc}") from None


def _time(text: str) -> time:
    m = _TIME.fullmatch(_collapse(text))
    if not m:
        raise LeafError(f"{text!r} is not a time without time zone (hh:mm:ss)")
    h, mi, s, frac = int(m[1]), int(m[2]), int(m[3]), (m[4] or "")
    if h == 24 and mi == 0 and s == 0 and not frac.strip("0"):
        return time(0, 0, 0)  # xs:time allows 24:00:00, the same instant as 00:00:00
    try:
        return time(h, mi, s, int(frac[:6].ljust(6, "0")))  # beyond microseconds: the text keeps it
    except ValueError as exc:
        raise LeafError(f"{text!r} is not a valid time: {exc}") from None


def read(kind: Any, text: str) -> tuple[Any, str | None]:
    """(value, lexical form if it is not the canonical spelling of value) for a leaf of `kind`:
    str, int, date, time or an Enum class."""
    if kind is str:
        return text, None
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(text), None
        except ValueError:
            raise LeafError(f"{text!r} is not a code of {kind.__name__}") from None
    value = _int(text) if kind is int else _date(text) if kind is date else _time(text)
    return value, (None if write(value) == text else text)


def write(value: Any) -> str:
    """The canonical lexical form of a leaf value."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, bool):
        raise LeafError("a boolean is not a value of this standard")
    return str(value)


def same(kind: Any, lexical: str, value: Any) -> bool:
    """Whether `lexical` still spells `value` (the field may have been changed since it was read)."""
    try:
        return read(kind, lexical)[0] == value
    except LeafError:
        return False
