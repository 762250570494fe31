"""Keep accepted bundles in the store (`contract_bundles`) and audit each change (`audit_log`).

Uses the store's API (`gateway.store.Store`: add_contract_bundle, contract_bundle,
list_contract_bundles, audit). A (region, version) once stored is immutable: a changed bundle
needs a new version, so the audit trail always says which text was in force.
"""

from __future__ import annotations

from typing import Any

from gateway.contracts.loader import LoadedBundle


def stored_text(store: Any, region: str, version: str) -> str | None:
    record = store.contract_bundle(region, version)
    return record.yaml_text if record is not None else None


def save_bundle(store: Any, loaded: LoadedBundle) -> None:
    """Store the bundle text, then an audit record naming actor, region, version and digest."""
    b = loaded.bundle
    store.add_contract_bundle(
        region=b.region,
        version=b.version,
        effective_from=b.valid_from,
        yaml_text=loaded.text,
        loaded_by=loaded.actor[:64],
    )
    # The bundle holds no BSN (exceptions carry a salted hash); the digest identifies the text.
    store.audit(
        loaded.actor[:64],
        "contract_bundle.load",
        target=f"{b.region}@{b.version}",
        details={
            "region": b.region,
            "version": b.version,
            "valid_from": b.valid_from.isoformat(),
            "sha256": loaded.sha256,
            "source": loaded.source,
            "example": b.example,
        },
    )


def stored_bundles(store: Any) -> list[tuple[str, str, str]]:
    """(region, version, yaml_text) of every stored bundle, per region oldest first."""
    return [(r.region, r.version, r.yaml_text) for r in store.list_contract_bundles()]
