"""Typed models of every iJw/iWmo 3.2 message and the mapping to and from XML.

    model = mappers.from_xml(xml_bytes)        # JW301Bericht(Header=..., Client=...)
    model.Client.ToegewezenProducten.ToegewezenProduct[0].Ingangsdatum
    mappers.to_xml(model)                      # bytes, equal to the input after canonicalisation
    mappers.model_for("WMO317")                # the class, to build a message in code
"""

from .models import MessageModel, code_of, model_for
from .xml import MappingError, from_xml, to_element, to_xml

__all__ = ["MappingError", "MessageModel", "code_of", "from_xml", "model_for", "to_element", "to_xml"]
