"""The referentienummer and tijdstipBericht the gateway writes in its envelopes: new_reference
and tijdstip are written by hand for speed, so they are held to what uuid and strftime give."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest

from gateway import clock
from gateway.ggk import build

# The chain's pattern (stuf.xsd, StUF:Uuid4): lower case, version 4, RFC 4122 variant.
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_new_reference_is_a_random_uuid4() -> None:
    refs = [build.new_reference() for _ in range(2000)]
    assert len(set(refs)) == len(refs)
    for ref in refs:
        assert UUID4.fullmatch(ref), ref
        parsed = uuid.UUID(ref)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, ref)
    # every hexadecimal digit outside the fixed version nibble and variant bits varies
    for position in (0, 9, 15, 20, 35):
        assert len({ref[position] for ref in refs}) > 8, position


@pytest.mark.parametrize("instant", [
    "2026-01-05T08:03:09+00:00",   # winter: UTC+1
    "2026-07-31T22:59:59+00:00",   # summer: UTC+2, the Dutch date is the next day
    "2026-12-31T23:00:00+00:00",   # the Dutch new year
])
def test_tijdstip_is_dutch_local_time_as_strftime_writes_it(instant: str) -> None:
    clock.set_clock(instant)
    try:
        at = clock.now()
        written = build.tijdstip()
    finally:
        clock.set_clock(None)
    expected = datetime.fromisoformat(instant).astimezone(clock.NL).strftime("%Y%m%d%H%M%S")
    # the fixed clock runs on: allow the second it may have ticked
    assert written in (expected, at.astimezone(clock.NL).strftime("%Y%m%d%H%M%S"))
    assert len(written) == 14 and written.isdigit()
    assert datetime.strptime(written, "%Y%m%d%H%M%S").replace(tzinfo=clock.NL).astimezone(UTC) >= \
        datetime.fromisoformat(instant).astimezone(UTC).replace(microsecond=0)


def test_tijdstip_of_one_second_is_reused_but_not_across_seconds() -> None:
    """tijdstip() keeps the text of the last UTC second: the next second, here the one in which
    Dutch summer time begins (01:00 UTC, 02:00 becomes 03:00), is written anew."""
    try:
        clock.set_clock("2026-03-29T00:59:59.000+00:00")
        first = build.tijdstip()
        again = build.tijdstip()
        clock.set_clock("2026-03-29T01:00:00.000+00:00")
        after = build.tijdstip()
        clock.set_clock("2026-03-29T00:59:58.000+00:00")  # a clock set back is written anew too
        before = build.tijdstip()
    finally:
        clock.set_clock(None)
    assert first == again == "20260329015959"  # 01:59:59 CET
    assert after == "20260329030000"  # 03:00:00 CEST
    assert before == "20260329015958"
