"""What the benchmarks measure: each subject turns message bytes into an outcome label.

- `lxml_floor`: plain lxml parse + XMLSchema validate with the compiled schema of the type (found
  by root namespace). The floor: no gateway can validate faster than this.
- `validate_bytes`: validators.validate.validate_bytes: hardened parse, detection, XSD (level 1)
  and the in-message rules (level 2).
- `pipeline_sqlite` / `pipeline_postgres`: gateway.pipeline.Pipeline.process: the above plus the
  cross-message, external and contract rules, the store transaction (message, verdict, state,
  retour, outbox rows) and the retour/325, on a fresh SQLite file or PostgreSQL database.

A subject that cannot be set up, or raises on a default sample, is reported as unavailable with
the reason, never silently skipped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

Check = Callable[[bytes], str]
BIG = 512 * 1024 * 1024  # limits raised for the 100,000-prestatie declaration (about 50 MB)


def _precompile() -> None:
    from schemas.registry import default_registry
    from validators import engine

    default_registry().check()
    engine.load_all()


@contextlib.contextmanager
def lxml_floor(work: Path) -> Iterator[Check]:
    from lxml import etree

    from schemas.registry import default_registry

    registry = default_registry()
    registry.check()
    schemas = {t.namespace: registry.schema(t).schema for t in registry.types()}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

    def check(raw: bytes) -> str:
        root = etree.fromstring(raw, parser)
        schema = schemas.get(etree.QName(root).namespace)
        return "valid" if schema is not None and schema.validate(root) else "invalid"

    yield check


@contextlib.contextmanager
def validate_bytes(work: Path) -> Iterator[Check]:
    from gateway.xmlparse import ParseLimits
    from validators.validate import validate_bytes as validate

    _precompile()
    limits = ParseLimits(max_bytes=BIG)

    def check(raw: bytes) -> str:
        return "valid" if validate(raw, limits=limits).valid else "invalid"

    yield check


def _parties() -> list[tuple[str, str]]:
    from gateway import samples
    from testsupport.corpus import AANBIEDERS, GEMEENTEN

    gemeenten = {*GEMEENTEN, samples.GEMEENTE}
    aanbieders = {*AANBIEDERS, samples.AANBIEDER}
    return [(g, "gemeente") for g in sorted(gemeenten)] + [(a, "aanbieder") for a in sorted(aanbieders)]


@contextlib.contextmanager
def _pipeline(work: Path, store_url: str, **extra: object) -> Iterator[Check]:
    import os

    os.environ.setdefault("GATEWAY_XML_MAX_BYTES", str(BIG))  # read when gateway.xmlparse is imported
    from gateway.pipeline import Pipeline, build_components
    from gateway.settings import Settings

    _precompile()
    settings = Settings(data_dir=work, store_url=store_url, hmac_secret="b" * 64, max_message_bytes=BIG, **extra)
    components = build_components(settings)
    for party, role in _parties():
        components.store.add_party(party, role)
    pipeline = Pipeline(components)

    def check(raw: bytes) -> str:
        return pipeline.process(raw, None).verdict

    try:
        yield check
    finally:
        dispose = getattr(getattr(components.store, "engine", None), "dispose", None)
        if dispose:
            dispose()


@contextlib.contextmanager
def pipeline_sqlite(work: Path) -> Iterator[Check]:
    work.mkdir(parents=True, exist_ok=True)
    with _pipeline(work, f"sqlite:///{work / 'gateway.db'}") as check:
        yield check


@contextlib.contextmanager
def pipeline_postgres(work: Path, **extra: object) -> Iterator[Check]:
    from testsupport import services

    reason = services.pg_available()
    if reason:
        raise RuntimeError(reason)
    work.mkdir(parents=True, exist_ok=True)
    with services.temporary_pg_database() as url, _pipeline(work, url, **extra) as check:
        yield check


# The same with the pipeline_cpu setting at "auto" (gateway.affinity): the sending threads kept on
# one CPU, where a GIL let go for a short C call is no hand-off to another core. The thread that
# set it up (and warmed it) gets its CPUs back at the end: the benchmarks after it run free.
@contextlib.contextmanager
def _cpus_kept() -> Iterator[None]:
    import os

    cpus = os.sched_getaffinity(0)
    try:
        yield
    finally:
        os.sched_setaffinity(0, cpus)


@contextlib.contextmanager
def pipeline_sqlite_pinned(work: Path) -> Iterator[Check]:
    work.mkdir(parents=True, exist_ok=True)
    with _cpus_kept(), _pipeline(work, f"sqlite:///{work / 'gateway.db'}", pipeline_cpu="auto") as check:
        yield check


@contextlib.contextmanager
def pipeline_postgres_pinned(work: Path) -> Iterator[Check]:
    with _cpus_kept(), pipeline_postgres(work, pipeline_cpu="auto") as check:
        yield check


# Subjects that remember what they judged: a repeat needs a fresh instance (benchmarks.measure).
STATEFUL = frozenset({"pipeline_sqlite", "pipeline_postgres", "pipeline_sqlite_pinned", "pipeline_postgres_pinned"})

SUBJECTS: dict[str, Callable[[Path], contextlib.AbstractContextManager[Check]]] = {
    "lxml_floor": lxml_floor,
    "validate_bytes": validate_bytes,
    "pipeline_sqlite": pipeline_sqlite,
    "pipeline_postgres": pipeline_postgres,
    "pipeline_sqlite_pinned": pipeline_sqlite_pinned,
    "pipeline_postgres_pinned": pipeline_postgres_pinned,
}


def probe(name: str, work: Path) -> str | None:
    """None when the subject works on default samples of every type, else why not."""
    from gateway import samples
    from gateway.catalog import ALL

    try:
        with SUBJECTS[name](work) as check:
            for t in ALL:
                check(samples.build(t.code))
    except Exception as exc:  # the reason goes into the result file
        return f"{type(exc).__name__}: {str(exc)[:300]}"
    return None
