"""Detection: standard, release and message type from the root namespace and BerichtCode."""

from __future__ import annotations

import pytest
from lxml import etree
from validation_helpers import find, mutate

from gateway import catalog, samples
from gateway.detect import detect
from gateway.xmlparse import parse


def root_of(raw: bytes) -> etree._Element:
    result = parse(raw)
    assert result.root is not None, result.issues
    return result.root


def detect_error(raw: bytes, registry) -> str:
    """Detection must fail with exactly one DETECT issue; returns its text."""
    found = detect(root_of(raw), registry)
    assert found.mtype is None
    assert [i.rule for i in found.issues] == ["DETECT"]
    return found.issues[0].text


def renamespace(raw: bytes, old: str, new: str) -> bytes:
    return raw.replace(old.encode(), new.encode())


@pytest.mark.parametrize("mtype", catalog.ALL, ids=lambda t: t.code)
def test_every_message_type_is_detected(mtype, registry):
    found = detect(root_of(samples.build(mtype.code)), registry)
    assert found.issues == []
    assert found.mtype == mtype
    assert (found.standard, found.code, found.mtype.release) == (mtype.standard, mtype.code, "3.2")


def test_detect_without_registry_uses_the_catalogue_release():
    found = detect(root_of(samples.build("WMO317")))
    assert found.mtype == catalog.by_code("WMO317")


def test_root_not_bericht(registry):
    raw = samples.build("JW301").replace(b"<Bericht ", b"<Berichten ").replace(
        b"</Bericht>", b"</Berichten>"
    )
    text = detect_error(raw, registry)
    assert text == "Root element is 'Berichten', expected 'Bericht'"


def test_no_namespace(registry):
    raw = b"<Bericht><Header><BerichtCode>436</BerichtCode></Header></Bericht>"
    text = detect_error(raw, registry)
    assert "no namespace" in text and "xmlns=" in text


def test_foreign_namespace(registry):
    raw = b'<Bericht xmlns="http://example.com/bericht"><Header/></Bericht>'
    text = detect_error(raw, registry)
    assert "Unknown namespace 'http://example.com/bericht'" in text


def test_unknown_standard(registry):
    raw = renamespace(
        samples.build("JW301"), "istandaarden.nl/ijw/3_2/jw301", "istandaarden.nl/iwlz/3_2/wlz301"
    )
    text = detect_error(raw, registry)
    assert "Unknown standard 'iwlz'" in text and "ijw and iwmo" in text


def test_release_not_held_names_it_and_the_held_ones(registry):
    raw = renamespace(samples.build("JW301"), "ijw/3_2/jw301", "ijw/3_1/jw301")
    text = detect_error(raw, registry)
    assert "Release 3.1 of ijw is not held" in text
    assert "releases held for ijw: 3.2" in text


def test_unknown_message_number(registry):
    raw = renamespace(samples.build("WMO301"), "iwmo/3_2/wmo301", "iwmo/3_2/wmo399")
    text = detect_error(raw, registry)
    assert "Unknown message 'wmo399'" in text


def test_message_prefix_of_the_other_standard(registry):
    raw = renamespace(samples.build("JW301"), "ijw/3_2/jw301", "ijw/3_2/wmo301")
    assert "Unknown message 'wmo301'" in detect_error(raw, registry)


def test_namespace_and_berichtcode_mismatch_says_both(registry):
    raw = samples.build("JW301").replace(b"<BerichtCode>436<", b"<BerichtCode>438<")
    found = detect(root_of(raw), registry)
    issue = found.issues[0]
    assert issue.text == "Namespace says JW301 (BerichtCode 436) but Header/BerichtCode is 438 (JW305)"
    assert issue.path == "/Bericht/Header/BerichtCode"
    assert issue.line == 4


def test_berichtcode_of_the_other_standard(registry):
    # 414 is WMO301: within ijw 3.2 it names no message at all.
    raw = samples.build("JW301").replace(b"<BerichtCode>436<", b"<BerichtCode>414<")
    text = detect_error(raw, registry)
    assert "Namespace says JW301 (BerichtCode 436)" in text
    assert "414, which is no ijw 3.2 message" in text


def test_missing_berichtcode(registry):
    raw = mutate(samples.build("JW305"), lambda r: find(r, "Header").remove(find(r, "Header/BerichtCode")))
    found = detect(root_of(raw), registry)
    assert found.issues[0].text.startswith("Missing Header/BerichtCode")
    assert "JW305" in found.issues[0].text and "438" in found.issues[0].text
    assert found.issues[0].path == "/Bericht/Header"


def test_empty_berichtcode(registry):
    raw = samples.build("JW305").replace(b"<BerichtCode>438</BerichtCode>", b"<BerichtCode> </BerichtCode>")
    assert detect_error(raw, registry).startswith("Missing Header/BerichtCode")


def test_missing_header(registry):
    raw = mutate(samples.build("JW307"), lambda r: r.remove(find(r, "Header")))
    found = detect(root_of(raw), registry)
    assert found.issues[0].text.startswith("Missing Header/BerichtCode")
    assert found.issues[0].path == "/Bericht"


def test_message_type_without_schema_in_registry(official_registry):
    """The official iWmo set has no retour XSDs: a WMO302 is known but cannot be validated."""
    found = detect(root_of(samples.build("WMO302")), official_registry)
    assert found.mtype is None and found.code == "WMO302"
    assert "No schema held for WMO302 (iwmo 3.2)" in found.issues[0].text


def test_hostile_long_names_are_cut_in_texts(registry):
    raw = f'<Bericht xmlns="http://example.com/{"x" * 5000}"/>'.encode()
    assert len(detect_error(raw, registry)) < 400
