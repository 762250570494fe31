"""Typed models of every iJw/iWmo 3.2 message and the mapping to and from XML and JSON.

    model = mappers.from_xml(xml_bytes)        # mappers.generated.ijw.JW301Bericht(Header=..., Client=...)
    model.Client.ToegewezenProducten.ToegewezenProduct[0].Ingangsdatum   # a datetime.date
    mappers.to_xml(model)                      # bytes, equal to the input after canonicalisation
    mappers.model_for("WMO317")                # the class, to build a message in code
    mappers.to_view(model)                     # {"type": "JW301", "standard": "ijw", "content": {...}}

The classes are generated source (mappers/generated/ijw.py, iwmo.py; `python -m mappers.generate`),
so an IDE and mypy see them: `from mappers.generated.ijw import JW301Bericht, LDT_Geslacht`.
"""

from . import leaf
from .base import Eurocents, MessageModel
from .models import code_of, model_for
from .view import from_view, to_view, view_of
from .xml import MappingError, from_xml, to_element, to_xml

__all__ = ["Eurocents", "MappingError", "MessageModel", "code_of", "from_view", "from_xml", "leaf",
           "model_for", "to_element", "to_view", "to_xml", "view_of"]
