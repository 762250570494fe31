"""API keys: high-entropy secrets handed out once; only their SHA-256 is stored.

A key looks like `gwk_<key id>_<secret>`. SHA-256 is enough (no argon2) because the secret has
256 bits of entropy: there is nothing to brute-force, and lookup by hash stays one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "gwk"


def new_key() -> tuple[str, str]:
    """(key id, full key). Show the full key once; store only `key_hash(full key)`."""
    key_id = secrets.token_hex(6)
    return key_id, f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str | None:
    """The key id of a well-formed key, else None (so logs can name a key without its secret)."""
    parts = key.split("_", 2)
    if len(parts) == 3 and parts[0] == PREFIX and parts[1]:
        return parts[1]
    return None


def from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    """The presented key: `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    if x_api_key:
        return x_api_key.strip()
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None
