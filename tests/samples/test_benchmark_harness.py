"""The benchmark harness: results are written with their command and machine, subjects really check."""

from __future__ import annotations

import json

from benchmarks.harness import (
    Benchmark,
    Result,
    RunContext,
    markdown_table,
    run_one,
    write_result,
    write_summary,
)
from benchmarks.subjects import lxml_floor
from gateway import samples


def test_floor_subject_tells_valid_from_invalid(tmp_path):
    with lxml_floor(tmp_path) as check:
        good = samples.build("JW323")
        assert check(good) == "valid"
        assert check(good.replace(b"<BerichtVersie>3<", b"<BerichtVersie>4<")) == "invalid"


def test_result_files_carry_command_machine_and_ratio(tmp_path):
    def fake(ctx: RunContext) -> Result:
        return Result(measured="nothing much", baseline="a", ratio_meaning="b/a", columns=["subject", "ratio"],
                      rows=[{"subject": "a", "ratio": 1.0}, {"subject": "b", "ratio": 0.25}], headline="b is 0.25x a")

    ctx = RunContext(quick=True, work_dir=tmp_path, command="bench --quick")
    result = run_one(Benchmark("fake", "A fake benchmark", fake), ctx)
    js, md = write_result(result, tmp_path / "out")
    data = json.loads(js.read_text())
    assert data["command"] == "bench --quick" and data["quick"] is True
    assert data["machine"]["cpus"] and "load_average" in data["machine"]
    assert "| b | 0.25 |" in md.read_text()
    summary = write_summary(tmp_path / "out").read_text()
    assert "b is 0.25x a" in summary and "bench --quick" in summary


def test_markdown_table_formats_numbers():
    table = markdown_table(["n", "x"], [{"n": 12345, "x": 0.000123}, {"n": 1, "x": None}])
    assert "| 12,345 | 0.000123 |" in table and "| 1 |  |" in table
