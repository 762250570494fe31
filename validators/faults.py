"""Failures of the gateway itself, as opposed to findings about a message.

A fault never becomes an Issue: the sender's message was not judged, so it gets no verdict and no
retourbericht. The service answers 503 with Retry-After (nothing stored), the Kafka ingress leaves
the record to be read again, and `gateway validate` exits with status 2.
"""

from __future__ import annotations


class GatewayFault(RuntimeError):
    """The gateway could not judge the message; the message itself may be fine."""

    code = "gateway_fault"


class SchemaUnavailable(GatewayFault):
    """The schema of a detected message type is not loaded (or did not compile)."""

    code = "schema_unavailable"

    def __init__(self, message_code: str, reason: str) -> None:
        super().__init__(f"the schema for {message_code} is not available on this gateway ({reason})")
        self.message_code = message_code


class RuleFailed(GatewayFault):
    """A rule raised instead of giving findings (a defect in the gateway, not in the message)."""

    code = "rule_failed"

    def __init__(self, rule: str, message_code: str) -> None:
        super().__init__(f"rule {rule} could not be evaluated on a {message_code} (internal error)")
        self.rule = rule
        self.message_code = message_code
