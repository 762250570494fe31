"""Load the official iJw/iWmo 3.2 XSD set for comparison, in a temporary directory.

The material has quirks: a Markdown line before the schema, text after `</xs:schema>`, and
`Basisschema.xsd` imported as `basisschema.xsd`. We fix those in the temporary copy only.
The iWmo retour schemas (WMO302..WMO325) are not published; we derive them here from the
official JW retour schema and the official iWmo basisschema (digest §1.4), so the comparison
of our generated WMO retours has an independent counterpart.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from gateway import catalog

XS = "{http://www.w3.org/2001/XMLSchema}"


def _clean(raw: bytes) -> bytes:
    start = min(i for i in (raw.find(b"<?xml"), raw.find(b"<xs:schema")) if i >= 0)
    end = raw.rfind(b"</xs:schema>") + len(b"</xs:schema>")
    return raw[start:end] + b"\n"


def _find(xsd_dir: Path, name: str) -> Path | None:
    for p in xsd_dir.iterdir():
        if p.name.lower() == name.lower():
            return p
    return None


def _appinfo_version(basis: bytes) -> str:
    m = re.search(rb"BasisschemaXsdVersie>([0-9.]+)<", basis)
    assert m, "no BasisschemaXsdVersie in the official basisschema"
    return m.group(1).decode()


def _derive_iwmo(jw_retour: bytes, mtype: catalog.MessageType, jw: catalog.MessageType, version: str) -> bytes:
    text = jw_retour.decode("utf-8")
    text = text.replace(jw.namespace, mtype.namespace)
    text = text.replace(jw.basis_namespace, mtype.basis_namespace)
    text = text.replace(f">{jw.code.lower()}<", f">{mtype.code.lower()}<").replace(">ijw<", ">iwmo<")
    text = re.sub(r"(Xsd(?:Min|Max)?Versie>)[0-9.]+<", rf"\g<1>{version}<", text)
    text = text.replace(f'value="{jw.berichtcode}"', f'value="{mtype.berichtcode}"')
    root = etree.fromstring(text.encode())
    # WMO316 has no GezagsdragerBekend, WMO320 no Woonplaatsbeginsel (digest §1.5).
    drop = {"316": "GezagsdragerBekend", "320": "Woonplaatsbeginsel"}.get(mtype.number)
    if drop:
        for el in root.iter(f"{XS}element"):
            if el.get("name") == drop:
                el.getparent().remove(el)
        for ct in root.findall(f"{XS}complexType"):
            if ct.get("name") == drop:
                root.remove(ct)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def prepare(official: Path, target: Path) -> dict[str, Path]:
    """Write a loadable copy of the official set into `target`; returns code -> XSD path.

    Codes are the 28 message types plus "ijw-basisschema" / "iwmo-basisschema".
    """
    out: dict[str, Path] = {}
    for standard in catalog.STANDARDS:
        src = official / f"{standard}-{catalog.RELEASE}" / "xsd"
        dst = target / standard
        dst.mkdir(parents=True, exist_ok=True)
        basis_src = _find(src, "basisschema.xsd")
        assert basis_src is not None, f"no basisschema in {src}"
        basis = _clean(basis_src.read_bytes())
        (dst / "basisschema.xsd").write_bytes(basis)
        out[f"{standard}-basisschema"] = dst / "basisschema.xsd"
        for mtype in (t for t in catalog.ALL if t.standard == standard):
            found = _find(src, f"{mtype.code}.xsd")
            if found is not None:
                content = _clean(found.read_bytes())
            else:
                jw = catalog.by_number("ijw", mtype.number)
                jw_file = _find(official / f"ijw-{catalog.RELEASE}" / "xsd", f"{jw.code}.xsd")
                assert jw_file is not None and standard == "iwmo", f"no official XSD for {mtype.code}"
                content = _derive_iwmo(_clean(jw_file.read_bytes()), mtype, jw, _appinfo_version(basis))
            (dst / f"{mtype.code}.xsd").write_bytes(content)
            out[mtype.code] = dst / f"{mtype.code}.xsd"
    return out
