"""`ingest feeds …`: manage subscriptions."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

from ingest import schedule
from ingest.cli.context import AppContext
from ingest.cli.output import Format, err, print_json, print_table
from ingest.errors import UsageError
from ingest.fetch import Fetcher
from ingest.health import feeds_with_health
from ingest.identity import check_url
from ingest.store import feeds as store
from ingest.store.models import utcnow
from ingest.subscribe import Subscription, subscribe

app = typer.Typer(help="Add, list and remove feeds.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    urls: Annotated[list[str], typer.Argument(help="Feed URLs, or pages that link to their feed.")],
) -> None:
    """Subscribe to feeds; an HTML page works too (its feed link is discovered).

    Already-subscribed URLs are reported, not errors.
    """
    app_ctx: AppContext = ctx.obj
    for url in urls:
        check_url(url)  # reject bad input before any network or archive work
    engine, settings = app_ctx.engine, app_ctx.settings

    async def run() -> list[Subscription | UsageError]:
        async with Fetcher(settings) as fetcher:
            results: list[Subscription | UsageError] = []
            for url in urls:
                try:
                    results.append(await subscribe(engine, fetcher, settings, url))
                except UsageError as exc:
                    results.append(exc)
            return results

    failed = 0
    for outcome in asyncio.run(run()):
        if isinstance(outcome, UsageError):
            failed += 1
            err.print(f"error: {outcome}", markup=False, highlight=False)
            continue
        verb = "added" if outcome.created else "already subscribed"
        note = f" ({outcome.note})" if outcome.note else ""
        err.print(f"{verb}: [{outcome.feed_id}] {outcome.url}{note}", markup=False, highlight=False)
    if failed:
        raise typer.Exit(2 if failed == len(urls) else 1)


@app.command("list")
def list_(
    ctx: typer.Context,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """List feeds with their health (ok / failing since / gone / rate-limited until)."""
    found = feeds_with_health(ctx.obj.engine)
    if format is Format.json:
        print_json([record for _, _, record in found])
        return
    rows = [
        (
            f.id,
            f.title or "",
            f.url,
            word,
            f.last_success_at and f"{f.last_success_at:%Y-%m-%d %H:%M}",
        )
        for f, word, _ in found
    ]
    print_table(None, ["id", "title", "url", "health", "last success"], rows)
    if not found:
        err.print("no feeds yet: add one with `ingest feeds add URL`")


def _when(value: datetime | None) -> str | None:
    return value and f"{value:%Y-%m-%d %H:%M}"


@app.command("remove")
def remove(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Feed ID or URL.")]) -> None:
    """Unsubscribe from a feed. Articles already archived are kept."""
    engine = ctx.obj.engine
    feed_id = store.resolve_feed(engine, ref)
    store.remove_feed(engine, feed_id)
    err.print(f"removed feed {feed_id}")


@app.command("enable")
def enable(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Feed ID or URL.")]) -> None:
    """Poll a feed again: after 410 Gone, or after it was disabled."""
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
    err.print(f"enabled feed {feed_id}")


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
    err.print(f"feed {feed_id}: polled {what}", highlight=False)
