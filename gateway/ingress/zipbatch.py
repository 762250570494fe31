"""Unpacking a zip batch from a hub (up to 30 messages, 25 MB) without trusting it.

Refused with a clear error: not a zip, too large, too many entries, encrypted entries, nested
zips, path tricks (absolute paths, `..`, drive letters, backslashes, symlinks, duplicates),
entries that are not .xml, and zip bombs (sizes are enforced while reading, not taken from the
zip's own directory, which an attacker writes).
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass

CHUNK = 64 * 1024


class ZipRejected(ValueError):
    """The batch as a whole is refused; `code` is machine-readable, the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ZipLimits:
    max_zip_bytes: int = 25 * 1024 * 1024
    max_entries: int = 30
    max_entry_bytes: int = 25 * 1024 * 1024
    max_total_bytes: int = 100 * 1024 * 1024
    max_ratio: int = 200


@dataclass(frozen=True)
class Entry:
    name: str
    data: bytes


def _check_name(info: zipfile.ZipInfo, seen: set[str]) -> None:
    name = info.filename
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ZipRejected("zip_path", f"entry {name!r}: absolute or Windows-style path refused")
    if any(part in ("..", "") for part in name.split("/")):
        raise ZipRejected("zip_path", f"entry {name!r}: path with '..' or empty parts refused")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ZipRejected("zip_path", f"entry {name!r}: symbolic links are refused")
    if name.lower() in seen:
        raise ZipRejected("zip_duplicate", f"entry {name!r} occurs twice")
    seen.add(name.lower())


def _read_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    out = bytearray()
    with zf.open(info) as f:
        while chunk := f.read(CHUNK):
            out += chunk
            if len(out) > limit:
                raise ZipRejected(
                    "zip_bomb", f"entry {info.filename!r} unpacks to more than {limit} bytes"
                )
    return bytes(out)


def unpack(data: bytes, limits: ZipLimits = ZipLimits()) -> list[Entry]:
    """The .xml entries of a zip batch, in the zip's order; ZipRejected on anything suspicious."""
    if len(data) > limits.max_zip_bytes:
        raise ZipRejected("zip_too_large", f"zip is {len(data)} bytes; at most {limits.max_zip_bytes}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ZipRejected("zip_invalid", f"not a readable zip file: {exc}") from None
    files = [i for i in infos if not i.is_dir()]
    if not files:
        raise ZipRejected("zip_empty", "the zip holds no messages")
    if len(files) > limits.max_entries:
        raise ZipRejected(
            "zip_too_many", f"the zip holds {len(files)} entries; at most {limits.max_entries}"
        )
    seen: set[str] = set()
    for info in files:
        _check_name(info, seen)
        if info.flag_bits & 0x1:
            raise ZipRejected("zip_encrypted", f"entry {info.filename!r} is encrypted")
        if info.filename.lower().endswith(".zip"):
            raise ZipRejected("zip_nested", f"entry {info.filename!r}: nested zips are refused")
        if not info.filename.lower().endswith(".xml"):
            raise ZipRejected("zip_not_xml", f"entry {info.filename!r}: only .xml files (OP192)")
        if info.file_size > limits.max_entry_bytes:
            raise ZipRejected("zip_bomb", f"entry {info.filename!r} is {info.file_size} bytes")
        if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
            raise ZipRejected(
                "zip_bomb", f"entry {info.filename!r} compresses {info.file_size // info.compress_size}:1"
            )
    entries: list[Entry] = []
    total = 0
    for info in files:
        try:
            raw = _read_bounded(zf, info, limits.max_entry_bytes)
        except ZipRejected:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise ZipRejected("zip_invalid", f"entry {info.filename!r} cannot be read: {exc}") from None
        total += len(raw)
        if total > limits.max_total_bytes:
            raise ZipRejected("zip_bomb", f"the zip unpacks to more than {limits.max_total_bytes} bytes")
        if raw.startswith(b"PK\x03\x04"):
            raise ZipRejected("zip_nested", f"entry {info.filename!r} is itself a zip")
        entries.append(Entry(info.filename, raw))
    return entries
