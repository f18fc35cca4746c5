"""`feeds add`: turn what the user typed into a subscription (discovering an HTML page's feed)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine

from ingest.errors import UsageError
from ingest.fetch import Fetcher
from ingest.parse import NotAFeedError, parse_feed
from ingest.parse.discover import discover_feeds
from ingest.store import feeds


@dataclass(frozen=True, slots=True)
class Subscription:
    feed_id: int
    url: str
    created: bool
    note: str | None = None  # e.g. "discovered from …", "could not fetch it now: …"


def check_url(url: str) -> str:
    """An absolute http(s) URL, or UsageError: anything else would be fetched as something else."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http(s) URL: {url!r}")
    return url.strip()


async def subscribe(engine: Engine, fetcher: Fetcher, url: str) -> Subscription:
    """Subscribe to `url`, or to the first feed an HTML page at `url` links to.

    A feed that cannot be fetched right now is still added (it may be down for a while), but an
    address that answers with a page that is neither a feed nor links to one is a UsageError.
    """
    url = check_url(url)
    result = await fetcher.fetch_feed(url)
    if not result.ok or result.body is None:
        feed_id, created = feeds.add_feed(engine, url)
        return Subscription(feed_id, url, created, f"could not fetch it now: {result.error}")
    try:
        parsed = parse_feed(result.body, result.headers, result.final_url)
    except NotAFeedError:
        found = discover_feeds(result.body, result.headers, result.final_url)
        if not found:
            raise UsageError(f"no feed found at {url}") from None
        feed_id, created = feeds.add_feed(engine, found[0])
        return Subscription(feed_id, found[0], created, f"discovered from {url}")
    feed_id, created = feeds.add_feed(engine, url, title=parsed.title)
    return Subscription(feed_id, url, created)
