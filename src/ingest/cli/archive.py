"""Looking after the archive itself: `migrate-raw` (and integrity, backup, retention)."""

from __future__ import annotations

import typer

from ingest.cli.output import err
from ingest.migrateraw import Moved, migrate_raw, pending_bodies
from ingest.rawarchive import RawArchive


def register(app: typer.Typer) -> None:
    app.command("migrate-raw")(migrate_raw_command)


def migrate_raw_command(ctx: typer.Context) -> None:
    """Move raw bodies kept in the database (archives made before WARC storage) into WARC files.

    Safe to interrupt and run again: it resumes where it stopped.
    """
    engine, settings = ctx.obj.engine, ctx.obj.settings
    if not settings.warc:
        err.print("error: warc = false in the settings: nowhere to move raw bodies to")
        raise typer.Exit(2)
    total = pending_bodies(engine)
    archive = RawArchive(engine, settings)

    def progress(moved: Moved) -> None:
        if moved.bodies % 1000 == 0:
            err.print(f"{moved.bodies}/{total} bodies moved", highlight=False)

    try:
        moved = migrate_raw(engine, archive, progress)
    finally:
        archive.close()
    print(f"{moved.bodies} raw bodies moved into {archive.folder} ({moved.rows} references)")
