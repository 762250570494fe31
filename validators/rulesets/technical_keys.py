"""TR101: no duplicate lines (xslt class, level 2, retourcode 0001).

For every class, its logical key combined with the keys of its parent classes is unique within
the message. The keys are the "Sleutelelement" flags of the standard's CD/CS/RS tables. One dict
per class: linear in the size of the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from validators.common import (
    issue,
    key_of,
    path_of,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import children


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


def _walk(
    parent: etree._Element,
    parent_key: tuple,
    spec: KeyedClass,
    seen: dict[int, dict[tuple, etree._Element]],
) -> Iterator[tuple[KeyedClass, etree._Element, etree._Element]]:
    nodes = [parent]
    for step in spec.steps:
        nodes = [c for n in nodes for c in children(n, step)]
    first = seen.setdefault(id(spec), {})
    for el in nodes:
        key = parent_key + key_of(el, spec.key)
        earlier = first.get(key)
        if earlier is None:
            first[key] = el
        else:
            yield spec, el, earlier
        for sub in spec.subclasses:
            yield from _walk(el, key, sub, seen)


@rule(
    "TR101",
    retourcode="0001",
    level="xslt",
    messages=tuple(KEYS),
    summary="No duplicate lines: each class's logical key, with its parents' keys, is unique in the message.",
)
def tr101(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    seen: dict[int, dict[tuple, etree._Element]] = {}
    for spec in KEYS.get(ctx.mtype.number, ()):
        for cls, dup, first in _walk(ctx.root, (), spec, seen):
            yield issue(r, ctx, dup, f"duplicate {cls.name}: same logical key as {path_of(ctx, first)}")
