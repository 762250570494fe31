"""Conditions and constraints on the client, contacts and toewijzingen of a 301 (level 2, 0001).

CD005, CD007, CD009, CD025, CD034, CS050, CS089, CS318, CS335, CS336.
"""

from __future__ import annotations

import re

from validators.common import (
    contacts,
    descendants,
    issue,
    per_message,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import fields, first

# CS089: the Dutch postcode format of the official check: 4 digits (no leading 0), 2 letters, no space.
_NL_POSTCODE = re.compile(r"[1-9][0-9]{3}[A-Za-z]{2}")


# CD005, CD007, CD025, CS089 and CS050 match on basisschema elements in the official set, so they also run
# on the JW302 / WMO302, which echoes the 301's client.


_contacts = contacts


def _text(groups: dict, name: str) -> str | None:
    """The text of the first child `name` in a fields() grouping, None when there is none."""
    same = groups.get(name)
    return same[0].text if same else None


@rule(
    "CD005",
    retourcode="0001",
    level="condition",
    messages=("301", "302"),
    summary="Adres LandCode is mandatory when Postcode is filled, otherwise empty.",
)
def cd005(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for _contact, f, adres in _contacts(ctx):
        if "Adres" not in f:
            continue
        postcode, land = "Postcode" in adres, "LandCode" in adres
        if postcode and not land:
            found.append(issue(r, ctx, first(adres, "Postcode"), "LandCode is mandatory when Postcode is filled"))
        elif land and not postcode:
            found.append(issue(r, ctx, first(adres, "LandCode"), "LandCode must be empty without a Postcode"))
    return found


@rule(
    "CD007",
    retourcode="0001",
    level="condition",
    messages=("301", "302"),
    summary="Communicatie Taal is mandatory when Vorm is 1 (tolk taal), otherwise empty.",
)
def cd007(r: Rule, ctx: RuleContext) -> list[Issue]:
    communicatie = first(fields(first(fields(ctx.root), "Client")), "Communicatie")
    if communicatie is None:
        return []
    f = fields(communicatie)
    vorm, taal_el = first(f, "Vorm"), first(f, "Taal")
    tolk = vorm is not None and vorm.text == "1"
    taal = taal_el is not None
    if tolk and not taal:
        return [issue(r, ctx, vorm, "Taal is mandatory when Vorm is 1 (tolk taal)")]
    if taal and not tolk:
        return [issue(r, ctx, taal_el, "Taal must be empty unless Vorm is 1 (tolk taal)", also=[vorm])]
    return []


@rule(
    "CD009",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="Contact Periode is allowed only when Soort is 04 (tijdelijk verblijfadres).",
)
def cd009(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for _contact, f, _adres in _contacts(ctx):
        if "Periode" in f and _text(f, "Soort") != "04":
            found.append(
                issue(
                    r, ctx, first(f, "Periode"), "Periode is allowed only for Soort 04 (tijdelijk verblijfadres)",
                    also=[first(f, "Soort")],
                )
            )
    return found


@rule(
    "CD025",
    retourcode="0001",
    level="condition",
    messages=("301", "302"),
    summary="Adres Huis is mandatory when LandCode is NL.",
)
def cd025(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for _contact, _f, adres in _contacts(ctx):
        if _text(adres, "LandCode") == "NL" and "Huisnummer" not in fields(first(adres, "Huis")):
            found.append(issue(r, ctx, first(adres, "LandCode"), "Huis is mandatory when LandCode is NL"))
    return found


@rule(
    "CD034",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="Adres Postcode is mandatory when the Contact Soort is 01 (BRP) or 03 (verblijf).",
)
def cd034(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for _contact, f, adres in _contacts(ctx):
        if _text(f, "Soort") in ("01", "03") and "Postcode" not in adres:
            found.append(issue(r, ctx, first(f, "Soort"), "Postcode is mandatory for Soort 01 or 03"))
    return found


@rule(
    "CS089",
    retourcode="0001",
    level="condition",
    messages=("301", "302"),
    summary="When LandCode is NL, Postcode has the Dutch format (4 digits, 2 capital letters).",
)
def cs089(r: Rule, ctx: RuleContext) -> list[Issue]:
    # an absent Postcode has no Dutch format either (CD005 also reports it)
    found = []
    for _contact, _f, adres in _contacts(ctx):
        if _text(adres, "LandCode") == "NL" and not _NL_POSTCODE.fullmatch(_text(adres, "Postcode") or ""):
            found.append(
                issue(
                    r,
                    ctx,
                    first(adres, "LandCode"),
                    "Postcode is not a Dutch postcode (1234AB)",
                    also=[first(adres, "Postcode")],
                )
            )
    return found


def _read_namen(ctx: RuleContext) -> list:
    client = first(fields(ctx.root), "Client")
    found = []
    naam = first(fields(client), "Naam")
    if naam is not None:
        found.append((naam, fields(naam)))
    for n in descendants(client, "Relaties", "Relatie", "Naam"):
        found.append((n, fields(n)))
    return found


def _namen(ctx: RuleContext) -> list:
    """(naam, its children by name) of the client and the relaties."""
    return per_message(ctx, "in-message.namen", _read_namen)


@rule(
    "CS050",
    retourcode="0001",
    level="condition",
    messages=("301", "302"),
    summary="NaamGebruik is 1-4 when Partnernaam is filled, otherwise 1 or 6.",
)
def cs050(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for _naam, f in _namen(ctx):
        gebruik = (_text(f, "NaamGebruik") or "").strip()
        if not gebruik:
            continue
        allowed = ("1", "2", "3", "4") if "Partnernaam" in f else ("1", "6")
        if gebruik not in allowed:
            found.append(
                issue(
                    r,
                    ctx,
                    first(f, "NaamGebruik"),
                    f"NaamGebruik {gebruik} not allowed {'with' if len(allowed) == 4 else 'without'} a Partnernaam",
                    also=[first(f, "Partnernaam")],
                )
            )
    return found


@rule(
    "CS318",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="Client NaamGebruik is not 6 (niet-natuurlijk persoon).",
)
def cs318(r: Rule, ctx: RuleContext) -> list[Issue]:
    gebruik = first(fields(first(fields(first(fields(ctx.root), "Client")), "Naam")), "NaamGebruik")
    if gebruik is not None and (gebruik.text or "").strip() == "6":
        return [issue(r, ctx, gebruik, "NaamGebruik 6 (niet-natuurlijk persoon) is not allowed for the client")]
    return []


def _read_toegewezen(ctx: RuleContext) -> list:
    found = []
    for tp in descendants(ctx.root, "Client", "ToegewezenProducten", "ToegewezenProduct"):
        found.append((tp, fields(tp)))
    return found


def _toegewezen(ctx: RuleContext) -> list:
    """(toegewezen product, its children by name)."""
    return per_message(ctx, "in-message.toegewezen", _read_toegewezen)


@rule(
    "CS335",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="RedenWijziging 13 (verwijderd) only when Einddatum equals Ingangsdatum.",
)
def cs335(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for _tp, f in _toegewezen(ctx):
        if _text(f, "RedenWijziging") == "13" and _text(f, "Einddatum") != _text(f, "Ingangsdatum"):
            found.append(
                issue(
                    r, ctx, first(f, "Ingangsdatum"), "RedenWijziging 13 requires Einddatum equal to Ingangsdatum",
                    also=[first(f, "Einddatum")],
                )
            )
    return found


@rule(
    "CS336",
    retourcode="0001",
    level="condition",
    messages=("301",),
    summary="RedenWijziging 01 (administratieve correctie, vervallen) is not used.",
)
def cs336(r: Rule, ctx: RuleContext) -> list[Issue]:
    found = []
    for _tp, f in _toegewezen(ctx):
        if _text(f, "RedenWijziging") == "01":
            found.append(issue(r, ctx, first(f, "RedenWijziging"), "RedenWijziging 01 must not be used"))
    return found
