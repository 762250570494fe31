"""Alembic environment: run by `gateway.store.engine.migrate` with an open connection."""

from alembic import context

from gateway.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only for the alembic command line
    raise RuntimeError("run migrations through gateway.store.engine.migrate(url)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
