"""`feeds add`: turn what the user typed into a subscription (discovering an HTML page's feed)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from ingest.config import Settings
from ingest.errors import UsageError
from ingest.fetch import Fetcher
from ingest.fetch.guard import resolve_origin
from ingest.fetch.urlpolicy import is_allowed, parse_networks
from ingest.identity import check_url
from ingest.parse import NotAFeedError, parse_feed
from ingest.parse.discover import discover_feeds
from ingest.store import feeds
from ingest.store.hosts import keep_retry_after


@dataclass(frozen=True, slots=True)
class Subscription:
    feed_id: int
    url: str
    created: bool
    note: str | None = None  # e.g. "discovered from …", "could not fetch it now: …"


async def _check_discovered(feed_url: str, page_url: str, settings: Settings) -> None:
    """A feed link found in a page is feed-supplied, not typed by the user: it gets the URL
    policy of article links (no private networks unless it is the page's own origin or
    allowlisted), or a page on the internet could subscribe the archive to an internal address.
    """
    timeout = settings.connect_timeout
    targets = await resolve_origin(feed_url, timeout)
    origin = await resolve_origin(page_url, timeout)
    allow = parse_networks(settings.allow_networks)
    if not all(is_allowed(ip, port, allow=allow, origin_addrs=origin) for ip, port in targets):
        raise UsageError(
            f"{page_url} links to a feed on a private network ({feed_url}): "
            "add that URL itself if you trust it"
        )


async def subscribe(engine: Engine, fetcher: Fetcher, settings: Settings, url: str) -> Subscription:
    """Subscribe to `url`, or to the first feed an HTML page at `url` links to.

    A feed that cannot be fetched right now is still added (it may be down for a while), but an
    address that answers with a page that is neither a feed nor links to one is a UsageError.
    """
    url = check_url(url)
    result = await fetcher.fetch_feed(url)
    if not result.ok or result.body is None:
        feed_id, created = feeds.add_feed(engine, url)
        keep_retry_after(engine, feed_id, url, result, settings)
        return Subscription(feed_id, url, created, f"could not fetch it now: {result.error}")
    try:
        parsed = parse_feed(result.body, result.headers, result.final_url)
    except NotAFeedError:
        found = discover_feeds(result.body, result.headers, result.final_url)
        if not found:
            raise UsageError(f"no feed found at {url}") from None
        await _check_discovered(found[0], result.final_url, settings)
        feed_id, created = feeds.add_feed(engine, found[0])
        return Subscription(feed_id, found[0], created, f"discovered from {url}")
    feed_id, created = feeds.add_feed(engine, url, title=parsed.title)
    return Subscription(feed_id, url, created)
