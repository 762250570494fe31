"""Who is calling: an API key (Authorization: Bearer / X-API-Key) or a verified client certificate.

Both map to a known, unrevoked party in the store. The certificate is verified by the TLS layer
(uvicorn with GATEWAY_TLS_CLIENT_CA); we only map its SHA-256 fingerprint to a party.
"""

from __future__ import annotations

from typing import Any

from gateway.auth.keys import from_headers, key_hash, key_id_of
from gateway.auth.policy import Party, Refused


def party_for_key(store: Any, key: str, lookup: Any = None) -> Party:
    """The party of a presented API key; Refused(401) for an unknown or revoked key or party.
    `lookup`: a gateway.auth.batched.BatchedKeyLookup to share the usual case's query with the
    keys of concurrent requests."""
    digest = key_hash(key)
    if lookup is not None:
        found_live = lookup.party(digest)
        if found_live is not None:
            return found_live
    else:
        live = getattr(store, "find_key_party", None)
        party = live(digest) if live is not None else None
        if party is not None:  # the usual case: a live key of a live party, one query
            return Party(party.party_id, party.role, party.name)
    found = store.find_api_key(digest)
    if found is None:
        revoked = _revoked_key_id(store, digest)
        if revoked:
            raise Refused(401, f"API key {revoked} has been revoked", "revoked_key")
        raise Refused(401, "unknown API key", "unknown_key")
    if found.revoked_at is not None:
        raise Refused(401, f"API key {found.key_id} has been revoked", "revoked_key")
    return _active_party(store, found.party_id)


def _revoked_key_id(store: Any, digest: str) -> str | None:
    """The id of a revoked key (or a key of a revoked party) with this hash, to say so clearly.
    The store's find_api_key only returns live keys; this reads its table (read-only)."""
    from sqlalchemy import select

    from gateway.store import tables as t

    with store.engine.connect() as conn:
        return conn.execute(
            select(t.api_keys.c.key_id).where(t.api_keys.c.key_hash == digest)
        ).scalar()


def party_for_cert(store: Any, fingerprint: str) -> Party:
    found = store.find_client_cert(fingerprint)
    if found is None:
        raise Refused(401, "client certificate is not registered to a party", "unknown_cert")
    if found.revoked_at is not None:
        raise Refused(401, "client certificate has been revoked", "revoked_cert")
    return _active_party(store, found.party_id)


def _active_party(store: Any, party_id: str) -> Party:
    party = store.get_party(party_id)
    if party is None:
        raise Refused(401, f"party {party_id} is unknown", "unknown_party")
    if party.revoked_at is not None:
        raise Refused(401, f"party {party_id} has been revoked", "revoked_party")
    return Party(party.party_id, party.role, party.name)


def authenticate(
    store: Any,
    *,
    authorization: str | None,
    x_api_key: str | None,
    cert_fingerprint: str | None,
    lookup: Any = None,
) -> Party:
    """The calling party; a key takes precedence over a certificate. Refused(401) otherwise.
    `lookup`: see party_for_key."""
    key = from_headers(authorization, x_api_key)
    if key:
        return party_for_key(store, key, lookup)
    if cert_fingerprint:
        return party_for_cert(store, cert_fingerprint)
    raise Refused(
        401,
        "authentication required: send an API key (Authorization: Bearer <key> or X-API-Key) "
        "or connect with a registered client certificate",
        "unauthenticated",
    )


def describe_key(key: str | None) -> str | None:
    """A log-safe name of a presented key (its id, never the secret)."""
    if not key:
        return None
    return key_id_of(key) or "malformed"
