"""The HTTP service: `create_app(settings)` builds the FastAPI app (`gateway serve` runs it)."""

from gateway.service.app import create_app

__all__ = ["create_app"]
