"""One feed update end to end: fetch → parse → record entries → fetch pages → extract → store.

Many feed updates overlap on one event loop; feedparser and trafilatura run in a process pool
(both cores busy, the loop free for network waits); every database call runs on one writer
thread, in short transactions. Errors become values on the feed and the batch goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from pebble import ProcessExpired, ProcessPool
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError
from yarl import URL

from ingest import schedule
from ingest.config import Settings
from ingest.dedupe import Thresholds
from ingest.errors import ErrorClass, is_disk_full
from ingest.fetch import Fetcher
from ingest.fetch.hosts import retry_after
from ingest.fetch.urlpolicy import canonical, is_public
from ingest.identity import canonical_url
from ingest.offload import prepare_page
from ingest.parse import NotAFeedError
from ingest.parse.discover import discover_feeds
from ingest.parse.problems import feed_problems
from ingest.rawarchive import RawArchive
from ingest.records import FeedState, FetchResult, ParsedFeed
from ingest.redact import redact_url
from ingest.store import articles, entries, feeds, fetchlog, queue
from ingest.store.engine import damage_message
from ingest.store.hosts import DbHostGate
from ingest.store.models import utcnow
from ingest.store.raw import Kept
from ingest.update.page import PageText
from ingest.update.prepare import PreparedFeed, parse_and_prepare
from ingest.worker import limit_memory

log = logging.getLogger(__name__)
DISK_FULL = "storage: the archive's disk is full"
P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class FeedReport:
    """What happened to one feed in a run: the summary table's row."""

    feed_id: int
    url: str
    status: str = "ok"  # ok | not_modified | failed | skipped (its host said Retry-After)
    new: int = 0
    updated: int = 0
    full: int = 0
    fallback: int = 0  # articles kept with the feed's text (page failed or empty)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    retry_at: datetime | None = None  # skipped: when its host lets us ask again
    pages_at: datetime | None = None  # pages held back by their host's Retry-After: until when


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """What became of one article page fetch."""

    full: bool  # full text was extracted
    deferred: datetime | None = None  # not asked (its host said Retry-After) before this time

    @property
    def outcome(self) -> str:
        return "deferred" if self.deferred else "full" if self.full else "failed"


class _RunWork:
    """How many feeds of a run still do real work. A feed whose host asked us to wait
    (Retry-After) waits only while others work: fetched in this run when the wait ends first,
    else left due at the wait's end for the next run."""

    def __init__(self, feeds: int) -> None:
        self.busy = feeds
        self.idle = asyncio.Event()
        self._check()

    def _check(self) -> None:
        if self.busy <= 0:
            self.idle.set()
        else:
            self.idle.clear()

    def pause(self) -> None:
        self.busy -= 1
        self._check()

    def resume(self) -> None:
        self.busy += 1
        self._check()

    async def wait_until(self, when: datetime) -> bool:
        """True when `when` came before the run's other work ended."""
        delay = (when - utcnow()).total_seconds()
        if delay <= 0:
            return True
        try:
            await asyncio.wait_for(self.idle.wait(), timeout=delay)
        except TimeoutError:
            return True
        return False


class Pipeline:
    """Owns the HTTP client, the process pool and the writer thread for one run or daemon."""

    def __init__(self, engine: Engine, settings: Settings, owner: str) -> None:
        self.engine = engine
        self.settings = settings
        self.owner = owner
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        # bodies fetched but not yet saved: enough to keep every connection and worker busy
        self._pages_in_hand = asyncio.Semaphore(
            settings.concurrency + 4 * (settings.workers or os.cpu_count() or 1)
        )
        # pebble, not ProcessPoolExecutor: a call past its timeout gets its worker killed and
        # replaced (a stuck extraction would otherwise hold a worker forever), and a worker that
        # dies (segfault, OOM kill) fails only its own call. forkserver: workers inherit no
        # event loop, threads or sockets of this process.
        context = multiprocessing.get_context("forkserver")
        # loaded once, shared; the extraction stack only when pages will be extracted (it costs
        # ~1.3 s of CPU, and a feeds-only run's first parse would wait for it)
        preload = ["ingest.parsepreload"] + (["ingest.workerpreload"] if settings.fulltext else [])
        context.set_forkserver_preload(preload)
        self._pool = ProcessPool(
            max_workers=settings.workers or os.cpu_count() or 1,
            context=context,
            initializer=limit_memory,
            initargs=(settings.worker_memory_mb,),
        )
        # Spacing per host in memory; Retry-After blocks shared through the archive (recorded
        # at once, read once per batch: `refresh_hosts`), on the writer thread.
        self.hosts = DbHostGate(
            engine, settings.per_host_concurrency, settings.host_delay, run=self.db
        )
        self.fetcher = Fetcher(settings, self.hosts)
        self.raw = RawArchive(settings)  # used on the writer thread only
        self._articles: dict[int, asyncio.Task[bool]] = {}  # in flight: one fetch per article
        self.disk_full = False  # a write failed for lack of space: the run stops
        self.stopping = False  # set on shutdown: no new page request starts
        self.blocked_pages = 0  # refused by the private-network guard in this run

    async def __aenter__(self) -> Pipeline:
        await self.fetcher.__aenter__()
        await self.hosts.refresh()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.fetcher.__aexit__(*exc)
        self._pool.stop()
        self._pool.join()
        self._writer.shutdown(wait=True)
        self.raw.close()

    @contextlib.asynccontextmanager
    async def renewing_leases(self) -> AsyncIterator[None]:
        """Renew every lease of this owner (feeds and pages) while the block runs, as a daemon
        tick does: a one-off run longer than `lease_seconds` keeps its tail."""
        lease = timedelta(seconds=self.settings.lease_seconds)

        async def renew() -> None:
            while True:
                await asyncio.sleep(lease.total_seconds() / 3)
                await self.db(feeds.renew_leases, self.engine, self.owner, utcnow() + lease)

        task = asyncio.ensure_future(renew())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store call on the single writer thread (short transactions, loop stays free)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: fn(*args, **kwargs))

    @contextlib.contextmanager
    def _page_slot(self) -> Iterator[Callable[[], Awaitable[None]]]:
        """A slot of `_pages_in_hand` for one page: taken when its host admits the request
        (the fetcher awaits `admitted`), given back once the page is saved. Fetching runs
        faster than extraction; without a bound every fetched body of a run waited in memory
        (1,000 pages of 80 KB: +80 MB in the main process). Taken after the host's own gate,
        so pages that wait for a polite host hold no slot other hosts could use."""
        held = False

        async def admitted() -> None:
            nonlocal held
            if not held:  # once per page, redirects and robots.txt included
                await self._pages_in_hand.acquire()
                held = True

        try:
            yield admitted
        finally:
            if held:
                self._pages_in_hand.release()

    async def log_fetch(
        self,
        kind: str,
        result: FetchResult,
        *,
        feed_id: int | None = None,
        article_id: int | None = None,
    ) -> int | None:
        """Archive a response as WARC records, then log the attempt with where they went (one
        call and one transaction on the writer thread: the records are flushed before any row
        points at them);
        the redirects it followed are archived with it. robots.txt fetched on its behalf comes
        first, as attempts of their own (kind `robots`).
        Returns the raw response's id. A WARC write that fails is logged, the fetch goes on."""

        return await self.db(self._logged, kind, result, feed_id=feed_id, article_id=article_id)

    def _logged(
        self,
        kind: str,
        result: FetchResult,
        *,
        feed_id: int | None = None,
        article_id: int | None = None,
    ) -> int | None:
        """`log_fetch`'s work, on the writer thread."""
        with self.engine.begin() as conn:
            return self._log_one(conn, kind, result, feed_id, article_id)

    def _log_one(
        self,
        conn: Connection,
        kind: str,
        result: FetchResult,
        feed_id: int | None,
        article_id: int | None,
    ) -> int | None:
        """An attempt, in the writer's transaction `conn`, after the robots.txt fetched on its
        behalf (attempts of their own, kind `robots`)."""
        for robots in result.robots:
            self._log_one(conn, "robots", robots, None, None)
        if result.deferred:  # never sent (its host said Retry-After): no attempt, no row
            return None
        kept: Kept | None = None
        hops: list[Kept] = []
        try:
            hops = [k for hop in result.hops if (k := self.raw.keep(conn, hop)) is not None]
            kept = self.raw.keep(conn, result, feed_id=feed_id, article_id=article_id)
        except OSError as exc:
            log.error("cannot write WARC record for %s: %s", result.url, exc)
        return fetchlog.log_fetch(
            conn,
            kind,
            result,
            feed_id=feed_id,
            article_id=article_id,
            owner=self.owner,
            raw=kept,
            hops=hops,
        )

    async def cpu(self, timeout: float, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in the process pool; TimeoutError past `timeout` (its worker is killed),
        ProcessExpired when the worker died."""
        return await asyncio.wrap_future(self._pool.schedule(fn, args=args, timeout=timeout))

    # -- a batch -------------------------------------------------------------------------

    async def run_claimed(
        self,
        states: Sequence[FeedState],
        on_done: Callable[[FeedReport], Awaitable[None] | None] | None = None,
    ) -> list[FeedReport]:
        """Update the claimed feeds concurrently; one failing never stops the others."""
        work = _RunWork(len(states))

        async def one(state: FeedState) -> FeedReport:
            try:
                report = await self._update_in_turn(state, work)
            except Exception as exc:  # a bug must not stop the batch: record it on the feed
                if isinstance(exc, DatabaseError) and damage_message(exc):
                    raise  # the archive itself is damaged, not this feed: stop the run
                if is_disk_full(exc):  # nothing more can be written: the run stops cleanly
                    self.disk_full = True
                    report = FeedReport(state.id, state.url, "failed", error=DISK_FULL)
                else:
                    log.exception("internal error updating %s", redact_url(state.url))
                    report = FeedReport(state.id, state.url, "failed", error=f"internal: {exc!r}")
                    await self._complete_failure(state, ErrorClass.INTERNAL, repr(exc), None)
            if on_done is not None:
                maybe = on_done(report)
                if maybe is not None:
                    await maybe
            return report

        return list(await asyncio.gather(*(one(state) for state in states)))

    async def _update_in_turn(self, state: FeedState, work: _RunWork) -> FeedReport:
        """`update_feed`, waiting out a Retry-After of its host (or of its pages' hosts) while
        the run has other work; else the feed, or its pages, are due when the wait ends."""
        working = True
        try:
            report = await self.update_feed(state)
            while (when := report.retry_at or report.pages_at) is not None:
                work.pause()
                working = False
                if not await work.wait_until(when):
                    if report.retry_at is not None:  # no error: nothing was asked
                        await self.db(self._complete, state.id, {"next_fetch_at": report.retry_at})
                    else:
                        report.notes.append(
                            f"pages held back until {when:%H:%M:%S} UTC (Retry-After)"
                        )
                    break
                work.resume()
                working = True
                if report.retry_at is not None:
                    report = await self.update_feed(state)
                else:
                    report.pages_at = None
                    report = await self._fetch_pending(state, report)
            return report
        finally:
            if working:
                work.pause()

    # -- one feed ------------------------------------------------------------------------

    async def update_feed(
        self,
        state: FeedState,
        prefetched: FetchResult | None = None,
        prepared: PreparedFeed | None = None,
        *,
        fetch_pages: bool = True,
        declared_by: FetchResult | None = None,
    ) -> FeedReport:
        """Fetch, parse and record one claimed feed. `prefetched` (and its `prepared` form) is a
        response already fetched, e.g. by `feeds add`: it is recorded as this poll instead of a
        new request. `fetch_pages=False` leaves the new articles' pages queued for later.

        A feed URL that answers with an HTML page instead (the site moved to a new platform) is
        followed once to the feed the page declares (`declared_by` is then that page), under the
        address policy of the feed's own URL; the subscription moves there like after a
        permanent redirect (see `_redirect_update`)."""
        report = FeedReport(state.id, state.url)
        if self.disk_full:  # the run is stopping: no new request
            report.status, report.error = "failed", DISK_FULL
            return report
        result = prefetched or await self.fetcher.fetch_feed(state.url, state.validators)
        if result.deferred:  # never sent (its host said Retry-After): no log row, no error
            wait = _wait_end(result)
            report.status, report.retry_at = "skipped", wait
            report.notes.append(f"host rate-limited (Retry-After) until {wait:%H:%M:%S} UTC")
            return report
        if result.not_modified:  # the attempt and the feed's new state in one writer call
            report.status = "not_modified"
            await self._complete_success(state, result, report, declared_by, log=True)
            return await self._fetch_pending(state, report)
        await self.log_fetch("feed", result, feed_id=state.id)
        if not result.ok or result.body is None:
            error = _declared(result.error, declared_by)
            report.status, report.error = "failed", f"{result.error_class}: {error}"
            await self._complete_failure(
                state, result.error_class or ErrorClass.INTERNAL, error, result
            )
            return report
        try:  # parsing and the items' CPU work (keys, text, hashes) in a worker process
            prepared = prepared or await self.cpu(
                self.settings.extract_timeout,
                parse_and_prepare,
                result.body,
                result.headers,
                result.final_url,
                self.settings.near_duplicate_min_words,
            )
        except NotAFeedError as exc:
            link = None if declared_by else await self._feed_link(state, result)
            if link is not None:  # a page that declares the feed: fetched as the feed's move
                found = await self.fetcher.fetch_feed(link, origin=state.url)
                return await self.update_feed(
                    state, found, fetch_pages=fetch_pages, declared_by=result
                )
            error = _declared(str(exc), declared_by)
            report.status, report.error = "failed", f"parse: {error}"
            await self._complete_failure(state, ErrorClass.PARSE, error, result)
            return report
        except (TimeoutError, ProcessExpired) as exc:
            # usually load, not the feed: retried with the short, transient backoff
            why = "timed out" if isinstance(exc, TimeoutError) else "parser process died"
            report.status, report.error = "failed", f"parse: {why}"
            await self._complete_failure(state, ErrorClass.TIMEOUT, f"parsing {why}", result)
            return report
        if prepared.feed.problem:
            report.notes.append(prepared.feed.problem)
        outcome = await self._complete_success(
            state, result, report, declared_by, prepared=prepared, queue_pages=not fetch_pages
        )
        assert outcome is not None  # entries were recorded
        report.new, report.updated = outcome.new, outcome.updated
        if outcome.guid_changes:
            report.notes.append(f"{outcome.guid_changes} known entries under new guids")
        for item in outcome.skipped:
            report.notes.append(f"item {item.index + 1} ({item.title!r}) not kept: {item.reason}")
        if not fetch_pages:
            return report
        report = await self._fetch_pending(state, report, outcome.pending)
        if self.settings.fulltext:  # an item changed in the feed: look at its page for the edit
            await asyncio.gather(*(self.recheck_article(a, state.url) for a in outcome.changed))
        return report

    async def _feed_link(self, state: FeedState, page: FetchResult) -> str | None:
        """The feed an HTML page at a feed's URL declares (`<link rel="alternate">`), other than
        the page itself; None when there is none (or the page cannot be read)."""
        assert page.body is not None
        try:
            links = await self.cpu(
                self.settings.extract_timeout,
                discover_feeds,
                page.body,
                page.headers,
                page.final_url,
            )
        except Exception:  # timeout, dead worker, hostile page: nothing usable was found
            return None
        here = {canonical_url(url) for url in (state.url, page.url, page.final_url)}
        return next((url for url in links if canonical_url(url) not in here), None)

    async def _fetch_pending(
        self, state: FeedState, report: FeedReport, pending: Sequence[int] | None = None
    ) -> FeedReport:
        """Full text for this feed's articles still waiting (new ones, or left by a crash)."""
        if not self.settings.fulltext:
            return report
        if pending is None:
            pending = await self.db(entries.pending_articles, self.engine, state.id)
        if not pending:
            return report
        lease = timedelta(seconds=self.settings.lease_seconds)
        mine = await self.db(queue.lease_articles, self.engine, self.owner, pending, lease=lease)
        try:
            results = await asyncio.gather(*(self.fetch_article(a, state.url) for a in mine))
        finally:
            await self.db(queue.release_articles, self.engine, self.owner, mine)
        report.full += sum(r.full for r in results)
        report.fallback += sum(not r.full and r.deferred is None for r in results)
        report.pages_at = min((r.deferred for r in results if r.deferred), default=None)
        return report

    async def fetch_article(self, article_id: int, origin: str) -> PageOutcome:
        """Fetch, keep and extract one article page.

        Two feeds of one run often share an article (syndication): it is fetched once.
        """
        task = self._articles.get(article_id)
        if task is None:
            task = asyncio.ensure_future(self._fetch_article(article_id, origin))
            self._articles[article_id] = task
            task.add_done_callback(lambda _: self._articles.pop(article_id, None))
        return await asyncio.shield(task)

    async def _fetch_article(self, article_id: int, origin: str) -> PageOutcome:
        url = await self.db(articles.article_url, self.engine, article_id)
        if url is None or self.stopping:  # shutting down: it stays queued for the next run
            return PageOutcome(False)
        with self._page_slot() as admitted:
            page = await self.fetcher.fetch_page(url, origin=origin, admitted=admitted)
            raw_id = await self.log_fetch("page", page, article_id=article_id)
            if page.deferred:  # never sent: no attempt counted, queued for when the wait ends
                until = _wait_end(page)
                await self.db(queue.defer_article, self.engine, article_id, until, self.owner)
                return PageOutcome(False, until)
            self.blocked_pages += page.error_class == ErrorClass.BLOCKED
            log.info(
                "page of article %d fetched: %s %s", article_id, page.status or page.error, url
            )
            text, reason, timed_out = await self._extract(page)
            # worth a later retry (the article's own queue): the network or the load may do
            # better, and a page that answered an error (404, blocked) may appear: until then
            # the article's text is a feed's, which must not stand for the page for good
            transient = timed_out or page.error_class in schedule.TRANSIENT_PAGE or not page.ok
            await self.db(
                articles.save_page,
                self.engine,
                article_id,
                page,
                text,
                reason,
                raw_id=raw_id,
                retry_schedule=self.settings.retry_schedule if transient else (),
                recheck_schedule=self.settings.recheck_schedule,
                thresholds=self.thresholds,
                owner=self.owner,
            )
            return PageOutcome(text is not None)

    async def _extract(self, page: FetchResult) -> tuple[PageText | None, str | None, bool]:
        """The article in a fetched page (with its text's facts, computed in the worker), else
        why not; and whether extraction timed out."""
        if not page.ok or page.body is None:
            return None, f"{page.error_class}: {page.error}", False
        try:
            text = await self.cpu(
                self.settings.extract_timeout,
                prepare_page,
                page.body,
                page.content_type,
                page.final_url,
            )
        except TimeoutError:
            return None, f"extract: timed out after {self.settings.extract_timeout:g}s", True
        except Exception as exc:  # a hostile page (or a crashed worker) must not stop the run
            return None, f"extract: {exc!r}", False
        return text, None if text else "extractor found no article text", False

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            self.settings.near_duplicate_similarity, self.settings.near_duplicate_min_words
        )

    async def revisit(self, article: queue.DueArticle) -> str:
        """Look at a due article page again: a re-check for edits when it has full text, else a
        full-text retry. Returns the re-check outcome, or `full`/`failed`/`deferred` for a retry."""
        if article.extraction == "full":
            return await self.recheck_article(article.id, article.origin or "")
        return (await self.fetch_article(article.id, article.origin or "")).outcome

    async def recheck_article(self, article_id: int, origin: str) -> str:
        """Fetch a known article's page again with a conditional GET and keep what changed:
        `revised`, `unchanged`, `removed` (404/410) or `failed` (see store.save_recheck); or
        `deferred`: not asked, its host said Retry-After (due again when the wait ends)."""
        url, validators = await self.db(articles.recheck_validators, self.engine, article_id)
        if url is None:
            return "failed"
        with self._page_slot() as admitted:
            page = await self.fetcher.fetch_page(
                url, origin=origin, validators=validators, admitted=admitted
            )
            raw_id = await self.log_fetch("page", page, article_id=article_id)
            if page.deferred:
                await self.db(
                    queue.defer_article, self.engine, article_id, _wait_end(page), self.owner
                )
                return "deferred"
            text, reason, _ = await self._extract(page)
            if page.ok and not page.not_modified and text is None:  # kept as it was
                log.warning("re-check of article %d: %s", article_id, reason)
            return await self.db(
                articles.save_recheck,
                self.engine,
                article_id,
                page,
                text,
                raw_id=raw_id,
                recheck_schedule=self.settings.recheck_schedule,
                owner=self.owner,
            )

    # -- feed outcome --------------------------------------------------------------------

    async def _complete_success(
        self,
        state: FeedState,
        result: FetchResult,
        report: FeedReport,
        declared_by: FetchResult | None = None,
        *,
        prepared: PreparedFeed | None = None,
        queue_pages: bool = False,
        log: bool = False,
    ) -> entries.EntriesOutcome | None:
        """Write a successful poll in one transaction on the writer thread: with `prepared`, the
        feed's entries first (`entries.record`; with `queue_pages`, their pending pages due now,
        so a daemon's page claim takes them at its next tick), then the feed's new state
        (validators, its schedule from its pace, a redirect's move); with `log`, the attempt too
        (a 304 then costs one call and one transaction). A lost lease writes no state; the rest
        is written."""
        now = utcnow()
        parsed = prepared.feed if prepared else None

        def write() -> tuple[entries.EntriesOutcome | None, bool]:
            with self.engine.begin() as conn:
                if log:
                    self._log_one(conn, "feed", result, state.id, None)
                outcome = None
                if prepared is not None:
                    outcome = entries.record(
                        conn,
                        state.id,
                        prepared.entries,
                        fulltext=self.settings.fulltext,
                        thresholds=self.thresholds,
                        skipped=prepared.skipped,
                    )
                    if queue_pages and outcome.pending:
                        entries.make_pending_due(conn, state.id, now)
                published = entries.recent_publication_times(conn, state.id, schedule.PACE_SAMPLE)
                values = self._success_values(state, result, parsed, declared_by, published, now)
                return outcome, feeds.complete_feed(conn, self.owner, state.id, values)

        outcome, kept = await self.db(write)
        if not kept:
            report.notes.append("lease lost: another worker took this feed over")
        return outcome

    def _success_values(
        self,
        state: FeedState,
        result: FetchResult,
        parsed: ParsedFeed | None,
        declared_by: FetchResult | None,
        published: list[datetime],
        now: datetime,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {
            "last_fetched_at": now,
            "last_success_at": now,
            "last_status": result.status,
            "error_class": None,
            "error_message": None,
            "error_count": 0,
            "failing_since": None,
        }
        if declared_by is not None:  # the feed's URL answered a page: no validators of its own
            values |= {"etag": None, "last_modified": None}
        elif not result.not_modified:
            values |= {
                "etag": result.headers.get("etag"),
                "last_modified": result.headers.get("last-modified"),
            }
        if parsed is not None:
            values |= {
                "title": parsed.title or state.title,
                "site_url": parsed.link,
                "ttl_seconds": parsed.ttl_seconds,
                "problem": feed_problems(parsed, now),  # None clears an earlier problem
            }
        cap = self.settings.max_cache_age
        cache_until = schedule.cache_lifetime(result.headers, now, cap)
        interval = schedule.success_interval(published, now, self.settings, state.interval_override)
        ttl = parsed.ttl_seconds if parsed else state.ttl_seconds
        values["cache_until"] = cache_until
        values["next_fetch_at"] = schedule.next_after_success(
            now,
            self.settings,
            interval=interval,
            not_before=[
                cache_until,
                now + timedelta(seconds=min(ttl, cap)) if ttl else None,
                retry_after(result.headers, now, max_wait=cap),
            ],
        )
        confirmations = self.settings.redirect_confirmations
        return values | _redirect_update(state, result, confirmations, declared_by)

    async def _complete_failure(
        self, state: FeedState, error_class: str, message: str | None, result: FetchResult | None
    ) -> None:
        now = utcnow()
        count = state.error_count + 1
        values: dict[str, Any] = {
            "last_fetched_at": now,
            "last_status": result.status if result else None,
            "error_class": str(error_class),
            "error_message": message,
            "error_count": count,
            "failing_since": state.failing_since or now,
        }
        if error_class == ErrorClass.GONE:
            values["gone_at"] = now
        until: datetime | None = (
            retry_after(result.headers, now, max_wait=self.settings.max_cache_age)
            if result
            else None
        )
        values["next_fetch_at"] = schedule.next_after_error(
            now, self.settings, error_class=error_class, error_count=count, retry_after=until
        )
        await self.db(self._complete, state.id, values)

    def _complete(self, feed_id: int, values: dict[str, Any]) -> bool:
        """`feeds.complete_feed` in a transaction of its own, on the writer thread."""
        with self.engine.begin() as conn:
            return feeds.complete_feed(conn, self.owner, feed_id, values)


def _wait_end(result: FetchResult) -> datetime:
    """When a request held back by its host's Retry-After may go (the HTTP-date the block
    travels in has whole seconds: it may end just after it)."""
    return retry_after(result.headers, utcnow()) or utcnow() + timedelta(seconds=1)


def _declared(error: str | None, declared_by: FetchResult | None) -> str | None:
    """An error of the feed a page declared, saying where that feed was found."""
    if declared_by is None:
        return error
    return f"{error} (the feed its URL's page links to)"


def _redirect_update(
    state: FeedState,
    result: FetchResult,
    confirmations: int,
    declared_by: FetchResult | None = None,
) -> dict[str, Any]:
    """Move a feed to a new URL only after the same permanent move on consecutive fetches, and
    never onto a private address other than its own host and port: the stored URL is the
    origin the user vouched for, whose pages may be fetched (see `fetch.guard`).

    A permanent move is a chain of 301/308 redirects; or an HTML page at the feed's URL
    (`declared_by`, reached by such a chain or directly) that declares the feed `result`
    fetched, with the same rule for that feed's own redirects."""
    hops = (declared_by.redirects if declared_by else ()) + result.redirects
    if (
        not (hops or declared_by)
        or any(status not in (301, 308) for status, _ in hops)
        or not _may_move(state.url, result)
    ):
        return {"redirect_url": None, "redirect_count": 0}
    target = result.final_url
    count = state.redirect_count + 1 if state.redirect_url == target else 1
    if count >= confirmations:
        return {"url": target, "redirect_url": None, "redirect_count": 0}
    return {"redirect_url": target, "redirect_count": count}


def _may_move(url: str, result: FetchResult) -> bool:
    """The redirect target is on the feed's own host and port, or answered from a public address."""
    try:
        here, there = URL(url), URL(result.final_url)
        if (here.host, here.port) == (there.host, there.port):
            return True
        return result.peer is not None and is_public(canonical(result.peer))
    except ValueError:
        return False
