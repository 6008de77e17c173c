"""Alembic environment: Heron runs migrations programmatically (see ``heron.store.migrate``)."""

from __future__ import annotations

from alembic import context

from heron.store import (  # noqa: F401 - register their tables
    endpoint_schema,
    logged_model_schema,
    registry_schema,
)
from heron.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
