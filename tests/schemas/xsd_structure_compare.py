"""Read an XSD file into a comparable structure: every global and inline type with its facets.

Used to compare our generated schemas with the official ones independent of layout, prefixes,
documentation and the order of global definitions.
"""

from __future__ import annotations

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"


def _qname(node: etree._Element, value: str) -> tuple[str | None, str]:
    prefix, _, local = value.rpartition(":")
    return (node.nsmap.get(prefix or None), local)


def _restriction(st: etree._Element) -> tuple:
    r = st.find(f"{XS}restriction")
    if r is None or len(st.findall(f"{XS}restriction")) != 1:
        raise ValueError("unsupported simpleType")
    facets: list[tuple[str, str]] = []
    enums: list[str] = []
    for f in r:
        if not isinstance(f.tag, str) or f.tag == f"{XS}annotation":
            continue
        name = f.tag.removeprefix(XS)
        if name == "enumeration":
            enums.append(f.get("value"))
        else:
            facets.append((name, f.get("value"), f.get("fixed", "false")))
    return ("restriction", _qname(r, r.get("base")), tuple(sorted(facets)), tuple(enums))


def _element(el: etree._Element) -> tuple:
    allowed = {"name", "type", "minOccurs", "maxOccurs"}
    extra = set(el.attrib) - allowed
    if extra:
        raise ValueError(f"unsupported element attributes {extra}")
    inline = el.find(f"{XS}simpleType")
    return (
        el.get("name"),
        _qname(el, el.get("type")) if el.get("type") else None,
        el.get("minOccurs", "1"),
        el.get("maxOccurs", "1"),
        _restriction(inline) if inline is not None else None,
    )


def _complex(ct: etree._Element) -> tuple:
    parts = [c for c in ct if isinstance(c.tag, str) and c.tag != f"{XS}annotation"]
    if len(parts) != 1 or parts[0].tag != f"{XS}sequence" or parts[0].attrib or set(ct.attrib) - {"name"}:
        raise ValueError(f"unsupported complexType {ct.get('name')}")
    return tuple(_element(e) for e in parts[0] if isinstance(e.tag, str) and e.tag != f"{XS}annotation")


def structure(root: etree._Element) -> dict:
    """Everything that affects validation, as plain comparable data."""
    out: dict = {
        "targetNamespace": root.get("targetNamespace"),
        "elementFormDefault": root.get("elementFormDefault"),
        "attributeFormDefault": root.get("attributeFormDefault", "unqualified"),
        "imports": set(),
        "elements": {},
        "simpleTypes": {},
        "complexTypes": {},
        "appinfo": [],
    }
    for node in root:
        if not isinstance(node.tag, str):
            continue
        tag = node.tag.removeprefix(XS)
        if tag == "annotation":
            for info in node.iter(f"{XS}appinfo"):
                out["appinfo"] += [(etree.QName(c).namespace, etree.QName(c).localname, (c.text or "").strip())
                                   for c in info if isinstance(c.tag, str)]
        elif tag == "import":
            out["imports"].add((node.get("namespace"), node.get("schemaLocation").lower()))
        elif tag == "element":
            out["elements"][node.get("name")] = _element(node)
        elif tag == "simpleType":
            out["simpleTypes"][node.get("name")] = _restriction(node)
        elif tag == "complexType":
            out["complexTypes"][node.get("name")] = _complex(node)
        else:
            raise ValueError(f"unsupported top-level {tag}")
    return out
