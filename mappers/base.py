"""The base class of every generated message class and the value types its fields use.

Kept apart from the generated modules (mappers/generated/) so that they import only this, and apart
from `models` so that the generator can run while the generated files are missing or stale.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

# LDT_Bedrag, LDT_TotaalBedrag, LDT_Budget: "Bedrag in 1/100 van gehanteerde valuta" (10000 = 100 euro).
Eurocents = Annotated[int, Field(description="Amount in eurocents (1/100 euro), as LDT_Bedrag defines it.")]


class MessageModel(BaseModel):
    """Base of every generated class; unknown fields are refused, assignments are checked.

    `_lexical` keeps, per leaf read from XML, the value's lexical form when it is not the canonical
    one (`+5`, `007`, ` 42\\n`, `12:00:00.5`), so that XML -> model -> XML is lossless. It is used
    only while the field still holds the value it spells; it is not part of equality or JSON.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    _lexical: dict[Any, str] = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        # Equal values are equal messages, whichever lexical form the XML used.
        if type(self) is not type(other):
            return NotImplemented
        return self.__dict__ == other.__dict__
