"""Fetch semantics users rely on (issue 10): a Retry-After on one feed skips, and does not fail,
the other feeds of its host; the server's wait is the one applied; `feeds add` keeps it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from ingest.store.models import utcnow
from tests.conftest import Cli
from tests.faultsite import RSS, RawSite, Request, open_test_archive, raw_site, rss


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


@pytest.fixture
def elsewhere() -> Iterator[RawSite]:
    yield from raw_site("127.0.0.2")


def test_a_retry_after_skips_the_hosts_other_feeds_until_the_next_run(
    web: RawSite, db_url: str
) -> None:
    web.serve("/a.rss", 503, b"busy", Retry_After="120")
    for path in ("/b.rss", "/c.rss"):
        web.serve_fixture(path, "minimal.rss", RSS)
    archive = open_test_archive(db_url, fulltext=False, per_host_concurrency=1)
    a, b, c = (archive.add(web.url(p)) for p in ("/a.rss", "/b.rss", "/c.rss"))
    result = archive.fetch()

    status = {r.feed_id: r.status for r in result.reports}
    assert status == {a: "failed", b: "skipped", c: "skipped"}
    assert [r.feed_id for r in result.failed] == [a]  # the exit code counts only feed a
    assert web.hits["/b.rss"] == web.hits["/c.rss"] == 0
    for feed_id in (b, c):
        assert archive.log(feed_id=feed_id) == []  # no row for a request never sent
        record = archive.feed(feed_id)
        assert record["error_count"] == 0 and record["error_class"] is None
        wait = _at(record["next_fetch_at"]) - utcnow()
        assert timedelta(seconds=100) < wait <= timedelta(seconds=120), wait
    wait = _at(archive.feed(a)["next_fetch_at"]) - utcnow()  # the server's wait, no backoff
    assert timedelta(seconds=100) < wait <= timedelta(seconds=120), wait


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
