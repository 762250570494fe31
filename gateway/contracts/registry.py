"""The contract registry: every region's bundle versions, and which one applies to a message.

A region may have several versions; the one in effect on a date is the latest whose valid_from is
on or before it (and whose valid_to, if any, is not past). A municipality may belong to one region
only on any date: a bundle that would put it in two is refused.

Bundles are loaded at start from a directory and later through the API (`load_text`). With a store,
each accepted bundle is kept in `contract_bundles` and the change written to `audit_log`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from gateway.contracts.index import BundleIndex
from gateway.contracts.loader import LoadedBundle, load_file, load_text
from gateway.contracts.yamlsource import BundleError, Problem, parse

log = logging.getLogger(__name__)

BUNDLES_DIR = Path(__file__).parent / "bundles"
DEFAULT_REGION = "midden-holland"


class ContractRegistry:
    def __init__(self, store: Any = None) -> None:
        self.store = store
        self._versions: dict[str, list[LoadedBundle]] = {}
        self._lock = threading.Lock()

    # -- loading --------------------------------------------------------------------------------

    def load_text(self, yaml_text: str, actor: str, source: str = "<api>") -> LoadedBundle:
        """Check and add (or replace, same region and version) a bundle; BundleError when refused."""
        loaded = load_text(yaml_text, source=source, actor=actor)
        return self.add(loaded)

    def load_file(self, path: str | Path, actor: str = "startup") -> LoadedBundle:
        return self.add(load_file(path, actor=actor))

    def load_directory(self, directory: str | Path, actor: str = "startup") -> list[LoadedBundle]:
        """Load every *.yaml / *.yml in `directory`; all problems of all files in one BundleError."""
        problems: list[Problem] = []
        loaded = []
        for path in sorted(Path(directory).glob("*.y*ml")):
            try:
                loaded.append(self.load_file(path, actor=actor))
            except BundleError as exc:
                problems.extend(exc.problems)
        if problems:
            raise BundleError(problems)
        return loaded

    def add(self, loaded: LoadedBundle) -> LoadedBundle:
        """Add a checked bundle. A (region, version) is immutable once accepted: loading the same
        text again is a no-op, a changed text under the same version is refused (give it a new
        version, so the audit trail says which text was in force)."""
        b = loaded.bundle
        with self._lock:
            current = {v.bundle.version: v for v in self._versions.get(b.region, [])}
            same = current.get(b.version)
            if same is not None:
                if same.sha256 == loaded.sha256:
                    return same
                raise BundleError([_version_taken(loaded, same.source)])
            stored = None
            if self.store is not None:
                from gateway.contracts.archive import stored_text

                stored = stored_text(self.store, b.region, b.version)
                if stored is not None and stored != loaded.text:
                    raise BundleError([_version_taken(loaded, "the store")])
            candidate = {r: list(v) for r, v in self._versions.items()}
            versions = candidate.get(b.region, []) + [loaded]
            versions.sort(key=lambda v: v.bundle.valid_from)
            candidate[b.region] = versions
            problems = _region_conflicts(candidate, loaded)
            if problems:
                raise BundleError(problems)
            if self.store is not None and stored is None:
                from gateway.contracts.archive import save_bundle

                save_bundle(self.store, loaded)
            self._versions = candidate
        log.info("contract bundle loaded", extra={"region": b.region, "version": b.version, "actor": loaded.actor})
        return loaded

    def load_stored(self, actor: str = "startup") -> list[LoadedBundle]:
        """Load every bundle kept in the store (those accepted earlier, e.g. through the API).

        Idempotent: call it again to pick up bundles another instance accepted."""
        if self.store is None:
            return []
        from gateway.contracts.archive import stored_bundles

        problems: list[Problem] = []
        loaded = []
        for region, version, text in stored_bundles(self.store):
            try:
                loaded.append(self.load_text(text, actor=actor, source=f"store:{region}@{version}"))
            except BundleError as exc:
                problems.extend(exc.problems)
        if problems:
            raise BundleError(problems)
        return loaded

    # -- questions ------------------------------------------------------------------------------

    def regions(self) -> list[str]:
        return sorted(self._versions)

    def versions(self, region: str | None = None) -> list[LoadedBundle]:
        if region is not None:
            return list(self._versions.get(region, []))
        return [v for r in self.regions() for v in self._versions[r]]

    def effective(self, region: str, on: date) -> LoadedBundle | None:
        """The version of `region` in effect on `on`."""
        best = None
        for v in self._versions.get(region, []):
            if v.bundle.valid_from <= on:
                best = v
        if best is None or (best.bundle.valid_to is not None and on > best.bundle.valid_to):
            return None
        return best

    def lookup(self, gemeente: str | None, on: date) -> BundleIndex | None:
        """The bundle in effect for municipality `gemeente` on `on`, or None (no contract rules apply)."""
        if not gemeente:
            return None
        for region in self._versions:
            v = self.effective(region, on)
            if v is not None and gemeente in v.index.municipalities:
                return v.index
        return None

    def region_of(self, gemeente: str, on: date) -> str | None:
        idx = self.lookup(gemeente, on)
        return idx.bundle.region if idx else None

    def map_product(self, gemeente: str, law: str, category: str, code: str, on: date) -> tuple[str, str]:
        """The product code to publish downstream: the new code for an old one in transition,
        otherwise the code as received."""
        idx = self.lookup(gemeente, on)
        if idx is not None:
            mapped = idx.map_product(law, category, code, on)
            if mapped is not None:
                return mapped
        return (category, code)


def _version_taken(loaded: LoadedBundle, where: str) -> Problem:
    doc = parse(loaded.text, loaded.source)
    return Problem(
        loaded.source,
        "version",
        doc.line_of(("version",)),
        f"region {loaded.bundle.region!r} already has version {loaded.bundle.version!r} (from {where}) with "
        "other content; give the changed bundle a new version",
    )


def _windows(versions: list[LoadedBundle]) -> Iterable[tuple[LoadedBundle, date, date]]:
    """Each version's effective window: from its valid_from until the next version starts."""
    for i, v in enumerate(versions):
        end = v.bundle.valid_to or date.max
        if i + 1 < len(versions):
            end = min(end, versions[i + 1].bundle.valid_from - timedelta(days=1))
        if end >= v.bundle.valid_from:
            yield v, v.bundle.valid_from, end


def _region_conflicts(candidate: dict[str, list[LoadedBundle]], new: LoadedBundle) -> list[Problem]:
    """A municipality in two regions' bundles at the same date is refused, naming both places."""
    problems = []
    doc = None
    mine = list(_windows(candidate[new.bundle.region]))
    for region, versions in candidate.items():
        if region == new.bundle.region:
            continue
        for other, o_from, o_to in _windows(versions):
            for me, m_from, m_to in mine:
                if me is not new:
                    continue
                if m_from > o_to or o_from > m_to:
                    continue
                shared = me.index.municipalities & other.index.municipalities
                for i, m in enumerate(new.bundle.municipalities):
                    if m.cbs in shared:
                        doc = doc or parse(new.text, new.source)
                        problems.append(
                            Problem(
                                new.source,
                                f"municipalities[{i}]",
                                doc.line_of(("municipalities", i)),
                                f"municipality {m.cbs} ({m.name}) is already in region {region!r} "
                                f"(version {other.bundle.version}, {other.source}) from "
                                f"{max(m_from, o_from)}",
                            )
                        )
    return problems


def default_registry(location: str | Path | None = None, store: Any = None) -> ContractRegistry:
    """A registry holding the bundles at `location` (a directory of *.yaml or one file; default:
    the embedded example bundles) and, with a store, every bundle accepted earlier.

    BundleError when one is refused, e.g. a bundle file edited without a new version."""
    registry = ContractRegistry(store=store)
    path = Path(location) if location else BUNDLES_DIR
    if path.is_dir():
        registry.load_directory(path)
    else:
        registry.load_file(path)
    registry.load_stored()
    return registry
