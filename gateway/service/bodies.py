"""Reading request bodies with a size limit enforced while reading (not from Content-Length)."""

from __future__ import annotations

from fastapi import Request

from gateway.service.errors import ApiError


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"{what} is {declared} bytes; the limit is {_size(limit)} (IB003/BRS06)")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "too_large", f"{what} is larger than the limit of {_size(limit)} (IB003/BRS06)")
    if not body:
        raise ApiError(400, "empty_body", f"the request holds no {what}")
    return bytes(body)


def _size(limit: int) -> str:
    """The limit as an operator sets it and a sender reads it: bytes, and MiB when round."""
    mib = limit / (1024 * 1024)
    return f"{limit} bytes ({mib:g} MiB)" if mib >= 1 else f"{limit} bytes"
