"""The message catalogue of iJw 3.2 and iWmo 3.2: every message type, its code and namespace.

This is the one table the rest of the gateway asks "what is this message?".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

Standard = Literal["ijw", "iwmo"]
Kind = Literal["heen", "retour", "antwoord"]
Role = Literal["gemeente", "aanbieder"]

RELEASE = "3.2"
STANDARDS: tuple[Standard, ...] = ("ijw", "iwmo")
_PREFIX = {"ijw": "JW", "iwmo": "WMO"}

# number -> (ijw BerichtCode, iwmo BerichtCode, kind, sender role, answered by)
_TABLE: dict[str, tuple[str, str, Kind, Role, str | None]] = {
    "301": ("436", "414", "heen", "gemeente", "302"),
    "302": ("437", "415", "retour", "aanbieder", None),
    "305": ("438", "418", "heen", "aanbieder", "306"),
    "306": ("439", "419", "retour", "gemeente", None),
    "307": ("440", "420", "heen", "aanbieder", "308"),
    "308": ("441", "421", "retour", "gemeente", None),
    "315": ("446", "444", "heen", "aanbieder", "316"),
    "316": ("447", "445", "retour", "gemeente", None),
    "317": ("486", "480", "heen", "aanbieder", "318"),
    "318": ("487", "481", "retour", "gemeente", None),
    "319": ("488", "482", "heen", "gemeente", "320"),
    "320": ("489", "483", "retour", "aanbieder", None),
    "323": ("490", "484", "heen", "aanbieder", "325"),
    "325": ("491", "485", "antwoord", "gemeente", None),
}


@dataclass(frozen=True)
class MessageType:
    """One message type of one standard and release, e.g. JW301 of iJw 3.2."""

    standard: Standard
    release: str
    number: str  # "301"
    berichtcode: str  # "436"
    kind: Kind
    sender_role: Role
    answered_by_number: str | None

    # The derived names are cached on the (frozen) instance: a message asks for its type's code
    # some ten times (rules, rows, headers), each a format, and for its answer's type by a scan
    # of the catalogue (issue 14). Equality and hashing stay the fields' (dataclass).
    @functools.cached_property
    def code(self) -> str:
        """The name used everywhere: JW301, WMO301."""
        return f"{_PREFIX[self.standard]}{self.number}"

    @functools.cached_property
    def namespace(self) -> str:
        return message_namespace(self.standard, self.number, self.release)

    @functools.cached_property
    def basis_namespace(self) -> str:
        return basis_namespace(self.standard, self.release)

    @functools.cached_property
    def answered_by(self) -> MessageType | None:
        if self.answered_by_number is None:
            return None
        return by_number(self.standard, self.answered_by_number, self.release)

    @property
    def receiver_role(self) -> Role:
        return "aanbieder" if self.sender_role == "gemeente" else "gemeente"

    @functools.cached_property
    def law(self) -> str:
        """The law this standard serves: "jeugd" or "wmo"."""
        return "jeugd" if self.standard == "ijw" else "wmo"

    def __str__(self) -> str:
        return self.code


def _release_token(release: str) -> str:
    return release.replace(".", "_")


def message_namespace(standard: str, number: str, release: str = RELEASE) -> str:
    prefix = "jw" if standard == "ijw" else "wmo"
    return f"http://www.istandaarden.nl/{standard}/{_release_token(release)}/{prefix}{number}/schema"


def basis_namespace(standard: str, release: str = RELEASE) -> str:
    return f"http://www.istandaarden.nl/{standard}/{_release_token(release)}/basisschema/schema"


def _build(release: str) -> tuple[MessageType, ...]:
    types = []
    for standard in STANDARDS:
        for number, (jw_code, wmo_code, kind, role, answer) in _TABLE.items():
            types.append(
                MessageType(
                    standard=standard,
                    release=release,
                    number=number,
                    berichtcode=jw_code if standard == "ijw" else wmo_code,
                    kind=kind,
                    sender_role=role,
                    answered_by_number=answer,
                )
            )
    return tuple(types)


ALL: tuple[MessageType, ...] = _build(RELEASE)
_BY_CODE = {t.code: t for t in ALL}
_BY_NAMESPACE = {t.namespace: t for t in ALL}
_BY_BERICHTCODE = {t.berichtcode: t for t in ALL}
_BY_NUMBER = {(t.standard, t.number): t for t in ALL}


def all_types(release: str = RELEASE) -> tuple[MessageType, ...]:
    return ALL if release == RELEASE else _build(release)


def by_code(code: str) -> MessageType:
    """JW301 / WMO325 -> MessageType; KeyError when unknown."""
    return _BY_CODE[code.upper()]


def by_number(standard: str, number: str, release: str = RELEASE) -> MessageType:
    if release == RELEASE:
        found = _BY_NUMBER.get((standard, number))
        if found is not None:
            return found
    for t in all_types(release):
        if t.standard == standard and t.number == number:
            return t
    raise KeyError(f"{standard} {number}")


def by_namespace(namespace: str) -> MessageType | None:
    """The 3.2 message type of a root namespace, or None when it is not one we hold."""
    return _BY_NAMESPACE.get(namespace)


def by_berichtcode(berichtcode: str) -> MessageType | None:
    return _BY_BERICHTCODE.get(berichtcode)


def heen_types() -> tuple[MessageType, ...]:
    """Messages a sender originates (everything but the technical retours)."""
    return tuple(t for t in ALL if t.kind != "retour")
