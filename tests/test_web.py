"""The web pages and Atom feeds of `ingest serve`, read over HTTP as a browser would get them."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import quote

import feedparser

from tests.webarchive import SEED_TITLE, Served

PAGE = {"Accept": "text/html,application/xhtml+xml"}


class Scripts(HTMLParser):
    """Counts what could run in a browser: script elements, event-handler attributes,
    javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value}")


def page(served: Served, path: str) -> str:
    status, body, headers = served.fetch(path, **PAGE)
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    scripts = Scripts()
    scripts.feed(body)
    assert scripts.found == [], scripts.found
    return body


def test_home_lists_the_newest_articles_with_the_search_form(served: Served) -> None:
    html = page(served, "/")
    assert '<form class="search" method="get" action="/"' in html
    assert SEED_TITLE in html and "Newest articles" in html


def test_search_page_highlights_and_keeps_the_query_in_the_url(served: Served) -> None:
    html = page(served, "/?q=Temasek&since=2018-07-01")
    assert SEED_TITLE in html and "<mark>Temasek</mark>" in html
    assert 'value="Temasek"' in html and 'value="2018-07-01"' in html
    assert f'href="/articles/{served.seed_id()}"' in html
    assert "No matches." in page(served, "/?q=Temasek&until=2018-01-01")


def test_search_page_pages_through_results(served: Served) -> None:
    html = page(served, "/?q=the")
    assert "Next page" not in html  # fewer than a page of matches
    status, body, _ = served.fetch("/?q=" + quote("a\x00b"), **PAGE)
    assert status == 400 and "NUL" in body and "<h1>400</h1>" in body


def test_article_page_shows_paragraphs_sources_versions(served: Served) -> None:
    seed = served.seed_id()
    html = page(served, f"/articles/{seed}")
    assert f"<h1>{SEED_TITLE}</h1>" in html
    paragraphs = re.findall(r"<p>([^<]*)</p>", html.split('<div class="text">')[1])
    assert len(paragraphs) >= 4 and paragraphs[0].startswith("SenseTime, a Beijing-based")
    assert "SEE ALSO" not in html  # the cross-link the extractor removed stays removed
    assert '<a href="/feeds/1">Pandaily</a>' in html
    assert f'href="/articles/{seed}/diff?from=1&amp;to=2"' in html
    assert f'<a href="/articles/{seed}/raw">as archived</a>' in html


def test_the_original_response_is_served_as_text_as_show_raw_prints_it(served: Served) -> None:
    seed = served.seed_id()
    status, body, headers = served.fetch(f"/articles/{seed}/raw", **PAGE)
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"  # never sniffed into HTML
    head, _, page_html = body.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200 ") and "Content-Type: text/html" in head
    assert "Nanyang Technological University" in page_html
    assert "SEE ALSO" in page_html and "<script" in page_html  # the page, not the extraction
    shown = subprocess.run(
        [sys.executable, "-m", "ingest", "show", str(seed), "--raw"],
        cwd=served.cli.cwd,
        env=served.cli.env(),
        capture_output=True,
        check=True,
    ).stdout
    assert body.encode() == shown  # the same bytes as the CLI prints

    # a feed item whose link answered an error: that response is archived and shown too
    hostile = served.get("/api/articles?feed=2")[1]["articles"][0]["id"]
    assert "Original response" in page(served, f"/articles/{hostile}")
    status, body, _ = served.fetch(f"/articles/{hostile}/raw", **PAGE)
    assert status == 200 and re.match(r"HTTP/1\.1 [45]\d\d ", body)


def test_diff_page_marks_the_edit_like_ingest_diff(served: Served) -> None:
    seed = served.seed_id()
    html = page(served, f"/articles/{seed}/diff")
    assert "Version 1 → version 2" in html
    assert "<del>an</del> <ins>a</ins>" in html
    cli = served.cli("diff", str(seed))
    assert "[-an-]{+a+}" in cli.stdout  # the same change, as the CLI prints it
    status, body, _ = served.fetch(f"/articles/{seed}/diff?from=1&to=9", **PAGE)
    assert status == 400 and "versions 1 to 2" in body


def test_hostile_strings_are_escaped_and_html_sanitized(served: Served) -> None:
    hostile = served.get("/api/articles?feed=2")[1]["articles"][0]["id"]
    html = page(served, f"/articles/{hostile}")
    assert "t &lt;script&gt;alert(9)&lt;/script&gt;" in html
    archived = page(served, f"/articles/{hostile}/html")
    assert "hi" in archived and "alert(2)" not in archived
    feeds = page(served, "/feeds")
    assert "X &lt;b&gt;feed" in feeds
    assert "t &lt;script&gt;" in page(served, "/feeds/2")


def test_feeds_and_status_pages(served: Served) -> None:
    html = page(served, "/feeds")
    for column in ("health", "last success", "error", "next fetch"):
        assert f"<th>{column}</th>" in html
    assert html.count("<td>ok</td>") == 2
    feed = page(served, "/feeds/1")
    assert "Pandaily" in feed and SEED_TITLE in feed and "/feeds/1.atom" in feed
    assert "Older articles" not in feed  # one page holds all three
    newest = served.get("/api/feeds/1/articles?limit=1")[1]
    older = page(served, f"/feeds/1?before={newest['next']}")
    assert "Older articles" in older and newest["articles"][0]["title"] not in older
    assert older.count('class="result"') == 2
    status = page(served, "/status")
    assert "<th>due</th>" in status and "No daemon running" in status


def test_page_errors_are_pages_and_api_errors_json(served: Served) -> None:
    status, body, headers = served.fetch("/articles/999", **PAGE)
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert "no such article: 999" in body
    status, body, headers = served.fetch("/articles/999")
    assert status == 404 and headers["Content-Type"].startswith("application/json")


def test_atom_feeds_parse_back_with_their_full_texts(served: Served) -> None:
    status, body, headers = served.fetch("/feeds/1.atom")
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.bozo_exception
    assert parsed.feed.title == "Pandaily (archived)" and len(parsed.entries) == 3
    [seed] = [e for e in parsed.entries if e.title == SEED_TITLE]
    assert "Nanyang Technological University" in seed.content[0].value
    assert seed.link.endswith(f"/articles/{served.seed_id()}")

    found = feedparser.parse(served.fetch("/search.atom?q=Temasek")[1])
    assert found.bozo == 0 and [e.title for e in found.entries] == [SEED_TITLE]
    hostile = feedparser.parse(served.fetch("/feeds/2.atom")[1])
    assert hostile.bozo == 0 and hostile.entries[0].title == "t <script>alert(9)</script>"
    assert served.get("/search.atom")[0] == 400
