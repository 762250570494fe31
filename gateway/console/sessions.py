"""Signed session cookies: `<payload b64>.<expiry>.<hmac>`; no server-side session table needed.

The payload carries the user name and role only. Tampering breaks the HMAC (SHA-256 with the
console secret); an old cookie fails on its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from gateway import clock

COOKIE = "gw_console"


@dataclass(frozen=True)
class Session:
    user: str
    role: str
    via: str = "password"  # "password" or "proxy"


def _sign(secret: bytes, data: str) -> str:
    return hmac.new(secret, data.encode(), hashlib.sha256).hexdigest()


def encode(session: Session, secret: bytes, ttl_seconds: int, now: float | None = None) -> str:
    payload = json.dumps({"u": session.user, "r": session.role, "v": session.via}, separators=(",", ":"))
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    expires = int((now or clock.timestamp()) + ttl_seconds)
    data = f"{body}.{expires}"
    return f"{data}.{_sign(secret, data)}"


def decode(cookie: str | None, secret: bytes, now: float | None = None) -> Session | None:
    """The session in a valid, unexpired cookie, else None."""
    if not cookie or cookie.count(".") != 2:
        return None
    body, expires, sig = cookie.split(".")
    if not hmac.compare_digest(sig, _sign(secret, f"{body}.{expires}")):
        return None
    try:
        if int(expires) < (now or clock.timestamp()):
            return None
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return Session(user=str(data["u"]), role=str(data["r"]), via=str(data.get("v", "password")))
    except (ValueError, KeyError, TypeError):
        return None
