"""Gateway settings: environment variables prefixed GATEWAY_ and an optional YAML settings file.

Precedence (highest first): explicit arguments, environment (GATEWAY_*), the settings file
(GATEWAY_SETTINGS_FILE or `gateway serve --settings FILE`), the defaults below. The defaults are the
embedded setup: SQLite in ./var, the demo contract bundle, no broker, 127.0.0.1:8080.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PayloadFormat = Literal["xml", "json"]


class Settings(BaseSettings):
    """Every knob of `gateway serve`. Field descriptions are printed by `gateway serve --help`."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    # Where the service listens.
    host: str = Field("127.0.0.1", description="Address to listen on (loopback by default).")
    port: int = Field(8080, description="TCP port to listen on.")
    data_dir: Path = Field(Path("var"), description="Directory for the SQLite store and local secrets.")
    store_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the store; default sqlite:///<data_dir>/gateway.db. "
        "Use postgresql+psycopg://... for several instances.",
    )
    contracts: str | None = Field(
        None, description="Directory of contract bundles; default: "
        "the example bundles shipped with the package (Midden-Holland is the demo)."
    )
    schemas: str | None = Field(None, description="Directory of XSDs; default: the package's schemas.")
    settings_file: Path | None = Field(None, description="YAML file with any of these settings.")

    # Identity and privacy.
    hmac_secret: str | None = Field(
        None,
        description="Secret for keyed hashes of BSNs (client keys, partition keys). "
        "Default: a random secret kept in <data_dir>/hmac.secret. "
        "Set it when several instances share a store.",
    )
    admin_token: str | None = Field(
        None, description="Token for POST /v1/admin/contracts (X-Admin-Token); unset: endpoint off."
    )
    tls_certfile: str | None = Field(None, description="Server certificate (PEM) to serve HTTPS.")
    tls_keyfile: str | None = Field(None, description="Private key (PEM) of the server certificate.")
    tls_client_ca: str | None = Field(
        None, description="CA bundle for client certificates (mutual TLS); enables cert identity."
    )
    tls_client_cert_required: bool = Field(
        False, description="Refuse TLS connections without a client certificate."
    )
    soap_address: str | None = Field(
        None, description="The address the SOAP service OntvangAsynchroon names in its WSDL (behind a "
        "proxy or the Digikoppeling adapter's view of it); unset: the address the WSDL was asked on."
    )

    # Intake.
    max_in_flight: int = Field(
        64, description="Messages processed at the same time; beyond it the API answers 503."
    )
    max_in_flight_bytes: int = Field(
        64 * 1024 * 1024, gt=0, description="Bytes of the messages judged at the same time: judging takes "
        "10 to 25 times a message's size in memory, so this bounds the gateway's memory when every "
        "provider sends its declarations at once. A message that does not fit waits, in arrival "
        "order; one larger than the budget is judged on its own."
    )
    in_flight_wait_seconds: float = Field(
        30.0, gt=0, description="How long a message waits for room in max_in_flight_bytes before "
        "the answer is 503 with Retry-After (nothing stored)."
    )
    retry_after_seconds: int = Field(2, description="Retry-After sent with 429/503 answers.")
    deadline_scan_seconds: float = Field(
        60.0, ge=0, description="How often the service brings the deadline obligations up to date (and "
        "puts overdue events on the parties' streams) without anyone asking; 0: only when read.")
    max_message_bytes: int = Field(25 * 1024 * 1024, description="Largest single message (bytes).")
    max_zip_bytes: int = Field(25 * 1024 * 1024, description="Largest zip batch (compressed bytes).")
    max_zip_entries: int = Field(30, description="Most messages in one zip batch.")
    max_zip_uncompressed_bytes: int = Field(
        100 * 1024 * 1024, description="Most uncompressed bytes in one zip batch (zip bomb guard)."
    )
    max_zip_ratio: int = Field(200, description="Highest compression ratio of a zip entry.")
    party_cache_seconds: float = Field(
        5.0, description="How long the party a trusted channel's message names (replay, inbound "
        "Kafka) is remembered; a revocation takes effect within it. 0: look it up every time."
    )

    # Throughput.
    workers: int = Field(
        1, description="Server processes (uvicorn workers) sharing the port; use PostgreSQL for "
        "more than one. Each process has its own group committer."
    )
    otel: bool = Field(
        False, description="FastAPI's own OpenTelemetry spans, metrics and logs per request, when an "
        "OpenTelemetry provider is configured in the process. Off: the gateway's /metrics and JSON "
        "logs cover each request, and the check whether a provider exists costs on every request."
    )
    gc_threshold: int = Field(
        7000, ge=1, description="`gateway serve`: the cyclic garbage collector's first threshold (a "
        "young-generation collection after this many container objects allocated and not freed; "
        "Python's own is 700). Ten times fewer collections: up to about 5% less server CPU per message; "
        "the peak memory of a month-end burst and of hostile input stayed the same (measured)."
    )
    pipeline_threads: int = Field(
        32, description="Threads per process that run the pipeline; messages beyond them wait, up "
        "to max_in_flight. Their work holds the GIL, but the more of them wait for a store commit at "
        "once, the larger the groups that share it (group commit)."
    )
    pipeline_cpu: str = Field(
        "off", description="The CPU the threads running the pipeline (and the HTTP event loop) are "
        "kept on: 'off', 'auto' (the last CPU the process may use) or a CPU's number. Their work "
        "holds the GIL, so they take turns anyway; on one CPU a short C call's release of the GIL "
        "is no hand-off to another core (measured on 2 cores, 8 senders: 12 -> 2.5 thread switches "
        "per message, 15-40 % less CPU per message). For one process per machine; with several "
        "workers give each its own CPU or leave it off (gateway.affinity)."
    )
    group_commit_max: int = Field(
        64, description="Most messages sharing one store transaction (group commit); 1 turns it off."
    )
    group_commit_leaders: int = Field(
        2, description="PostgreSQL: groups committed at the same time per process (SQLite: 1)."
    )

    # Routing.
    route_flagged: bool = Field(True, description="Route messages flagged by contract rules.")
    route_review: bool = Field(False, description="Route messages sent to manual review.")
    payload_formats: list[PayloadFormat] = Field(
        default_factory=lambda: ["xml"],
        description='Kafka payload formats: ["xml"], ["json"] or both (one topic each).',
    )
    kafka_bootstrap: str | None = Field(
        None, description="Kafka bootstrap servers; empty: no broker (streams only)."
    )
    kafka_topic_prefix: str = Field("gw", description="First part of every topic name.")
    kafka_idempotent: bool = Field(
        False, description="Use the idempotent producer (off for brokers without it, e.g. tansu)."
    )
    kafka_create_topics: bool = Field(
        True, description="Create topics before their first record (no reliance on auto-creation)."
    )
    kafka_request_timeout_ms: int = Field(
        5000, description="Producer request timeout; a record not acknowledged by then is retried."
    )
    kafka_partitions: int = Field(6, description="Partitions of topics the gateway creates.")
    kafka_replication: int = Field(1, description="Replication factor of topics the gateway creates.")
    kafka_inbound_topic: str | None = Field(
        None, description="Topic to consume incoming messages from (same pipeline)."
    )
    kafka_inbound_group: str = Field("gateway", description="Consumer group of the inbound topic.")
    outbox_batch: int = Field(100, description="Outbox rows published per round.")
    outbox_poll_seconds: float = Field(0.5, description="Pause of the publisher when idle.")
    outbox_lease_seconds: float = Field(
        5.0, description="How long a claimed outbox row is reserved; unsent rows retry after it."
    )

    # StUF-GGk envelopes out (docs/ggk.md): delivery to parties' SOAP endpoints.
    ggk_soap_delivery: bool = Field(
        True, description="Deliver envelopes (Di01, Du01, Fo01) to the SOAP endpoint of parties that "
        "have one (gateway party chain); off: they wait in the outbox until it is switched on."
    )
    ggk_soap_timeout_seconds: float = Field(
        10.0, gt=0, description="How long one SOAP delivery (and loading the peer's WSDL) may take."
    )
    ggk_soap_retry_seconds: float = Field(
        1.0, gt=0, description="First wait after a failed SOAP delivery; doubles with every failure."
    )
    ggk_soap_retry_max_seconds: float = Field(
        300.0, gt=0, description="Longest wait between two tries of one SOAP delivery (retried until Bv03)."
    )

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if self.store_url is None:
            self.store_url = f"sqlite:///{(self.data_dir / 'gateway.db').resolve()}"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = os.environ.get("GATEWAY_SETTINGS_FILE")
        if path:
            from pydantic_settings import YamlConfigSettingsSource

            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)

    def secret(self) -> bytes:
        """The HMAC secret: the setting, or a random one created once in the data dir."""
        if self.hmac_secret:
            return self.hmac_secret.encode()
        path = self.data_dir / "hmac.secret"
        if not path.exists():
            if self.store_url and not self.store_url.startswith("sqlite"):
                import logging

                # Each instance would make its own secret: client keys and partition keys would
                # then differ between instances sharing this store.
                logging.getLogger("gateway.settings").warning(
                    "GATEWAY_HMAC_SECRET is not set for a shared store: using a local random secret"
                )
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        return path.read_text().strip().encode()


def load_settings(settings_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, an optional YAML file and explicit overrides."""
    if settings_file:
        previous = os.environ.get("GATEWAY_SETTINGS_FILE")
        os.environ["GATEWAY_SETTINGS_FILE"] = str(settings_file)
        try:
            return Settings(**overrides)
        finally:
            if previous is None:
                os.environ.pop("GATEWAY_SETTINGS_FILE", None)
            else:
                os.environ["GATEWAY_SETTINGS_FILE"] = previous
    return Settings(**overrides)


def describe() -> str:
    """One line per setting (env var, default, meaning) for `gateway serve --help`."""
    lines = []
    for name, field in Settings.model_fields.items():
        default = field.default if field.default_factory is None else field.default_factory()
        lines.append(f"  GATEWAY_{name.upper():<28} {field.description} [default: {default}]")
    return "\n".join(lines)
