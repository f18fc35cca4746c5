"""Alembic environment: always run in-process on a connection handed over by `open_archive`."""

from __future__ import annotations

from alembic import context

from ingest.store.models import SQLModel

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table copies to ALTER
)
with context.begin_transaction():
    context.run_migrations()
