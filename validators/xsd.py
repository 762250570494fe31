"""Schema validation (control level 1): lxml against the compiled XSD of the message type.

Every lxml error becomes an Issue with rule "XSD", the element path in the official report
format (validators.paths.element_path), the line, and a readable English text rewritten from
libxml2's message. A BSN value is never echoed in a text (it is personal data).
"""

from __future__ import annotations

import re

from lxml import etree

from schemas.registry import CompiledSchema
from validators.issues import Issue
from validators.paths import element_path, local_name

# Elements whose values are personal data: never repeated in an issue text.
PERSONAL = frozenset({"Bsn", "Burgerservicenummer", "BSN"})
MAX_ISSUES = 500

_HEAD = re.compile(r"^Element '(?P<el>[^']*)'(?:, attribute '(?P<attr>[^']*)')?: (?P<rest>.*)$", re.S)
_QNAME = re.compile(r"\{(?P<ns>[^}]*)\}(?P<name>[\w.\-*]+)")
_STEP = re.compile(r"^(?:(?P<prefix>[\w.-]+):)?(?P<name>[\w.-]+|\*)(?:\[(?P<index>\d+)\])?$")
_DESCRIBE = {  # built-in base type -> (what it must be, format hint)
    "date": ("a valid date", "YYYY-MM-DD"),
    "time": ("a valid time", "hh:mm:ss"),
    "dateTime": ("a valid date and time", "YYYY-MM-DDThh:mm:ss"),
    "gYear": ("a valid year", "YYYY"),
    "integer": ("a whole number", ""),
    "int": ("a whole number", ""),
    "long": ("a whole number", ""),
    "short": ("a whole number", ""),
    "nonNegativeInteger": ("a whole number of 0 or more", ""),
    "positiveInteger": ("a whole number of 1 or more", ""),
    "decimal": ("a number", ""),
    "boolean": ("true or false", ""),
    "string": ("valid text", ""),
}


def _short_ns(ns: str) -> str:
    """http://www.istandaarden.nl/ijw/3_2/basisschema/schema -> basisschema."""
    parts = [p for p in ns.split("/") if p]
    return parts[-2] if len(parts) >= 2 and parts[-1] == "schema" else ns


def _names(text: str) -> list[tuple[str, str]]:
    return [(m["ns"], m["name"]) for m in _QNAME.finditer(text)]


def _plain(text: str) -> str:
    """Drop {namespace} prefixes from qualified names in a libxml2 message."""
    return _QNAME.sub(lambda m: m["name"], text)


class _Quoter:
    """Quotes values for texts, withholding personal data and cutting long values."""

    def __init__(self, element: str) -> None:
        self.personal = element in PERSONAL

    def __call__(self, value: str) -> str:
        if self.personal:
            return f"(value withheld, {len(value)} characters)"
        if len(value) > 60:
            value = value[:57] + "..."
        return f"'{value}'"


def _expected(rest: str) -> list[tuple[str, str]]:
    m = re.search(r"Expected is(?: one of)? \((?P<list>.*)\)", rest, re.S)
    return _names(m["list"]) if m else []


def _rewrite(message: str, type_bases: dict[str, str]) -> str:
    """libxml2's schema message -> one readable English sentence."""
    head = _HEAD.match(message.strip())
    if not head:
        return _plain(message.strip())
    el_ns, el_name = (_names(head["el"]) or [("", head["el"])])[0]
    rest = head["rest"].strip()
    q = _Quoter(el_name)
    if head["attr"]:
        if "is not allowed" in rest:
            return f"Element {el_name}: attribute '{head['attr']}' is not allowed"
        return f"Element {el_name}, attribute '{head['attr']}': {_plain(rest)}"

    if rest.startswith("This element is not expected"):
        expected = _expected(rest)
        if not expected:
            return f"Unexpected element {el_name}: nothing more is allowed here"
        same_name = [ns for ns, name in expected if name == el_name and ns != el_ns]
        if same_name:
            return (
                f"Element {el_name} is in namespace '{_short_ns(el_ns) or '(none)'}' "
                f"but must be in namespace '{_short_ns(same_name[0])}' ({same_name[0]})"
            )
        names = [name for _, name in expected]
        if len(names) == 1:
            return (
                f"Unexpected element {el_name}; expected {names[0]} at this position "
                "(missing or out of order)"
            )
        return (
            f"Unexpected element {el_name}; expected one of {', '.join(names)} at this position "
            "(missing or out of order)"
        )

    if rest.startswith("Missing child element"):
        names = [name for _, name in _expected(rest)]
        if len(names) == 1:
            return f"Missing element {names[0]} in {el_name}"
        if names:
            return f"Missing element in {el_name}: expected one of {', '.join(names)}"
        return f"Element {el_name} is incomplete: a required child element is missing"

    facet = re.match(r"\[facet '(?P<facet>\w+)'\] (?P<text>.*)$", rest, re.S)
    if facet:
        return f"Element {el_name}: " + _facet(facet["facet"], facet["text"], q)

    atomic = re.match(
        r"'(?P<value>.*)' is not a valid value of the (?P<local>local )?(?:atomic|list|union) type"
        r"(?: '(?P<type>[^']*)')?",
        rest,
        re.S,
    )
    if atomic:
        value = atomic["value"]
        tname = atomic["type"] or ""
        local = tname.split("}")[-1].removeprefix("xs:")
        base = local if tname.startswith("xs:") else type_bases.get(local, "")
        fallback = (f"a valid value of type {local}", "") if local else ("valid", "")
        describe, hint = _DESCRIBE.get(base, fallback)
        if not value.strip():
            text = f"Element {el_name}: an empty value is not {describe}"
        else:
            text = f"Element {el_name}: {q(value)} is not {describe}"
        details = [d for d in (local if local not in describe and not tname.startswith("xs:") else "", hint) if d]
        return text + (f" ({', '.join(details)})" if details else "")

    if rest.startswith("Character content other than whitespace is not allowed"):
        return f"Element {el_name} may contain only elements, not text"
    if rest.startswith("Element content is not allowed"):
        return f"Element {el_name} may contain only a value, not child elements"
    if rest.startswith("No matching global declaration"):
        return f"Element {el_name} is not the root element this schema declares"
    return f"Element {el_name}: {_plain(rest)}"


def _facet(facet: str, text: str, q: _Quoter) -> str:
    value = re.search(r"The value '(?P<v>.*?)' ", text, re.S)
    shown = q(value["v"]) if value else "the value"
    if facet == "enumeration":
        allowed = re.findall(r"'([^']*)'", text.split("set", 1)[-1])
        listing = ", ".join(allowed[:30]) + (", ..." if len(allowed) > 30 else "")
        return f"{shown} is not one of the allowed codes ({listing})"
    if facet == "pattern":
        pattern = re.search(r"the pattern '(?P<p>.*)'", text, re.S)
        return f"{shown} does not have the required format" + (
            f" (pattern {pattern['p']})" if pattern else ""
        )
    numbers = re.findall(r"'(\d+)'", text)
    if facet == "maxLength" and len(numbers) >= 2:
        return f"{shown} is {numbers[-2]} characters long; at most {numbers[-1]} are allowed"
    if facet == "minLength" and len(numbers) >= 2:
        return f"{shown} is {numbers[-2]} characters long; at least {numbers[-1]} are required"
    if facet == "length" and len(numbers) >= 2:
        return f"{shown} is {numbers[-2]} characters long; exactly {numbers[-1]} are required"
    bound = re.search(r"\('(?P<b>[^']*)'\)", text)
    if facet in ("maxInclusive", "maxExclusive") and bound:
        word = "at most" if facet == "maxInclusive" else "less than"
        return f"{shown} is too large: it must be {word} {bound['b']}"
    if facet in ("minInclusive", "minExclusive") and bound:
        word = "at least" if facet == "minInclusive" else "more than"
        return f"{shown} is too small: it must be {word} {bound['b']}"
    if facet == "totalDigits" and bound:
        return f"{shown} has too many digits: at most {bound['b']} are allowed"
    if facet == "fractionDigits" and bound:
        return f"{shown} has too many decimals: at most {bound['b']} are allowed"
    return _plain(text.strip())


def element_at(root: etree._Element, xpath: str | None) -> etree._Element | None:
    """The element an lxml error path (`/*/*[2]/ijw:Achternaam`) points at, or None.

    libxml2 writes `*` or `*[n]` (n-th child element of any name) for elements in a default
    namespace and `prefix:name[n]` (n-th child of that name) for prefixed ones.
    """
    if not xpath or not xpath.startswith("/"):
        return None
    steps = xpath[1:].split("/")
    node = root
    for i, step in enumerate(steps):
        m = _STEP.match(step)
        if not m:
            return node if step.startswith(("@", "text()")) and i > 0 else None
        index = int(m["index"] or 1)
        if i == 0:
            if index != 1 or (m["name"] != "*" and m["name"] != local_name(root)):
                return None
            continue
        kids = [c for c in node if isinstance(c.tag, str)]
        if m["name"] != "*":
            kids = [c for c in kids if local_name(c) == m["name"]]
        if index > len(kids):
            return None
        node = kids[index - 1]
    return node


def _locate(root: etree._Element, entry) -> etree._Element | None:  # noqa: ANN001
    el = element_at(root, entry.path)
    if el is not None:
        return el
    # Fallback: the element of that name on the reported line.
    head = _HEAD.match(entry.message or "")
    name = (_names(head["el"]) or [("", head["el"])])[0][1] if head else None
    for candidate in root.iter():
        if candidate.sourceline == entry.line and (name is None or local_name(candidate) == name):
            return candidate
    return None


def _withhold(text: str, el: etree._Element | None) -> str:
    """Last line of defence: a personal value that a message form we did not foresee still
    echoes is cut out."""
    if el is None or local_name(el) not in PERSONAL or not el.text:
        return text
    value = el.text.strip()
    return text.replace(value, "(withheld)") if len(value) >= 4 else text


def validate_tree(root: etree._Element, compiled: CompiledSchema) -> list[Issue]:
    """XSD issues of a parsed message (empty when valid), in document order."""
    with compiled.lock:  # the error log lives on the shared schema object
        if compiled.schema.validate(root):
            return []
        entries = list(compiled.schema.error_log)
    issues: list[Issue] = []
    seen: set[tuple[str | None, str]] = set()
    for entry in entries:
        el = _locate(root, entry)
        path = element_path(el) if el is not None else None
        text = _withhold(_rewrite(entry.message or "", compiled.type_bases), el)
        if (path, text) in seen:
            continue
        seen.add((path, text))
        line = el.sourceline if el is not None and el.sourceline else entry.line or None
        issues.append(Issue(rule="XSD", path=path, line=line, text=text))
        if len(issues) >= MAX_ISSUES:
            rest = len(entries) - MAX_ISSUES
            if rest > 0:
                issues.append(Issue(rule="XSD", text=f"... and up to {rest} more schema errors"))
            break
    return issues
