"""Constraints shared by many messages: CS002 (BSN 11-proef), CS015/CS025 (header version), CS139
(Geboortedatum and DatumGebruik agree). Level 2, retourcode 0001.
"""

from __future__ import annotations

from validators.common import (
    descendants,
    elfproef,
    geboortedata,
    header_child,
    issue,
)
from validators.engine import Rule, RuleContext, rule
from validators.issues import Issue
from validators.paths import fields, first

_HEEN = ("301", "305", "307", "315", "317", "319", "323", "325")
_BSN_PATHS = {
    "301": ("Client", "Bsn"),
    "305": ("Client", "Bsn"),
    "307": ("Client", "Bsn"),
    "315": ("Client", "Bsn"),
    "317": ("Client", "Bsn"),
    "323": ("Declaratie", "Clienten", "Client", "Bsn"),
    "325": ("DeclaratieAntwoord", "Clienten", "Client", "Bsn"),
}
# The official set matches these constraints on the basisschema elements alone, so they also run
# on the retourberichten, which echo the heen body.
_RETOUR_OF = {"301": "302", "305": "306", "307": "308", "315": "316", "317": "318", "319": "320"}
_BSN_PATHS.update({_RETOUR_OF[n]: p for n, p in list(_BSN_PATHS.items()) if n in _RETOUR_OF})
_GEBOORTEDATUM_PATHS = {
    "301": [("Client", "Geboortedatum"), ("Client", "Relaties", "Relatie", "Geboortedatum")],
    "305": [("Client", "Geboortedatum")],
    "307": [("Client", "Geboortedatum")],
    "315": [("Client", "Geboortedatum")],
}
_GEBOORTEDATUM_PATHS.update({_RETOUR_OF[n]: p for n, p in list(_GEBOORTEDATUM_PATHS.items())})


@rule(
    "CS002",
    retourcode="0001",
    level="condition",
    messages=tuple(_BSN_PATHS),
    summary="Client Bsn passes the 11-proef.",
)
def cs002(r: Rule, ctx: RuleContext) -> list[Issue]:
    steps = _BSN_PATHS.get(ctx.mtype.number, ())
    if steps == ("Client", "Bsn"):  # the single client of a 30x/31x: two dictionary reads
        bsns = fields(first(fields(ctx.root), "Client")).get("Bsn") or ()
    else:
        bsns = descendants(ctx.root, *steps)
    # The value is personal data: the text never repeats it.
    found = []
    for bsn in bsns:
        if not elfproef((bsn.text or "").strip()):
            found.append(issue(r, ctx, bsn, "Bsn does not pass the 11-proef"))
    return found


def _header_value(r: Rule, ctx: RuleContext, name: str, wanted: str) -> list[Issue]:
    el = header_child(ctx.root, name)
    if el is not None and (el.text or "").strip() != wanted:
        return [issue(r, ctx, el, f"{name} must be {wanted}")]
    return []


@rule(
    "CS015",
    retourcode="0001",
    level="condition",
    messages=_HEEN,
    summary="Header BerichtSubversie is 2.",
)
def cs015(r: Rule, ctx: RuleContext) -> list[Issue]:
    return _header_value(r, ctx, "BerichtSubversie", "2")


@rule(
    "CS025",
    retourcode="0001",
    level="condition",
    messages=_HEEN,
    summary="Header BerichtVersie is 3.",
)
def cs025(r: Rule, ctx: RuleContext) -> list[Issue]:
    return _header_value(r, ctx, "BerichtVersie", "3")


def birthdate_agrees(datum: str, gebruik: str | None) -> bool:
    """IV009: unknown parts are 01 (day, month) or 1900 (year), as DatumGebruik says."""
    if gebruik is None:
        return True
    year, month, day = datum[:4], datum[5:7], datum[8:10]
    if gebruik == "1":
        return day == "01"
    if gebruik == "2":
        return day == "01" and month == "01"
    if gebruik == "3":
        return (year, month, day) == ("1900", "01", "01")
    return True


@rule(
    "CS139",
    retourcode="0001",
    level="condition",
    messages=tuple(_GEBOORTEDATUM_PATHS),
    summary="Geboortedatum Datum agrees with DatumGebruik (unknown parts 01, unknown year 1900).",
)
def cs139(r: Rule, ctx: RuleContext) -> list[Issue]:
    paths = _GEBOORTEDATUM_PATHS.get(ctx.mtype.number)
    if not paths:
        return []
    own, relaties = geboortedata(ctx)
    found: list[Issue] = []
    for geboorten in (own, relaties) if len(paths) > 1 else (own,):
        for _geboorte, f in geboorten:
            datum_el, gebruik_el = first(f, "Datum"), first(f, "DatumGebruik")
            datum = ((datum_el.text if datum_el is not None else None) or "").strip()
            gebruik = gebruik_el.text if gebruik_el is not None else None
            if datum and not birthdate_agrees(datum, gebruik and gebruik.strip()):
                found.append(
                    issue(
                        r,
                        ctx,
                        datum_el,
                        f"DatumGebruik {gebruik} does not agree with Datum (unknown parts must be 01 or 1900)",
                        also=[gebruik_el],
                    )
                )
    return found
