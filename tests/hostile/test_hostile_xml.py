"""Hostile XML: every case is refused with a PARSE issue, never a stack trace, never a fetch.

Covers the hardened parser (gateway.xmlparse) and the validate API built on it.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway import samples, xmlparse
from testsupport.listener import ConnectionCounter
from gateway.xmlparse import MB, ParseLimits, hardened_parser, parse
from schemas.registry import SchemaRegistry
from validators.validate import validate_bytes


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    reg = SchemaRegistry.default()
    if not reg.types():
        pytest.skip("the package's generated schemas are not present")
    return reg


@pytest.fixture
def listener():
    server = ConnectionCounter()
    yield server
    server.close()


def refused(raw: bytes, limits: ParseLimits | None = None) -> str:
    """Parse must refuse `raw` with exactly one PARSE error; returns its text."""
    result = parse(raw, limits)
    assert result.root is None
    errors = [i for i in result.issues if i.severity == "error"]
    assert len(errors) == 1, result.issues
    assert errors[0].rule == "PARSE"
    return errors[0].text


def parser_alone(raw: bytes) -> etree._Element | None:
    """What the hardened lxml parser does on its own (past the DOCTYPE check): a refusal is
    fine, an expansion or a fetch is not."""
    try:
        return etree.fromstring(raw, hardened_parser())
    except etree.XMLSyntaxError:
        return None


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Bericht>&lol9;</Bericht>"""


def test_billion_laughs_is_refused_at_the_doctype():
    text = refused(BILLION_LAUGHS)
    assert "DOCTYPE" in text
    assert parse(BILLION_LAUGHS).issues[0].line == 2


def test_parser_itself_does_not_expand_entities():
    """Second line of defence: even past the DOCTYPE check the parser expands nothing."""
    try:
        root = etree.fromstring(BILLION_LAUGHS, hardened_parser())
    except etree.XMLSyntaxError as exc:  # libxml2's amplification guard may stop it first
        assert "amplification" in str(exc) or "entity" in str(exc).lower()
        return
    assert "lol" not in "".join(root.itertext())


def test_external_file_entity_is_refused_and_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    raw = (
        f'<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n<a>&x;</a>'
    ).encode()
    assert "DOCTYPE" in refused(raw)
    root = parser_alone(raw)
    assert root is None or "TOPSECRET" not in "".join(root.itertext())


def test_external_http_entity_is_refused_and_not_fetched(listener):
    url = f"http://127.0.0.1:{listener.port}/x"
    raw = f'<!DOCTYPE a [<!ENTITY x SYSTEM "{url}">]><a>&x;</a>'.encode()
    assert "DOCTYPE" in refused(raw)
    parser_alone(raw)
    assert listener.connections == 0


def test_parameter_entities_are_refused_and_not_fetched(listener):
    url = f"http://127.0.0.1:{listener.port}/evil.dtd"
    raw = f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY % p SYSTEM "{url}"> %p;]><a/>'.encode()
    assert "DOCTYPE" in refused(raw)
    parser_alone(raw)
    assert listener.connections == 0


def test_external_dtd_is_refused_and_not_fetched(listener):
    url = f"http://127.0.0.1:{listener.port}/bericht.dtd"
    raw = f'<?xml version="1.0"?>\n<!DOCTYPE Bericht SYSTEM "{url}">\n<Bericht/>'.encode()
    assert "DOCTYPE" in refused(raw)
    parser_alone(raw)
    assert listener.connections == 0


@pytest.mark.parametrize(
    "prolog",
    [b"<!-- a comment -->\n", b"<?pi data?>\n", b"\n\n  ", b"<!-- x --><?y?>"],
    ids=["after-comment", "after-pi", "after-whitespace", "after-both"],
)
def test_doctype_anywhere_in_the_prolog_is_refused(prolog):
    raw = b'<?xml version="1.0"?>\n' + prolog + b"<!DOCTYPE a []><a/>"
    assert "DOCTYPE" in refused(raw)


def test_xinclude_is_not_processed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    raw = (
        '<a xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<xi:include href="{secret.as_uri()}" parse="text"/></a>'
    ).encode()
    result = parse(raw)
    assert result.root is not None
    assert "TOPSECRET" not in etree.tostring(result.root).decode()


def test_document_over_the_size_limit_is_refused_before_parsing(monkeypatch):
    raw = b"<a>" + b"x" * (26 * MB) + b"</a>"

    def no_parsing(*args, **kwargs):
        raise AssertionError("the parser must not see an oversized document")

    monkeypatch.setattr(xmlparse.etree, "fromstring", no_parsing)
    text = refused(raw)
    assert "26.0 MB" in text and "25.0 MB" in text


def test_size_limit_is_configurable():
    assert "limit is 100 bytes" in refused(b"<a>" + b"x" * 200 + b"</a>", ParseLimits(max_bytes=100))
    assert parse(b"<a>x</a>", ParseLimits(max_bytes=100)).ok


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GATEWAY_XML_MAX_DEPTH", "3")
    limits = ParseLimits()
    assert limits.max_depth == 3
    assert "deeper than 3" in refused(b"<a><b><c><d/></c></b></a>", limits)


def test_depth_limit():
    limits = ParseLimits(max_depth=100)
    ok = b"<a>" * 100 + b"</a>" * 100
    assert parse(ok, limits).ok
    too_deep = b"<a>" * 101 + b"</a>" * 101
    assert "deeper than 100" in refused(too_deep, limits)


def test_very_deep_nesting_is_refused_without_recursion_error():
    raw = b"<a>" * 100_000 + b"</a>" * 100_000
    text = refused(raw)
    assert "deeper" in text


def test_invalid_utf8_names_line_and_column():
    raw = b'<?xml version="1.0" encoding="UTF-8"?>\n<a>\n  caf\xe9</a>'
    result = parse(raw)
    assert result.root is None
    issue = result.issues[0]
    assert issue.line == 3
    assert "0xE9" in issue.text and "line 3, column 6" in issue.text


@pytest.mark.parametrize(
    "raw,word",
    [
        ('<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16"), "UTF-16"),
        ('<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16-le"), "UTF-16"),
        ('<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16-be"), "UTF-16"),
        ('<?xml version="1.0" encoding="UTF-32"?><a/>'.encode("utf-32"), "UTF-32"),
        ('<?xml version="1.0" encoding="ISO-8859-1"?><a>caf\xe9</a>'.encode("latin-1"), "ISO-8859-1"),
        (b'<?xml version="1.0" encoding="windows-1252"?><a>x</a>', "windows-1252"),
    ],
    ids=["utf16-bom", "utf16le-no-bom", "utf16be-no-bom", "utf32", "latin1", "cp1252"],
)
def test_other_encodings_are_refused(raw, word):
    text = refused(raw)
    assert word in text and "UTF-8" in text and "OP192" in text


def test_bom_is_a_warning_by_default_and_the_message_still_validates(registry):
    raw = b"\xef\xbb\xbf" + samples.build("JW305")
    report = validate_bytes(raw, registry)
    assert report.valid
    assert [(i.rule, i.severity) for i in report.issues] == [("PARSE", "warning")]
    assert "OP192" in report.issues[0].text


def test_bom_can_be_made_an_error():
    raw = b"\xef\xbb\xbf<a/>"
    assert "byte order mark" in refused(raw, ParseLimits(bom_severity="error"))


def test_truncated_document_names_line_and_column():
    raw = samples.build("JW301")
    cut = raw[: len(raw) // 2]
    result = parse(cut)
    assert result.root is None
    issue = result.issues[0]
    assert issue.rule == "PARSE" and issue.line is not None and issue.line > 1
    assert f"line {issue.line}, column" in issue.text


@pytest.mark.parametrize("raw", [b"", b"   \n\t  "], ids=["empty", "whitespace"])
def test_empty_document(raw):
    assert "Empty document" in refused(raw)


@pytest.mark.parametrize(
    "raw",
    [b"hello world", b'{"Bericht": 1}', b"\x89PNG\r\n\x1a\n\x00\x00", b"PK\x03\x04binary"],
    ids=["text", "json", "png", "zip"],
)
def test_non_xml(raw):
    assert "Not an XML document" in refused(raw)


def test_undefined_entity_is_malformed():
    text = refused(b"<a>&foo;</a>")
    assert "Malformed XML at line 1" in text and "foo" in text


def test_validate_bytes_reports_hostile_input_as_invalid_without_raising(registry):
    report = validate_bytes(BILLION_LAUGHS, registry)
    assert not report.valid
    assert report.message is None and report.root is None
    assert report.public("x.xml")["issues"][0]["rule"] == "PARSE"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(registry, raw):
    report = validate_bytes(raw, registry)
    assert report.valid or report.issues


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_corrupted_messages_never_raise(registry, data):
    raw = bytearray(samples.build("JW307"))
    for _ in range(data.draw(st.integers(1, 5))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    report = validate_bytes(bytes(raw), registry)
    assert report.valid or report.issues
