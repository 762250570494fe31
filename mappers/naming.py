"""Names of the generated classes, shared by the generator and the runtime lookup."""

from __future__ import annotations

from schemas.model import Complex, Schema


def module_name(standard: str) -> str:
    """`ijw` -> mappers.generated.ijw."""
    return standard


def complex_class(code: str, schema: Schema, decl_type: Complex | str) -> str:
    """`CDT_Adres` (basisschema, one per standard), `JW301Bericht` (the root), `JW301Client`."""
    if isinstance(decl_type, str):
        return decl_type
    assert schema.root is not None
    if decl_type is schema.root.type:
        return f"{code}Bericht"
    return f"{code}{decl_type.name}"


def enum_class(simple_name: str) -> str:
    """The enum of a code list keeps the standard's type name: `LDT_Geslacht`."""
    return simple_name


def enum_member(code: str) -> str:
    """A Python name for a code: `NL`, `S300`, `C`; codes starting with a digit get a `C`: `C01`."""
    name = code if code[:1].isalpha() else f"C{code}"
    if not name.isidentifier():
        raise ValueError(f"code {code!r} has no Python name")
    return name
