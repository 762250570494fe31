"""What the console needs from the app: the store, its settings, the replay entry point.

The service mounts `gateway.console.router`; the console then finds the store at
`app.state.components.store` (the pipeline's components) or `app.state.store`, and the pipeline
at `app.state.pipeline`. `setup(app, store=...)` sets all of it explicitly (tests, other hosts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request

from gateway.console.actions import Replayer, find_replayer
from gateway.console.settings import ConsoleSettings
from gateway.console.throttle import LoginThrottle, Policy


@dataclass
class ConsoleContext:
    store: Any  # gateway.store.Store
    settings: ConsoleSettings = field(default_factory=ConsoleSettings)
    replayer: Replayer | None = None
    pipeline: Any = None
    # Budget ceilings for the dashboard: {aanbieder: eurocent}, or callable(year) -> that.
    budgets: Any = None
    contracts: Any = None  # gateway.contracts registry, for budget ceilings and replay
    components: Any = None  # gateway.pipeline.Components, when the service runs the console
    login_throttle: LoginThrottle = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.login_throttle = LoginThrottle(Policy(
            free_failures=s.login_free_failures, address_free_failures=s.login_address_free_failures,
            base_seconds=s.login_backoff_base_seconds, max_seconds=s.login_backoff_max_seconds))

    @property
    def engine(self) -> Any:
        return self.store.engine

    @property
    def secret(self) -> bytes:
        return self.settings.session_secret.encode()

    def replay_entry(self) -> Replayer | None:
        return find_replayer(self.replayer, self.pipeline, self.store, self.components)

    def ceilings(self, year: int) -> dict[str, int] | None:
        if callable(self.budgets):
            return self.budgets(year)
        if self.budgets is not None:
            return self.budgets
        from gateway.console.budgets import ceilings_from_contracts

        return ceilings_from_contracts(self.contracts, year)


def setup(
    app: Any,
    *,
    store: Any,
    settings: ConsoleSettings | None = None,
    replayer: Replayer | None = None,
    pipeline: Any = None,
    budgets: Any = None,
    contracts: Any = None,
    components: Any = None,
) -> ConsoleContext:
    components = components if components is not None else getattr(app.state, "components", None)
    ctx = ConsoleContext(
        store=store, settings=settings or ConsoleSettings(), replayer=replayer,
        pipeline=pipeline if pipeline is not None else getattr(app.state, "pipeline", None),
        budgets=budgets,
        contracts=contracts if contracts is not None else getattr(components, "contracts", None),
        components=components,
    )
    app.state.console = ctx
    return ctx


def context(request: Request) -> ConsoleContext:
    state = request.app.state
    ctx = getattr(state, "console", None)
    if ctx is not None:
        return ctx
    components = getattr(state, "components", None)
    store = getattr(components, "store", None) or getattr(state, "store", None)
    if store is None:
        raise HTTPException(503, "the console has no store configured")
    ctx = ConsoleContext(
        store=store, pipeline=getattr(state, "pipeline", None),
        contracts=getattr(components, "contracts", None), components=components,
    )
    state.console = ctx
    return ctx
