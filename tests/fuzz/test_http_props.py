"""Random requests against the HTTP API (in-process): any method, known and made-up paths, random
headers (keys valid, invalid or absent; odd content types, request ids, encodings) and hostile
bodies never yield a 5xx or a stack trace, and every JSON error has our shape.

A second test speaks raw bytes to a real `gateway serve` over a socket (broken request lines,
header floods, bad chunking): the server answers 4xx or closes, and stays healthy.
"""

from __future__ import annotations

import json
import socket

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from .conftest import fuzz_settings
from .strategies import hostile_messages

PATHS = ["/v1/messages", "/v1/batches", "/v1/messages/{id}", "/v1/messages/{id}/retour", "/v1/streams/{party}",
         "/v1/streams/{party}/ack", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
         "/console/api/messages", "/console/api/login", "/console/api/messages/{id}", "/", "/v2/x", "/v1/../etc"]
SEGMENT = st.one_of(st.sampled_from(["0599", "12345678", "01M82R9JBA30755TNEYCSVD0X6", "%00", "..", "%2e%2e",
                                     "a" * 300, "-1", "9" * 40, "%ff%fe", "{}", "null"]),
                    st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=1, max_size=20)
                    .map(lambda s: "".join(c if c.isalnum() else f"%{ord(c):02X}" for c in s)))
HEADER_VALUE = st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=60)
CONTENT_TYPES = ["application/xml", "text/xml", "application/zip", "application/json", "multipart/form-data",
                 "application/xml; charset=utf-16", "text/plain; charset=latin-1", "", "*/*", "x/y; boundary=--"]


@st.composite
def requests(draw, keys: tuple[str, str]):  # noqa: ANN201
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]))
    path = draw(st.sampled_from(PATHS))
    path = path.replace("{id}", draw(SEGMENT)).replace("{party}", draw(SEGMENT))
    if draw(st.booleans()):
        path += "?" + draw(st.sampled_from(["after=-1", "limit=0", "limit=99999", "after=x", "a=%00", "limit=5"]))
    headers = {}
    auth = draw(st.sampled_from(["gemeente", "aanbieder", "none", "junk", "x-api-key"]))
    if auth in ("gemeente", "aanbieder"):
        headers["Authorization"] = f"Bearer {keys[0] if auth == 'gemeente' else keys[1]}"
    elif auth == "junk":
        headers["Authorization"] = draw(HEADER_VALUE)
    elif auth == "x-api-key":
        headers["X-API-Key"] = draw(st.sampled_from([keys[0], "gwk_x_y", "", "gwk_" + "a" * 500]))
    headers["Content-Type"] = draw(st.sampled_from(CONTENT_TYPES))
    for name in draw(st.lists(st.sampled_from(["X-Request-ID", "Last-Event-ID", "Accept", "Accept-Encoding",
                                               "Content-Encoding", "Cookie", "X-Forwarded-For", "Origin"]),
                              max_size=3, unique=True)):
        headers[name] = draw(HEADER_VALUE)
    body = draw(st.one_of(hostile_messages(), st.just(b""),
                          st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=4)
                          .map(lambda d: json.dumps(d).encode())))
    # Header values as bytes: any latin-1 octet may arrive on the wire.
    return method, path, {k: v.encode("latin-1") for k, v in headers.items()}, body


@pytest.fixture(scope="module")
def client(api):
    with TestClient(api.app, raise_server_exceptions=False) as c:
        yield c


def test_random_requests_get_no_5xx_and_no_trace(api, client):
    @given(req=requests((api.gemeente_key, api.aanbieder_key)))
    @fuzz_settings(150)
    def check(req):
        method, path, headers, body = req
        if path.endswith("/sse"):
            return  # an endless stream when allowed
        r = client.request(method, path, headers=headers, content=body if method not in ("GET", "HEAD") else None)
        assert r.status_code < 500 or (r.status_code == 503 and "retry-after" in r.headers), \
            f"{method} {path} -> {r.status_code}: {r.text[:300]}"
        assert "Traceback" not in r.text and 'File "/' not in r.text, f"{method} {path}: trace"
        if r.status_code >= 400 and r.headers.get("content-type", "").startswith("application/json") \
                and r.content and not path.startswith("/console"):
            err = r.json().get("error")
            assert isinstance(err, dict) and err.get("code") and err.get("message"), r.text[:300]

    check()


RAW_REQUESTS = [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n<a/>",
    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n",
    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Flood: " + b"a" * 200_000 + b"\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(5000)) + b"\r\n",
    b"GET /\x00\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello to a plain port
]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from tests.faults import harness

    base = tmp_path_factory.mktemp("raw")
    url = f"sqlite:///{base / 'gateway.db'}"
    harness.prepare_store(url)
    with harness.GatewayProcess(base / "gw", url) as gw:
        yield gw


def raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close while we still send: that is an answer too
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (TimeoutError, OSError):
            pass
    return out


@pytest.mark.parametrize("data", RAW_REQUESTS, ids=range(len(RAW_REQUESTS)))
def test_broken_http_is_refused_and_the_server_stays_healthy(live, data):
    answer = raw_exchange(live.port, data)
    if answer:
        status = answer.split(b"\r\n", 1)[0]
        assert status.startswith(b"HTTP/1.1 4") or status.startswith(b"HTTP/1.1 200"), status
        assert b"Traceback" not in answer
    assert live.healthy()


@given(data=st.binary(min_size=1, max_size=2000))
@fuzz_settings(25)
def test_random_bytes_on_the_socket_leave_the_server_healthy(live, data):
    answer = raw_exchange(live.port, data)
    assert not answer or not answer.startswith(b"HTTP/1.1 5"), answer[:200]
    assert live.healthy()
