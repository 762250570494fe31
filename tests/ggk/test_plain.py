"""plain.head, the receive path's reading of a Di01/Du01 without a tree, held to the full path
(hardened parser, our schema, read.head): whatever it accepts, the full path accepts with the same
values; whatever the full path refuses, it declines. It must also take the form nearly every
envelope has (ours, the official examples), or it saves nothing."""

from __future__ import annotations

import base64
import importlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import ggk, samples
from gateway.ggk import plain
from gateway.ggk.errors import EnvelopeError
from gateway.store.elided import cut
from testsupport import ggk_corpus

read = importlib.import_module("gateway.ggk.read")


def _full(raw: bytes) -> read.Head | None:
    """The full path's reading of a Di01/Du01; None when it refuses it or it is another message."""
    try:
        root = read.parse_root(raw)
        code = read.check_root(root)
        return read.head(root, code) if code in ("Di01", "Du01") else None
    except EnvelopeError:
        return None


def _values(h: read.Head) -> dict:
    return {name: getattr(h, name) for name in read.Head.__slots__ if name != "payload_at"}


def _agrees(raw: bytes) -> bool:
    """Asserts plain => full with equal values, and that plain's payload_at is where the
    payload's base64 stands (the store cuts it out there); returns whether plain read it."""
    fast = plain.head(raw)
    if fast is None:
        return False
    full = _full(raw)
    assert full is not None, raw[:300]
    assert _values(fast) == _values(full)
    encoded = base64.b64encode(fast.payload)
    at = fast.payload_at
    assert raw[at:at + len(encoded)] == encoded and raw[at - 1:at] == b">" and raw[at + len(encoded):][:1] == b"<"
    if fast.payload:
        assert cut(raw, fast.payload, at) == cut(raw, fast.payload)  # as the search finds it
    return True


def test_the_common_form_is_read_without_a_tree(official_examples):
    own = ggk_corpus.own_envelopes()
    envelopes = {name: xml for name, xml in own.items() if name.startswith(("Di01", "Du01"))}
    assert len(envelopes) > 20
    for name, xml in envelopes.items():
        assert _agrees(xml), name
    assert _agrees(official_examples["envelopHeenbericht-ggk_Di01_v21-xml.xml"])
    assert _agrees(official_examples["envelopRetourbericht-ggk_Du01-v21.xml"])
    # a tekstBestand, a Fo01: the full path's
    assert plain.head(official_examples["envelopHeenbericht-ggk_Di01_v21-tekst.xml"]) is None
    assert plain.head(official_examples["Fo01.xml"]) is None


def test_the_conformance_corpus(official_examples):
    """Every valid variant and every single mutation of the conformance corpus."""
    own = ggk_corpus.own_envelopes()
    bases = {f"official {name}": xml for name, xml in official_examples.items()}
    bases |= own | ggk_corpus.valid_variants(own)
    taken = declined = 0
    for sample in ggk_corpus.samples_of(bases):
        if _agrees(sample.xml):
            taken += 1
        else:
            declined += 1
    assert taken > 100 and declined > 100, (taken, declined)


JW301 = samples.allocation("ijw", identificatie="P0000000001")
DI01 = ggk.wrap(JW301)
DU01 = ggk_corpus.own_envelopes()["Du01 JW302"]
ORG = b"<StUF:organisatie>0599</StUF:organisatie>"

# Each a change the plain form does not have: declined, whatever the full path then says.
DECLINED = {
    "comment": lambda x: x.replace(b"<GGK:parameters>", b"<!-- x --><GGK:parameters>"),
    "processing instruction": lambda x: x.replace(b"<GGK:parameters>", b"<?pi x?><GGK:parameters>"),
    "CDATA": lambda x: x.replace(ORG, b"<StUF:organisatie><![CDATA[0599]]></StUF:organisatie>"),
    "entity reference": lambda x: x.replace(b">iJwiWmoGateway<", b">iJw&amp;iWmo<"),
    "character reference": lambda x: x.replace(ORG, b"<StUF:organisatie>&#48;599</StUF:organisatie>"),
    "attribute": lambda x: x.replace(b"<StUF:functie>", b'<StUF:functie a="1">'),
    "xsi attribute on the root": lambda x: x.replace(
        b' xmlns:GGK="', b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:GGK="'),
    "space in a tag": lambda x: x.replace(b"<StUF:functie>", b"<StUF:functie >"),
    "self-closing": lambda x: x.replace(b"<StUF:functie>JW301</StUF:functie>", b"<StUF:functie/>"),
    "newline in the base64": lambda x: x.replace(b"<GGK:xmlBestand>PD94", b"<GGK:xmlBestand>PD94\n"),
    "non-ASCII": lambda x: x.replace(b">iJwiWmoGateway<", ">iJwiWmoGatewäy<".encode()),
    "byte order mark": lambda x: b"\xef\xbb\xbf" + x,
    "DOCTYPE": lambda x: x.replace(b"?>\n", b"?>\n<!DOCTYPE x>\n", 1),
    "other declaration": lambda x: x.replace(b"<?xml version='1.0' encoding='UTF-8'?>", b'<?xml version="1.0"?>'),
    "trailing comment": lambda x: x + b"<!-- x -->",
    "trailing text": lambda x: x + b"x",
    "prefixes swapped": lambda x: x.replace(
        b'xmlns:StUF="http://www.egem', b'xmlns:StUF="http://www.stufstandaarden.nl/koppelvlak/ggk0210" '
        b'xmlns:X="http://www.egem'),
    "one prefix twice": lambda x: x.replace(b'xmlns:StUF="http://www.egem.nl/StUF/StUF0301"',
                                            b'xmlns:GGK="http://www.egem.nl/StUF/StUF0301"'),
    "reserved prefix": lambda x: x.replace(b"StUF", b"xmlStUF").replace(b"xmlStUF0301", b"StUF0301"),
    "control character": lambda x: x.replace(b">iJwiWmoGateway<", b">iJw\x01Gateway<"),
    "tab in a value": lambda x: x.replace(b">iJwiWmoGateway<", b">iJw\tGateway<"),
    "'>' in a value": lambda x: x.replace(b">iJwiWmoGateway<", b">iJw>Gateway<"),
    "organisatie of 201": lambda x: x.replace(ORG, b"<StUF:organisatie>" + b"9" * 201 + b"</StUF:organisatie>"),
    "applicatie of 2": lambda x: x.replace(b">iJwiWmoGateway<", b">iJ<"),
    "applicatie of 51": lambda x: x.replace(b">iJwiWmoGateway<", b">" + b"a" * 51 + b"<"),
    "functie of 31": lambda x: x.replace(b">JW301<", b">" + b"J" * 31 + b"<"),
    "tijdstip of 7": lambda x: re.sub(rb"<StUF:tijdstipBericht>[0-9]+<", b"<StUF:tijdstipBericht>2026120<", x),
    "tijdstip of 18": lambda x: re.sub(rb"<StUF:tijdstipBericht>[0-9]+<",
                                       b"<StUF:tijdstipBericht>" + b"1" * 18 + b"<", x),
    "upper-case reference": lambda x: re.sub(rb"<StUF:referentienummer>([^<]+)<",
                                             lambda m: b"<StUF:referentienummer>" + m.group(1).upper() + b"<", x),
    "version of 3": lambda x: x.replace(b"<GGK:functieVersie>0003", b"<GGK:functieVersie>003"),
    "crossRefnummer in a Di01": lambda x: x.replace(
        b"<StUF:functie>",
        b"<StUF:crossRefnummer>" + ggk_corpus.UUID4.encode() + b"</StUF:crossRefnummer><StUF:functie>"),
    "base64 padding": lambda x: x.replace(b"</GGK:xmlBestand>", b"=</GGK:xmlBestand>"),
    "base64 stray character": lambda x: x.replace(b"<GGK:xmlBestand>PD94", b"<GGK:xmlBestand>PD9*"),
    "element missing": lambda x: x.replace(b"<GGK:applicatieSubversie>0000</GGK:applicatieSubversie>", b""),
    "element twice": lambda x: x.replace(ORG, ORG + ORG),
    "unknown element": lambda x: x.replace(ORG, ORG + b"<StUF:x>1</StUF:x>"),
    "other root": lambda x: x.replace(b"envelopHeenbericht-ggk_Di01", b"envelopHeenbericht-ggk_Di02"),
    "berichtcode of the other": lambda x: x.replace(b">Di01<", b">Du01<"),
}


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_what_the_plain_form_has_not_is_declined(name):
    changed = DECLINED[name](DI01)
    assert changed != DI01, name
    assert plain.head(changed) is None


def test_a_du01_without_crossrefnummer_is_declined():
    assert _agrees(DU01)
    cross = DU01[DU01.index(b"<StUF:crossRefnummer>"):DU01.index(b"</StUF:crossRefnummer>") + 22]
    assert plain.head(DU01.replace(cross, b"")) is None


PLAIN_CHANGES = {
    "no declaration": lambda x: x[x.index(b"?>") + 3:],
    "double-quoted declaration": lambda x: x.replace(b"<?xml version='1.0' encoding='UTF-8'?>",
                                                     b'<?xml version="1.0" encoding="UTF-8"?>'),
    "other prefixes": lambda x: x.replace(b"GGK:", b"g:").replace(b"xmlns:GGK", b"xmlns:g").replace(
        b"StUF:", b"s-1.x:").replace(b"xmlns:StUF", b"xmlns:s-1.x"),
    "declarations in the other order, single quotes": lambda x: x.replace(
        b'xmlns:StUF="http://www.egem.nl/StUF/StUF0301" xmlns:GGK="http://www.stufstandaarden.nl/koppelvlak/ggk0210"',
        b"xmlns:GGK='http://www.stufstandaarden.nl/koppelvlak/ggk0210'\n\t"
        b"xmlns:StUF='http://www.egem.nl/StUF/StUF0301'"),
    "no whitespace": lambda x: b"".join(line.strip() for line in x.splitlines()),
    "optional party fields": lambda x: x.replace(
        b"<StUF:applicatie>GGk</StUF:applicatie>",
        b"<StUF:applicatie>GGk</StUF:applicatie><StUF:administratie></StUF:administratie>"
        b"<StUF:gebruiker>de \"gebruiker\" 'x' = 1</StUF:gebruiker>"),
    "limits": lambda x: x.replace(ORG, b"<StUF:organisatie>" + b" " * 200 + b"</StUF:organisatie>").replace(
        b">JW301<", b">" + b"J" * 30 + b"<"),
    "empty payload": lambda x: x[:x.index(b"<GGK:xmlBestand>") + 16] + x[x.index(b"</GGK:xmlBestand>"):],
}


@pytest.mark.parametrize("name", sorted(PLAIN_CHANGES))
def test_other_writings_of_the_plain_form_read_as_the_full_path_reads_them(name):
    """Taken (the test fails if the form got narrower than this) and read as the full path reads them."""
    changed = PLAIN_CHANGES[name](DI01)
    assert changed != DI01
    assert _agrees(changed), name


_WILD = st.text(st.sampled_from(list("aZ09 -_.\"'=/<>&;\t\r\n\x01é]")), max_size=60)
_SAFE = st.text(st.sampled_from(list("aZ09 -_.\"'=/;]")), max_size=60)
# a field is mostly plain, sometimes one character off: a wrong value alone is what tests a limit
_TEXT = st.one_of(_SAFE, _SAFE, _SAFE, st.builds(lambda a, b, c: a + b + c, _SAFE, _WILD.filter(len), _SAFE))
_WS = st.sampled_from(["", " ", "\n  ", "\t", "\r\n"])


@settings(max_examples=400, deadline=None)
@given(org=_TEXT, app=_TEXT, functie=_TEXT,
       tijdstip=st.one_of(st.from_regex(r"[0-9]{8,17}", fullmatch=True),
                          st.text(st.sampled_from(list("0123456789a ")), max_size=19)),
       extra=st.one_of(st.none(), _TEXT), ws=_WS, prefix=st.sampled_from(["GGK", "g", "xml", "StUF", "_a.b-c"]),
       cross=st.booleans(),
       payload=st.sampled_from([base64.b64encode(JW301).decode(), "QUJD", "QUI=", "QUJ=", "", "Q"]))
def test_generated_envelopes(org, app, functie, tijdstip, extra, ws, prefix, cross, payload):
    """Values and layouts from a wide alphabet, written into the envelope as they are (so also
    malformed ones): whatever plain.head takes, the full path takes with the same values."""
    g = prefix
    party = (f"<StUF:organisatie>{org}</StUF:organisatie>{ws}<StUF:applicatie>{app}</StUF:applicatie>"
             + ("" if extra is None else f"<StUF:gebruiker>{extra}</StUF:gebruiker>"))
    ref = "c9dcb781-d0d6-40e0-8bf7-bc057f3873af"
    xml = (
        f"<?xml version='1.0' encoding='UTF-8'?>\n<{g}:envelopHeenbericht-ggk_Di01 "
        f'xmlns:StUF="http://www.egem.nl/StUF/StUF0301" xmlns:{g}="http://www.stufstandaarden.nl/koppelvlak/ggk0210">'
        f"{ws}<{g}:stuurgegevens><StUF:berichtcode>Di01</StUF:berichtcode><StUF:zender>{party}</StUF:zender>"
        f"<StUF:ontvanger>{ws}{party}</StUF:ontvanger><StUF:referentienummer>{ref}</StUF:referentienummer>"
        f"<StUF:tijdstipBericht>{tijdstip}</StUF:tijdstipBericht>"
        + (f"<StUF:crossRefnummer>{ref}</StUF:crossRefnummer>" if cross else "")
        + f"<StUF:functie>{functie}</StUF:functie></{g}:stuurgegevens><{g}:parameters>"
        f"<{g}:applicatieVersie>0001</{g}:applicatieVersie><{g}:applicatieSubversie>0000</{g}:applicatieSubversie>"
        f"<{g}:functieVersie>0003</{g}:functieVersie><{g}:functieSubversie>0002</{g}:functieSubversie>"
        f"<{g}:bericht><{g}:xmlBestand>{payload}</{g}:xmlBestand></{g}:bericht></{g}:parameters>"
        f"</{g}:envelopHeenbericht-ggk_Di01>{ws}"
    ).encode("utf-8")
    _agrees(xml)


def test_the_declarations_taken_are_those_the_hardened_parser_knows_at_a_glance():
    """plain's prolog: one of xmlparse._UTF8_DECLS (the parser's plain prolog), or none."""
    from gateway import xmlparse

    body = DI01[DI01.index(b"?>") + 2:]
    for decl in xmlparse._UTF8_DECLS:
        assert _agrees(decl + body), decl
    for decl in (b"<?xml version='1.0' encoding=\"UTF-8\"?>", b"<?xml version='1.0'?>",
                 b"<?xml version='1.1' encoding='UTF-8'?>", b"<?xml version='1.0' encoding='utf8'?>",
                 b"<?xml version='1.0' encoding='UTF-8' standalone='no'?>", b" <?xml version='1.0' encoding='UTF-8'?>"):
        assert plain.head(decl + body) is None, decl


def _head_value(raw: bytes, name: bytes) -> bytes:
    return raw[raw.index(b"<StUF:" + name + b">") + len(name) + 7:raw.index(b"</StUF:" + name + b">")]


@pytest.mark.parametrize("envelope", ["Di01", "Du01"])
def test_a_head_like_the_last_one_is_read_as_the_full_path_reads_it(envelope):
    """plain remembers the last head a pattern matched and the start tag of a known prolog; an
    envelope that differs from the last one only in referentienummer, tijdstipBericht or
    crossRefnummer is read from that memory: with the full path's values when they fit their
    patterns, declined when one does not, and one that differs elsewhere is matched anew."""
    raw = DI01 if envelope == "Di01" else DU01
    assert _agrees(raw) and _agrees(raw)  # the second read is remembered's
    names = [b"referentienummer", b"tijdstipBericht"] + ([b"crossRefnummer"] if envelope == "Du01" else [])
    other = {b"referentienummer": b"0e6f1a9c-3b5d-4c1e-9f2a-1234567890ab",
             b"tijdstipBericht": b"2" * len(_head_value(raw, b"tijdstipBericht")),
             b"crossRefnummer": b"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}
    for name in names:
        value = _head_value(raw, name)
        assert len(other[name]) == len(value)
        changed = raw.replace(b">" + value + b"<", b">" + other[name] + b"<")
        assert changed != raw
        assert _agrees(raw) and _agrees(changed), name
        assert plain.head(changed).__getattribute__(
            {b"referentienummer": "referentienummer", b"tijdstipBericht": "tijdstip_bericht",
             b"crossRefnummer": "cross_refnummer"}[name]) == other[name].decode()
        # the same length, but not the pattern: a UUID in capitals, a time with a letter
        wrong = value.upper() if name != b"tijdstipBericht" else b"x" + value[1:]
        assert wrong != value
        assert _agrees(raw) and plain.head(raw.replace(b">" + value + b"<", b">" + wrong + b"<")) is None, name
        assert _full(raw.replace(b">" + value + b"<", b">" + wrong + b"<")) is None, name
    # another value of the same length elsewhere (functie): matched anew, read as the full path reads it
    functie = _head_value(raw, b"functie")
    assert _agrees(raw)
    assert _agrees(raw.replace(b"<StUF:functie>" + functie, b"<StUF:functie>" + functie[:-1] + b"9"))
