"""`gateway validate`: JSON lines, exit status, usage errors, directories of many files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import catalog, samples
from gateway.cli import main
from gateway.cli import validate as cli_validate

REPO = Path(__file__).resolve().parents[2]
KEYS = ["file", "standard", "message", "valid", "issues"]
ISSUE_KEYS = ["rule", "severity", "path", "locations", "line", "text"]


def write_corpus(root: Path, n: int) -> dict[str, tuple[bool, str | None]]:
    """n message files in nested directories, a known mix of valid and broken ones.
    Returns file -> (valid, the rule of the first issue)."""
    expected: dict[str, tuple[bool, str | None]] = {}
    built = {t.code: samples.build(t.code) for t in catalog.ALL}
    for i in range(n):
        mtype = catalog.ALL[i % len(catalog.ALL)]
        raw = built[mtype.code]
        outcome: tuple[bool, str | None] = (True, None)
        if i % 10 == 3:  # schema error
            raw = raw.replace(b"<BerichtVersie>3<", b"<BerichtVersie>4<")
            outcome = (False, "XSD")
        elif i % 25 == 7:  # truncated
            raw = raw[: len(raw) // 3]
            outcome = (False, "PARSE")
        elif i % 40 == 11:  # a release we do not hold
            raw = raw.replace(b"/3_2/", b"/3_1/")
            outcome = (False, "DETECT")
        folder = root / mtype.standard / mtype.code
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"m{i:05d}.xml"
        path.write_bytes(raw)
        expected[str(path)] = outcome
    (root / "ijw" / "notes.txt").write_text("not a message, not *.xml: skipped")
    return expected


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, tuple[bool, str | None]]]:
    root = tmp_path_factory.mktemp("corpus")
    return root, write_corpus(root, 1100)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "validate", *args],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )


def test_json_on_a_directory_of_1100_files(corpus):
    root, expected = corpus
    proc = run_cli("--json", str(root))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(expected) == 1100
    results = [json.loads(line) for line in lines]
    assert [r["file"] for r in results] == sorted(expected)  # deterministic: sorted by path
    for r in results:
        assert list(r) == KEYS
        valid, rule = expected[r["file"]]
        assert r["valid"] is valid, r
        if valid:
            assert r["issues"] == []
        else:
            assert r["issues"][0]["rule"] == rule
            assert all(list(i) == ISSUE_KEYS for i in r["issues"])
            assert all(i["severity"] in ("error", "warning") for i in r["issues"])
        if rule in (None, "XSD"):
            code = Path(r["file"]).parent.name
            assert (r["standard"], r["message"]) == (catalog.by_code(code).standard, code)
        if rule == "PARSE":
            assert (r["standard"], r["message"]) == (None, None)
    assert sum(r["valid"] for r in results) == sum(v for v, _ in expected.values())


def test_same_output_with_one_or_two_processes(corpus):
    root, expected = corpus
    files = cli_validate.collect([str(root / "iwmo")])
    reg = cli_validate.SchemaRegistry.default()
    one = list(cli_validate.results(files, reg, True, None, 1))
    two = list(cli_validate.results(files, reg, True, None, 2))
    assert one == two
    assert len(one) == sum(1 for f in expected if "/iwmo/" in f) > cli_validate.POOL_THRESHOLD


def test_all_valid_exits_0(tmp_path, capsys):
    for code in ("JW301", "WMO319", "JW325"):
        (tmp_path / f"{code}.xml").write_bytes(samples.build(code))
    assert main(["validate", "--json", str(tmp_path)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["message"] for r in out] == ["JW301", "JW325", "WMO319"]
    assert all(r["valid"] for r in out)


def test_files_are_given_in_argument_order_and_any_extension(tmp_path, capsys):
    a = tmp_path / "b.xml"
    a.write_bytes(samples.build("JW305"))
    b = tmp_path / "a.message"
    b.write_bytes(samples.build("JW307"))
    assert main(["validate", "--json", str(a), str(b), str(a)]) == 0
    out = [json.loads(line)["file"] for line in capsys.readouterr().out.splitlines()]
    assert out == [str(a), str(b)]


def test_readable_report(tmp_path, capsys):
    (tmp_path / "good.xml").write_bytes(samples.build("JW305"))
    (tmp_path / "bad.xml").write_bytes(
        samples.build("JW305").replace(b"<BerichtVersie>3<", b"<BerichtVersie>4<"))
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"INVALID  {tmp_path / 'bad.xml'} (JW305): 1 error" in out
    assert "/Bericht/Header/BerichtVersie (line 5): Element BerichtVersie" in out
    assert f"valid    {tmp_path / 'good.xml'} (JW305)" in out
    assert "2 files: 1 valid, 1 invalid" in out


def test_official_schemas_via_option(official_dir, tmp_path, capsys):
    (tmp_path / "a.xml").write_bytes(samples.build("WMO305"))
    (tmp_path / "b.xml").write_bytes(samples.build("WMO306"))
    status = main(["validate", "--json", "--schemas", str(official_dir / "iwmo-3.2" / "xsd"), str(tmp_path)])
    assert status == 1
    a, b = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert a["valid"] and not b["valid"]
    assert b["message"] == "WMO306" and "No schema held for WMO306" in b["issues"][0]["text"]


def test_progress_on_stderr_for_long_runs(corpus, capsys, monkeypatch):
    root, _ = corpus
    monkeypatch.setattr(cli_validate, "PROGRESS_EVERY_SECONDS", 0.0)
    main(["validate", "--json", "--jobs", "1", str(root / "ijw" / "JW301")])
    err = capsys.readouterr().err
    assert "validated 1/" in err and "files:" in err


def test_quiet_means_no_progress(corpus, capsys, monkeypatch):
    root, _ = corpus
    monkeypatch.setattr(cli_validate, "PROGRESS_EVERY_SECONDS", 0.0)
    main(["validate", "--json", "-q", "--jobs", "1", str(root / "ijw" / "JW301")])
    assert capsys.readouterr().err == ""


def test_oversized_file_is_refused_without_reading_it(tmp_path, capsys, monkeypatch):
    big = tmp_path / "big.xml"
    with big.open("wb") as fh:
        fh.truncate(26 * 1024 * 1024)
    assert main(["validate", "--json", str(big)]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["issues"][0]["rule"] == "PARSE" and "limit is 25.0 MB" in result["issues"][0]["text"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["/nonexistent/path.xml"], "no such file or directory: /nonexistent/path.xml"),
        (["--schemas", "/nonexistent/xsd", "{ok}"], "bad schema directory"),
        (["--schemas", "{empty}", "{ok}"], "no iStandaarden XSD files"),
        (["--schemas", "{ok}", "{ok}"], "is not a directory"),
        (["--jobs", "0", "{ok}"], "--jobs must be at least 1"),
    ],
    ids=["missing-path", "missing-schemas", "empty-schemas", "schemas-is-a-file", "jobs-0"],
)
def test_usage_errors_exit_2(tmp_path, capsys, args, message):
    ok = tmp_path / "ok.xml"
    ok.write_bytes(samples.build("JW305"))
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [a.format(ok=ok, empty=empty) for a in args]
    assert main(["validate", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unreadable_directory_is_a_usage_error(tmp_path, capsys, monkeypatch):
    # Tests may run as root, which reads everything: simulate the failing directory read.
    def refuse(top, onerror=None, **kwargs):
        onerror(PermissionError(13, "Permission denied", str(top)))
        return iter(())

    monkeypatch.setattr(cli_validate.os, "walk", refuse)
    assert main(["validate", str(tmp_path)]) == 2
    assert "cannot read directory" in capsys.readouterr().err


def test_no_arguments_is_a_usage_error():
    proc = run_cli()
    assert proc.returncode == 2 and "PATH" in proc.stderr


def test_python_m_gateway_and_the_script_agree(tmp_path):
    (tmp_path / "x.xml").write_bytes(samples.build("WMO317"))
    module = run_cli("--json", str(tmp_path))
    script = Path(sys.executable).parent / "gateway"
    if not script.exists():
        pytest.skip("the gateway console script is not installed in this environment")
    proc = subprocess.run([str(script), "validate", "--json", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert module.returncode == proc.returncode == 0
    assert module.stdout == proc.stdout and json.loads(module.stdout)["message"] == "WMO317"


def test_empty_directory_is_fine(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 0
    assert "no .xml files found" in capsys.readouterr().err


def test_pool_is_used_for_many_files(corpus, monkeypatch):
    """Many files go to a process pool sized by --jobs, in chunks."""
    root, _ = corpus
    created = {}

    class Spy(cli_validate.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            created.update(kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(cli_validate, "ProcessPoolExecutor", Spy)
    files = cli_validate.collect([str(root / "iwmo")])
    reg = cli_validate.SchemaRegistry.default()
    results = list(cli_validate.results(files, reg, True, None, 2))
    assert created["max_workers"] == 2
    assert [r["file"] for r in results] == files
    assert os.cpu_count() >= 1


def test_devices_and_dangling_links_in_a_directory_are_skipped(tmp_path, capsys):
    (tmp_path / "ok.xml").write_bytes(samples.build("JW305"))
    (tmp_path / "zero.xml").symlink_to("/dev/zero")
    (tmp_path / "gone.xml").symlink_to(tmp_path / "missing")
    assert main(["validate", "--json", str(tmp_path)]) == 0
    assert [json.loads(line)["file"] for line in capsys.readouterr().out.splitlines()] == [
        str(tmp_path / "ok.xml")]


def test_a_bom_is_a_warning_in_the_json(tmp_path, capsys):
    (tmp_path / "bom.xml").write_bytes(b"\xef\xbb\xbf" + samples.build("WMO307"))
    assert main(["validate", "--json", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["valid"] is True
    assert [(i["rule"], i["severity"], i["line"]) for i in result["issues"]] == [("PARSE", "warning", 1)]
