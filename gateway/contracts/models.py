"""The shape of a regional contract bundle (one YAML file per region and version).

These pydantic models are the edge: a YAML bundle is parsed into them, and the published JSON
schema (docs/contract-bundle.schema.json) is generated from them. Consistency between the parts
(unknown lots, overlapping tariffs, ...) is checked afterwards in `consistency.py`.

Money is in euro with at most two decimals (a message carries eurocent, IV024); dates are ISO
dates; a period's `valid_to` is inclusive and empty means open-ended.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gateway.contracts.codes import RULE_CODES

Law = Literal["jeugd", "wmo"]
Variant = Literal["inspanningsgericht", "outputgericht", "taakgericht"]
# WJ756 Eenheid and WMO757 Frequentie, as they appear in the messages.
Eenheid = Literal["01", "04", "14", "16", "82", "83", "84"]
Frequentie = Literal["1", "2", "4", "6"]
# COD327 Verwijzer type (iJw and iWmo share the list).
VerwijzerType = Literal["01", "02", "03", "04", "05", "06", "08"]
Action = Literal["reject", "flag", "review"]
RouteAction = Literal["accept", "reject", "flag", "review"]

# Quoted strings in YAML: an unquoted 0513 would be read as a number (or even octal).
Cbs = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
Agb = Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Category = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
ProductCode = Annotated[str, StringConstraints(pattern=r"^\S{1,5}$")]
Euro = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
# A salted SHA-256 of the BSN (see gateway.contracts.clients); never the BSN itself.
ClientHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _Model(BaseModel):
    # A typo in a bundle must be an error, not a silently ignored key.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Model):
    valid_from: date
    valid_to: date | None = None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def overlaps(self, other: Period) -> bool:
        end_a = self.valid_to or date.max
        end_b = other.valid_to or date.max
        return self.valid_from <= end_b and other.valid_from <= end_a


class Citation(_Model):
    """Where in the region's procurement plan a rule comes from: document and section heading.

    `document` defaults to the bundle's `plan.document`; `at` is the plan's own page or line
    reference (e.g. "000:L554-555"), `quote` the words the rule rests on."""

    section: str = Field(min_length=1)
    document: str | None = None
    at: str | None = None
    quote: str | None = None


class Plan(_Model):
    """The procurement plan a bundle implements, and the notes that summarise it by section."""

    document: str = Field(min_length=1)
    notes: str | None = None  # the research notes whose section headings the citations use


class Municipality(_Model):
    cbs: Cbs
    name: str


class Lot(_Model):
    """A lot (perceel) or (sub)segment: the unit a provider is contracted for."""

    id: Slug
    name: str
    law: Law
    variant: Variant = "inspanningsgericht"
    # Verwijzer types allowed on a request (x315) for products of this lot; empty = the law's policy.
    referrers: list[VerwijzerType] = []
    note: str | None = None
    source: Citation | None = None


class Tariff(Period):
    """A contracted tariff per unit for a period, for everyone or for the listed providers."""

    euro: Euro
    unit: Eenheid
    providers: list[Agb] = []
    example: bool = False  # an invented amount: the plan gives no tariffs
    note: str | None = None


class Product(_Model):
    """A product of the region's product list: ProductCategorie + ProductCode."""

    category: Category
    code: ProductCode
    name: str
    lot: Slug
    # The law under which the product is messaged (iJw or iWmo). Differs from the lot's law only
    # for a cross-law product (Midden-Holland's 18-21 housing: Jeugd contract, Wmo beschikking).
    law: Law
    cross_law: bool = False
    variant: Variant | None = None  # None: the lot's variant
    units: list[Eenheid] = Field(min_length=1)
    frequencies: list[Frequentie] = []
    tariffs: list[Tariff] = []
    # Paid as a lump sum or availability budget: never declared per client.
    lump_sum: bool = False
    # A missed appointment: never declarable (the tariff already covers the occasional no-show).
    no_show: bool = False
    example: bool = False  # the product code is invented where the plan is silent
    note: str | None = None


class ContractLine(Period):
    """One row of the contract matrix: provider x lot x municipalities x products x period."""

    lot: Slug
    products: list[ProductCode] | None = None  # None: every product of the lot
    municipalities: list[Cbs] | None = None  # None: every municipality of the region


class Provider(_Model):
    agb: Agb
    name: str
    contracts: list[ContractLine] = []
    # Cliëntenstop: no new allocations in these periods, running care continues.
    client_stop: list[Period] = []
    example: bool = False  # an invented provider (AGB, name, contract lines)
    note: str | None = None


class ExceptionContract(Period):
    """A single-client exception (URC: provider without contract; CSA: product outside it)."""

    id: str
    kind: Literal["urc", "csa"]
    provider: Agb
    municipality: Cbs
    category: Category
    code: ProductCode
    # The client, pseudonymised: exactly one of these two.
    client_hash: ClientHash | None = None
    toewijzing_nummer: Annotated[str, StringConstraints(pattern=r"^\S{1,20}$")] | None = None
    approved_by: str | None = None
    example: bool = False


class BudgetCeiling(_Model):
    provider: Agb
    year: int = Field(ge=2015, le=2100)
    ceiling_euro: Euro
    warning_euro: Euro | None = None  # default: warning_fraction x ceiling
    warning_fraction: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.70")
    municipality: Cbs | None = None  # None: the provider's total in the region
    lots: list[Slug] = []  # informative: the lots the ceiling was set for
    example: bool = False  # an invented amount

    @property
    def warning_level(self) -> Decimal:
        if self.warning_euro is not None:
            return self.warning_euro
        return (self.ceiling_euro * self.warning_fraction).quantize(Decimal("0.01"))


class BudgetPolicy(_Model):
    # Above the ceiling: refuse new allocations/requests only, flag everything, or refuse all.
    above_ceiling: Literal["refuse_new_allocations", "flag", "refuse"] = "flag"
    # Care already running is paid even above the ceiling (VNG contract standard, Midden-Holland).
    pay_running_care: bool = True
    source: Citation | None = None


class TransitionMapping(_Model):
    """An old product code accepted until `until` (inclusive) and mapped to a new product."""

    old_category: Category
    old_code: ProductCode
    new_category: Category
    new_code: ProductCode
    law: Law
    until: date
    # The old contract's tariffs for the run-off; empty: the new product's tariffs apply.
    tariffs: list[Tariff] = []
    example: bool = False  # an invented mapping or cut-off date
    note: str | None = None
    source: Citation | None = None


class AccessPolicy(_Model):
    """Which referrers and which request routes a law allows in this region."""

    referrers: list[VerwijzerType] = ["01", "02", "03", "04", "05", "06", "08"]
    # Per message number ("315", "317"): what happens to that route.
    routes: dict[Literal["315", "317"], RouteAction] = {}
    source: Citation | None = None


class ProductList(_Model):
    """The region's real product and tariff list, from a CSV export (gateway.contracts.productlist).

    `file` names a CSV beside the bundle file; `csv` holds the text itself (how the store and the
    API keep it: a bundle loaded from a file is stored with its list inlined). Exactly one of both."""

    file: str | None = None
    csv: str | None = None
    # The lot of a listed product the bundle does not list itself (by ProductCategorie), unless
    # the CSV has a lot column.
    lots: dict[Category, Slug] = {}
    source: Citation | None = None


RuleCode = Literal[RULE_CODES]  # type: ignore[valid-type]


class Bundle(_Model):
    """A region's contract configuration, valid from a date until the next version."""

    schema_version: Annotated[int, Field(ge=1, le=1)] = 1
    region: Slug
    name: str
    version: str = Field(min_length=1, max_length=40)
    valid_from: date
    valid_to: date | None = None
    example: bool = False  # the bundle holds invented values (each one has its own `example` flag)
    description: str | None = None
    municipalities: list[Municipality] = Field(min_length=1)
    lots: list[Lot] = Field(min_length=1)
    products: list[Product] = []
    providers: list[Provider] = []
    exceptions: list[ExceptionContract] = []
    budget_ceilings: list[BudgetCeiling] = []
    budget: BudgetPolicy = BudgetPolicy()
    transition: list[TransitionMapping] = []
    access: dict[Law, AccessPolicy] = {}
    rules: dict[RuleCode, Action] = {}  # type: ignore[valid-type]
    # The procurement plan and, per rule, the section it implements.
    plan: Plan | None = None
    rule_sources: dict[RuleCode, Citation] = {}  # type: ignore[valid-type]
    product_list: ProductList | None = None
    # Salt for client_hash in exceptions (gateway.contracts.clients.client_hash).
    client_hash_salt: str | None = Field(default=None, min_length=8)

    @property
    def period(self) -> Period:
        return Period(valid_from=self.valid_from, valid_to=self.valid_to)


def example_values(bundle: Bundle) -> list[str]:
    """The YAML paths of every value marked `example: true` (invented where the plan is silent)."""
    out: list[str] = []
    for i, p in enumerate(bundle.products):
        if p.example:
            out.append(f"products[{i}]")
        out += [f"products[{i}].tariffs[{k}]" for k, t in enumerate(p.tariffs) if t.example]
    out += [f"providers[{i}]" for i, p in enumerate(bundle.providers) if p.example]
    out += [f"exceptions[{i}]" for i, e in enumerate(bundle.exceptions) if e.example]
    out += [f"budget_ceilings[{i}]" for i, c in enumerate(bundle.budget_ceilings) if c.example]
    for i, m in enumerate(bundle.transition):
        if m.example:
            out.append(f"transition[{i}]")
        out += [f"transition[{i}].tariffs[{k}]" for k, t in enumerate(m.tariffs) if t.example]
    return out


def uncited_rules(bundle: Bundle) -> list[str]:
    """Rules the bundle configures without citing the plan section they implement."""
    return sorted(code for code in bundle.rules if code not in bundle.rule_sources)
