"""Reading request bodies with a size limit enforced while reading (not from Content-Length)."""

from __future__ import annotations

from fastapi import Request
from starlette.requests import ClientDisconnect

from gateway.service.errors import ApiError
from gateway.service.headers import first_headers


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    (declared,) = first_headers(request.scope, b"content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"{what} is {declared} bytes; the limit is {_size(limit)} (IB003/BRS06)")
    # The ASGI messages read here rather than through request.stream(): an async generator per
    # request, on the event loop for every message. The same messages, limits and disconnect.
    body, parts = b"", None  # parts: a body that came in more than one message
    receive = request.receive
    more = True
    while more:
        message = await receive()
        kind = message["type"]
        if kind == "http.disconnect":
            raise ClientDisconnect()
        if kind != "http.request":
            continue
        chunk, more = message.get("body", b""), message.get("more_body", False)
        if parts is None and not more:  # the whole body in one message, as usual: no copy
            body = chunk
        else:
            parts = bytearray() if parts is None else parts
            parts += chunk
        if len(parts if parts is not None else body) > limit:
            raise ApiError(413, "too_large", f"{what} is larger than the limit of {_size(limit)} (IB003/BRS06)")
    request._stream_consumed = True  # as request.stream() leaves it: a second read fails
    if parts is not None:
        body = bytes(parts)
    if not body:
        raise ApiError(400, "empty_body", f"the request holds no {what}")
    return body


def _size(limit: int) -> str:
    """The limit as an operator sets it and a sender reads it: bytes, and MiB when round."""
    mib = limit / (1024 * 1024)
    return f"{limit} bytes ({mib:g} MiB)" if mib >= 1 else f"{limit} bytes"
