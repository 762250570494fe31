"""Hypothesis strategies for hostile and broken messages: not just random bytes, but real messages
of every type broken at the level of the tree (elements dropped, doubled, moved, renamed, texts
replaced by odd values, foreign namespaces) and of the bytes (truncations, flips, encodings,
hostile fragments spliced in)."""

from __future__ import annotations

import functools
import itertools
import re

from hypothesis import strategies as st
from lxml import etree

from gateway.catalog import MessageType

HOSTILE_FRAGMENTS = [
    b"<!DOCTYPE x [<!ENTITY a SYSTEM 'file:///etc/passwd'>]>",
    b"&a;", b"&#0;", b"&#xD800;", b"<![CDATA[", b"]]>", b"<?php ?>", b"<!--", b"-->",
    b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc0\xaf", b"\xed\xa0\x80", b"<x:y xmlns:x=''/>",
    b"<" * 50, b">" * 50, b"<a>" * 300, b"xmlns='urn:other'", b"\r\n", b"%", b"\\u0000",
]
ODD_TEXTS = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40),
    st.sampled_from(["", " ", "0", "-1", "99999999999999999999", "2026-02-30", "2026-13-01", "9999-12-31",
                     "0000-00-00", "1.5", "NaN", "∞", "ＡＢＣ", "\u202e", "\ufeff", "a" * 300,
                     "123456782", "000000000", "<", "&amp;", "]]>"]),
)


@functools.cache
def message_types() -> list[MessageType]:
    from gateway.catalog import all_types

    return list(all_types())


@functools.cache
def _sample(code: str) -> bytes:
    from gateway import samples

    return samples.build(code)


_serial = itertools.count(1)


def sample(code: str) -> bytes:
    """The default sample of a type with a fresh Identificatie: a reused one is its own case
    (tests/fuzz/test_found_by_fuzzing.py), not something every mutant should stumble on."""
    raw = _sample(code)
    for tag in (rb"Identificatie", rb"IdentificatieRetour"):
        raw = re.sub(rb"(<(?:\w+:)?" + tag + rb">)[^<]*(</(?:\w+:)?" + tag + rb">)",
                     lambda m: m.group(1) + b"FZ%010d" % next(_serial) + m.group(2), raw, count=1)
    return raw


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


@st.composite
def tree_mutants(draw) -> bytes:
    """A real message of a random type with 1-4 structural changes."""
    mtype = draw(st.sampled_from(message_types()))
    root = etree.fromstring(sample(mtype.code))
    for _ in range(draw(st.integers(1, 4))):
        els = _elements(root)
        el = draw(st.sampled_from(els))
        op = draw(st.sampled_from(["drop", "double", "text", "rename", "move", "namespace", "attr", "empty"]))
        parent = el.getparent()
        if op == "drop" and parent is not None:
            parent.remove(el)
        elif op == "double" and parent is not None:
            parent.insert(parent.index(el), etree.fromstring(etree.tostring(el)))
        elif op == "text":
            el.text = draw(ODD_TEXTS)
        elif op == "rename":
            el.tag = etree.QName(etree.QName(el).namespace, draw(st.sampled_from(
                ["Bericht", "Header", "Client", "Bsn", "Foo", "BerichtCode", "ToewijzingNummer"]))).text
        elif op == "move" and parent is not None:
            target = draw(st.sampled_from(els))
            if el not in target.iterancestors() and target is not el:
                target.append(el)
        elif op == "namespace":
            el.tag = etree.QName(draw(st.sampled_from(
                ["urn:other", "http://www.istandaarden.nl/ijw/3_2/jw301/schema",
                 "http://www.istandaarden.nl/iwmo/3_2/wmo323/schema", "http://www.istandaarden.nl/ijw/3_1/basisschema"])),
                etree.QName(el).localname).text
        elif op == "attr":
            el.set(draw(st.sampled_from(["id", "{http://www.w3.org/2001/XMLSchema-instance}nil",
                                         "{http://www.w3.org/2001/XMLSchema-instance}type"])),
                   draw(st.sampled_from(["true", "x", "xs:string", ""])))
        elif op == "empty":
            for child in list(el):
                el.remove(child)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@st.composite
def byte_mutants(draw) -> bytes:
    """A real message with bytes cut, flipped, or a hostile fragment spliced in."""
    raw = bytearray(sample(draw(st.sampled_from(message_types())).code))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["cut", "flip", "splice", "recode"]))
        pos = draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "cut":
            del raw[pos:pos + draw(st.integers(1, 200))]
        elif op == "flip" and raw:
            raw[pos] = draw(st.integers(0, 255))
        elif op == "splice":
            raw[pos:pos] = draw(st.sampled_from(HOSTILE_FRAGMENTS))
        elif op == "recode":
            try:
                raw = bytearray(bytes(raw).decode("utf-8").encode(draw(st.sampled_from(
                    ["utf-16", "utf-16-be", "utf-32", "latin-1", "cp1252"])), errors="replace"))
            except UnicodeDecodeError:
                pass
    return bytes(raw)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DIGITS = re.compile(r"^\d+$")


@st.composite
def value_mutants(draw) -> bytes:
    """A real message with 1-3 dates or numbers changed to other well-formed values: it mostly
    stays schema-valid, so the rules (levels 2-4) and the store see it."""
    from datetime import date

    root = etree.fromstring(sample(draw(st.sampled_from(message_types())).code))
    leaves = [e for e in _elements(root) if len(e) == 0 and e.text and
              (_DATE.match(e.text) or _DIGITS.match(e.text))]
    for _ in range(draw(st.integers(1, 3))):
        el = draw(st.sampled_from(leaves))
        if _DATE.match(el.text):
            el.text = draw(st.dates(date(2000, 1, 1), date(2035, 12, 31))).isoformat()
        else:
            n = len(el.text)
            el.text = str(draw(st.integers(0, 10 ** n - 1))).zfill(n)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def hostile_messages() -> st.SearchStrategy[bytes]:
    return st.one_of(value_mutants(), tree_mutants(), byte_mutants(), st.binary(max_size=600),
                     st.text(max_size=300).map(lambda s: s.encode("utf-8")))
