"""Parameter dataclasses for the scenario builders, with defaults that form one coherent case.

The defaults tell one story relative to today: toewijzing 1001 runs from the first day of the month
three months ago until the end of the month six months ahead; care started on its Ingangsdatum,
stopped at the end of last month and was declared for last month. Dates move with the calendar, so
default messages stay valid in the future.

`AUTO` fields are filled per standard when a message is built (product categories and stop reasons
differ between iJw and iWmo); pass None to leave an optional element out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Final

from gateway.samples.xmlbuild import add_months, last_of_month, previous_month, today, unique_id

AUTO: Final = "<auto>"

# (Categorie, Code) of the default specific product; categories are JZ020 (iJw) and WMO020 (iWmo).
DEFAULT_PRODUCT: dict[str, tuple[str, str]] = {"ijw": ("45", "45A01"), "iwmo": ("02", "02A01")}
# "Levering volgens plan beeindigd": 31 in JZ588, 19 in WMO588 (31 means something else in iWmo).
DEFAULT_STOP_REASON: dict[str, str] = {"ijw": "31", "iwmo": "19"}
DEFAULT_TOEWIJZINGNUMMER = 1001
DEFAULT_TARIEF = 7500  # eurocent per hour


def allocation_start() -> date:
    return add_months(today(), -3)


def allocation_end() -> date:
    return last_of_month(add_months(today(), 6))


def allocation_date() -> date:
    return allocation_start() - timedelta(days=7)


def next_month_start() -> date:
    return add_months(today(), 1)


def request_end() -> date:
    return last_of_month(add_months(today(), 7))


def last_month_start() -> date:
    return previous_month()[0]


def last_month_end() -> date:
    return previous_month()[1]


@dataclass(frozen=True)
class Allocated:
    """One ToegewezenProduct of a 301. categorie=None makes a generic toewijzing (then give a budget)."""

    toewijzingnummer: int = DEFAULT_TOEWIJZINGNUMMER
    categorie: str | None = AUTO
    code: str | None = AUTO
    ingangsdatum: date = field(default_factory=allocation_start)
    einddatum: date | None = field(default_factory=allocation_end)
    volume: int | str | None = AUTO  # AUTO: 10 when there is a Code and no Budget (CD041, CD080)
    eenheid: str | None = AUTO  # AUTO: 04 Uur
    frequentie: str | None = AUTO  # AUTO: 4 Per maand
    budget: int | None = None
    reden_wijziging: str | None = None
    referentie_aanbieder: str | None = None
    toewijzingsdatum: date = field(default_factory=allocation_date)
    toewijzingstijd: str = "09:30:00"
    commentaar: str | None = None


@dataclass(frozen=True)
class Started:
    """One StartProduct of a 305."""

    toewijzingnummer: int | None = DEFAULT_TOEWIJZINGNUMMER
    categorie: str | None = AUTO
    code: str | None = AUTO
    toewijzing_ingangsdatum: date | None = field(default_factory=allocation_start)
    begindatum: date = field(default_factory=allocation_start)
    status: str = "1"


@dataclass(frozen=True)
class Stopped:
    """One StopProduct of a 307; its key copies the start's (TR382)."""

    toewijzingnummer: int | None = DEFAULT_TOEWIJZINGNUMMER
    categorie: str | None = AUTO
    code: str | None = AUTO
    toewijzing_ingangsdatum: date | None = field(default_factory=allocation_start)
    begindatum: date = field(default_factory=allocation_start)
    reden_beeindiging: str = AUTO
    einddatum: date = field(default_factory=last_month_end)
    status: str = "1"


@dataclass(frozen=True)
class Requested:
    """One AangevraagdProduct of a 315."""

    referentie_aanbieder: str = field(default_factory=lambda: unique_id("VOT", 20))
    categorie: str | None = AUTO
    code: str | None = AUTO
    ingangsdatum: date = field(default_factory=next_month_start)  # ToewijzingIngangsdatum
    einddatum: date | None = field(default_factory=request_end)  # ToewijzingEinddatum
    volume: int | str | None = AUTO
    eenheid: str | None = AUTO
    frequentie: str | None = AUTO
    budget: int | None = None
    verwijzer_type: str = "02"  # huisarts
    verwijzer_naam: str | None = None
    # AUTO: an AGB code when the type is 02..05 and no name is given (CD066-CD068), else absent.
    verwijzer_zorgverlenercode: str | None = AUTO
    beschikkingnummer: int | None = None
    beschikking_ingangsdatum: date | None = None
    raamcontract: str | None = None
    commentaar: str | None = None


@dataclass(frozen=True)
class Unchanged:
    """An OngewijzigdProduct of a 317: an actual toewijzing to keep."""

    toewijzingnummer: int = DEFAULT_TOEWIJZINGNUMMER


@dataclass(frozen=True)
class ToChange:
    """A TeWijzigenProduct of a 317. Defaults extend toewijzing 1001 over its whole term (TR357)."""

    toewijzingnummer: int = DEFAULT_TOEWIJZINGNUMMER
    gewenste_ingangsdatum: date = field(default_factory=allocation_start)
    einddatum: date | None = field(default_factory=lambda: last_of_month(add_months(today(), 9)))
    volume: int | None = 12  # the toewijzing has a Code, so Omvang is mandatory (TR411)
    eenheid: str | None = "04"
    frequentie: str | None = "4"
    budget: int | None = None


@dataclass(frozen=True)
class NewProduct:
    """A NieuwProduct of a 317; GewensteIngangsdatum must lie after the Dagtekening (TR380)."""

    categorie: str | None = AUTO
    code: str | None = AUTO
    gewenste_ingangsdatum: date = field(default_factory=next_month_start)
    einddatum: date | None = field(default_factory=request_end)
    volume: int | str | None = AUTO
    eenheid: str | None = AUTO
    frequentie: str | None = AUTO
    budget: int | None = None


@dataclass(frozen=True)
class Prestatie:
    """One Prestatie of a 323. bedrag None = GeleverdVolume x ProductTarief (TR346), or the volume for 83."""

    referentienummer: str = field(default_factory=lambda: unique_id("P", 20))
    toewijzingnummer: int = DEFAULT_TOEWIJZINGNUMMER
    categorie: str = AUTO
    code: str = AUTO
    begindatum: date = field(default_factory=last_month_start)
    einddatum: date = field(default_factory=last_month_end)
    volume: int = 8
    eenheid: str = "04"
    tarief: int | str | None = AUTO  # AUTO: 7500, or absent for Eenheid 83 (CD087)
    bedrag: int | None = None
    debet_credit: str = "D"
    vorig_referentienummer: str | None = None

    def amount(self) -> int:
        """IngediendBedrag: given, or computed so TR346/CS339 hold."""
        if self.bedrag is not None:
            return self.bedrag
        if self.eenheid == "83":
            return self.volume
        tarief = DEFAULT_TARIEF if self.tarief == AUTO else self.tarief
        return self.volume * (tarief or 0)


# -- resolution of AUTO fields per standard -------------------------------------------------------


def _product(standard: str, categorie: str | None, code: str | None) -> tuple[str | None, str | None]:
    default_cat, default_code = DEFAULT_PRODUCT[standard]
    cat = default_cat if categorie == AUTO else categorie
    if code == AUTO:
        code = default_code if categorie in (AUTO, default_cat) else (f"{cat}A01" if cat else None)
    return cat, code


def _omvang(code: str | None, budget: int | None, volume, eenheid, frequentie):
    if volume == AUTO:
        volume = 10 if code is not None and budget is None else None
    if volume is None:
        return None, None, None
    return volume, ("04" if eenheid == AUTO else eenheid), ("4" if frequentie == AUTO else frequentie)


def resolve(item, standard: str):
    """A copy of a parameter object with every AUTO field filled for `standard`."""
    changes: dict = {}
    if hasattr(item, "categorie"):
        changes["categorie"], changes["code"] = _product(standard, item.categorie, item.code)
    if isinstance(item, Allocated | Requested | NewProduct):
        changes["volume"], changes["eenheid"], changes["frequentie"] = _omvang(
            changes["code"], item.budget, item.volume, item.eenheid, item.frequentie
        )
    if isinstance(item, Stopped) and item.reden_beeindiging == AUTO:
        changes["reden_beeindiging"] = DEFAULT_STOP_REASON[standard]
    if isinstance(item, Requested) and item.verwijzer_zorgverlenercode == AUTO:
        needs_code = item.verwijzer_type in ("02", "03", "04", "05") and item.verwijzer_naam is None
        changes["verwijzer_zorgverlenercode"] = "01234567" if needs_code else None
    if isinstance(item, Prestatie):
        if item.tarief == AUTO:
            changes["tarief"] = None if item.eenheid == "83" else DEFAULT_TARIEF
        changes["bedrag"] = replace(item, **changes).amount()
    return replace(item, **changes)
