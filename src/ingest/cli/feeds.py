"""`ingest feeds …`: manage subscriptions."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from ingest.cli.context import AppContext
from ingest.cli.output import Format, err, print_json, print_table
from ingest.errors import UsageError
from ingest.fetch import Fetcher
from ingest.store import feeds as store
from ingest.store.models import Feed, utcnow
from ingest.subscribe import Subscription, check_url, subscribe

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
                    results.append(await subscribe(engine, fetcher, url))
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


def health(feed: Feed) -> str:
    """One word (and a time) that says how a feed is doing."""
    now = utcnow()
    if feed.gone_at:
        return f"gone since {feed.gone_at:%Y-%m-%d}"
    if not feed.enabled:
        return "disabled"
    if feed.error_class == "rate_limited" and feed.next_fetch_at and feed.next_fetch_at > now:
        return f"rate-limited until {feed.next_fetch_at:%Y-%m-%d %H:%M}"
    if feed.failing_since:
        return f"failing since {feed.failing_since:%Y-%m-%d %H:%M} ({feed.error_class})"
    if feed.last_success_at is None:
        return "new"
    return "ok"


def feed_record(feed: Feed) -> dict[str, Any]:
    record = feed.model_dump(exclude={"lease_owner", "lease_until"}, mode="json")
    record["health"] = health(feed)
    return record


@app.command("list")
def list_(
    ctx: typer.Context,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """List feeds with their health (ok / failing since / gone / rate-limited until)."""
    found = store.list_feeds(ctx.obj.engine)
    if format is Format.json:
        print_json([feed_record(f) for f in found])
        return
    rows = [
        (
            f.id,
            f.title or "",
            f.url,
            health(f),
            f.last_success_at and f"{f.last_success_at:%Y-%m-%d %H:%M}",
        )
        for f in found
    ]
    print_table(None, ["id", "title", "url", "health", "last success"], rows)
    if not found:
        err.print("no feeds yet: add one with `ingest feeds add URL`")


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
    store.update_feed(
        engine, feed_id, enabled=True, gone_at=None, next_fetch_at=None, error_count=0
    )
    err.print(f"enabled feed {feed_id}")
