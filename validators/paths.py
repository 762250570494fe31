"""Element paths in the official report format.

`/Bericht/Client/ToegewezenProducten/ToegewezenProduct[2]/Einddatum`: local names only, and an
index only where an element has siblings of the same name.
"""

from __future__ import annotations

from collections import OrderedDict

from lxml import etree


def local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


# Sibling positions per parent, computed in one pass over its children: without this every path
# step rescans all siblings, which is quadratic when a 323 with thousands of prestaties gets an
# issue on each. Small LRU: it holds strong references, lxml elements take no weak ones.
# The cached entry is checked against the parent's first and last child (both O(1) in lxml,
# unlike len(), which walks the children) so an appended or removed sibling re-indexes.
_POSITIONS: OrderedDict[etree._Element, tuple[tuple, dict[etree._Element, int]]] = OrderedDict()
_POSITIONS_MAX = 16


def _positions(parent: etree._Element) -> dict[etree._Element, int]:
    """child -> 1-based index among same-named siblings; 0 for a name that does not repeat."""
    try:
        size: tuple = (parent[0], parent[-1])
    except IndexError:
        size = ()
    hit = _POSITIONS.get(parent)
    if hit is not None and hit[0] == size:
        _POSITIONS.move_to_end(parent)
        return hit[1]
    counts: dict[str, int] = {}
    for c in parent:
        if isinstance(c.tag, str):
            counts[c.tag] = counts.get(c.tag, 0) + 1
    seen: dict[str, int] = {}
    positions: dict[etree._Element, int] = {}
    for c in parent:
        if not isinstance(c.tag, str):
            continue
        if counts[c.tag] > 1:
            seen[c.tag] = seen.get(c.tag, 0) + 1
            positions[c] = seen[c.tag]
        else:
            positions[c] = 0
    _POSITIONS[parent] = (size, positions)
    if len(_POSITIONS) > _POSITIONS_MAX:
        _POSITIONS.popitem(last=False)
    return positions


def _step(el: etree._Element) -> str:
    name = local_name(el)
    parent = el.getparent()
    if parent is None:
        return name
    positions = _positions(parent)
    index = positions.get(el)
    if index is None:
        # The parent changed in the middle since it was indexed: index it again.
        _POSITIONS.pop(parent, None)
        index = _positions(parent).get(el)
    return f"{name}[{index}]" if index else name


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
