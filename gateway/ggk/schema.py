"""Our envelope schema (xsd/ggk.xsd, which imports xsd/stuf.xsd), compiled once per process, and
the translation of its findings into envelope errors.

One compiled schema checks all five roots: the two envelopes (koppelvlak namespace) and Fo01, Fo03,
Bv03 (StUF namespace). A finding on a (cross)referentienummer's value (pattern, length) is IB009, on a berichtcode
IB240, on the base64 payload PAYLOAD_BASE64; anything else is ENVELOPE_SCHEMA.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from lxml import etree

from gateway.ggk.errors import GgkError, error

XSD_DIR = Path(__file__).resolve().parent / "xsd"
_PREFIX = re.compile(r"(?<=/)[A-Za-z]+:")
_CLARK = re.compile(r"\{[^}]*\}")
_LONG_VALUE = re.compile(r"'([^']{60})[^']+'")


@functools.cache
def compiled() -> etree.XMLSchema:
    """The envelope schema (our own files: trusted, parsed with lxml's defaults)."""
    return etree.XMLSchema(etree.parse(str(XSD_DIR / "ggk.xsd")))


_XS = "{http://www.w3.org/2001/XMLSchema}"


@functools.cache
def for_reading() -> etree.XMLSchema:
    """The envelope schema with the payload (xmlBestand, tekstBestand) typed as a string: what a
    received envelope is checked with. libxml2 checks a base64Binary character by character, as
    expensive as decoding it, and the reader decodes the payload anyway: `base64_ok` is the same
    rule, applied there (tests/ggk/test_conformance.py proves the pair equal to `compiled`)."""
    tree = etree.parse(str(XSD_DIR / "ggk.xsd"))  # keeps its URL: stuf.xsd is imported relative to it
    for el in tree.iter(f"{_XS}element", f"{_XS}extension"):
        if el.get("type") == "xs:base64Binary":
            el.set("type", "xs:string")
        if el.get("base") == "xs:base64Binary":
            el.set("base", "xs:string")
    return etree.XMLSchema(tree)


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_B64_VALUE = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def base64_ok(text: str) -> bool:
    """libxml2's xs:base64Binary check, which our schema applies to the payload: characters
    outside the alphabet are skipped (whitespace, but also stray ones); after the first '=' only
    '=' may follow, at most two; the data characters must fill whole quanta with the padding, and
    the bits the padding leaves over must be zero."""
    count = pad = 0
    last = -1
    rest = iter(text)
    for ch in rest:
        value = _B64_VALUE.get(ch)
        if value is not None:
            count += 1
            last = value
        elif ch == "=":
            pad = 1
            break
    for ch in rest:
        if ch in _B64_ALPHABET:
            return False
        if ch == "=":
            pad += 1
    if pad == 0:
        return count % 4 == 0
    if pad == 1:
        return count % 4 == 3 and not last & ~0x3C
    if pad == 2:
        return count % 4 == 2 and not last & ~0x30
    return False


def trailing_bits_ok(data: bytes) -> bool:
    """For base64 without whitespace that decoded strictly (alphabet characters, then '='s):
    what libxml2's check demands beyond that decode. Whole quanta (a strict decode lets a
    stray '=' follow a complete one), at most two '=', and the bits the padding leaves over zero."""
    if len(data) % 4 or data.endswith(b"==="):
        return False
    pad = 2 if data.endswith(b"==") else 1 if data.endswith(b"=") else 0
    if pad == 2:
        return not _B64_VALUE[chr(data[-3])] & ~0x30
    if pad == 1:
        return not _B64_VALUE[chr(data[-2])] & ~0x3C
    return True


def _tidy(message: str) -> str:
    """libxml2's text without namespace URIs and with long values cut (a payload can be 33 MB of
    base64; an error text is one line)."""
    return _LONG_VALUE.sub(r"'\1...'", _CLARK.sub("", message)).strip()


def _classify(path: str, message: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if name in ("referentienummer", "crossRefnummer") and "[facet '" in message:
        return "REFERENCE_NOT_UUID4"
    if name == "berichtcode" and ("[facet 'enumeration']" in message or "fixed value" in message):
        return "BERICHTCODE"
    if name in ("xmlBestand", "tekstBestand") and "base64Binary" in message:
        return "PAYLOAD_BASE64"
    return "ENVELOPE_SCHEMA"


def findings(root: etree._Element, schema: etree.XMLSchema | None = None) -> list[GgkError]:
    """Every finding of the schema (ours by default) on `root`, in document order; [] when it conforms."""
    schema = schema or compiled()
    if schema.validate(root):
        return []
    out = []
    for entry in schema.error_log:
        path = _PREFIX.sub("", entry.path or "") or None
        code = _classify(path or "", entry.message)
        text = _tidy(entry.message)
        if code == "REFERENCE_NOT_UUID4":
            text += " (the chain requires a UUID version 4, lower case)"
        out.append(error(code, text, path=path, line=entry.line or None))
    return out
