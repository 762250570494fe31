"""gateway.ggk.b64.strict_decode decodes and refuses exactly as binascii's strict mode does."""

from __future__ import annotations

import base64
import binascii
import random

import pytest

from gateway.ggk.b64 import encode, strict_decode

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _binascii(data: bytes) -> bytes | str:
    try:
        return binascii.a2b_base64(data, strict_mode=True)
    except binascii.Error:
        return "refused"


def _ours(data: bytes) -> bytes | str:
    try:
        return strict_decode(data)
    except binascii.Error:
        return "refused"


def _cases(n: int) -> list[bytes]:
    rnd = random.Random(20261206)
    out = [b"", b"QQ==", b"QQ=", b"QQ", b"QQ==QQ==", b"Q===", b"====", b"QUJD", b"QUJD=", b"QUJD\n", b" QUJD",
           b"QU JD", b"QUJ=", b"QR==", b"=QUJD", b"QUJD-_", b"QUJD\r\n"]
    for i in range(n):
        if i % 2:  # noise from the alphabet, padding and characters a sender might slip in
            out.append(bytes(rnd.choice(_ALPHABET + b"===\n -_.\r\t") for _ in range(rnd.randint(1, 14))))
        else:  # valid base64 with a character changed or inserted
            s = bytearray(base64.b64encode(rnd.randbytes(rnd.randint(0, 12))))
            if s:
                s[rnd.randrange(len(s))] = rnd.choice(_ALPHABET + b"=\n ")
            s.insert(rnd.randint(0, len(s)), rnd.choice(_ALPHABET + b"=\n "))
            out.append(bytes(s))
    return out


def test_same_bytes_and_same_refusals_as_binascii_strict_mode() -> None:
    cases = _cases(40_000)
    differ = [c for c in cases if _ours(c) != _binascii(c)]
    assert not differ, f"{len(differ)} inputs decoded differently, e.g. {differ[:5]}"
    assert sum(_binascii(c) == "refused" for c in cases) > 10_000  # the refusals were exercised


def test_a_payload_is_decoded_without_binascii(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast decoder does the usual work; binascii only sees what it refuses."""
    raw = random.Random(1).randbytes(3000)
    payload = base64.b64encode(raw)
    monkeypatch.setattr(binascii, "a2b_base64", lambda *a, **k: pytest.fail("binascii decoded a valid payload"))
    assert strict_decode(payload) == raw
    assert strict_decode(payload.decode("ascii")) == raw


def test_encode_is_binascii_without_a_newline() -> None:
    rnd = random.Random(7)
    for n in (0, 1, 2, 3, 4, 57, 58, 76, 77, 3000, 100_001):
        data = rnd.randbytes(n)
        assert encode(data) == binascii.b2a_base64(data, newline=False)
