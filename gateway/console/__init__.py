"""The operator console at /console: message log, message detail, actions, dashboards.

The service mounts it with::

    from gateway import console
    console.setup(app, engine=store_engine, replayer=pipeline_replay)   # optional, see context.py
    app.include_router(console.router)
"""

from __future__ import annotations

from fastapi import APIRouter

from gateway.console import api, deadlines, pages
from gateway.console.context import ConsoleContext, setup
from gateway.console.settings import ConsoleSettings

router = APIRouter(prefix="/console", tags=["console"])
router.include_router(pages.router)
router.include_router(api.router)
router.include_router(deadlines.router)

__all__ = ["router", "setup", "ConsoleContext", "ConsoleSettings"]
