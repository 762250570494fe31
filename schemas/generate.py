"""Write our XSD files from the message model: `python -m schemas.generate [--check]`.

Output: schemas/ijw-3.2/{basisschema,JW301..JW325}.xsd and schemas/iwmo-3.2/{basisschema,WMO301..WMO325}.xsd,
the file names the official set uses, so the schema registry can load either.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lxml import etree

from gateway import catalog

from .model import Complex, Element, Schema, Simple, basisschema, message_schema
from .model.core import XS

HERE = Path(__file__).resolve().parent

_FACETS = (  # model attribute -> XSD facet, in the order XML Schema lists them
    ("length", "length"),
    ("min_length", "minLength"),
    ("max_length", "maxLength"),
    ("pattern", "pattern"),
    ("total_digits", "totalDigits"),
    ("min_inclusive", "minInclusive"),
    ("max_inclusive", "maxInclusive"),
)


def schema_dir(standard: str, root: Path = HERE) -> Path:
    return root / f"{standard}-{catalog.RELEASE}"


def _xs(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{XS}}}{tag}", {k: v for k, v in attrs.items() if v is not None})


def _doc(parent: etree._Element, text: str | None) -> None:
    if text:
        _xs(_xs(parent, "annotation"), "documentation").text = text


class _Writer:
    def __init__(self, schema: Schema):
        self.schema = schema
        self.basis_prefix = schema.basis.prefix if schema.basis else schema.prefix

    def qname(self, name: str, local: bool) -> str:
        if name.startswith("xs:"):
            return name
        return f"{self.schema.prefix if local else self.basis_prefix}:{name}"

    def restriction(self, parent: etree._Element, st: Simple) -> None:
        r = _xs(parent, "restriction", base=self.qname(st.base, local=False))
        for attr, facet in _FACETS:
            value = getattr(st, attr)
            if value is not None:
                _xs(r, facet, value=str(value))
        for v in st.enumeration:
            _xs(r, "enumeration", value=v)

    def simple_type(self, parent: etree._Element, st: Simple) -> None:
        node = _xs(parent, "simpleType", name=st.name)
        _doc(node, st.doc)
        self.restriction(node, st)

    def element(self, parent: etree._Element, el: Element) -> None:
        attrs: dict[str, str] = {"name": el.name}
        if isinstance(el.type, Complex):
            attrs["type"] = self.qname(el.type.name, local=self.schema.basis is not None)
        elif isinstance(el.type, str):
            attrs["type"] = self.qname(el.type, local=False)
        if el.min_occurs != 1:
            attrs["minOccurs"] = str(el.min_occurs)
        if el.max_occurs != 1:
            attrs["maxOccurs"] = "unbounded" if el.max_occurs is None else str(el.max_occurs)
        node = _xs(parent, "element", **attrs)
        _doc(node, el.doc)
        if isinstance(el.type, Simple):
            self.restriction(_xs(node, "simpleType"), el.type)

    def complex_type(self, parent: etree._Element, ct: Complex) -> None:
        node = _xs(parent, "complexType", name=ct.name)
        _doc(node, ct.doc)
        seq = _xs(node, "sequence")
        for el in ct.children:
            self.element(seq, el)

    def document(self) -> etree._Element:
        s = self.schema
        nsmap = {"xs": XS, s.prefix: s.namespace}
        for prefix, ns, _ in s.imports:
            nsmap[prefix] = ns
        root = etree.Element(
            f"{{{XS}}}schema",
            {"targetNamespace": s.namespace, "elementFormDefault": "qualified"},
            nsmap=nsmap,
        )
        for _, ns, location in s.imports:
            _xs(root, "import", namespace=ns, schemaLocation=location)
        appinfo = _xs(_xs(root, "annotation"), "appinfo")
        info_ns = s.basis.namespace if s.basis else s.namespace  # the versions live in the basis namespace
        for key, value in s.appinfo:
            etree.SubElement(appinfo, f"{{{info_ns}}}{key}").text = value
        if s.root is not None:
            _xs(root, "element", name=s.root.name, type=self.qname(s.root.type.name, local=True))
        for ct in s.complex_types:
            self.complex_type(root, ct)
        for st in s.simple_types:
            self.simple_type(root, st)
        return root


def render(schema: Schema) -> bytes:
    """One schema as XSD bytes (UTF-8, tab-indented, deterministic)."""
    root = _Writer(schema).document()
    etree.indent(root, space="\t")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def all_schemas() -> list[Schema]:
    out: list[Schema] = []
    for standard in catalog.STANDARDS:
        out.append(basisschema(standard))
        out.extend(message_schema(t.code) for t in catalog.ALL if t.standard == standard)
    return out


def generate(root: Path = HERE) -> dict[Path, bytes]:
    """Every file we generate, path -> content."""
    return {schema_dir(s.standard, root) / s.file_name: render(s) for s in all_schemas()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when a committed file differs")
    args = parser.parse_args(argv)
    stale = []
    for path, content in generate().items():
        if path.exists() and path.read_bytes() == content:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    if args.check and stale:
        print("out of date: " + ", ".join(str(p.relative_to(HERE.parent)) for p in stale), file=sys.stderr)
        return 1
    print(f"{len(stale)} file(s) {'stale' if args.check else 'written'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
