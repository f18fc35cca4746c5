"""`ingest feeds …`: manage subscriptions."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ingest.cli.context import AppContext
from ingest.cli.output import Format, message, print_json, print_table
from ingest.errors import IngestError, UsageError

if TYPE_CHECKING:
    from ingest.subscribe import Subscription

app = typer.Typer(help="Add, list, disable and remove feeds.", no_args_is_help=True)


def _result(feed_id: int, text: str) -> None:
    """The feed's id on stdout (for scripts: `id=$(ingest feeds add URL)`), words on stderr."""
    print(feed_id, flush=True)
    message(text)


@app.command("add")
def add(
    ctx: typer.Context,
    urls: Annotated[list[str], typer.Argument(help="Feed URLs, or pages that link to their feed.")],
) -> None:
    """Subscribe to feeds; an HTML page works too (its feed link is discovered).

    Prints each feed's id on stdout. Already-subscribed URLs are reported, not errors.
    """
    import asyncio

    from ingest.identity import check_url
    from ingest.owner import make_owner
    from ingest.pipeline import Pipeline
    from ingest.redact import redact_url
    from ingest.subscribe import subscribe_all

    app_ctx: AppContext = ctx.obj
    for url in urls:
        check_url(url)  # reject bad input before any network or archive work
    engine, settings = app_ctx.engine, app_ctx.settings

    async def run() -> list[Subscription | IngestError]:
        async with Pipeline(engine, settings, make_owner("add")) as pipeline:
            return await subscribe_all(pipeline, urls)

    failed = 0
    for outcome in asyncio.run(run()):
        if isinstance(outcome, IngestError):
            failed += 1
            message(f"error: {outcome}")
            continue
        verb = "added" if outcome.created else "already subscribed"
        notes = [outcome.note] if outcome.note else []
        if outcome.new:
            notes.append(f"{outcome.new} entries archived")
        note = f" ({'; '.join(notes)})" if notes else ""
        _result(outcome.feed_id, f"{verb}: [{outcome.feed_id}] {redact_url(outcome.url)}{note}")
    if failed:
        raise typer.Exit(2 if failed == len(urls) else 1)


@app.command("list")
def list_(
    ctx: typer.Context,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """List feeds with their health (ok / failing since / gone / rate-limited until)."""
    from ingest.feedsfile import declared_feeds
    from ingest.health import feeds_with_health
    from ingest.redact import redact_url
    from ingest.store import feeds as store

    found = feeds_with_health(ctx.obj.reader)
    declared = declared_feeds(ctx.obj.settings.feeds_files)
    # canonical URLs (courlan, slow to import) only when a feeds file declares something
    known = store.known_urls(ctx.obj.reader) if declared else set()
    waiting = {url: path for url, path in declared.items() if url not in known}
    for url, path in waiting.items():  # not written here: listing never changes the archive
        message(f"declared in {path}, added by the next fetch: {redact_url(url)}")
    if format is Format.json:
        print_json([record for _, _, record in found])
        return
    rows = [
        (
            f.id,
            f.title or "",
            redact_url(f.url),
            word,
            f.last_success_at and f"{f.last_success_at:%Y-%m-%d %H:%M}",
        )
        for f, word, _ in found
    ]
    print_table(None, ["id", "title", "url", "health", "last success"], rows)
    if not found and not waiting:
        message("no feeds yet: add one with `ingest feeds add URL`")


@app.command("remove")
def remove(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Feed ID or URL.")]) -> None:
    """Unsubscribe from a feed. Articles already archived are kept.

    A feed a feeds file declares is refused: the next fetch would add it again. Remove it from
    the file, or keep it declared and `ingest feeds disable` it.
    """
    from ingest.feedsfile import declared_feeds
    from ingest.identity import feed_url
    from ingest.store import feeds as store

    engine = ctx.obj.engine
    feed_id = store.resolve_feed(engine, ref)
    feed = next(f for f in store.list_feeds(engine) if f.id == feed_id)
    if path := declared_feeds(ctx.obj.settings.feeds_files).get(feed_url(feed.url)):
        raise UsageError(
            f"feed {feed_id} is declared in {path}: remove it there (the next fetch would add "
            f"it again), or `ingest feeds disable {feed_id}`"
        )
    store.remove_feed(engine, feed_id)
    _result(feed_id, f"removed feed {feed_id}")


@app.command("disable")
def disable(
    ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Feed ID or URL.")]
) -> None:
    """Stop polling a feed, keeping it and its archive (`ingest feeds enable` undoes it).

    Works for feeds a feeds file declares: syncing the file does not enable them again.
    """
    from ingest.store import feeds as store

    engine = ctx.obj.engine
    feed_id = store.resolve_feed(engine, ref)
    store.update_feed(engine, feed_id, enabled=False)
    _result(feed_id, f"disabled feed {feed_id}")


@app.command("enable")
def enable(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Feed ID or URL.")]) -> None:
    """Poll a feed again: after 410 Gone, or after it was disabled."""
    from ingest.store import feeds as store

    engine = ctx.obj.engine
    feed_id = store.resolve_feed(engine, ref)
    store.update_feed(  # a fresh start: due now, no backoff, not "failing since" any more
        engine,
        feed_id,
        enabled=True,
        gone_at=None,
        next_fetch_at=None,
        error_count=0,
        error_class=None,
        error_message=None,
        failing_since=None,
    )
    _result(feed_id, f"enabled feed {feed_id}")


@app.command("set")
def set_(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Feed ID or URL.")],
    interval: Annotated[
        str,
        typer.Option(
            "--interval", help="Poll every 90s/15m/2h/1d, or `auto` (follow the posting rate)."
        ),
    ],
) -> None:
    """Override how often a feed is polled (errors still back off; server waits still bind)."""
    from ingest import schedule
    from ingest.store import feeds as store
    from ingest.store.models import utcnow

    seconds: int | None = None
    if interval.strip().lower() != "auto":
        try:
            seconds = schedule.parse_duration(interval)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    engine = ctx.obj.engine
    feed_id = store.resolve_feed(engine, ref)
    values: dict[str, Any] = {"interval_override": seconds}
    if seconds is not None:  # a shorter interval applies now, not after the old one runs out
        current = next(f for f in store.list_feeds(engine) if f.id == feed_id).next_fetch_at
        soon = utcnow() + timedelta(seconds=seconds)
        values["next_fetch_at"] = min(current, soon) if current else None
    store.update_feed(engine, feed_id, **values)
    what = f"every {schedule.format_duration(seconds)}" if seconds else "by its posting rate"
    _result(feed_id, f"feed {feed_id}: polled {what}")
