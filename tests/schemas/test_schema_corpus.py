"""The corpus generator itself: deterministic, varied, and its regex subset behaves like XSD's."""

from __future__ import annotations

import random

import pytest
from lxml import etree

from gateway import catalog
from testsupport import schema_corpus, xsd_regex
from schemas import generate

CODES = [t.code for t in catalog.ALL]


def test_same_seed_same_document_other_seed_other_document():
    assert schema_corpus.valid_document("JW323", seed=4) == schema_corpus.valid_document("JW323", seed=4)
    docs = {schema_corpus.valid_document("JW323", seed=s) for s in range(10)}
    assert len(docs) == 10


@pytest.mark.parametrize("code", CODES)
def test_valid_documents_validate_against_our_schema(code):
    schema = etree.XMLSchema(etree.parse(str(generate.schema_dir(catalog.by_code(code).standard) / f"{code}.xsd")))
    for xml in schema_corpus.valid_documents(code, 8, seed=3):
        assert schema.validate(etree.fromstring(xml)), schema.error_log


def test_minimal_and_maximal_documents():
    smallest, largest = schema_corpus.valid_documents("JW301", 2, seed=1)
    assert b"Relaties" not in smallest and b"Relaties" in largest
    assert len(largest) > len(smallest)


@pytest.mark.parametrize(
    "pattern, good, bad",
    [
        (r".*[^\s].*", ["a", " a ", "\ta"], ["", " ", "\t\n", "a\nb"]),  # XSD '.' excludes LF
        (r"([.\s]*\S+[.\s]*)+", ["x", ". x .", "a\nb", " . "], ["", " ", " \t\n"]),
        (r"[0-9]{8}", ["01234567"], ["1234567", "123456789", "١٢٣٤٥٦٧٨"]),  # no Unicode digits
        (r"[^:Z]*", ["2024-01-01", ""], ["2024-01-01Z", "10:00"]),
        ("([a-zA-Z\u00c0-\u1ef3])+", ["Jé", "ỳ"], ["J.", "", "1"]),
    ],
)
def test_xsd_regex_semantics(pattern, good, bad):
    assert all(xsd_regex.matches(pattern, g) for g in good)
    assert not any(xsd_regex.matches(pattern, b) for b in bad)


@pytest.mark.parametrize("pattern", [r".*[^\s].*", r"([.\s]*\S+[.\s]*)+", "[0-9]{4}", "[0-9]*",
                                     r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)", "([a-zA-Z0-9])+"])
def test_generated_strings_match_their_pattern(pattern):
    rng = random.Random(pattern)
    for _ in range(200):
        assert xsd_regex.matches(pattern, xsd_regex.generate(pattern, rng))


def test_every_mutant_differs_from_its_valid_document():
    valid = schema_corpus.valid_document("WMO301", 5, optional=0.7)
    for m in schema_corpus.mutants("WMO301", seed=5):
        assert m.xml != valid, m
