"""Routing: where a stored message goes (Kafka topics, party streams) and the outbox publisher."""
