"""Our own declarative model of the iJw 3.2 and iWmo 3.2 message schemas.

`basisschema("ijw")` and `message_schema("JW301")` return `Schema` objects; `schemas.generate`
writes them as XSD files, `mappers` builds typed models from them and
`testsupport.schema_corpus` generates valid and invalid messages from them.
"""

from .basis import basisschema
from .core import UNBOUNDED, Complex, Element, Schema, Simple
from .messages import message_schema

__all__ = ["UNBOUNDED", "Complex", "Element", "Schema", "Simple", "basisschema", "message_schema"]
