"""`ingest feeds …`: manage subscriptions."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from yarl import URL

from ingest import schedule
from ingest.cli.context import AppContext
from ingest.cli.output import Format, err, print_json, print_table
from ingest.errors import UsageError
from ingest.fetch import Fetcher
from ingest.fetch.hosts import host_key
from ingest.store import feeds as store
from ingest.store.hosts import blocked_hosts
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


def rate_limited_until(feed: Feed, blocked: Mapping[str, datetime]) -> datetime | None:
    """When the feed may be requested again after a Retry-After: its own, or its host's (a 429
    on any page of that host counts), whichever ends later; None when none is in force."""
    own = feed.next_fetch_at if feed.error_class == "rate_limited" else None
    waits = [w for w in (own, blocked.get(host_key(URL(feed.url)))) if w and w > utcnow()]
    return max(waits, default=None)


def health(feed: Feed, blocked: Mapping[str, datetime] | None = None) -> str:
    """One word (and a time) that says how a feed is doing; `blocked`: hosts under Retry-After."""
    if feed.gone_at:
        return f"gone since {feed.gone_at:%Y-%m-%d}"
    if not feed.enabled:
        return "disabled"
    if until := rate_limited_until(feed, blocked or {}):
        return f"rate-limited until {until:%Y-%m-%d %H:%M}"
    if feed.failing_since:
        return f"failing since {feed.failing_since:%Y-%m-%d %H:%M} ({feed.error_class})"
    if feed.last_success_at is None:
        return "new"
    return "ok"


def feed_record(feed: Feed, blocked: Mapping[str, datetime] | None = None) -> dict[str, Any]:
    record = feed.model_dump(exclude={"lease_owner", "lease_until"}, mode="json")
    record["health"] = health(feed, blocked)
    until = rate_limited_until(feed, blocked or {})
    record["rate_limited_until"] = until and until.isoformat()
    return record


@app.command("list")
def list_(
    ctx: typer.Context,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """List feeds with their health (ok / failing since / gone / rate-limited until)."""
    found = store.list_feeds(ctx.obj.engine)
    blocked = blocked_hosts(ctx.obj.engine)
    if format is Format.json:
        print_json([feed_record(f, blocked) for f in found])
        return
    rows = [
        (
            f.id,
            f.title or "",
            f.url,
            health(f, blocked),
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
