"""How each feed is doing, in one word and a time: shared by `feeds list`, `status` and the API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from yarl import URL

from ingest.fetch.hosts import host_key
from ingest.redact import redact_url
from ingest.store import feeds
from ingest.store.hosts import blocked_hosts
from ingest.store.models import Feed, utcnow
from ingest.timestamps import iso_or_none


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
    """A feed as JSON: every stored field (but the lease), its health and rate limit."""
    record = feed.model_dump(exclude={"lease_owner", "lease_until"}, mode="json")
    for key in ("url", "redirect_url"):  # credentials in a feed URL are never shown
        record[key] = record[key] and redact_url(record[key])
    record["health"] = health(feed, blocked)
    until = rate_limited_until(feed, blocked or {})
    record["rate_limited_until"] = iso_or_none(until)
    return record


def feeds_with_health(engine: Engine) -> list[tuple[Feed, str, dict[str, Any]]]:
    """Every feed with its health word and its JSON record, from one read of the blocked hosts."""
    blocked = blocked_hosts(engine)
    return [(f, health(f, blocked), feed_record(f, blocked)) for f in feeds.list_feeds(engine)]
