"""Pseudonymous client keys for exception contracts: a bundle never holds a BSN in clear.

`client_hash` is SHA-256 over the bundle's salt and the BSN. This is pseudonymisation, not
anonymisation: with the salt, the 10^9 possible BSNs can be tried, so a bundle stays confidential
(see docs/contracts.md). It keeps BSNs out of YAML files, diffs, logs and the audit trail.
"""

from __future__ import annotations

import hashlib


def client_hash(bsn: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{bsn.strip()}".encode()).hexdigest()
