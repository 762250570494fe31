"""Model-driven message corpus: random valid instances of every message type, and single mutations
that make them invalid in one known way.

Everything is derived from `schemas.model`, so the corpus covers what the schemas allow (every
optional element, repetition, code value and facet boundary), not what a business scenario needs:
use `gateway.samples` for coherent business messages. Deterministic for a given seed.

    valid_document("JW301", seed=1)           -> bytes
    mutants("JW301", seed=1)                  -> [Mutant(kind="pattern", path=..., xml=...), ...]
    corpus(["JW301"], valid=20, seed=1)       -> valid and mutated samples together
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import re
from dataclasses import dataclass
from typing import Iterator

from lxml import etree

from gateway import catalog
from schemas.model import Complex, Element, Schema, Simple, message_schema

from . import xsd_regex

# --- effective facets of a simple type ------------------------------------------------------


@dataclass(frozen=True)
class Facets:
    """All facets that apply to a value, gathered along the restriction chain."""

    builtin: str  # xs:string | xs:integer | xs:date | xs:time
    patterns: tuple[str, ...] = ()  # every step's pattern must match (most derived first)
    min_length: int | None = None
    max_length: int | None = None
    min_inclusive: int | None = None
    max_inclusive: int | None = None
    enumeration: tuple[str, ...] = ()


def facets(schema: Schema, st: Simple) -> Facets:
    chain = [st]
    while not chain[-1].is_builtin_base:
        chain.append(schema.simple(chain[-1].base))

    def tightest(values, pick):
        vals = [v for v in values if v is not None]
        return pick(vals) if vals else None

    return Facets(
        builtin=chain[-1].base,
        patterns=tuple(s.pattern for s in chain if s.pattern is not None),
        min_length=tightest([s.length for s in chain] + [s.min_length for s in chain], max),
        max_length=tightest([s.length for s in chain] + [s.max_length for s in chain], min),
        min_inclusive=tightest([int(s.min_inclusive) if s.min_inclusive else None for s in chain], max),
        max_inclusive=tightest([int(s.max_inclusive) if s.max_inclusive else None for s in chain], min),
        enumeration=next((s.enumeration for s in chain if s.enumeration), ()),
    )


_INTEGER = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?")


def _builtin_ok(builtin: str, v: str) -> bool:
    if builtin == "xs:string":
        return True
    if builtin == "xs:integer":
        return bool(_INTEGER.fullmatch(v))
    if builtin == "xs:date":
        m = _DATE.fullmatch(v)
        if not m or int(m[1]) == 0:
            return False
        try:
            dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return False
        return True
    if builtin == "xs:time":
        m = _TIME.fullmatch(v)
        if not m:
            return False
        h, mi, s = int(m[1]), int(m[2]), int(m[3])
        return (h < 24 and mi < 60 and s < 60) or (h == 24 and mi == 0 and s == 0 and not (m[4] or "").strip(".0"))
    raise ValueError(builtin)


def lexical_ok(f: Facets, lexical: str, *, skip: frozenset[str] = frozenset()) -> bool:
    """Whether `lexical` is a valid value of `f` (ignoring the facet kinds named in `skip`)."""
    v = lexical
    if f.builtin != "xs:string":  # whiteSpace collapse for the non-string built-ins
        v = re.sub(r"[ \t\n\r]+", " ", lexical).strip(" ")
    if not _builtin_ok(f.builtin, v):
        return False
    if "pattern" not in skip and not all(xsd_regex.matches(p, v) for p in f.patterns):
        return False
    if "length" not in skip:
        if f.min_length is not None and len(v) < f.min_length:
            return False
        if f.max_length is not None and len(v) > f.max_length:
            return False
    if "range" not in skip and f.builtin == "xs:integer":
        n = int(v)
        if (f.min_inclusive is not None and n < f.min_inclusive) or (
            f.max_inclusive is not None and n > f.max_inclusive
        ):
            return False
    if "enumeration" not in skip and f.enumeration and v not in f.enumeration:
        return False
    return True


# --- valid values -----------------------------------------------------------------------------

_PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -.,éß€&<>"


def _integer(f: Facets, rng: random.Random) -> str:
    lo = f.min_inclusive if f.min_inclusive is not None else -(10**6)
    hi = f.max_inclusive if f.max_inclusive is not None else 10**6
    n = rng.choice([lo, hi, rng.randint(lo, min(hi, lo + 20)), rng.randint(lo, hi)])
    text = str(n)
    roll = rng.random()
    if roll < 0.1:
        text = "0" + text if n >= 0 else text  # leading zero: same value
    elif roll < 0.15 and n >= 0:
        text = "+" + text
    elif roll < 0.2:
        text = f" {text}\n"  # integers collapse whitespace
    return text


def _date(rng: random.Random) -> str:
    d = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randint(0, 200 * 366))
    return rng.choice([d.isoformat(), d.isoformat(), "2024-02-29", "1900-01-01"])


def _time(rng: random.Random) -> str:
    t = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    return t + rng.choice(["", "", "", ".5", ".123"])


def value(f: Facets, rng: random.Random) -> str:
    """A random valid lexical value for `f`."""
    for _ in range(500):
        if f.enumeration:
            text = rng.choice(f.enumeration)
        elif f.builtin == "xs:integer" and not f.patterns:
            text = _integer(f, rng)
        elif f.builtin == "xs:date":
            text = _date(rng)
        elif f.builtin == "xs:time":
            text = _time(rng)
        elif f.patterns:
            limit = f.max_length or 12
            text = xsd_regex.generate(f.patterns[0], rng, max_repeat=rng.choice([1, 3, limit]))
        else:
            lo, hi = f.min_length or 0, f.max_length or 30
            n = rng.choice([lo, hi, rng.randint(lo, hi)])
            text = "".join(rng.choice(_PLAIN) for _ in range(n))
        if lexical_ok(f, text):
            return text
    raise RuntimeError(f"could not generate a value for {f}")


# --- valid documents ---------------------------------------------------------------------------


@dataclass
class Placed:
    """A generated element and the declaration it was generated from."""

    node: etree._Element
    decl: Element
    type: Simple | Complex
    namespace: str


class _Builder:
    def __init__(self, schema: Schema, rng: random.Random, optional: float, max_repeat: int):
        self.schema = schema
        self.rng = rng
        self.optional = optional
        self.max_repeat = max_repeat
        self.placed: list[Placed] = []

    def element(self, parent: etree._Element | None, decl: Element, ns: str) -> etree._Element:
        tag = f"{{{ns}}}{decl.name}"
        node = etree.Element(tag) if parent is None else etree.SubElement(parent, tag)
        typ = self.schema.resolve(decl.type)
        self.placed.append(Placed(node, decl, typ, ns))
        if isinstance(typ, Complex):
            # Children of a basisschema type live in the basisschema namespace (elementFormDefault).
            child_ns = self.schema.basis.namespace if isinstance(decl.type, str) else self.schema.namespace
            for child in typ.children:
                for _ in range(self.count(child)):
                    self.element(node, child, child_ns)
        else:
            node.text = value(facets(self.schema, typ), self.rng)
        return node

    def count(self, decl: Element) -> int:
        if decl.min_occurs == 0 and self.rng.random() >= self.optional:
            return 0
        lo = max(decl.min_occurs, 1)
        hi = decl.max_occurs if decl.max_occurs is not None else lo + self.max_repeat - 1
        return self.rng.randint(lo, hi)


def _nsmap(schema: Schema, rng: random.Random) -> dict[str | None, str]:
    # Vary the prefix style: valid XML either way, and consumers must not depend on prefixes.
    if rng.random() < 0.5:
        return {None: schema.namespace, schema.standard: schema.basis.namespace}
    return {schema.name: schema.namespace, schema.standard: schema.basis.namespace}


def build(code: str, seed: int = 0, *, optional: float = 0.5, max_repeat: int = 3) -> tuple[etree._Element, list[Placed]]:
    """A valid `Bericht` tree for message type `code` and the declarations behind its elements."""
    schema = message_schema(catalog.by_code(code).code)
    rng = random.Random(f"{code}:{seed}")
    b = _Builder(schema, rng, optional, max_repeat)
    root = b.element(None, schema.root, schema.namespace)
    # Re-create the root with a chosen nsmap (lxml fixes the nsmap at creation time).
    fresh = etree.Element(root.tag, nsmap=_nsmap(schema, rng))
    fresh.extend(list(root))
    b.placed[0].node = fresh
    return fresh, b.placed


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def valid_document(code: str, seed: int = 0, **kw) -> bytes:
    return serialize(build(code, seed, **kw)[0])


def valid_documents(code: str, count: int, seed: int = 0) -> list[bytes]:
    """`count` different valid instances; the first ones are minimal and maximal."""
    docs = [valid_document(code, seed, optional=0.0), valid_document(code, seed, optional=1.0)]
    docs += [valid_document(code, seed * 100_000 + i) for i in range(max(count - 2, 0))]
    return docs[:count]


# --- single mutations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    code: str
    kind: str
    path: str
    detail: str
    xml: bytes


def _path(node: etree._Element) -> list[int]:
    steps = []
    while node.getparent() is not None:
        steps.append(node.getparent().index(node))
        node = node.getparent()
    return steps[::-1]


def _at(root: etree._Element, steps: list[int]) -> etree._Element:
    for i in steps:
        root = root[i]
    return root


def _label(node: etree._Element) -> str:
    names = []
    while node is not None:
        names.append(etree.QName(node).localname)
        node = node.getparent()
    return "/" + "/".join(reversed(names))


_STRING_BREAKERS = ["", " ", "\t", "x", "X", "1", "a b", "-", "0.", "é", "Z", ":", "+1", "1.0", "ab1"]
_DATE_BREAKERS = ["2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "2024-1-01", "24-01-01",
                  "2024-01-01T10:00:00", "01-01-2024", "0000-01-01"]
_TIME_BREAKERS = ["24:30:00", "12:60:00", "12:00", "12:00:61", "noon"]
_INT_BREAKERS = ["1.5", "abc", "1e3", "", "- 1", "0x10"]


def _value_mutations(f: Facets, good: str, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, bad value) pairs, each breaking `f` in a specific way (checked by `lexical_ok`)."""
    out: list[tuple[str, str]] = []

    def add(kind: str, candidates: list[str], only: str | None = None) -> None:
        for c in candidates:
            if lexical_ok(f, c):
                continue
            if only and not lexical_ok(f, c, skip=frozenset({only})):
                continue  # it must break exactly the facet under test
            out.append((kind, c))
            return

    if f.builtin == "xs:date":
        add("bad-date", rng.sample(_DATE_BREAKERS, len(_DATE_BREAKERS)))
        add("timezone", ["2024-01-01Z", "2024-06-30+02:00"], only="pattern")
        return out
    if f.builtin == "xs:time":
        add("bad-time", rng.sample(_TIME_BREAKERS, len(_TIME_BREAKERS)))
        add("timezone", ["12:00:00Z", "08:15:00+01:00"], only="pattern")
        return out
    if f.builtin == "xs:integer":
        add("bad-integer", rng.sample(_INT_BREAKERS, len(_INT_BREAKERS)))
        if f.max_inclusive is not None:
            add("range", [str(f.max_inclusive + 1), str(f.max_inclusive + 1000)], only="range")
        if f.min_inclusive is not None:
            add("range", [str(f.min_inclusive - 1)], only="range")
        if f.patterns:
            add("pattern", [str(n) for n in range(0, 10)] + ["03", "+3"], only="pattern")
        return out
    if f.enumeration:
        wrong = ["ZZ", "99", "00", "0", "9", "X", "A1", good + good][: 8]
        add("enumeration", [w for w in wrong if f.max_length is None or len(w) <= f.max_length], only="enumeration")
        add("enumeration", [" " + good], only="enumeration")  # strings keep whitespace
    if f.patterns:
        n = f.max_length or 8
        cands = _STRING_BREAKERS + [" " * n, "x" * n, "1" * (n - 1), "A" * n, good[:-1] + " ", "\t" * min(n, 3)]
        add("pattern", rng.sample(cands, len(cands)), only="pattern")
    if f.max_length is not None:
        pad = good + (good[-1:] or "1") * (f.max_length + 1)
        add("length", [pad[: f.max_length + 1], "1" * (f.max_length + 1), "x" * (f.max_length + 1)], only="length")
    if f.min_length:
        add("length", [""], only="length")
    add("empty", [""])
    return out


def mutants(code: str, seed: int = 0, per_kind: int = 3) -> list[Mutant]:
    """Single-mutation invalid variants of one valid document (up to `per_kind` sites per kind)."""
    mtype = catalog.by_code(code)
    schema = message_schema(mtype.code)
    root, placed = build(code, seed, optional=0.7)
    rng = random.Random(f"mutants:{code}:{seed}")
    out: list[Mutant] = []

    def emit(kind: str, site: etree._Element, detail: str, change) -> None:
        clone = copy.deepcopy(root)
        target = _at(clone, _path(site))
        label = _label(target)
        change(clone, target)
        out.append(Mutant(mtype.code, kind, label, detail, serialize(clone)))

    def sample(items: list, k: int = per_kind) -> list:
        return rng.sample(items, min(k, len(items)))

    # structure
    required = [
        p for p in placed[1:]
        if p.decl.min_occurs >= 1
        and len([s for s in p.node.getparent() if s.tag == p.node.tag]) == p.decl.min_occurs
    ]
    for p in sample(required):
        emit("missing-required", p.node, p.decl.name, lambda c, t: t.getparent().remove(t))
    complexes = [p for p in placed if isinstance(p.type, Complex)]
    for p in sample(complexes):
        pos = rng.randint(0, len(p.node))
        ns = schema.basis.namespace if isinstance(p.decl.type, str) else schema.namespace

        def unknown(c, t, pos=pos, ns=ns):
            extra = etree.Element(f"{{{ns}}}Onbekend")
            extra.text = "x"
            t.insert(pos, extra)

        emit("unknown-element", p.node, f"Onbekend at {pos}", unknown)
    singles = [p for p in placed[1:] if p.decl.max_occurs == 1]
    for p in sample(singles):
        emit("too-many", p.node, p.decl.name, lambda c, t: t.addnext(copy.deepcopy(t)))
    swappable = [p for p in placed[1:]
                 if p.node.getnext() is not None and p.node.getnext().tag != p.node.tag]
    for p in sample(swappable):
        emit("wrong-order", p.node, f"{p.decl.name} after its next sibling",
             lambda c, t: t.getnext().addnext(t))
    other_ns = {schema.namespace: schema.basis.namespace, schema.basis.namespace: schema.namespace}
    for i, p in enumerate(sample(placed[1:])):
        # The other schema's namespace, or a foreign one. (Not "no namespace": lxml would not write
        # the xmlns="" undeclaration under a default namespace, and the element would slip back.)
        ns = other_ns[p.namespace] if i % 2 == 0 else "urn:example:onbekend"

        def rename(c, t, ns=ns):
            t.tag = etree.QName(ns, etree.QName(t).localname).text

        emit("wrong-namespace", p.node, f"{p.decl.name} in namespace {ns}", rename)
    twin = catalog.by_number("iwmo" if mtype.standard == "ijw" else "ijw", mtype.number)
    emit("root-namespace", root, twin.namespace,
         lambda c, t: setattr(t, "tag", f"{{{twin.namespace}}}Bericht"))
    # Another message's BerichtCode: the header contradicts the namespace (and the twin standard's).
    code_el = placed[0].node[0][0]
    partner = mtype.answered_by or catalog.by_number(mtype.standard, "301")
    for other in (partner, twin):
        emit("berichtcode", code_el, other.berichtcode,
             lambda c, t, v=other.berichtcode: setattr(t, "text", v))

    # values
    by_kind: dict[str, list[tuple[Placed, str]]] = {}
    for p in placed:
        if isinstance(p.type, Simple):
            f = facets(schema, p.type)
            for kind, bad in _value_mutations(f, p.node.text or "", rng):
                by_kind.setdefault(kind, []).append((p, bad))
    for kind, sites in sorted(by_kind.items()):
        for p, bad in sample(sites):
            emit(kind, p.node, repr(bad), lambda c, t, bad=bad: setattr(t, "text", bad))
    return out


@dataclass(frozen=True)
class Sample:
    code: str
    valid: bool
    kind: str  # "valid" or the mutation kind
    path: str
    xml: bytes


def corpus(codes: list[str] | None = None, valid: int = 10, seed: int = 0, per_kind: int = 3) -> Iterator[Sample]:
    """Valid documents and single-mutation invalid ones for every (or the given) message type."""
    for code in codes or [t.code for t in catalog.ALL]:
        for i, xml in enumerate(valid_documents(code, valid, seed)):
            yield Sample(code, True, "valid", f"#{i}", xml)
        for m in mutants(code, seed, per_kind):
            yield Sample(code, False, m.kind, m.path, m.xml)
