"""The building blocks of our message model: simple types, elements, complex types, schemas.

A deliberately small subset of XML Schema: the iStandaarden only use named and anonymous
restrictions of built-in types, and complex types that are one `xs:sequence` of elements.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Union

XS = "http://www.w3.org/2001/XMLSchema"
UNBOUNDED = None  # max_occurs of a repeating element


@dataclass(frozen=True)
class Simple:
    """An `xs:restriction` of `base`: a built-in ("xs:string") or a basisschema type ("LDT_Naam").

    `name` is None for an anonymous (inline) restriction such as the fixed BerichtCode.
    Integer bounds are kept as strings: they are lexical values in the schema.
    """

    name: str | None
    base: str
    pattern: str | None = None
    length: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_inclusive: str | None = None
    max_inclusive: str | None = None
    total_digits: int | None = None
    enumeration: tuple[str, ...] = ()
    doc: str | None = None

    @property
    def is_builtin_base(self) -> bool:
        return self.base.startswith("xs:")


TypeRef = Union[str, Simple, "Complex"]  # str: a named basisschema type (LDT_* / CDT_*)


@dataclass(frozen=True)
class Element:
    """An `xs:element` in a sequence. `max_occurs` None means unbounded."""

    name: str
    type: TypeRef
    min_occurs: int = 1
    max_occurs: int | None = 1
    doc: str | None = None

    @property
    def optional(self) -> bool:
        return self.min_occurs == 0

    @property
    def repeats(self) -> bool:
        return self.max_occurs is None or self.max_occurs > 1


@dataclass(frozen=True)
class Complex:
    """A complex type: one `xs:sequence` of child elements, in order."""

    name: str
    children: tuple[Element, ...]
    doc: str | None = None

    @property
    def is_wrapper(self) -> bool:
        """A list container such as `ToegewezenProducten`: one repeating child and nothing else."""
        return len(self.children) == 1 and self.children[0].repeats

    def child(self, name: str) -> Element:
        for c in self.children:
            if c.name == name:
                return c
        raise KeyError(name)

    def without(self, name: str) -> Complex:
        return replace(self, children=tuple(c for c in self.children if c.name != name))

    def plus(self, *elements: Element) -> Complex:
        return replace(self, children=self.children + tuple(elements))


@dataclass(frozen=True)
class Schema:
    """One XSD file: the basisschema of a standard or one message schema."""

    standard: str  # "ijw" | "iwmo"
    name: str  # "basisschema" | "jw301" | "wmo301"
    file_name: str  # "basisschema.xsd" | "JW301.xsd"
    namespace: str
    prefix: str  # prefix of this schema's own namespace in the file
    appinfo: tuple[tuple[str, str], ...]
    simple_types: tuple[Simple, ...] = ()
    complex_types: tuple[Complex, ...] = ()
    root: Element | None = None  # the global `Bericht` element of a message schema
    imports: tuple[tuple[str, str, str], ...] = ()  # (prefix, namespace, schemaLocation)
    basis: "Schema | None" = field(default=None, compare=False, repr=False)

    def simple(self, name: str) -> Simple:
        """A named simple type of this schema or of the basisschema it imports."""
        for s in self.simple_types:
            if s.name == name:
                return s
        if self.basis is not None:
            return self.basis.simple(name)
        raise KeyError(name)

    def complex(self, name: str) -> Complex:
        for c in self.complex_types:
            if c.name == name:
                return c
        if self.basis is not None:
            return self.basis.complex(name)
        raise KeyError(name)

    def resolve(self, ref: TypeRef) -> Simple | Complex:
        """The type object behind an element's type reference."""
        if isinstance(ref, (Simple, Complex)):
            return ref
        if ref.startswith("CDT_"):
            return self.complex(ref)
        return self.simple(ref)


def local_complex_types(root: Complex) -> tuple[Complex, ...]:
    """The message-local complex types reachable from `root`, depth-first in order of first use."""
    seen: dict[str, Complex] = {}

    def visit(ct: Complex) -> None:
        if ct.name in seen:
            if seen[ct.name] != ct:
                raise ValueError(f"two different local types named {ct.name}")
            return
        seen[ct.name] = ct
        for el in ct.children:
            if isinstance(el.type, Complex):
                visit(el.type)

    visit(root)
    return tuple(seen.values())
