"""`ingest fetch --recheck`: look at the known articles' pages again now, for edits and takedowns.

Articles are claimed through the same leased queue as the daemon's due pages
(`claim_due_articles`), so a re-check beside a running daemon never fetches a page twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.engine import Engine

from ingest.batch import ALL
from ingest.config import Settings
from ingest.owner import make_owner
from ingest.pipeline import Pipeline
from ingest.store import queue


async def recheck_now(
    engine: Engine, settings: Settings, feed_ids: Sequence[int] | None = None
) -> Counter[str]:
    """Re-check every full-text article (of `feed_ids`, or all); counts per outcome."""
    owner = make_owner("recheck")
    due = queue.claim_due_articles(
        engine,
        owner,
        lease=timedelta(seconds=settings.lease_seconds),
        limit=ALL,
        feed_ids=feed_ids,
        due_only=False,
    )
    try:
        async with Pipeline(engine, settings, owner) as pipeline, pipeline.renewing_leases():
            outcomes = await asyncio.gather(*(pipeline.revisit(article) for article in due))
    finally:
        queue.release_articles(engine, owner)
    return Counter(outcomes)
