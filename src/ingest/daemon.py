"""`ingest run`: the long-running daemon. The feeds table is the schedule; this is its clock.

APScheduler (3.x, memory job store, never shared between processes) is only a local timer:
one tick job claims due feeds and due article pages under leases and starts their updates on
the same Pipeline the one-off fetch uses; other jobs sync the feeds files and do maintenance.
Updates run as tasks of their own, so a slow feed never delays the next tick; each tick renews
the leases of the work still in flight, so a long update keeps its feeds and a dead node's
leases simply expire. Any number of daemons may share one PostgreSQL archive this way.

SIGTERM/SIGINT: stop claiming and start no new request (pages a running update has not asked
for yet stay queued for the next run), let requests in flight finish for `shutdown_grace`
seconds (5), cancel the rest, give every lease back, exit 0. A second signal exits at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine

from ingest.batch import sync_feeds_files
from ingest.config import Settings
from ingest.metrics import Metrics, serve
from ingest.owner import make_owner
from ingest.pipeline import Pipeline
from ingest.records import FeedState
from ingest.redact import redact_url
from ingest.store import feeds, nodes, queue
from ingest.store.maintenance import run_maintenance
from ingest.store.models import utcnow

log = logging.getLogger(__name__)


class Daemon:
    """One node: claims due work every `tick_interval` seconds until told to stop."""

    def __init__(self, engine: Engine, settings: Settings, metrics: Metrics | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.metrics = metrics
        self.owner = make_owner("daemon")
        self.lease = timedelta(seconds=settings.lease_seconds)
        self._feeds: set[asyncio.Task[None]] = set()
        self._pages: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._last_tick: float | None = None  # time.monotonic()
        self._pipeline: Pipeline | None = None

    @property
    def pipeline(self) -> Pipeline:
        assert self._pipeline is not None, "the daemon is not running"
        return self._pipeline

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run until `stop` is set or SIGTERM/SIGINT arrives; leases are released on the way out."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            if stop.is_set():  # the second signal: the user does not want to wait
                log.warning("second signal: exiting now; leases expire on their own")
                os._exit(130)
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        runner = None
        if self.metrics is not None and self.settings.metrics_port:
            # first: a port in use is one error line before anything starts (exit 2)
            runner = await serve(
                self.metrics, self.settings.metrics_host, self.settings.metrics_port, self.healthy
            )
        nodes.register(self.engine, self.owner, "daemon")
        where = redact_url(self.engine.url.render_as_string(hide_password=False))
        log.info("daemon %s started on %s", self.owner, where)
        if runner is not None:
            host, port = self.settings.metrics_host, self.settings.metrics_port
            log.info("metrics on http://%s:%d/metrics", host, port)
        try:
            async with Pipeline(self.engine, self.settings, self.owner) as pipeline:
                self._pipeline = pipeline
                await self.sync_files()
                scheduler = self._scheduler()
                scheduler.start()
                try:
                    await stop.wait()
                finally:
                    log.info("stopping: no new work; %d updates in flight", self.in_flight)
                    self._stopping = True
                    pipeline.stopping = True  # no new request: queued pages wait for next run
                    scheduler.shutdown(wait=False)
                    await self._drain()
        finally:
            if runner is not None:
                await runner.cleanup()
            released = feeds.release_leases(self.engine, self.owner)
            queue.release_articles(self.engine, self.owner)
            nodes.unregister(self.engine, self.owner)
            log.info("daemon stopped; %d feed leases released", released)

    def _scheduler(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        )
        now = datetime.now(UTC)
        every = self.settings
        # the first tick runs at once, not after one interval
        scheduler.add_job(self.tick, "interval", seconds=every.tick_interval, next_run_time=now)
        scheduler.add_job(self.sync_files, "interval", seconds=every.feeds_sync_interval)
        scheduler.add_job(
            self.maintain, "interval", seconds=every.maintenance_interval, next_run_time=now
        )
        return scheduler

    @property
    def in_flight(self) -> int:
        return len(self._feeds) + len(self._pages)

    def healthy(self) -> bool:
        """Ticking on time: the last tick is at most a few intervals old."""
        if self._last_tick is None:
            return False
        return time.monotonic() - self._last_tick < 3 * self.settings.tick_interval + 30

    # -- jobs ----------------------------------------------------------------------------

    async def tick(self) -> None:
        """Renew leases in flight, claim due feeds and pages up to `batch_size`, start them."""
        if self._stopping:
            return
        started = time.monotonic()
        lag = 0.0
        if self._last_tick is not None:
            lag = max(0.0, started - self._last_tick - self.settings.tick_interval)
        self._last_tick = started
        db, engine, room = self.pipeline.db, self.engine, self.settings.batch_size
        await db(feeds.renew_leases, engine, self.owner, utcnow() + self.lease)
        await self.pipeline.hosts.refresh()  # Retry-After blocks other nodes received
        if room > len(self._feeds):
            claimed = await db(
                feeds.claim_feeds,
                engine,
                self.owner,
                lease=self.lease,
                limit=room - len(self._feeds),
                due_only=True,
            )
            for state in claimed:
                self._spawn(self._feeds, self._update(state))
        if self.settings.fulltext and room > len(self._pages):
            due = await db(
                queue.claim_due_articles,
                engine,
                self.owner,
                lease=self.lease,
                limit=room - len(self._pages),
            )
            for article in due:
                self._spawn(self._pages, self._revisit(article))
        await db(nodes.beat, engine, self.owner, in_flight=self.in_flight, ticked=True)
        if self.metrics is not None:
            overview = await db(nodes.overview, engine)
            self.metrics.ticked(lag, overview, self.in_flight)

    async def _update(self, state: FeedState) -> None:
        (report,) = await self.pipeline.run_claimed([state])
        log.info(
            "feed %d %s: %s, %d new%s",
            report.feed_id,
            report.url,
            report.status,
            report.new,
            f" ({report.error})" if report.error else "",
        )
        if self.metrics is not None:
            self.metrics.feed_done(report)

    async def _revisit(self, article: queue.DueArticle) -> None:
        """A due article page again (full-text retry or re-check); the lease goes back after."""
        try:
            outcome = await self.pipeline.revisit(article)
            log.info("article %d revisited: %s", article.id, outcome)
            if self.metrics is not None:
                self.metrics.revisit_done(outcome)
        finally:
            await self.pipeline.db(queue.release_articles, self.engine, self.owner, [article.id])

    async def sync_files(self) -> None:
        added, disabled = await self.pipeline.db(sync_feeds_files, self.engine, self.settings)
        if added or disabled:
            log.info("feeds files: %d added, %d disabled", added, disabled)
        total = await self.pipeline.db(nodes.overview, self.engine)
        if total.enabled == 0:
            log.warning(
                "no feeds yet: add one with `ingest feeds add URL` (or list them in "
                "config/feeds.toml); the daemon keeps running and picks them up"
            )

    async def maintain(self) -> None:
        done = await self.pipeline.db(
            run_maintenance, self.engine, self.settings.fetch_log_retention_days
        )
        if done is None:
            log.info("maintenance: another node is doing it")
        else:
            log.info("maintenance: %d fetch-log rows pruned, statistics refreshed", done.pruned)

    # -- tasks ---------------------------------------------------------------------------

    def _spawn(self, tasks: set[asyncio.Task[None]], work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        task.add_done_callback(_log_crash)

    async def _drain(self) -> None:
        """Give in-flight work `shutdown_grace` seconds, then cancel what is left."""
        pending = self._feeds | self._pages
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=self.settings.shutdown_grace)
        for task in late:
            task.cancel()
        if late:
            feeds_left = len(late & self._feeds)
            log.warning(
                "abandoned %d updates after the grace period (%d feeds, %d pages): "
                "they stay due for the next run",
                len(late),
                feeds_left,
                len(late) - feeds_left,
            )
            await asyncio.wait(late)


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("update crashed", exc_info=task.exception())
