"""The schema registry: loading directories (with the official files' quirks), several releases
side by side, lazy thread-safe compilation, and clear errors for unusable directories."""

from __future__ import annotations

import pickle
import sys
import threading
from pathlib import Path

import pytest
from validation_helpers import find, mutate

from gateway import samples
from gateway.detect import detect
from gateway.xmlparse import parse
from schemas.registry import PACKAGE_DIR, SchemaDirError, SchemaRegistry, clean_xsd
from validators.validate import validate_bytes

OURS = {"ijw": PACKAGE_DIR / "ijw-3.2", "iwmo": PACKAGE_DIR / "iwmo-3.2"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def quirky_copy(src: Path, dst: Path) -> Path:
    """A copy of an official set as some deliveries come: a Markdown line before `<?xml`, an
    example appended after `</xs:schema>`, and `Basisschema.xsd` with a capital B."""
    dst.mkdir(parents=True)
    for f in src.glob("*.xsd"):
        name = "Basisschema.xsd" if f.name == "basisschema.xsd" else f.name
        data = b"## " + f.name.encode() + b"\n\n" + f.read_bytes()
        if f.name.startswith(("JW315", "WMO315")):
            data += b"\n<Bericht><Header>an example after the schema</Header></Bericht>\n"
        (dst / name).write_bytes(data)
    return dst


def release_copy(src: Path, dst: Path, release: str, berichtcodes: dict[str, str] | None = None) -> Path:
    """Our 3.2 set re-namespaced as another release (as a future 3.3 would arrive)."""
    dst.mkdir(parents=True)
    token = release.replace(".", "_")
    for f in src.glob("*.xsd"):
        data = f.read_bytes().replace(b"/3_2/", f"/{token}/".encode())
        for old, new in (berichtcodes or {}).items():
            if f.name.startswith("JW301"):
                data = data.replace(f'<xs:pattern value="{old}"/>'.encode(), f'<xs:pattern value="{new}"/>'.encode())
        (dst / f.name).write_bytes(data)
    return dst


def test_official_flat_dir(official_dir):
    reg = SchemaRegistry([official_dir / "ijw-3.2" / "xsd"])
    assert reg.standards() == ["ijw"]
    assert reg.releases("ijw") == ["3.2"]
    assert [t.code for t in reg.types()] == [f"JW{n}" for n in
        ("301", "302", "305", "306", "307", "308", "315", "316", "317", "318", "319", "320", "323", "325")]


def test_dir_of_several_sets(official_dir):
    reg = SchemaRegistry([official_dir])
    assert reg.standards() == ["ijw", "iwmo"]
    assert len([t for t in reg.types() if t.standard == "iwmo"]) == 7  # the official iWmo has no retours
    assert reg.describe() == "ijw 3.2 (14 messages), iwmo 3.2 (7 messages)"


def test_default_registry_is_our_package_set(registry):
    assert registry.describe() == "ijw 3.2 (14 messages), iwmo 3.2 (14 messages)"
    assert all(p.parent == PACKAGE_DIR for p in registry.dirs)


def test_quirky_official_copy_loads_and_validates_without_touching_files(official_dir, tmp_path):
    quirky = tmp_path / "delivered"
    quirky_copy(official_dir / "ijw-3.2" / "xsd", quirky / "ijw")
    quirky_copy(official_dir / "iwmo-3.2" / "xsd", quirky / "iwmo")
    before = {d: snapshot(quirky / d) for d in ("ijw", "iwmo")}
    reg = SchemaRegistry([quirky])
    reg.check()
    assert reg.describe() == "ijw 3.2 (14 messages), iwmo 3.2 (7 messages)"
    for code in ("JW301", "JW315", "JW323", "WMO315", "WMO317", "WMO323"):
        report = validate_bytes(samples.build(code), reg, run_rules=False)
        assert report.valid, (code, report.issues)
    bad = samples.build("JW315").replace(b"<BerichtVersie>3<", b"<BerichtVersie>4<")
    assert [i.rule for i in validate_bytes(bad, reg).issues] == ["XSD"]
    assert {d: snapshot(quirky / d) for d in ("ijw", "iwmo")} == before


def test_clean_xsd_strips_wrapping_only():
    core = b'<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>'
    closed = b'<?xml version="1.0"?>\n<xs:schema xmlns:xs="x">\n</xs:schema>'
    assert clean_xsd(b"# Title\nsome text\n" + core) == core
    assert clean_xsd(b"\xef\xbb\xbf" + closed + b"\n<Bericht/>\n") == closed + b"\n"


def test_two_releases_side_by_side(tmp_path):
    release_copy(OURS["ijw"], tmp_path / "ijw-3.3", "3.3", {"436": "936"})
    reg = SchemaRegistry([OURS["ijw"], tmp_path / "ijw-3.3"])
    assert reg.releases("ijw") == ["3.2", "3.3"]
    assert reg.message_type("ijw", "3.2", "301").berichtcode == "436"
    # The BerichtCode comes from the schema itself, so a release may change it.
    assert reg.message_type("ijw", "3.3", "301").berichtcode == "936"

    msg32 = samples.build("JW305")
    msg33 = msg32.replace(b"/3_2/", b"/3_3/")
    assert validate_bytes(msg32, reg, run_rules=False).valid
    report = validate_bytes(msg33, reg, run_rules=False)
    assert report.valid, report.issues
    assert report.mtype.release == "3.3" and report.message == "JW305"

    alloc33 = samples.build("JW301").replace(b"/3_2/", b"/3_3/")
    found = detect(parse(alloc33).root, reg)
    assert "Namespace says JW301 (BerichtCode 936) but Header/BerichtCode is 436" in found.issues[0].text
    alloc33 = alloc33.replace(b"<BerichtCode>436<", b"<BerichtCode>936<")
    assert validate_bytes(alloc33, reg, run_rules=False).valid

    msg34 = msg32.replace(b"/3_2/", b"/3_4/")
    text = validate_bytes(msg34, reg).issues[0].text
    assert "Release 3.4 of ijw is not held" in text and "3.2, 3.3" in text


def test_a_release_is_only_held_where_its_files_are(tmp_path):
    release_copy(OURS["ijw"], tmp_path / "ijw-3.3", "3.3")
    reg = SchemaRegistry([tmp_path])
    assert reg.releases("ijw") == ["3.3"] and reg.releases("iwmo") == []
    report = validate_bytes(samples.build("JW305"), reg)
    assert "Release 3.2 of ijw is not held" in report.issues[0].text


@pytest.mark.parametrize("case", ["missing", "file", "empty", "unrelated"])
def test_unusable_directories_are_clear_errors(tmp_path, case):
    target = tmp_path / "schemas"
    if case == "file":
        target.write_text("x")
    elif case == "empty":
        target.mkdir()
    elif case == "unrelated":
        target.mkdir()
        (target / "other.xsd").write_text(
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x"/>'
        )
    with pytest.raises(SchemaDirError) as err:
        SchemaRegistry([target])
    assert str(target) in str(err.value)


def test_duplicate_namespace_is_an_error(tmp_path):
    release_copy(OURS["ijw"], tmp_path / "a", "3.2")
    release_copy(OURS["ijw"], tmp_path / "b", "3.2")
    with pytest.raises(SchemaDirError, match="two schemas for ijw 3.2"):
        SchemaRegistry([tmp_path])


def test_message_schema_without_basisschema_is_an_error(tmp_path):
    (tmp_path / "JW301.xsd").write_bytes((OURS["ijw"] / "JW301.xsd").read_bytes())
    with pytest.raises(SchemaDirError, match="needs the basisschema of ijw 3.2"):
        SchemaRegistry([tmp_path])


def test_unreadable_xml_in_schema_dir_is_an_error(tmp_path):
    (tmp_path / "basisschema.xsd").write_text("<xs:schema")
    with pytest.raises(SchemaDirError, match="not a readable XML schema"):
        SchemaRegistry([tmp_path])


def test_schema_that_does_not_compile_fails_check(tmp_path):
    release_copy(OURS["ijw"], tmp_path / "ijw", "3.2")
    broken = tmp_path / "ijw" / "JW305.xsd"
    broken.write_bytes(broken.read_bytes().replace(b'type="jw305:Client"', b'type="jw305:Nope"'))
    reg = SchemaRegistry([tmp_path])
    with pytest.raises(SchemaDirError, match="JW305.xsd does not compile"):
        reg.check()


def test_imports_are_never_fetched(tmp_path):
    release_copy(OURS["ijw"], tmp_path / "ijw", "3.2")
    target = tmp_path / "ijw" / "JW305.xsd"
    target.write_bytes(
        target.read_bytes().replace(
            b'<xs:import namespace="http://www.istandaarden.nl/ijw/3_2/basisschema/schema"',
            b'<xs:import namespace="http://example.com/remote" schemaLocation="http://127.0.0.1:9/x.xsd"/>'
            b'<xs:import namespace="http://www.istandaarden.nl/ijw/3_2/basisschema/schema"',
        )
    )
    reg = SchemaRegistry([tmp_path])
    with pytest.raises(SchemaDirError, match="imports namespace 'http://example.com/remote'"):
        reg.schema(reg.message_type("ijw", "3.2", "305"))


def test_compiled_lazily_once_and_shared_between_threads(registry):
    fresh = SchemaRegistry(registry.dirs, require=False)
    mtype = fresh.message_type("iwmo", "3.2", "323")
    assert fresh._compiled == {}
    got = []
    threads = [threading.Thread(target=lambda: got.append(fresh.schema(mtype))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and all(g is got[0] for g in got)
    assert list(fresh._compiled) == [("iwmo", "3.2", "323")]


def test_concurrent_validation_keeps_each_messages_errors_apart(registry):
    """lxml keeps the error log on the schema object: without the lock, threads would see each
    other's errors."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible to provoke races
    try:
        _race(registry)
    finally:
        sys.setswitchinterval(old)


def _race(registry) -> None:
    good = samples.build("JW301")
    bad = mutate(good, lambda r: setattr(find(r, "Client/Geslacht"), "text", "9"))
    failures = []

    def work(raw: bytes, expect_valid: bool) -> None:
        for _ in range(150):
            report = validate_bytes(raw, registry, run_rules=False)
            if report.valid != expect_valid or (not expect_valid and len(report.issues) != 1):
                failures.append(report.issues)

    threads = [threading.Thread(target=work, args=(good if i % 2 else bad, bool(i % 2))) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_registry_pickles_for_worker_processes(official_dir):
    reg = SchemaRegistry([official_dir / "iwmo-3.2" / "xsd"])
    reg.check()
    again = pickle.loads(pickle.dumps(reg))
    assert again.describe() == reg.describe()
    assert validate_bytes(samples.build("WMO305"), again, run_rules=False).valid


def test_load_is_one_directory(official_dir):
    assert SchemaRegistry.load(official_dir / "iwmo-3.2" / "xsd").describe() == "iwmo 3.2 (7 messages)"
    with pytest.raises(SchemaDirError):
        SchemaRegistry.load(official_dir / "nope")


def test_relative_directory(official_dir, monkeypatch):
    monkeypatch.chdir(official_dir)
    reg = SchemaRegistry(["iwmo-3.2/xsd"])
    reg.check()
    assert validate_bytes(samples.build("WMO301"), reg, run_rules=False).valid
