"""A region's real product and tariff list, read from a CSV export and checked row by row.

One row per product and tariff period:

    code,category,unit,frequency,tariff,valid_from,valid_to[,name,lot,provider]
    45A01,45,04,2,75.00,2026-01-01,

Several rows of one code are one product (its units, frequencies and tariff periods). The
category must be in JZ020 (iJw) or WMO020 (iWmo), which also gives the law; the unit in WJ756; the
frequency (optional) in WMO757; the tariff a euro amount with at most two decimals (a decimal comma
works too); dates ISO (2026-01-01) or Dutch (01-01-2026). Semicolon-separated exports are read as
well. Every bad row is reported with its line number and the reason; nothing is half loaded.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from gateway.contracts.codes import FREQUENCIES, PRODUCT_CATEGORIES, UNITS, law_of_category
from gateway.contracts.yamlsource import Problem

MAX_CSV_BYTES = 10 * 1024 * 1024
REQUIRED = ("code", "category", "unit", "frequency", "tariff", "valid_from", "valid_to")
OPTIONAL = ("name", "lot", "provider")
# Headers as exports spell them; all map onto our column names.
ALIASES = {
    "productcode": "code",
    "productcategorie": "category",
    "eenheid": "unit",
    "frequentie": "frequency",
    "tarief": "tariff",
    "euro": "tariff",
    "ingangsdatum": "valid_from",
    "geldig_van": "valid_from",
    "valid from": "valid_from",
    "einddatum": "valid_to",
    "geldig_tot": "valid_to",
    "valid to": "valid_to",
    "omschrijving": "name",
    "naam": "name",
    "perceel": "lot",
    "agb": "provider",
    "aanbieder": "provider",
}
CODE = re.compile(r"^\S{1,5}$")
AGB = re.compile(r"^[0-9]{8}$")
AMOUNT = re.compile(r"^[0-9]{1,10}([.,][0-9]{1,2})?$")


@dataclass(frozen=True)
class Row:
    line: int
    code: str
    category: str
    law: str
    unit: str
    frequency: str | None
    euro: Decimal
    valid_from: date
    valid_to: date | None
    name: str | None = None
    lot: str | None = None
    provider: str | None = None


@dataclass
class ProductList:
    source: str
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    lines: int = 0  # data rows read (blank lines not counted)

    @property
    def ok(self) -> bool:
        return not self.problems

    def codes(self) -> list[tuple[str, str]]:
        """(law, code) of each product, in first-seen order."""
        return list(dict.fromkeys((r.law, r.code) for r in self.rows))


def read_file(path: str | Path) -> ProductList:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ProductList(str(path), problems=[Problem(str(path), "", None, f"cannot read: {exc}")])
    return parse(data, str(path))


def parse(data: bytes | str, source: str) -> ProductList:
    """Read and check every row; the result holds the good rows and one problem per bad row."""
    out = ProductList(source)
    if isinstance(data, bytes):
        if len(data) > MAX_CSV_BYTES:
            out.problems.append(Problem(source, "", None, f"product list larger than {MAX_CSV_BYTES} bytes"))
            return out
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            out.problems.append(Problem(source, "", None, f"not UTF-8 text (byte {exc.start}); export as UTF-8"))
            return out
    else:
        text = data.lstrip("\ufeff")
    lines = text.splitlines()
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None:
        out.problems.append(Problem(source, "", None, "empty product list: expected a header line " + ",".join(REQUIRED)))
        return out
    delimiter = ";" if lines[first].count(";") > lines[first].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = _header(record, source, line, out)
            if header is None:
                return out
            continue
        out.lines += 1
        if len(record) != len(header):
            out.problems.append(Problem(source, "", line, f"{len(record)} columns, the header has {len(header)}"))
            continue
        row, reasons = _row(dict(zip(header, (c.strip() for c in record), strict=True)), line)
        if reasons:
            out.problems.append(Problem(source, "", line, "; ".join(reasons)))
        else:
            out.rows.append(row)
    if header is not None and out.lines == 0:
        out.problems.append(Problem(source, "", None, "no product rows after the header"))
    _across_rows(out)
    return out


def _header(record: list[str], source: str, line: int, out: ProductList) -> list[str] | None:
    names = [ALIASES.get(c.strip().lower(), c.strip().lower().replace(" ", "_")) for c in record]
    missing = [c for c in REQUIRED if c not in names]
    unknown = [c for c in names if c not in REQUIRED + OPTIONAL]
    dupes = sorted({c for c in names if names.count(c) > 1})
    reasons = []
    if missing:
        reasons.append(f"header misses column(s) {', '.join(missing)}")
    if unknown:
        reasons.append(f"unknown column(s) {', '.join(unknown)} (known: {', '.join(REQUIRED + OPTIONAL)})")
    if dupes:
        reasons.append(f"column(s) {', '.join(dupes)} twice")
    if reasons:
        out.problems.append(Problem(source, "", line, "; ".join(reasons)))
        return None
    return names


def _date(value: str, column: str, reasons: list[str]) -> date | None:
    for fmt in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    reasons.append(f"{column} {value!r} is not a date (2026-01-01 or 01-01-2026)")
    return None


def _row(cells: dict[str, str], line: int) -> tuple[Row | None, list[str]]:
    reasons: list[str] = []
    code = cells["code"]
    if not CODE.match(code):
        reasons.append(f"code {code!r} is not a product code (1 to 5 characters, no spaces)")
    category = cells["category"]
    if len(category) == 1 and category.isdigit():
        category = "0" + category  # spreadsheets drop the leading zero of 01..09
    law = law_of_category(category)
    if law is None:
        reasons.append(f"category {cells['category']!r} is not in JZ020 (iJw) or WMO020 (iWmo)")
    unit = cells["unit"]
    if len(unit) == 1 and unit.isdigit():
        unit = "0" + unit
    if unit not in UNITS:
        reasons.append(f"unit {cells['unit']!r} is not in WJ756 ({', '.join(f'{k} {v}' for k, v in UNITS.items())})")
    frequency = cells["frequency"] or None
    if frequency is not None and frequency not in FREQUENCIES:
        reasons.append(f"frequency {frequency!r} is not in WMO757 ({', '.join(f'{k} {v}' for k, v in FREQUENCIES.items())})")
    euro = None
    raw = cells["tariff"].replace("€", "").strip()
    if not raw:
        reasons.append("tariff missing")
    elif not AMOUNT.match(raw):
        reasons.append(f"tariff {cells['tariff']!r} is not an amount in euro with at most two decimals")
    else:
        try:
            euro = Decimal(raw.replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the pattern already refused it
            reasons.append(f"tariff {cells['tariff']!r} is not an amount")
    valid_from = _date(cells["valid_from"], "valid_from", reasons) if cells["valid_from"] else None
    if not cells["valid_from"]:
        reasons.append("valid_from missing")
    valid_to = _date(cells["valid_to"], "valid_to", reasons) if cells["valid_to"] else None
    if valid_from and valid_to and valid_to < valid_from:
        reasons.append(f"valid_to {valid_to} is before valid_from {valid_from}")
    provider = cells.get("provider") or None
    if provider is not None and not AGB.match(provider):
        reasons.append(f"provider {provider!r} is not an AGB code (8 digits)")
    if reasons:
        return None, reasons
    return (
        Row(
            line=line,
            code=code,
            category=category,
            law=law,  # type: ignore[arg-type]
            unit=unit,
            frequency=frequency,
            euro=euro,  # type: ignore[arg-type]
            valid_from=valid_from,  # type: ignore[arg-type]
            valid_to=valid_to,
            name=cells.get("name") or None,
            lot=cells.get("lot") or None,
            provider=provider,
        ),
        [],
    )


def _overlap(a: Row, b: Row) -> bool:
    return a.valid_from <= (b.valid_to or date.max) and b.valid_from <= (a.valid_to or date.max)


def _across_rows(out: ProductList) -> None:
    """Rows that are fine alone but contradict an earlier row are refused too (with both lines)."""
    kept: list[Row] = []
    for row in out.rows:
        reasons = []
        for prev in kept:
            if prev.code != row.code or prev.law != row.law:
                continue
            if prev.category != row.category:
                reasons.append(f"code {row.code} has category {prev.category} on line {prev.line}")
            elif prev.unit == row.unit and prev.provider == row.provider and _overlap(prev, row):
                reasons.append(
                    f"tariff period {row.valid_from}..{row.valid_to or 'open'} for unit {row.unit} overlaps "
                    f"line {prev.line} ({prev.valid_from}..{prev.valid_to or 'open'})"
                )
            elif prev.lot and row.lot and prev.lot != row.lot:
                reasons.append(f"code {row.code} is in lot {prev.lot} on line {prev.line}")
        if reasons:
            out.problems.append(Problem(out.source, "", row.line, "; ".join(reasons)))
        else:
            kept.append(row)
    out.rows = kept
    out.problems.sort(key=lambda p: (p.line or 0))


def category_names() -> dict[str, str]:
    return {code: name for codes in PRODUCT_CATEGORIES.values() for code, name in codes.items()}


def apply(bundle, plist: ProductList) -> tuple[object, list[Problem]]:
    """The bundle with the list's products: a listed code the bundle also lists keeps the bundle's
    lot, name and flags and takes units, frequencies and tariffs from the list (no longer example
    values); a code only in the list is added in the lot of its `lot` column or of its category
    (`product_list.lots`). Returns (bundle, problems); with problems the bundle is unchanged."""
    from gateway.contracts.models import Product, Tariff

    lots = {lot.id: lot for lot in bundle.lots}
    by_category = bundle.product_list.lots if bundle.product_list else {}
    inline = {(p.law, p.code): i for i, p in enumerate(bundle.products)}
    problems: list[Problem] = []
    grouped: dict[tuple[str, str], list[Row]] = {}
    for row in plist.rows:
        grouped.setdefault((row.law, row.code), []).append(row)
    products = list(bundle.products)
    for key, rows in grouped.items():
        first = rows[0]
        at = inline.get(key)
        base = products[at] if at is not None else None
        lot_id = next((r.lot for r in rows if r.lot), None) or (base.lot if base else by_category.get(first.category))
        where = Problem(plist.source, "", first.line, "")
        if base is not None and base.category != first.category:
            problems.append(_at(where, f"code {first.code} has category {base.category} in the bundle, {first.category} here"))
            continue
        if lot_id is None:
            problems.append(
                _at(where, f"no lot for product {first.code}: add a lot column or product_list.lots[\"{first.category}\"]")
            )
            continue
        lot = lots.get(lot_id)
        if lot is None:
            problems.append(_at(where, f"unknown lot {lot_id!r} for product {first.code}"))
            continue
        cross_law = base.cross_law if base else False
        if lot.law != first.law and not cross_law:
            problems.append(_at(where, f"product {first.code} (category {first.category}, {first.law}) is in lot {lot_id} of law {lot.law}"))
            continue
        tariffs = [
            Tariff(
                euro=r.euro,
                unit=r.unit,
                valid_from=r.valid_from,
                valid_to=r.valid_to,
                providers=[r.provider] if r.provider else [],
                note=f"product list line {r.line}",
            )
            for r in rows
        ]
        units = sorted({r.unit for r in rows})
        frequencies = sorted({r.frequency for r in rows if r.frequency})
        fields = {
            "units": units,
            "frequencies": frequencies or (base.frequencies if base else []),
            "tariffs": tariffs,
            "example": False,
        }
        if base is not None:
            if base.lot != lot_id:
                problems.append(_at(where, f"product {first.code} is in lot {base.lot} in the bundle, {lot_id} here"))
                continue
            products[at] = base.model_copy(update=fields)
        else:
            products.append(
                Product(
                    category=first.category,
                    code=first.code,
                    name=next((r.name for r in rows if r.name), first.code),
                    lot=lot_id,
                    law=first.law,
                    **fields,
                )
            )
    if problems:
        return bundle, problems
    return bundle.model_copy(update={"products": products}), []


def _at(where: Problem, message: str) -> Problem:
    return Problem(where.source, where.path, where.line, message)
