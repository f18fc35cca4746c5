"""A subscribed feed URL that later answers with an HTML page declaring a feed (the site moved
to a new platform) is discovered at fetch time (issue 10), confirmed like a permanent redirect,
under the feed's address policy; a page that links to a private address or to itself is not
followed anywhere it should not be."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.store import feeds
from tests.faultsite import RSS, Archive, RawSite, open_test_archive, raw_site

HTML = "text/html; charset=utf-8"


@pytest.fixture
def archive(db_url: str) -> Archive:
    return open_test_archive(db_url, fulltext=False)


@pytest.fixture
def elsewhere() -> Iterator[RawSite]:
    """Another private origin (address and port) than the feed's."""
    yield from raw_site("127.0.0.2")


def _page_linking(*feed_urls: str) -> bytes:
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" href="{url}">' for url in feed_urls
    )
    return f"<html><head>{links}</head><body>We moved!</body></html>".encode()


def _moves_to_a_page(web: RawSite, *links: str) -> None:
    """/old.rss, a feed until now, answers with an HTML page declaring `links`."""
    web.serve("/old.rss", 200, _page_linking(*links), Content_Type=HTML)


def test_a_feed_whose_url_now_serves_a_page_moves_to_the_declared_feed(
    web: RawSite, archive: Archive
) -> None:
    web.serve_fixture("/old.rss", "feed.rss", RSS)
    feed_id = archive.add(web.url("/old.rss"))
    assert archive.fetch().reports[0].new == 3

    web.serve_fixture("/new/feed.xml", "feed.rss", RSS)
    _moves_to_a_page(web, "/new/feed.xml")
    [report] = archive.fetch().reports
    assert (report.status, report.new) == ("ok", 0), report  # the same items: no duplicates
    record = archive.feed(feed_id)
    assert record["url"] == web.url("/old.rss")  # one sighting is not enough, as for a 301
    assert (record["redirect_url"], record["redirect_count"]) == (web.url("/new/feed.xml"), 1)
    assert record["error_count"] == 0
    logged = [(row.url, row.status, row.kind) for row in archive.log(feed_id=feed_id)]
    assert logged[:2] == [
        (web.url("/new/feed.xml"), 200, "feed"),  # the discovered feed: a row of its own
        (web.url("/old.rss"), 200, "feed"),
    ]

    archive.fetch()  # the second sighting in a row: the subscription moves
    assert archive.feed(feed_id)["url"] == web.url("/new/feed.xml")
    assert feeds.add_feed(archive.engine, web.url("/old.rss")) == (feed_id, False)  # an alias
    archive.fetch()
    assert web.hits["/old.rss"] == 3 and web.hits["/new/feed.xml"] == 3
    assert len(archive.export()) == 3


def test_a_page_that_stops_declaring_the_feed_resets_the_count(
    web: RawSite, archive: Archive
) -> None:
    web.serve_fixture("/new/feed.xml", "feed.rss", RSS)
    _moves_to_a_page(web, "/new/feed.xml")
    feed_id = archive.add(web.url("/old.rss"))
    archive.fetch()
    web.serve_fixture("/old.rss", "feed.rss", RSS)  # a feed again: it had not moved after all
    archive.fetch()
    _moves_to_a_page(web, "/new/feed.xml")
    archive.fetch()
    record = archive.feed(feed_id)
    assert record["url"] == web.url("/old.rss") and record["redirect_count"] == 1


def test_a_page_linking_to_another_private_address_is_not_followed(
    web: RawSite, elsewhere: RawSite, archive: Archive
) -> None:
    elsewhere.serve_fixture("/feed.rss", "feed.rss", RSS)
    _moves_to_a_page(web, elsewhere.url("/feed.rss"))
    feed_id = archive.add(web.url("/old.rss"))
    for _ in range(2):
        [report] = archive.fetch().reports
        assert report.status == "failed" and report.error.startswith("blocked:"), report
    assert elsewhere.hits["/feed.rss"] == 0  # nothing was sent to it
    record = archive.feed(feed_id)
    assert record["url"] == web.url("/old.rss") and record["redirect_url"] is None
    assert record["error_class"] == "blocked"
    row = archive.log(feed_id=feed_id)[0]  # the refused link is in the log
    assert (row.url, row.status, row.error_class) == (elsewhere.url("/feed.rss"), None, "blocked")

    # allowed by the operator, it is fetched; still it never becomes the feed's origin
    allow = [f"{elsewhere.host}:{elsewhere.port}"]
    for _ in range(3):
        [report] = archive.fetch(allow_networks=allow).reports
        assert report.status == "ok", report
    assert elsewhere.hits["/feed.rss"] == 3
    assert archive.feed(feed_id)["url"] == web.url("/old.rss")
    assert len(archive.export()) == 3


def test_a_page_linking_only_to_itself_fails_without_a_loop(web: RawSite, archive: Archive) -> None:
    itself = web.url("/old.rss")
    _moves_to_a_page(
        web,
        "/old.rss",
        itself + "#feed",
        itself + "?utm_source=x",
        itself.upper()[:10] + itself[10:],
    )
    feed_id = archive.add(itself)
    [report] = archive.fetch().reports
    assert report.status == "failed" and report.error.startswith("parse: "), report
    assert web.hits == {"/old.rss": 1}  # every form of its own URL is itself: not asked again
    assert archive.feed(feed_id)["redirect_url"] is None


def test_a_declared_link_that_is_not_a_feed_either_is_followed_once(
    web: RawSite, archive: Archive
) -> None:
    _moves_to_a_page(web, "/next")
    web.serve("/next", 200, _page_linking("/after"), Content_Type=HTML)
    web.serve_fixture("/after", "feed.rss", RSS)
    feed_id = archive.add(web.url("/old.rss"))
    [report] = archive.fetch().reports
    assert report.status == "failed" and "the feed its URL's page links to" in report.error
    assert web.hits == {"/old.rss": 1, "/next": 1}  # one step of discovery, no chain
    assert archive.feed(feed_id)["error_class"] == "parse"


@pytest.mark.parametrize(("status", "moves"), [(301, True), (302, False)])
def test_a_redirect_to_the_declaring_page_counts_in_the_move(
    web: RawSite, archive: Archive, status: int, moves: bool
) -> None:
    web.serve("/old.rss", status, Location=web.url("/home"))
    web.serve("/home", 200, _page_linking("/new/feed.xml"), Content_Type=HTML)
    web.serve_fixture("/new/feed.xml", "feed.rss", RSS)
    feed_id = archive.add(web.url("/old.rss"))
    for _ in range(2):
        [report] = archive.fetch().reports
        assert report.status == "ok", report  # archived either way
    record = archive.feed(feed_id)
    assert (record["url"] == web.url("/new/feed.xml")) is moves  # a 302 is never a move
    assert len(archive.export()) == 3
