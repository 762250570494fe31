"""Who is looking at the console: a signed session cookie, or a trusted proxy header."""

from __future__ import annotations

from fastapi import HTTPException, Request

from gateway.console import sessions
from gateway.console.context import ConsoleContext, context
from gateway.console.roles import Permission, allows, parse_role
from gateway.console.sessions import Session


def current_session(request: Request) -> Session | None:
    ctx: ConsoleContext = context(request)
    s = ctx.settings
    if s.trusted_user_header:
        user = request.headers.get(s.trusted_user_header)
        if user:
            role_value = request.headers.get(s.trusted_role_header) if s.trusted_role_header else None
            try:
                role = parse_role(role_value or s.proxy_default_role)
            except ValueError:
                role = "viewer"  # an unknown role from the proxy gets the least
            return Session(user=user.strip()[:64], role=role, via="proxy")
    session = sessions.decode(request.cookies.get(sessions.COOKIE), ctx.secret)
    if session is None:
        return None
    # The cookie proves who logged in; the store says what they may do now. A disabled user or a
    # changed role takes effect at once, not when the cookie expires (one primary-key lookup).
    user = ctx.store.get_user(session.user)
    if user is None or user.disabled_at is not None:
        return None
    try:
        role = parse_role(user.role)
    except ValueError:
        return None
    return Session(user=session.user, role=role, via=session.via)


def require(permission: Permission):
    """Dependency: the session of a user whose role allows `permission` (401 / 403 otherwise)."""

    def dependency(request: Request) -> Session:
        session = current_session(request)
        if session is None:
            raise HTTPException(401, "log in first")
        if not allows(session.role, permission):
            raise HTTPException(403, f"your role ({session.role}) does not allow this")
        if request.method == "POST" and not request.headers.get("content-type", "").startswith(
            "application/json"
        ):
            # A cross-site form cannot send JSON without a CORS preflight: this plus the
            # SameSite=Strict cookie keeps other sites from acting in an operator's name.
            raise HTTPException(415, "send application/json")
        return session

    return dependency
