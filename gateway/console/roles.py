"""Console roles and what each may do.

viewer: read the log, details (BSN masked) and dashboards. operator: also replay, re-publish and
dead-letter. privacy: a privacy officer, may also show a BSN in full (every view audited).
admin: everything, including user management.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["viewer", "operator", "privacy", "admin"]
Permission = Literal["read", "act", "reveal_bsn", "manage_users"]

ROLES: tuple[Role, ...] = ("viewer", "operator", "privacy", "admin")

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    "viewer": frozenset({"read"}),
    "operator": frozenset({"read", "act"}),
    "privacy": frozenset({"read", "reveal_bsn"}),
    "admin": frozenset({"read", "act", "reveal_bsn", "manage_users"}),
}


def allows(role: str, permission: Permission) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())  # type: ignore[arg-type]


def parse_role(value: str) -> Role:
    """A role name as users type it ("privacy-officer" and "privacy_officer" mean privacy)."""
    v = value.strip().lower().replace("-", "_")
    if v in ("privacy_officer", "privacyofficer"):
        v = "privacy"
    if v not in ROLES:
        raise ValueError(f"unknown role {value!r}; one of: {', '.join(ROLES)}")
    return v  # type: ignore[return-value]
