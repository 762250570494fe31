"""`gateway validate [--schemas DIR] [--json] PATH...`: validate message files.

Files or directories (recursively *.xml). With --json one JSON object per file per line:
{"file", "standard", "message", "valid",
 "issues": [{"rule", "severity", "path", "locations", "line", "text"}]}: `locations` lists every
place of a finding as the official report's Locaties do, `path` is the first.
Exit status 0 when every file is valid, 1 when any is not, 2 on a usage error or when the gateway
itself failed on a file (an INTERNAL issue, not a verdict on the file). Output follows the order
of the arguments, each directory's files sorted by path, whatever the parallelism.
Many files are spread over a process pool (both cores), in chunks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date

from schemas.registry import SchemaDirError, SchemaRegistry

# Below this many files a process pool costs more than it saves.
POOL_THRESHOLD = 64
PROGRESS_EVERY_SECONDS = 2.0


class UsageError(Exception):
    """Bad arguments: reported on stderr, exit status 2."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "validate",
        help="validate iJw/iWmo message files (XSD and in-message rules)",
        description="Validate message files or directories (recursively *.xml): parsing, "
        "detection, XSD (level 1) and in-message rules (level 2). Exit status 0 when all "
        "files are valid, 1 when any is not, 2 on a usage error or an internal failure.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="message file or directory")
    p.add_argument(
        "--schemas",
        action="append",
        metavar="DIR",
        help="XSD directory to use instead of the built-in schemas (e.g. the official "
        "xsd/ folder, or a folder of several releases); may be repeated",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per file per line")
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="worker processes for many files (default: number of CPUs; 1 = no pool)",
    )
    p.add_argument(
        "--schema-only", action="store_true", help="check XSD only, skip the in-message rules"
    )
    p.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="the date rules compare against (default: today in the Netherlands)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


# -- collecting files ------------------------------------------------------------------------


def _walk_error(exc: OSError) -> None:
    raise UsageError(f"cannot read directory {exc.filename}: {exc.strerror or exc}")


def collect(paths: Iterable[str]) -> list[str]:
    """Every file to validate: files as given, directories expanded to their *.xml files
    (sorted). Missing paths and unreadable directories are usage errors."""
    files: list[str] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        key = os.path.realpath(name)
        if key not in seen:
            seen.add(key)
            files.append(name)

    for given in paths:
        if os.path.isdir(given):
            if not os.access(given, os.R_OK | os.X_OK):
                raise UsageError(f"cannot read directory {given}")
            found = []
            for folder, dirs, names in os.walk(given, onerror=_walk_error):
                dirs.sort()
                found.extend(
                    path
                    for path in (os.path.join(folder, n) for n in names if n.lower().endswith(".xml"))
                    if os.path.isfile(path)  # not a device or a dangling link
                )
            for name in sorted(found):
                add(name)
        elif os.path.isfile(given):
            add(given)
        elif os.path.lexists(given):
            raise UsageError(f"not a regular file or directory: {given}")
        else:
            raise UsageError(f"no such file or directory: {given}")
    return files


# -- validating (in this process or a worker) ----------------------------------------------

_state: dict = {}


def _init(registry: SchemaRegistry, run_rules: bool, today: date | None) -> None:
    _state.update(registry=registry, run_rules=run_rules, today=today)


def validate_file(name: str) -> dict:
    """The public JSON object for one file; never raises."""
    from gateway.xmlparse import DEFAULT_LIMITS, size_issue
    from validators.faults import GatewayFault
    from validators.issues import Issue
    from validators.validate import validate_bytes

    try:
        too_big = size_issue(os.path.getsize(name))
        if too_big:
            return {
                "file": name,
                "standard": None,
                "message": None,
                "valid": False,
                "issues": [too_big.public()],
            }
        with open(name, "rb") as fh:
            raw = fh.read(DEFAULT_LIMITS.max_bytes + 1)  # bounded: the size may have lied
    except OSError as exc:
        issue = Issue(rule="PARSE", text=f"Cannot read file: {exc.strerror or exc}")
        return {"file": name, "standard": None, "message": None, "valid": False, "issues": [issue.public()]}
    try:
        report = validate_bytes(
            raw, _state["registry"], today=_state["today"], run_rules=_state["run_rules"]
        )
    except Exception as exc:  # a fault of ours, not a finding: report it for this file, carry on, exit 2
        issue = Issue(rule="INTERNAL", text=f"Internal error while validating: {exc}"
                      if isinstance(exc, GatewayFault) else f"Internal error while validating: {type(exc).__name__}")
        return {"file": name, "standard": None, "message": None, "valid": False, "issues": [issue.public()]}
    return report.public(name)


def _validate_chunk(names: list[str]) -> list[dict]:
    return [validate_file(n) for n in names]


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def results(
    files: list[str], registry: SchemaRegistry, run_rules: bool, today: date | None, jobs: int
) -> Iterator[dict]:
    """Validation results in the order of `files`, in this process or over a process pool."""
    if jobs <= 1 or len(files) < POOL_THRESHOLD:
        _init(registry, run_rules, today)
        for name in files:
            yield validate_file(name)
        return
    # Chunks keep inter-process traffic low; several chunks per worker keep both cores busy
    # to the end. map() returns them in submission order, so output stays deterministic.
    size = max(1, min(100, len(files) // (jobs * 8)))
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_init, initargs=(registry, run_rules, today)
    ) as pool:
        for chunk in pool.map(_validate_chunk, _chunks(files, size)):
            yield from chunk


# -- output --------------------------------------------------------------------------------


def _human(result: dict) -> str:
    errors = sum(1 for i in result["issues"] if i["severity"] == "error")
    warnings = len(result["issues"]) - errors
    kind = f" ({result['message']})" if result["message"] else ""
    if result["valid"]:
        head = f"valid    {result['file']}{kind}"
        if warnings:
            head += f": {warnings} warning{'s' * (warnings != 1)}"
    else:
        counts = f"{errors} error{'s' * (errors != 1)}"
        if warnings:
            counts += f", {warnings} warning{'s' * (warnings != 1)}"
        head = f"INVALID  {result['file']}{kind}: {counts}"
    lines = [head]
    for i in result["issues"]:
        where = " ".join(
            part
            for part in (i["path"] or "", f"(line {i['line']})" if i["line"] else "")
            if part
        )
        lines.append(f"    {i['severity']:<7} {i['rule']:<6} {where + ': ' if where else ''}{i['text']}")
        lines.extend(f"{'':<22}also {loc}" for loc in (i.get("locations") or [])[1:])
    return "\n".join(lines)


class _Progress:
    """A line on stderr every few seconds for long runs."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled
        self.last = time.monotonic()
        self.shown = False

    def update(self, done: int, invalid: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_SECONDS:
            self.last = now
            self.shown = True
            print(f"validated {done}/{self.total} files ({invalid} invalid)", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        if args.jobs is not None and args.jobs < 1:
            raise UsageError("--jobs must be at least 1")
        files = collect(args.paths)
        try:
            if args.schemas:
                registry = SchemaRegistry(args.schemas)
            else:
                registry = SchemaRegistry.default()
            if not registry.types():
                raise SchemaDirError("no message schemas available")
            if args.schemas:
                # A broken schema set of the operator's is a usage error now, not 1,000 errors
                # later. The built-in set is tested; compiling all 28 would double the start-up.
                registry.check()
        except SchemaDirError as exc:
            raise UsageError(f"bad schema directory: {exc}") from exc
    except UsageError as exc:
        print(f"gateway validate: error: {exc}", file=sys.stderr)
        return 2
    if not files:
        print("gateway validate: no .xml files found", file=sys.stderr)
        return 0

    jobs = args.jobs or os.cpu_count() or 1
    started = time.monotonic()
    progress = _Progress(len(files), not args.quiet)
    invalid = 0
    faults = 0  # files the gateway could not judge: status 2, not 1
    out = sys.stdout
    try:
        for done, result in enumerate(
            results(files, registry, not args.schema_only, args.today, jobs), 1
        ):
            if not result["valid"]:
                invalid += 1
            if any(i["rule"] == "INTERNAL" for i in result["issues"]):
                faults += 1
            if args.json:
                out.write(json.dumps(result, ensure_ascii=False) + "\n")
            else:
                out.write(_human(result) + "\n")
            progress.update(done, invalid)
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1 if invalid else 0
    except KeyboardInterrupt:
        print("gateway validate: interrupted", file=sys.stderr)
        return 130
    out.flush()
    elapsed = time.monotonic() - started
    summary = f"{len(files)} files: {len(files) - invalid} valid, {invalid} invalid ({elapsed:.1f} s)"
    if not args.json:
        print(summary)
    elif progress.shown:
        print(summary, file=sys.stderr)
    return 2 if faults else 1 if invalid else 0
