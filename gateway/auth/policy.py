"""Who may send what: the sending party must be the message's sender and hold the sender's role.

A heenbericht (and a 325) names its sender in Header/Afzender. A technical retour copies the header
of the heen unchanged (IV028), so its sender is the heen's Ontvanger.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.catalog import MessageType, Role
from validators.paths import child, text


@dataclass(frozen=True)
class Party:
    """A known sender: a gemeente (CBS code, 4 digits) or an aanbieder (AGB code, 8 digits)."""

    party_id: str
    role: Role
    name: str = ""


class Refused(Exception):
    """The sender may not send this message; `status` is the HTTP status, `reason` a clear text."""

    def __init__(self, status: int, reason: str, code: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.code = code  # machine-readable: spoofed_sender, wrong_role, unauthenticated, ...


@dataclass(frozen=True)
class Route:
    """Sender and receiver of a message as the header states them."""

    sender: str | None
    receiver: str | None


def header_route(root: etree._Element, mtype: MessageType) -> Route:
    header = child(root, "Header")
    afzender = text(header, "Afzender")
    ontvanger = text(header, "Ontvanger")
    if mtype.kind == "retour":
        return Route(sender=ontvanger, receiver=afzender)
    return Route(sender=afzender, receiver=ontvanger)


def may_send(role: Role, mtype: MessageType) -> bool:
    """aanbieder: 305, 307, 315, 317, 323, 302, 320; gemeente: 301, 319, 325, 306, 308, 316, 318."""
    return mtype.sender_role == role


def check_sender(party: Party, mtype: MessageType, route: Route) -> None:
    """Raise Refused (403) when the party may not send this message as this sender."""
    if not may_send(party.role, mtype):
        allowed = ", ".join(sorted(_codes_for(party.role, mtype.standard)))
        raise Refused(
            403,
            f"party {party.party_id} ({party.role}) may not send {mtype.code}; allowed: {allowed}",
            "wrong_role",
        )
    field = "Ontvanger" if mtype.kind == "retour" else "Afzender"
    if route.sender != party.party_id:
        raise Refused(
            403,
            f"Header/{field} is {route.sender or 'empty'}, but you are authenticated as "
            f"{party.party_id}: a party may only send messages in its own name",
            "spoofed_sender",
        )


def _codes_for(role: Role, standard: str) -> list[str]:
    from gateway.catalog import ALL

    return [t.code for t in ALL if t.standard == standard and t.sender_role == role]
