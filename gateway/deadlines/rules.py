"""The obligations of the exchange (obligations.yaml), as typed records."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

PATH = Path(__file__).with_name("obligations.yaml")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    document: str
    section: str
    quote: str


class Due(_Model):
    working_days: int | None = Field(default=None, ge=1)
    days: int | None = Field(default=None, ge=1)
    start: Literal["received", "begindatum", "einddatum"] = Field(alias="from")

    @model_validator(mode="after")
    def _one_term(self) -> Due:
        if (self.working_days is None) == (self.days is None):
            raise ValueError("give exactly one of working_days or days")
        return self


class Obligation(_Model):
    id: str
    op: str = Field(pattern=r"^OP[0-9]{3}(x[0-9])?$")
    title: str
    standards: list[Literal["ijw", "iwmo"]]
    opens: list[str]
    actor: Literal["receiver", "sender"]
    closes: list[str]
    due: Due
    check: Literal["open", "arrival"]
    # Only messages whose field has one of the values open it (e.g. a 319 "in onderzoek").
    when: dict[str, list[str]] = {}
    # A closing message that has the field must have one of the values.
    close_if: dict[str, list[str]] = {}
    tracked: bool = True
    why: str | None = None
    source: Source


@lru_cache(maxsize=1)
def load() -> tuple[Obligation, ...]:
    data = yaml.safe_load(PATH.read_text(encoding="utf-8"))
    return tuple(Obligation.model_validate(item) for item in data)


def by_id() -> dict[str, Obligation]:
    return {o.id: o for o in load()}
