"""A region's product and tariff list from a CSV export: checked row by row against the official
category, unit and frequency codes, every bad row reported by line, and used by a bundle that
names it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from gateway.cli import main
from gateway.contracts import BundleError, ContractRegistry, parse_bundle
from gateway.contracts import productlist
from gateway.contracts.loader import load_file, load_text
from tests.contracts.test_bundles import MINIMAL

GOOD = """\
code,category,unit,frequency,tariff,valid_from,valid_to,name
45A01,45,04,2,74.10,2025-01-01,2025-12-31,Begeleiding regulier
45A01,45,04,2,76.35,2026-01-01,,Begeleiding regulier
45A01,45,01,2,1.27,2026-01-01,,
45B02,45,04,4,91.00,2025-01-01,,Begeleiding specialistisch
"""

# Each bad line and the words its reason must contain.
BAD_ROWS = [
    ("45X01,60,04,2,70.00,2025-01-01,,", "category '60' is not in JZ020 (iJw) or WMO020 (iWmo)"),
    ("45X02,45,05,2,70.00,2025-01-01,,", "unit '05' is not in WJ756"),
    ("45X03,45,04,3,70.00,2025-01-01,,", "frequency '3' is not in WMO757"),
    ("45X04,45,04,2,70.001,2025-01-01,,", "tariff '70.001' is not an amount"),
    ("45X05,45,04,2,,2025-01-01,,", "tariff missing"),
    ("45X06,45,04,2,70.00,2025-13-01,,", "valid_from '2025-13-01' is not a date"),
    ("45X07,45,04,2,70.00,2025-06-01,2025-01-01,", "valid_to 2025-01-01 is before valid_from 2025-06-01"),
    ("45X08,45,04,2,70.00,2025-01-01", "6 columns, the header has 8"),
    ("45A01,45,04,2,80.00,2025-06-01,,", "overlaps line 2"),
    ("45B02,44,04,4,91.00,2027-01-01,,", "code 45B02 has category 45 on line 5"),
    ("TOO-LONG,45,04,2,70.00,2025-01-01,,", "is not a product code"),
]


def test_a_good_list_is_read_with_every_row():
    plist = productlist.parse(GOOD, "list.csv")
    assert plist.ok, plist.problems
    assert plist.lines == 4 and plist.codes() == [("jeugd", "45A01"), ("jeugd", "45B02")]
    assert plist.rows[1].euro == Decimal("76.35") and plist.rows[1].valid_to is None


def test_every_bad_row_is_reported_with_its_line_and_reason():
    text = GOOD + "\n".join(row for row, _ in BAD_ROWS) + "\n"
    plist = productlist.parse(text, "list.csv")
    by_line = {p.line: p.message for p in plist.problems}
    for n, (_, words) in enumerate(BAD_ROWS, start=6):
        assert words in by_line.get(n, ""), (n, by_line.get(n))
    assert len(plist.problems) == len(BAD_ROWS)
    # The good rows are all still there: a bad row does not take others with it.
    assert len(plist.rows) == 4


def test_one_row_reports_all_its_reasons():
    plist = productlist.parse(GOOD.splitlines()[0] + "\nX,99,99,9,abc,gisteren,,\n", "list.csv")
    [problem] = plist.problems
    for words in ("category '99'", "unit '99'", "frequency '9'", "tariff 'abc'", "valid_from 'gisteren'"):
        assert words in problem.message
    assert str(problem).startswith("list.csv:2: ")


def test_a_spreadsheet_export_with_semicolons_decimal_commas_and_dutch_dates():
    text = "\ufeffProductcode;Productcategorie;Eenheid;Frequentie;Tarief;Ingangsdatum;Einddatum\n2A01;2;4;2;€ 68,50;01-01-2026;31-12-2026\n"
    plist = productlist.parse(text.encode("utf-8"), "export.csv")
    assert plist.ok, plist.problems
    [row] = plist.rows
    assert (row.code, row.category, row.law, row.unit, row.euro) == ("2A01", "02", "wmo", "04", Decimal("68.50"))
    assert (row.valid_from, row.valid_to) == (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty product list"),
        ("code,category,unit\n45A01,45,04\n", "header misses column(s) frequency, tariff, valid_from, valid_to"),
        ("code,category,unit,frequency,tariff,valid_from,valid_to,prijs\n", "unknown column(s) prijs"),
        ("code,category,unit,frequency,tariff,valid_from,valid_to\n", "no product rows"),
    ],
)
def test_a_list_without_usable_header_or_rows_is_refused(text, words):
    plist = productlist.parse(text, "list.csv")
    assert not plist.ok and words in plist.problems[0].message


def test_a_list_that_is_not_utf8_is_refused():
    plist = productlist.parse("code;tarief\nÉ;1\n".encode("latin-1"), "list.csv")
    assert "not UTF-8" in plist.problems[0].message


def test_cli_check_reports_a_list(tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    assert main(["contracts", "check", str(good)]) == 0
    assert f"{good}: ok: 4 rows, 2 products" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + BAD_ROWS[1][0] + "\n" + BAD_ROWS[0][0] + "\n")
    assert main(["contracts", "check", str(good), str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"{bad}:6: unit '05' is not in WJ756") for line in err)
    assert any(line.startswith(f"{bad}:7: category '60'") for line in err)
    assert f"{bad}: refused: 2 bad row(s) of 6" in err


# -- a bundle that names its list -------------------------------------------------------------

WITH_LIST = MINIMAL.replace(
    "providers:",
    'product_list:\n  file: producten.csv\n  lots: {"45": ambulant}\nproviders:',
    1,
)


def _bundle_dir(tmp_path, csv_text=GOOD, bundle_text=WITH_LIST):
    (tmp_path / "producten.csv").write_text(csv_text)
    path = tmp_path / "regio.yaml"
    path.write_text(bundle_text)
    return path


def test_a_bundle_uses_its_list(tmp_path):
    loaded = load_file(_bundle_dir(tmp_path))
    b = loaded.bundle
    products = {p.code: p for p in b.products}
    # 45A01 is in the bundle (lot, name) and in the list (units, tariffs): the list wins.
    a01 = products["45A01"]
    assert a01.lot == "ambulant" and a01.units == ["01", "04"] and not a01.example
    assert [(t.euro, t.unit, t.valid_from) for t in a01.tariffs] == [
        (Decimal("74.10"), "04", date(2025, 1, 1)),
        (Decimal("76.35"), "04", date(2026, 1, 1)),
        (Decimal("1.27"), "01", date(2026, 1, 1)),
    ]
    # 45B02 only in the list: added in the lot of its category.
    assert products["45B02"].lot == "ambulant" and products["45B02"].name == "Begeleiding specialistisch"
    # The contract rules see the listed tariffs.
    reg = ContractRegistry()
    reg.add(loaded)
    idx = reg.lookup("0513", date(2026, 3, 1))
    tariff = idx.tariff(idx.product("45", "45A01").tariffs, "04", "12345678", date(2026, 3, 1))
    assert tariff.cents == 7635
    assert idx.product("45", "45B02") is not None


def test_the_list_travels_with_the_bundle_text(tmp_path):
    """The kept text inlines the list: the store and another instance rebuild the same bundle, and
    a changed list changes the digest (the immutable version covers the list)."""
    path = _bundle_dir(tmp_path)
    loaded = load_file(path)
    assert "file: producten.csv" not in loaded.text and "csv: " in loaded.text
    assert loaded.text.count("\n") == path.read_text().count("\n")  # line numbers unchanged
    again = load_text(loaded.text, source="store:test@1")
    assert again.bundle.products == loaded.bundle.products and again.sha256 == loaded.sha256
    changed = load_file(_bundle_dir(tmp_path, csv_text=GOOD.replace("76.35", "77.00")))
    assert changed.sha256 != loaded.sha256
    reg = ContractRegistry()
    reg.add(loaded)
    with pytest.raises(BundleError, match="already has version"):
        reg.add(changed)


def test_a_bundle_with_a_bad_list_is_refused_by_line(tmp_path):
    path = _bundle_dir(tmp_path, csv_text=GOOD + BAD_ROWS[1][0] + "\n")
    with pytest.raises(BundleError) as exc:
        load_file(path)
    [problem] = exc.value.problems
    assert problem.source == str(tmp_path / "producten.csv") and problem.line == 6
    assert "unit '05' is not in WJ756" in problem.message


@pytest.mark.parametrize(
    "csv_text, bundle_text, words",
    [
        (GOOD, WITH_LIST.replace('  lots: {"45": ambulant}\n', ""), 'no lot for product 45B02: add a lot column or product_list.lots["45"]'),
        (GOOD + "02A01,02,04,2,60.00,2025-01-01,,\n", WITH_LIST, "no lot for product 02A01"),
        ("\n".join(GOOD.splitlines()[:4]) + "\n", WITH_LIST.replace('lots: {"45": ambulant}', 'lots: {"02": ambulant}'), "category 02 is not a jeugd ProductCategorie"),
        (GOOD.replace("45A01,45,04,2,74.10", "45A01,44,04,2,74.10").replace("45A01,45,", "45A01,44,"), WITH_LIST, "has category 45 in the bundle, 44 here"),
    ],
)
def test_list_products_must_fit_the_bundle(tmp_path, csv_text, bundle_text, words):
    with pytest.raises(BundleError) as exc:
        load_file(_bundle_dir(tmp_path, csv_text, bundle_text))
    assert any(words in p.message for p in exc.value.problems), exc.value.problems


def test_a_missing_list_file_is_refused(tmp_path):
    path = tmp_path / "regio.yaml"
    path.write_text(WITH_LIST)
    with pytest.raises(BundleError, match="cannot read producten.csv"):
        load_file(path)


def test_text_sent_to_the_api_cannot_name_a_file(tmp_path):
    with pytest.raises(BundleError, match="cannot name a file"):
        parse_bundle(WITH_LIST, "<api>")
    outside = _bundle_dir(tmp_path, bundle_text=WITH_LIST.replace("file: producten.csv", "file: ../../etc/passwd"))
    with pytest.raises(BundleError, match="must lie beside the bundle file"):
        load_file(outside)


def test_an_inline_list_reports_lines_of_the_list():
    text = MINIMAL.replace(
        "providers:", 'product_list:\n  csv: "code,category,unit,frequency,tariff,valid_from,valid_to\\n45A01,45,05,2,1.00,2025-01-01,\\n"\nproviders:', 1
    )
    with pytest.raises(BundleError) as exc:
        parse_bundle(text, "<api>")
    [problem] = exc.value.problems
    assert problem.line == 2 and "unit '05'" in problem.message and "product_list.csv" in problem.source


def test_cli_check_of_a_bundle_with_its_list(tmp_path, capsys):
    path = _bundle_dir(tmp_path)
    assert main(["contracts", "check", str(path)]) == 0
    assert "2 products (list from CSV)" in capsys.readouterr().out
    (tmp_path / "producten.csv").write_text(GOOD + BAD_ROWS[2][0] + "\n")
    assert main(["contracts", "check", str(path)]) == 1
    assert f"{tmp_path / 'producten.csv'}:6: frequency '3' is not in WMO757" in capsys.readouterr().err
