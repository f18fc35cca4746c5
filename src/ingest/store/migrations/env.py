"""Alembic environment: always run in-process on a connection handed over by `open_archive`."""

from __future__ import annotations

from alembic import context

from ingest.store.models import SQLModel
from ingest.store.search import is_index_object

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    include_object=is_index_object,  # the search index is hand-made per dialect (0002)
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table copies to ALTER
)
with context.begin_transaction():
    context.run_migrations()
