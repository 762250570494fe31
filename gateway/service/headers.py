"""Request headers read from the ASGI scope's own list, for the routes every message takes."""

from __future__ import annotations

from typing import Any


def first_headers(scope: dict[str, Any], *names: bytes) -> list[str | None]:
    """The first value of each of `names` (lowercase, as ASGI gives them), as `request.headers.get`
    reads it: Starlette's Headers object is built and searched once per name otherwise, on the
    event loop for every message."""
    found: list[str | None] = [None] * len(names)
    for name, value in scope["headers"]:
        if name in names:
            i = names.index(name)
            if found[i] is None:
                found[i] = value.decode("latin-1")
    return found
