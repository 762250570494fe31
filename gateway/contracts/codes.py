"""Our contract rule codes and the action each takes when a bundle does not choose one.

The rules themselves live in validators/rulesets/contract_*.py; this table is here so that the
bundle model can name them without importing the validators.
"""

from __future__ import annotations

RULE_CODES: tuple[str, ...] = (
    "CR001",  # product per contract (or exception contract)
    "CR002",  # no-show never declared
    "CR003",  # declared tariff, unit and amount equal the contract
    "CR004",  # budget ceiling per provider and year
    "CR005",  # lump-sum / task-funded products never declared per client
    "CR006",  # access: referrer and request route allowed per law
    "CR007",  # transition: old product codes until the cut-off date
    "CR008",  # cliëntenstop: no new allocations to the provider
)

DEFAULT_ACTIONS: dict[str, str] = {
    "CR001": "reject",
    "CR002": "reject",
    "CR003": "reject",
    "CR004": "reject",
    "CR005": "reject",
    "CR006": "reject",
    "CR007": "reject",
    "CR008": "reject",
}


# -- Official code values a product list is checked against ------------------------------------
# Our own copy of the values (iJw/iWmo 3.2); tests/contracts/test_codelists.py compares them with
# the official codelists when ../shared/istandaarden is present.

# JZ020 Productcategorie (iJw).
JEUGD_CATEGORIES: dict[str, str] = {
    "31": "(2015) Zonder verblijf: uitgevoerd door wijk- of buurtteam",
    "32": "(2015) Zonder verblijf: ambulante jeugdhulp op locatie van de aanbieder",
    "33": "(2015) Zonder verblijf: daghulp op locatie van de aanbieder",
    "34": "(2015) Zonder verblijf: jeugdhulp in het netwerk van de jeugdige",
    "35": "(2015) Met verblijf: pleegzorg",
    "36": "(2015) Met verblijf: gezinsgericht",
    "37": "(2015) Met verblijf: gesloten plaatsing",
    "38": "(2015) Met verblijf: overig residentieel",
    "40": "Persoonlijke verzorging",
    "41": "Dagbehandeling",
    "42": "Vervoerdiensten",
    "43": "Jeugdhulp verblijf (incl. behandeling)",
    "44": "Jeugdhulp verblijf (excl. behandeling)",
    "45": "Jeugdhulp ambulant",
    "46": "Jeugdhulp crisis",
    "47": "Jeugdreclassering",
    "48": "Jeugdbescherming",
    "49": "Activiteiten in het preventief justitieel kader",
    "50": "Maatwerkarrangementen jeugd",
    "51": "Generalistische basis-ggz",
    "52": "Specialistische ggz",
    "53": "Kindergeneeskunde",
    "54": "Jeugd-ggz",
    "55": "Landelijk ingekochte zorg",
}

# WMO020 Productcategorie (iWmo).
WMO_CATEGORIES: dict[str, str] = {
    "01": "Hulp bij het huishouden",
    "02": "Begeleiding",
    "03": "Persoonlijke verzorging",
    "04": "Kortdurend verblijf",
    "05": "Woondiensten",
    "06": "Overige ondersteuning gericht op het individu of huishouden/gezin",
    "07": "Dagbesteding",
    "08": "Vervoerdiensten",
    "09": "Overige groepsgerichte ondersteuning",
    "10": "Overige maatwerk arrangementen",
    "11": "Rolstoelen",
    "12": "Vervoervoorzieningen",
    "13": "Woonvoorzieningen",
    "14": "Overige hulpmiddelen",
    "15": "Beschermd wonen",
    "16": "Opvang",
    "17": "Spoedopvang",
    "18": "Overige beschermd wonen en opvang",
}

PRODUCT_CATEGORIES: dict[str, dict[str, str]] = {"jeugd": JEUGD_CATEGORIES, "wmo": WMO_CATEGORIES}

# WJ756 Eenheid (the same list in iJw and iWmo).
UNITS: dict[str, str] = {
    "01": "Minuut",
    "04": "Uur",
    "14": "Etmaal",
    "16": "Dagdeel (4 uur)",
    "82": "Stuks (output)",
    "83": "Euro's",
    "84": "Stuks (inspanning)",
}

# WMO757 Frequentie (used by iJw and iWmo).
FREQUENCIES: dict[str, str] = {
    "1": "Per dag",
    "2": "Per week",
    "4": "Per maand",
    "6": "Totaal binnen geldigheidsduur toewijzing",
}


def law_of_category(category: str) -> str | None:
    """The law whose ProductCategorie list holds `category` (the two lists do not overlap)."""
    for law, codes in PRODUCT_CATEGORIES.items():
        if category in codes:
            return law
    return None
