"""Archives made by an older schema head, for the tests that upgrade them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from ingest.store.engine import MIGRATIONS


def archive_at(db_url: str, revision: str) -> sa.Engine:
    """An engine on a new archive (SQLite or PostgreSQL) migrated up to `revision` only: a test
    writes rows the old way through it, disposes of it, then opens the archive (which upgrades
    it)."""
    url = sa.make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return engine
