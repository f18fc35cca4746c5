"""Stopping `ingest run` (issue 10): the first signal starts no new request and exits 0 within
a container's stop timeout; a second signal exits at once; the log says what was left."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import pytest
from werkzeug import Request, Response

from tests.conftest import Cli, Site
from tests.daemons import Running, wait_for

PAGES = ["/2018/07/sensetime-singapore/", "/2018/07/other-1/", "/2018/07/other-2/"]


@pytest.fixture
def slow_pages(site: Site) -> Iterator[list[Request]]:
    """Article pages that answer only after 30 s; the requests that reached the server."""
    seen: list[Request] = []
    hold = threading.Event()

    def slow(request: Request) -> Response:
        seen.append(request)
        hold.wait(30)
        return Response("<html><body><p>late</p></body></html>", content_type="text/html")

    for path in PAGES:
        site.server.expect_request(path).respond_with_handler(slow)
    site.serve_all()
    yield seen
    hold.set()


def _running(cli: Cli, daemons: list[Running], **env: str) -> Running:
    daemon = Running(
        cli.popen("run", INGEST_TICK_INTERVAL="0.2", INGEST_PER_HOST_CONCURRENCY="1", **env)
    )
    daemons.append(daemon)
    return daemon


def test_sigterm_starts_no_new_request_and_exits_0_in_time(
    cli: Cli, site: Site, slow_pages: list[Request], daemons: list[Running]
) -> None:
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    daemon = _running(cli, daemons)  # the default shutdown_grace
    wait_for(lambda: len(slow_pages) == 1, what="the first page request")
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(10) == 0, daemon.log  # a container's default stop timeout
    daemon._reader.join(5)
    assert len(slow_pages) == 1  # the queued pages were not requested: they wait for next run
    assert daemon.said("stay due for the next run"), daemon.log


def test_a_second_signal_exits_at_once(
    cli: Cli, site: Site, slow_pages: list[Request], daemons: list[Running]
) -> None:
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    daemon = _running(cli, daemons, INGEST_SHUTDOWN_GRACE="60")
    wait_for(lambda: len(slow_pages) == 1, what="the first page request")
    daemon.proc.send_signal(signal.SIGINT)
    wait_for(lambda: daemon.said("stopping"), what="the first signal's effect")
    daemon.proc.send_signal(signal.SIGINT)
    assert daemon.proc.wait(10) == 130, daemon.log  # not the 60 s grace
