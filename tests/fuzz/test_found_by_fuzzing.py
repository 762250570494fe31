"""Cases the fuzzers found, kept as plain regression tests (each names where the fault lies)."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from gateway import samples


def test_same_identificatie_twice_with_level2_errors_is_answered_not_a_500(api):
    """Two different 301s with one Identificatie, both failing a level-2 rule (CS003): level 2
    skips TR056, so gateway/store/store.py Transaction.save_message registers the identifier for
    the second one too, hits the unique constraint and raises ConflictError, which the pipeline
    retries three times and lets through as a 500. The sender must get an answer (the second one
    rejected, like any reused Identificatie) instead."""

    def broken(n: int) -> bytes:  # Einddatum before Ingangsdatum: CS003 (level 2)
        return samples.allocation("ijw", identificatie="FUZZSAMEID01", bsn=samples.BSNS[8200 + n],
                                  products=(samples.Allocated(toewijzingnummer=890_000 + n,
                                                              ingangsdatum=date(2026, 5, 1),
                                                              einddatum=date(2026, 4, 1)),))

    with TestClient(api.app, raise_server_exceptions=False) as client:
        answers = [client.post("/v1/messages", content=broken(n),
                               headers={"Authorization": f"Bearer {api.gemeente_key}"}) for n in (1, 2)]
    assert answers[0].status_code == 202 and answers[0].json()["verdict"] == "rejected"
    assert answers[1].status_code == 202, answers[1].text
    assert answers[1].json()["verdict"] == "rejected"
