"""Turn bundle YAML into a checked Bundle, or refuse it with problems that name file, path and line."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from gateway import clock
from gateway.contracts import consistency, productlist
from gateway.contracts.index import BundleIndex
from gateway.contracts.models import Bundle, example_values, uncited_rules
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
            "example_values": len(example_values(b)),
            "uncited_rules": uncited_rules(b),
            "product_list": b.product_list is not None,
            "sha256": self.sha256,
            "loaded_by": self.actor,
            "loaded_at": self.loaded_at.isoformat(),
        }


def parse_bundle(text: str, source: str = "<api>", base_dir: Path | None = None) -> Bundle:
    """Validate YAML text against the schema and for self-consistency; BundleError when refused.

    A `product_list.file` is read from `base_dir` (the bundle file's directory)."""
    return _parse(text, source, base_dir)[0]


def _parse(text: str, source: str, base_dir: Path | None) -> tuple[Bundle, str]:
    """The checked bundle and the text to keep for it: a product list file is inlined (as
    `product_list.csv`), so the stored text alone rebuilds the same bundle and its digest covers
    the list."""
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
    inline_products = len(bundle.products)
    if bundle.product_list is not None and (bundle.product_list.file is None) != (bundle.product_list.csv is None):
        plist, text = _product_list(bundle, doc, text, source, base_dir)
        bundle, problems = productlist.apply(bundle, plist)
        if problems:
            raise BundleError(problems)
    findings = consistency.check(bundle)
    if findings:
        raise BundleError([doc.problem(_listed(loc, inline_products), msg) for loc, msg in findings])
    return bundle, text


def _listed(loc: tuple, inline_products: int) -> tuple:
    """A finding on a product that came from the product list points at `product_list`."""
    if len(loc) >= 2 and loc[0] == "products" and isinstance(loc[1], int) and loc[1] >= inline_products:
        return ("product_list",)
    return loc


def _product_list(bundle: Bundle, doc, text: str, source: str, base_dir: Path | None):
    pl = bundle.product_list
    assert pl is not None
    if pl.csv is not None:
        plist = productlist.parse(pl.csv, f"{source} product_list.csv")
    else:
        assert pl.file is not None
        if base_dir is None:
            raise BundleError(
                [doc.problem(("product_list", "file"), "a bundle sent as text cannot name a file: send the list as product_list.csv")]
            )
        path = (base_dir / pl.file).resolve()
        if Path(pl.file).is_absolute() or base_dir.resolve() not in path.parents:
            raise BundleError([doc.problem(("product_list", "file"), "the product list must lie beside the bundle file")])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BundleError([doc.problem(("product_list", "file"), f"cannot read {pl.file}: {exc.strerror or exc}")]) from None
        plist = productlist.parse(data, str(base_dir / pl.file))
        if plist.ok:
            text = _inline(text, doc, data.decode("utf-8-sig"))
    if not plist.ok:
        raise BundleError(plist.problems)
    return plist, text


def _inline(text: str, doc, csv_text: str) -> str:
    """Replace `file: NAME` under product_list by `csv: "<the text>"` (one line, so every other
    line keeps its number)."""
    import yaml

    node = doc.node
    pl = next(v for k, v in node.value if k.value == "product_list")
    key, value = next((k, v) for k, v in pl.value if k.value == "file")
    quoted = json.dumps(csv_text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar
    assert isinstance(value, yaml.ScalarNode)
    text = text[: value.start_mark.index] + quoted + text[value.end_mark.index :]
    return text[: key.start_mark.index] + "csv" + text[key.end_mark.index :]


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


def load_text(text: str, source: str = "<api>", actor: str = "startup", base_dir: Path | None = None) -> LoadedBundle:
    bundle, text = _parse(text, source, base_dir)
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
    return load_text(text, source=str(path), actor=actor, base_dir=path.parent)
