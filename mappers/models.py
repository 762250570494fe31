"""The typed classes of every message (generated into mappers/generated/) and how they map to XML.

One class per complex type: `model_for("JW301")` is `mappers.generated.ijw.JW301Bericht`, its
fields are the child elements by their element names (`Header`, `Client`), and so on down the
tree. Leaves are typed: int, `Eurocents` (an int), date, time, an Enum per code list (`LDT_Geslacht`),
or str. Optional elements are `None` when absent and repeating elements are lists.
"""

from __future__ import annotations

import builtins
import types
import typing
from dataclasses import dataclass
from datetime import date, time
from enum import Enum
from importlib import import_module
from typing import Any

from gateway import catalog
from schemas.model import Complex, Schema, message_schema

from .base import MessageModel
from .naming import complex_class, module_name


@dataclass(frozen=True)
class ClassSpec:
    """How a generated class maps to XML: its complex type and the namespace of its children."""

    schema: Schema
    type: Complex
    child_namespace: str
    classes: dict[str, builtins.type[MessageModel]]  # element name -> class, for complex children
    leaves: dict[str, Any]  # element name -> str | int | date | time | an Enum class


SPECS: dict[type[MessageModel], ClassSpec] = {}
_ROOTS: dict[str, type[MessageModel]] = {}
_BY_ROOT: dict[type[MessageModel], str] = {}
_LEAF_TYPES = (str, int, date, time)


def _leaf(annotation: Any) -> Any:
    """The leaf type inside Optional[...] / list[...] / Annotated[...]."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is None:
            break
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        else:  # Optional (Union with None) or list
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if annotation in _LEAF_TYPES or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return annotation
    raise TypeError(f"unexpected leaf type {annotation!r}")


def _register(module: types.ModuleType, code: str, schema: Schema, decl_type: Complex | str) -> type[MessageModel]:
    cls = getattr(module, complex_class(code, schema, decl_type))
    if cls in SPECS:
        return cls
    ct = schema.complex(decl_type) if isinstance(decl_type, str) else decl_type
    ns = schema.basis.namespace if isinstance(decl_type, str) and schema.basis else schema.namespace
    classes: dict[str, type[MessageModel]] = {}
    leaves: dict[str, Any] = {}
    for decl in ct.children:
        target = schema.resolve(decl.type)
        if isinstance(target, Complex):
            ref = decl.type if isinstance(decl.type, str) else target
            classes[decl.name] = _register(module, code, schema, ref)
        else:
            leaves[decl.name] = _leaf(cls.model_fields[decl.name].annotation)
    if set(cls.model_fields) != {d.name for d in ct.children}:
        raise RuntimeError(f"{cls.__name__} is out of date: run python -m mappers.generate")
    SPECS[cls] = ClassSpec(schema, ct, ns, classes, leaves)
    return cls


def _build_all() -> None:
    for mtype in catalog.ALL:
        module = import_module(f"mappers.generated.{module_name(mtype.standard)}")
        schema = message_schema(mtype.code)
        assert schema.root is not None and isinstance(schema.root.type, Complex)
        root = _register(module, mtype.code, schema, schema.root.type)
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
