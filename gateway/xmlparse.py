"""Hardened XML parsing: the only way bytes from outside become an lxml tree.

What is refused, before or while parsing, each as an Issue with rule "PARSE" (never an exception):

- documents larger than `max_bytes` (25 MB, the hubs' limit, OP179), checked before parsing;
- empty documents and documents that are not XML at all;
- any DOCTYPE (so no DTD, no internal or external entities, no parameter entities); entity
  expansion and network access are off in the parser as a second line of defence;
- encodings other than UTF-8 (OP192): UTF-16/UTF-32 byte order marks or byte patterns, another
  encoding in the XML declaration, or bytes that are not valid UTF-8 (reported with line/column);
- nesting deeper than `max_depth` elements, checked without recursion after parsing (libxml2
  itself stops at 256 levels because huge_tree stays off);
- malformed XML, with the parser's line and column.

A UTF-8 byte order mark: OP192 says a sent message carries no BOM. XML 1.0 itself allows it and
no technical rule or retourcode covers it, so by default it is a *warning* (the message is still
processed and the sender learns of it); `bom_severity="error"` (env GATEWAY_XML_BOM_SEVERITY)
refuses such messages instead.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from validators.issues import Issue, Severity

MB = 1024 * 1024


def _bom_severity(value: str) -> Literal["error", "warning"]:
    value = value.strip().lower()
    if value not in ("error", "warning"):
        raise ValueError(f"GATEWAY_XML_BOM_SEVERITY must be 'error' or 'warning', not {value!r}")
    return value  # type: ignore[return-value]


def _from_env(name: str, default, convert):  # noqa: ANN001, ANN202
    """A field whose default is read from GATEWAY_XML_<NAME> when the limits are made."""

    def factory():  # noqa: ANN202
        raw = os.environ.get(f"GATEWAY_XML_{name.upper()}")
        return default if raw is None else convert(raw)

    return field(default_factory=factory)


@dataclass(frozen=True)
class ParseLimits:
    """Parser limits, settable from the environment (GATEWAY_XML_MAX_BYTES, ...).

    A plain dataclass, not a pydantic settings class: every `gateway validate` imports this
    module, and pydantic-settings alone would cost a third of the command's start-up."""

    max_bytes: int = _from_env("max_bytes", 25 * MB, int)
    max_depth: int = _from_env("max_depth", 100, int)
    bom_severity: Literal["error", "warning"] = _from_env("bom_severity", "warning", _bom_severity)

    def __post_init__(self) -> None:
        if self.bom_severity not in ("error", "warning"):
            raise ValueError(f"bom_severity must be 'error' or 'warning', not {self.bom_severity!r}")


DEFAULT_LIMITS = ParseLimits()


@dataclass
class ParseResult:
    """The parsed root element, or None when the document was refused; issues either way."""

    root: etree._Element | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.root is not None


_local = threading.local()


def hardened_parser(huge_text: bool = False) -> etree.XMLParser:
    """An lxml parser with DTDs, entity expansion, network and huge trees off (one per thread,
    because lxml parsers must not be shared between threads).

    `huge_text` lifts libxml2's 10 MB limit on a single text node (XML_PARSE_HUGE) and nothing
    else of ours: a StUF envelope carries its whole payload as one base64 text node of up to
    25 MB. DOCTYPEs stay refused, the size and depth limits of `parse` still apply."""
    name = "huge_parser" if huge_text else "parser"
    parser = getattr(_local, name, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            load_dtd=False,
            dtd_validation=False,
            no_network=True,
            huge_tree=huge_text,
            collect_ids=False,
        )
        setattr(_local, name, parser)
    return parser


def _issue(text: str, line: int | None = None, severity: Severity = "error") -> Issue:
    return Issue(rule="PARSE", severity=severity, line=line, text=text)


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n} bytes"


_UTF32_BOMS = (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")
_UTF16_BOMS = (b"\xfe\xff", b"\xff\xfe")
_WIDE_STARTS = {
    b"<\x00?\x00": "UTF-16 (little endian)",
    b"\x00<\x00?": "UTF-16 (big endian)",
    b"<\x00\x00\x00": "UTF-32 (little endian)",
    b"\x00\x00\x00<": "UTF-32 (big endian)",
}
_DECL = re.compile(rb"<\?xml\s[^>]*?\?>")
# XML declarations that _prolog_issue would accept at a glance (lxml and most senders write these).
_UTF8_DECLS = tuple(
    f"<?xml version={q}1.0{q} encoding={q}{e}{q}{end}".encode()
    for q in "'\""
    for e in ("UTF-8", "utf-8")
    for end in ("?>", " standalone='yes'?>" if q == "'" else ' standalone="yes"?>')
)
_FIRST = re.compile(rb"[ \t\n\r\x0b\x0c]*(.)", re.S)  # the first byte that bytes.lstrip() keeps
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of a byte offset."""
    line = raw.count(b"\n", 0, offset) + 1
    column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def _encoding_issue(raw: bytes, plain: bool = False) -> Issue | None:
    """`plain`: _plain_prolog(raw) holds, so the prolog needs no further look."""
    if plain or raw.startswith(_UTF8_DECLS):
        pass  # the declaration nearly every message starts with: no BOM, no other encoding
    else:
        problem = _prolog_issue(raw)
        if problem:
            return problem
    if raw.isascii():  # ASCII is UTF-8; the test is a word-at-a-time scan, decoding is not
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(raw, exc.start)
        return _issue(
            f"Invalid UTF-8 byte 0x{raw[exc.start]:02X} at line {line}, column {column}; "
            "messages must be UTF-8 (OP192)",
            line,
        )
    return None


def _prolog_issue(raw: bytes) -> Issue | None:
    """A byte order mark or wide encoding, a first byte that is not '<', or an XML declaration
    that names another encoding than UTF-8."""
    for bom in _UTF32_BOMS:
        if raw.startswith(bom):
            return _issue("Document is UTF-32 encoded (byte order mark); messages must be UTF-8 (OP192)")
    for bom in _UTF16_BOMS:
        if raw.startswith(bom):
            return _issue("Document is UTF-16 encoded (byte order mark); messages must be UTF-8 (OP192)")
    wide = _WIDE_STARTS.get(raw[:4])
    if wide:
        return _issue(f"Document looks {wide} encoded; messages must be UTF-8 (OP192)")
    first = _FIRST.match(raw)  # not raw.lstrip(): that copies a 50 MB declaration
    if first is None or first.group(1) != b"<":
        return _issue("Not an XML document: it does not start with '<'", 1)
    decl = _DECL.match(raw)
    if decl:
        enc = _ENCODING.search(decl.group(0))
        if enc:
            name = enc.group(1).decode("ascii", "replace")
            if name.strip().lower() not in ("utf-8", "utf8"):
                return _issue(
                    f"XML declaration says encoding '{name}'; messages must be UTF-8 (OP192)", 1
                )
    return None


# One of _UTF8_DECLS, then (after whitespace, as bytes.isspace() has it) a start tag: one match
# instead of a look at each declaration and then at what follows.
_PLAIN = re.compile(
    rb"""<\?xml version=(['"])1\.0\1 encoding=\1(?:UTF|utf)-8\1(?: standalone=\1yes\1)?\?>"""
    rb"[ \t\n\r\x0b\x0c]*<[A-Za-z]"
)


def _plain_prolog(raw: bytes) -> bool:
    """The usual prolog: one of the known XML declarations, then (after whitespace) the root's
    start tag. Such a document has no DOCTYPE: one could only stand between the two."""
    return _PLAIN.match(raw) is not None


def _doctype_issue(raw: bytes) -> Issue | None:
    """Refuse a DOCTYPE in the prolog (the only place one can be), before libxml2 sees it."""
    if _plain_prolog(raw):
        return None
    pos = 0
    n = len(raw)
    while pos < n:
        while pos < n and raw[pos] in b" \t\r\n":
            pos += 1
        if raw.startswith(b"<?", pos):
            end = raw.find(b"?>", pos)
            if end < 0:
                return None  # malformed; the parser reports it with a position
            pos = end + 2
        elif raw.startswith(b"<!--", pos):
            end = raw.find(b"-->", pos)
            if end < 0:
                return None
            pos = end + 3
        elif raw[pos : pos + 9].upper() == b"<!DOCTYPE":
            line, _ = _position(raw, pos)
            return _issue(
                "Document type declarations (DOCTYPE) are not allowed: no DTDs or entities", line
            )
        else:
            return None
    return None


@functools.lru_cache(maxsize=8)
def _too_deep(max_depth: int) -> etree.XPath:
    # `/*/*/...` with max_depth+1 steps selects the elements nested deeper than allowed. libxml2
    # evaluates it level by level in C: about twice as fast as walking the tree from Python,
    # which counts for the 50 MB declarations, and no recursion either way.
    return etree.XPath("(/" + "/".join(["*"] * (max_depth + 1)) + ")[1]")


# A message is about 8 levels deep: one short query proves most documents far within the limit.
_SHALLOW = 16
# Up to this size counting '</' (a scan of the bytes) is cheaper than the XPath query.
_COUNT_BELOW = 64 * 1024


def _depth_issue(root: etree._Element, max_depth: int, raw: bytes | None = None) -> Issue | None:
    """Refuse elements nested deeper than max_depth. `raw`, the parsed (so well-formed) bytes,
    gives a cheaper proof for a short document: of d nested elements the outer d - 1 have content,
    so each ends with an end tag '</', and a document with fewer than max_depth of them cannot
    nest deeper. (A two-byte pattern: the scan skips ahead, where counting '<' reads every byte.)"""
    if raw is not None and len(raw) < _COUNT_BELOW and raw.count(b"</") < max_depth:
        return None
    if max_depth > _SHALLOW and not _too_deep(_SHALLOW)(root):
        return None  # no element on level _SHALLOW + 1, so none deeper either
    found = _too_deep(max_depth)(root)
    if not found:
        return None
    line = found[0].sourceline
    return _issue(f"Elements nested deeper than {max_depth} levels (at line {line})", line)


def depth_issue(root: etree._Element, limits: ParseLimits | None = None) -> Issue | None:
    """The depth limit's refusal of a tree parsed with `parse(..., check_depth=False)`, or None.
    Runs in C with the GIL released (libxml2's XPath), so it can run beside Python work."""
    return _depth_issue(root, (limits or DEFAULT_LIMITS).max_depth)


def _syntax_text(exc: etree.XMLSyntaxError) -> tuple[str, int | None]:
    line, column = exc.position if exc.position else (None, None)
    msg = (exc.msg or str(exc)).strip()
    # lxml appends ", line L, column C"; we say it ourselves.
    msg = re.sub(r",?\s*line \d+, column \d+$", "", msg)
    # libxml2 says "Premature end of data in tag c line 3": the line is where <c> was opened.
    msg = re.sub(r"in tag (\S+) line (\d+)$", r"in tag \1 (opened at line \2)", msg)
    if "Excessive depth" in msg or "nesting depth" in msg.lower():
        return "Elements nested deeper than the parser's hard limit of 256 levels", line
    if "Document is empty" in msg or "Start tag expected" in msg:
        return f"Not an XML document: {msg} (line {line}, column {column})", line
    if line is not None:
        return f"Malformed XML at line {line}, column {column}: {msg}", line
    return f"Malformed XML: {msg}", None


def size_issue(size: int, limits: ParseLimits | None = None) -> Issue | None:
    """The refusal of a document of `size` bytes, or None when it is within the limit (lets a
    caller check a file's size before reading it)."""
    limits = limits or DEFAULT_LIMITS
    if size <= limits.max_bytes:
        return None
    return _issue(f"Document is {_size(size)}; the limit is {_size(limits.max_bytes)} (OP179)")


def parse(
    raw: bytes, limits: ParseLimits | None = None, *, huge_text: bool = False, check_depth: bool = True
) -> ParseResult:
    """Parse message bytes into an lxml root element, or explain why not (`huge_text`: see
    `hardened_parser`; only for StUF envelopes). `check_depth` false leaves the depth limit to the
    caller (`depth_issue`), which must apply it before trusting the tree."""
    limits = limits or DEFAULT_LIMITS
    if type(raw) is not bytes:
        if not isinstance(raw, bytes | bytearray | memoryview):
            return ParseResult(None, [_issue("Message must be given as bytes")])
        raw = bytes(raw)
    if len(raw) > limits.max_bytes:
        return ParseResult(None, [size_issue(len(raw), limits)])
    if not raw or raw.isspace():  # as `not raw.strip()`, without copying the document
        return ParseResult(None, [_issue("Empty document: no XML content")])
    warnings: list[Issue] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        bom = _issue(
            "Document starts with a UTF-8 byte order mark (BOM); OP192 says messages carry none",
            1,
            severity=limits.bom_severity,
        )
        if bom.severity == "error":
            return ParseResult(None, [bom])
        warnings.append(bom)
        raw = raw[3:]
    plain = _plain_prolog(raw)
    if plain and raw.isascii():
        problem = None  # the usual message: a known UTF-8 declaration, no DOCTYPE, ASCII only
    else:
        problem = _encoding_issue(raw, plain) or (None if plain else _doctype_issue(raw))
    if problem:
        return ParseResult(None, warnings + [problem])
    try:
        root = etree.fromstring(raw, hardened_parser(huge_text))
    except etree.XMLSyntaxError as exc:
        text, line = _syntax_text(exc)
        return ParseResult(None, warnings + [_issue(text, line)])
    except (ValueError, etree.LxmlError) as exc:  # defensive: anything else lxml may raise
        return ParseResult(None, warnings + [_issue(f"Unreadable XML: {exc}")])
    if not plain and root.getroottree().docinfo.doctype:  # a plain prolog has none
        return ParseResult(
            None,
            warnings
            + [_issue("Document type declarations (DOCTYPE) are not allowed: no DTDs or entities")],
        )
    deep = _depth_issue(root, limits.max_depth, raw) if check_depth else None
    if deep:
        return ParseResult(None, warnings + [deep])
    return ParseResult(root, warnings)
