"""The durable message store and the state of the cross-message rules.

    store = open_store(url, client_key_secret=secret)     # sqlite:///file.db or postgresql://...
    with store.transaction(lock_keys) as tx:               # one message = one transaction
        same = tx.find_same_message(sender, code, identificatie, sha256)   # idempotency
        issues += run(RuleContext(root, mtype, today, state=tx.state), levels=...)
        message_id = tx.save_message(raw=raw, mtype=mtype, root=root, verdict=..., issues=issues)
        tx.apply_state(mtype, root, accepted, rejected_prestatie_paths)
        tx.enqueue(outbox_rows)

`gateway.store.ingest.ingest()` is that transaction as one function (used by `gateway replay`
and the store tests; `gateway.pipeline` runs the same steps with the retour).

Decisions, in short:
- Schema: `tables.py`, one Alembic chain in `migrations/` run by `open_store` (serialised by an
  advisory lock on PostgreSQL). SQLite runs in WAL mode; writers start with BEGIN IMMEDIATE.
- Concurrency: PostgreSQL transactions take advisory locks on the caller's lock keys (sorted,
  so they cannot deadlock); unique indexes back every "only one" rule (TR056 identifiers,
  TR332 number owner, TR074 active start/stop key, TR326 one actual start, TR333, TR314, TR347).
  A violation raises ConflictError and nothing of the message is stored; process it again.
- Privacy: no BSN in clear outside `messages.raw`. `client_key` = HMAC-SHA256(secret, BSN);
  `bsn_masked` shows the last three digits ("******782").
- Idempotency: same sender, type, Identificatie and bytes -> the stored record (and retour) is
  returned. Transport rejections and replays do not count as deliveries. Every other stored
  message claims its Identificatie (rejected ones too: VECOZO BRS20), except a TR056 duplicate.
- State is recorded only for accepted messages (a 323 partially: rejected prestaties are kept as
  "rejected" so their ReferentieNummer stays used, TR314). A gemeente's 325 marks the prestaties
  it echoes as rejected.
- Streams: the outbox is the stream; rows with destination "stream" for a party are read by
  `read_stream(party, after)` on the index (party, destination, id); `ack_stream` keeps the
  offset per party. Other destinations are claimed by the publisher with a lease.
- Replay (`gateway replay`): see gateway/cli/replay.py.
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
