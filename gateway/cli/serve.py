"""`gateway serve`: run the HTTP service (embedded default: SQLite in ./var, the demo contract
bundles, no broker, 127.0.0.1:8080)."""

from __future__ import annotations

import argparse
import os
import ssl

from gateway.settings import describe, load_settings

OVERRIDES = ("host", "port", "data_dir", "store_url", "contracts", "kafka_bootstrap", "workers")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run the gateway service",
        description="Run the gateway's HTTP service. Every setting can be given as an environment "
        "variable, in a YAML settings file (--settings or GATEWAY_SETTINGS_FILE, keys as below "
        "without the GATEWAY_ prefix, lower case) or, for a few, as an option.",
        epilog="settings (environment variables):\n" + describe(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--settings", metavar="FILE", help="YAML settings file")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default 8080)")
    p.add_argument("--data-dir", help="directory for the SQLite store and secrets (default ./var)")
    p.add_argument("--store-url", help="SQLAlchemy URL of the store (default SQLite in --data-dir)")
    p.add_argument("--contracts", help="directory of contract bundles (default: the demo bundles)")
    p.add_argument("--kafka-bootstrap", help="Kafka bootstrap servers (default: none, streams only)")
    p.add_argument("--workers", type=int,
                   help="server processes sharing the port (default 1; use PostgreSQL for more)")
    p.add_argument("--log-level", default="INFO")
    p.set_defaults(func=run)


def settings_from_args(args: argparse.Namespace):  # noqa: ANN201
    overrides = {k: getattr(args, k) for k in OVERRIDES if getattr(args, k, None) is not None}
    return load_settings(getattr(args, "settings", None), **overrides)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.observability import configure_logging, get_logger, log_stray_tracebacks
    from gateway.service import create_app

    configure_logging(args.log_level)
    log_stray_tracebacks()
    settings = settings_from_args(args)
    # The gateway writes its own access line per request (observability: request id, route,
    # latency); uvicorn's would be a second one. The backlog holds a month-end burst of connects.
    kwargs: dict = {"access_log": False, "backlog": 2048}
    if settings.tls_certfile:
        kwargs.update(ssl_certfile=settings.tls_certfile, ssl_keyfile=settings.tls_keyfile)
        if settings.tls_client_ca:
            from gateway.auth.tls import CertAwareH11Protocol

            kwargs.update(
                ssl_ca_certs=settings.tls_client_ca,
                ssl_cert_reqs=ssl.CERT_REQUIRED if settings.tls_client_cert_required else ssl.CERT_OPTIONAL,
                http=CertAwareH11Protocol,
            )
    get_logger("gateway.serve").info(
        "gateway_starting", host=settings.host, port=settings.port,
        store=settings.store_url.split("@")[-1], kafka=settings.kafka_bootstrap,
        tls=bool(settings.tls_certfile),
    )
    if settings.workers > 1:
        # Each worker process builds its own app (and group committer) from the same settings:
        # the environment carries them, including the options given on this command line.
        settings.secret()  # a generated secret is created once, here, not raced by the workers
        for name in OVERRIDES:
            value = getattr(settings, name)
            if value is not None:
                os.environ[f"GATEWAY_{name.upper()}"] = str(value)
        if getattr(args, "settings", None):
            os.environ["GATEWAY_SETTINGS_FILE"] = str(args.settings)
        os.environ["GATEWAY_LOG_LEVEL"] = args.log_level
        uvicorn.run("gateway.cli.serve:worker_app", factory=True, workers=settings.workers,
                    host=settings.host, port=settings.port, log_config=None, **kwargs)
        return 0
    app = create_app(settings)
    freeze_startup_heap(settings.gc_threshold)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, **kwargs)
    return 0


def freeze_startup_heap(threshold: int | None = None) -> None:
    """Move what the app built at startup (compiled schemas, rule tables, the store's statements,
    the routes: about 150,000 objects) out of the cyclic garbage collector's reach. They live as
    long as the process, yet every full collection walked them all again, with the GIL held: a
    pause each request in flight waits for, and about 0.15 ms of the server's CPU per message.
    Garbage from startup is collected first; reference counting still frees everything, and what
    the messages allocate is collected as before. `threshold` (the gc_threshold setting) sets the
    collector's first threshold, the older generations' kept."""
    import gc

    gc.collect()
    gc.freeze()
    if threshold is not None:
        gc.set_threshold(threshold, *gc.get_threshold()[1:])


def worker_app():  # noqa: ANN201
    """The app of one worker process of `gateway serve --workers N` (settings from the environment)."""
    from gateway.observability import configure_logging, log_stray_tracebacks
    from gateway.service import create_app

    configure_logging(os.environ.get("GATEWAY_LOG_LEVEL", "INFO"))
    log_stray_tracebacks()
    settings = load_settings()
    if settings.pipeline_cpu.strip().lower() == "auto":  # every worker would pick the same CPU
        settings = settings.model_copy(update={"pipeline_cpu": "off"})
    app = create_app(settings)
    freeze_startup_heap(settings.gc_threshold)
    return app
