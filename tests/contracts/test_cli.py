"""`gateway contracts check | list | schema | hash-client`."""

from __future__ import annotations

import io
import json

from gateway.cli import main
from gateway.contracts import BUNDLES_DIR
from gateway.contracts.clients import client_hash
from tests.contracts.test_bundles import MINIMAL


def test_check_accepts_the_example_bundles(capsys):
    files = [str(p) for p in sorted(BUNDLES_DIR.glob("*.yaml"))]
    assert main(["contracts", "check", *files]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok: ") == len(files) and "midden-holland 2025.1" in out


def test_check_refuses_with_located_messages(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL)
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("lot: ambulant\n    law", "lot: wonen\n    law"))
    clash = tmp_path / "clash.yaml"
    clash.write_text(MINIMAL.replace("region: test", "region: andere"))
    assert main(["contracts", "check", str(good), str(bad), str(clash)]) == 1
    err = capsys.readouterr().err.splitlines()
    lot_line = next(n for n, line in enumerate(bad.read_text().splitlines(), 1) if "lot: wonen" in line)
    assert f"{bad}:{lot_line}: products[0].lot: unknown lot 'wonen'" in err
    assert any(line.startswith(f"{clash}:") and "already in region 'test'" in line for line in err)


def test_list_shows_regions_and_versions(capsys):
    assert main(["contracts", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["region"], r["version"]) for r in rows] == [
        ("maasdriel-zaltbommel", "2022.1"),
        ("maasdriel-zaltbommel", "2027.1"),
        ("midden-holland", "2025.1"),
        ("noord-limburg", "2022.1"),
        ("twente", "2025.1"),
    ]
    assert main(["contracts", "list"]) == 0
    assert "midden-holland" in capsys.readouterr().out


def test_list_of_a_broken_directory_fails(tmp_path, capsys):
    (tmp_path / "x.yaml").write_text("region: [")
    assert main(["contracts", "list", "--dir", str(tmp_path)]) == 1
    assert "not valid YAML" in capsys.readouterr().err


def test_hash_client_reads_the_bsn_from_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("999900067\n"))
    assert main(["contracts", "hash-client", "--salt", "mh-2025-example-salt"]) == 0
    assert capsys.readouterr().out.strip() == client_hash("999900067", "mh-2025-example-salt")
    monkeypatch.setattr("sys.stdin", io.StringIO("12\n"))
    assert main(["contracts", "hash-client", "--salt", "x"]) == 2


def test_schema_prints_the_published_schema(capsys):
    assert main(["contracts", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"].startswith("Regional contract bundle")
