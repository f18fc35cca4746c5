"""Prometheus metrics and `/healthz` of a running daemon (`ingest run --metrics-port N`).

A registry of its own per daemon (not the global one), served by aiohttp on the daemon's event
loop, bound to 127.0.0.1 unless told otherwise: metrics are for the local scraper, not the world.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

from ingest.errors import UsageError
from ingest.pipeline import FeedReport
from ingest.store.nodes import Overview


class Metrics:
    """What a daemon counts; updated by the daemon, read by the scraper."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.fetches = Counter("ingest_fetches", "Feed fetches by outcome.", ["status"], registry=r)
        self.articles = Counter("ingest_articles_archived", "New articles archived.", registry=r)
        self.extraction_failures = Counter(
            "ingest_extraction_failures", "Article pages kept without full text.", registry=r
        )
        self.revisits = Counter(
            "ingest_article_revisits",
            "Due article pages fetched again (retries, re-checks) by outcome.",
            ["outcome"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "ingest_queue_depth", "Work due and not claimed yet.", ["queue"], registry=r
        )
        self.in_flight = Gauge("ingest_in_flight", "Feed and page updates running.", registry=r)
        self.tick_lag = Gauge(
            "ingest_tick_lag_seconds", "How late the last tick started.", registry=r
        )
        self.schedule_lag = Gauge(
            "ingest_schedule_lag_seconds", "How overdue the oldest due feed is.", registry=r
        )
        self.last_tick = Gauge(
            "ingest_last_tick_timestamp_seconds",
            "When the daemon last looked for work.",
            registry=r,
        )

    def feed_done(self, report: FeedReport) -> None:
        self.fetches.labels(report.status).inc()
        self.articles.inc(report.new)
        self.extraction_failures.inc(report.fallback)

    def revisit_done(self, outcome: str) -> None:
        self.revisits.labels(outcome).inc()

    def ticked(self, lag: float, overview: Overview | None, in_flight: int) -> None:
        self.tick_lag.set(lag)
        self.last_tick.set(time.time())
        self.in_flight.set(in_flight)
        if overview is not None:
            self.queue_depth.labels("feeds").set(overview.due)
            self.queue_depth.labels("articles").set(overview.articles_due)
            self.schedule_lag.set(
                max(0.0, time.time() - overview.oldest_due.timestamp())
                if overview.oldest_due
                else 0.0
            )


async def serve(
    metrics: Metrics, host: str, port: int, healthy: Callable[[], bool]
) -> web.AppRunner:
    """Start `/metrics` and `/healthz` (200 while the daemon ticks, 503 when it stalls)."""

    async def metrics_page(_request: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health_page(_request: web.Request) -> web.Response:
        return (
            web.Response(text="ok\n") if healthy() else web.Response(status=503, text="stalled\n")
        )

    app = web.Application()
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/healthz", health_page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:  # in use, not an address of this machine, does not resolve: exit 2
        await runner.cleanup()
        # errno's text ("Address already in use"); a resolver error's own (negative errno)
        if exc.errno is not None and exc.errno > 0:
            reason = os.strerror(exc.errno)
        else:
            reason = exc.strerror or str(exc)
        raise UsageError(
            f"cannot serve metrics on {host}:{port}: {reason}"
            " (choose another --metrics-host / --metrics-port)"
        ) from None
    return runner
