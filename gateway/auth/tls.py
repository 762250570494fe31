"""Client-certificate identity under uvicorn: expose the verified peer certificate to the app.

uvicorn does not put the TLS peer certificate in the ASGI scope. `CertAwareH11Protocol` wraps the
app per connection and adds `scope["extensions"]["tls"] = {"client_cert_sha256": <hex>}` when the
TLS handshake verified a client certificate (ssl.CERT_REQUIRED / CERT_OPTIONAL with our CA).
Run uvicorn with `http=CertAwareH11Protocol`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


def peer_fingerprint(transport: Any) -> str | None:
    ssl_object = transport.get_extra_info("ssl_object") if transport else None
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return hashlib.sha256(der).hexdigest() if der else None


def cert_fingerprint_of(scope: dict) -> str | None:
    return ((scope.get("extensions") or {}).get("tls") or {}).get("client_cert_sha256")


class _WithCert:
    """Per connection: adds the peer certificate's fingerprint to every request's scope. It is
    read at request time, because event loops such as uvloop call connection_made before the
    TLS handshake has finished."""

    def __init__(self, app: Any, transport: Any) -> None:
        self.app = app
        self.transport = transport
        self.fingerprint: str | None = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            if self.fingerprint is None:
                self.fingerprint = peer_fingerprint(self.transport)
            if self.fingerprint:
                scope = dict(scope)
                ext = dict(scope.get("extensions") or {})
                ext["tls"] = {**ext.get("tls", {}), "client_cert_sha256": self.fingerprint}
                scope["extensions"] = ext
        await self.app(scope, receive, send)


class CertAwareH11Protocol(H11Protocol):
    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if transport.get_extra_info("ssl_object") is not None:
            self.app = _WithCert(self.app, transport)


def fingerprint_of_pem(pem: bytes) -> str:
    """SHA-256 of a PEM certificate's DER form (what `gateway party cert` registers)."""
    import ssl

    der = ssl.PEM_cert_to_DER_cert(pem.decode())
    return hashlib.sha256(der).hexdigest()
