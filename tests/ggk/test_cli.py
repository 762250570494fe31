"""`gateway ggk wrap` / `gateway ggk unwrap`: round trips, exit status 2 with one clear line for
anything broken (never a traceback), and only the modules the command needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from gateway import ggk, samples
from gateway.cli import main
from testsupport import ggk_corpus

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    heen = samples.build("WMO301")
    out = {"heen": tmp_path / "wmo301.xml", "retour": tmp_path / "wmo302.xml"}
    out["heen"].write_bytes(heen)
    out["retour"].write_bytes(samples.retour(heen))
    return out


def run(capsysbinary, *argv: str) -> tuple[int, bytes, str]:
    status = main(list(argv))
    captured = capsysbinary.readouterr()
    return status, captured.out, captured.err.decode()


def test_wrap_then_unwrap_gives_the_message_back(files, tmp_path, capsysbinary):
    di01 = tmp_path / "di01.xml"
    assert run(capsysbinary, "ggk", "wrap", str(files["heen"]), "--out", str(di01))[0] == 0
    status, out, err = run(capsysbinary, "ggk", "unwrap", str(di01))
    assert status == 0 and out == files["heen"].read_bytes()
    assert err.startswith("Di01 WMO301 from ") and "referentienummer" in err


def test_a_retour_is_wrapped_against_its_di01(files, tmp_path, capsysbinary):
    di01 = tmp_path / "di01.xml"
    main(["ggk", "wrap", str(files["heen"]), "-o", str(di01)])
    status, out, err = run(capsysbinary, "ggk", "wrap", str(files["retour"]), "--heen", str(di01))
    assert status == 0, err
    du01 = ggk.unwrap(out).envelope
    assert du01.stuurgegevens.cross_refnummer == ggk.read(di01.read_bytes()).stuurgegevens.referentienummer
    ref = ggk.read(di01.read_bytes()).stuurgegevens.referentienummer
    status, out, _ = run(capsysbinary, "ggk", "wrap", str(files["retour"]), "--cross-ref", ref)
    assert status == 0 and ggk.read(out).stuurgegevens.functie == "WMO302"
    status, _, err = run(capsysbinary, "ggk", "wrap", str(files["retour"]))
    assert status == 2 and "crossRefnummer" in err and len(err.splitlines()) == 1


def test_unwrap_json_and_the_stuf_messages(files, tmp_path, capsysbinary):
    di01_raw = ggk.wrap(files["heen"].read_bytes())
    di01 = tmp_path / "di01.xml"
    di01.write_bytes(di01_raw)
    status, out, _ = run(capsysbinary, "ggk", "unwrap", "--json", str(di01))
    meta = json.loads(out)
    assert status == 0 and meta["stuurgegevens"]["functie"] == "WMO301" and "payload" not in meta
    fo01 = tmp_path / "fo01.xml"
    fo01.write_bytes(ggk.fo01(di01_raw, ggk.read(di01_raw), "Bsn te kort"))
    status, out, _ = run(capsysbinary, "ggk", "unwrap", str(fo01))
    shown = json.loads(out)
    assert status == 0 and shown["code"] == "StUF055" and "envelopHeenbericht-ggk_Di01" in shown["details_xml"]


def broken_envelopes() -> list[bytes]:
    """Every kind of broken envelope: a spread of the conformance corpus's refused mutations plus
    the payload and transport cases the schema cannot see."""
    own = ggk_corpus.own_envelopes()
    chosen = {}
    for s in ggk_corpus.samples_of({"Di01": own["Di01 JW301"], "Du01": own["Du01 WMO302"]}):
        if s.expect is False:
            chosen.setdefault((s.kind, s.where.split("/")[-1][:20]), s.xml)
    di01 = own["Di01 JW301"]
    extra = [
        b"", b"not xml", b"<a>", b"\xff\xfe<\x00", samples.build("JW301"),
        di01.replace(b"JW301</StUF:functie>", b"JW315</StUF:functie>"),
        di01.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e "e">]>', 1),
    ]
    return list(chosen.values()) + extra


def test_broken_envelopes_exit_2_with_one_line(tmp_path, capsysbinary):
    cases = broken_envelopes()
    assert len(cases) > 40
    path = tmp_path / "broken.xml"
    for raw in cases:
        path.write_bytes(raw)
        status, out, err = run(capsysbinary, "ggk", "unwrap", str(path))
        assert status == 2 and out == b"", raw[:200]
        assert len(err.splitlines()) == 1 and err.startswith(f"gateway ggk unwrap: {path}: "), err
        code = err.split(": ", 2)[2].split()[0]
        assert code in {c.stuf for c in ggk.CODES.values()}, err


def test_a_real_process_prints_no_traceback(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_bytes(etree.tostring(etree.fromstring(ggk.wrap(samples.build("JW301"))))
                     .replace(b"<StUF:berichtcode>Di01", b"<StUF:berichtcode>Du01"))
    done = subprocess.run([sys.executable, "-m", "gateway", "ggk", "unwrap", str(path)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "IB240 BERICHTCODE" in done.stderr and done.stdout == ""


def test_an_oversized_file_is_refused_without_reading_it(tmp_path, capsysbinary):
    path = tmp_path / "huge.xml"
    with path.open("wb") as fh:
        fh.truncate(26 * 1024 * 1024)
    status, _, err = run(capsysbinary, "ggk", "unwrap", str(path))
    assert status == 2 and "IB007 ENVELOPE_TOO_LARGE" in err


def test_unwrap_imports_neither_service_nor_store(tmp_path):
    from tests.validation.test_cli_imports import HEAVY, loaded, modules_after

    env = tmp_path / "di01.xml"
    env.write_bytes(ggk.wrap(samples.build("JW301")))
    status, modules = modules_after(tmp_path, "ggk", "unwrap", "--json", str(env))
    assert status == 0
    needed = {"pydantic"}  # the typed models at the edge
    assert [m for m in loaded(modules, HEAVY) if m.split(".")[0] not in needed] == []
    assert [m for m in modules if m.startswith("validators.rulesets")] == []
    assert [m for m in modules if m.startswith("gateway.cli.") and m != "gateway.cli.ggk"] == []
