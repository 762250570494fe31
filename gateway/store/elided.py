"""An enveloped message's envelope and the Du01 it is answered with, kept without the base64 of
their payload: the envelope carries the message itself (messages.raw), the Du01 its retour
(messages.retour), and keeping them twice cost SQLite a page more (a WAL frame) at every commit
(28.8 -> 27.8 frames per enveloped JW301, against 25.9 for the bare one).

The base64 is cut out only where it stands in the bytes exactly as `pybase64.b64encode` writes it
(one run, no line breaks: every envelope in the plain form, every Du01 the gateway builds), and
the offset kept; anything else is kept whole (offset NULL). `whole` puts the same bytes back, and
`whole_row` checks an envelope put back together against envelope_sha256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pybase64
from sqlalchemy import select
from sqlalchemy.engine import Connection

from gateway.store import tables as t


def cut(data: bytes | None, payload: bytes | None, at: int | None = None) -> tuple[bytes | None, int | None]:
    """`data` without the base64 of `payload` and where it stood; (data, None) when it is not there.
    `at`: where its writer or reader knows it stands (ggk.read.Head.payload_at, the Du01 template),
    which spares encoding the payload again and searching for it."""
    if not data or not payload:
        return data, None
    if at is not None:
        end = at + (len(payload) + 2) // 3 * 4
        if 0 < at and end < len(data) and data[at - 1] == _GT and data[end] == _LT:  # between its tags
            return data[:at] + data[end:], at
    encoded = pybase64.b64encode(payload)
    at = _find(data, encoded)
    if at < 0:
        return data, None
    return data[:at] + data[at + len(encoded):], at


_GT, _LT = ord(">"), ord("<")


def _find(data: bytes, encoded: bytes) -> int:
    """data.find(encoded), by its first bytes and a compare: bytes.find prepares the whole needle
    first, which for a payload of kilobytes cost more than the rest of the envelope's path."""
    start = encoded[:64]
    at = data.find(start)
    while at >= 0 and not data.startswith(encoded, at):
        at = data.find(start, at + 1)
    return at


def whole(data: bytes | None, at: int | None, payload: bytes | None) -> bytes | None:
    """The bytes `cut` was given back."""
    if data is None or at is None:
        return data
    return data[:at] + pybase64.b64encode(payload or b"") + data[at:]


def whole_row(conn: Connection, row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of tables.message_envelopes with `envelope` and `answer` whole (the message's bytes
    read back for them); an envelope put back together is checked against envelope_sha256."""
    out = dict(row)
    envelope, envelope_at = out.pop("envelope_cut"), out.pop("envelope_payload_at")
    answer, answer_at = out.pop("answer_cut"), out.pop("answer_payload_at")
    payload = retour = None
    if envelope_at is not None or answer_at is not None:
        m = t.messages.c
        payload, retour = conn.execute(select(t.stored(m.raw), t.stored(m.retour)).where(m.id == out["message_id"])).one()
    out["envelope"] = whole(envelope, envelope_at, payload)
    out["answer"] = whole(answer, answer_at, retour)
    if envelope_at is not None and hashlib.sha256(out["envelope"]).hexdigest() != out["envelope_sha256"]:
        raise RuntimeError(f"the envelope of message {out['message_id']} does not match its SHA-256")
    return out
