"""Helpers for the validation-core tests: sample messages and tree mutations."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from gateway import samples


def mutate(raw: bytes, change: Callable[[etree._Element], object]) -> bytes:
    """Apply `change` to a parsed copy of `raw` and serialise it again (line layout kept)."""
    root = etree.fromstring(raw)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def find(root: etree._Element, path: str) -> etree._Element:
    """Element by a namespace-agnostic path like "Client/ToegewezenProducten/ToegewezenProduct[2]"."""
    node = root
    for step in path.split("/"):
        name, _, index = step.partition("[")
        n = int(index.rstrip("]")) if index else 1
        kids = [c for c in node if isinstance(c.tag, str) and etree.QName(c).localname == name]
        node = kids[n - 1]
    return node


def two_products() -> bytes:
    """A valid JW301 with two ToegewezenProduct siblings (to check path indexes)."""
    return samples.allocation(
        "ijw",
        products=(samples.Allocated(toewijzingnummer=7), samples.Allocated(toewijzingnummer=8)),
    )
