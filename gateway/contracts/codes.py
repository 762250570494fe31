"""Our contract rule codes and the action each takes when a bundle does not choose one.

The rules themselves live in validators/rulesets/contract_*.py; this table is here so that the
bundle model can name them without importing the validators.
"""

from __future__ import annotations

RULE_CODES: tuple[str, ...] = (
    "CR001",  # product per contract (or exception contract)
    "CR002",  # no-show never declared
    "CR003",  # declared tariff, unit and amount equal the contract
    "CR004",  # budget ceiling per provider and year
    "CR005",  # lump-sum / task-funded products never declared per client
    "CR006",  # access: referrer and request route allowed per law
    "CR007",  # transition: old product codes until the cut-off date
    "CR008",  # cliëntenstop: no new allocations to the provider
)

DEFAULT_ACTIONS: dict[str, str] = {
    "CR001": "reject",
    "CR002": "reject",
    "CR003": "reject",
    "CR004": "reject",
    "CR005": "reject",
    "CR006": "reject",
    "CR007": "reject",
    "CR008": "reject",
}
