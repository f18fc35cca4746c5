"""Fast start: commands that read the archive import none of the fetch, extract or migration
stacks (the slowest imports), and help and version import no database stack at all; checked
with Python's own import log, not with a clock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ingest.store import feeds
from ingest.store.engine import open_archive
from tests.conftest import Cli, Site

HEAVY = {"aiohttp", "trafilatura", "alembic", "pebble", "feedparser", "apscheduler", "courlan"}
POSTGRES_ONLY = {"sqlalchemy.dialects.postgresql"}  # ~30 ms; the archives here are SQLite
DATABASE = {"sqlalchemy", "sqlmodel", "pydantic"}
ARCHIVE_SIDE = ("store", "fetch", "parse", "pipeline", "web", "warc")  # ingest.<these>


def imported(cli: Cli, *args: str) -> set[str]:
    """Every module the command imported, from Python's own import log."""
    done = cli(*args, PYTHONPROFILEIMPORTTIME="1")
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "ingest.cli" in modules
    return modules


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["feeds", "list"],
        ["show", "1"],
        ["search", "x"],
        ["export"],
        ["log"],
        ["status"],
    ],
)
def test_reading_commands_import_no_fetch_extract_or_migration_stack(
    cli: Cli, args: list[str]
) -> None:
    engine = open_archive(cli.db_url)  # an archive at the current schema: nothing to migrate
    feeds.add_feed(engine, "https://example.com/feed.xml")
    engine.dispose()
    modules = imported(cli, *args)
    assert not (HEAVY | POSTGRES_ONLY) & modules, (HEAVY | POSTGRES_ONLY) & modules


def archive_side(modules: set[str]) -> set[str]:
    """The database stacks and ingest's own archive, fetch and web modules among `modules`."""
    top = {name.split(".")[0] for name in modules}
    ours = {".".join(name.split(".")[:2]) for name in modules if name.startswith("ingest.")}
    return (DATABASE | HEAVY) & top | ours & {f"ingest.{name}" for name in ARCHIVE_SIDE}


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_no_database_stack(cli: Cli, args: list[str]) -> None:
    """Neither SQLAlchemy, SQLModel nor pydantic (the settings), nor any module of ingest's
    archive, fetch or web side."""
    found = archive_side(imported(cli, *args))
    assert not found, found


@pytest.mark.parametrize(
    "args",
    [
        ["feeds", "--help"],
        ["feeds", "add", "--help"],
        ["fetch", "--help"],
        ["search", "--help"],
        ["export", "--help"],
        ["check", "--help"],
        ["run", "--help"],
    ],
)
def test_a_commands_help_imports_no_database_stack(cli: Cli, args: list[str]) -> None:
    """As above, but pydantic: once a command is named, Typer (0.2x) coerces the global options'
    values (`--db`, also from INGEST_DB_URL; `--config`) with pydantic TypeAdapters itself."""
    found = archive_side(imported(cli, *args)) - {"pydantic"}
    assert not found, found


def test_a_fetch_extracts_in_its_workers_and_never_loads_the_extraction_stack_itself(
    site: Site, db_url: str, tmp_path: Path
) -> None:
    """Full text is extracted in the worker processes (ingest.offload): the process that runs
    the fetch loads neither trafilatura nor the language model, numpy or MinHash (start-up time, and
    ~50 MB that every worker has anyway)."""
    site.serve_all()
    probe = f"""
import asyncio, sys
from ingest.batch import fetch_once
from ingest.config import Settings
from ingest.store import feeds
from ingest.store import feeds
from ingest.store.engine import open_archive
settings = Settings(db_url={db_url!r}, feeds_files=[])
engine = open_archive(settings.db_url)
feeds.add_feed(engine, {site.url("/feed.rss")!r})
result = asyncio.run(fetch_once(engine, settings))
print(sum(r.full for r in result.reports))
print(sorted(m for m in ("trafilatura", "py3langid", "numpy", "datasketch") if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["3", "[]"], done.stdout
