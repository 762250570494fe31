"""Ingress: how messages enter the pipeline (HTTP single message, zip batch, Kafka topic)."""
