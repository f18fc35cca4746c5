"""A batch: claim feeds under a lease and update them. The one-off `ingest fetch` and every
daemon tick go through here, so a fetch beside a running daemon never takes the same feed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from ingest.config import Settings
from ingest.feedsfile import read_feeds_file
from ingest.owner import make_owner
from ingest.pipeline import FeedReport, Pipeline
from ingest.store import feeds

ALL = 1_000_000  # a one-off fetch claims every feed at once


@dataclass
class BatchResult:
    reports: list[FeedReport]
    busy: list[str]  # feeds named or enabled that another worker holds right now

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
    """Update the named feeds (or every enabled one) now, whether due or not."""
    owner = make_owner("fetch")
    states = feeds.claim_feeds(
        engine,
        owner,
        lease=timedelta(seconds=settings.lease_seconds),
        limit=ALL,
        feed_ids=feed_ids,
        due_only=False,
    )
    if on_claimed is not None:
        on_claimed(len(states))
    claimed = {s.id for s in states}
    busy = [
        f.url
        for f in feeds.list_feeds(engine)
        if f.id not in claimed
        and f.enabled
        and f.gone_at is None
        and (feed_ids is None or f.id in feed_ids)
    ]
    try:
        async with Pipeline(engine, settings, owner) as pipeline:
            reports = await pipeline.run_claimed(states, on_done)
    finally:
        feeds.release_leases(engine, owner)
    return BatchResult(reports, busy)
