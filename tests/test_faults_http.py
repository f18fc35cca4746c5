"""Issue 3, HTTP semantics: redirects, 304, 410, errors with backoff, 429/Retry-After, cache
lifetimes, per-host delay, robots.txt. Each test serves the fault from a loopback server, runs
the real batch (or the real CLI) on a real SQLite archive and checks the state left behind."""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from ingest.store import feeds
from ingest.store.models import utcnow
from tests.conftest import Cli
from tests.faultsite import RSS, Archive, RawSite, Request, open_test_archive, response
from tests.fixturefiles import load_fixture

pytestmark = pytest.mark.timeout(120)  # safety net only


@pytest.fixture
def archive(db_url: str) -> Archive:
    return open_test_archive(db_url, fulltext=False)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def redirect(web: RawSite, path: str, status: int, target: str) -> None:
    web.serve(path, status, Location=web.url(target))


def test_permanent_redirect_moves_the_feed_after_two_sightings_keeping_an_alias(
    web: RawSite, archive: Archive
) -> None:
    web.serve_fixture("/feed.rss", "feed.rss", RSS)
    redirect(web, "/old.rss", 301, "/feed.rss")
    feed_id = archive.add(web.url("/old.rss"))

    archive.fetch()
    first = archive.feed(feed_id)
    assert first["url"] == web.url("/old.rss")  # one sighting is not enough
    assert (first["redirect_url"], first["redirect_count"]) == (web.url("/feed.rss"), 1)

    archive.fetch()
    assert archive.feed(feed_id)["url"] == web.url("/feed.rss")
    # the old URL is an alias: adding it again finds the same feed, nothing duplicates
    assert feeds.add_feed(archive.engine, web.url("/old.rss")) == (feed_id, False)
    archive.fetch()
    assert web.hits["/old.rss"] == 2 and web.hits["/feed.rss"] == 3
    records = archive.export()
    assert len(records) == 3
    assert all(len(r["sources"]) == 1 for r in records)


@pytest.mark.parametrize("status", [302, 303, 307])
def test_temporary_redirects_never_move_the_feed(
    web: RawSite, archive: Archive, status: int
) -> None:
    web.serve_fixture("/feed.rss", "feed.rss", RSS)
    redirect(web, "/tmp.rss", status, "/feed.rss")
    feed_id = archive.add(web.url("/tmp.rss"))
    for _ in range(2):
        assert archive.fetch().reports[0].status == "ok"
    record = archive.feed(feed_id)
    assert record["url"] == web.url("/tmp.rss") and record["redirect_url"] is None
    assert web.hits["/tmp.rss"] == 2
    assert len(archive.export()) == 3


def test_redirect_loop_is_an_error_on_the_feed(web: RawSite, archive: Archive) -> None:
    redirect(web, "/a.rss", 301, "/b.rss")
    redirect(web, "/b.rss", 302, "/a.rss")
    feed_id = archive.add(web.url("/a.rss"))
    [report] = archive.fetch().reports
    assert report.status == "failed"
    record = archive.feed(feed_id)
    assert record["error_class"] == "redirects" and "loop" in record["error_message"]
    assert record["url"] == web.url("/a.rss")
    assert [e.error_class for e in archive.log(feed_id=feed_id)] == ["redirects"]


def test_304_is_success_and_parses_nothing(web: RawSite, archive: Archive) -> None:
    body = response(200, load_fixture("feed.rss", web.base), Content_Type=RSS, ETag='"v1"')

    def conditional(request: Request) -> list[bytes]:
        return [response(304)] if request.headers.get("if-none-match") == '"v1"' else [body]

    web.route("/feed.rss", conditional)
    feed_id = archive.add(web.url("/feed.rss"))
    archive.fetch()
    [report] = archive.fetch().reports
    assert report.status == "not_modified" and report.new == 0
    record = archive.feed(feed_id)
    assert record["last_status"] == 304 and record["error_class"] is None
    assert record["etag"] == '"v1"'  # kept for the next conditional request
    assert record["health"] == "ok"
    assert [e.status for e in archive.log(feed_id=feed_id)] == [304, 200]
    assert len(archive.export()) == 3


def test_410_marks_the_feed_gone_until_enabled(web: RawSite, cli: Cli, db_url: str) -> None:
    web.serve("/gone.rss", 410, b"gone")
    archive = open_test_archive(db_url)
    archive.add(web.url("/gone.rss"))
    assert archive.fetch().reports[0].error.startswith("gone")
    listed = json.loads(cli("feeds", "list", "--format", "json").stdout)
    assert listed[0]["gone_at"] and listed[0]["health"].startswith("gone since")
    requested = web.hits["/gone.rss"]

    done = cli("fetch")  # a fetch of all feeds leaves the gone one alone
    assert done.returncode == 0, done.stderr
    named = cli("fetch", "1")  # so does naming it, with a word on how to poll it again
    assert "skipped (gone (410); `ingest feeds enable 1` to poll it again)" in named.stderr
    assert web.hits["/gone.rss"] == requested

    assert cli("feeds", "enable", "1").returncode == 0
    [enabled] = json.loads(cli("feeds", "list", "--format", "json").stdout)
    assert enabled["gone_at"] is None and enabled["health"] == "new"
    assert enabled["failing_since"] is None and enabled["error_class"] is None
    archive.fetch()
    assert web.hits["/gone.rss"] == requested + 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hang(_request: Request) -> Iterator[bytes]:
    time.sleep(1.5)  # longer than the test's request_timeout
    yield response(200, b"late")


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [("404", "http_4xx"), ("500", "http_5xx"), ("timeout", "timeout"), ("refused", "network")],
)
def test_failures_back_off_longer_with_each_consecutive_error(
    web: RawSite, archive: Archive, fault: str, error_class: str
) -> None:
    if fault == "refused":
        url = f"http://127.0.0.1:{closed_port()}/feed.rss"
    else:
        web.route("/feed.rss", hang) if fault == "timeout" else web.serve("/feed.rss", int(fault))
        url = web.url("/feed.rss")
    feed_id = archive.add(url)
    waits: list[timedelta] = []
    records: list[dict[str, Any]] = []
    for _ in range(3):
        assert archive.fetch(request_timeout=0.5).reports[0].status == "failed"
        record = archive.feed(feed_id)
        records.append(record)
        waits.append(at(record["next_fetch_at"]) - at(record["last_fetched_at"]))
    assert [r["error_class"] for r in records] == [error_class] * 3
    assert [r["error_count"] for r in records] == [1, 2, 3]
    assert len({r["failing_since"] for r in records}) == 1  # since the first failure
    assert (
        records[-1]["health"].startswith("failing since") and error_class in records[-1]["health"]
    )
    assert all(w > timedelta(0) for w in waits)
    assert all(a < b for a, b in itertools.pairwise(waits)), waits
    assert [e.error_class for e in archive.log(feed_id=feed_id)] == [error_class] * 3


def test_429_on_a_page_keeps_every_process_off_the_host(
    web: RawSite, cli: Cli, db_url: str
) -> None:
    """The wait is recorded in the archive: a second `ingest fetch` process respects it."""
    for path in ("/2018/07/sensetime-singapore/", "/2018/07/other-1/", "/2018/07/other-2/"):
        web.serve(path, 429, b"slow down", Retry_After="3600")
    web.serve_site()
    archive = open_test_archive(db_url)
    archive.add(web.url("/feed.rss"))
    first = cli("fetch", INGEST_PER_HOST_CONCURRENCY="1")
    assert first.returncode == 0, first.stderr  # the feed itself was fine
    assert web.page_hits() == 1  # after the 429 no other page of that host was requested
    requests_so_far = sum(web.hits.values())

    second = cli("fetch")
    assert second.returncode == 0, second.stderr
    assert "skipped until" in second.stderr and "Retry-After" in second.stderr
    assert sum(web.hits.values()) == requests_so_far  # not the feed, not robots.txt, no page

    [record] = json.loads(cli("feeds", "list", "--format", "json").stdout)
    until = at(record["rate_limited_until"])
    assert timedelta(minutes=55) < until - utcnow() <= timedelta(hours=1)
    assert record["health"].startswith("rate-limited until")
    articles = archive.export()
    # the page that answered 429 keeps the feed's text; the 2 held back were never asked
    assert sorted(a["extraction"] for a in articles) == ["feed", "pending", "pending"]
    failed = json.loads(cli("log", "--failed", "--format", "json").stdout)
    assert [(e["status"], e["error_class"]) for e in failed] == [(429, "rate_limited")]


def test_429_on_the_feed_schedules_it_after_retry_after(web: RawSite, archive: Archive) -> None:
    web.serve("/feed.rss", 429, Retry_After="7200")
    feed_id = archive.add(web.url("/feed.rss"))
    archive.fetch()
    record = archive.feed(feed_id)
    assert record["error_class"] == "rate_limited"
    assert at(record["next_fetch_at"]) >= utcnow() + timedelta(minutes=119)
    assert record["health"].startswith("rate-limited until")
    result = archive.fetch()  # the host asked to wait: a fetch of all feeds skips it
    assert result.reports == [] and web.hits["/feed.rss"] == 1
    assert archive.fetch(feed_id).reports == []  # named: the host's wait still binds
    assert web.hits["/feed.rss"] == 1


def test_cache_control_max_age_is_respected_unless_the_feed_is_named(
    web: RawSite, archive: Archive
) -> None:
    web.serve_fixture("/feed.rss", "feed.rss", RSS, Cache_Control="public, max-age=3600")
    feed_id = archive.add(web.url("/feed.rss"))
    archive.fetch()
    assert at(archive.feed(feed_id)["cache_until"]) > utcnow() + timedelta(minutes=59)

    result = archive.fetch()
    assert result.reports == [] and web.hits["/feed.rss"] == 1
    [waiting] = result.waiting
    assert waiting.url == web.url("/feed.rss") and "Cache-Control" in waiting.reason
    assert waiting.until > utcnow() + timedelta(minutes=59)

    assert archive.fetch(feed_id).reports[0].status == "ok"  # named: asked for now
    assert web.hits["/feed.rss"] == 2


def test_cache_lifetime_is_capped_by_max_cache_age(web: RawSite, archive: Archive) -> None:
    web.serve_fixture("/feed.rss", "feed.rss", RSS, Cache_Control="max-age=31536000")
    feed_id = archive.add(web.url("/feed.rss"))
    archive.fetch(max_cache_age=600)
    assert at(archive.feed(feed_id)["cache_until"]) <= utcnow() + timedelta(seconds=600)


def test_requests_to_one_host_are_spaced_by_host_delay(web: RawSite, db_url: str) -> None:
    arrivals: list[float] = []

    def timed(name: str) -> Any:
        body = response(200, load_fixture(name, web.base), Content_Type="text/html")

        def handler(_request: Request) -> list[bytes]:
            arrivals.append(time.monotonic())
            return [body]

        return handler

    for path, name in [
        ("/2018/07/sensetime-singapore/", "sensetime.html"),
        ("/2018/07/other-1/", "other-1.html"),
        ("/2018/07/other-2/", "other-2.html"),
    ]:
        web.route(path, timed(name))
    web.serve_site()
    archive = open_test_archive(db_url, host_delay=0.3, per_host_concurrency=2)
    archive.add(web.url("/feed.rss"))
    assert archive.fetch().reports[0].full == 3
    assert len(arrivals) == 3
    # Starts are spaced by the delay recorded per host in the archive (network jitter allowed).
    assert all(b - a >= 0.15 for a, b in itertools.pairwise(sorted(arrivals))), arrivals


def test_robots_txt_applies_to_pages_not_to_the_subscribed_feed(web: RawSite, db_url: str) -> None:
    web.serve("/robots.txt", 200, b"User-agent: *\nDisallow: /\n", Content_Type="text/plain")
    web.serve_site()
    archive = open_test_archive(db_url)
    feed_id = archive.add(web.url("/feed.rss"))
    [report] = archive.fetch().reports
    assert report.status == "ok" and web.hits["/feed.rss"] == 1
    assert web.page_hits() == 0 and web.hits["/robots.txt"] == 1  # cached per host
    records = archive.export()
    assert len(records) == 3 and {r["extraction"] for r in records} == {"feed"}
    article = archive.article(web.url("/2018/07/sensetime-singapore/"))
    assert article["extraction_error"].startswith("robots")
    assert "memoranda of understanding" in article["text"]  # the feed's text is kept
    pages = [e for e in archive.log(feed_id=feed_id) if e.kind == "page"]
    assert len(pages) == 3 and {e.error_class for e in pages} == {"robots"}
