"""The one-pass path index gives exactly the paths of validators.paths.element_path."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from gateway import clock, samples
from gateway.catalog import ALL, by_code
from testsupport.schema_corpus import valid_documents
from validators import engine
from validators.common import PathIndex
from validators.paths import element_path


@pytest.mark.parametrize("code", [t.code for t in ALL])
def test_index_paths_equal_element_path(code):
    docs = [samples.build(code)] + valid_documents(code, 3, seed=5)
    for doc in docs:
        root = etree.fromstring(doc)
        index = PathIndex(root)
        elements = list(root.iter(etree.Element))
        assert len(index.paths) == len(elements)
        for el in elements:
            assert index.paths[el] == element_path(el)


def test_tr101_tr416_on_a_declaration_repeating_one_line():
    """A hostile 323 with one prestatie 3,000 times: every copy after the first is reported once
    per rule, at its own path (the index keeps this linear)."""
    root = etree.fromstring(samples.declaration("ijw"))
    prestaties = root.find(".//{*}Prestaties")
    for _ in range(2999):
        prestaties.append(copy.deepcopy(prestaties[0]))
    ctx = engine.RuleContext(root=root, mtype=by_code("JW323"), today=clock.today())
    rules = engine.load_all()
    for code in ("TR101", "TR416"):
        issues = list(rules[code].check(rules[code], ctx))
        assert [i.path for i in issues] == [
            f"/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie[{n}]" for n in range(2, 3001)
        ]
