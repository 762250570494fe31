"""`gateway retour FILE`: prints the retour / 325; transport rejection on stderr for XSD failures."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from gateway import clock, samples
from gateway.cli import main
from gateway.samples.xmlbuild import previous_month
from validators.paths import child, children, text


def _run(tmp_path, capsysbinary, data: bytes, *args: str) -> tuple[int, bytes, str]:
    f = tmp_path / "heen.xml"
    f.write_bytes(data)
    rc = main(["retour", str(f), *args])
    out, err = capsysbinary.readouterr()
    return rc, out, err.decode()


def test_cli_prints_accepting_retour(tmp_path, capsysbinary):
    rc, out, err = _run(tmp_path, capsysbinary, samples.build("JW305"), "--id", "R42", "--today", clock.today().isoformat())
    assert rc == 0 and err == ""
    root = etree.fromstring(out)
    h = child(root, "Header")
    assert text(h, "BerichtCode") == "439" and text(h, "IdentificatieRetour") == "R42"
    assert text(h, "DagtekeningRetour") == clock.today().isoformat() and child(h, "RetourCodes") is None


def test_cli_level2_rejection(tmp_path, capsysbinary):
    heen = samples.stop("iwmo", products=(samples.Stopped(status="2"),))
    rc, out, err = _run(tmp_path, capsysbinary, heen)
    assert rc == 0
    assert "CS058" in err
    codes = [c.text for c in etree.fromstring(out).iter("{*}RetourCode")]
    assert codes == ["0001"]


def test_cli_declaration_answer_with_tr319(tmp_path, capsysbinary):
    begin, _ = previous_month()
    prev = previous_month(begin)
    heen = samples.declaration("ijw", periode=prev, clients={
        samples.BSNS[0]: [
            samples.Prestatie(referentienummer="OLD", begindatum=prev[0], einddatum=prev[1]),
            samples.Prestatie(referentienummer="NEW", toewijzingnummer=2),  # a month after the period
        ]
    })
    rc, out, err = _run(tmp_path, capsysbinary, heen, "--id", "A7")
    assert rc == 0 and "TR319" in err
    root = etree.fromstring(out)
    assert text(child(root, "Header"), "BerichtIdentificatie", "Identificatie") == "A7"
    prestaties = list(root.iter("{*}Prestatie"))
    assert [text(p, "ProductReferentie", "ReferentieNummer") for p in prestaties] == ["NEW"]
    assert [c.text for c in children(child(prestaties[0], "RetourCodes"), "RetourCode")] == ["9319"]


def test_cli_xsd_invalid_gives_transport_rejection(tmp_path, capsysbinary):
    heen = samples.build("JW301").replace(b"<Geslacht>2</Geslacht>", b"<Geslacht>9</Geslacht>", 1)
    rc, out, err = _run(tmp_path, capsysbinary, heen)
    assert rc == 1 and out == b""
    rejection = json.loads(err)
    assert rejection["code"] == "BRS13" and rejection["path"] == "/Bericht/Client/Geslacht"
    assert "Traceback" not in err


def test_cli_retour_of_a_retour_is_a_usage_error(tmp_path, capsysbinary):
    rc, out, err = _run(tmp_path, capsysbinary, samples.build("JW302"))
    assert rc == 2 and out == b"" and "JW302" in err


def test_cli_missing_file(tmp_path, capsysbinary):
    rc = main(["retour", str(tmp_path / "absent.xml")])
    assert rc == 2
    assert "cannot read" in capsysbinary.readouterr().err.decode()


def test_cli_bad_today_is_rejected(tmp_path, capsysbinary):
    f = tmp_path / "x.xml"
    f.write_bytes(samples.build("JW301"))
    with pytest.raises(SystemExit) as exc:
        main(["retour", str(f), "--today", "gisteren"])
    assert exc.value.code == 2
