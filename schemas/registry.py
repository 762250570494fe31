"""The schema registry: which XSD sets we hold, and their compiled lxml schemas.

A registry loads one or more directories. Each holds one standard's flat set with the official
file names (basisschema.xsd, JW301.xsd, ...) or several such sets in subdirectories. Standard,
release and message number come from each file's targetNamespace, never from file or directory
names, so 3.2 and a future 3.3 can sit side by side, keyed by (standard, release, number).

Known quirks of delivered official files are tolerated in memory, never fixed on disk: text before
`<?xml` (a Markdown heading line), text after `</xs:schema>` (an example appended), and an import
of `basisschema.xsd` while the file is called `Basisschema.xsd`. Imports are resolved by their
namespace against the registry's own files through an lxml resolver; nothing is fetched from the
network.

Compiled schemas are built lazily, once, under a lock, and cached per message type. lxml's
XMLSchema keeps its error log on the object, so each compiled schema carries a lock that callers
hold while validating (validators.xsd does).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from gateway import catalog
from gateway.catalog import MessageType

XS = "http://www.w3.org/2001/XMLSchema"
_NS = re.compile(
    r"^http://www\.istandaarden\.nl/(?P<standard>[a-z]+)/(?P<release>\d+(?:_\d+)+)/"
    r"(?P<name>basisschema|[a-z]+(?P<number>\d{3}))/schema$"
)
_SCHEMA_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?schema\s*>")
_URL_SCHEME = "istandaarden-registry"
PACKAGE_DIR = Path(__file__).resolve().parent
_RELEASE_DIR = re.compile(r"^(ijw|iwmo)-\d+(\.\d+)+$")
# How deep a --schemas directory may nest its sets (DIR/ijw-3.2/xsd/ is two levels).
_MAX_DIR_DEPTH = 3


class SchemaDirError(Exception):
    """A schema directory cannot be used; the message says why, for the operator."""


Key = tuple[str, str, str]  # (standard, release, number); number "basisschema" for the base


@dataclass(frozen=True)
class SchemaFile:
    path: Path
    namespace: str
    standard: str
    release: str
    number: str  # "301", or "basisschema"
    data: bytes = field(repr=False)  # cleaned bytes (quirks removed)
    berichtcode: str | None = None

    @property
    def key(self) -> Key:
        return (self.standard, self.release, self.number)


@dataclass
class CompiledSchema:
    """A compiled message schema. Hold `lock` while validating with `schema`."""

    mtype: MessageType
    schema: etree.XMLSchema
    type_bases: dict[str, str]  # simpleType name -> built-in XSD type it derives from ("date")
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def release_of(token: str) -> str:
    """Namespace token "3_2" -> release "3.2"."""
    return token.replace("_", ".")


def clean_xsd(data: bytes) -> bytes:
    """Strip what official deliveries sometimes wrap around a schema (a BOM, a Markdown line
    before `<?xml`, an example after `</xs:schema>`); the schema itself is left as is."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    start = data.find(b"<?xml")
    if start < 0:
        match = re.search(rb"<(?:[A-Za-z_][\w.-]*:)?schema[\s>]", data)
        start = match.start() if match else 0
    data = data[start:]
    end = _SCHEMA_END.search(data)
    if end:
        data = data[: end.end()] + b"\n"
    return data


def _schema_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False
    )


def _berichtcode(doc: etree._Element) -> str | None:
    """The fixed BerichtCode a message schema prescribes (a pattern or enumeration facet)."""
    for el in doc.iter(f"{{{XS}}}element"):
        if el.get("name") == "BerichtCode":
            for facet in el.iter(f"{{{XS}}}pattern", f"{{{XS}}}enumeration"):
                value = facet.get("value")
                if value and value.isdigit():
                    return value
    return None


def _read_schema_file(path: Path) -> SchemaFile | None:
    """Read one .xsd file; None when it is not an iStandaarden schema (ignored)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SchemaDirError(f"cannot read {path}: {exc.strerror or exc}") from exc
    data = clean_xsd(raw)
    try:
        doc = etree.fromstring(data, _schema_parser(), base_url=path.resolve().as_uri())
    except etree.XMLSyntaxError as exc:
        raise SchemaDirError(f"{path} is not a readable XML schema: {exc}") from exc
    if doc.tag != f"{{{XS}}}schema":
        return None
    namespace = doc.get("targetNamespace") or ""
    match = _NS.match(namespace)
    if not match:
        return None
    number = match["number"] or "basisschema"
    return SchemaFile(
        path=path,
        namespace=namespace,
        standard=match["standard"],
        release=release_of(match["release"]),
        number=number,
        data=data,
        berichtcode=_berichtcode(doc) if number != "basisschema" else None,
    )


def _xsd_files(root: Path) -> list[Path]:
    found: list[Path] = []
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            raise SchemaDirError(f"cannot read directory {folder}: {exc.strerror or exc}") from exc
        for entry in entries:
            if entry.is_dir() and depth < _MAX_DIR_DEPTH:
                stack.append((entry, depth + 1))
            elif entry.is_file() and entry.suffix.lower() == ".xsd":
                found.append(entry)
    return sorted(found)


class _RegistryResolver(etree.Resolver):
    """Serves imports from the registry's cleaned files; refuses everything else."""

    def __init__(self, registry: SchemaRegistry) -> None:
        super().__init__()
        self.registry = registry

    def resolve(self, url, pubid, context):  # noqa: ANN001 (lxml's signature)
        prefix = f"{_URL_SCHEME}:///"
        if url and url.startswith(prefix):
            standard, release, number = url[len(prefix) :].removesuffix(".xsd").split("/")
            found = self.registry._files.get((standard, release, number))
            if found is not None:
                return self.resolve_string(found.data, context, base_url=url)
        raise SchemaDirError(f"schema import of {url!r} refused: not a schema this registry holds")


class SchemaRegistry:
    """The XSD sets we hold, keyed by (standard, release, message number)."""

    def __init__(self, dirs: Iterable[str | Path] = (), *, require: bool = True) -> None:
        """Load the schema files under `dirs`. With `require`, a directory that is missing or
        holds no iStandaarden schema is an error (SchemaDirError)."""
        self.dirs: tuple[Path, ...] = tuple(Path(d) for d in dirs)
        self._require = require
        self._files: dict[Key, SchemaFile] = {}
        self._compiled: dict[Key, CompiledSchema] = {}
        self._lock = threading.Lock()
        # (root tag, BerichtCode) -> message type, for messages gateway.detect recognised: the
        # files never change after loading, so neither does the answer.
        self.detected: dict[tuple[str, str], MessageType] = {}
        for folder in self.dirs:
            self._load_dir(folder, require)

    def __reduce__(self):
        # Compiled lxml schemas cannot be pickled; a worker process reloads from the same dirs.
        return (_rebuild, (self.dirs, self._require))

    @classmethod
    def default(cls) -> SchemaRegistry:
        """Our own generated sets: schemas/ijw-3.2, schemas/iwmo-3.2 (and later releases)."""
        dirs = [
            d for d in sorted(PACKAGE_DIR.iterdir()) if d.is_dir() and _RELEASE_DIR.match(d.name)
        ]
        return cls(dirs, require=False)

    @classmethod
    def load(cls, location: str | Path) -> SchemaRegistry:
        """The sets under one directory (`--schemas DIR`, settings.schemas); SchemaDirError when
        it is missing or holds none."""
        return cls([location])

    # -- loading ---------------------------------------------------------------------------

    def _load_dir(self, folder: Path, require: bool) -> None:
        if not folder.exists():
            if require:
                raise SchemaDirError(f"schema directory {folder} does not exist")
            return
        if not folder.is_dir():
            raise SchemaDirError(f"{folder} is not a directory")
        files = [f for f in map(_read_schema_file, _xsd_files(folder)) if f is not None]
        if not files:
            if require:
                raise SchemaDirError(
                    f"no iStandaarden XSD files (basisschema.xsd, JW301.xsd, ...) found in {folder}"
                )
            return
        for f in files:
            other = self._files.get(f.key)
            if other is not None:
                raise SchemaDirError(
                    f"two schemas for {f.standard} {f.release} {f.number}: {other.path} and {f.path}"
                )
            self._files[f.key] = f
        for f in files:
            if f.number != "basisschema" and (f.standard, f.release, "basisschema") not in self._files:
                raise SchemaDirError(
                    f"{f.path} needs the basisschema of {f.standard} {f.release}, "
                    f"but no basisschema.xsd with that namespace was found"
                )

    # -- what we hold ----------------------------------------------------------------------

    def standards(self) -> list[str]:
        return sorted({k[0] for k in self._files})

    def releases(self, standard: str) -> list[str]:
        """Releases held for a standard, e.g. ["3.2", "3.3"]."""
        found = {k[1] for k in self._files if k[0] == standard and k[2] != "basisschema"}
        return sorted(found, key=lambda r: tuple(int(p) for p in r.split(".")))

    def message_type(self, standard: str, release: str, number: str) -> MessageType | None:
        """The message type when we hold its schema, else None. The BerichtCode comes from the
        schema itself where it fixes one, so a later release can change it."""
        f = self._files.get((standard, release, number))
        if f is None:
            return None
        try:
            mtype = catalog.by_number(standard, number, release)
        except KeyError:
            return None
        if f.berichtcode and f.berichtcode != mtype.berichtcode:
            mtype = dataclasses.replace(mtype, berichtcode=f.berichtcode)
        return mtype

    def types(self) -> list[MessageType]:
        found = []
        for standard, release, number in sorted(self._files):
            if number != "basisschema":
                mtype = self.message_type(standard, release, number)
                if mtype is not None:
                    found.append(mtype)
        return found

    def has(self, mtype: MessageType) -> bool:
        return (mtype.standard, mtype.release, mtype.number) in self._files

    def path(self, mtype: MessageType) -> Path | None:
        f = self._files.get((mtype.standard, mtype.release, mtype.number))
        return f.path if f else None

    def describe(self) -> str:
        """One line for humans: "ijw 3.2 (14 messages), iwmo 3.2 (7 messages)"."""
        parts = []
        for standard in self.standards():
            for release in self.releases(standard):
                n = sum(1 for k in self._files if k[:2] == (standard, release) and k[2] != "basisschema")
                parts.append(f"{standard} {release} ({n} messages)")
        return ", ".join(parts) or "no schemas"

    # -- compiled schemas ------------------------------------------------------------------

    def schema(self, mtype: MessageType) -> CompiledSchema:
        """The compiled schema of a message type (KeyError when not held, SchemaDirError when
        the files do not compile)."""
        key = (mtype.standard, mtype.release, mtype.number)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key)
                if compiled is None:
                    if key not in self._files:
                        raise KeyError(f"no schema held for {mtype.code} ({mtype.standard} {mtype.release})")
                    compiled = self._compile(mtype, self._files[key])
                    self._compiled[key] = compiled
        return compiled

    def missing(self) -> list[str]:
        """The message types whose schema is not compiled yet (empty once `check()` ran)."""
        return [m.code for m in self.types()
                if (m.standard, m.release, m.number) not in self._compiled]

    def check(self) -> None:
        """Compile every schema now, so a broken directory fails at start-up, not mid-run."""
        for mtype in self.types():
            self.schema(mtype)

    def _compile(self, mtype: MessageType, f: SchemaFile) -> CompiledSchema:
        parser = _schema_parser()
        parser.resolvers.add(_RegistryResolver(self))
        try:
            doc = etree.fromstring(f.data, parser, base_url=f.path.resolve().as_uri())
            imported = self._redirect_imports(doc, f)
            schema = etree.XMLSchema(doc)
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
            raise SchemaDirError(f"{f.path} does not compile: {exc}") from exc
        bases: dict[str, str] = {}
        for g in [f, *imported]:
            bases.update(_type_bases(g.data))
        return CompiledSchema(mtype=mtype, schema=schema, type_bases=_resolve_bases(bases))

    def _redirect_imports(self, doc: etree._Element, f: SchemaFile) -> list[SchemaFile]:
        """Point every xs:import at the registry file holding its namespace (so a file-name
        case mismatch or a set spread over directories does not matter)."""
        imported = []
        for imp in doc.iter(f"{{{XS}}}import"):
            ns = imp.get("namespace") or ""
            match = _NS.match(ns)
            key = (
                (match["standard"], release_of(match["release"]), match["number"] or "basisschema")
                if match
                else None
            )
            target = self._files.get(key) if key else None
            if target is None:
                raise SchemaDirError(f"{f.path} imports namespace {ns!r}, which no loaded schema has")
            imp.set("schemaLocation", f"{_URL_SCHEME}:///{'/'.join(target.key)}.xsd")
            imported.append(target)
        return imported


def _rebuild(dirs: tuple[Path, ...], require: bool) -> SchemaRegistry:
    return SchemaRegistry(dirs, require=require)


def _type_bases(data: bytes) -> dict[str, str]:
    """simpleType name -> the (prefixed) base of its restriction, as written."""
    doc = etree.fromstring(data, _schema_parser())
    out = {}
    for st in doc.iter(f"{{{XS}}}simpleType"):
        name = st.get("name")
        restriction = st.find(f"{{{XS}}}restriction")
        if name and restriction is not None and restriction.get("base"):
            base = restriction.get("base")
            prefix, _, local = base.rpartition(":")
            ns = st.nsmap.get(prefix or None)
            out[name] = f"xs:{local}" if ns == XS else local
    return out


def _resolve_bases(bases: dict[str, str]) -> dict[str, str]:
    """Follow each named type's restriction chain down to the built-in type ("date")."""
    resolved = {}
    for name in bases:
        seen = set()
        current = name
        while current in bases and current not in seen:
            seen.add(current)
            current = bases[current]
        if current.startswith("xs:"):
            resolved[name] = current[3:]
    return resolved


_default: SchemaRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> SchemaRegistry:
    """The process-wide registry of our own schemas, loaded on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = SchemaRegistry.default()
    return _default
