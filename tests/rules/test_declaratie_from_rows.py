"""The declaration the later rules and the store read, made from the level-2 rules' rows
(extract.declaratie_from_rows, what the pipeline does) is the one read from the tree."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway import samples
from validators import extract
from validators.common import prestatie_rows
from validators.validate import validate_bytes

STANDARDS = ("ijw", "iwmo")


def _messages(standard: str) -> list[bytes]:
    credit = samples.Prestatie(referentienummer="C1", vorig_referentienummer="OLD1", debet_credit="C",
                               toewijzingnummer=2)
    per_uur = samples.Prestatie(referentienummer="U83", eenheid="83", volume=120, toewijzingnummer=3)
    mixed = samples.declaration(standard, clients={
        samples.BSNS[0]: [samples.Prestatie(referentienummer="D1"), credit],
        samples.BSNS[1]: [per_uur],
    })
    large = samples.large_declaration(standard, 200, n_clients=7)
    # the same declaration pretty-printed: whitespace between the elements, none in the values
    pretty = etree.tostring(etree.fromstring(large, etree.XMLParser(remove_blank_text=True)), pretty_print=True,
                            xml_declaration=True, encoding="UTF-8")
    # a 325 echoing rejected prestaties (of two clients, one a credit): its reading is the same kind
    answer = samples.declaration_answer(mixed, rejected={"D1": ["9338"], "C1": ["9338"], "U83": ["9338"]})
    return [mixed, large, pretty, answer]


def _fields(p: extract.Prestatie) -> tuple:
    return tuple(getattr(p, name) for name in extract.Prestatie.__slots__)


@pytest.mark.parametrize("standard", STANDARDS)
def test_declaratie_from_rows_equals_the_tree(standard):
    seen, counts = [], []
    for raw in _messages(standard):
        report = validate_bytes(raw)
        assert report.schema_valid, report.issues
        rows = list(report.rule_cache["prestatie_rows"])  # what the level-2 rules read
        from_tree = extract._read_declaratie(report.root)
        from_rows = extract.declaratie_from_rows(report.root, rows)
        assert (from_rows.el, from_rows.nummer, from_rows.periode_begin, from_rows.periode_eind) == (
            from_tree.el, from_tree.nummer, from_tree.periode_begin, from_tree.periode_eind)
        assert [_fields(p) for p in from_rows.prestaties] == [_fields(p) for p in from_tree.prestaties]
        assert len(from_rows.prestaties) == len(prestatie_rows(report.root)) > 0
        seen += from_rows.prestaties
        counts.append(len(from_rows.prestaties))
    assert counts == [3, 200, 200, 3]
    # what the messages cover: a credit on an earlier prestatie, a unit without a tariff, many clients
    assert {p.vorig_referentienummer for p in seen} >= {"OLD1", None}
    assert {p.tarief for p in seen if p.eenheid == "83"} == {None}
    assert len({p.bsn for p in seen}) == 7


def test_remembered_declaratie_is_the_one_given():
    raw = samples.large_declaration("ijw", 40)
    report = validate_bytes(raw)
    given = extract.declaratie_from_rows(report.root, report.rule_cache["prestatie_rows"])
    with extract.remembered(report.root, declaratie=given):
        assert extract.declaratie(report.root) is given
    with extract.remembered(report.root):
        read = extract.declaratie(report.root)
    assert read is not given and [_fields(p) for p in read.prestaties] == [_fields(p) for p in given.prestaties]


def test_a_forgotten_declaratie_is_let_go_inside_the_block():
    """extract.forget_declaratie frees the declaration given to remembered() before the block
    ends (the pipeline's, once a 323 is rejected): nothing else holds it."""
    import gc
    import weakref

    report = validate_bytes(samples.large_declaration("ijw", 40, n_clients=2))
    root = report.root
    d = extract.declaratie_from_rows(root, report.rule_cache.pop("prestatie_rows"))
    gone = weakref.ref(d)
    with extract.remembered(root, declaratie=d):
        del d
        assert extract.remembered_declaratie(root) is gone()
        extract.forget_declaratie(root)
        gc.collect()
        assert gone() is None
        assert extract.remembered_declaratie(root) is None
        assert len(extract.declaratie(root).prestaties) == 40  # read again from the tree if asked
