"""Fetch semantics users rely on (issue 10): a Retry-After on one feed skips, and does not fail,
the other feeds of its host; the server's wait is the one applied; `feeds add` keeps it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from ingest.store.hosts import blocked_hosts
from ingest.store.models import Article, PageQueue, utcnow
from tests.conftest import Cli
from tests.daemons import FAST, Running, wait_for
from tests.faultsite import (
    RSS,
    Archive,
    Handler,
    RawSite,
    Request,
    open_test_archive,
    raw_site,
    response,
    rss,
)


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


@pytest.fixture
def elsewhere() -> Iterator[RawSite]:
    yield from raw_site("127.0.0.2")


def test_a_retry_after_skips_the_hosts_other_feeds_until_the_next_run(
    web: RawSite, db_url: str
) -> None:
    """The feeds of one host reach its gate in no fixed order (each resolves its address in a
    thread first), so every feed here answers 503 with Retry-After: whichever is asked first
    speaks for the host, and the other two are never asked in this run."""
    paths = ("/a.rss", "/b.rss", "/c.rss")
    for path in paths:
        web.serve(path, 503, b"busy", Retry_After="120")
    archive = open_test_archive(db_url, fulltext=False, per_host_concurrency=1)
    ids = [archive.add(web.url(p)) for p in paths]
    result = archive.fetch()

    status = {r.feed_id: r.status for r in result.reports}
    [asked] = [r.feed_id for r in result.failed]  # the exit code counts only the one asked
    others = [feed_id for feed_id in ids if feed_id != asked]
    assert status == {asked: "failed"} | {feed_id: "skipped" for feed_id in others}
    assert sum(web.hits[p] for p in paths) == 1
    for feed_id in others:
        assert archive.log(feed_id=feed_id) == []  # no row for a request never sent
        record = archive.feed(feed_id)
        assert record["error_count"] == 0 and record["error_class"] is None
        wait = _at(record["next_fetch_at"]) - utcnow()
        assert timedelta(seconds=100) < wait <= timedelta(seconds=120), wait
    wait = _at(archive.feed(asked)["next_fetch_at"]) - utcnow()  # the server's wait, no backoff
    assert timedelta(seconds=100) < wait <= timedelta(seconds=120), wait
    assert archive.feed(asked)["error_class"] == "rate_limited"


def test_a_short_retry_after_is_waited_out_within_the_run(
    web: RawSite, elsewhere: RawSite, db_url: str
) -> None:
    web.serve("/a.rss", 503, b"busy", Retry_After="1")
    web.serve_fixture("/b.rss", "minimal.rss", RSS)
    elsewhere.serve_fixture("/slow.rss", "minimal.rss", RSS)
    quick = elsewhere.routes["/slow.rss"]

    def slow(request: Request) -> Iterator[bytes]:  # the run's other work: longer than 1 s
        time.sleep(6)
        yield from quick(request)

    elsewhere.route("/slow.rss", slow)
    archive = open_test_archive(db_url, fulltext=False, per_host_concurrency=1)
    archive.add(web.url("/a.rss"))
    b = archive.add(web.url("/b.rss"))
    archive.add(elsewhere.url("/slow.rss"))
    result = archive.fetch()

    assert {r.feed_id: r.status for r in result.reports}[b] == "ok"
    assert web.hits["/b.rss"] == 1
    assert archive.feed(b)["error_count"] == 0


def test_feeds_add_keeps_a_503_retry_after(web: RawSite, cli: Cli) -> None:
    web.serve("/a.rss", 503, b"busy", Retry_After="120")
    added = cli("feeds", "add", web.url("/a.rss"))
    assert added.returncode == 0 and "could not fetch it now" in added.stderr
    done = cli("fetch")
    assert web.hits["/a.rss"] == 1, done.stderr  # not asked again before the wait is over
    assert "skipped until" in done.stderr and done.returncode == 0


def test_the_log_keeps_the_wait_for_the_host_apart_from_the_request(
    web: RawSite, db_url: str
) -> None:
    for path in ("/a.rss", "/b.rss"):
        web.serve_fixture(path, "minimal.rss", RSS)
    archive = open_test_archive(db_url, fulltext=False, host_delay=3)
    for path in ("/a.rss", "/b.rss"):
        archive.add(web.url(path))
    archive.fetch()
    second = max(archive.log(), key=lambda row: row.queue_ms)  # it waited for host_delay
    assert second.queue_ms >= 2000, second
    assert second.duration_ms < second.queue_ms, second  # a loopback answer, not the wait


def test_blocked_pages_are_counted_and_can_be_fetched_again_once_allowed(
    web: RawSite, elsewhere: RawSite, cli: Cli
) -> None:
    page = elsewhere.url("/2018/07/sensetime-singapore/")  # another private origin: blocked
    items = [{"title": "Story", "link": page, "guid": "s1", "description": "teaser"}]
    web.serve("/feed.rss", 200, rss(web.base, items), Content_Type=RSS)
    elsewhere.serve_site()
    assert cli("feeds", "add", web.url("/feed.rss")).returncode == 0
    done = cli("fetch")
    assert done.returncode == 0, done.stderr
    assert "1 pages blocked" in done.stderr
    assert "allow_networks" in done.stderr and "INGEST_ALLOW_NETWORKS" in done.stderr
    assert elsewhere.page_hits() == 0

    again = cli("fetch", "--retry-fulltext", INGEST_ALLOW_NETWORKS=elsewhere.host)
    assert again.returncode == 0, again.stderr
    assert "1 pages back on the queue" in again.stderr
    assert elsewhere.page_hits() == 1
    [article] = [json.loads(line) for line in cli("export").stdout.splitlines()]
    assert article["extraction"] == "full"


def test_a_page_that_answered_4xx_can_be_fetched_again(web: RawSite, cli: Cli) -> None:
    web.serve_site()
    page = "/2018/07/sensetime-singapore/"
    ready = web.routes[page]
    web.serve(page, 404, b"not published yet")
    assert cli("feeds", "add", web.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    assert cli("fetch").returncode == 0
    assert web.hits[page] == 1  # an ordinary fetch does not ask again

    web.route(page, ready)
    again = cli("fetch", "--retry-fulltext")
    assert again.returncode == 0, again.stderr
    assert "1 pages back on the queue" in again.stderr
    assert web.hits[page] == 2
    articles = [json.loads(line) for line in cli("export").stdout.splitlines()]
    assert {a["extraction"] for a in articles} == {"full"}


PAGES = ("/2018/07/sensetime-singapore/", "/2018/07/other-1/", "/2018/07/other-2/")


def _busy_first(web: RawSite, retry_after: str) -> None:
    """The fixture site, whose first page request is answered 503 + Retry-After."""
    web.serve_site()
    for path in PAGES:
        page = web.routes[path]

        def busy(request: Request, page: Handler = page) -> Iterator[bytes]:
            if web.page_hits() == 1:
                yield response(503, b"busy", Retry_After=retry_after)
            else:
                yield from page(request)

        web.route(path, busy)


def _queue(archive: Archive) -> dict[str, tuple[str, int, datetime | None]]:
    """Each article page's URL → (extraction, retries counted, when it is due)."""
    query = sa.select(
        Article.url, Article.extraction, PageQueue.retry_count, PageQueue.due_at
    ).join(PageQueue, PageQueue.article_id == Article.id)
    with archive.engine.connect() as conn:
        return {url: (extraction, n, due) for url, extraction, n, due in conn.execute(query)}


def test_pages_held_back_by_a_retry_after_are_not_attempts_and_go_when_it_ends(
    web: RawSite, db_url: str
) -> None:
    _busy_first(web, "2")
    archive = open_test_archive(db_url, per_host_concurrency=1)
    feed_id = archive.add(web.url("/feed.rss"))
    [report] = archive.fetch().reports
    assert report.status == "ok" and report.full == 0 and report.fallback == 1, report
    assert any(note.startswith("pages held back until") for note in report.notes), report
    assert web.page_hits() == 1  # the 503; the other two were never sent
    [asked] = [row for row in archive.log(feed_id=feed_id) if row.kind == "page"]
    assert (asked.status, asked.error_class) == (503, "rate_limited")  # no rows for the others
    queue = _queue(archive)
    held = [url for url, (extraction, _, _) in queue.items() if extraction == "pending"]
    assert len(held) == 2
    for url in held:  # no attempt consumed: still queued, due when the wait ends
        _, retries, due = queue[url]
        assert retries == 0 and due is not None and due <= utcnow() + timedelta(seconds=3)
    assert archive.feed(feed_id)["error_count"] == 0

    [until] = blocked_hosts(archive.engine).values()  # the host's wait, to the microsecond
    time.sleep(max(0.0, (until - utcnow()).total_seconds()))
    [report] = archive.fetch().reports
    assert report.full == 2, report
    assert web.page_hits() == 3  # each held-back page asked once, once the wait was over
    for url in held:
        assert _queue(archive)[url][0] == "full"


def test_pages_held_back_are_fetched_within_the_run_when_it_has_other_work(
    web: RawSite, elsewhere: RawSite, db_url: str
) -> None:
    _busy_first(web, "1")
    elsewhere.serve_fixture("/slow.rss", "minimal.rss", RSS)
    quick = elsewhere.routes["/slow.rss"]

    def slow(request: Request) -> Iterator[bytes]:  # the run's other work: longer than 1 s
        time.sleep(6)
        yield from quick(request)

    elsewhere.route("/slow.rss", slow)
    archive = open_test_archive(db_url, per_host_concurrency=1)
    feed_id = archive.add(web.url("/feed.rss"))
    archive.add(elsewhere.url("/slow.rss"))
    reports = {r.feed_id: r for r in archive.fetch().reports}
    assert reports[feed_id].full == 2 and reports[feed_id].fallback == 1, reports[feed_id]
    rows = [row for row in archive.log(feed_id=feed_id) if row.kind == "page"]
    assert sorted(row.status for row in rows) == [200, 200, 503]  # one row per request sent
    assert web.page_hits() == 3


def test_robots_txt_is_a_row_of_its_own_and_not_the_pages_time(web: RawSite, db_url: str) -> None:
    def slow_robots(_request: Request) -> Iterator[bytes]:
        time.sleep(3)
        yield response(200, b"User-agent: *\nAllow: /\n", Content_Type="text/plain")

    web.route("/robots.txt", slow_robots)
    web.serve_site()
    archive = open_test_archive(db_url)
    archive.add(web.url("/feed.rss"))
    assert archive.fetch().reports[0].full == 3
    rows = archive.log()
    [robots] = [row for row in rows if row.kind == "robots"]
    assert robots.status == 200 and robots.duration_ms >= 3000, robots
    pages = [row for row in rows if row.kind == "page"]
    assert len(pages) == 3
    for page in pages:  # a loopback answer: neither its time nor its wait is robots.txt's
        assert page.duration_ms + page.queue_ms < 3000, page


def test_rechecks_held_back_by_a_retry_after_are_not_attempts(web: RawSite, cli: Cli) -> None:
    web.serve_site()
    assert cli("feeds", "add", web.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    for path in PAGES:
        web.serve(path, 503, b"busy", Retry_After="600")
    done = cli("fetch", "--recheck", INGEST_PER_HOST_CONCURRENCY="1")
    assert done.returncode == 0, done.stderr
    assert "1 failed, 2 deferred (Retry-After)" in done.stdout
    assert web.page_hits() == 3 + 1  # the first fetch, then the one 503
    failed = json.loads(cli("log", "--failed", "--format", "json").stdout)
    assert [(row["status"], row["error_class"]) for row in failed] == [(503, "rate_limited")]
    archive = open_test_archive(cli.db_url)
    with archive.engine.connect() as conn:
        rows = conn.execute(sa.select(PageQueue.check_count, PageQueue.due_at)).all()
    assert sorted(count for count, _ in rows) == [0, 0, 1]  # only the one asked counts
    for count, due in rows:
        if count == 0:  # due again when the host's wait ends, not at the re-check schedule
            assert utcnow() + timedelta(seconds=500) < due <= utcnow() + timedelta(seconds=600)


def test_the_daemon_fetches_held_back_pages_when_the_wait_ends(
    web: RawSite, cli: Cli, daemons: list[Running]
) -> None:
    _busy_first(web, "2")
    assert cli("feeds", "add", web.url("/feed.rss")).returncode == 0  # its pages are queued
    daemon = Running(cli.popen("run", INGEST_PER_HOST_CONCURRENCY="1", **FAST))
    daemons.append(daemon)
    wait_for(lambda: web.page_hits() == 3, what="the held-back pages after the wait")
    wait_for(lambda: daemon.said("revisited: full") and len(_pages(cli)) == 3, what="the log")
    assert daemon.stop() == 0, daemon.log
    assert web.page_hits() == 3, web.log  # nothing asked while the host said to wait
    assert sorted(row["status"] for row in _pages(cli)) == [200, 200, 503]  # sent ones only


def _pages(cli: Cli) -> list[dict[str, object]]:
    rows = json.loads(cli("log", "--format", "json").stdout)
    return [row for row in rows if row["kind"] == "page"]
