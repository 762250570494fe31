"""Messages where an official rule fires and where it nearly fires, for every message type.

Bases are the project's coherent sample messages (gateway.samples; retours echo their heen body)
and small random schema-valid documents (testsupport.schema_corpus). A candidate is a base
with one to three mutations aimed at the elements a rule's templates look at (official.rule_names):
a value changed (enumeration values, dates next to the message's other dates, amounts, values
copied from a same-named element), an element dropped, a class duplicated, or a missing optional
element grafted from a full random document. Candidates the official XSD rejects are discarded.
Per (type, rule) the corpus keeps up to `fire` candidates where the official report has the rule
and up to `near` where it does not. Deterministic for a seed.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from gateway import catalog, clock, samples
from testsupport import schema_corpus
from schemas.model import Complex, Element, Schema, message_schema

from . import official

REFERENCE_DAY = dt.date(2026, 3, 16)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^-?\d+$")
_HEEN_OF = {"302": "301", "306": "305", "308": "307", "316": "315", "318": "317", "320": "319"}


@dataclass(frozen=True)
class Case:
    code: str  # JW301 ..
    target: str  # the rule the mutation aimed at, or "base"/"random"
    fires: bool  # the official report has `target`
    xml: bytes
    official: frozenset[official.Pair] = field(default=frozenset(), compare=False)


def local(el: etree._Element) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def name_path(el: etree._Element) -> tuple[str, ...]:
    steps = []
    node = el
    while node is not None:
        steps.append(local(node))
        node = node.getparent()
    return tuple(reversed(steps))


# --- the schema model by element path --------------------------------------------------------


@dataclass
class Model:
    leaves: dict[tuple[str, ...], schema_corpus.Facets]
    order: dict[tuple[str, ...], list[str]]  # complex element path -> child names in order
    names: frozenset[str]


_MODELS: dict[str, Model] = {}


def model(code: str) -> Model:
    if code not in _MODELS:
        schema: Schema = message_schema(code)
        leaves: dict[tuple[str, ...], schema_corpus.Facets] = {}
        order: dict[tuple[str, ...], list[str]] = {}

        def walk(decl: Element, path: tuple[str, ...]) -> None:
            typ = schema.resolve(decl.type)
            if isinstance(typ, Complex):
                order[path] = [c.name for c in typ.children]
                for c in typ.children:
                    walk(c, path + (c.name,))
            else:
                leaves[path] = schema_corpus.facets(schema, typ)

        walk(schema.root, (schema.root.name,))
        names = frozenset(n for p in list(leaves) + list(order) for n in p)
        _MODELS[code] = Model(leaves, order, names)
    return _MODELS[code]


# --- bases ---------------------------------------------------------------------------------


def _parse(raw: bytes) -> etree._Element:
    return etree.fromstring(raw, etree.XMLParser(remove_blank_text=True))


def _sample_bases(code: str) -> list[bytes]:
    mt = catalog.by_code(code)
    if mt.number in _HEEN_OF:
        heen = samples.build(catalog.by_number(mt.standard, _HEEN_OF[mt.number]).code)
        return [samples.retour(heen, echo=True)]
    if mt.number == "325":
        decl = samples.declaration(mt.standard)
        refs = [e.text for e in _parse(decl).iter("{*}ReferentieNummer")]
        return [samples.build(code), samples.build(code, declaratie=decl, rejected={refs[0]: ["0200"]})]
    out = [samples.build(code)]
    if mt.number == "323":
        out.append(samples.declaration(mt.standard, clients={samples.BSNS[3]: [samples.Prestatie(), samples.Prestatie(volume=4)]}))
    return out


def bases(code: str, seed: int, randoms: int) -> list[etree._Element]:
    with clock.fixed(REFERENCE_DAY):
        raws = _sample_bases(code)
    raws += [
        schema_corpus.valid_document(code, seed * 1000 + i, optional=0.5, max_repeat=2) for i in range(randoms)
    ]
    return [_parse(r) for r in raws]


def donor(code: str, seed: int) -> etree._Element:
    """A document with every optional element once: where grafted elements come from."""
    return _parse(schema_corpus.valid_document(code, seed, optional=1.0, max_repeat=1))


# --- mutations -----------------------------------------------------------------------------


def _dates_in(root: etree._Element) -> list[dt.date]:
    out = []
    for el in root.iter():
        t = (el.text or "").strip() if len(el) == 0 else ""
        if _DATE.match(t):
            try:
                out.append(dt.date.fromisoformat(t))
            except ValueError:
                pass
    return out


def _month_end(d: dt.date) -> dt.date:
    nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def _shift_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def _values(el: etree._Element, root: etree._Element, m: Model, rng: random.Random) -> list[str]:
    """Candidate new values for leaf `el`: ones that make comparisons tip either way."""
    path = name_path(el)
    f = m.leaves.get(path)
    current = (el.text or "").strip()
    same = [(o.text or "").strip() for o in root.iter(el.tag) if o is not el and len(o) == 0 and o.text]
    out = list(same)
    if f is not None and f.enumeration:
        out += list(f.enumeration)
    elif f is not None and f.builtin == "xs:date" or _DATE.match(current):
        for d in rng.sample(_dates_in(root), min(6, len(_dates_in(root)))):
            out += [
                (d + dt.timedelta(days=k)).isoformat() for k in (-1, 0, 1)
            ] + [d.replace(day=1).isoformat(), _month_end(d).isoformat(), _shift_years(d, -120).isoformat(),
                 (_shift_years(d, -120) + dt.timedelta(days=1)).isoformat(), (d + dt.timedelta(days=31)).isoformat()]
        out += ["2020-12-31", "2021-01-01", "1900-01-01"]
    elif _INT.match(current):
        n = int(current)
        out += [str(v) for v in (0, n + 1, max(n - 1, 0), n * 2, 1)]
    if f is not None:
        try:
            out.append(schema_corpus.value(f, rng))
        except RuntimeError:
            pass
    return [v for v in out if v != current] or [current]


def _insert_in_order(parent: etree._Element, new: etree._Element, order: list[str]) -> None:
    name = local(new)
    rank = {n: i for i, n in enumerate(order)}
    mine = rank.get(name, len(order))
    for i, c in enumerate(parent):
        if rank.get(local(c), -1) > mine:
            parent.insert(i, new)
            return
    parent.append(new)


def mutate(root: etree._Element, names: frozenset[str], m: Model, give: etree._Element, rng: random.Random) -> str:
    """Apply one mutation aimed at `names`; returns a label (empty when nothing applied)."""
    targets = [el for el in root.iter(etree.Element) if local(el) in names and el is not root]
    op = rng.choice(["value", "value", "value", "copy", "drop", "dup", "graft", "graft"])
    if op == "graft" or not targets:
        wanted = [el for el in give.iter(etree.Element) if local(el) in names and el.getparent() is not None]
        if not wanted:
            return ""
        src = rng.choice(wanted)
        ppath = name_path(src.getparent())
        parents = [p for p in root.iter(src.getparent().tag) if name_path(p) == ppath]
        if not parents or ppath not in m.order:
            return ""
        parent = rng.choice(parents)
        existing = [c for c in parent if c.tag == src.tag]
        if existing and rng.random() < 0.7:
            existing[0].getparent().replace(existing[0], copy.deepcopy(src))
        else:
            _insert_in_order(parent, copy.deepcopy(src), m.order[ppath])
        return f"graft {local(src)}"
    el = rng.choice(targets)
    if op in ("value", "copy"):
        leaves = [el] if len(el) == 0 else [d for d in el.iter(etree.Element) if len(d) == 0]
        leaf = rng.choice(leaves)
        leaf.text = rng.choice(_values(leaf, root, m, rng))
        return f"value {local(leaf)}"
    if op == "drop":
        el.getparent().remove(el)
        return f"drop {local(el)}"
    # dup: a copy of the element or of one of its ancestors, next to it, then perhaps a change in it
    up = el
    for _ in range(rng.randint(0, 3)):
        if up.getparent() is not None and up.getparent().getparent() is not None:
            up = up.getparent()
    twin = copy.deepcopy(up)
    up.addnext(twin)
    if rng.random() < 0.6:
        leaves = [d for d in twin.iter(etree.Element) if len(d) == 0]
        leaf = rng.choice(leaves) if leaves else None
        if leaf is not None:
            leaf.text = rng.choice(_values(leaf, root, m, rng))
    return f"dup {local(up)}"


def _digest(raw: bytes) -> bytes:
    return hashlib.blake2b(raw, digest_size=12).digest()


def cases(code: str, *, fire: int, near: int, tries: int, seed: int = 0, randoms: int = 2) -> Iterator[Case]:
    """The corpus of one message type: bases, then per official rule its firing and near cases."""
    mt = catalog.by_code(code)
    m = model(code)
    base_roots = bases(code, seed, randoms)
    give = donor(code, seed)
    seen: set[bytes] = set()
    for i, b in enumerate(base_roots):
        raw = etree.tostring(b, xml_declaration=True, encoding="UTF-8")
        if official.schema_valid(code, b):
            seen.add(_digest(raw))
            yield Case(code, "base" if i < len(base_roots) - randoms else "random", False, raw,
                       frozenset(official.pairs(b, mt.standard)))
    for rule, names in sorted(official.rule_names(mt.standard).items()):
        spaces = official.rule_namespaces(mt.standard).get(rule)
        if not names & m.names or (spaces and mt.namespace not in spaces):
            continue
        rng = random.Random(f"{code}:{rule}:{seed}")
        kept = {True: 0, False: 0}
        for _ in range(tries):
            if kept[True] >= fire and kept[False] >= near:
                break
            root = copy.deepcopy(rng.choice(base_roots))
            if not any(mutate(root, names, m, give, rng) for _ in range(rng.randint(1, 3))):
                continue
            raw = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            h = _digest(raw)
            if h in seen or not official.schema_valid(code, root):
                continue
            seen.add(h)
            got = frozenset(official.pairs(root, mt.standard))
            fires = any(c == rule for c, _ in got)
            if kept[fires] >= (fire if fires else near):
                continue
            kept[fires] += 1
            yield Case(code, rule, fires, raw, got)


def corpus(codes: list[str] | None = None, **kw) -> Iterator[Case]:
    for code in codes or official.official_codes():
        yield from cases(code, **kw)
