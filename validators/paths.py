"""Element paths in the official report format.

`/Bericht/Client/ToegewezenProducten/ToegewezenProduct[2]/Einddatum`: local names only, and an
index only where an element has siblings of the same name.
"""

from __future__ import annotations

from lxml import etree


def local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _step(el: etree._Element) -> str:
    name = local_name(el)
    parent = el.getparent()
    if parent is None:
        return name
    same = [c for c in parent if isinstance(c.tag, str) and c.tag == el.tag]
    if len(same) > 1:
        return f"{name}[{same.index(el) + 1}]"
    return name


def element_path(el: etree._Element) -> str:
    steps = []
    node: etree._Element | None = el
    while node is not None:
        steps.append(_step(node))
        node = node.getparent()
    return "/" + "/".join(reversed(steps))


def children(el: etree._Element, name: str) -> list[etree._Element]:
    """Child elements with local name `name` (namespace-agnostic, as all message elements share one)."""
    return [c for c in el if isinstance(c.tag, str) and local_name(c) == name]


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    if el is None:
        return None
    for c in el:
        if isinstance(c.tag, str) and local_name(c) == name:
            return c
    return None


def text(el: etree._Element | None, *names: str) -> str | None:
    """Text of the descendant reached by following `names`, or None when absent."""
    node = el
    for name in names:
        node = child(node, name)
        if node is None:
            return None
    if node is None or node.text is None:
        return None
    return node.text
