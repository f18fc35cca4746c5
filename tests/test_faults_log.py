"""Issue 3, never lose, never stop: the fetch log (`ingest log`, pruned by retention) and each
feed's health at a glance in `ingest feeds list`, table and JSON."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import pytest

from ingest.store.models import utcnow
from tests.conftest import Cli
from tests.faultsite import RSS, RawSite, open_test_archive, raw_site

pytestmark = pytest.mark.timeout(120)  # safety net only

SENSETIME = "/2018/07/sensetime-singapore/"


def test_log_lists_every_attempt_and_filters_failures(web: RawSite, cli: Cli, db_url: str) -> None:
    web.serve(SENSETIME, 500, b"oops")
    web.serve_site()
    archive = open_test_archive(db_url)
    archive.add(web.url("/feed.rss"))
    archive.add(web.url("/missing.rss"))  # 404
    archive.fetch()

    entries = json.loads(cli("log", "--format", "json").stdout)
    by_url = {e["url"]: e for e in entries}
    feed = by_url[web.url("/feed.rss")]
    assert (feed["kind"], feed["status"], feed["error_class"]) == ("feed", 200, None)
    assert feed["bytes"] > 1000 and feed["duration_ms"] >= 0
    assert by_url[web.url(SENSETIME)]["status"] == 500
    assert by_url[web.url(SENSETIME)]["error_class"] == "http_5xx"
    assert by_url[web.url("/missing.rss")]["error_class"] == "http_4xx"
    assert {e["kind"] for e in entries} == {"feed", "page", "robots"}
    robots = by_url[web.url("/robots.txt")]  # its own row: a 404 means "no rules", no failure
    assert (robots["kind"], robots["status"], robots["error_class"]) == ("robots", 404, None)
    assert robots["raw_id"] is not None  # archived like any response

    failed = json.loads(cli("log", "--failed", "--format", "json").stdout)
    assert {e["url"] for e in failed} == {web.url(SENSETIME), web.url("/missing.rss")}

    # a feed's log includes the pages of its articles
    of_feed = json.loads(cli("log", "--feed", web.url("/feed.rss"), "-f", "json").stdout)
    assert web.url(SENSETIME) in {e["url"] for e in of_feed}
    assert web.url("/missing.rss") not in {e["url"] for e in of_feed}
    assert len(json.loads(cli("log", "--limit", "2", "-f", "json").stdout)) == 2

    table = cli("log", "--failed")
    assert table.returncode == 0 and "http_5xx" in table.stdout and SENSETIME in table.stdout

    unknown = cli("log", "--feed", "99")
    assert unknown.returncode == 2 and unknown.stderr.strip() == "error: no such feed: 99"


def test_fetch_prunes_the_log_by_retention(web: RawSite, db_url: str) -> None:
    web.serve_site()
    archive = open_test_archive(db_url, fulltext=False, fetch_log_retention_days=30)
    archive.add(web.url("/feed.rss"))
    archive.fetch()
    old = (utcnow() - timedelta(days=31)).replace(tzinfo=None).isoformat(" ")
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        conn.execute(
            "INSERT INTO fetch_log (at, kind, url, bytes, duration_ms) VALUES (?, 'feed', ?, 0, 0)",
            (old, "http://old.example/feed"),
        )
    assert "http://old.example/feed" in {e.url for e in archive.log()}
    archive.fetch()
    urls = [e.url for e in archive.log()]
    assert "http://old.example/feed" not in urls
    assert urls == [web.url("/feed.rss")] * 2  # recent attempts stay


@pytest.fixture
def elsewhere() -> Iterator[RawSite]:
    """Another site (127.0.0.2): a Retry-After there must not hold back the other feeds."""
    yield from raw_site("127.0.0.2")


def test_feeds_list_shows_health_at_a_glance(
    web: RawSite, elsewhere: RawSite, cli: Cli, db_url: str
) -> None:
    web.serve_fixture("/ok.rss", "minimal.rss", RSS)
    web.serve("/failing.rss", 500)
    web.serve("/gone.rss", 410)
    elsewhere.serve("/limited.rss", 429, Retry_After="3600")
    archive = open_test_archive(db_url, fulltext=False)
    for name in ("ok", "failing", "gone"):
        archive.add(web.url(f"/{name}.rss"))
    archive.add(elsewhere.url("/limited.rss"))
    archive.fetch()

    listed = {
        f["url"].rsplit("/", 1)[1]: f
        for f in json.loads(cli("feeds", "list", "--format", "json").stdout)
    }
    assert listed["ok.rss"]["health"] == "ok"
    assert listed["failing.rss"]["health"].startswith("failing since")
    assert listed["failing.rss"]["failing_since"] and listed["failing.rss"]["error_count"] == 1
    assert listed["gone.rss"]["health"].startswith("gone since") and listed["gone.rss"]["gone_at"]
    assert listed["limited.rss"]["health"].startswith("rate-limited until")
    assert listed["limited.rss"]["rate_limited_until"]
    assert listed["ok.rss"]["rate_limited_until"] is None  # the wait is per host

    table = cli("feeds", "list").stdout
    for words in ("ok", "failing since", "gone since", "rate-limited until"):
        assert words in table
