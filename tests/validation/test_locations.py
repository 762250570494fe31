"""Every issue carries `locations` (the official Fout's Locaties) beside `path`, the first of them."""

from __future__ import annotations

import json

from lxml import etree

from gateway import samples
from gateway.cli import main
from validators.validate import validate_bytes

BIRTH = "/Bericht/Client/Geboortedatum"


def _with_birth_usage(code_builder, usage: str) -> bytes:
    root = etree.fromstring(code_builder())
    geboorte = root.find("{*}Client/{*}Geboortedatum")
    datum = geboorte.find("{*}Datum")
    datum.text = datum.text[:8] + "17"  # day 17: known day, so DatumGebruik 1 (day unknown) disagrees
    etree.SubElement(geboorte, etree.QName(datum).namespace and f"{{{etree.QName(datum).namespace}}}DatumGebruik").text = usage
    return etree.tostring(root)


def test_cs139_lists_datum_and_datumgebruik():
    report = validate_bytes(_with_birth_usage(lambda: samples.build("JW305"), "1"))
    [cs139] = [i for i in report.issues if i.rule == "CS139"]
    assert cs139.locations == [f"{BIRTH}/Datum", f"{BIRTH}/DatumGebruik"]
    assert cs139.path == cs139.locations[0]


def test_cs139_runs_on_the_retour_too():
    heen = _with_birth_usage(lambda: samples.build("JW305"), "1")
    report = validate_bytes(samples.retour(heen, echo=True))
    assert report.message == "JW306"
    assert [i.locations for i in report.issues if i.rule == "CS139"] == [[f"{BIRTH}/Datum", f"{BIRTH}/DatumGebruik"]]


def test_cli_json_prints_path_and_locations(tmp_path, capsys):
    f = tmp_path / "jw305.xml"
    f.write_bytes(_with_birth_usage(lambda: samples.build("JW305"), "1"))
    assert main(["validate", "--json", str(f)]) == 1
    [line] = capsys.readouterr().out.strip().splitlines()
    [issue] = [i for i in json.loads(line)["issues"] if i["rule"] == "CS139"]
    assert issue["path"] == f"{BIRTH}/Datum"
    assert issue["locations"] == [f"{BIRTH}/Datum", f"{BIRTH}/DatumGebruik"]


def test_an_issue_with_only_a_path_has_that_one_location():
    report = validate_bytes(b"<Bericht/>")
    assert all(i.public()["locations"] == ([i.path] if i.path else []) for i in report.issues)


def test_tr002_checks_every_geboortedatum_and_names_the_dagtekening():
    root = etree.fromstring(samples.allocation("ijw", relatie=True))
    relatie = root.find(".//{*}Relatie")
    ns = etree.QName(root.find(".//{*}Geboortedatum/{*}Datum")).namespace
    geboorte = etree.Element(etree.QName(relatie, "Geboortedatum").text)
    etree.SubElement(geboorte, f"{{{ns}}}Datum").text = "1850-01-01"
    relatie.find("{*}Soort").addnext(geboorte)
    report = validate_bytes(samples.retour(etree.tostring(root), echo=True))
    [tr002] = [i for i in report.issues if i.rule == "TR002"]
    assert tr002.locations[0] == "/Bericht/Header/BerichtIdentificatie/Dagtekening"
    assert tr002.locations[1].startswith("/Bericht/Client/Relaties/Relatie")
