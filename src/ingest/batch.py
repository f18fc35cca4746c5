"""A batch: claim feeds under a lease and update them. The one-off `ingest fetch` and every
daemon tick go through here, so a fetch beside a running daemon never takes the same feed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from yarl import URL

from ingest.config import Settings
from ingest.feedsfile import read_feeds_file
from ingest.fetch.hosts import host_key
from ingest.owner import make_owner
from ingest.pipeline import FeedReport, Pipeline
from ingest.store import feeds, fetchlog
from ingest.store.hosts import blocked_hosts
from ingest.store.models import Feed, utcnow

ALL = 1_000_000  # a one-off fetch claims every feed at once
RECENTLY = timedelta(seconds=60)  # a feed a daemon polled this recently is not polled again


@dataclass(frozen=True)
class Waiting:
    """A feed not requested because its server asked us to wait (see `not_before`)."""

    url: str
    until: datetime
    reason: str


@dataclass
class BatchResult:
    reports: list[FeedReport]
    busy: list[str]  # feeds named or enabled that another worker holds right now
    waiting: list[Waiting] = field(default_factory=list)
    inactive: list[Feed] = field(default_factory=list)  # named, but gone or disabled
    blocked_pages: int = 0  # article pages the private-network guard refused

    @property
    def failed(self) -> list[FeedReport]:
        return [r for r in self.reports if r.status == "failed"]


def sync_feeds_files(engine: Engine, settings: Settings) -> tuple[int, int]:
    """Bring the archive in line with the feeds files that exist; returns (added, disabled)."""
    added = disabled = 0
    for name in settings.feeds_files:
        path = Path(name)
        if path.exists():
            a, d = feeds.sync_declared(engine, str(path), read_feeds_file(path))
            added, disabled = added + a, disabled + d
    return added, disabled


async def fetch_once(
    engine: Engine,
    settings: Settings,
    feed_ids: Sequence[int] | None = None,
    *,
    on_claimed: Callable[[int], None] | None = None,
    on_done: Callable[[FeedReport], Awaitable[None] | None] | None = None,
) -> BatchResult:
    """Update the named feeds (or every enabled one) now, whether due or not.

    Only what servers asked for is respected: a host's Retry-After always, a feed's
    Cache-Control/Expires lifetime unless the feed was named. Those feeds come back as `waiting`.
    Afterwards the fetch log is pruned to `fetch_log_retention_days`.
    """
    owner = make_owner("fetch")
    known = feeds.list_feeds(engine)
    now = utcnow()
    blocked = blocked_hosts(engine)
    waiting = {
        f.id: wait
        for f in known
        if (feed_ids is None or f.id in feed_ids)
        and (wait := not_before(f, blocked, now, named=feed_ids is not None))
    }
    if feed_ids is None:  # beside a running daemon: what it polled moments ago is not asked again
        polled = fetchlog.fetched_by_daemons(engine, now - RECENTLY)
        for f in known:
            if f.id in polled and f.id not in waiting and _active(f):
                until = polled[f.id] + RECENTLY
                waiting[f.id] = Waiting(f.url, until, "a running daemon polled it moments ago")
    candidates = feed_ids if feed_ids is not None else [f.id for f in known]
    to_claim = [i for i in candidates if i not in waiting]
    states = feeds.claim_feeds(
        engine,
        owner,
        lease=timedelta(seconds=settings.lease_seconds),
        limit=ALL,
        feed_ids=to_claim if feed_ids is not None or waiting else None,
        due_only=False,
    )
    if on_claimed is not None:
        on_claimed(len(states))
    claimed = {s.id for s in states}
    busy = [
        f.url
        for f in known
        if f.id not in claimed
        and _active(f)
        and f.id not in waiting
        and (feed_ids is None or f.id in feed_ids)
    ]
    try:
        async with Pipeline(engine, settings, owner) as pipeline, pipeline.renewing_leases():
            reports = await pipeline.run_claimed(states, on_done)
            blocked_pages = pipeline.blocked_pages
    finally:
        feeds.release_leases(engine, owner)
    if settings.fetch_log_retention_days:
        fetchlog.prune_fetch_log(engine, settings.fetch_log_retention_days)
    inactive = [f for f in known if feed_ids is not None and f.id in feed_ids and not _active(f)]
    return BatchResult(reports, busy, list(waiting.values()), inactive, blocked_pages)


def _active(feed: Feed) -> bool:
    return feed.enabled and feed.gone_at is None


def not_before(
    feed: Feed, blocked: Mapping[str, datetime], now: datetime, *, named: bool
) -> Waiting | None:
    """Why and until when a server asked us not to request `feed` now, or None.

    The host's Retry-After binds always: it was said for every request to that host. The feed's
    own cache lifetime only binds a fetch of all feeds; naming a feed asks for it now.
    """
    waits = [(blocked.get(host_key(URL(feed.url))), "host rate-limited (Retry-After)")]
    if not named:
        waits.append((feed.cache_until, "server cache lifetime (Cache-Control/Expires)"))
    current = [(until, reason) for until, reason in waits if until is not None and until > now]
    if not current or not _active(feed):
        return None
    until, reason = max(current)
    return Waiting(feed.url, until, reason)
