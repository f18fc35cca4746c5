"""`ingest fetch`: one update of the feeds now, with a progress bar and a summary table."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from ingest.cli.context import AppContext
from ingest.cli.output import err, message, print_table, say
from ingest.errors import DiskFull, is_disk_full

if TYPE_CHECKING:
    from ingest.pipeline import FeedReport

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    app.command("fetch")(fetch)


def fetch(
    ctx: typer.Context,
    refs: Annotated[
        list[str] | None, typer.Argument(help="Feed IDs or URLs (default: all).")
    ] = None,
    no_fulltext: Annotated[
        bool, typer.Option("--no-fulltext", help="Archive the feeds' own content; fetch no pages.")
    ] = False,
    retry_fulltext: Annotated[
        bool,
        typer.Option(
            "--retry-fulltext",
            help="Fetch again the pages that were blocked (private network) or answered 4xx.",
        ),
    ] = False,
    recheck: Annotated[
        bool,
        typer.Option(
            "--recheck", help="Also re-check the known articles' pages now for edits and takedowns."
        ),
    ] = False,
) -> None:
    """Fetch feeds now and archive their new entries with full article text.

    Exit code 0 when every feed was fine, 1 when some failed (the summary says which and why).
    """
    import asyncio

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from ingest.batch import fetch_once, sync_feeds_files
    from ingest.pipeline import DISK_FULL
    from ingest.recheck import recheck_now
    from ingest.redact import redact_url
    from ingest.store import feeds as store
    from ingest.store.queue import requeue_failed_pages

    app_ctx: AppContext = ctx.obj
    settings, engine = app_ctx.settings, app_ctx.engine
    if no_fulltext:
        settings = settings.model_copy(update={"fulltext": False})
    feed_ids = [store.resolve_feed(engine, ref) for ref in refs] if refs else None
    if retry_fulltext:
        again = requeue_failed_pages(engine, feed_ids)
        message(f"{again} pages back on the queue for their full text")
    if feed_ids is None:
        sync_feeds_files(engine, settings)
        if not store.list_feeds(engine):
            message("no feeds to fetch: add one with `ingest feeds add URL`")
            message("or list them in config/feeds.toml (see config/feeds.toml.example)")
            return
    with Progress(
        TextColumn("fetching"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # redrawn 10 times a second for nobody: a log, a pipe
    ) as progress:
        task = progress.add_task("feeds", total=None)

        def claimed(count: int) -> None:
            log.info("%d feeds claimed", count)
            progress.update(task, total=count)

        reports: list[FeedReport] = []

        def done(report: FeedReport) -> None:
            reports.append(report)
            log.info(
                "feed %d done (%s): %d new, %d updated, %d full texts%s",
                report.feed_id,
                report.status,
                report.new,
                report.updated,
                report.full,
                f"; {report.error}" if report.error else "",
            )
            progress.advance(task)

        try:
            result = asyncio.run(
                fetch_once(engine, settings, feed_ids, on_claimed=claimed, on_done=done)
            )
        except Exception as exc:  # past the batch's own handling: the archive cannot be written
            if not is_disk_full(exc):
                raise
            result = None
    if result is None or any(r.error == DISK_FULL for r in result.reports):
        _summary(result.reports if result else reports)
        raise DiskFull(
            "the archive's disk is full: the run stopped (what was fetched before is archived); "
            "free space and run `ingest fetch` again"
        )
    _summary(result.reports)
    if recheck and settings.fulltext:
        counts = asyncio.run(recheck_now(engine, settings, feed_ids))
        say(
            f"re-checked {counts.total()} pages: "
            + ", ".join(f"{counts[k]} {k}" for k in ("revised", "unchanged", "removed", "failed"))
            + (f", {counts['deferred']} deferred (Retry-After)" if counts["deferred"] else "")
        )
    for feed in result.inactive:
        state = "gone (410)" if feed.gone_at else "disabled"
        hint = f"`ingest feeds enable {feed.id}` to poll it again"
        message(f"skipped ({state}; {hint}): {redact_url(feed.url)}")
    for url in result.busy:
        message(f"skipped (another worker is fetching it): {redact_url(url)}")
    for wait in result.waiting:
        until = f"{wait.until:%Y-%m-%d %H:%M:%S} UTC"
        message(f"skipped until {until} ({wait.reason}): {redact_url(wait.url)}")
    if result.blocked_pages:
        message(
            f"{result.blocked_pages} pages blocked: their addresses are on a private network. "
            "To allow one, add it to `allow_networks` in config/ingest.toml (or "
            "INGEST_ALLOW_NETWORKS), then `ingest fetch --retry-fulltext`"
        )
    for report in result.failed:
        message(f"failed: [{report.feed_id}] {redact_url(report.url)}: {report.error}")
    if result.failed:
        message(f"{len(result.failed)} of {len(result.reports)} feeds failed")
        raise typer.Exit(1)


def _summary(reports: list[FeedReport]) -> None:
    """A row per feed with something to report; the feeds that answered 304 and have nothing
    else to say are counted on one line (a run over 5,000 unchanged feeds prints one line, not a
    table that takes longer to draw than the run took to fetch)."""
    from ingest.redact import redact_url

    quiet = [r for r in reports if r.status == "not_modified" and not _news(r)]
    rows = [
        (
            r.feed_id,
            redact_url(r.url),
            r.status,
            r.new,
            r.updated,
            r.full,
            r.fallback,
            r.error or "; ".join(r.notes),
        )
        for r in reports
        if r.status != "not_modified" or _news(r)
    ]
    if rows or not quiet:
        print_table(
            "fetch summary",
            ["feed", "url", "status", "new", "updated", "full text", "feed text", "error"],
            rows,
        )
    if quiet:
        say(f"{len(quiet)} feed{'s' * (len(quiet) != 1)} not_modified (304): nothing new")


def _news(report: FeedReport) -> bool:
    """Whether an unchanged feed still has something to say (pages fetched, notes)."""
    return bool(report.full or report.fallback or report.notes or report.error)
