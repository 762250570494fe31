"""The XML of a stored message as operators see it: pretty-printed, BSNs masked, issue lines marked.

Issues carry the element path in the official report format
(`/Bericht/Client/ToegewezenProducten/ToegewezenProduct[2]/Einddatum`). We pretty-print the
message, compute that same path for every element of the printed tree and so find the line of each
issue. A path we cannot find (an element the sender left out) falls back to its nearest parent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from gateway.observability import mask_bsn
from validators.paths import element_path, local_name

_NINE = re.compile(r"(?<!\d)\d{9}(?!\d)")
# Elements that hold a BSN in iJw / iWmo 3.2 (Client/Bsn; kept as a set for later releases).
BSN_ELEMENTS = frozenset({"Bsn", "BSN", "Burgerservicenummer"})


def elfproef(digits: str) -> bool:
    """The BSN eleven test: sum(d_i * w_i) with weights 9..2 and -1 is divisible by 11."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=True))
    return total % 11 == 0 and digits != "000000000"


def _mask_free_text(text: str) -> str:
    # In free text (comments, references) only what could really be a BSN is masked, so an
    # amount or id with nine digits stays readable.
    return _NINE.sub(lambda m: mask_bsn(m.group(0)) if elfproef(m.group(0)) else m.group(0), text)


@dataclass
class XmlView:
    text: str  # pretty-printed XML (masked unless revealed)
    lines: dict[str, int] = field(default_factory=dict)  # element path -> 1-based line
    error: str | None = None  # why the XML could not be parsed (then `text` is the raw input)

    def line_of(self, path: str | None) -> int | None:
        """The line of `path`, or of its nearest present ancestor."""
        if not path:
            return None
        p = path
        while p:
            if p in self.lines:
                return self.lines[p]
            # drop an index first (/A/B[3] -> /A/B), then the last step
            stripped = re.sub(r"\[\d+\]$", "", p)
            p = stripped if stripped != p else p.rsplit("/", 1)[0]
        return None


def _parser() -> etree.XMLParser:
    # Stored messages passed the hardened intake parser already; still: no entities, no network.
    return etree.XMLParser(
        remove_blank_text=True, resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )


def render(raw: bytes | str, *, reveal: bool = False) -> XmlView:
    """Pretty-print `raw`; mask BSNs unless `reveal`; map every element path to its line."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        text = data.decode("utf-8", "replace")
        return XmlView(text=text if reveal else _mask_free_text(_NINE.sub(lambda m: mask_bsn(m.group(0)), text)),
                       error=f"not well-formed XML: {exc}")
    if not reveal:
        for el in root.iter():
            if not isinstance(el.tag, str):
                if el.text:  # comments, processing instructions
                    el.text = _mask_free_text(el.text)
                continue
            if el.text and el.text.strip():
                if local_name(el) in BSN_ELEMENTS:
                    el.text = _NINE.sub(lambda m: mask_bsn(m.group(0)), el.text)
                else:
                    el.text = _mask_free_text(el.text)
            for name, value in el.attrib.items():
                el.set(name, _mask_free_text(value))
    text = etree.tostring(root, pretty_print=True, encoding="unicode")
    printed = etree.fromstring(text.encode("utf-8"), _parser())
    lines: dict[str, int] = {}
    for el in printed.iter():
        if isinstance(el.tag, str):
            lines.setdefault(element_path(el), el.sourceline)
    return XmlView(text=text, lines=lines)
