"""Console users, kept in the store (`Store.add_user` & co.) with argon2 password hashes."""

from __future__ import annotations

from typing import Any

from gateway.console.passwords import hash_password, needs_rehash, verify_password
from gateway.console.roles import Role, parse_role


class UserError(ValueError):
    pass


def _check_name(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise UserError("a user name is 1-64 characters without spaces")
    return name


def add_user(store: Any, username: str, password: str, role: str) -> None:
    name, r = _check_name(username), parse_role(role)
    if store.get_user(name) is not None:
        raise UserError(f"user {name} exists already")
    store.add_user(name, hash_password(password), r)


def set_password(store: Any, username: str, password: str) -> None:
    if not store.set_password(username, hash_password(password)):
        raise UserError(f"no user {username}")


def set_role(store: Any, username: str, role: str) -> None:
    if not store.set_user_role(username, parse_role(role)):
        raise UserError(f"no user {username}")


def disable(store: Any, username: str) -> None:
    if not store.disable_user(username):
        raise UserError(f"no user {username}")


def list_users(store: Any) -> list[dict[str, Any]]:
    return [
        {"username": u.username, "role": u.role, "created_at": u.created_at, "disabled_at": u.disabled_at}
        for u in store.list_users()
    ]


def authenticate(store: Any, username: str, password: str) -> Role | None:
    """The user's role when the password is right and the user active, else None."""
    user = store.get_user(username.strip()) if username.strip() else None
    stored = user.password_hash if user is not None else None
    # verify even for unknown users: the answer takes as long whether or not the name exists
    if not verify_password(stored, password) or user is None or user.disabled_at is not None:
        return None
    if needs_rehash(user.password_hash):
        store.set_password(user.username, hash_password(password))
    try:
        return parse_role(user.role)
    except ValueError:
        return None
