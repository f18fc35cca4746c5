"""`ingest feeds import FILE.opml` and `ingest feeds export`: subscription lists in and out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ingest.cli.output import message
from ingest.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command("export")(export)


def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="OPML file, as feed readers export it.")],
    check: Annotated[
        bool,
        typer.Option(
            "--check/--no-check",
            help="Fetch each new feed first (discovers a page's feed, reports dead ones).",
        ),
    ] = True,
) -> None:
    """Subscribe to every feed of an OPML file; folders, titles and site links are kept.

    Feeds already subscribed are skipped; invalid URLs are reported. Exit 1 when some were
    invalid, 2 when nothing could be added.
    """
    import asyncio

    from ingest.importing import import_outlines
    from ingest.opml import OpmlError, read_opml
    from ingest.redact import redact_url

    try:
        outlines = read_opml(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except OpmlError as exc:
        raise UsageError(f"{path}: {exc}") from None
    app_ctx = ctx.obj
    report = asyncio.run(import_outlines(app_ctx.engine, app_ctx.settings, outlines, check=check))
    for added in report.added:
        note = f" ({added.note})" if added.note else ""
        message(f"added: [{added.feed_id}] {redact_url(added.url)}{note}")
    for url, why in report.invalid:
        message(f"invalid: {redact_url(url)} ({why})")
    print(
        f"{len(report.added)} added, {len(report.skipped)} skipped (already subscribed),"
        f" {len(report.invalid)} invalid"
    )
    if report.invalid:
        raise typer.Exit(2 if not report.added and not report.skipped else 1)


def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
) -> None:
    """Write every subscription as OPML 2.0 (folders as nested outlines), for any feed reader."""
    from ingest.opml import Subscribed, write_opml
    from ingest.store import feeds as store

    document = write_opml(
        Subscribed(f.url, f.title, f.site_url, f.folders) for f in store.list_feeds(ctx.obj.reader)
    )
    if output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(document)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
