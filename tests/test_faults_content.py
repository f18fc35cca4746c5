"""Issue 3, hostile and broken content: entity bombs, XXE, script in feed HTML, malformed XML,
charsets, empty and odd feeds, and an internal error in one feed. Each runs the real batch on a
real archive and checks what was archived and what was recorded on the feed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ingest.store import entries
from tests.conftest import Cli
from tests.faultsite import (
    RSS,
    Archive,
    RawSite,
    open_test_archive,
    response,
    rss,
)
from tests.fixturefiles import load_fixture

pytestmark = pytest.mark.timeout(120)  # safety net only


@pytest.fixture
def archive(db_url: str) -> Archive:
    # A small parse budget: an entity bomb that expanded would fail as "parsing timed out".
    return open_test_archive(db_url, fulltext=False, extract_timeout=5)


def test_billion_laughs_feed_is_archived_without_expansion(web: RawSite, archive: Archive) -> None:
    web.serve_fixture("/feed.rss", "laughs.xml", RSS)
    feed_id = archive.add(web.url("/feed.rss"))
    [report] = archive.fetch().reports
    assert report.status == "ok" and report.new == 1
    [record] = archive.export()
    assert record["title"].startswith("Billion") and "lollol" not in record["title"]
    assert "lollol" not in record["text"] and len(record["text"]) < 100  # left unexpanded
    assert "entity" in archive.feed(feed_id)["problem"]  # recorded, not hidden


def test_external_entity_never_leaks_a_local_file(
    web: RawSite, archive: Archive, db_url: str, tmp_path: Path
) -> None:
    secret = "TOP-SECRET-7f3a9c"
    target = tmp_path / "secret.txt"
    target.write_text(secret, encoding="utf-8")
    body = load_fixture("xxe.xml", web.base).replace(
        b"file:///etc/passwd", target.as_uri().encode()
    )
    web.serve("/feed.rss", 200, body, Content_Type=RSS)
    feed_id = archive.add(web.url("/feed.rss"))
    assert archive.fetch().reports[0].new == 1
    exported = json.dumps(archive.export())
    assert "Leak" in exported and secret not in exported
    assert archive.feed(feed_id)["problem"]
    archive.engine.dispose()
    files = list((Path(db_url.removeprefix("sqlite:///")).parent).glob("ingest.db*"))
    assert files and all(secret.encode() not in f.read_bytes() for f in files)


def test_feed_html_is_sanitized_for_display(web: RawSite, archive: Archive) -> None:
    hostile = (
        '<p onclick="steal()">Hello <script>alert(1)</script><a href="javascript:alert(2)">x</a>'
        '<img src="http://img.example/a.png" onerror="alert(3)"><iframe src="http://e.x/"></iframe>'
        "</p>"
    )
    item = {"title": "Hostile", "link": web.url("/hostile"), "guid": "h1", "description": hostile}
    web.serve("/feed.rss", 200, rss(web.base, [item]), Content_Type=RSS)
    archive.add(web.url("/feed.rss"))
    archive.fetch()
    shown = archive.article(web.url("/hostile"))
    html = shown["html"].lower()
    assert "hello" in html
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "alert"):
        assert bad not in html, bad
    assert "alert" not in shown["text"]


def test_malformed_feed_is_archived_and_the_problem_recorded_until_clean(
    web: RawSite, cli: Cli, db_url: str
) -> None:
    clean = response(200, load_fixture("feed.rss", web.base), Content_Type=RSS)
    broken = response(200, load_fixture("malformed.rss", web.base), Content_Type=RSS)
    served = iter([broken, clean])
    web.route("/feed.rss", lambda _r: [next(served)])
    archive = open_test_archive(db_url, fulltext=False)
    archive.add(web.url("/feed.rss"))

    done = cli("fetch", "--no-fulltext")
    assert done.returncode == 0, done.stderr  # the data was usable: not a failed fetch
    [record] = json.loads(cli("feeds", "list", "--format", "json").stdout)
    assert "not well-formed" in record["problem"] and record["health"] == "ok"
    titles = {a["title"] for a in archive.export()}
    assert {"Second item survives"} <= titles and len(titles) == 2

    archive.fetch()  # the feed was fixed: the problem goes away
    [record] = json.loads(cli("feeds", "list", "--format", "json").stdout)
    assert record["problem"] is None


LATIN1_FEED = (
    '<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><title>Caf\xe9</title>'
    "<item><title>Cr\xe8me br\xfbl\xe9e</title><link>{base}/creme</link><guid>c1</guid>"
    "<description>D\xe9j\xe0 vu</description></item></channel></rss>"
)


@pytest.mark.parametrize(
    ("declared", "content_type", "problem"),
    [
        ("iso-8859-1", "application/rss+xml", None),  # no charset in the header: the XML says it
        ("iso-8859-1", "text/xml", None),  # text/xml without charset
        # wrong: the bytes are latin-1; decoded right, and the lie is recorded
        ("utf-8", "application/rss+xml; charset=utf-8", "declared as utf-8, but parsed as"),
    ],
)
def test_wrong_or_missing_charset_is_decoded_as_well_as_possible(
    web: RawSite, archive: Archive, declared: str, content_type: str, problem: str | None
) -> None:
    body = LATIN1_FEED.format(declared=declared, base=web.base).encode("latin-1")
    web.serve("/feed.rss", 200, body, Content_Type=content_type)
    feed_id = archive.add(web.url("/feed.rss"))
    assert archive.fetch().reports[0].status == "ok"
    [record] = archive.export()
    assert record["title"] == "Crème brûlée" and record["text"] == "Déjà vu"
    recorded = archive.feed(feed_id)["problem"] or ""
    if problem:
        assert problem in recorded
    else:
        assert "declared as" not in recorded


def test_empty_feed_is_fine_and_says_so(web: RawSite, archive: Archive) -> None:
    web.serve("/feed.rss", 200, rss(web.base, []), Content_Type=RSS)
    feed_id = archive.add(web.url("/feed.rss"))
    assert archive.fetch().reports[0].status == "ok"
    record = archive.feed(feed_id)
    assert record["problem"] == "no entries" and record["error_class"] is None
    assert archive.export() == []


@pytest.mark.parametrize(
    "body", [b"", b"<html><body><p>Not a feed</p></body></html>", b"\x00\xffgarbage"]
)
def test_a_document_that_is_not_a_feed_is_a_parse_error(
    web: RawSite, archive: Archive, body: bytes
) -> None:
    web.serve("/feed.rss", 200, body, Content_Type="text/html")
    feed_id = archive.add(web.url("/feed.rss"))
    assert archive.fetch().reports[0].status == "failed"
    record = archive.feed(feed_id)
    assert record["error_class"] == "parse" and record["error_count"] == 1
    assert record["health"].startswith("failing since")
    assert archive.export() == []


def test_entries_without_guid_link_or_date_and_future_dates_are_kept(
    web: RawSite, archive: Archive
) -> None:
    web.serve_fixture("/feed.rss", "minimal.rss", RSS)
    feed_id = archive.add(web.url("/feed.rss"))
    assert archive.fetch().reports[0].new == 6
    by_title = {r["title"]: r for r in archive.export()}
    assert len(by_title) == 6
    assert by_title["No date here"]["published"] is None
    assert by_title["From the future"]["published"].startswith("2100-01-01")
    linkless = by_title[None]
    assert linkless["url"] is None and "content only" in linkless["text"]
    problem = archive.feed(feed_id)["problem"]
    for words in ("1 entry without a guid", "1 entry without a link", "1 entry without a date"):
        assert words in problem
    assert "1 entry dated in the future" in problem
    assert archive.fetch(feed_id).reports[0].new == 0  # keys are stable: nothing duplicates


def test_an_internal_error_in_one_feed_is_recorded_and_the_others_go_on(
    web: RawSite, archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    web.serve_fixture("/feed.rss", "feed.rss", RSS)
    web.serve_fixture("/partner.rss", "partner.rss", RSS)
    bad = archive.add(web.url("/feed.rss"))
    good = archive.add(web.url("/partner.rss"))
    record = entries.record

    def buggy(conn: Any, feed_id: int, *args: Any, **kwargs: Any) -> Any:
        if feed_id == bad:
            raise KeyError("a bug in the write path")
        return record(conn, feed_id, *args, **kwargs)

    monkeypatch.setattr(entries, "record", buggy)
    reports = {r.feed_id: r for r in archive.fetch().reports}
    assert reports[bad].status == "failed" and reports[good].status == "ok"
    failed = archive.feed(bad)
    assert (
        failed["error_class"] == "internal" and "a bug in the write path" in failed["error_message"]
    )
    assert archive.feed(good)["error_class"] is None
    assert {s["feed_url"] for a in archive.export() for s in a["sources"]} == {
        web.url("/partner.rss")
    }
