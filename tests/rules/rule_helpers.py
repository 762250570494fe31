"""Helpers for rule tests: take a sample message, change one thing, run one rule.

Tests are named after the rule they cover (`test_tr302_...`, `test_cd041_...`): the rule catalogue
(validators.catalogue) finds the covering test of every rule by that convention.
"""

from __future__ import annotations

import re
from datetime import date

from lxml import etree

from gateway import clock
from gateway.catalog import MessageType, by_namespace
from gateway.samples.xmlbuild import BASIS_PARENTS
from schemas.registry import default_registry
from validators import engine
from validators.issues import Issue
from validators.paths import children, local_name
from validators.xsd import validate_tree

STANDARDS = ("ijw", "iwmo")
_STEP = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


def prefix(standard: str) -> str:
    return "JW" if standard == "ijw" else "WMO"


class Msg:
    """A parsed sample message that a test can change and check."""

    def __init__(self, xml: bytes) -> None:
        self.root = etree.fromstring(xml)
        mtype = by_namespace(etree.QName(self.root).namespace)
        assert mtype is not None, "not a message of our catalogue"
        self.mtype: MessageType = mtype

    # -- finding and changing ------------------------------------------------------------

    def at(self, path: str) -> etree._Element:
        """The element at `path` below the root ("Client/ToegewezenProducten/ToegewezenProduct[2]")."""
        node = self.root
        for step in path.split("/"):
            m = _STEP.match(step)
            assert m, step
            found = children(node, m[1])
            index = int(m[2] or 1)
            assert len(found) >= index, f"{path}: no {step}"
            node = found[index - 1]
        return node

    def set(self, path: str, value: object) -> Msg:
        self.at(path).text = str(value)
        return self

    def drop(self, path: str) -> Msg:
        el = self.at(path)
        el.getparent().remove(el)
        return self

    def new(self, parent: etree._Element, name: str, value: object = None) -> etree._Element:
        """A new element `name` for `parent`, in the namespace the schema gives it (not inserted)."""
        parent_name = local_name(parent)
        ns = self.mtype.basis_namespace if parent_name in BASIS_PARENTS else self.mtype.namespace
        el = etree.Element(f"{{{ns}}}{name}")
        if value is not None:
            el.text = str(value)
        return el

    def add_after(self, path: str, name: str, value: object = None) -> etree._Element:
        """Insert a new sibling `name` right after the element at `path`."""
        anchor = self.at(path)
        el = self.new(anchor.getparent(), name, value)
        anchor.addnext(el)
        return el

    def add_before(self, path: str, name: str, value: object = None) -> etree._Element:
        anchor = self.at(path)
        el = self.new(anchor.getparent(), name, value)
        anchor.addprevious(el)
        return el

    def copy_after(self, path: str) -> etree._Element:
        """Duplicate the element at `path` right after itself; returns the copy."""
        import copy

        anchor = self.at(path)
        dup = copy.deepcopy(anchor)
        anchor.addnext(dup)
        return dup

    def xml(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")

    # -- checking ------------------------------------------------------------------------

    def xsd_issues(self) -> list[Issue]:
        registry = default_registry()
        # Round-trip through bytes so line numbers and namespaces are those a receiver sees.
        root = etree.fromstring(self.xml())
        return validate_tree(root, registry.schema(self.mtype))

    def issues(self, code: str, *, today: date | None = None, schema_valid: bool = True) -> list[Issue]:
        """Issues of rule `code` on this message; with `schema_valid`, first assert the XSD holds,
        so the test proves the rule (not the schema) catches the problem."""
        if schema_valid:
            assert self.xsd_issues() == [], [i.text for i in self.xsd_issues()]
        r = engine.load_all()[code]
        assert r.applies_to(self.mtype), f"{code} does not apply to {self.mtype.code}"
        ctx = engine.RuleContext(root=self.root, mtype=self.mtype, today=today or clock.today())
        return list(r.check(r, ctx))

    def paths(self, code: str, **kw) -> list[str | None]:
        return [i.path for i in self.issues(code, **kw)]

    def locations(self, code: str, **kw) -> list[list[str]]:
        """Every issue's locations (the official report's Locaties of each Fout)."""
        return [i.all_locations for i in self.issues(code, **kw)]
