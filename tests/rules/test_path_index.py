"""The run's path index gives exactly the paths of validators.paths.element_path, and
locations in document order."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from gateway import clock, samples
from gateway.catalog import ALL, by_code
from testsupport.schema_corpus import valid_documents
from validators import engine
from validators.paths import PathIndex
from validators.paths import element_path


@pytest.mark.parametrize("code", [t.code for t in ALL])
def test_index_paths_equal_element_path(code):
    docs = [samples.build(code)] + valid_documents(code, 3, seed=5)
    for doc in docs:
        root = etree.fromstring(doc)
        index = PathIndex(root)
        elements = list(root.iter(etree.Element))
        for el in elements:
            assert index.path(el) == element_path(el)
        # document order, whatever order the elements come in; absent ones and repeats dropped
        shuffled = elements[::-1] + [None] + elements[:3]
        assert index.locations(shuffled) == [element_path(e) for e in elements]


def test_tr101_tr416_on_a_declaration_repeating_one_line():
    """A hostile 323 with one prestatie 3,000 times: TR101 gives one finding listing all 3,000,
    TR416 one per copy after the first, naming it and the first: every path built once, no
    finding lists more than its share (the index keeps this linear)."""
    root = etree.fromstring(samples.declaration("ijw"))
    prestaties = root.find(".//{*}Prestaties")
    for _ in range(2999):
        prestaties.append(copy.deepcopy(prestaties[0]))
    ctx = engine.RuleContext(root=root, mtype=by_code("JW323"), today=clock.today())
    rules = engine.load_all()
    path = "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie[{}]".format
    tr101 = list(rules["TR101"].check(rules["TR101"], ctx))
    assert [i.all_locations for i in tr101] == [[path(n) for n in range(1, 3001)]]
    tr416 = list(rules["TR416"].check(rules["TR416"], ctx))
    assert [i.all_locations for i in tr416] == [[path(1), path(n)] for n in range(2, 3001)]
