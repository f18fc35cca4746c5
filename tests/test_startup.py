"""Fast start: commands that read the archive import none of the fetch, extract or migration
stacks (the slowest imports); checked with Python's own import log, not with a clock."""

from __future__ import annotations

import pytest

from ingest.store.engine import open_archive
from tests.conftest import Cli

HEAVY = {"aiohttp", "trafilatura", "alembic", "pebble", "feedparser", "apscheduler", "courlan"}


@pytest.mark.parametrize("args", [["--help"], ["feeds", "list"], ["show", "1"]])
def test_reading_commands_import_no_fetch_extract_or_migration_stack(
    cli: Cli, args: list[str]
) -> None:
    open_archive(cli.db_url).dispose()  # an archive at the current schema: nothing to migrate
    done = cli(*args, PYTHONPROFILEIMPORTTIME="1")
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "ingest.cli" in modules
    assert not HEAVY & modules, HEAVY & modules
