"""Sender identity: API keys, client certificates, and which party may send which message type."""
