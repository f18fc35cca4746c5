"""The `ingest` command line: thin Typer commands over the pipeline and the store.

Exit codes: 0 success, 1 partial failure (some feeds failed), 2 usage or configuration error.
Errors are one line on stderr, never a traceback (set INGEST_DEBUG=1 to see one).

Start-up time: every command module is imported for any command (even `--help`), and
SQLAlchemy, SQLModel and pydantic alone take ~0.5 s to import, twice a bare `--help`. So the
command modules import only typer, the standard library and the light `ingest.cli` helpers at
top level; each command imports its stack (settings, store, pipeline…) in its body, when it
runs. tests/test_startup.py holds them to it.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.exceptions import TyperException

from ingest import __version__
from ingest.cli import (
    archive,
    articles,
    dedupe,
    export,
    feeds,
    fetch,
    log,
    opml,
    reextract,
    run,
    search,
    serve,
)
from ingest.cli.context import AppContext
from ingest.cli.help import plain_help
from ingest.cli.output import fail
from ingest.errors import IngestError, StorageError

app = typer.Typer(
    name="ingest",
    help="Fetch feeds, archive full article text, dedupe, and query the archive.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(feeds.app, name="feeds")
opml.register(feeds.app)
fetch.register(app)
articles.register(app)
log.register(app)
run.register(app)
serve.register(app)
search.register(app)
reextract.register(app)
dedupe.register(app)
archive.register(app)
export.register(app)


def _print_version(value: bool) -> None:
    if value:
        print(f"ingest {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="INGEST_DB_URL",
            help="SQLAlchemy URL of the archive.",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Settings file (default: config/ingest.toml).", show_default=False
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # -v is for the archive's progress; the schema check on every start is not news
    logging.getLogger("alembic").setLevel(logging.WARNING)
    ctx.obj = AppContext(db_url=db, config_path=config)


def _database_errors() -> tuple[type[Exception], ...]:
    """SQLAlchemy's DatabaseError, looked up only when an exception is being handled: a command
    that never imported SQLAlchemy ran no query, so no such error can have come from it."""
    found = sys.modules.get("sqlalchemy.exc")
    return (found.DatabaseError,) if found else ()


def main() -> None:
    """Console entry point: run the app, turning every error (ours, and Click's usage errors)
    into one line on stderr and an exit code."""
    try:
        # not standalone: Click's usage errors reach us (below) instead of printing a box;
        # a command's `typer.Exit(code)` comes back as the return value
        sys.exit(
            plain_help(typer.main.get_command(app)).main(prog_name="ingest", standalone_mode=False)
            or 0
        )
    except TyperException as exc:  # usage: unknown option, bad value, missing argument
        if message := exc.format_message():  # (none after the help a bare group prints)
            print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(exc.exit_code)
    except IngestError as exc:
        if os.environ.get("INGEST_DEBUG"):
            raise
        fail(exc)
    except _database_errors() as exc:  # met by whichever query reads a damaged page, any command
        if os.environ.get("INGEST_DEBUG"):
            raise
        from ingest.store.engine import damage_message, reason

        fail(StorageError(damage_message(exc) or f"archive error: {reason(exc)}"))
    except (KeyboardInterrupt, typer.Abort):
        sys.exit(130)
    except BrokenPipeError:  # `ingest export | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
