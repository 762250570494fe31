"""Message detection: which standard, release and message type a parsed document is.

The root namespace (`http://www.istandaarden.nl/ijw/3_2/jw301/schema`) names standard, release
and message; `Header/BerichtCode` must agree with it. Every way this can fail is its own specific
Issue with rule "DETECT". The releases we hold are those of the schema registry, so dropping a
3.3 set into the registry makes 3.3 messages detectable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from gateway import catalog
from gateway.catalog import MessageType
from validators.issues import Issue
from validators.paths import child, element_path, local_name

if TYPE_CHECKING:
    from schemas.registry import SchemaRegistry

_ISTANDAARDEN = "http://www.istandaarden.nl/"
_NS = re.compile(
    r"^http://www\.istandaarden\.nl/(?P<standard>[^/]+)/(?P<release>[^/]+)/(?P<name>[^/]+)/schema$"
)
_RELEASE = re.compile(r"^\d+(?:_\d+)+$")
_PREFIX = {"ijw": "jw", "iwmo": "wmo"}
_EXAMPLE = catalog.message_namespace("ijw", "301")


@dataclass
class Detection:
    """The detected message type, or None with the issues that say why not."""

    mtype: MessageType | None
    issues: list[Issue] = field(default_factory=list)
    standard: str | None = None  # known even when the message type is not
    code: str | None = None  # "WMO302": known even when its schema is not held

    @property
    def ok(self) -> bool:
        return self.mtype is not None


def _short(value: str, limit: int = 120) -> str:
    """Echo sender-supplied text in a message, but never at length."""
    return value if len(value) <= limit else value[:limit] + "..."


def _fail(
    text: str,
    el: etree._Element | None = None,
    standard: str | None = None,
    code: str | None = None,
) -> Detection:
    issue = Issue(
        rule="DETECT",
        path=element_path(el) if el is not None else None,
        line=el.sourceline if el is not None else None,
        text=text,
    )
    return Detection(None, [issue], standard, code)


def _held(registry: SchemaRegistry | None, standard: str) -> list[str]:
    if registry is None:
        return [catalog.RELEASE]
    return registry.releases(standard)


def _message_type(
    registry: SchemaRegistry | None, standard: str, release: str, number: str
) -> MessageType | None:
    if registry is None:
        try:
            return catalog.by_number(standard, number, release)
        except KeyError:
            return None
    return registry.message_type(standard, release, number)


# What detect() recognised without a registry (the catalogue never changes); with a registry the
# memo is the registry's own (SchemaRegistry.detected).
_DETECTED: dict[tuple[str, str], MessageType] = {}
_MEMO_MAX = 1_000  # keys come from outside (any namespace, any code): only successes are kept


def _berichtcode(root: etree._Element) -> str:
    # The schema puts Header first and BerichtCode first in it: try those before searching
    # (indexing without len() first: that walks the children).
    try:
        header = root[0]
        code_el = header[0] if local_name(header) == "Header" else None
    except IndexError:
        code_el = None
    if code_el is not None and local_name(code_el) == "BerichtCode":
        return _short((code_el.text or "").strip(), 20)
    code_el = child(child(root, "Header"), "BerichtCode")
    return _short((code_el.text or "").strip(), 20) if code_el is not None else ""


def detect(root: etree._Element, registry: SchemaRegistry | None = None) -> Detection:
    """Tell standard, release and message type from the root namespace and BerichtCode.

    Without a registry only the catalogue's release (3.2) counts as held. A (root tag,
    BerichtCode) pair recognised before is answered from a memo: the answer depends on nothing else.
    """
    tag = root.tag if isinstance(root.tag, str) else ""
    memo = _DETECTED if registry is None else getattr(registry, "detected", None)
    if memo is None:
        return _detect(root, tag, registry)
    key = (tag, _berichtcode(root))
    known = memo.get(key)
    if known is not None:
        return Detection(known, [], known.standard, known.code)
    found = _detect(root, tag, registry)
    if found.mtype is not None:
        if len(memo) > _MEMO_MAX:
            memo.clear()
        memo[key] = found.mtype
    return found


def _detect(root: etree._Element, tag: str, registry: SchemaRegistry | None) -> Detection:
    name = local_name(root)
    namespace = _short(tag[1:].split("}", 1)[0]) if tag.startswith("{") else ""
    if name != "Bericht":
        return _fail(f"Root element is '{_short(name)}', expected 'Bericht'", root)
    if not namespace:
        return _fail(
            f"Root element Bericht has no namespace; an iStandaarden message declares one, "
            f"e.g. xmlns=\"{_EXAMPLE}\"",
            root,
        )
    match = _NS.match(namespace)
    if not namespace.startswith(_ISTANDAARDEN) or not match:
        return _fail(
            f"Unknown namespace '{namespace}': not an iStandaarden message namespace "
            f"(expected e.g. {_EXAMPLE})",
            root,
        )
    standard, token, msg_name = match["standard"], match["release"], match["name"]
    if standard not in catalog.STANDARDS:
        return _fail(
            f"Unknown standard '{standard}' in namespace '{namespace}'; this gateway handles "
            f"{' and '.join(catalog.STANDARDS)}",
            root,
        )
    if not _RELEASE.match(token):
        return _fail(f"Malformed release '{token}' in namespace '{namespace}'", root, standard)
    release = token.replace("_", ".")
    held = _held(registry, standard)
    if release not in held:
        holds = ", ".join(held) if held else "none"
        return _fail(
            f"Release {release} of {standard} is not held by this gateway "
            f"(namespace '{namespace}'); releases held for {standard}: {holds}",
            root,
            standard,
        )
    prefix = _PREFIX[standard]
    number = msg_name[len(prefix) :] if msg_name.startswith(prefix) else ""
    try:
        known = catalog.by_number(standard, number, release) if number else None
    except KeyError:
        known = None
    if known is None:
        return _fail(
            f"Unknown message '{msg_name}' in namespace '{namespace}': not a {standard} "
            f"message type (expected e.g. {prefix}301)",
            root,
            standard,
        )
    mtype = _message_type(registry, standard, release, number)
    if mtype is None:
        return _fail(
            f"No schema held for {known.code} ({standard} {release}); "
            "the schema registry does not contain this message type",
            root,
            standard,
            known.code,
        )
    header = child(root, "Header")
    code_el = child(header, "BerichtCode")
    code = _short((code_el.text or "").strip(), 20) if code_el is not None else ""
    if not code:
        where = code_el if code_el is not None else (header if header is not None else root)
        return _fail(
            f"Missing Header/BerichtCode; the namespace says {mtype.code}, "
            f"whose BerichtCode is {mtype.berichtcode}",
            where,
            standard,
            mtype.code,
        )
    if code != mtype.berichtcode:
        other = next(
            (
                t.code
                for t in (registry.types() if registry else catalog.all_types(release))
                if t.standard == standard and t.release == release and t.berichtcode == code
            ),
            None,
        )
        said = f"{code} ({other})" if other else f"{code}, which is no {standard} {release} message"
        return _fail(
            f"Namespace says {mtype.code} (BerichtCode {mtype.berichtcode}) "
            f"but Header/BerichtCode is {said}",
            code_el,
            standard,
            mtype.code,
        )
    return Detection(mtype, [], standard, mtype.code)
