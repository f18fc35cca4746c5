"""Looking after the archive itself: `check`, `backup`, `prune` and `migrate-raw`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ingest.cli.output import err
from ingest.errors import UsageError

if TYPE_CHECKING:
    from ingest.migrateraw import Moved


def register(app: typer.Typer) -> None:
    app.command("migrate-raw")(migrate_raw_command)
    app.command("check")(check_command)
    app.command("backup")(backup_command)
    app.command("prune")(prune_command)


def migrate_raw_command(ctx: typer.Context) -> None:
    """Move raw bodies kept in the database (archives made before WARC storage) into WARC files.

    Safe to interrupt and run again: it resumes where it stopped.
    """
    from ingest.migrateraw import migrate_raw, pending_bodies
    from ingest.rawarchive import RawArchive

    engine, settings = ctx.obj.engine, ctx.obj.settings
    if not settings.warc:
        err.print("error: warc = false in the settings: nowhere to move raw bodies to")
        raise typer.Exit(2)
    total = pending_bodies(engine)
    archive = RawArchive(settings)

    def progress(moved: Moved) -> None:
        if moved.bodies % 1000 == 0:
            err.print(f"{moved.bodies}/{total} bodies moved", highlight=False)

    try:
        moved = migrate_raw(engine, archive, progress)
    finally:
        archive.close()
    print(f"{moved.bodies} raw bodies moved into {archive.folder} ({moved.rows} references)")


def check_command(
    ctx: typer.Context,
    repair_flag: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Fix what is safe: WARC crash repairs, the search index, stale filter "
            "facets, orphaned database bodies (asks first).",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before dropping.")] = False,
) -> None:
    """Check the archive: database integrity, every raw reference (file, offset, digest) and
    orphans. Exit 0 when all is well, 1 when something is wrong."""
    from ingest.integrity import MAX_LISTED, check, repair
    from ingest.rawarchive import warc_folder
    from ingest.store.engine import open_archive

    settings = ctx.obj.settings
    engine = open_archive(settings.db_url, migrate=False, create=False)  # not migrated: damaged?
    folder = warc_folder(settings)
    report = check(engine, folder)
    for problem in report.database[:MAX_LISTED]:
        print(f"database: {problem}")
    for problem in report.raw[:MAX_LISTED]:
        print(f"raw: {problem}")
    for name, count in sorted(report.orphan_records.items())[:MAX_LISTED]:
        print(f"orphan: {count} records in {name} that no row points to")
    for name in report.crashed_files:
        print(f"crashed: {name} was left open by a writer that is gone (--repair cuts it back)")
    if report.orphan_blobs:
        print(f"orphan: {len(report.orphan_blobs)} raw bodies in the database nothing uses")
    if report.stale_facets:
        listed = ", ".join(map(str, report.stale_facets[:MAX_LISTED]))
        print(
            f"filters: {len(report.stale_facets)} articles whose filter facets are missing or"
            f" stale, filtered searches may miss them (repair re-derives them): {listed}"
        )
    hidden = len(report.database) + len(report.raw) - 2 * MAX_LISTED
    if hidden > 0:
        print(f"… and {hidden} more")
    print(
        f"checked {report.checked_records} raw responses;"
        f" {report.quarantined} partial records in quarantine;"
        f" {report.legacy_bodies} bodies still in the database"
        + (" (ingest migrate-raw moves them)" if report.legacy_bodies else "")
    )
    if repair_flag and not report.ok:
        drop = bool(report.orphan_blobs) and (
            yes or typer.confirm(f"drop {len(report.orphan_blobs)} orphaned bodies?")
        )
        done = repair(engine, folder, report, drop_blobs=drop)
        print(
            f"repaired: {done.warc_files} WARC files cut back,"
            f" search index {'rebuilt' if done.search_index else 'fine'},"
            f" {done.facets} articles' filter facets re-derived,"
            f" {done.blobs_dropped} orphaned bodies dropped"
            + "".join(f"; {line}" for line in done.postgres)
        )
        report = check(engine, folder)
    print("ok" if report.ok else "problems found")
    if not report.ok:
        raise typer.Exit(1)


def backup_command(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="Folder for the copy (database + warc/).")],
) -> None:
    """Copy the archive (SQLite database and WARC files) consistently, while it is in use;
    into the same folder again, only what changed is copied."""
    from ingest.backup import backup
    from ingest.rawarchive import warc_folder

    settings = ctx.obj.settings
    copied = backup(ctx.obj.reader, warc_folder(settings), target)
    print(
        f"backed up {copied.database} and {copied.warc_files} WARC files"
        f" ({copied.warc_bytes} bytes; {copied.unchanged} unchanged)"
    )


def prune_command(
    ctx: typer.Context,
    raw_older_than: Annotated[
        str,
        typer.Option("--raw-older-than", help="Drop raw responses older than this (90d, 1y)."),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go; delete nothing.")
    ] = False,
) -> None:
    """Drop old raw responses (whole WARC files); article texts, metadata and revisions stay."""
    from ingest.rawarchive import warc_folder
    from ingest.retention import plan_prune, prune
    from ingest.store.models import utcnow

    try:
        age = parse_age(raw_older_than)
    except ValueError as exc:
        raise UsageError(f"--raw-older-than: {exc}") from None
    settings, engine = ctx.obj.settings, ctx.obj.engine
    folder = warc_folder(settings)
    plan = plan_prune(engine, folder, utcnow() - age)
    for name in plan.orphan_files:
        print(f"orphan: {name} holds no record the database points to (kept)")
    for name in plan.kept_for_revisits:
        print(f"kept: {name} (newer revisits rely on its payloads)")
    verb = "would drop" if dry_run else "dropping"
    print(
        f"{verb} {len(plan.files)} WARC files, {plan.records} raw responses, {plan.bytes} bytes"
        f" ({plan.articles} articles keep their text but lose their raw page)"
    )
    if not dry_run:
        prune(engine, folder, plan)


def parse_age(text: str) -> timedelta:
    """`90d`, `12w`, `1y` (365 days), or any duration `ingest feeds set` takes."""
    from ingest.schedule import parse_duration

    value = text.strip().lower()
    if value.endswith("y") and value[:-1].isdigit():
        return timedelta(days=365 * int(value[:-1]))
    return timedelta(seconds=parse_duration(value))
