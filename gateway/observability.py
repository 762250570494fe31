"""Logs, metrics, health: what operators watch while the gateway runs.

- `configure_logging()` sets up structlog (and the stdlib `logging` root, so uvicorn and libraries
  go the same way) to write one JSON object per line. Every line carries the ids bound with
  `bind_message()` / the request middleware, and is rendered by `render_masked`, which replaces
  anything that looks like a BSN (a run of exactly nine digits) before it is written: a BSN is
  personal data.
- `metrics` holds the Prometheus metrics; `router` serves /metrics, /healthz and /readyz.
- `install(app)` adds the request middleware (request id, access log line, latency) and the router.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import random
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from gateway import clock

# ---------------------------------------------------------------------------------------------
# BSN masking

# Exactly nine digits, not part of a longer number. We mask every such run, not only those that
# pass the elfproef: a mistyped BSN is still a BSN, and a false positive costs nothing in a log.
BSN_RE = re.compile(r"(?<!\d)\d{9}(?!\d)")
BSN_MASK_RE = BSN_RE  # what the log checks grep for
# Two of the gateway's own identifiers can hold a run of nine decimal digits: a client key (an
# HMAC-SHA256 in hex, gateway.store.clientkey: about one in eight) and a message id (a ULID in
# Crockford base32, gateway.store.ids: at times when its time part ends in digits, one in a few
# hundred). Neither is a BSN, and masked they could not be searched for in the log: a whole token
# of either form is left as it is, and every nine-digit run outside one is masked.
_OWN_ID_OR_BSN = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-f]{64}|[0-7][0-9A-HJKMNP-TV-Z]{25})(?![0-9A-Za-z])|(?<!\d)\d{9}(?!\d)")


# A database's own description of a constraint violation names the row's values: PostgreSQL's
# DETAIL "Key (cols)=(values) already exists" / "is not present in table", "Failing row contains
# (values)" (a bytea value as hex: a BSN in the XML becomes 3939393931...), and it is in the
# exception's text and so in every traceback. The values are cut (to the end of the line), the
# column names kept.
_ROW_VALUES = re.compile(r"(\bKey \((?:[^()\n]|\([^()\n]*\))*\)=|\bFailing row contains )[^\n]*")
ROW_VALUES_HIDDEN = "(values hidden)"


def hide_row_values(text: str) -> str:
    """`text` with the row values of a database constraint violation's detail cut."""
    if "(" not in text:  # most values: one character's search costs less than two words'
        return text
    return _ROW_VALUES.sub(lambda m: m.group(1) + ROW_VALUES_HIDDEN, text)


def mask_bsn(bsn: str) -> str:
    """`123456782` -> `******782`, the store's display form (gateway.store.clientkey.mask_bsn)."""
    return "*" * (len(bsn) - 3) + bsn[-3:]


def _mask_match(m: re.Match[str]) -> str:
    found = m.group(0)
    return mask_bsn(found) if len(found) == 9 else found


def mask_text(text: str) -> str:
    """Every nine-digit run in `text` masked (client keys and message ids kept), a database
    error's row values cut."""
    return _OWN_ID_OR_BSN.sub(_mask_match, hide_row_values(text))


def mask_value(value: Any) -> Any:
    """A copy of `value` with every BSN-looking string or number masked, recursing into containers."""
    if isinstance(value, str):
        # Shorter than nine characters holds no nine-digit run: most keys and values of a log line.
        return mask_text(value) if len(value) >= 9 else value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        s = str(value)
        return mask_text(s) if BSN_RE.search(s) else value
    if isinstance(value, float):
        # Long fractions would print nine-digit runs (0.123456789); microseconds are plenty.
        return round(value, 6)
    if isinstance(value, dict):
        return {mask_value(k) if isinstance(k, str) and len(k) >= 9 else k: mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [mask_value(v) for v in value]
    if isinstance(value, bytes):
        return mask_text(value.decode("utf-8", "replace"))
    # Anything else (exceptions, paths, models) is rendered with str(); mask that rendering.
    return mask_text(str(value))


def find_bsns(text: str) -> list[str]:
    """The nine-digit runs in `text` outside client keys and message ids (what a log check must
    never find)."""
    return [found for found in _OWN_ID_OR_BSN.findall(text) if len(found) == 9]


_OWN_ID = re.compile(rb"[0-9a-f]{64}|[0-7][0-9A-HJKMNP-TV-Z]{25}")
_TOKEN_BYTES = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def holds_bsn(text: str) -> bool:
    """bool(find_bsns(text)) for ASCII text (a JSON log line), faster: each nine-digit run is
    found with bytes.find (digits made NULs) and only the letters and digits around it are looked
    at (a whole client key or message id, or not), where find_bsns' pattern tries both id forms at
    every character."""
    if not text.isascii():
        return bool(find_bsns(text))
    data = text.encode("ascii")
    nul = data.translate(_DIGITS_TO_NUL)
    size = len(nul)
    pos = nul.find(_NINE)
    while pos >= 0:
        end = pos + 9
        while end < size and nul[end] == 0:
            end += 1
        if end - pos == 9:  # exactly nine: a longer number is no BSN
            start, stop = pos, end
            lo, hi = max(0, start - 64), min(size, stop + 64)
            while start > lo and data[start - 1] in _TOKEN_BYTES:
                start -= 1
            while stop < hi and data[stop] in _TOKEN_BYTES:
                stop += 1
            # A token running past 64 characters either way is longer than either id.
            if (start == lo and lo and data[lo - 1] in _TOKEN_BYTES) or (
                    stop == hi and hi < size and data[hi] in _TOKEN_BYTES):
                return True
            if not _OWN_ID.fullmatch(data, start, stop):
                return True
        pos = nul.find(_NINE, end)
    return False


# ---------------------------------------------------------------------------------------------
# Logging

def _timestamp(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    """ISO UTC time from the gateway's one clock (structlog's TimeStamper reads the system's)."""
    event["timestamp"] = clock.now().isoformat().replace("+00:00", "Z")
    return event


_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    _timestamp,
    structlog.processors.StackInfoRenderer(),
    # Render tracebacks to text before masking, so a BSN inside an exception message is masked too.
    structlog.processors.format_exc_info,
]


def _fallback(obj: Any) -> Any:
    """What structlog's JSONRenderer writes for a value JSON has no form for."""
    try:
        return obj.__structlog__()
    except AttributeError:
        return repr(obj)


# structlog's JSONRenderer calls json.dumps with such a fallback as default=, and json.dumps
# builds a new JSONEncoder for every call given any option: one encoder, made once with the same
# option, writes the same line for less (and reads nothing of structlog's internals).
_ENCODE = json.JSONEncoder(default=_fallback).encode


def _JSON(logger: Any, method: str, event_dict: dict[str, Any]) -> str:
    return _ENCODE(event_dict)

_RENDERED = "_gateway_rendered"  # marks a stdlib record whose message is the finished JSON line
_DIGITS_TO_NUL = bytes.maketrans(b"0123456789", bytes(10))
_NINE = bytes(9)


def render_masked(logger: Any, method: str, event_dict: dict[str, Any]) -> str:
    """structlog processor: the event as one JSON line, every BSN-looking value masked.

    Rendered first; the values are walked and masked (mask_value) only when the line holds a run
    of exactly nine digits outside a client key or message id (holds_bsn), an escaped non-ASCII
    character (a digit of another script) or a "(" (a database error's row values,
    hide_row_values). JSON never escapes an ASCII digit, so a line without any of these had no BSN
    in any key or value. Walking every value of every line, or a regex search of it, cost more
    than the rest of the line."""
    line = _JSON(logger, method, event_dict)
    # Row values always come in parentheses: a "(" anywhere walks the line (rare in a log line).
    if "\\u" in line or "(" in line:
        return _JSON(logger, method, mask_value(event_dict))
    # A nine-digit run in one of the gateway's own ids (a client key in one line of eight, a
    # message id now and then) is kept by mask_value too: the line is searched for a run outside
    # such a token, and walked only when one is there. The search sees each value as it is in the
    # line (JSON writes letters and digits as they are, and an escape ends in a letter, never
    # freeing a token), so it finds every run mask_value would mask, and at most more.
    if holds_bsn(line):
        return _JSON(logger, method, mask_value(event_dict))
    return line


class _Lines:
    """The logger at the end of structlog's chain: a stdlib logger (every attribute is its) whose
    logging methods take the finished line and hand it to the logger's handlers as a record, marked
    so the formatter writes it as it is (no second pass through the processors).

    Not through the stdlib's Logger._log: that searches the stack for the caller's file and line
    number, through about ten frames of structlog for every line, and the JSON line carries
    neither. The record is made and handled as _log would (the record factory, filters, handlers,
    propagation to the root's); the level was checked at the chain's start (filter_by_level)."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        # Asked for every line (filter_by_level, add_logger_name): attributes of this object, not
        # found through __getattr__ after a failed lookup.
        self.isEnabledFor = logger.isEnabledFor
        self.name = logger.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)

    def _emit(self, level: int, line: str) -> None:
        logger = self._logger
        record = logger.makeRecord(logger.name, level, "(unknown file)", 0, line, (), None)
        setattr(record, _RENDERED, True)
        logger.handle(record)

    def debug(self, line: str) -> None:
        self._emit(logging.DEBUG, line)

    def info(self, line: str) -> None:
        self._emit(logging.INFO, line)

    def warning(self, line: str) -> None:
        self._emit(logging.WARNING, line)

    warn = warning

    def error(self, line: str) -> None:
        self._emit(logging.ERROR, line)

    exception = error  # the traceback is in the line already (format_exc_info)

    def critical(self, line: str) -> None:
        self._emit(logging.CRITICAL, line)

    fatal = critical


def _line_logger(*args: Any) -> _Lines:
    return _Lines(_STDLIB_LOGGERS(*args))


_STDLIB_LOGGERS = structlog.stdlib.LoggerFactory()


class _JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """Lines from structlog are finished (`render_masked`, last in the chain); records from the
    stdlib (uvicorn, libraries) go through the shared processors and the same masked rendering."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, _RENDERED, False):
            return record.msg  # type: ignore[return-value]
        return super().format(record)


class _LineStream(logging.StreamHandler):
    """A StreamHandler that writes a finished structlog line as it is: the formatter would hand
    back the same text, through three calls, and flush() takes the lock handle() holds already."""

    def emit(self, record: logging.LogRecord) -> None:
        if not (getattr(record, _RENDERED, False) and isinstance(self.formatter, _JsonFormatter)):
            super().emit(record)
            return
        try:
            stream = self.stream
            stream.write(record.msg + self.terminator)
            if hasattr(stream, "flush"):  # as StreamHandler.flush
                stream.flush()
        except RecursionError:  # as StreamHandler.emit
            raise
        except Exception:
            self.handleError(record)


def _json_formatter() -> logging.Formatter:
    return _JsonFormatter(
        foreign_pre_chain=_SHARED_PROCESSORS,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, render_masked],
    )


def add_log_file(path: str | Path, name: str = "gateway-extra") -> logging.Handler:
    """Also write every log line (JSON, masked) to `path`, next to what configure_logging set up.

    The handler survives later configure_logging() calls: the test run uses it to keep one file
    of everything all tests logged, which it then searches for BSNs.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_json_formatter())
    handler.set_name(name)
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == name:
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    return handler


def configure_logging(
    level: str | int = "INFO",
    *,
    stream: TextIO | None = None,
    file: str | Path | None = None,
) -> logging.Handler:
    """Send structlog and stdlib logging to one JSON-lines sink (a stream, default stderr, or a file).

    Safe to call more than once: the previous handler this function installed is replaced.
    Returns the handler (tests read what it wrote).
    """
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
    formatter = _json_formatter()
    handler: logging.Handler
    if file is not None:
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = _LineStream(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.set_name("gateway-json")

    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "gateway-json":
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn installs its own handlers; route its records through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers = []
        lg.propagate = True

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED_PROCESSORS,
            render_masked,  # last: the finished line, which _Lines hands to the stdlib logger's handlers
        ],
        logger_factory=_line_logger,
        wrapper_class=structlog.stdlib.BoundLogger,
        # A module's logger is made once, at its first line, not again for every line: the chain
        # and the stdlib logger are the same for every configure_logging() (its stream is the
        # handler's business), and the level is the stdlib logger's, asked each line.
        cache_logger_on_first_use=True,
    )
    return handler


def log_stray_tracebacks() -> None:
    """What Python itself writes to stderr, past the logging, goes through the masked JSON log
    instead: an exception no one caught (in the main thread or another thread), one raised in a
    finaliser (unraisable), a warning. Their text can hold a BSN or a database error's row
    values. For the server process (gateway serve); tests keep pytest's own hooks."""
    log = get_logger("gateway.python")

    def excepthook(exc_type: type[BaseException], value: BaseException, tb: Any) -> None:
        log.critical("uncaught_exception", exc_info=(exc_type, value, tb))

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:  # as the default hook: a thread's exit, not an error
            return
        log.error("thread_exception", thread=getattr(args.thread, "name", None),
                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    def unraisablehook(u: Any) -> None:
        exc_info = (u.exc_type, u.exc_value, u.exc_traceback) if u.exc_value is not None else None
        log.warning("unraisable_exception", message=u.err_msg, object=type(u.object).__name__,
                    exc_info=exc_info)

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
    sys.unraisablehook = unraisablehook
    logging.captureWarnings(True)


def get_logger(name: str = "gateway") -> Any:
    return structlog.stdlib.get_logger(name)


@contextlib.contextmanager
def bind_message(
    message_id: str | None = None,
    *,
    correlation_id: str | None = None,
    client_key: str | None = None,
    **ids: Any,
) -> Iterator[None]:
    """Bind the ids of the message being handled to every log line written inside the block.

    `correlation_id` ties a message to the request or batch that carried it; `client_key` to the
    client's chain (allocation -> start -> stop -> declaration). None values are left out.
    """
    values = {"message_id": message_id, "correlation_id": correlation_id, "client_key": client_key}
    values.update(ids)
    with structlog.contextvars.bound_contextvars(
        **{k: v for k, v in values.items() if v is not None}
    ):
        yield


# ---------------------------------------------------------------------------------------------
# Metrics


class Metrics:
    """The gateway's Prometheus metrics, in their own registry (so tests can build many apps)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "gateway_messages_total",
            "Messages handled, by standard, message type and verdict.",
            ["standard", "type", "verdict"],
            registry=r,
        )
        self.rule_failures = Counter(
            "gateway_rule_failures_total",
            "Issues found, by rule code (TR101, CS139, CR001, XSD, ...).",
            ["rule"],
            registry=r,
        )
        self.processing_seconds = Histogram(
            "gateway_processing_seconds",
            "Time from receipt to verdict for one message, by message type.",
            ["type"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.retour_latency_seconds = Histogram(
            "gateway_retour_latency_seconds",
            "Time from receipt of a message to its retour being available, by message type.",
            ["type"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600),
            registry=r,
        )
        self.http_seconds = Histogram(
            "gateway_http_request_seconds",
            "HTTP request latency, by method, route and status class.",
            ["method", "route", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.routed = Counter(
            "gateway_routed_total",
            "Outbox deliveries attempted, by destination and outcome (ok / error).",
            ["destination", "outcome"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "gateway_queue_depth",
            "Messages waiting in an in-process queue, by queue.",
            ["queue"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "gateway_outbox_depth",
            "Outbox rows not yet delivered, by destination.",
            ["destination"],
            registry=r,
        )
        self.outbox_lag_seconds = Gauge(
            "gateway_outbox_lag_seconds",
            "Age of the oldest undelivered outbox row, by destination.",
            ["destination"],
            registry=r,
        )
        self.console_actions = Counter(
            "gateway_console_actions_total",
            "Operator actions from the console, by action.",
            ["action"],
            registry=r,
        )
        # Called before each scrape to refresh gauges computed from the store (outbox depth...).
        self._collectors: list[Callable[[Metrics], Any]] = []
        self._children: dict[tuple[Any, tuple[Any, ...]], Any] = {}

    def child(self, metric: Any, *values: Any) -> Any:
        """`metric.labels(*values)`, remembered: prometheus_client checks the values and takes a
        lock on every labels() call, a few microseconds each, several times per message. The same
        child either way (labels() returns the one it made first); label values come from closed
        sets (message types, verdicts, routes, methods), as the metric's own children do."""
        key = (metric, values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found

    def record_message(
        self,
        standard: str,
        mtype: str,
        verdict: str,
        seconds: float | None = None,
        rules: list[str] | tuple[str, ...] = (),
    ) -> None:
        """Count one handled message; `rules` are the codes of its issues.

        The gateway answers a heen with its retour (or a 323 with its 325) in the same response,
        so for those the processing time is also the retour latency. A transport rejection gets
        no retour.
        """
        self.child(self.messages, standard, mtype, verdict).inc()
        if seconds is not None:
            self.child(self.processing_seconds, mtype).observe(seconds)
            if verdict != "transport_rejected" and _has_answer(mtype):
                self.child(self.retour_latency_seconds, mtype).observe(seconds)
        for code in rules:
            self.child(self.rule_failures, code).inc()

    def on_scrape(self, fn: Callable[[Metrics], Any]) -> None:
        """Register `fn(metrics)`, run before every /metrics answer (e.g. to read outbox depth)."""
        self._collectors.append(fn)

    def set_outbox(self, depths: dict[str, tuple[int, float]]) -> None:
        """Outbox depth and lag per destination: {destination: (waiting rows, oldest age seconds)}."""
        self.outbox_depth.clear()
        self.outbox_lag_seconds.clear()
        for dest, (depth, lag) in depths.items():
            self.outbox_depth.labels(dest).set(depth)
            self.outbox_lag_seconds.labels(dest).set(lag)

    async def refresh(self) -> None:
        for fn in list(self._collectors):
            try:
                result = fn(self)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # a broken collector must not break the scrape
                get_logger("gateway.metrics").warning("metrics_collector_failed", exc_info=True)

    def render(self) -> bytes:
        return generate_latest(self.registry)


@functools.lru_cache(maxsize=256)
def _has_answer(code: str) -> bool:
    from gateway.catalog import by_code

    try:
        return by_code(code).answered_by is not None
    except KeyError:
        return False


metrics = Metrics()


# ---------------------------------------------------------------------------------------------
# Health, readiness and /metrics

ReadinessCheck = Callable[[], "bool | str | None | Awaitable[bool | str | None]"]
_default_checks: dict[str, ReadinessCheck] = {}


def add_readiness_check(name: str, check: ReadinessCheck, app: FastAPI | None = None) -> None:
    """Register a readiness check: it returns True/None when ready, False or a reason when not.

    With `app`, the check belongs to that app (app.state.readiness_checks); without, to every app.
    """
    if app is None:
        _default_checks[name] = check
        return
    if not hasattr(app.state, "readiness_checks"):
        app.state.readiness_checks = {}
    app.state.readiness_checks[name] = check


async def _run_check(check: ReadinessCheck) -> tuple[bool, str | None]:
    try:
        result = check()
        if inspect.isawaitable(result):
            result = await result
    except Exception as exc:  # the reason is for operators; no traceback in the answer
        return False, f"{type(exc).__name__}: {mask_text(str(exc))[:200]}"
    if result is None or result is True:
        return True, None
    if result is False:
        return False, "not ready"
    return False, mask_text(str(result))


router = APIRouter(tags=["observability"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers. Dependencies are /readyz's business."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: every registered check passes (store reachable, schemas loaded, ...)."""
    checks = {**_default_checks, **getattr(request.app.state, "readiness_checks", {})}
    results: dict[str, dict[str, Any]] = {}
    ready = True
    for name, check in checks.items():
        ok, reason = await _run_check(check)
        ready = ready and ok
        results[name] = {"ok": ok} if ok else {"ok": False, "reason": reason}
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": results},
        status_code=200 if ready else 503,
    )


def outbox_depths(store: Any) -> dict[str, tuple[int, float]]:
    """{destination: (undelivered rows, age of the oldest in seconds)} from the store's outbox
    (ix_outbox_pending). Party streams are read by the parties, not delivered: left out."""
    from datetime import UTC

    from sqlalchemy import func, select

    from gateway.store import tables as t

    o = t.outbox.c
    now = clock.now()
    out: dict[str, tuple[int, float]] = {}
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(o.destination, func.count(), func.min(o.created_at))
            .where(*t.outbox_waiting(o))
            .group_by(o.destination)
        )
        for dest, n, oldest in rows:
            if oldest is not None and oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)  # SQLite hands back naive UTC
            out[dest] = (int(n), max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
    return out


def _app_gauges(app: Any, m: Metrics) -> None:
    """Gauges read from the running service at scrape time: in-flight messages, outbox depth."""
    in_flight = getattr(app.state, "in_flight", None)
    if in_flight is not None and hasattr(in_flight, "busy"):
        m.queue_depth.labels("in_flight").set(in_flight.busy)
        m.queue_depth.labels("waiting_for_memory").set(getattr(in_flight, "waiting", 0))
    store = getattr(getattr(app.state, "components", None), "store", None)
    if store is not None:
        try:
            m.set_outbox(outbox_depths(store))
        except Exception:  # a store hiccup must not break the scrape; readiness reports it
            get_logger("gateway.metrics").warning("outbox_depth_failed", exc_info=True)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition"}},
)
async def metrics_endpoint(request: Request) -> Response:
    m: Metrics = getattr(request.app.state, "metrics", metrics)
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(_app_gauges, request.app, m)
    await m.refresh()
    return Response(m.render(), media_type=CONTENT_TYPE_LATEST)


# ---------------------------------------------------------------------------------------------
# Request middleware

REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id")
# A route may name its request's access line and add fields to it (scope[ACCESS_LINE], a dict):
# POST /v1/messages makes it its `message_processed` line, one line per message instead of two.
ACCESS_LINE = "gateway.access_line"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def install(app: FastAPI, *, access_log: bool = True, metrics_obj: Metrics | None = None) -> None:
    """Add the observability router and a middleware that binds a request id to every log line,
    echoes it in `X-Request-ID`, writes one access line and observes the request latency."""
    m = metrics_obj or metrics
    app.state.metrics = m
    app.include_router(router)
    app.add_middleware(ObserveRequests, metrics=m, access_log=access_log)


_REQUEST_ID_NAMES = tuple(h.encode() for h in REQUEST_ID_HEADERS)


def _scope_request_id(scope: dict[str, Any]) -> str:
    """`_request_id` read from the raw ASGI headers (no Request object per request)."""
    found: dict[bytes, bytes] = {}
    for name, value in scope.get("headers") or ():
        if name in _REQUEST_ID_NAMES and name not in found:
            found[name] = value
    for h in _REQUEST_ID_NAMES:
        raw = found.get(h)
        if raw:
            value = raw.decode("latin-1")
            # A sender's id is only kept when it is a plain token (no log injection, bounded size).
            if _SAFE_ID.match(value):
                return value
    return new_request_id()


def new_request_id() -> str:
    """128 random bits as four groups of eight hex digits. From the random module, not uuid4:
    os.urandom is a system call on the event loop for every request, and there the GIL goes to
    a pipeline thread until the next switch. Grouped so that no run of nine digits (a BSN to
    render_masked) can form: the id in the log is the id the sender got."""
    h = f"{random.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:16]}-{h[16:24]}-{h[24:]}"


class ObserveRequests:
    """Plain ASGI middleware (not Starlette's BaseHTTPMiddleware, which runs every request
    through a task group and memory streams: at high rates that costs more than the handler).

    Per HTTP request: a request id (the sender's X-Request-ID / X-Correlation-ID when it is a
    plain token, else a new one) bound to every log line written while it is handled and echoed
    in `X-Request-ID`; the latency until the response starts observed in
    gateway_http_request_seconds; one `http_request` access line (not for /healthz, /metrics), or
    the line the route named in scope[ACCESS_LINE] with the route's fields added."""

    def __init__(self, app: Any, metrics: Metrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self.log = get_logger("gateway.http")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _scope_request_id(scope)
        start = time.perf_counter()
        header = (b"x-request-id", rid.encode("latin-1"))
        observed = False

        def observe(status: int) -> None:
            nonlocal observed
            if observed:
                return
            observed = True
            elapsed = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            m = self.metrics
            m.child(m.http_seconds, scope["method"], route, f"{status // 100}xx").observe(elapsed)
            path = scope.get("path", "")
            fields = scope[ACCESS_LINE]
            if fields or (self.access_log and path not in ("/healthz", "/metrics")):
                self.log.info(fields.pop("event", "http_request"), method=scope["method"], path=path,
                              status=status, duration_ms=round(elapsed * 1000, 2), **fields)

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                observe(message["status"])
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"]
                headers.append(header)
                message = {**message, "headers": headers}
            await send(message)

        scope[ACCESS_LINE] = {}
        # bound_contextvars() without its copy of the whole context going in: set, then reset to
        # what was bound before (the same, for a fraction of the cost per request).
        tokens = structlog.contextvars.bind_contextvars(request_id=rid, correlation_id=rid)
        try:
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                observe(500)  # no response started: the app failed (ServerErrorMiddleware answers 500)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
