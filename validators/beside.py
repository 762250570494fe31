"""Two pieces of work at once: one in a thread of its own, the other in the caller's.

For C work that releases the GIL (libxml2's depth query and XSD validation of a large tree) beside
Python work on the same tree, which neither changes (reading it from two threads is safe)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar

# The CPUs the process may use, read at import, before gateway.affinity pins a pipeline thread (it
# imports this module first): the thread beside runs on any of them, not on its caller's one
# (a new thread inherits its creator's CPUs).
_CPUS = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None

T = TypeVar("T")
U = TypeVar("U")


def beside(background: Callable[[], T], foreground: Callable[[], U]) -> tuple[T, U]:
    """(background(), foreground()), the first run in a new thread; an exception of either is
    raised here (the background's first), after both have finished."""
    outcome: list = []

    def run() -> None:
        try:
            if _CPUS is not None and os.sched_getaffinity(0) != _CPUS:
                os.sched_setaffinity(0, _CPUS)
            outcome.append((True, background()))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append((False, exc))

    thread = threading.Thread(target=run, name="beside", daemon=True)
    thread.start()
    try:
        here = foreground()
    finally:
        thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value, here
