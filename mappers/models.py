"""Typed pydantic models for every message, built at import time from `schemas.model`.

One class per complex type: `model_for("JW301")` is the `Bericht` of a JW301, its fields are the
child elements by their element names (`Header`, `Client`), and so on down the tree. Values keep
their lexical XML form as `str` (a leading zero, a `+` or surrounding whitespace stays as sent),
optional elements are `None` when absent and repeating elements are lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

from gateway import catalog
from schemas.model import Complex, Element, Schema, message_schema


class MessageModel(BaseModel):
    """Base of every generated class; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ClassSpec:
    """How a generated class maps to XML: its complex type and the namespace of its children."""

    schema: Schema
    type: Complex
    child_namespace: str
    classes: dict[str, type[MessageModel]]  # element name -> class, for complex children


SPECS: dict[type[MessageModel], ClassSpec] = {}
_ROOTS: dict[str, type[MessageModel]] = {}
_BY_ROOT: dict[type[MessageModel], str] = {}


# A BSN is personal data: keep it out of reprs (and so out of logs and tracebacks).
_PRIVATE_TYPES = {"LDT_BurgerServicenummer"}


def _field(decl: Element, annotation: Any) -> tuple[Any, Any]:
    repr_ = not (isinstance(decl.type, str) and decl.type in _PRIVATE_TYPES)
    if decl.repeats:
        return (list[annotation], Field(min_length=decl.min_occurs, max_length=decl.max_occurs, repr=repr_))
    if decl.optional:
        return (Optional[annotation], Field(None, repr=repr_))
    return (annotation, Field(..., repr=repr_))


class _Factory:
    def __init__(self, code: str, schema: Schema, basis_cache: dict[str, type[MessageModel]]):
        self.code = code
        self.schema = schema
        self.basis_cache = basis_cache  # CDT_* classes, shared by all messages of a standard
        self.local: dict[str, type[MessageModel]] = {}

    def model(self, decl_type: Complex | str) -> type[MessageModel]:
        if isinstance(decl_type, str):  # a basisschema complex type
            if decl_type not in self.basis_cache:
                ct = self.schema.complex(decl_type)
                std = self.schema.standard.capitalize()
                self.basis_cache[decl_type] = self._build(f"{std}{decl_type}", ct, self.schema.basis.namespace)
            return self.basis_cache[decl_type]
        if decl_type.name not in self.local:
            self.local[decl_type.name] = self._build(f"{self.code}{decl_type.name}", decl_type, self.schema.namespace)
        return self.local[decl_type.name]

    def _build(self, class_name: str, ct: Complex, child_ns: str) -> type[MessageModel]:
        fields = {}
        classes = {}
        for decl in ct.children:
            target = self.schema.resolve(decl.type)
            annotation: Any = str
            if isinstance(target, Complex):
                annotation = classes[decl.name] = self.model(decl.type)
            fields[decl.name] = _field(decl, annotation)
        cls = create_model(class_name, __base__=MessageModel, __doc__=ct.doc or ct.name, **fields)
        SPECS[cls] = ClassSpec(self.schema, ct, child_ns, classes)
        return cls


def _build_all() -> None:
    basis: dict[str, dict[str, type[MessageModel]]] = {s: {} for s in catalog.STANDARDS}
    for mtype in catalog.ALL:
        schema = message_schema(mtype.code)
        factory = _Factory(mtype.code, schema, basis[mtype.standard])
        root = factory.model(schema.root.type)
        root.__name__ = root.__qualname__ = f"{mtype.code}Bericht"
        _ROOTS[mtype.code] = root
        _BY_ROOT[root] = mtype.code


_build_all()


def model_for(code: str) -> type[MessageModel]:
    """The class of a whole message (`Bericht`), e.g. model_for("WMO301")."""
    return _ROOTS[catalog.by_code(code).code]


def code_of(model: MessageModel | type[MessageModel]) -> str:
    """The message type code of a message model instance or class."""
    cls = model if isinstance(model, type) else type(model)
    try:
        return _BY_ROOT[cls]
    except KeyError:
        raise TypeError(f"{cls.__name__} is not a whole message (Bericht) model") from None

