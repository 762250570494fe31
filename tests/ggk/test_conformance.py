"""Our envelope schema (gateway/ggk/xsd) accepts and rejects exactly what the official StUF-GGk 2.1
patch 04 schema does, for the five messages the gateway handles (Di01, Du01, Fo01, Fo03, Bv03).

Verdicts of both schemas on the official example envelopes, on the envelopes the gateway builds,
on valid variants and on single mutations of all of them (testsupport/ggk_corpus.py). The one
intended difference: the official schema (all of StUF 03.01) also accepts other StUF messages as
roots (Bv01, Lk01, ...); ours only the five.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from lxml import etree

from gateway import ggk
from gateway.ggk import schema
from testsupport import ggk_corpus


def _verdict(s: etree.XMLSchema, xml: bytes) -> bool:
    return s.validate(etree.fromstring(xml))


@pytest.fixture(scope="module")
def corpus(official_examples) -> list[ggk_corpus.Sample]:
    own = ggk_corpus.own_envelopes()
    bases = {f"official {name}": xml for name, xml in official_examples.items()}
    bases |= own | ggk_corpus.valid_variants(own)
    return ggk_corpus.samples_of(bases)


def test_official_examples_are_accepted_by_both(official_schema, official_examples):
    assert set(official_examples) == {
        "Fo01.xml", "envelopHeenbericht-ggk_Di01_v21-tekst.xml", "envelopHeenbericht-ggk_Di01_v21-xml.xml",
        "envelopRetourbericht-ggk_Du01-v21.xml",
    }
    for name, xml in official_examples.items():
        assert _verdict(official_schema, xml), name
        assert _verdict(schema.compiled(), xml), name


def test_corpus_verdicts_agree(official_schema, corpus):
    ours = schema.compiled()
    disagree, wrong_expectation = [], []
    kinds: collections.Counter = collections.Counter()
    verdicts: collections.Counter = collections.Counter()
    for sample in corpus:
        official = _verdict(official_schema, sample.xml)
        mine = _verdict(ours, sample.xml)
        kinds[sample.kind] += 1
        verdicts[official] += 1
        if mine != official:
            disagree.append((sample.kind, sample.where, "ours", mine, "official", official))
        if sample.expect is not None and sample.expect != official:
            wrong_expectation.append((sample.kind, sample.where, "expected", sample.expect))
    assert not disagree, disagree[:20]
    # The corpus is what it says: valid bases valid, the mutations meant to break do break.
    assert not wrong_expectation, wrong_expectation[:20]
    assert kinds["valid"] >= 45
    for kind in ("missing", "duplicated", "unknown element", "wrong namespace", "unknown attribute",
                 "order", "stray text", "value", "bestandsnaam", "detailsXML"):
        assert kinds[kind] >= 8, f"too few {kind} samples: {kinds[kind]}"
    assert verdicts[False] > verdicts[True] > 500  # plenty of both


def test_every_root_the_gateway_handles_is_in_the_corpus(corpus):
    roots = {etree.QName(etree.fromstring(s.xml)).localname for s in corpus if s.kind == "valid"}
    assert roots == {"envelopHeenbericht-ggk_Di01", "envelopRetourbericht-ggk_Du01", "Fo01Bericht",
                     "Fo03Bericht", "Bv03Bericht"}


def test_bad_references_are_ib009_in_both(official_schema, official_examples):
    di01 = official_examples["envelopHeenbericht-ggk_Di01_v21-xml.xml"]
    for bad in ggk_corpus._BAD_UUIDS:  # noqa: SLF001
        xml = di01.replace(b"9c0f7b90-5c69-41e5-a837-0800200c9a66", bad.encode())
        assert not _verdict(official_schema, xml), bad
        with pytest.raises(ggk.EnvelopeError) as caught:
            ggk.read(xml)
        assert caught.value.error.stuf_code == "IB009", (bad, caught.value.error)


def test_other_stuf_roots_are_the_intended_difference(official_schema):
    bv01 = ggk.bv03(ggk.read(ggk_corpus.own_envelopes()["Di01 JW301"]).stuurgegevens).replace(b"Bv03", b"Bv01")
    assert _verdict(official_schema, bv01)
    assert not _verdict(schema.compiled(), bv01)
    with pytest.raises(ggk.EnvelopeError) as caught:
        ggk.read(bv01)
    assert caught.value.error.code == "NOT_AN_ENVELOPE"


def test_corpus_notices_a_changed_facet(official_schema, corpus, tmp_path):
    """Sharp enough: an applicatie of two characters allowed (minLength 3 -> 2) is caught."""
    for src in schema.XSD_DIR.glob("*.xsd"):
        (tmp_path / src.name).write_bytes(src.read_bytes())
    stuf = tmp_path / "stuf.xsd"
    text = stuf.read_text()
    changed = text.replace('<xs:minLength value="3"/><xs:maxLength value="50"/>',
                           '<xs:minLength value="2"/><xs:maxLength value="50"/>')
    assert changed != text
    stuf.write_text(changed)
    altered = etree.XMLSchema(etree.parse(str(tmp_path / "ggk.xsd")))
    differs = [s for s in corpus if _verdict(altered, s.xml) != _verdict(official_schema, s.xml)]
    assert differs and all("applicatie='ab'" in s.where for s in differs)


def test_product_code_does_not_read_the_official_set():
    root = Path(schema.__file__).resolve().parent
    for path in [*root.rglob("*.py"), *root.rglob("*.xsd")]:
        text = path.read_text()
        assert "stuf-ggk" not in text and "shared/" not in text, path
        assert "stuf0301.xsd" not in text and "ggk0210_" not in text, path


def test_every_chain_code_we_answer_with_is_on_the_official_list(stuf_ggk_dir):
    listed = (stuf_ggk_dir / "docs" / "foutcodes-isd-keten-2.1-patch04-revisie3.md").read_text()
    for code, spec in ggk.CODES.items():
        assert f" {spec.stuf} " in listed or f" {spec.stuf}\n" in listed, (code, spec.stuf)


def test_the_reading_schema_and_the_base64_rule_are_the_schema(corpus):
    """What a received envelope is checked with (schema.for_reading: the payload typed as a string,
    its base64 left to schema.base64_ok and the decode) gives the verdict of the full schema."""
    full, reading = schema.compiled(), schema.for_reading()
    bestand = (f"{{{ggk.model.NS_GGK}}}xmlBestand", f"{{{ggk.model.NS_GGK}}}tekstBestand")
    disagree = []
    for sample in corpus:
        tree = etree.fromstring(sample.xml)
        split = reading.validate(tree) and all(schema.base64_ok(el.text or "") for el in tree.iter(*bestand))
        if split != full.validate(tree):
            disagree.append((sample.kind, sample.where))
    assert not disagree, disagree[:20]
