"""Conditions and constraints on the client, contacts and toewijzingen of a 301 (level 2, 0001).

CD005, CD007, CD009, CD025, CD034, CS050, CS089, CS318, CS335, CS336.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from validators.common import (
    descendants,
    is_filled,
    issue,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import child, text

# CS089: the Dutch postcode format of the official check: 4 digits (no leading 0), 2 letters, no space.
_NL_POSTCODE = re.compile(r"[1-9][0-9]{3}[A-Za-z]{2}")


# CD005, CD007, CD025, CS089 and CS050 match on basisschema elements in the official set, so they also run
# on the JW302 / WMO302, which echoes the 301's client.


def _contacts(ctx: RuleContext) -> list:
    client = child(ctx.root, "Client")
    return descendants(client, "Contactgegevens", "Contact") + descendants(
        client, "Relaties", "Relatie", "Contact"
    )


@rule(
    "CD005",
    retourcode="0001",
    level="condition",
    messages=("301", "302"),
    summary="Adres LandCode is mandatory when Postcode is filled, otherwise empty.",
)
def cd005(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for contact in _contacts(ctx):
        adres = child(contact, "Adres")
        if adres is None:
            continue
        postcode, land = is_filled(adres, "Postcode"), is_filled(adres, "LandCode")
        if postcode and not land:
            yield issue(r, ctx, child(adres, "Postcode"), "LandCode is mandatory when Postcode is filled")
        elif land and not postcode:
            yield issue(r, ctx, child(adres, "LandCode"), "LandCode must be empty without a Postcode")


@rule(
    "CD007",
    retourcode="0001",
    level="condition",
    messages=("301", "302"),
    summary="Communicatie Taal is mandatory when Vorm is 1 (tolk taal), otherwise empty.",
)
def cd007(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    communicatie = child(child(ctx.root, "Client"), "Communicatie")
    if communicatie is None:
        return
    tolk = text(communicatie, "Vorm") == "1"
    taal = is_filled(communicatie, "Taal")
    vorm, taal_el = child(communicatie, "Vorm"), child(communicatie, "Taal")
    if tolk and not taal:
        yield issue(r, ctx, vorm, "Taal is mandatory when Vorm is 1 (tolk taal)")
    elif taal and not tolk:
        yield issue(r, ctx, taal_el, "Taal must be empty unless Vorm is 1 (tolk taal)", also=[vorm])


@rule(
    "CD009",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="Contact Periode is allowed only when Soort is 04 (tijdelijk verblijfadres).",
)
def cd009(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for contact in _contacts(ctx):
        periode = child(contact, "Periode")
        if periode is not None and text(contact, "Soort") != "04":
            yield issue(
                r, ctx, periode, "Periode is allowed only for Soort 04 (tijdelijk verblijfadres)",
                also=[child(contact, "Soort")],
            )


@rule(
    "CD025",
    retourcode="0001",
    level="condition",
    messages=("301", "302"),
    summary="Adres Huis is mandatory when LandCode is NL.",
)
def cd025(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for contact in _contacts(ctx):
        adres = child(contact, "Adres")
        if adres is not None and text(adres, "LandCode") == "NL" and not is_filled(adres, "Huis", "Huisnummer"):
            yield issue(r, ctx, child(adres, "LandCode"), "Huis is mandatory when LandCode is NL")


@rule(
    "CD034",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="Adres Postcode is mandatory when the Contact Soort is 01 (BRP) or 03 (verblijf).",
)
def cd034(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for contact in _contacts(ctx):
        if text(contact, "Soort") in ("01", "03") and not is_filled(contact, "Adres", "Postcode"):
            yield issue(r, ctx, child(contact, "Soort"), "Postcode is mandatory for Soort 01 or 03")


@rule(
    "CS089",
    retourcode="0001",
    level="condition",
    messages=("301", "302"),
    summary="When LandCode is NL, Postcode has the Dutch format (4 digits, 2 capital letters).",
)
def cs089(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for contact in _contacts(ctx):
        adres = child(contact, "Adres")
        postcode = child(adres, "Postcode")
        # an absent Postcode has no Dutch format either (CD005 also reports it)
        if text(adres, "LandCode") == "NL" and not _NL_POSTCODE.fullmatch(text(postcode) or ""):
            yield issue(
                r, ctx, child(adres, "LandCode"), "Postcode is not a Dutch postcode (1234AB)", also=[postcode]
            )


def _namen(ctx: RuleContext) -> list:
    client = child(ctx.root, "Client")
    return [n for n in [child(client, "Naam")] if n is not None] + descendants(
        client, "Relaties", "Relatie", "Naam"
    )


@rule(
    "CS050",
    retourcode="0001",
    level="condition",
    messages=("301", "302"),
    summary="NaamGebruik is 1-4 when Partnernaam is filled, otherwise 1 or 6.",
)
def cs050(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for naam in _namen(ctx):
        gebruik = (text(naam, "NaamGebruik") or "").strip()
        if not gebruik:
            continue
        allowed = ("1", "2", "3", "4") if is_filled(naam, "Partnernaam") else ("1", "6")
        if gebruik not in allowed:
            yield issue(
                r,
                ctx,
                child(naam, "NaamGebruik"),
                f"NaamGebruik {gebruik} not allowed {'with' if len(allowed) == 4 else 'without'} a Partnernaam",
                also=[child(naam, "Partnernaam")],
            )


@rule(
    "CS318",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="Client NaamGebruik is not 6 (niet-natuurlijk persoon).",
)
def cs318(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    gebruik = child(child(child(ctx.root, "Client"), "Naam"), "NaamGebruik")
    if gebruik is not None and (gebruik.text or "").strip() == "6":
        yield issue(r, ctx, gebruik, "NaamGebruik 6 (niet-natuurlijk persoon) is not allowed for the client")


def _toegewezen(ctx: RuleContext) -> list:
    return descendants(ctx.root, "Client", "ToegewezenProducten", "ToegewezenProduct")


@rule(
    "CS335",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="RedenWijziging 13 (verwijderd) only when Einddatum equals Ingangsdatum.",
)
def cs335(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for tp in _toegewezen(ctx):
        if text(tp, "RedenWijziging") == "13" and text(tp, "Einddatum") != text(tp, "Ingangsdatum"):
            yield issue(
                r, ctx, child(tp, "Ingangsdatum"), "RedenWijziging 13 requires Einddatum equal to Ingangsdatum",
                also=[child(tp, "Einddatum")],
            )


@rule(
    "CS336",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="RedenWijziging 01 (administratieve correctie, vervallen) is not used.",
)
def cs336(r: Rule, ctx: RuleContext) -> Iterator[Issue]:
    for tp in _toegewezen(ctx):
        if text(tp, "RedenWijziging") == "01":
            yield issue(r, ctx, child(tp, "RedenWijziging"), "RedenWijziging 01 must not be used")
