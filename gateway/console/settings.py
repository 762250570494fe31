"""Console settings (environment GATEWAY_CONSOLE_*), separate from the service's settings."""

from __future__ import annotations

import secrets

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_CONSOLE_", extra="ignore")

    session_secret: str = Field(
        default_factory=lambda: secrets.token_hex(32),
        description="Key that signs session cookies. Default: random per process (sessions end "
        "on restart); set it when several instances serve the console.",
    )
    session_ttl_seconds: int = Field(8 * 3600, description="How long a login lasts.")
    login_free_failures: int = Field(
        5, ge=1, description="Wrong passwords in a row for one user name before logins for it back off.")
    login_address_free_failures: int = Field(
        20, ge=1, description="Wrong passwords from one client address before logins from it back off.")
    login_backoff_base_seconds: float = Field(
        1.0, gt=0, description="First back-off; it doubles with every further wrong password.")
    login_backoff_max_seconds: float = Field(900.0, gt=0, description="Longest back-off.")
    cookie_secure: bool = Field(False, description="Send the session cookie over HTTPS only.")
    trusted_user_header: str | None = Field(
        None,
        description="Header set by an authenticating reverse proxy with the user name "
        "(e.g. X-Forwarded-User). Only set it when the console is reachable through that proxy only.",
    )
    trusted_role_header: str | None = Field(
        None, description="Header with the proxy user's role; without it proxy users are viewers."
    )
    proxy_default_role: str = Field("viewer", description="Role of proxy users without a role header.")
