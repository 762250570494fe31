"""gateway.contracts implements the interface the contract rules define (validators.contract_view)."""

from __future__ import annotations

import inspect
from datetime import date

import pytest

from gateway.contracts import ContractRegistry
from gateway.contracts.index import BundleIndex
from gateway.contracts.models import Product, TransitionMapping
from validators import contract_view as view

from tests.contracts.conftest import GOUDA


def members(protocol: type) -> dict[str, object]:
    return {
        name: value
        for name, value in vars(protocol).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    }


def params(fn) -> list[tuple[str, object, object]]:  # noqa: ANN001
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize(
    ("protocol", "impl"),
    [(view.ContractIndex, BundleIndex), (view.ContractLookup, ContractRegistry)],
    ids=["index", "lookup"],
)
def test_methods_match(protocol, impl):
    for name, fn in members(protocol).items():
        assert callable(getattr(impl, name, None)), f"{impl.__name__} lacks {name}"
        assert params(getattr(impl, name)) == params(fn), name


@pytest.mark.parametrize(
    ("protocol", "model"), [(view.ContractProduct, Product), (view.ContractTransition, TransitionMapping)]
)
def test_models_carry_what_the_rules_read(protocol, model):
    for name in members(protocol):
        assert name in model.model_fields, f"{model.__name__} lacks {name}"


def test_the_registry_answers_through_the_interface(registry):
    assert isinstance(registry, view.ContractLookup)
    idx = registry.lookup(GOUDA, date(2025, 3, 1))
    assert idx is not None and idx.bundle.region and idx.lots
    product = idx.product("45", "45A01", "jeugd")
    assert product is not None and product.units
