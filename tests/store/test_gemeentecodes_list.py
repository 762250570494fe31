"""The CBS list behind TR378 holds exactly the municipalities of the official 2026 list."""

import re

from validators.rulesets.crossmessage_gemeentecodes import GEMEENTECODES_2026


def test_every_code_has_four_digits():
    assert all(re.fullmatch(r"[0-9]{4}", c) for c in GEMEENTECODES_2026)
    assert len(GEMEENTECODES_2026) == 342


def test_equals_the_official_codelist(official_dir):
    text = (official_dir / "ijw-3.2" / "codelijsten" / "CBS_Gemeentecodes.md").read_text()
    official = set(re.findall(r"^\|\s*(\d{4})\s*\|", text, re.M))
    assert official == set(GEMEENTECODES_2026)
