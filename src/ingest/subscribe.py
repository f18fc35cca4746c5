"""`feeds add`: turn what the user typed into a subscription (discovering an HTML page's feed).

The origin the user vouched for is the URL they typed, not where its redirects lead: every hop of
the check, of discovery and of the discovered feed's fetch runs under the address policy with
that origin (see `ingest.fetch.guard`). Many URLs are checked concurrently, bounded by the
per-host limits of the fetcher; parsing runs in the pipeline's worker pool (timeout, memory cap);
the body fetched to check a new feed is recorded as its first poll, not thrown away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from pebble import ProcessExpired

from ingest.errors import DiskFull, ErrorClass, IngestError, UsageError, is_disk_full
from ingest.fetch.guard import resolve_origin
from ingest.fetch.urlpolicy import is_allowed, parse_networks
from ingest.identity import check_url, feed_url
from ingest.parse import NotAFeedError
from ingest.parse.discover import discover_feeds
from ingest.records import FeedState, FetchResult
from ingest.redact import redact_url
from ingest.store import feeds
from ingest.store.hosts import keep_retry_after
from ingest.store.models import utcnow
from ingest.update.prepare import PreparedFeed, parse_and_prepare

if TYPE_CHECKING:  # the pipeline is slow to import; callers bring one
    from ingest.pipeline import Pipeline

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Subscription:
    feed_id: int
    url: str
    created: bool
    note: str | None = None  # e.g. "discovered from …", "could not fetch it now: …"
    new: int = 0  # entries recorded by the first poll


async def subscribe_all(
    pipeline: Pipeline, urls: Sequence[str]
) -> list[Subscription | IngestError]:
    """Subscribe to every URL concurrently; one URL's failure is a value, never the others'."""
    # Bounded like a fetch: bodies waiting for the parser are held in memory.
    slots = asyncio.Semaphore(pipeline.settings.concurrency)

    async def one(url: str) -> Subscription | IngestError:
        async with slots:
            return await _subscribe_one(pipeline, url)

    try:
        return list(await asyncio.gather(*(one(url) for url in urls)))
    finally:  # a first poll cut short by an error leaves no lease behind
        await pipeline.db(feeds.release_leases, pipeline.engine, pipeline.owner)


async def _subscribe_one(pipeline: Pipeline, url: str) -> Subscription | IngestError:
    try:
        return await subscribe(pipeline, url)
    except IngestError as exc:
        return exc
    except Exception as exc:  # a bug, or a full disk, must not cost the other URLs a traceback
        if is_disk_full(exc):
            return DiskFull(f"{redact_url(url)}: the archive's disk is full")
        log.debug("internal error adding %s", redact_url(url), exc_info=True)
        return IngestError(f"{redact_url(url)}: internal error: {exc!r}")


async def subscribe(pipeline: Pipeline, url: str) -> Subscription:
    """Subscribe to `url`, or to the first feed an HTML page at `url` links to.

    A feed that cannot be fetched right now is still added (it may be down for a while); a URL
    whose redirects lead to a forbidden address, or that answers with a page that is neither a
    feed nor links to one, is a UsageError.
    """
    url = check_url(url)
    result = await pipeline.fetcher.fetch_feed(url)
    _refuse_blocked(url, result)
    if not result.ok or result.body is None:
        note = f"could not fetch it now: {result.error}"
        added = await _add(pipeline, url, note=note, unrecorded=[result])
        # a 503's Retry-After binds like one met in a run: the next fetch does not ask again
        await pipeline.db(
            keep_retry_after, pipeline.engine, added.feed_id, url, result, pipeline.settings
        )
        return added
    parsed = await _parse(pipeline, result)
    if isinstance(parsed, str):
        note = f"could not parse it now: {parsed}"
        return await _add(pipeline, url, note=note, unrecorded=[result])
    if parsed is not None:
        return await _add(pipeline, url, result, parsed)
    found = await _discover(pipeline, result)
    if not found:
        await pipeline.log_fetch("feed", result)
        raise UsageError(f"no feed found at {redact_url(url)}")
    feed_url = found[0]
    await _check_discovered(pipeline, feed_url, url)
    note = f"discovered from {redact_url(url)}"
    feed_result = await pipeline.fetcher.fetch_feed(feed_url, origin=url)
    _refuse_blocked(feed_url, feed_result)
    both = [result, feed_result]
    if not feed_result.ok or feed_result.body is None:
        note = f"{note}; could not fetch it now"
        return await _add(pipeline, feed_url, note=note, unrecorded=both)
    feed_parsed = await _parse(pipeline, feed_result)
    if feed_parsed is None:
        for fetched in both:
            await pipeline.log_fetch("feed", fetched)
        raise UsageError(f"{redact_url(feed_url)}, linked from {redact_url(url)}, is not a feed")
    if isinstance(feed_parsed, str):
        note = f"{note}; could not parse it now"
        return await _add(pipeline, feed_url, note=note, unrecorded=both)
    return await _add(pipeline, feed_url, feed_result, feed_parsed, note=note, unrecorded=[result])


def _refuse_blocked(url: str, result: FetchResult) -> None:
    if result.error_class == ErrorClass.BLOCKED:
        raise UsageError(
            f"{redact_url(url)}: {result.error} (redirects may only lead to public addresses, "
            "the typed URL's own address and port, or what allow_networks lists)"
        )


async def _parse(pipeline: Pipeline, result: FetchResult) -> PreparedFeed | str | None:
    """The parsed (and prepared) feed; None when the body is not a feed; a reason when parsing
    failed. The same worker call as a fetch's, so the first poll reuses it."""
    assert result.body is not None
    try:
        return await pipeline.cpu(
            pipeline.settings.extract_timeout,
            parse_and_prepare,
            result.body,
            result.headers,
            result.final_url,
            pipeline.settings.near_duplicate_min_words,
        )
    except NotAFeedError:
        return None
    except TimeoutError:
        return "parsing timed out"
    except ProcessExpired:
        return "the parser process died"
    except Exception as exc:  # a hostile body must not stop the other URLs
        return f"parser error: {type(exc).__name__}"


async def _discover(pipeline: Pipeline, result: FetchResult) -> list[str]:
    assert result.body is not None
    try:
        return await pipeline.cpu(
            pipeline.settings.extract_timeout,
            discover_feeds,
            result.body,
            result.headers,
            result.final_url,
        )
    except Exception:  # timeout, dead worker, hostile page: nothing usable was found
        return []


async def _check_discovered(pipeline: Pipeline, feed_url: str, typed_url: str) -> None:
    """A feed link found in a page is feed-supplied, not typed by the user: it gets the URL
    policy of article links (no private networks unless it is the typed URL's own address and
    port, or allowlisted), or a page on the internet could subscribe the archive to an internal
    address. A host that does not resolve cannot be checked, so it is refused.
    """
    settings = pipeline.settings
    targets = await resolve_origin(feed_url, settings.connect_timeout)
    if not targets:
        raise UsageError(
            f"{redact_url(typed_url)} links to a feed whose host does not resolve "
            f"({redact_url(feed_url)}): add that URL itself once it does"
        )
    origin = await resolve_origin(typed_url, settings.connect_timeout)
    allow = parse_networks(settings.allow_networks)
    if not all(is_allowed(ip, port, allow=allow, origin_addrs=origin) for ip, port in targets):
        raise UsageError(
            f"{redact_url(typed_url)} links to a feed on a private network "
            f"({redact_url(feed_url)}): add that URL itself if you trust it"
        )


async def _add(
    pipeline: Pipeline,
    url: str,
    result: FetchResult | None = None,
    prepared: PreparedFeed | None = None,
    *,
    note: str | None = None,
    unrecorded: Sequence[FetchResult] = (),
) -> Subscription:
    """Store the subscription; a new feed whose body was fetched gets it as its first poll.
    Every other response fetched on the way (`unrecorded`: a failed fetch, the page a feed was
    discovered from; `result` itself when it is no first poll) is logged and archived under the
    feed, like any attempt."""
    engine = pipeline.engine
    title = prepared.feed.title if prepared else None
    lease = timedelta(seconds=pipeline.settings.lease_seconds)
    first_poll = result is not None and prepared is not None
    until = utcnow() + lease if first_poll else None
    feed_id, created = await pipeline.db(
        feeds.add_feed,
        engine,
        url,
        title=title,
        due_at=until,
        holder=pipeline.owner if first_poll else None,
        lease_until=until,
    )
    new = 0
    if created and result is not None and prepared is not None:
        # created leased to this run: completing the update releases the lease
        state = FeedState(feed_id, feed_url(url), title=title)
        report = await pipeline.update_feed(
            state, prefetched=result, prepared=prepared, fetch_pages=False
        )
        new = report.new
        result = None  # recorded as the first poll
    for fetched in [*unrecorded, *([result] if result is not None else [])]:
        await pipeline.log_fetch("feed", fetched, feed_id=feed_id)
    return Subscription(feed_id, url, created, note, new)
