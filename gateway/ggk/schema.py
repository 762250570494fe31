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


def findings(root: etree._Element) -> list[GgkError]:
    """Every finding of the schema on `root`, in document order; [] when it conforms."""
    schema = compiled()
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
