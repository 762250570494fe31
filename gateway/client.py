"""A small Python client for the gateway's HTTP API (provider and municipality software, tests).

    with GatewayClient("http://127.0.0.1:8080", api_key="gwk_...") as gw:
        receipt = gw.send(xml_bytes)            # Receipt: message_id, verdict, retour (bytes)
        page = gw.read_stream("12345678")        # messages routed to you, retours of yours
        gw.ack("12345678", page["next_after"])
        allocation = gw.message_content(receipt.message_id)   # mappers.generated.ijw.JW301Bericht
        for item in gw.stream("12345678").items:              # typed: item.model is the message
            print(item.type, item.model.Header.BerichtIdentificatie.Dagtekening)

Overload answers (429/503) are retried after their Retry-After, up to `retries` times; every other
refusal raises GatewayError with the gateway's error code and message.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from mappers import MessageModel


class GatewayError(Exception):
    """The gateway refused a request: `status` (HTTP), `code` and `message` from its answer."""

    def __init__(self, status: int, code: str, message: str, body: dict[str, Any] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body or {}


class TransportRejectedError(GatewayError):
    """Not XML, not a 3.2 message, or XSD-invalid: stored, but no retourbericht exists for it."""


class Receipt(BaseModel):
    message_id: str
    verdict: str
    code: str | None = None
    sender: str | None = None
    receiver: str | None = None
    duplicate: bool = False
    routing_state: str = "not_routed"
    issues: list[dict[str, Any]] = Field(default_factory=list)
    retour_code: str | None = None
    retour: bytes | None = None
    correlation: dict[str, Any] = Field(default_factory=dict)


@dataclass
class TypedStreamItem:
    """A stream entry with its message as the generated class (`model`: JW301Bericht, ...); `model`
    is None only for a message that has no typed view, and then `error` says why and `xml` holds it."""

    position: int
    message_id: str
    type: str | None
    kind: str | None
    sender: str | None
    receiver: str | None
    headers: dict[str, str]
    created_at: datetime | None
    model: MessageModel | None
    error: str | None = None
    xml: str | None = None


@dataclass
class TypedStreamPage:
    party: str
    after: int
    acked: int
    next_after: int
    items: list[TypedStreamItem]


def _typed_item(entry: dict[str, Any]) -> TypedStreamItem:
    import mappers

    model, error = None, entry.get("error")
    if entry.get("content") is not None:
        try:
            model = mappers.from_view(entry)
        except mappers.MappingError as exc:  # a gateway newer than this client: keep the data
            error = f"this client cannot read the typed view: {exc}"
    created = entry.get("created_at")
    return TypedStreamItem(
        position=int(entry["position"]), message_id=str(entry["message_id"]), type=entry.get("type"),
        kind=entry.get("kind"), sender=entry.get("sender"), receiver=entry.get("receiver"),
        headers=entry.get("headers") or {}, created_at=datetime.fromisoformat(created) if created else None,
        model=model, error=error, xml=entry.get("xml"))


def _error(response: httpx.Response) -> GatewayError:
    try:
        body = response.json()
        err = body.get("error", {})
        code, message = err.get("code", "error"), err.get("message", response.text)
    except (ValueError, AttributeError):
        body, code, message = {}, "error", response.text[:500]
    cls = TransportRejectedError if response.status_code == 422 and body.get("verdict") else GatewayError
    return cls(response.status_code, code, message, body)


class GatewayClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 5,
        verify: Any = True,  # True, False, a CA bundle path or an ssl.SSLContext
        cert: Any = None,  # client certificate for mutual TLS: (certfile, keyfile)
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.retries = retries
        if cert is not None:  # mutual TLS: (certfile, keyfile) or a PEM with both
            import ssl

            ctx = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
            if verify is False:
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            ctx.load_cert_chain(*(cert if isinstance(cert, (tuple, list)) else (cert,)))
            verify = ctx
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout,
                                 verify=verify, transport=transport)

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(self.retries + 1):
            response = self.http.request(method, url, **kwargs)
            if response.status_code in (429, 503) and attempt < self.retries:
                delay = response.headers.get("Retry-After", "1")
                time.sleep(min(float(delay) if delay.replace(".", "", 1).isdigit() else 1.0, 30.0))
                continue
            if response.status_code >= 400:
                raise _error(response)
            return response
        raise AssertionError("unreachable")

    # -- sending ---------------------------------------------------------------------------

    def send(self, xml: bytes) -> Receipt:
        """Send one message; the receipt carries the verdict and the retour as the file (bytes,
        CR/LF line endings as OP192 requires; the JSON answer carries it with LF)."""
        r = self._request("POST", "/v1/messages", content=xml,
                          headers={"Content-Type": "application/xml"})
        data = r.json()
        retour = data.pop("retour", None)
        data.pop("links", None)
        return Receipt(**data, retour=retour.replace("\n", "\r\n").encode("utf-8") if retour else None)

    def send_batch(self, messages: Iterable[tuple[str, bytes]] | bytes) -> dict[str, Any]:
        """Send a zip (bytes) or (name, xml) pairs zipped here; the per-entry results."""
        if isinstance(messages, (bytes, bytearray)):
            data = bytes(messages)
        else:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for name, xml in messages:
                    zf.writestr(name, xml)
            data = buf.getvalue()
        r = self._request("POST", "/v1/batches", content=data,
                          headers={"Content-Type": "application/zip"})
        return r.json()

    # -- reading back ----------------------------------------------------------------------

    def message(self, message_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/messages/{message_id}").json()

    def chain(self, message_id: str) -> dict[str, Any]:
        """The messages linked to this one (same client and allocations; a 325 and its 323)."""
        return self._request("GET", f"/v1/messages/{message_id}/chain").json()

    def retour(self, message_id: str) -> bytes:
        return self._request("GET", f"/v1/messages/{message_id}/retour").content

    def message_content(self, message_id: str) -> MessageModel:
        """The message as its generated class (mappers.generated: JW301Bericht, ...), from the typed
        view. A message without one (refused: not XML, XSD-invalid) raises GatewayError
        `not_typed`; `message_xml` still gives it."""
        import mappers

        view = self._request("GET", f"/v1/messages/{message_id}/content",
                             headers={"Accept": "application/json"}).json()
        return mappers.from_view(view)

    def message_xml(self, message_id: str) -> bytes:
        """The message exactly as the gateway received it."""
        return self._request("GET", f"/v1/messages/{message_id}/content",
                             headers={"Accept": "application/xml"}).content

    def read_stream(self, party: str, after: int | None = None, limit: int = 100) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        return self._request("GET", f"/v1/streams/{party}", params=params).json()

    def stream(self, party: str, after: int | None = None, limit: int = 100) -> TypedStreamPage:
        """Like read_stream, with each entry's message as its generated class (`item.model`)."""
        params: dict[str, Any] = {"limit": limit, "format": "json"}
        if after is not None:
            params["after"] = after
        page = self._request("GET", f"/v1/streams/{party}", params=params).json()
        return TypedStreamPage(party=page["party"], after=page["after"], acked=page["acked"],
                               next_after=page["next_after"], items=[_typed_item(e) for e in page["items"]])

    def ack(self, party: str, position: int) -> int:
        return self._request("POST", f"/v1/streams/{party}/ack", json={"position": position}).json()["acked"]

    def follow(self, party: str, after: int | None = None, *, typed: bool = False) -> Iterator[Any]:
        """Server-Sent Events: yields stream entries as they arrive (until the caller stops); with
        `typed=True` as TypedStreamItem (`item.model`), else as the JSON dicts."""
        params: dict[str, Any] = {"after": after} if after is not None else {}
        if typed:
            params["format"] = "json"
        with self.http.stream("GET", f"/v1/streams/{party}/sse", params=params,
                              timeout=httpx.Timeout(None, connect=10)) as r:
            if r.status_code >= 400:
                r.read()
                raise _error(r)
            data: list[str] = []
            for line in r.iter_lines():
                if line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and data:
                    entry = json.loads("\n".join(data))
                    yield _typed_item(entry) if typed else entry
                    data = []
