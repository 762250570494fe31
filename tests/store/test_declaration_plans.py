"""A gemeente's 325 and the declaration view find a declaration's prestaties through an index, not
by scanning every prestatie of the region: by declaration id through ix_prestaties_declaration
(revision 0021), a 325's rejected prestaties through the unique (law, aanbieder, referentienummer)."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select

from gateway.store import apply
from gateway.store import tables as t
from tests.store.plans import query_plan

_p = t.prestaties
_BY_DECLARATION = "ix_prestaties_declaration"

_QUERIES = {  # what -> (statement, the index it must use; None: any, as long as it is no scan)
    "a whole declaration's prestaties (325 without clients)": (apply._DECLARATION_PRESTATIES.stmt, _BY_DECLARATION),
    "a whole declaration rejected": (apply._DECLARATION_REJECTED.stmt, _BY_DECLARATION),
    "one rejected prestatie of a 325": (apply._PRESTATIE_REJECTED.stmt, None),
    "the API's declaration view (outcomes.declaration)":
        (select(_p).where(_p.c.declaration_id == bindparam("d")).order_by(_p.c.id), _BY_DECLARATION),
}
_VALUES = {"p_decl": 1, "d": 1, "p_ref": "r", "p_law": "jw", "p_aanbieder": "12345678", "p_codes": None, "p_by": "m"}


@pytest.mark.parametrize("what", list(_QUERIES))
def test_a_declarations_prestaties_are_found_by_index(store, what):
    stmt, index = _QUERIES[what]
    plan = query_plan(store, stmt, _VALUES)
    assert ("SCAN prestaties" not in plan) if store.dialect == "sqlite" else ("Seq Scan" not in plan), plan
    if index is not None:
        assert index in plan, plan
