"""A pytest plugin: every log line the whole test run writes goes to one file, which is searched
for BSNs (any run of nine digits) at the end; finding one fails the run.

Loaded by tests/conftest.py (`pytest_plugins`), so it is active in every run.

The file: $GATEWAY_TEST_LOG, default var/test-logs/pytest-run-<pid>.jsonl (git-ignored; one per
run, as several engineers run tests in one tree at once; files older than a day are removed).
Under pytest-xdist each worker writes a file of its own next to it (`...-gw0.jsonl`), and the
controlling process searches them all once the workers are done.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from gateway import observability

_STATE: dict[str, object] = {}


def log_path(config) -> Path:
    default = Path(config.rootpath) / "var" / "test-logs" / f"pytest-run-{os.getpid()}.jsonl"
    return Path(os.environ.get("GATEWAY_TEST_LOG", default))


def _prune(directory: Path, max_age_s: float = 86_400) -> None:
    now = time.time()
    for old in directory.glob("pytest-run-*.jsonl"):
        try:
            if now - old.stat().st_mtime > max_age_s:
                old.unlink()
        except OSError:
            pass


def scan(path: Path) -> list[tuple[int, str]]:
    """(line number, the line with the finding masked) for every line holding a BSN-like run."""
    found = []
    if not path.exists():
        return found
    with path.open(encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if observability.find_bsns(line):
                # never print the BSN itself, even in a failure report
                found.append((n, observability.mask_text(line.strip())[:300]))
    return found


def worker_path(path: Path, worker: str) -> Path:
    return path.with_name(f"{path.stem}-{worker}{path.suffix}")


def run_files(path: Path) -> list[Path]:
    """The run's file and its workers' files."""
    return [path, *sorted(path.parent.glob(f"{path.stem}-gw*{path.suffix}"))]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist: tell a worker where the run's log goes."""
    node.workerinput["gateway_test_log"] = str(_STATE["path"])


def pytest_configure(config) -> None:
    if "handler" in _STATE:
        return
    worker = getattr(config, "workerinput", None)
    if worker is None:
        path = log_path(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        _prune(path.parent)
        for old in run_files(path):
            old.unlink(missing_ok=True)
        path.write_text("")  # one file per run
    else:
        path = worker_path(Path(worker["gateway_test_log"]), worker["workerid"])
        path.write_text("")
    # structlog goes through stdlib logging from here on; the JSON lines go to the file (and
    # pytest's own log capture shows them per failing test), not to the terminal as well
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the run
    _STATE["sink"] = sink
    observability.configure_logging(os.environ.get("GATEWAY_TEST_LOG_LEVEL", "INFO"), stream=sink)
    _STATE["handler"] = observability.add_log_file(path, name="gateway-test-run")
    _STATE["path"] = path


def pytest_sessionfinish(session, exitstatus) -> None:
    handler = _STATE.get("handler")
    if handler is None:
        return
    handler.flush()
    if hasattr(session.config, "workerinput"):
        return  # the controlling process searches every worker's file
    path: Path = _STATE["path"]  # type: ignore[assignment]
    findings = []
    lines = 0
    for file in run_files(path):
        findings += [(f"{file.name}:{n}", line) for n, line in scan(file)]
        if file.exists():
            lines += sum(1 for _ in file.open(encoding="utf-8", errors="replace"))
    _STATE["findings"] = findings
    _STATE["lines"] = lines
    if findings and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter) -> None:
    if "findings" not in _STATE:
        return
    findings = _STATE["findings"]
    path = _STATE["path"]
    if findings:
        terminalreporter.section("BSN in the test-run log", red=True)
        terminalreporter.write_line(f"{len(findings)} line(s) of {path} (and its workers' files) hold a nine-digit run (a BSN?):")
        for where, line in findings[:20]:
            terminalreporter.write_line(f"  {where}: {line}")
    else:
        terminalreporter.write_line(
            f"BSN log check: {_STATE['lines']} log lines in {path}, no BSN in clear."
        )


def detach() -> None:
    handler = _STATE.pop("handler", None)
    if handler is not None:
        logging.getLogger().removeHandler(handler)
