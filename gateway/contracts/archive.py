"""Keep accepted bundles in the store (`contract_bundles`) and audit each change (`audit_log`).

The registry works without a store; with one, a restart can reload exactly the bundles that were
accepted, and the audit trail says who changed which region's contracts when.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select

from gateway.contracts.loader import LoadedBundle


def _engine(store: Any):
    """The SQLAlchemy engine of a store object (or an engine passed directly)."""
    return getattr(store, "engine", store)


def save_bundle(store: Any, loaded: LoadedBundle, *, replaced: bool) -> None:
    """Store the bundle text and an audit record in one transaction."""
    from gateway.store.tables import audit_log, contract_bundles

    b = loaded.bundle
    now = datetime.now(UTC)
    with _engine(store).begin() as conn:
        conn.execute(
            delete(contract_bundles).where(
                contract_bundles.c.region == b.region, contract_bundles.c.version == b.version
            )
        )
        conn.execute(
            insert(contract_bundles).values(
                region=b.region,
                version=b.version,
                effective_from=b.valid_from,
                yaml_text=loaded.text,
                loaded_at=now,
                loaded_by=loaded.actor[:64],
            )
        )
        conn.execute(
            insert(audit_log).values(
                at=now,
                actor=loaded.actor[:64],
                action="contract_bundle.replace" if replaced else "contract_bundle.load",
                target=f"{b.region}@{b.version}"[:255],
                reason=None,
                # The bundle holds no BSN (exceptions carry a salted hash); the digest identifies the text.
                details={
                    "region": b.region,
                    "version": b.version,
                    "valid_from": b.valid_from.isoformat(),
                    "sha256": loaded.sha256,
                    "source": loaded.source,
                },
            )
        )


def stored_bundles(store: Any) -> list[tuple[str, str, str]]:
    """(region, version, yaml_text) of every stored bundle, oldest first."""
    from gateway.store.tables import contract_bundles

    with _engine(store).connect() as conn:
        rows = conn.execute(
            select(contract_bundles.c.region, contract_bundles.c.version, contract_bundles.c.yaml_text).order_by(
                contract_bundles.c.region, contract_bundles.c.effective_from
            )
        ).all()
    return [(r.region, r.version, r.yaml_text) for r in rows]
