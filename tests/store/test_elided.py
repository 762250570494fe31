"""gateway.store.elided: an envelope kept without its payload's base64 comes back byte for byte."""

from __future__ import annotations

import base64
import random

from gateway.store.elided import cut, whole


def test_cut_and_whole_give_the_same_bytes_back() -> None:
    rnd = random.Random(3)
    for n in (1, 2, 3, 100, 2764):
        payload = rnd.randbytes(n)
        data = b"<head>" + base64.b64encode(payload) + b"</tail>"
        kept, at = cut(data, payload)
        assert at == len(b"<head>") and kept == b"<head></tail>"
        assert whole(kept, at, payload) == data


def test_what_is_not_there_as_one_run_is_kept_whole() -> None:
    payload = bytes(range(200))
    wrapped = base64.encodebytes(payload)  # with line breaks: not the run pybase64 writes
    for data, given in ((b"<e>" + wrapped + b"</e>", payload), (b"<e/>", payload), (b"<e/>", None),
                        (None, payload), (b"<e>" + base64.b64encode(payload) + b"</e>", b"")):
        kept, at = cut(data, given)
        assert (kept, at) == (data, None)
        assert whole(kept, at, given) == data


def test_the_payload_is_found_after_a_false_start() -> None:
    payload = bytes(range(256)) * 3
    encoded = base64.b64encode(payload)
    decoy = encoded[:64] + b"x"  # the same first bytes, then something else
    data = b"<e>" + decoy + b"<p>" + encoded + b"</p></e>"
    kept, at = cut(data, payload)
    assert at == len(b"<e>") + len(decoy) + len(b"<p>")
    assert whole(kept, at, payload) == data


def test_a_known_offset_is_taken_only_where_the_run_stands_between_tags() -> None:
    payload = bytes(range(100))
    encoded = base64.b64encode(payload)
    data = b"<e>" + encoded + b"</e>"
    assert cut(data, payload, 3) == (b"<e></e>", 3)
    for wrong in (0, 1, 2, 4, len(data)):  # not where it stands: the search finds it
        assert cut(data, payload, wrong) == (b"<e></e>", 3)
    assert cut(b"<e>" + base64.encodebytes(payload) + b"</e>", payload, 3)[1] is None  # not one run: whole
