"""The cross-message rules never raise on incomplete input: every sample message with any one
element removed (or emptied) is judged against a populated store without an exception."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from gateway import clock, samples
from gateway.catalog import by_namespace
from gateway.store import open_store
from tests.store.conftest import SECRET, send
from validators import engine
from validators.paths import local_name

HEEN = [
    samples.allocation(),
    samples.start(),
    samples.stop(),
    samples.request(),
    samples.change_request(),
    samples.answer(),
    samples.declaration(),
]


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('robust') / 'gw.db'}", client_key_secret=SECRET)
    for raw in (samples.allocation(), samples.start(), samples.request(), samples.declaration()):
        send(store, raw)
    send(store, samples.declaration_answer(samples.declaration()))
    yield store
    store.close()


def _variants(raw: bytes):
    root = etree.fromstring(raw)
    for i, el in enumerate(root.iter()):
        if i == 0 or not isinstance(el.tag, str):
            continue
        for how in ("drop", "empty", "garbage"):
            tree = copy.deepcopy(root)
            target = list(tree.iter())[i]
            if how == "drop":
                target.getparent().remove(target)
            elif how == "empty":
                target.text = ""
            else:
                target.text = "x" * 40
            yield f"{local_name(el)}:{how}", tree


@pytest.mark.parametrize("raw", HEEN + [samples.declaration_answer(samples.declaration())],
                         ids=lambda r: by_namespace(etree.QName(etree.fromstring(r)).namespace).code)
def test_no_rule_raises_on_damaged_messages(populated, raw):
    mtype = by_namespace(etree.QName(etree.fromstring(raw)).namespace)
    rules = engine.rules_for(mtype, ("crossmessage", "external"))
    assert rules
    for name, tree in _variants(raw):
        with populated.transaction() as tx:
            ctx = engine.RuleContext(tree, mtype, clock.today(), state=tx.state)
            for r in rules:
                try:
                    list(r.check(r, ctx))
                except Exception as exc:  # pragma: no cover - the failure message names the case
                    pytest.fail(f"{r.code} raised on {mtype.code} with {name}: {exc!r}")
