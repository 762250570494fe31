"""XML <-> typed message models: `from_xml` and `to_xml`.

Lossless for schema-valid messages: element order follows the schema, absent optional elements
stay absent and every value keeps its lexical form (a `+5` or `007` read from XML is written back
as received while the field still holds that value). Invalid structure, or a value that is not of
its field's type (a date that is no date, a code not in its code list), raises `MappingError` with
a path in the official report format; it never guesses.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from pydantic import ValidationError

from gateway import catalog, xmlparse

from . import leaf
from .models import SPECS, MessageModel, code_of, model_for


class MappingError(ValueError):
    """The XML does not have the shape of the message type (or is not a message at all)."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse(raw: bytes) -> etree._Element:
    """Through the gateway's hardened parser: no DTDs, entities or network; size limits."""
    result = xmlparse.parse(raw)
    if result.root is None:
        raise MappingError("; ".join(i.text for i in result.issues) or "not an XML document")
    return result.root


def _read(node: etree._Element, cls: type[MessageModel], path: str) -> MessageModel:
    spec = SPECS[cls]
    values: dict[str, Any] = {}
    lexical: dict[Any, str] = {}
    children = [c for c in node if isinstance(c.tag, str)]
    if node.text and node.text.strip():
        raise MappingError(f"{path}: unexpected text")
    decls = list(spec.type.children)
    i = 0
    for child in children:
        qn = etree.QName(child)
        while i < len(decls) and decls[i].name != qn.localname:
            i += 1
        if i == len(decls):
            raise MappingError(f"{path}/{qn.localname}: unexpected element here")
        decl = decls[i]
        if qn.namespace != spec.child_namespace:
            raise MappingError(f"{path}/{qn.localname}: wrong namespace {qn.namespace}")
        child_path = f"{path}/{qn.localname}"
        cls_of_child = spec.classes.get(decl.name)  # complex children have a class, leaves a type
        if cls_of_child is not None:
            value = _read(child, cls_of_child, child_path)
        else:
            if len(child):
                raise MappingError(f"{child_path}: a value was expected, not elements")
            try:
                value, spelled = leaf.read(spec.leaves[decl.name], child.text or "")
            except leaf.LeafError as exc:
                raise MappingError(f"{child_path}: {exc}") from None
            if spelled is not None:
                key = (decl.name, len(values.get(decl.name, ()))) if decl.repeats else decl.name
                lexical[key] = spelled
        if decl.repeats:
            values.setdefault(decl.name, []).append(value)
        elif decl.name in values:
            raise MappingError(f"{child_path}: occurs more than once")
        else:
            values[decl.name] = value
    try:
        model = cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(p) for p in first["loc"] if isinstance(p, str))
        raise MappingError(f"{path}/{where}: {first['msg']}") from None
    if lexical:
        model._lexical = lexical
    return model


def from_xml(source: bytes | str | etree._Element | etree._ElementTree) -> MessageModel:
    """The typed model of a message; the type comes from the root element's namespace."""
    if isinstance(source, str):
        source = source.encode("utf-8")
    if isinstance(source, bytes):
        root = _parse(source)
    elif isinstance(source, etree._ElementTree):
        root = source.getroot()
    else:
        root = source
    qn = etree.QName(root)
    mtype = catalog.by_namespace(qn.namespace or "")
    if mtype is None:
        raise MappingError(f"unknown message namespace {qn.namespace!r}")
    if qn.localname != "Bericht":
        raise MappingError(f"/{qn.localname}: the root element must be Bericht")
    return _read(root, model_for(mtype.code), "/Bericht")


def _write(parent: etree._Element, model: MessageModel) -> None:
    spec = SPECS[type(model)]
    ns = spec.child_namespace
    for decl in spec.type.children:
        value = getattr(model, decl.name)
        if value is None:
            continue
        for i, item in enumerate(value if decl.repeats else [value]):
            child = etree.SubElement(parent, f"{{{ns}}}{decl.name}")
            if isinstance(item, MessageModel):
                _write(child, item)
                continue
            spelled = model._lexical.get((decl.name, i) if decl.repeats else decl.name)
            if spelled is not None and leaf.same(spec.leaves[decl.name], spelled, item):
                child.text = spelled
            else:
                child.text = leaf.write(item)


def to_element(model: MessageModel) -> etree._Element:
    mtype = catalog.by_code(code_of(model))
    root = etree.Element(
        f"{{{mtype.namespace}}}Bericht",
        nsmap={mtype.code.lower(): mtype.namespace, mtype.standard: mtype.basis_namespace},
    )
    _write(root, model)
    return root


def to_xml(model: MessageModel) -> bytes:
    """The message as UTF-8 XML bytes, prefixes `jw301:`/`ijw:` as in the standard's examples."""
    return etree.tostring(to_element(model), xml_declaration=True, encoding="UTF-8")
