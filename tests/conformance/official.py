"""The reference side of the differential suite: the official XSDs and rule-check stylesheets.

Reference data for tests only (read from ../shared/istandaarden, never shipped): the stylesheet's
report is turned into (code, Locatie) pairs, the unit the suite compares.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import tempfile
from pathlib import Path

from lxml import etree

from gateway import catalog

REPO = Path(__file__).resolve().parents[2]
OFFICIAL = REPO.parent / "shared" / "istandaarden"
_STYLESHEETS = {
    "ijw": OFFICIAL / "ijw-3.2" / "xslt" / "TR-CD-CS-regels-JW-3.2.xsl",
    "iwmo": OFFICIAL / "iwmo-3.2" / "xslt" / "TR-CD-CS-regels-WMO-3.2.xsl",
}
XSL = "{http://www.w3.org/1999/XSL/Transform}"
RULE_CODE = re.compile(r"^(TR|CD|CS)\d{3}$")

Pair = tuple[str, str]  # (rule code, Locatie)


def available() -> bool:
    return all(p.is_file() for p in _STYLESHEETS.values()) and (OFFICIAL / "ijw-3.2" / "xsd").is_dir()


def official_codes() -> list[str]:
    """The 21 message types with a published XSD (the iWmo retours have none)."""
    return [t.code for t in catalog.ALL if (OFFICIAL / f"{t.standard}-3.2" / "xsd" / f"{t.code}.xsd").is_file()]


@functools.lru_cache(maxsize=None)
def _stylesheet_tree(standard: str) -> etree._ElementTree:
    return etree.parse(str(_STYLESHEETS[standard]))


@functools.lru_cache(maxsize=None)
def stylesheet(standard: str) -> etree.XSLT:
    return etree.XSLT(_stylesheet_tree(standard))


def report(root: etree._Element, standard: str) -> list[tuple[str, list[str]]]:
    """The official Fouten: (code, [Locatie, ...]) in report order."""
    out = stylesheet(standard)(root)
    return [
        ((f.findtext("{*}Code") or "").strip(), [(loc.text or "").strip() for loc in f.findall("{*}Locatie")])
        for f in out.getroot().iter("{*}Fout")
    ]


def pairs(root: etree._Element, standard: str) -> set[Pair]:
    return {(code, loc) for code, locs in report(root, standard) for loc in locs}


_NAME = re.compile(r"\bn[0-9a-z]:([A-Z][A-Za-z]+)|local-name\(\)\s*=\s*'([A-Z][A-Za-z]+)'")


_PREFIX = re.compile(r"\b(n[0-9a-z]):")


@functools.lru_cache(maxsize=None)
def rule_namespaces(standard: str) -> dict[str, frozenset[str]]:
    """Per rule code, the message namespaces its templates match on; empty when a template
    matches on the basisschema or local names only (it runs on every message of the standard)."""
    root = _stylesheet_tree(standard).getroot()
    basis = {ns for ns in root.nsmap.values() if ns.endswith("/basisschema/schema")}
    found: dict[str, set[str]] = {}
    for t in root.iter(f"{XSL}template"):
        mode = t.get("mode") or ""
        if not RULE_CODE.match(mode) or t.get("match") == "*":
            continue
        spaces = {root.nsmap.get(p) for p in _PREFIX.findall(t.get("match") or "")} - basis - {None}
        bucket = found.setdefault(mode, set())
        if not spaces:
            bucket.add("*")
        bucket |= spaces
    return {code: frozenset() if "*" in v else frozenset(v) for code, v in found.items()}


@functools.lru_cache(maxsize=None)
def rule_names(standard: str) -> dict[str, frozenset[str]]:
    """Per rule code of the stylesheet, the element names its templates match or select: what a
    mutation must touch to make the rule fire or nearly fire."""
    found: dict[str, set[str]] = {}
    for t in _stylesheet_tree(standard).getroot().iter(f"{XSL}template"):
        codes = set()
        mode = t.get("mode") or ""
        if RULE_CODE.match(mode):
            codes.add(mode)
        for p in t.iter(f"{XSL}with-param"):
            if p.get("name") == "pRule" and p.text and RULE_CODE.match(p.text.strip()):
                codes.add(p.text.strip())
        if not codes or t.get("match") == "*":
            continue
        texts = [t.get("match") or ""]
        texts += [v for e in t.iter() for k, v in e.attrib.items() if k in ("select", "test")]
        names = {a or b for text in texts for a, b in _NAME.findall(text)}
        for code in codes:
            found.setdefault(code, set()).update(names)
    return {code: frozenset(names) for code, names in found.items() if names}


# --- official XSDs (loaded through tests/schemas/official_xsd.py, which fixes their quirks) ---


def _official_xsd_module():
    spec = importlib.util.spec_from_file_location(
        "conformance_official_xsd", REPO / "tests" / "schemas" / "official_xsd.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=None)
def _schema_files() -> dict[str, Path]:
    target = Path(tempfile.mkdtemp(prefix="official-xsd-"))
    return _official_xsd_module().prepare(OFFICIAL, target)


@functools.lru_cache(maxsize=None)
def schema(code: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_schema_files()[code])))


def schema_valid(code: str, root: etree._Element) -> bool:
    return schema(code).validate(root)
