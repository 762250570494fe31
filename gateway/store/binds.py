"""Bind processors that give the same values as SQLAlchemy's, in fewer instructions (issue 14).

`Prepared` converts every parameter of every row with the processor Core would use. Three of
them run on every message: SQLite's DATETIME and DATE (a dict of the fields, then %-formatting)
and JSON (json.dumps, which builds its C encoder again at every call). `faster` swaps such a
processor for one that writes the same text directly, and keeps Core's own for any other value,
type or storage format; each swap is checked against Core's processor on a sample first.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary
from sqlalchemy.dialects import sqlite

_SAMPLE_DATETIME = datetime(987, 6, 5, 4, 3, 2, 1, tzinfo=UTC)
_SAMPLE_DATE = date(987, 6, 5)
_SAMPLE_BYTES = b"\x00\xffx"
_SAMPLE_JSON = [["a", "é\n\"x\""], {"b": 1.5, "c": None, "d": True, "e": [1, -2]}]

try:  # json.dumps's own C encoder, made once (json.encoder.JSONEncoder.iterencode makes it per call)
    from json.encoder import c_make_encoder, encode_basestring_ascii

    _ENCODE: Any = c_make_encoder(None, json.JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ",
                                  False, False, True) if c_make_encoder is not None else None
except ImportError:  # pragma: no cover (CPython without _json)
    _ENCODE = None


def _datetime(proc: Any) -> Any:
    def process(value: Any) -> Any:
        if value.__class__ is datetime:  # (a subclass, a date, None: as Core does)
            # the offset of an aware one left off (not converted), as Core's format does; cut
            # from isoformat's text rather than a naive copy made first (twice as long)
            return value.isoformat(" ", "microseconds")[:26]
        return proc(value)

    process.inline = (datetime, 'v.isoformat(" ", "microseconds")[:26]')
    return process


def _date(proc: Any) -> Any:
    def process(value: Any) -> Any:
        if value.__class__ is date:
            return value.isoformat()
        return proc(value)

    process.inline = (date, "v.isoformat()")
    return process


def _json(proc: Any) -> Any:
    encode = _ENCODE

    def process(value: Any) -> Any:
        if value.__class__ is list or value.__class__ is dict:
            return "".join(encode(value, 0))
        return proc(value)

    process.inline = (list, '"".join(encode(v, 0))')  # (a dict: by the call)
    return process


def _binary(proc: Any) -> Any:
    def process(value: Any) -> Any:
        # SQLite binds bytes and Core's memoryview of them alike (a blob of the same bytes)
        if value.__class__ is bytes:
            return value
        return proc(value)

    process.inline = (bytes, "v")
    return process


def _same(fast: Any, proc: Any, sample: Any) -> Any:
    """`fast` when it gives what `proc` gives for `sample` (and for None), else `proc`."""
    try:
        return fast if fast(sample) == proc(sample) and fast(None) == proc(None) else proc
    except Exception:  # noqa: BLE001 (Core's processor as it is, whatever the faster one did)
        return proc


def faster(proc: Any, type_: Any, dialect: Any, serializer: Any) -> Any:
    """A processor giving what `proc` (Core's for `type_` on `dialect`) gives, faster where it can.
    `serializer`: the JSON serializer `proc` was made with (json.dumps unless the engine has its
    own)."""
    if proc is None:
        return None
    if isinstance(type_, JSON):
        if serializer is json.dumps and _ENCODE is not None:
            return _same(_json(proc), proc, _SAMPLE_JSON)
        return proc
    if dialect.name != "sqlite":
        return proc
    impl = type_.dialect_impl(dialect)
    if isinstance(impl, sqlite.DATETIME) and impl._storage_format == sqlite.DATETIME._storage_format:
        return _same(_datetime(proc), proc, _SAMPLE_DATETIME)
    if isinstance(impl, sqlite.DATE) and impl._storage_format == sqlite.DATE._storage_format:
        return _same(_date(proc), proc, _SAMPLE_DATE)
    if isinstance(type_, LargeBinary) and proc(_SAMPLE_BYTES).__class__ is memoryview:  # Core's sqlite3.Binary
        return _same(_binary(proc), proc, _SAMPLE_BYTES)
    return proc
