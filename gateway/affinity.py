"""The pipeline_cpu setting: the threads that run the pipeline kept on one CPU.

The pipeline's work holds the GIL, so its threads take turns whatever the CPUs. Each time one lets
the GIL go for a short C call (an SQLite step, an lxml parse), a thread waiting on another CPU
takes it, and the first must wait to get it back: on a 2-core machine eight senders made some 12
such hand-offs per message across cores (futex wake-ups, cold caches), and paid 15-40 % more CPU
per message for them than on one core (issue 14, measured in sessions 14 and 15). On one CPU the
thread in its C call keeps running and takes the GIL back uncontended. Work that holds no GIL
(the WAL checkpointer, a large declaration's schema check beside its rows) runs in threads that
are not pinned, and the other CPUs stay free for the database server and other processes.
"""

from __future__ import annotations

import os
import threading


def resolve(setting: str | int | None) -> int | None:
    """The CPU `setting` names ("off", "auto": the last CPU this process may use, or a CPU's
    number), or None: not pinned (off, or only one CPU to run on anyway). Raises ValueError for a
    CPU the process may not use."""
    text = str(setting if setting is not None else "off").strip().lower()
    if text in ("", "off"):
        return None
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(allowed) < 2:
        return None
    if text == "auto":
        return allowed[-1]  # (CPU 0 takes most of the machine's interrupts)
    cpu = int(text)
    if cpu not in allowed:
        raise ValueError(f"pipeline_cpu {cpu}: this process may run on CPUs {allowed} only")
    return cpu


class ThreadPin:
    """Called by a thread about to run the pipeline: pins it to `cpu` the first time."""

    __slots__ = ("cpu", "_here")

    def __init__(self, cpu: int) -> None:
        self.cpu = cpu
        # per thread, not a set of idents: a new thread may get an ended one's ident
        self._here = threading.local()

    def __call__(self) -> None:
        here = self._here
        if getattr(here, "pinned", False):
            return
        here.pinned = True
        try:
            os.sched_setaffinity(0, {self.cpu})  # (0: the calling thread, on Linux)
        except OSError:  # a CPU taken away since (cgroup): the thread runs where it may
            pass


def thread_pin(setting: str | int | None) -> ThreadPin | None:
    """A ThreadPin for `setting` (see resolve), or None when threads are not pinned."""
    import validators.beside  # noqa: F401 (reads the process's CPUs before a thread is pinned)

    cpu = resolve(setting)
    return ThreadPin(cpu) if cpu is not None else None
