"""The store implements the interface the validators define for stored state (validators.state),
and validators/ imports nothing of the store (issue 14, item 7)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from gateway.store import StateView, open_store, records
from validators import state as proto

REPO = Path(__file__).resolve().parents[2]

RECORDS = {
    proto.AllocationRecord: records.AllocationState,
    proto.StartRecord: records.StartState,
    proto.StopRecord: records.StopState,
    proto.RequestRecord: records.RequestState,
    proto.AnswerRecord: records.AnswerState,
    proto.PrestatieRecord: records.PrestatieState,
    proto.DeclarationRecord: records.DeclarationState,
}


def members(protocol: type) -> dict[str, object]:
    return {
        name: value
        for name, value in vars(protocol).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    }


def params(fn) -> list[tuple[str, object]]:  # noqa: ANN001
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("protocol", [proto.StateReader, proto.Prefetching], ids=lambda p: p.__name__)
def test_state_view_has_every_method_with_the_same_parameters(protocol):
    for name, fn in members(protocol).items():
        impl = getattr(StateView, name, None)
        assert callable(impl), f"StateView lacks {name}"
        assert params(impl) == params(fn), name


@pytest.mark.parametrize("protocol", list(RECORDS), ids=lambda p: p.__name__)
def test_store_records_carry_what_the_rules_read(protocol):
    record = RECORDS[protocol]
    for name, value in members(protocol).items():
        if isinstance(value, property):
            assert name in record.model_fields or isinstance(getattr(record, name, None), property), (
                f"{record.__name__} lacks {name}")
        else:
            assert params(getattr(record, name)) == params(value), name


def test_a_live_state_view_is_a_state_reader(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'gateway.db'}", client_key_secret="protocol-test")
    try:
        with store.transaction() as tx:
            assert isinstance(tx.state, proto.StateReader)
            assert tx.state.allocation("jeugd", "0363", "1001") is None
    finally:
        store.close()


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


@pytest.mark.parametrize("forbidden", ["gateway.store", "gateway.contracts"])
def test_validators_do_not_import(forbidden):
    offenders = [
        f"{path.relative_to(REPO)}: {name}"
        for path in sorted((REPO / "validators").rglob("*.py"))
        for name in sorted(_imports(path))
        if name == forbidden or name.startswith(forbidden + ".")
    ]
    assert offenders == []
