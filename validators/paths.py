"""Element paths in the official report format, one mechanism for the whole project.

`/Bericht/Client/ToegewezenProducten/ToegewezenProduct[2]/Einddatum`: local names only, and an
index only where an element has siblings of the same name (the official printXPath).

A path step needs the element's position among its parent's children, so the children of a parent
are numbered in one pass (`_number`) and that numbering is kept:
- `PathIndex` keeps it for one tree whose structure no longer changes (a rule run: the rules share
  one index in RuleContext.extra), with every path it built, so n issues cost O(n + depth);
- `element_path` keeps it for the last few parents in a small LRU that re-numbers a parent whose
  first or last child changed (trees being built or edited: samples, retours).
Either way a message with thousands of same-named siblings is numbered once, not per issue.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterable
from contextvars import ContextVar

from lxml import etree

# child -> (ordinal among the parent's element children, 1-based index among same-named
# siblings or 0 when the name does not repeat)
Numbering = dict[etree._Element, tuple[int, int]]


_LOCAL: dict[str, str] = {}
_WILD: dict[str, str] = {}
_MEMO_MAX = 10_000  # tags and names may come from outside: keep the memos bounded


def local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    name = _LOCAL.get(tag)
    if name is None:
        if len(_LOCAL) > _MEMO_MAX:
            _LOCAL.clear()
        name = _LOCAL[tag] = tag.rsplit("}", 1)[-1]
    return name


def any_ns(name: str) -> str:
    """`{*}name`: the Clark-notation tag that matches `name` in any (or no) namespace, for lxml's
    C-level tag filters (iterchildren, iter, find)."""
    tag = _WILD.get(name)
    if tag is None:
        if len(_WILD) > _MEMO_MAX:
            _WILD.clear()
        tag = _WILD[name] = "{*}" + name
    return tag


def _number(parent: etree._Element) -> Numbering:
    """Number the element children of `parent` in one pass (two over the children list)."""
    kids = [c for c in parent if isinstance(c.tag, str)]
    counts: dict[str, int] = {}
    for c in kids:
        counts[c.tag] = counts.get(c.tag, 0) + 1
    seen: dict[str, int] = {}
    out: Numbering = {}
    for i, c in enumerate(kids):
        if counts[c.tag] > 1:
            seen[c.tag] = seen.get(c.tag, 0) + 1
            out[c] = (i, seen[c.tag])
        else:
            out[c] = (i, 0)
    return out


def _step(name: str, index: int) -> str:
    return f"{name}[{index}]" if index else name


class PathIndex:
    """Paths and document order of the elements of one (no longer changing) tree, built lazily:
    a parent's children are numbered on the first path through it, each path is built once."""

    def __init__(self, root: etree._Element | None = None) -> None:
        self._numbering: dict[etree._Element, Numbering] = {}
        self._paths: dict[etree._Element, str] = {}

    def _numbers(self, el: etree._Element, parent: etree._Element) -> tuple[int, int]:
        numbering = self._numbering.get(parent)
        if numbering is None:
            numbering = self._numbering[parent] = _number(parent)
        return numbering[el]

    def path(self, el: etree._Element) -> str:
        found = self._paths.get(el)
        if found is not None:
            return found
        parent = el.getparent()
        if parent is None:
            found = "/" + local_name(el)
        else:
            found = f"{self.path(parent)}/{_step(local_name(el), self._numbers(el, parent)[1])}"
        self._paths[el] = found
        return found

    def order(self, el: etree._Element) -> tuple[int, ...]:
        """A key that sorts elements in document order (the ordinals along the ancestor chain)."""
        key = []
        node = el
        parent = node.getparent()
        while parent is not None:
            key.append(self._numbers(node, parent)[0])
            node, parent = parent, parent.getparent()
        return tuple(reversed(key))

    def locations(self, elements: Iterable[etree._Element | None]) -> list[str]:
        """The official Locatie list of a finding: every given element that exists, once, in
        document order (the stylesheet's node-set union)."""
        unique = {id(e): e for e in elements if e is not None}
        ordered = sorted(unique.values(), key=self.order)
        return [self.path(e) for e in ordered]


# The numbering of the last few parents for element_path, checked against the parent's first and
# last child (both O(1) in lxml, unlike len(), which walks the children) so that an appended or
# removed sibling re-numbers. Small LRU: it holds strong references, lxml elements take no weak ones.
_RECENT: OrderedDict[etree._Element, tuple[tuple, Numbering]] = OrderedDict()
_RECENT_MAX = 16


def _recent_numbers(el: etree._Element, parent: etree._Element) -> tuple[int, int]:
    try:
        ends: tuple = (parent[0], parent[-1])
    except IndexError:
        ends = ()
    hit = _RECENT.get(parent)
    if hit is not None and hit[0] == ends and el in hit[1]:
        with contextlib.suppress(KeyError):  # another thread's message may have just ended
            _RECENT.move_to_end(parent)
        return hit[1][el]
    numbering = _number(parent)
    _RECENT[parent] = (ends, numbering)
    while len(_RECENT) > _RECENT_MAX:
        try:
            _RECENT.popitem(last=False)
        except KeyError:
            break
    return numbering[el]


def forget_recent() -> None:
    """Let go of the numbering kept for element_path. Called when a message is done: an entry holds
    its parent, and any element keeps its whole document alive, so sixteen entries of sixteen
    messages kept sixteen documents (at month-end, sixteen declarations of 100,000 prestaties)."""
    _RECENT.clear()


def element_path(el: etree._Element) -> str:
    """The report path of `el` in a tree that may still change."""
    steps = []
    node: etree._Element | None = el
    while node is not None:
        parent = node.getparent()
        steps.append(_step(local_name(node), _recent_numbers(node, parent)[1]) if parent is not None else local_name(node))
        node = parent
    return "/" + "/".join(reversed(steps))


# The lookups below filter by tag in lxml's C code (`iterchildren("{*}Name")`): a Python scan that
# reads every child's tag and splits off its namespace costs several times as much.
#
# Within `fixed_trees()` (a rule run: rules only read the tree) the children of a parent are
# grouped by local name on the first lookup below it, and later lookups are dictionary reads: the
# rules of one message ask about the same few parents (Header, Client, a product) dozens of times.
# Only the first _SCOPE_PARENTS parents are grouped, so a 100,000-prestatie declaration does not
# keep a million element proxies alive; lookups below further parents go to lxml as without scope.
_SCOPE: ContextVar[dict | None] = ContextVar("validators.paths scope", default=None)
_SCOPE_PARENTS = 512
_NO_GROUPS: dict[str, list[etree._Element]] = {}


_MEMO = "memo"  # the scope's key for derived values (a key no element equals)
_FULL = "full"  # present once the scope groups no more parents


def new_scope() -> dict:
    """A scope for `fixed_trees(scope)`: what one message's lookups found, to be shared by its
    level-2 rules, the pipeline's reads of it and its later rules (none changes the tree)."""
    return {_MEMO: {}}


class fixed_trees:  # noqa: N801 (used as a context manager, like a function)
    """Within the block no tree that is looked at changes: child lookups are memoised per parent.
    `scope` (`new_scope()`): continue what an earlier block of the same unchanged trees found.
    (A class rather than @contextmanager: it is entered once per message.)"""

    __slots__ = ("_scope", "_token")

    def __init__(self, scope: dict | None = None) -> None:
        self._scope = scope

    def __enter__(self) -> None:
        scope = self._scope
        self._token = _SCOPE.set(scope if scope is not None else new_scope())

    def __exit__(self, *exc: object) -> None:
        _SCOPE.reset(self._token)
        if _RECENT:  # mostly empty: the rules' paths come from their run's PathIndex
            forget_recent()


def scope_memo() -> dict | None:
    """Within `fixed_trees()`, a dict for values derived from the trees (validators.common keeps
    the elements a path reaches there); None outside it."""
    scope = _SCOPE.get()
    return scope[_MEMO] if scope is not None else None


def _groups(scope: dict, el: etree._Element) -> dict[str, list[etree._Element]] | None:
    """The element children of `el` by local name, from the scope or made now (None past the cap)."""
    found = scope.get(el)
    if found is None:
        if len(scope) > _SCOPE_PARENTS:
            scope[_FULL] = True
            return None
        found = scope[el] = _group(el)
    return found


def _group(el: etree._Element) -> dict[str, list[etree._Element]]:
    """The element children of `el` by local name, in document order per name."""
    found: dict[str, list[etree._Element]] = {}
    local = _LOCAL
    # All children, without lxml's element-type filter (it costs a matcher per call); a
    # comment or processing instruction has no name and is left out here. el[:] makes the
    # children's list in one C call: a fifth cheaper per child than stepping lxml's iterator.
    for c in el[:]:
        name = local.get(c.tag)
        if name is None:
            name = local_name(c)
            if not name:
                continue
        same = found.get(name)
        if same is None:
            found[name] = [c]
        else:
            same.append(c)
    return found or _NO_GROUPS


def fields(el: etree._Element | None) -> dict[str, list[etree._Element]]:
    """The element children of `el` by local name: `fields(tp).get("Budget")` is the list of
    Budget children or None. Read it, never change it. Within `fixed_trees()` it is the scope's
    grouping, so rules that read many children of one parent pay one call instead of one per
    child; outside (or past the scope's cap) it is made now."""
    if el is None:
        return _NO_GROUPS
    scope = _SCOPE.get()
    if scope is None:
        return _group(el)
    groups = scope.get(el)  # (the usual case, without the call below)
    return groups if groups is not None else fields_in(scope, el)


def fields_in(scope: dict, el: etree._Element) -> dict[str, list[etree._Element]]:
    """`fields(el)` in `scope` (a `new_scope()`), also without entering it: for a reader that
    looks at the tree before the block that reads it in that scope (the envelope's checks of its
    payload's Header), so the block finds the grouping made already instead of making it again."""
    groups = scope.get(el)
    if groups is not None:
        return groups
    if _FULL not in scope:
        groups = _groups(scope, el)
        if groups is not None:
            return groups
    return _group(el)


def first(groups: dict[str, list[etree._Element]], name: str) -> etree._Element | None:
    """The first child called `name` in a `fields()` grouping, or None."""
    same = groups.get(name)
    return same[0] if same else None


def children(el: etree._Element, name: str) -> list[etree._Element]:
    """Child elements with local name `name` (namespace-agnostic: a message's elements are in its
    own namespace or in the basisschema's)."""
    scope = _SCOPE.get()
    if scope is not None:
        groups = scope.get(el) or (None if _FULL in scope else _groups(scope, el))
        if groups is not None:
            return list(groups.get(name, ()))
    return list(el.iterchildren(_WILD.get(name) or any_ns(name)))


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    if el is None:
        return None
    scope = _SCOPE.get()
    if scope is not None:
        groups = scope.get(el) or (None if _FULL in scope else _groups(scope, el))
        if groups is not None:
            same = groups.get(name)
            return same[0] if same else None
    for c in el.iterchildren(_WILD.get(name) or any_ns(name)):
        return c
    return None


def kids(el: etree._Element, name: str) -> list[etree._Element]:
    """`children`, but within `fixed_trees()` the scope's own list: read it, never change it
    (validators.common.descendants walks paths with it without copying at every step)."""
    scope = _SCOPE.get()
    if scope is not None:
        groups = scope.get(el) or (None if _FULL in scope else _groups(scope, el))
        if groups is not None:
            return groups.get(name) or _NO_KIDS
    return list(el.iterchildren(_WILD.get(name) or any_ns(name)))


_NO_KIDS: list[etree._Element] = []  # shared, never changed


def along(el: etree._Element, names: tuple[str, ...]) -> list[etree._Element]:
    """The elements reached from `el` by following `names`, every step matching all children of
    that name (a new list). Within `fixed_trees()` each step reads the scope's groupings directly:
    the rules follow a few such paths per message."""
    nodes = [el]
    scope = _SCOPE.get()
    for name in names:
        reached: list[etree._Element] = []
        for node in nodes:
            groups = scope.get(node) if scope is not None else None
            if groups is None:
                same = kids(node, name)
            else:
                same = groups.get(name)
            if same:
                reached += same
        if not reached:
            return reached
        nodes = reached
    return nodes if nodes[0] is not el else list(nodes)


def reach(el: etree._Element | None, *names: str) -> etree._Element | None:
    """The element reached by following `names` (first child of each name), or None."""
    node = el
    scope = _SCOPE.get()
    for name in names:  # child(), inlined as in text()
        if node is None:
            return None
        groups = (scope.get(node) or (None if _FULL in scope else _groups(scope, node))) if scope is not None else None
        if groups is not None:
            same = groups.get(name)
            node = same[0] if same else None
        else:
            node = next(node.iterchildren(_WILD.get(name) or any_ns(name)), None)
    return node


def text(el: etree._Element | None, *names: str) -> str | None:
    """Text of the descendant reached by following `names`, or None when absent."""
    node = el
    scope = _SCOPE.get()
    for name in names:  # child(), inlined: the rules read a few hundred values per message
        if node is None:
            return None
        groups = (scope.get(node) or (None if _FULL in scope else _groups(scope, node))) if scope is not None else None
        if groups is not None:
            same = groups.get(name)
            node = same[0] if same else None
        else:
            node = next(node.iterchildren(_WILD.get(name) or any_ns(name)), None)
    if node is None:
        return None
    return node.text
