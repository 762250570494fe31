"""Hostile and malformed inputs for the HTTP API, each with the answer it must get.

A case is (name, endpoint, body bytes or a chunk iterator, expected status, expected error code
or a word the error must contain). Shared by tests/faults/test_hostile_http.py and the long form.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    endpoint: str  # "/v1/messages" | "/v1/batches"
    body: Callable[[], bytes | Iterator[bytes]]  # built lazily: some are 26 MB
    status: int
    expect: str  # the error code, or a word of the error message (case-insensitive)
    role: str = "gemeente"
    content_type: str = "application/xml"


def valid_301() -> bytes:
    from gateway import samples

    return samples.allocation("ijw", bsn=samples.BSNS[8000], products=(samples.Allocated(toewijzingnummer=880_001),))


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol1 "lol">\n'
    + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(2, 10))
    + b"]>\n<Bericht>&lol9;</Bericht>"
)

QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?>\n<!DOCTYPE kaboom [<!ENTITY a "' + b"x" * 50_000 + b'">]>\n<Bericht>'
    + b"&a;" * 50_000 + b"</Bericht>"
)


def external_entity(target: str) -> bytes:
    return (b'<?xml version="1.0"?>\n<!DOCTYPE Bericht [<!ENTITY xxe SYSTEM "' + target.encode()
            + b'">]>\n<Bericht>&xxe;</Bericht>')


def external_dtd(url: str) -> bytes:
    return b'<?xml version="1.0"?>\n<!DOCTYPE Bericht SYSTEM "' + url.encode() + b'">\n<Bericht/>'


def parameter_entity(url: str) -> bytes:
    return (b'<?xml version="1.0"?>\n<!DOCTYPE Bericht [<!ENTITY % remote SYSTEM "' + url.encode()
            + b'"> %remote;]>\n<Bericht/>')


def with_encoding(xml: bytes, encoding: bytes) -> bytes:
    """The message with another encoding named in its XML declaration (bytes unchanged)."""
    import re

    out, n = re.subn(rb"""encoding=(["'])UTF-8\1""", b'encoding="' + encoding + b'"', xml, count=1)
    assert n == 1, xml[:80]
    return out


def deep(n: int) -> bytes:
    return b"<a>" * n + b"</a>" * n


def oversized(total: int) -> bytes:
    """A valid 301 padded with a comment after the XML declaration to `total` bytes."""
    xml = valid_301()
    at = xml.index(b"?>") + 2
    return xml[:at] + b"<!--" + b"x" * (total - len(xml) - 7) + b"-->" + xml[at:]


def chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    """A body sent chunked (no Content-Length), so the limit must hold while reading."""
    sent = 0
    yield b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Bericht><!--"
    while sent < total:
        yield b"y" * size
        sent += size
    yield b"--></Bericht>"


def make_zip(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def _patch_sizes(data: bytes, size: int) -> bytes:
    """Declare `size` uncompressed bytes for every entry (local headers and central directory)."""
    out = bytearray(data)
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = out.find(sig)
        while pos >= 0:
            out[pos + offset:pos + offset + 4] = size.to_bytes(4, "little")
            pos = out.find(sig, pos + 4)
    return bytes(out)


def nested_zip() -> bytes:
    inner = make_zip([("m.xml", valid_301())])
    return make_zip([("inner.zip", inner)])


def nested_zip_disguised() -> bytes:
    inner = make_zip([("m.xml", valid_301())])
    return make_zip([("inner.xml", inner)])


def ratio_bomb() -> bytes:
    return make_zip([("bomb.xml", b"<a>" + b"\0" * (20 * MB) + b"</a>")])


def lying_small_sizes() -> bytes:
    """The directory says 100 bytes; the entry inflates to 20 MB."""
    return _patch_sizes(make_zip([("liar.xml", b"<a>" + b" " * (20 * MB) + b"</a>")]), 100)


def huge_declared_sizes() -> bytes:
    return _patch_sizes(make_zip([("huge.xml", valid_301())]), 0xFFFFFFF0)


def many_entries(n: int = 10_000) -> bytes:
    return make_zip([(f"m{i}.xml", b"") for i in range(n)], zipfile.ZIP_STORED)


def truncated_zip() -> bytes:
    data = make_zip([(f"m{i}.xml", valid_301()) for i in range(3)])
    return data[: len(data) // 2]


def total_bomb() -> bytes:
    """Five 24 MB entries, each within the per-entry size and ratio limits (about 1:30), together
    beyond the batch's 100 MB uncompressed limit."""
    import random

    entry = bytearray(b" " * (24 * MB))
    entry[::100] = random.Random(8).randbytes(len(entry[::100]))
    entry[:3], entry[-4:] = b"<a>", b"</a>"
    return make_zip([(f"m{i}.xml", bytes(entry)) for i in range(5)], zipfile.ZIP_DEFLATED)


CASES: list[Case] = [
    # -- single messages ------------------------------------------------------------------------
    Case("26 MB message", "/v1/messages", lambda: oversized(26 * MB), 413, "too_large"),
    Case("26 MB message, chunked", "/v1/messages", lambda: chunks(26 * MB), 413, "too_large"),
    Case("deep nesting 100k", "/v1/messages", lambda: deep(100_000), 422, "nested"),
    Case("deep nesting 150", "/v1/messages", lambda: deep(150), 422, "nested"),
    Case("billion laughs", "/v1/messages", lambda: BILLION_LAUGHS, 422, "DOCTYPE"),
    Case("quadratic blowup", "/v1/messages", lambda: QUADRATIC_BLOWUP, 422, "DOCTYPE"),
    Case("external entity file", "/v1/messages", lambda: external_entity("file:///etc/passwd"), 422, "DOCTYPE"),
    Case("invalid UTF-8", "/v1/messages",
         lambda: valid_301().replace(b"</Header>", b"\xc3\x28</Header>", 1),
         422, "UTF-8"),
    Case("UTF-16 message", "/v1/messages",
         lambda: with_encoding(valid_301(), b"UTF-16").decode().encode("utf-16"),
         422, "UTF-16"),
    Case("Latin-1 declared", "/v1/messages",
         lambda: with_encoding(valid_301(), b"ISO-8859-1"), 422, "ISO-8859-1"),
    Case("Latin-1 bytes", "/v1/messages",
         lambda: valid_301().replace(b"</Header>", b"\xe9\xe8</Header>", 1), 422, "UTF-8"),
    Case("not XML", "/v1/messages", lambda: b'{"json": true}', 422, "not an xml"),
    Case("binary noise", "/v1/messages", lambda: bytes(range(256)) * 64, 422, "xml"),
    Case("truncated message", "/v1/messages", lambda: valid_301()[:-40], 422, "malformed"),
    Case("empty body", "/v1/messages", lambda: b"", 400, "empty_body"),
    # -- zip batches ----------------------------------------------------------------------------
    Case("truncated zip", "/v1/batches", truncated_zip, 422, "zip_invalid", content_type="application/zip"),
    Case("not a zip", "/v1/batches", lambda: b"PK\x03\x04 not really", 422, "zip_invalid",
         content_type="application/zip"),
    Case("ratio bomb", "/v1/batches", ratio_bomb, 422, "zip_bomb", content_type="application/zip"),
    Case("lying small sizes", "/v1/batches", lying_small_sizes, 422, "zip", content_type="application/zip"),
    Case("huge declared sizes", "/v1/batches", huge_declared_sizes, 422, "zip_bomb",
         content_type="application/zip"),
    Case("total over the limit", "/v1/batches", total_bomb, 422, "zip_bomb", content_type="application/zip"),
    Case("10,000 entries", "/v1/batches", many_entries, 422, "zip_too_many", content_type="application/zip"),
    Case("nested zip", "/v1/batches", nested_zip, 422, "zip_nested", content_type="application/zip"),
    Case("nested zip named .xml", "/v1/batches", nested_zip_disguised, 422, "zip_nested",
         content_type="application/zip"),
    Case("path traversal", "/v1/batches", lambda: make_zip([("../../etc/evil.xml", valid_301())]), 422,
         "zip_path", content_type="application/zip"),
    Case("absolute path", "/v1/batches", lambda: make_zip([("/tmp/evil.xml", valid_301())]), 422, "zip_path",
         content_type="application/zip"),
    Case("windows path", "/v1/batches", lambda: make_zip([("C:\\evil.xml", valid_301())]), 422, "zip_path",
         content_type="application/zip"),
    Case("26 MB zip", "/v1/batches", lambda: b"PK\x03\x04" + b"\0" * (26 * MB), 413, "too_large",
         content_type="application/zip"),
]
