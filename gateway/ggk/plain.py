"""A Di01/Du01 in its plain form, read without building a tree: the common case of the receive path.

Nearly every envelope is written the same way (ggk.wrap, the official examples, the chain's
software): an XML declaration, the root declaring the two namespaces with prefixes, the elements
of the schema in their order with whitespace between them, short texts without markup, the
payload's base64 on one line. `head(raw)` recognises exactly that form and reads its fields; for
anything else (another layout, a comment, an entity or character reference, CDATA, an attribute,
a value our schema would refuse, non-ASCII text, a payload that does not decode strictly) it
answers None and the caller takes the full path: the hardened parser, our schema, `read.head`.

What it accepts is well-formed XML that our schema accepts, and it reads the values the full path
reads from it (tests/ggk/test_plain.py holds it to that, against the full path, for the official
examples, our own envelopes and mutated and generated ones). The form it accepts:

- ASCII only (so UTF-8), no byte order mark; one of the XML declarations the hardened parser
  knows at a glance (xmlparse._UTF8_DECLS) or none, so no DOCTYPE;
- element texts of printable ASCII without '<', '&' and '>' (no references, no CDATA, nothing
  the parser would normalise), within the lengths and patterns of our schema (stuf.xsd);
- the payload as xmlBestand whose base64 decodes strictly and meets xs:base64Binary's padding
  rule (the same decode as `read.decode_base64`, without its whitespace fallback).
"""

from __future__ import annotations

import binascii
import re

from gateway import xmlparse
from gateway.ggk import schema
from gateway.ggk.b64 import strict_decode
from gateway.ggk.model import NS_GGK, NS_STUF
from gateway.ggk.read import MAX_ENVELOPE_BYTES, Head

_W = r"[ \t\r\n]*"
_TEXT = r"[\x20-\x25\x27-\x3b\x3d\x3f-\x7e]"  # printable ASCII but & < >
_UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_NCNAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_TIJDSTIP = r"[0-9]{8,17}"

# The prolog (one of the XML declarations xmlparse._UTF8_DECLS lists, or none) and the root's start
# tag, read from the bytes (a namespace outside ASCII is not one of the two it must be).
_START = re.compile(
    rb"(?:<\?xml version=(['\"])1\.0\1 encoding=\1(?:UTF-8|utf-8)\1(?: standalone=\1yes\1)?\?>)?[ \t\r\n]*"
    rb"<(" + _NCNAME.encode() + rb"):envelop(Heenbericht-ggk_Di01|Retourbericht-ggk_Du01)"
    rb"[ \t\r\n]+xmlns:(" + _NCNAME.encode() + rb")=([\"'])([^\"'<&]*)\5"
    rb"[ \t\r\n]+xmlns:(" + _NCNAME.encode() + rb")=([\"'])([^\"'<&]*)\8[ \t\r\n]*>"
)
_CODES = {b"Heenbericht-ggk_Di01": "Di01", b"Retourbericht-ggk_Du01": "Du01"}
_NAMESPACES = {NS_GGK.encode(): "ggk", NS_STUF.encode(): "stuf"}


def _element(prefix: str, name: str, value: str, group: str) -> str:
    return f"<{prefix}:{name}>(?P<{group}>{value})</{prefix}:{name}>{_W}"


def _party_pattern(s: str, name: str) -> str:
    """zender / ontvanger: StUF:KetenPartij (organisatie, applicatie, administratie?, gebruiker?)."""
    return (
        f"<{s}:{name}>{_W}"
        + _element(s, "organisatie", f"{_TEXT}{{0,200}}", f"{name}_organisatie")
        + _element(s, "applicatie", f"{_TEXT}{{3,50}}", f"{name}_applicatie")
        + "(?:" + _element(s, "administratie", f"{_TEXT}{{0,50}}", f"{name}_administratie") + ")?"
        + "(?:" + _element(s, "gebruiker", f"{_TEXT}{{0,100}}", f"{name}_gebruiker") + ")?"
        + f"</{s}:{name}>{_W}"
    )


def _head_pattern(g: str, s: str) -> re.Pattern[str]:
    """From the root's start tag to the payload's first character, for these prefixes (KopDi01 /
    KopDu01 and GGK:Parameters of our schema: crossRefnummer is checked against the berichtcode)."""
    versie = "[0-9]{4}"
    return re.compile(
        f"{_W}<{g}:stuurgegevens>{_W}"
        + _element(s, "berichtcode", "Di01|Du01", "berichtcode")
        + _party_pattern(s, "zender") + _party_pattern(s, "ontvanger")
        + _element(s, "referentienummer", _UUID4, "referentienummer")
        + _element(s, "tijdstipBericht", _TIJDSTIP, "tijdstipBericht")
        + "(?:" + _element(s, "crossRefnummer", _UUID4, "crossRefnummer") + ")?"
        + _element(s, "functie", f"{_TEXT}{{0,30}}", "functie")
        + f"</{g}:stuurgegevens>{_W}<{g}:parameters>{_W}"
        + _element(g, "applicatieVersie", versie, "applicatieVersie")
        + _element(g, "applicatieSubversie", versie, "applicatieSubversie")
        + _element(g, "functieVersie", versie, "functieVersie")
        + _element(g, "functieSubversie", versie, "functieSubversie")
        + f"<{g}:bericht>{_W}<{g}:xmlBestand>"
    )


_GROUPS = ("berichtcode", "zender_organisatie", "zender_applicatie", "zender_administratie", "zender_gebruiker",
           "ontvanger_organisatie", "ontvanger_applicatie", "ontvanger_administratie", "ontvanger_gebruiker",
           "referentienummer", "tijdstipBericht", "crossRefnummer", "functie", "applicatieVersie",
           "applicatieSubversie", "functieVersie", "functieSubversie")
if tuple(_head_pattern("G", "S").groupindex) != _GROUPS or _head_pattern("G", "S").groups != len(_GROUPS):
    raise RuntimeError("plain: the head pattern's groups are not in the order head() reads them")


# The head's groups that differ between the envelopes of one sender (referentienummer,
# tijdstipBericht, crossRefnummer), with their own patterns as the head pattern has them.
_VARYING = {_GROUPS.index(name) + 1: re.compile(value) for name, value in (
    ("referentienummer", _UUID4), ("tijdstipBericht", _TIJDSTIP), ("crossRefnummer", _UUID4))}
# The last head a pattern matched: (its length, its text between the varying groups and where
# each piece stands, the varying groups' (number, start, end), the match's groups). Kept in a
# slot of the pattern's _Start (a dict keyed by the pattern would hash all of its code each time).
_Last = tuple[int, tuple[tuple[int, str], ...], tuple[tuple[int, int, int], ...], tuple[str | None, ...]]


def _head_groups(head_re: re.Pattern[str], text: str, memo: list[_Last | None]) -> tuple[str | None, ...] | None:
    """head_re.fullmatch(text).groups(), or None when it does not match. A head as long as the
    last one this pattern matched, equal to it outside the varying groups, whose varying values
    match their own patterns, matches too, with the same groups but those values: the pattern is a
    sequence of elements whose texts hold no '<', so it splits a text one way only, and a value
    changed into another of its group's pattern changes nothing else. Checked so, a head costs
    about half the match's 25,000 instructions."""
    last = memo[0]
    if last is not None and len(text) == last[0]:
        _, pieces, spans, groups = last
        for at, piece in pieces:
            if not text.startswith(piece, at):
                break
        else:
            values = list(groups)
            for number, start, end in spans:
                if _VARYING[number].fullmatch(text, start, end) is None:
                    break
                values[number - 1] = text[start:end]
            else:
                return tuple(values)
    m = head_re.fullmatch(text)
    if m is None:
        return None
    if len(text) <= _MEMO_BYTES:
        spans = tuple((number, *m.span(number)) for number in _VARYING if m.start(number) >= 0)
        cuts = [0, *(i for _, start, end in spans for i in (start, end)), len(text)]
        pieces = tuple((cuts[i], text[cuts[i]:cuts[i + 1]]) for i in range(0, len(cuts), 2))
        memo[0] = (len(text), pieces, spans, m.groups())
    return m.groups()


def _tail_pattern(g: str, root: str) -> re.Pattern[bytes]:
    return re.compile(f"</{g}:xmlBestand>{_W}</{g}:bericht>{_W}</{g}:parameters>{_W}</{g}:{root}>{_W}".encode())


_Start = tuple[str, re.Pattern[str], re.Pattern[bytes], bytes, bytes, list[_Last | None]]
# root start tag (prefix, kind, and the two declarations) -> (berichtcode, head pattern, tail pattern,
# the payload's start and end tags, the last head matched), or None: not the plain form
_STARTS: dict[tuple[bytes, ...], _Start | None] = {}
_STARTS_MAX = 32  # prefixes come from outside: keep the cache bounded
# the bytes up to the end of the root's start tag -> _STARTS' value, for those whose _START match
# ends there (None values are not kept: such a start is matched again, and declined)
_PROLOGS: dict[bytes, _Start] = {}
_PROLOG_MAX = 80  # the longest XML declaration _START takes is shorter
# What is remembered is at most this long (whitespace between the tags may make a start tag or a
# head of megabytes, which is matched, not kept); a usual head is about 850 characters.
_MEMO_BYTES = 4096


def _start(key: tuple[bytes, ...]) -> _Start | None:
    """For a root in the GGK namespace that declares exactly the GGK and StUF namespaces, with two
    different prefixes (none of them reserved): what reads the rest."""
    root, kind, p1, uri1, p2, uri2 = key
    bound = {_NAMESPACES.get(uri1): p1.decode("ascii"), _NAMESPACES.get(uri2): p2.decode("ascii")}
    g, s = bound.get("ggk"), bound.get("stuf")
    if g is None or s is None or g == s or g != root.decode("ascii") or g[:3].lower() == "xml" \
            or s[:3].lower() == "xml":
        return None
    return (_CODES[kind], _head_pattern(g, s), _tail_pattern(g, "envelop" + kind.decode("ascii")),
            f"<{g}:xmlBestand>".encode(), f"</{g}:xmlBestand>".encode(), [None])


# The deepest element of the form (root, stuurgegevens, zender, organisatie) is on level 4.
_DEPTH = 4


def head(raw: bytes) -> Head | None:
    """The Di01/Du01 `raw` read in its plain form, or None: not in that form (the full path decides)."""
    if type(raw) is not bytes or len(raw) > MAX_ENVELOPE_BYTES or xmlparse.DEFAULT_LIMITS.max_depth < _DEPTH:
        return None
    # ASCII only: the start tag, the tail and the base64 are read as bytes by patterns (and a
    # strict decode) of ASCII only, the part between as text (its fields then come out of the
    # match as the strings they are). The whole document decoded, and its base64 sliced out of
    # that text, were two copies of the payload's base64 (a 7 MB envelope: 10 ms -> 2 ms here).
    # The prolog and the root's start tag are the same bytes in every envelope of one sender:
    # looked up by those bytes, they are matched against _START once (some 10,000 instructions
    # an envelope, a fifth of this function's). The start tag ends at the first '>' after the
    # declaration: a namespace value may hold a '>', but such a start is not remembered (its
    # match ends elsewhere), and the match of one that is ends with those bytes (the values end
    # at their quotes), whatever follows them.
    tag_end = raw.find(b">", raw.find(b"?>", 0, _PROLOG_MAX) + 2) + 1
    known = _PROLOGS.get(raw[:tag_end]) if tag_end else None
    if known is None:
        m = _START.match(raw)
        if m is None:
            return None
        key = m.group(2, 3, 4, 6, 7, 9)
        try:
            start = _STARTS[key]
        except KeyError:
            if len(_STARTS) >= _STARTS_MAX:
                _STARTS.clear()
            start = _STARTS[key] = _start(key)
        if start is None:
            return None
        if m.end() == tag_end and tag_end <= _MEMO_BYTES:
            if len(_PROLOGS) >= _STARTS_MAX:
                _PROLOGS.clear()
            _PROLOGS[raw[:tag_end]] = start
        tag_end = m.end()
    else:
        start = known
    berichtcode, head_re, tail_re, opening, close, last = start
    # The head ends at the payload's start tag, the first one (the head's texts hold no '<').
    begin = raw.find(opening, tag_end)
    if begin < 0:
        return None
    begin += len(opening)
    try:
        text = raw[tag_end:begin].decode("ascii")
    except UnicodeDecodeError:
        return None
    found = _head_groups(head_re, text, last)
    if found is None:
        return None
    (code, z_org, z_app, z_adm, z_geb, o_org, o_app, o_adm, o_geb, ref, tijdstip, cross, functie, app_v, app_sv,
     f_v, f_sv) = found
    if code != berichtcode or (cross is None) != (berichtcode == "Di01"):  # KopDu01 has crossRefnummer, KopDi01 not
        return None
    # The payload ends at the last end tag of xmlBestand (the document's tail follows it): an
    # earlier one would put a '<' in the base64, which the strict decode refuses.
    end = raw.rfind(close, begin)
    if end < 0 or tail_re.fullmatch(raw, end) is None:
        return None
    data = memoryview(raw)[begin:end]  # decoded where it stands, not copied first
    try:
        payload = strict_decode(data)
    except binascii.Error:
        return None
    if len(data) % 4 or not schema.trailing_bits_ok(bytes(data[-4:])):  # its rule looks at the end only
        return None
    top = {"referentienummer": ref, "tijdstipBericht": tijdstip, "functie": functie, "applicatieVersie": app_v,
           "applicatieSubversie": app_sv, "functieVersie": f_v, "functieSubversie": f_sv}
    if cross is not None:
        top["crossRefnummer"] = cross
    # A strict decode of a run whose length is a multiple of four and whose padding bits are
    # zero: the run is the payload's one encoding.
    return Head(berichtcode, _party(z_org, z_app, z_adm, z_geb), _party(o_org, o_app, o_adm, o_geb), top, "xml",
                None, payload, begin)


def _party(organisatie: str, applicatie: str, administratie: str | None, gebruiker: str | None) -> dict[str, str]:
    """As read.head has it: the fields present (organisatie and applicatie always are here)."""
    found = {"organisatie": organisatie, "applicatie": applicatie}
    if administratie is not None:
        found["administratie"] = administratie
    if gebruiker is not None:
        found["gebruiker"] = gebruiker
    return found

