"""The subset of XML Schema regular expressions the iStandaarden use: match and generate.

XSD patterns are implicitly anchored, `.` excludes only CR and LF, and `\\s` is exactly
space, tab, CR and LF; `to_python` translates those differences for `re.fullmatch`.
`Generator` produces random strings matching a pattern (groups, alternation, classes with
ranges and negation, `.`, `\\s`, `\\S`, quantifiers `* + ? {n} {n,} {n,m}`).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache

_WS = " \t\n\r"
# Characters offered where a pattern allows "anything except ...": plain, accented, symbols.
_POOL = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " -.,'&<>/()éëèïöüÀÅßçñ€@#_+=:;?!\"\t"
)


@dataclass(frozen=True)
class CharSet:
    ranges: tuple[tuple[str, str], ...]
    negated: bool = False

    def contains(self, ch: str) -> bool:
        inside = any(lo <= ch <= hi for lo, hi in self.ranges)
        return inside != self.negated

    def pick(self, rng: random.Random) -> str:
        ch = self._pick(rng)
        # A raw CR would not survive XML line-end normalisation; LF is an equal choice here.
        return "\n" if ch == "\r" and self.contains("\n") else ch

    def _pick(self, rng: random.Random) -> str:
        if not self.negated:
            lo, hi = rng.choice(self.ranges)
            if rng.random() < 0.8 and lo <= "z" and hi >= "a":
                # prefer ordinary letters over exotic code points of a wide range
                lo2, hi2 = max(lo, "a"), min(hi, "z")
                return chr(rng.randint(ord(lo2), ord(hi2)))
            return chr(rng.randint(ord(lo), ord(hi)))
        return rng.choice([c for c in _POOL if self.contains(c)])


_S = CharSet(tuple((c, c) for c in _WS))
_NOT_S = CharSet(_S.ranges, negated=True)
_DOT = CharSet((("\n", "\n"), ("\r", "\r")), negated=True)
_ESCAPES = {"s": _S, "S": _NOT_S, "d": CharSet((("0", "9"),))}


class _Parser:
    def __init__(self, pattern: str):
        self.p = pattern
        self.i = 0

    def peek(self) -> str | None:
        return self.p[self.i] if self.i < len(self.p) else None

    def take(self) -> str:
        ch = self.p[self.i]
        self.i += 1
        return ch

    def regex(self):
        branches = [self.branch()]
        while self.peek() == "|":
            self.take()
            branches.append(self.branch())
        return ("alt", branches)

    def branch(self):
        pieces = []
        while self.peek() not in (None, "|", ")"):
            pieces.append(self.piece())
        return ("seq", pieces)

    def piece(self):
        atom = self.atom()
        q = self.peek()
        if q == "*":
            self.take()
            return ("rep", atom, 0, None)
        if q == "+":
            self.take()
            return ("rep", atom, 1, None)
        if q == "?":
            self.take()
            return ("rep", atom, 0, 1)
        if q == "{":
            end = self.p.index("}", self.i)
            spec = self.p[self.i + 1 : end]
            self.i = end + 1
            lo, comma, hi = spec.partition(",")
            return ("rep", atom, int(lo), int(hi) if hi else (None if comma else int(lo)))
        return atom

    def atom(self):
        ch = self.take()
        if ch == "(":
            inner = self.regex()
            assert self.take() == ")"
            return inner
        if ch == "[":
            return ("set", self.char_class())
        if ch == ".":
            return ("set", _DOT)
        if ch == "\\":
            esc = self.take()
            if esc in _ESCAPES:
                return ("set", _ESCAPES[esc])
            return ("set", CharSet(((esc, esc),)))
        return ("set", CharSet(((ch, ch),)))

    def char_class(self) -> CharSet:
        negated = self.peek() == "^"
        if negated:
            self.take()
        ranges: list[tuple[str, str]] = []
        while self.peek() != "]":
            ch = self.take()
            if ch == "\\":
                esc = self.take()
                if esc in _ESCAPES:
                    if _ESCAPES[esc].negated:
                        raise ValueError("negated escape inside a class is not supported")
                    ranges.extend(_ESCAPES[esc].ranges)
                    continue
                ch = esc
            if self.peek() == "-" and self.p[self.i + 1] != "]":
                self.take()
                hi = self.take()
                ranges.append((ch, hi))
            else:
                ranges.append((ch, ch))
        self.take()
        return CharSet(tuple(ranges), negated)


@cache
def parse(pattern: str):
    parser = _Parser(pattern)
    tree = parser.regex()
    if parser.i != len(pattern):
        raise ValueError(f"cannot parse pattern {pattern!r}")
    return tree


def generate(pattern: str, rng: random.Random, max_repeat: int = 4) -> str:
    """One random string matching `pattern`; unbounded repeats stop at `max_repeat`."""

    def gen(node) -> str:
        kind = node[0]
        if kind == "alt":
            return gen(rng.choice(node[1]))
        if kind == "seq":
            return "".join(gen(n) for n in node[1])
        if kind == "rep":
            _, inner, lo, hi = node
            top = hi if hi is not None else lo + max_repeat
            return "".join(gen(inner) for _ in range(rng.randint(lo, max(lo, top))))
        return node[1].pick(rng)

    return gen(parse(pattern))


@cache
def to_python(pattern: str) -> re.Pattern[str]:
    """The XSD pattern as a Python regex for `fullmatch`."""
    out = []
    i = 0
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            esc = pattern[i + 1]
            if esc == "s":
                out.append(r" \t\n\r" if in_class else r"[ \t\n\r]")
            elif esc == "S":
                out.append(r"[^ \t\n\r]")
            else:
                out.append("\\" + esc)
            i += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch in "^$" and not in_class:
            ch = "\\" + ch  # no anchors in XSD: they are plain characters
        elif ch == "." and not in_class:
            ch = r"[^\n\r]"
        elif ch == "." and in_class:
            ch = r"\."
        out.append(ch)
        i += 1
    return re.compile("".join(out), re.DOTALL)


def matches(pattern: str, value: str) -> bool:
    return to_python(pattern).fullmatch(value) is not None
