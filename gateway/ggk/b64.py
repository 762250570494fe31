"""The payload's base64, fast: the strict decode of what comes in, the encode of what goes out.

`binascii.a2b_base64(strict_mode=True)` decides what the gateway accepts (with the padding-bits
rule in gateway.ggk.schema). pybase64 decodes the same input in a twentieth of the time (SIMD),
and refuses a little more than binascii's strict mode (a full quantum followed by '=' binascii
takes): it is tried first, and whatever it refuses is decoded by binascii, so the bytes and every
refusal stay binascii's (tests/ggk/test_b64.py compares the two on generated input).
"""

from __future__ import annotations

import binascii

import pybase64


def strict_decode(data: bytes | memoryview | str) -> bytes:
    """Decode like binascii.a2b_base64(data, strict_mode=True); raises binascii.Error as it does."""
    try:
        return pybase64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return binascii.a2b_base64(data, strict_mode=True)


def encode(data: bytes) -> bytes:
    """Standard base64 without line breaks, as binascii.b2a_base64(data, newline=False) (pybase64:
    a tenth of its time on a retour, which every Du01 carries)."""
    return pybase64.b64encode(data)
