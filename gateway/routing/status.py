"""A message's routing state in words a receiver and an operator share.

    not_routed       nothing is handed on (a rejection, a review verdict, a transport rejection)
    outbox_written   stored with its outbox rows; a Kafka topic has not received it yet
    published        on every Kafka topic, and readable on the receiver's stream
    consumed         and the receiver acknowledged it on its stream
    dead_letter      publishing gave up; an operator must act
    delivery_failed  a SOAP endpoint refused one of its envelopes for good (Fo03: the Di01, or the
                     Du01/Fo01 answering it): that delivery alone is a dead letter, its other rows
                     (stream, Kafka) go on; an operator must act (the row's last_error says why)

Only the rows addressed to the receiver count: the retour's rows go back to the sender. A refused
SOAP delivery counts whoever it was for: the message's envelope exchange is broken either way.
"""

from __future__ import annotations

from typing import Literal

from gateway.routing.plan import STREAM

RoutingState = Literal["not_routed", "outbox_written", "published", "consumed", "dead_letter",
                       "delivery_failed"]


def routing_state(stored: str, receiver: str | None,
                  deliveries: list[tuple[str, str | None, bool]]) -> RoutingState:
    """`stored`: the messages table's routing_state; `deliveries`: Store.deliveries(message id)."""
    if stored == "dead_letter":
        return "dead_letter"
    if stored == "delivery_failed":  # written by gateway.store.ggk.refused
        return "delivery_failed"
    own = [(d, done) for d, party, done in deliveries if party == receiver]
    if not own:
        return "not_routed"
    if not all(done for d, done in own if d != STREAM):
        return "outbox_written"
    streams = [done for d, done in own if d == STREAM]
    return "consumed" if streams and all(streams) else "published"


def routing_state_at_answer(routed: bool, kafka: bool) -> RoutingState:
    """The state when the POST is answered: the outbox rows are written in the message's
    transaction; a Kafka row is published only afterwards, a stream row is readable at once."""
    if not routed:
        return "not_routed"
    return "outbox_written" if kafka else "published"
