"""Robustness on model-generated, schema-valid messages (every optional element, repetition and
prefix style the schemas allow): the in-message rules never raise and report resolvable paths,
and a retour or 325 echoing every class stays schema-valid."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway import clock
from gateway.catalog import by_code
from gateway.retour import (
    RETOUR_CLASSES,
    build_declaratie_antwoord,
    build_retour,
    resolve_path,
)
from testsupport.schema_corpus import valid_documents
from schemas.registry import default_registry
from validators import engine
from validators.issues import Issue
from validators.paths import element_path, local_name
from validators.xsd import validate_tree

HEEN = ["301", "305", "307", "315", "317", "319", "323", "325"]
TODAY = clock.today()


def codes(standard: str) -> list[str]:
    return [("JW" if standard == "ijw" else "WMO") + n for n in HEEN]


@pytest.mark.parametrize("code", codes("ijw") + codes("iwmo"))
def test_rules_on_generated_messages_never_raise_and_point_into_the_message(code):
    mtype = by_code(code)
    rules = engine.rules_for(mtype, engine.IN_MESSAGE_LEVELS)
    for doc in valid_documents(code, 4, seed=7):
        root = etree.fromstring(doc)
        assert validate_tree(root, default_registry().schema(mtype)) == []
        ctx = engine.RuleContext(root=root, mtype=mtype, today=TODAY)
        for r in rules:
            for issue in r.check(r, ctx):  # a rule that raises fails the test
                # 0001 for level 2; TR319 keeps its own code on the Prestatie (berichtoverstijgend)
                assert issue.rule == r.code and issue.retourcode == r.retourcode
                assert r.retourcode == "0001" or (r.code, issue.class_path.rsplit("/", 1)[-1][:9]) == ("TR319", "Prestatie")
                assert issue.path and issue.path.startswith("/Bericht/")
                # The path names an element of the message, or where a missing one belongs.
                candidates = (issue.path, issue.path.rsplit("/", 1)[0], issue.path.rsplit("/", 2)[0])
                # (the last: CD034 may name Adres/Postcode below a Contact without Adres)
                found = [el for el in map(lambda p: resolve_path(root, p), candidates) if el is not None]
                assert found, (r.code, issue.path)


@pytest.mark.parametrize("code", [c for c in codes("ijw") + codes("iwmo") if c[-3:] in RETOUR_CLASSES])
def test_retour_echoing_every_class_of_a_generated_message_is_schema_valid(code):
    mtype = by_code(code)
    classes = RETOUR_CLASSES[mtype.number]
    for doc in valid_documents(code, 4, seed=11):
        root = etree.fromstring(doc)
        targets = [el for el in root.iter() if isinstance(el.tag, str) and local_name(el) in classes]
        issues = [Issue(rule="T", text="t", retourcode="9063", class_path=element_path(el)) for el in targets[1:]]
        data = build_retour(root, mtype, issues, identificatie_retour="R1", today=TODAY)
        out = etree.fromstring(data)
        assert validate_tree(out, default_registry().schema(mtype.answered_by)) == []
        echoed = [el for el in out.iter("{*}RetourCode") if el.text == "9063"]
        assert len(echoed) == len(issues)


@pytest.mark.parametrize("standard", ["ijw", "iwmo"])
def test_325_for_generated_declarations_is_schema_valid(standard):
    code = ("JW" if standard == "ijw" else "WMO") + "323"
    mtype = by_code(code)
    for doc in valid_documents(code, 4, seed=3):
        root = etree.fromstring(doc)
        prestaties = [el for el in root.iter() if isinstance(el.tag, str) and local_name(el) == "Prestatie"]
        # As in the pipeline: the level-2 findings first (generated amounts rarely add up, TR358),
        # then class-level codes; either way the 325 is schema-valid and passes its own TR342.
        level2 = engine.run(engine.RuleContext(root=root, mtype=mtype, today=TODAY))
        issues = level2 + [
            Issue(rule="T", text="t", retourcode="9307", class_path=element_path(p)) for p in prestaties[::2]
        ]
        data = build_declaratie_antwoord(root, mtype, issues, identificatie="A1", today=TODAY)
        out = etree.fromstring(data)
        assert validate_tree(out, default_registry().schema(by_code(code[:-3] + "325"))) == []
        header_codes = [c.text for c in out.find("{*}Header/{*}RetourCodes")]
        assert header_codes == (["0001"] if level2 else ["0200"])
