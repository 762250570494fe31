"""schemathesis against our own OpenAPI document (/openapi.json).

Every documented operation is called with generated parameters and bodies, valid ones and
deliberately invalid ones (positive and negative generation), with a valid API key:
- no answer, anywhere, is a server error or carries a stack trace; JSON errors have our shape;
- the sender API (/v1/...) answers what the document promises: documented status codes, content
  types and response schemas.

(schemathesis' pytest loader `from_fixture` does not work with pytest 9 yet, so each operation's
strategy is driven by hypothesis directly. The SSE stream is left out: a valid call never ends.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import fuzz_settings

ENDLESS = {"GET /v1/streams/{party_id}/sse"}
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


@pytest.fixture(scope="module")
def operations(api):
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    ops = {op.label: op for op in (result.ok() for result in schema.get_all_operations())}
    assert {"POST /v1/messages", "POST /v1/batches"} <= set(ops), "the OpenAPI document lost operations"
    return ops


def assert_our_shape(response) -> None:  # noqa: ANN001
    text = response.text
    assert "Traceback" not in text and 'File "/' not in text, f"stack trace: {text[:300]}"
    if response.status_code >= 400 and "json" in (response.headers.get("content-type") or [""])[0]:
        err = response.json().get("error")
        assert isinstance(err, dict) and err.get("code") and err.get("message"), text[:300]


def fuzz_operation(op, key: str, mode: GenerationMode, examples: int, checks: list) -> list[str]:
    """Run one operation; the (shrunk) failure, if any, as text."""
    failures: list[str] = []

    @given(case=op.as_strategy(generation_mode=mode))
    @fuzz_settings(examples)
    def check(case):
        try:
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            case.validate_response(response, checks=checks)
            assert_our_shape(response)
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{op.label} [{mode.value}]: {str(exc)[:800]}")
            raise

    try:
        check()
    except (Exception, BaseExceptionGroup):
        pass
    return failures[-1:]


@pytest.mark.parametrize("mode", MODES, ids=["positive", "negative"])
def test_no_operation_answers_a_server_error_or_a_trace(operations, api, mode):
    failures: list[str] = []
    for label, op in sorted(operations.items()):
        if label not in ENDLESS:
            failures += fuzz_operation(op, api.gemeente_key, mode, 10, [not_a_server_error])
    assert not failures, "\n\n".join(failures)


DOCUMENTED_API = [
    "POST /v1/messages",
    "POST /v1/batches",
    "GET /v1/messages/{message_id}",
    "GET /v1/messages/{message_id}/retour",
    "GET /v1/streams/{party_id}",
    "POST /v1/streams/{party_id}/ack",
    "GET /metrics",
    "GET /healthz",
    "GET /console/api/messages",
]
# Gaps in the document this test finds: (operation, mode) -> reason, marked xfail. Empty since
# the service documents 400 and 401 (commit 7276a2b); add an entry rather than weaken the check.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def _conformance_params():
    for label in DOCUMENTED_API:
        for mode in MODES:
            gap = KNOWN_GAPS.get((label, mode.value))
            marks = [pytest.mark.xfail(reason=gap, strict=False)] if gap else []
            yield pytest.param(label, mode, id=f"{label}-{mode.value}", marks=marks)


@pytest.mark.parametrize(("label", "mode"), list(_conformance_params()))
def test_sender_api_answers_as_documented(operations, api, label, mode):
    # POST /v1/messages takes any string by the document; whether it is a 3.2 message is the
    # gateway's business (422 + issues), so "schema-valid data accepted" is not checked.
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    failures = fuzz_operation(operations[label], api.aanbieder_key, mode, 10, checks)
    assert not failures, "\n\n".join(failures)
