"""The long form of the fault and hostile-input suites (the short form runs in `scripts/test`).

    .venv/bin/python benchmarks/faults_long.py                 # everything, ~20-30 min
    .venv/bin/python benchmarks/faults_long.py --only kill9_sqlite,hostile --scale 0.2

Runs the same scenarios as tests/faults/ with more messages, more kills, longer outages and more
processes; the hostile inputs repeated with memory measured per case; the fuzz suite with 10x
the examples (GATEWAY_FUZZ=long). Needs PostgreSQL on 127.0.0.1:5432 and the tansu broker, as
the tests do. Writes benchmarks/results/faults-long.json and .md (every scenario's figures and
violated guarantees; an empty violation list means every guarantee held).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"
MB = 1024 * 1024


def _n(base: int, scale: float) -> int:
    return max(4, int(base * scale))


# -- scenarios -----------------------------------------------------------------------------------

def kill9_sqlite(work: Path, scale: float) -> dict:
    from testsupport.services import TansuBroker
    from tests.faults import scenarios

    with TansuBroker() as broker:
        return scenarios.kill9(work, f"sqlite:///{work / 'gateway.db'}", broker.bootstrap,
                               messages=_n(2000, scale), workers=8, kills=5).as_dict()


def kill9_postgres(work: Path, scale: float) -> dict:
    from testsupport.services import TansuBroker, temporary_pg_database
    from tests.faults import scenarios

    with TansuBroker() as broker, temporary_pg_database() as url:
        return scenarios.kill9(work, url, broker.bootstrap, messages=_n(2000, scale), workers=8,
                               kills=5).as_dict()


def kill9_repeat(work: Path, scale: float) -> dict:
    """The CI-sized kill -9 scenario (80 messages, one kill mid-load) 20 times in a row on SQLite:
    a restart must never turn into a refused message (a 4xx for the gateway's own state)."""
    from testsupport.services import TansuBroker
    from tests.faults import scenarios

    runs, violations, refused = [], [], 0
    for i in range(max(1, round(20 * scale))):
        run_dir = work / f"run{i}"
        run_dir.mkdir()
        with TansuBroker() as broker:
            r = scenarios.kill9(run_dir, f"sqlite:///{run_dir / 'gateway.db'}", broker.bootstrap,
                                messages=80, kills=1).as_dict()
        statuses = r["figures"].get("statuses_seen", {})
        refused += sum(n for status, n in statuses.items() if str(status).startswith("4"))
        runs.append({"run": i + 1, "passed": r["passed"], "statuses": statuses,
                     "connection_errors": r["figures"].get("connection_errors")})
        violations += [f"run {i + 1}: {v}" for v in r["violations"]]
    return {"scenario": "kill9_repeat", "params": {"runs": len(runs), "messages": 80, "kills": 1},
            "figures": {"runs": runs, "refused": refused,
                        "runs_passed": sum(1 for r in runs if r["passed"])},
            "violations": violations, "passed": not violations}


def broker_outage(work: Path, scale: float) -> dict:
    from testsupport.services import TansuBroker, temporary_pg_database
    from tests.faults import scenarios

    broker = TansuBroker().start()
    try:
        with temporary_pg_database() as url:
            return scenarios.broker_outage(work, url, broker, before=_n(200, scale), during=_n(1000, scale),
                                           after=_n(500, scale), outage_seconds=30.0 * min(1.0, scale * 2),
                                           workers=8).as_dict()
    finally:
        broker.stop()


def db_outage(work: Path, scale: float) -> dict:
    from testsupport.services import TansuBroker, temporary_pg_database
    from tests.faults import scenarios

    with TansuBroker() as broker, temporary_pg_database() as url:
        return scenarios.db_outage(work, url, broker.bootstrap, messages=_n(1000, scale), workers=8,
                                   terminations=5, outage_seconds=15.0 * min(1.0, scale * 2)).as_dict()


def _multi(n: int, kill_one: bool = False) -> Callable[[Path, float], dict]:
    def run(work: Path, scale: float) -> dict:
        from testsupport.services import TansuBroker, temporary_pg_database
        from tests.faults import scenarios

        with TansuBroker() as broker, temporary_pg_database() as url:
            return scenarios.multi_process(work, url, broker.bootstrap, processes=n, clients=_n(500, scale),
                                           races=_n(20, scale), workers=8, kill_one=kill_one).as_dict()
    return run


def hostile(work: Path, scale: float) -> dict:
    """Every hostile case `repeats` times against one server process: the answer each time, and
    the server's RSS after each case and its peak (VmHWM) over the whole run."""
    import httpx

    from tests.faults import harness
    from tests.faults.hostile_inputs import CASES

    repeats = max(2, int(5 * scale))
    url = f"sqlite:///{work / 'gateway.db'}"
    keys = harness.prepare_store(url)
    rows, violations = [], []
    with harness.GatewayProcess(work / "gw", url) as gw:
        httpx.post(f"{gw.url}/v1/messages", content=b"<warm-up/>", timeout=30,
                   headers={"Authorization": f"Bearer {keys.gemeente}"})
        start_rss = gw.rss()
        for case in CASES:
            statuses, seconds = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                try:
                    r = httpx.post(f"{gw.url}{case.endpoint}", content=case.body(), timeout=120,
                                   headers={"Authorization": f"Bearer {keys.for_sender(case.role)}",
                                            "Content-Type": case.content_type})
                    statuses.append(r.status_code)
                    ok = (r.status_code == case.status and "Traceback" not in r.text
                          and case.expect.lower() in r.text.lower())
                except httpx.HTTPError as exc:
                    statuses.append(type(exc).__name__)
                    ok = False
                seconds.append(time.perf_counter() - t0)
                if not ok:
                    violations.append(f"{case.name}: got {statuses[-1]}, expected {case.status} {case.expect}")
            healthy = gw.healthy()
            if not healthy:
                violations.append(f"{case.name}: /healthz failed afterwards")
            rows.append({"case": case.name, "endpoint": case.endpoint, "expected": case.status,
                         "statuses": sorted({str(s) for s in statuses}), "healthy": healthy,
                         "rss_after_mb": round(gw.rss() / MB, 1),
                         "max_seconds": round(max(seconds), 3)})
        peak = harness_peak(gw.pid)
        end_rss = gw.rss()
    return {"scenario": "hostile", "params": {"cases": len(CASES), "repeats": repeats},
            "figures": {"rss_start_mb": round(start_rss / MB, 1), "rss_end_mb": round(end_rss / MB, 1),
                        "rss_peak_mb": round(peak / MB, 1), "cases": rows},
            "violations": violations, "passed": not violations}


def harness_peak(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def fuzz(work: Path, scale: float) -> dict:
    """tests/fuzz with GATEWAY_FUZZ=long (10x the examples, not derandomized)."""
    env = {**os.environ, "GATEWAY_FUZZ": "long"}
    junit = work / "fuzz.xml"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/fuzz", "-q", "-p", "no:logging",
                           "-p", "no:cacheprovider", f"--junitxml={junit}"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    import xml.etree.ElementTree as ET

    suite = ET.parse(junit).getroot().find("testsuite") if junit.exists() else None
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")} if suite is not None else {}
    failed = []
    if suite is not None:
        for tc in suite.iter("testcase"):
            if tc.find("failure") is not None or tc.find("error") is not None:
                failed.append(f"{tc.get('classname')}::{tc.get('name')}")
    return {"scenario": "fuzz", "params": {"GATEWAY_FUZZ": "long"},
            "figures": {**counts, "seconds": round(time.monotonic() - t0, 1), "failed": failed,
                        "summary": proc.stdout.strip().splitlines()[-1:] if proc.stdout else []},
            "violations": [f"failed: {t}" for t in failed], "passed": proc.returncode == 0}


SCENARIOS: dict[str, Callable[[Path, float], dict]] = {
    "kill9_sqlite": kill9_sqlite,
    "kill9_postgres": kill9_postgres,
    "kill9_repeat": kill9_repeat,
    "broker_outage": broker_outage,
    "db_outage": db_outage,
    "multi_process_2": _multi(2),
    "multi_process_4": _multi(4),
    "multi_process_2_kill_one": _multi(2, kill_one=True),
    "hostile": hostile,
    "fuzz": fuzz,
}


# -- report --------------------------------------------------------------------------------------

def _headline(r: dict) -> str:
    f = r.get("figures", {})
    name = r["name"]
    if name == "kill9_repeat":
        return (f"{f.get('runs_passed')}/{r['params'].get('runs')} runs held, {f.get('refused')} messages "
                "refused with a 4xx")
    if name.startswith("kill9"):
        return (f"{f.get('acked')}/{f.get('messages')} acked, {f.get('stored')} stored, "
                f"{len(f.get('restart_seconds', []))} kills, {f.get('in_doubt')} in doubt "
                f"({f.get('in_doubt_answered_as_duplicate')} answered as duplicate), "
                f"{f.get('consumed_distinct')} on Kafka ({f.get('redelivered')} redelivered)")
    if name == "broker_outage":
        return (f"{f.get('messages')} sent, backlog {f.get('backlog_at_restart')} rows after "
                f"{f.get('outage_seconds_actual')} s down, drained {f.get('after_restart_drain_seconds')} s after the last send, "
                f"{f.get('after_restart_consumed_distinct')}/{f.get('after_restart_kafka_rows')} seen after restart")
    if name == "db_outage":
        return (f"{f.get('acked')}/{f.get('messages')} acked after {f.get('outage_seconds_actual')} s refused + "
                f"terminations; statuses {f.get('statuses_seen')}; probe {f.get('outage_probe', {}).get('status')}")
    if name.startswith("multi"):
        killed = f"killed 1 of {r['params'].get('processes')} ({f.get('connection_errors')} connection errors), " \
            if r["params"].get("kill_one") else ""
        return (f"{killed}{f.get('stored')} stored, races held: TR332 {f.get('tr332_races_held')}, "
                f"TR056 {f.get('tr056_races_held')}, duplicate {f.get('duplicate_races_held')}; "
                f"{f.get('consumed_distinct')}/{f.get('kafka_rows')} on Kafka")
    if name == "hostile":
        return (f"{r['params'].get('cases')} cases x {r['params'].get('repeats')}: RSS {f.get('rss_start_mb')} -> "
                f"{f.get('rss_end_mb')} MB, peak {f.get('rss_peak_mb')} MB")
    if name == "fuzz":
        return f"{f.get('tests')} tests, {f.get('failures')} failures, {f.get('errors')} errors in {f.get('seconds')} s"
    return ""


def write(results: list[dict], command: str, path: Path) -> None:
    doc = {"command": command, "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
           "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
           "results": results}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    lines = ["# Fault and hostile-input suite, long form", "",
             f"Command: `{command}`  ", f"Finished: {doc['finished_at']} on {doc['machine']['cpus']} CPUs "
             "(shared with other work: durations are indicative only).", "",
             "| scenario | held | seconds | what was measured |", "|---|---|---|---|"]
    for r in results:
        held = "yes" if r.get("passed") else f"**no** ({len(r.get('violations', []))})"
        lines.append(f"| {r['name']} | {held} | {r.get('seconds')} | {_headline(r)} |")
    for r in results:
        if r.get("violations"):
            lines += ["", f"## {r['name']}: violated guarantees", ""]
            lines += [f"- {v[:500]}" for v in r["violations"][:20]]
            if r.get("kept_logs"):
                lines += ["", f"The run's gateway logs are kept in `{r['kept_logs']}`."]
    hostile = next((r for r in results if r["name"] == "hostile"), None)
    if hostile and "cases" in hostile.get("figures", {}):
        lines += ["", "## Hostile inputs (each case repeated; server RSS after the case)", "",
                  "| case | endpoint | expected | got | healthy | RSS after (MB) | slowest (s) |", "|---|---|---|---|---|---|---|"]
        for c in hostile["figures"]["cases"]:
            lines.append(f"| {c['case']} | {c['endpoint']} | {c['expected']} | {', '.join(c['statuses'])} | "
                         f"{'yes' if c['healthy'] else 'NO'} | {c['rss_after_mb']} | {c['max_seconds']} |")
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")


def rewrite_markdown(path: Path) -> None:
    """Regenerate the Markdown from a result JSON (after a change to the table only)."""
    doc = json.loads(path.read_text())
    write(doc["results"], doc["command"], path)


def keep_logs(work: Path, out: Path, name: str) -> str:
    """Copy a scenario's gateway logs (work/**/*.log) next to the results, where the work dir's
    removal does not take them: <out dir>/<out stem>-logs/<scenario>-<UTC time>/."""
    keep = out.parent / f"{out.stem}-logs" / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    for log in work.rglob("*.log"):
        dest = keep / log.relative_to(work)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(log, dest)
    return str(keep)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help=f"comma-separated subset of: {', '.join(SCENARIOS)}")
    p.add_argument("--scale", type=float, default=1.0, help="multiply message counts (default 1.0)")
    p.add_argument("--out", type=Path, default=RESULTS / "faults-long.json")
    p.add_argument("--keep-logs", action="store_true",
                   help="keep every scenario's gateway logs next to --out, not only a failed one's")
    p.add_argument("--merge", action="store_true",
                   help="keep the other scenarios' results already in --out (rerun a subset)")
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else list(SCENARIOS)
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    command = "benchmarks/faults_long.py " + " ".join(argv if argv is not None else sys.argv[1:])
    results: list[dict] = []
    if args.merge and args.out.exists():
        previous = json.loads(args.out.read_text())
        results = [r for r in previous["results"] if r["name"] not in names]
        command = f"{previous['command']}; then {command.strip()}"
    for name in names:
        work = Path(tempfile.mkdtemp(prefix=f"faults-{name}-"))
        t0 = time.monotonic()
        print(f"[{datetime.now(UTC):%H:%M:%S}] {name} ...", flush=True)
        try:
            r = SCENARIOS[name](work, args.scale)
        except Exception as exc:  # a scenario that cannot run is a result too
            r = {"scenario": name, "params": {}, "figures": {}, "passed": False,
                 "violations": [f"scenario crashed: {type(exc).__name__}: {exc}"],
                 "trace": traceback.format_exc()[-3000:]}
        r["name"] = name
        r["seconds"] = round(time.monotonic() - t0, 1)
        print(f"    {'held' if r['passed'] else 'VIOLATED'} in {r['seconds']} s: {_headline(r)}", flush=True)
        for v in r.get("violations", [])[:5]:
            print(f"    - {v[:300]}", flush=True)
        results.append(r)
        results.sort(key=lambda x: list(SCENARIOS).index(x["name"]) if x["name"] in SCENARIOS else 99)
        if not r["passed"] or args.keep_logs:
            r["kept_logs"] = keep_logs(work, args.out, name)
            print(f"    logs kept in {r['kept_logs']}", flush=True)
        write(results, command.strip(), args.out)  # after each scenario: a partial run still reports
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
