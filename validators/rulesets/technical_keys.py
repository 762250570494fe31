"""TR101: no duplicate lines (xslt class, level 2, retourcode 0001).

No two same-named sibling elements of a class share its logical key (the values as written; an
absent key element is a value of its own), as the official check compares them: siblings only, so
prestaties under different Client elements are never duplicates of each other. The keys are the
"Sleutelelement" flags of the standard's CD/CS/RS tables. One dict per parent: linear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from validators.common import issue, path_index, prestatie_rows
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import any_ns, fields


@dataclass(frozen=True)
class KeyedClass:
    """A class reached from its parent by `steps`, with key element paths and keyed subclasses."""

    name: str
    steps: tuple[str, ...]
    key: tuple[tuple[str, ...], ...]
    subclasses: tuple["KeyedClass", ...] = field(default=())


def _k(*paths: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(p.split("/")) for p in paths)


_PRODUCT = ("Product/Categorie", "Product/Code")
_PRESTATIE = KeyedClass(
    "Prestatie",
    ("Prestaties", "Prestatie"),
    _k("ProductReferentie/ReferentieNummer", "ProductReferentie/VorigReferentieNummer"),
)

# Root classes per message number (their steps start at the root element).
KEYS: dict[str, tuple[KeyedClass, ...]] = {
    "301": (
        KeyedClass(
            "Client",
            ("Client",),
            _k("Bsn"),
            (
                KeyedClass("Relatie", ("Relaties", "Relatie"), _k("Nummer")),
                KeyedClass("Contact", ("Contactgegevens", "Contact"), _k("Soort")),
                KeyedClass(
                    "ToegewezenProduct", ("ToegewezenProducten", "ToegewezenProduct"), _k("ToewijzingNummer")
                ),
            ),
        ),
    ),
    "305": (
        KeyedClass(
            "Client",
            ("Client",),
            _k("Bsn"),
            (
                KeyedClass(
                    "StartProduct",
                    ("StartProducten", "StartProduct"),
                    _k("ToewijzingNummer", *_PRODUCT, "Begindatum"),
                ),
            ),
        ),
    ),
    "307": (
        KeyedClass(
            "Client",
            ("Client",),
            _k("Bsn"),
            (
                KeyedClass(
                    "StopProduct",
                    ("StopProducten", "StopProduct"),
                    _k("ToewijzingNummer", *_PRODUCT, "Begindatum", "RedenBeeindiging", "Einddatum"),
                ),
            ),
        ),
    ),
    "315": (
        KeyedClass(
            "Client",
            ("Client",),
            _k("Bsn"),
            (
                KeyedClass(
                    "AangevraagdProduct",
                    ("AangevraagdeProducten", "AangevraagdProduct"),
                    _k("ReferentieAanbieder"),
                ),
            ),
        ),
    ),
    "317": (
        KeyedClass(
            "Client",
            ("Client",),
            _k("Bsn"),
            (
                KeyedClass(
                    "Verzoek",
                    ("Verzoek",),
                    _k("ReferentieAanbieder"),
                    (
                        KeyedClass(
                            "OngewijzigdProduct",
                            ("OngewijzigdeProducten", "OngewijzigdProduct"),
                            _k("ToewijzingNummer"),
                        ),
                        KeyedClass(
                            "TeWijzigenProduct",
                            ("TeWijzigenProducten", "TeWijzigenProduct"),
                            _k("ToewijzingNummer"),
                        ),
                        KeyedClass(
                            "NieuwProduct",
                            ("NieuweProducten", "NieuwProduct"),
                            _k(*_PRODUCT, "GewensteIngangsdatum"),
                        ),
                    ),
                ),
            ),
        ),
    ),
    "323": (
        KeyedClass(
            "Declaratie",
            ("Declaratie",),
            _k("DeclaratieNummer"),
            (KeyedClass("Client", ("Clienten", "Client"), _k("Bsn"), (_PRESTATIE,)),),
        ),
    ),
    "325": (
        KeyedClass(
            "DeclaratieAntwoord",
            ("DeclaratieAntwoord",),
            _k("DeclaratieNummer"),
            (KeyedClass("Client", ("Clienten", "Client"), _k("Bsn"), (_PRESTATIE,)),),
        ),
    ),
}


def _raw_key(el: etree._Element, parts: tuple[tuple[str, ...], ...]) -> tuple[str | None, ...]:
    """The key values as written (the official check compares text exactly: " 0" is not "0"),
    None where the element is absent."""
    out = []
    for steps in parts:
        node: etree._Element | None = el
        for name in steps:  # child(node, name), matched by lxml in C: no grouping of the
            # children of each of 100,000 prestaties (and their ProductReferentie) is kept
            node = next(node.iterchildren(any_ns(name)), None)
            if node is None:
                break
        out.append(None if node is None else (node.text or ""))
    return tuple(out)


def _prestatie_keys(ctx: RuleContext) -> dict[etree._Element, tuple[str | None, ...]]:
    """The logical key of every Prestatie of a 323/325, from the rows the level-2 rules share
    (validators.common.prestatie_rows: the texts by "Group/Name", as written): `_raw_key` of
    each, without following its elements again."""
    names = tuple("/".join(steps) for steps in _PRESTATIE.key)
    out = {}
    for row in prestatie_rows(ctx.root, ctx.extra):
        values = row.values
        out[row.el] = tuple((values[n] or "") if n in values else None for n in names)
    return out


def _groups(
    parent: etree._Element, spec: KeyedClass, out: list[tuple[KeyedClass, list[etree._Element]]],
    known: dict[etree._Element, tuple[str | None, ...]] | None = None,
) -> None:
    """Per parent element, the same-named siblings of each class grouped by their own key (the
    official check compares siblings only, not with the parents' keys); groups of two or more,
    added to `out`."""
    holders = [parent]
    for step in spec.steps[:-1]:
        reached: list[etree._Element] = []
        for h in holders:
            reached += fields(h).get(step, ())
        holders = reached
    last = spec.steps[-1]
    for holder in holders:
        members = fields(holder).get(last, ())
        if len(members) > 1:  # a single member has no sibling to share its key with
            by_key: dict[tuple, list[etree._Element]] = {}
            keys = known if spec is _PRESTATIE and known is not None else {}
            for el in members:
                key = keys.get(el)
                by_key.setdefault(_raw_key(el, spec.key) if key is None else key, []).append(el)
            out.extend((spec, group) for group in by_key.values() if len(group) > 1)
        if spec.subclasses:
            for el in members:
                for sub in spec.subclasses:
                    _groups(el, sub, out, known)


@rule(
    "TR101",
    retourcode="0001",
    level="xslt",
    messages=tuple(KEYS),
    summary="No duplicate lines: same-named sibling classes do not share their logical key.",
)
def tr101(r: Rule, ctx: RuleContext) -> list[Issue]:
    # One finding per group of duplicates, at every member (the official Fout of the group's last
    # member lists it and all earlier ones), in document order of that last member.
    found: list[tuple[KeyedClass, list[etree._Element]]] = []
    known = _prestatie_keys(ctx) if ctx.mtype.number in ("323", "325") else None
    for spec in KEYS.get(ctx.mtype.number, ()):
        _groups(ctx.root, spec, found, known)
    if not found:
        return []
    index = path_index(ctx)
    found.sort(key=lambda g: index.order(g[1][-1]))
    return [
        issue(r, ctx, group[-1], f"duplicate {cls.name}: {len(group)} with the same logical key", also=group[:-1])
        for cls, group in found
    ]
