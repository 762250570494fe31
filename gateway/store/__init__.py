"""The durable message store and the state of the cross-message rules.

    store = open_store("sqlite:///var/gateway.db", client_key_secret=secret)
    with store.transaction(lock_keys) as tx:
        same = tx.find_same_message(sender, code, identificatie, sha256)
        issues = run(RuleContext(root, mtype, today, state=tx.state), levels=...)
        message_id = tx.save_message(raw=raw, mtype=mtype, root=root, verdict=..., issues=issues)
        tx.apply_state(mtype, root, accepted, rejected_prestatie_paths)
        tx.enqueue(outbox_rows)
"""

from gateway.store.clientkey import client_key, mask_bsn
from gateway.store.records import (
    AllocationState,
    ApiKeyRecord,
    AuditRecord,
    ClientCertRecord,
    ContractBundleRecord,
    MessageFilter,
    MessagePage,
    MessageRecord,
    OutboxRecord,
    OutboxRow,
    PartyRecord,
    StreamItem,
    UserRecord,
)
from gateway.store.state import StateView
from gateway.store.store import STREAM, ConflictError, Store, Transaction, open_store

__all__ = [
    "STREAM",
    "AllocationState",
    "ApiKeyRecord",
    "AuditRecord",
    "ClientCertRecord",
    "ConflictError",
    "ContractBundleRecord",
    "MessageFilter",
    "MessagePage",
    "MessageRecord",
    "OutboxRecord",
    "OutboxRow",
    "PartyRecord",
    "StateView",
    "Store",
    "StreamItem",
    "Transaction",
    "UserRecord",
    "client_key",
    "mask_bsn",
    "open_store",
]
