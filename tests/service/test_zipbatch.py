"""The zip batch unpacker refuses everything a hostile or broken hub delivery could hold."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest

from gateway.ingress.zipbatch import ZipLimits, ZipRejected, unpack


def make_zip(entries: list[tuple[str, bytes]], *, compression=zipfile.ZIP_DEFLATED, attrs=None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = compression
            if attrs and name in attrs:
                info.external_attr = attrs[name]
            zf.writestr(info, data)
    return buf.getvalue()


XML = b"<?xml version='1.0' encoding='UTF-8'?><Bericht/>"


def test_good_zip_keeps_order_and_content():
    data = make_zip([("b.xml", XML + b"1"), ("dir/a.xml", XML + b"2")])
    entries = unpack(data)
    assert [(e.name, e.data) for e in entries] == [("b.xml", XML + b"1"), ("dir/a.xml", XML + b"2")]


@pytest.mark.parametrize(
    "entries, code",
    [
        ([("../evil.xml", XML)], "zip_path"),
        ([("/etc/evil.xml", XML)], "zip_path"),
        ([("a\\..\\evil.xml", XML)], "zip_path"),
        ([("C:evil.xml", XML)], "zip_path"),
        ([("a//b.xml", XML)], "zip_path"),
        ([("a.xml", XML), ("A.XML", XML)], "zip_duplicate"),
        ([("inner.zip", b"PK\x03\x04rest")], "zip_nested"),
        ([("inner.xml", make_zip([("x.xml", XML)]))], "zip_nested"),
        ([("notes.txt", b"hello")], "zip_not_xml"),
    ],
)
def test_refused_entries(entries, code):
    with pytest.raises(ZipRejected) as exc:
        unpack(make_zip(entries))
    assert exc.value.code == code
    assert str(exc.value)  # a clear message


def test_symlink_refused():
    data = make_zip([("link.xml", b"/etc/passwd")], attrs={"link.xml": (stat.S_IFLNK | 0o777) << 16})
    with pytest.raises(ZipRejected, match="symbolic"):
        unpack(data)


def test_too_many_entries():
    data = make_zip([(f"m{i}.xml", XML) for i in range(31)])
    with pytest.raises(ZipRejected) as exc:
        unpack(data)
    assert exc.value.code == "zip_too_many" and "31" in str(exc.value)
    assert len(unpack(make_zip([(f"m{i}.xml", XML) for i in range(30)]))) == 30


def test_zip_bomb_by_ratio():
    bomb = make_zip([("bomb.xml", b"<a>" + b" " * 5_000_000 + b"</a>")])
    assert len(bomb) < 50_000
    with pytest.raises(ZipRejected) as exc:
        unpack(bomb)
    assert exc.value.code == "zip_bomb"


def test_zip_bomb_with_lying_directory_is_caught_while_reading():
    """A zip whose central directory understates the size is stopped by the bounded read."""
    data = bytearray(make_zip([("big.xml", b"x" * 10_000)], compression=zipfile.ZIP_STORED))
    # Patch the declared uncompressed size (central directory and local header) to 10 bytes.
    declared = (10_000).to_bytes(4, "little")
    data = bytes(data).replace(declared, (10).to_bytes(4, "little"))
    with pytest.raises(ZipRejected):
        unpack(data, ZipLimits(max_entry_bytes=1_000, max_ratio=10_000))


def test_total_uncompressed_limit():
    data = make_zip([(f"m{i}.xml", b"y" * 4_000) for i in range(5)], compression=zipfile.ZIP_STORED)
    with pytest.raises(ZipRejected) as exc:
        unpack(data, ZipLimits(max_total_bytes=10_000))
    assert exc.value.code == "zip_bomb"


def test_not_a_zip_and_empty():
    with pytest.raises(ZipRejected) as exc:
        unpack(b"this is not a zip")
    assert exc.value.code == "zip_invalid"
    with pytest.raises(ZipRejected) as exc:
        unpack(make_zip([]))
    assert exc.value.code == "zip_empty"


def test_too_large_zip():
    with pytest.raises(ZipRejected) as exc:
        unpack(make_zip([("a.xml", XML)]), ZipLimits(max_zip_bytes=10))
    assert exc.value.code == "zip_too_large"


def test_encrypted_entry_refused():
    data = bytearray(make_zip([("a.xml", XML)], compression=zipfile.ZIP_STORED))
    # Set the "encrypted" flag bit in the local header and the central directory entry.
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = bytes(data).find(sig)
        data[pos + offset] |= 0x1
    with pytest.raises(ZipRejected) as exc:
        unpack(bytes(data))
    assert exc.value.code == "zip_encrypted"
