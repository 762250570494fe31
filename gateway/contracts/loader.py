"""Turn bundle YAML into a checked Bundle, or refuse it with problems that name file, path and line."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from gateway import clock
from gateway.contracts import consistency
from gateway.contracts.index import BundleIndex
from gateway.contracts.models import Bundle
from gateway.contracts.yamlsource import BundleError, Problem, parse

MAX_BUNDLE_BYTES = 5 * 1024 * 1024  # a region's bundle is kilobytes; refuse anything absurd


@dataclass
class LoadedBundle:
    bundle: Bundle
    index: BundleIndex
    source: str
    sha256: str
    text: str
    actor: str = "startup"
    loaded_at: datetime = field(default_factory=clock.now)

    @property
    def key(self) -> tuple[str, str]:
        return (self.bundle.region, self.bundle.version)

    def summary(self) -> dict:
        """What an API answers after an accepted upload (no bundle content, no client keys)."""
        b = self.bundle
        return {
            "region": b.region,
            "version": b.version,
            "valid_from": b.valid_from.isoformat(),
            "valid_to": b.valid_to.isoformat() if b.valid_to else None,
            "municipalities": [m.cbs for m in b.municipalities],
            "products": len(b.products),
            "providers": len(b.providers),
            "example": b.example,
            "sha256": self.sha256,
            "loaded_by": self.actor,
            "loaded_at": self.loaded_at.isoformat(),
        }


def parse_bundle(text: str, source: str = "<api>") -> Bundle:
    """Validate YAML text against the schema and for self-consistency; BundleError when refused."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BUNDLE_BYTES:
        raise BundleError([Problem(source, "", None, f"bundle larger than {MAX_BUNDLE_BYTES} bytes")])
    doc = parse(text, source)
    try:
        bundle = Bundle.model_validate(doc.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            problems.append(doc.problem(loc, _message(err)))
        raise BundleError(problems) from None
    findings = consistency.check(bundle)
    if findings:
        raise BundleError([doc.problem(loc, msg) for loc, msg in findings])
    return bundle


def _message(err: dict) -> str:
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1]) if err["loc"] else ""
        if any(c in key for c in " ()"):
            # A comma inside an unquoted value of a {flow: mapping} splits it into a new "key".
            return "unknown field (not in the bundle schema); quote values that contain a comma"
        return "unknown field (not in the bundle schema)"
    if err["type"] == "missing":
        return "required field missing"
    return msg


def load_text(text: str, source: str = "<api>", actor: str = "startup") -> LoadedBundle:
    bundle = parse_bundle(text, source)
    return LoadedBundle(
        bundle=bundle,
        index=BundleIndex(bundle),
        source=source,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        text=text,
        actor=actor,
    )


def load_file(path: str | Path, actor: str = "startup") -> LoadedBundle:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError([Problem(str(path), "", None, f"cannot read: {exc}")]) from None
    return load_text(text, source=str(path), actor=actor)
