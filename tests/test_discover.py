"""Feed discovery from a site's home page."""

from __future__ import annotations

from ingest.parse.discover import discover_feeds
from tests.fixturefiles import load_fixture

BASE = "http://127.0.0.1:8123"


def test_feed_links_in_document_order_absolute_and_deduplicated() -> None:
    body = load_fixture("index.html", BASE)
    assert discover_feeds(body, {"content-type": "text/html; charset=utf-8"}, f"{BASE}/") == [
        f"{BASE}/feed.rss",
        f"{BASE}/feed.atom",
        f"{BASE}/feed.json",
        f"{BASE}/comments/feed.rss",
    ]


def test_non_feed_alternates_and_plain_anchors_are_ignored() -> None:
    found = discover_feeds(load_fixture("index.html", BASE), {}, f"{BASE}/")
    assert f"{BASE}/wp-json/wp/v2/pages/12" not in found  # application/json: a REST API
    assert f"{BASE}/zh/" not in found  # a translation, text/html
    assert f"{BASE}/feed.xml" not in found  # an <a>, not a declaration


def test_relative_hrefs_follow_the_page_url_and_base_element() -> None:
    page = (
        b'<html><head><base href="https://cdn.example.com/site/">'
        b'<link rel="alternate" type="application/atom+xml" href="atom.xml">'
        b"</head><body></body></html>"
    )
    assert discover_feeds(page, {}, "https://example.com/") == [
        "https://cdn.example.com/site/atom.xml"
    ]


def test_a_page_without_feeds_or_without_content_gives_nothing() -> None:
    assert discover_feeds(load_fixture("other-1.html", BASE), {}, f"{BASE}/2018/07/other-1/") == []
    assert discover_feeds(b"", {}, f"{BASE}/") == []
