"""schema.base64_ok is libxml2's xs:base64Binary check (the one the full envelope schema makes),
and a strict decode plus schema.trailing_bits_ok never accepts what it refuses: checked against
libxml2 itself on random strings over the characters that matter."""

from __future__ import annotations

import base64
import binascii
import random

from lxml import etree

from gateway.ggk import schema

XSD = etree.XMLSchema(etree.fromstring(
    b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="b" type="xs:base64Binary"/>'
    b"</xs:schema>"))
CHARS = "AQgwBCRZaz09+/= \t\n\r!#\u00e9.-_"


def libxml2(text: str) -> bool:
    el = etree.Element("b")
    el.text = text
    return XSD.validate(el)


def strict(text: str) -> bool:
    try:
        data = text.encode("ascii").translate(None, b" \t\r\n")
        binascii.a2b_base64(data, strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        return False
    return schema.trailing_bits_ok(data)


def test_base64_ok_is_libxml2s_rule():
    rnd = random.Random(64)
    samples = ["", "QQ==", "QR==", "QUI=", "QUJ=", "QUJD", "QUJ", "Q Q = =", "QQ=\n=", "QQ=A", "QQ===", "!QQ==",
               "====", "="]
    samples += ["".join(rnd.choice(CHARS) for _ in range(rnd.randrange(16))) for _ in range(30_000)]
    for n in range(1, 40):  # real encodings, then one character changed
        encoded = base64.b64encode(rnd.randbytes(n)).decode()
        samples.append(encoded)
        for _ in range(20):
            i = rnd.randrange(len(encoded))
            samples.append(encoded[:i] + rnd.choice(CHARS) + encoded[i + 1:])
    assert [s for s in samples if schema.base64_ok(s) != libxml2(s)] == []
    # the reader's strict decode accepts nothing libxml2 refuses (it refuses stray characters libxml2 skips)
    assert [s for s in samples if strict(s) and not libxml2(s)] == []
    assert sum(map(strict, samples)) > 1_000
