"""The core pipeline end to end through the real CLI: fetch → parse → extract → dedupe → store
→ export, against the fixture site on a loopback server and a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ingest.config import Settings
from ingest.pipeline import FeedReport, Pipeline
from ingest.records import FeedState
from ingest.store import feeds
from ingest.store.engine import open_archive
from tests.conftest import HTML, Cli, Site

SEED = Path(__file__).parent / "fixtures" / "sensetime-singapore.txt"
HEADLINE, *BODY = SEED.read_text(encoding="utf-8").splitlines()
CROSS_LINK = next(line for line in BODY if line.startswith("SEE ALSO"))
PARAGRAPHS = [line for line in BODY if line.strip() and line != CROSS_LINK]
BOILERPLATE = ["cookie", "Subscribe", "Wei Lim", "All rights reserved", "Related"]


def export(cli: Cli) -> list[dict[str, Any]]:
    done = cli("export", "--format", "jsonl", "--with-duplicates")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def by_title(records: list[dict[str, Any]], title: str) -> dict[str, Any]:
    matches = [r for r in records if r["title"] == title]
    assert len(matches) == 1, [r["title"] for r in records]
    return matches[0]


def test_fetch_archives_full_text_without_boilerplate(cli: Cli, site: Site) -> None:
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    done = cli("fetch")
    assert done.returncode == 0, done.stderr + done.stdout
    records = export(cli)
    assert len(records) == 3
    article = by_title(records, HEADLINE)
    for paragraph in PARAGRAPHS:
        assert paragraph in article["text"]
    assert "SEE ALSO" not in article["text"]
    assert "Made-In-China Meeting" not in article["text"]
    for words in BOILERPLATE:
        assert words not in article["text"], words
    assert article["author"] == "Jane Doe"
    assert article["published"].startswith("2018-07-02T08:00:00")
    assert article["extraction"] == "full"
    assert article["sitename"] == "Pandaily"
    assert article["language"] == "en"
    assert article["canonical_url"] == site.url("/2018/07/sensetime-singapore/")
    assert article["word_count"] > 250
    assert article["duplicate_of"] is None
    assert article["image"] == site.url("/wp-content/uploads/2018/07/sensetime-singapore.jpg")
    drones = by_title(records, "Meituan Tests Drone Deliveries for Food Orders in Beijing Suburbs")
    assert drones["sources"][0]["enclosures"] == [site.url("/media/meituan-drone.mp4")]
    assert len(article["content_hash"]) == 64
    [source] = article["sources"]
    assert source["feed_url"] == site.url("/feed.rss")
    assert source["guid"] == site.url("/?p=2875")


def test_tracking_parameter_duplicate_is_one_article_with_two_sources(cli: Cli, site: Site) -> None:
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss"), site.url("/partner.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    records = export(cli)
    article = by_title(records, HEADLINE)
    assert sorted(s["feed_url"] for s in article["sources"]) == [
        site.url("/feed.rss"),
        site.url("/partner.rss"),
    ]
    # the page was fetched once: the partner link canonicalizes to the same article
    assert len(site.requests("/2018/07/sensetime-singapore/")) == 1


def test_atom_and_json_feeds_archive_the_same_article(cli: Cli, site: Site) -> None:
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.atom"), site.url("/feed.json")).returncode == 0
    assert cli("fetch").returncode == 0
    records = export(cli)
    assert len(records) == 3
    article = by_title(records, HEADLINE)
    assert len(article["sources"]) == 2
    assert all(p in article["text"] for p in PARAGRAPHS)


def test_windows_1252_page_is_decoded_right(cli: Cli, site: Site) -> None:
    site.serve("/feed.rss", "feed.rss", "application/rss+xml")
    site.serve(
        "/2018/07/sensetime-singapore/", "sensetime-cp1252.html", "text/html; charset=windows-1252"
    )
    site.serve("/2018/07/other-1/", "other-1.html", HTML)
    site.serve("/2018/07/other-2/", "other-2.html", HTML)
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    article = by_title(export(cli), HEADLINE)
    assert "“a new economic engine”" in article["text"]
    assert "Xiao’ou Tang" in article["text"]


def test_second_fetch_is_conditional_and_adds_nothing(cli: Cli, site: Site) -> None:
    site.server.expect_request("/feed.rss", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    site.serve("/feed.rss", "feed.rss", "application/rss+xml", ETag='"v1"')
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    second = cli("fetch")
    assert second.returncode == 0
    # an unchanged feed is counted, not drawn as a row: a run over thousands prints one line
    assert second.stdout.splitlines() == ["1 feed not_modified (304): nothing new"]
    assert len(export(cli)) == 3
    assert len(site.requests("/2018/07/sensetime-singapore/")) == 1


def test_a_304_whose_lease_was_lost_is_logged_and_changes_no_state(
    cli: Cli, site: Site, tmp_path: Path
) -> None:
    """A 304's attempt and the feed's completion are one transaction: when another worker has
    taken the feed over meanwhile, the completion writes nothing (the new holder's lease and the
    feed's state stay) and the attempt, which did happen, is logged all the same."""
    site.server.expect_request("/feed.rss", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    site.serve("/feed.rss", "feed.rss", "application/rss+xml", ETag='"v1"')
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    engine = open_archive(cli.db_url)
    lease = timedelta(minutes=10)
    [state] = feeds.claim_feeds(engine, "other:h:9:z", lease=lease, limit=1, due_only=False)
    settings = Settings(db_url=cli.db_url, fulltext=False, host_delay=0)

    async def update() -> FeedReport:
        async with Pipeline(engine, settings, "test:h:1:x") as pipeline:
            return await pipeline.update_feed(state)

    report = asyncio.run(update())
    assert report.status == "not_modified"
    assert report.notes == ["lease lost: another worker took this feed over"]
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        logged = conn.execute("SELECT status, owner FROM fetch_log ORDER BY id").fetchall()
        held = conn.execute("SELECT lease_owner, last_status FROM feed").fetchall()
    assert [status for status, _ in logged] == [200, 304]
    assert logged[1][1] == "test:h:1:x"
    assert held == [("other:h:9:z", 200)]


def test_a_polls_entries_and_the_feeds_new_state_are_one_transaction(
    cli: Cli, site: Site, tmp_path: Path
) -> None:
    """Once its attempt is logged, a 200's entries and the feed's new state (validators,
    schedule) are written in one transaction: two commits for the poll, not one per step. When
    another worker has taken the feed over meanwhile, the entries are kept (they were fetched
    and parsed) and the feed's state and the new holder's lease are left alone."""
    site.serve("/feed.rss", "feed.rss", "application/rss+xml", ETag='"v1"')
    site.serve("/partner.rss", "partner.rss", "application/rss+xml", ETag='"p1"')
    engine = open_archive(cli.db_url)
    mine, taken = (feeds.add_feed(engine, site.url(p))[0] for p in ("/feed.rss", "/partner.rss"))
    settings = Settings(db_url=cli.db_url, fulltext=False, host_delay=0, respect_robots=False)
    lease = timedelta(minutes=10)
    commits: list[object] = []
    sa.event.listen(engine, "commit", commits.append)

    async def update(state: FeedState) -> FeedReport:
        async with Pipeline(engine, settings, "test:h:1:x") as pipeline:
            return await pipeline.update_feed(state)

    [state] = feeds.claim_feeds(engine, "test:h:1:x", lease=lease, limit=1, feed_ids=[mine])
    commits.clear()
    report = asyncio.run(update(state))
    assert (report.status, report.new, len(commits)) == ("ok", 3, 2)

    [state] = feeds.claim_feeds(engine, "other:h:9:z", lease=lease, limit=1, feed_ids=[taken])
    report = asyncio.run(update(state))
    assert report.new == 1
    assert report.notes == ["lease lost: another worker took this feed over"]
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        held = conn.execute("SELECT id, etag, lease_owner FROM feed ORDER BY id").fetchall()
        kept = conn.execute("SELECT feed_id, count(*) FROM entry GROUP BY feed_id").fetchall()
    assert held == [(mine, '"v1"', None), (taken, None, "other:h:9:z")]
    assert kept == [(mine, 3), (taken, 1)]


def test_a_new_feed_posting_every_minute_is_polled_at_the_shortest_interval(
    cli: Cli, site: Site, tmp_path: Path
) -> None:
    """A new feed's 20 items, a minute apart, are its pace (read back from the archive, the
    latest `PACE_SAMPLE`): polled again in `min_interval` (15 min, ±10 % jitter), not in a week
    over 20 (8.4 h), when a busy feed's items would have scrolled out of it unseen."""
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>Minute {i}</title><link>{site.url(f'/m/{i}')}</link>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=i), usegmt=True)}</pubDate></item>"
        for i in range(20)
    )
    site.server.expect_request("/busy.rss").respond_with_data(
        f'<rss version="2.0"><channel><title>Busy</title>{items}</channel></rss>',
        content_type="application/rss+xml",
    )
    done = cli("feeds", "add", site.url("/busy.rss"))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        polled, due, held = conn.execute(
            "SELECT last_success_at, next_fetch_at, lease_owner FROM feed"
        ).fetchone()
        queued = conn.execute("SELECT due_at FROM page_queue").fetchall()
    assert held is None  # the lease `feeds add` created the feed with is given back
    assert queued == [(polled,)] * 20  # its pages are due for the daemon's next tick
    interval = datetime.fromisoformat(due) - datetime.fromisoformat(polled)
    assert timedelta(minutes=13.5) <= interval <= timedelta(minutes=16.5)


def test_page_that_fails_keeps_the_entry_with_feed_text(cli: Cli, site: Site) -> None:
    site.server.expect_request("/2018/07/sensetime-singapore/").respond_with_data(
        "gone", status=404
    )
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0  # the feed itself was fine
    article = by_title(export(cli), HEADLINE)
    assert article["extraction"] == "feed"
    assert "memoranda of understanding with NTU Singapore" in article["text"]
    shown = cli("show", str(article["id"]), "--format", "json")
    assert json.loads(shown.stdout)["extraction_error"].startswith("http_4xx")


def test_no_fulltext_archives_feed_content_only(cli: Cli, site: Site) -> None:
    site.serve_all()
    # `feeds add` records the first poll: without full text too, as settings say
    assert cli("feeds", "add", site.url("/feed.rss"), INGEST_FULLTEXT="false").returncode == 0
    assert cli("fetch", "--no-fulltext").returncode == 0
    records = export(cli)
    assert {r["extraction"] for r in records} == {"feed"}
    assert site.requests("/2018/07/sensetime-singapore/") == []


def test_show_prints_text_and_sources(cli: Cli, site: Site) -> None:
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    cli("fetch")
    article = by_title(export(cli), HEADLINE)
    shown = cli("show", str(article["id"]))
    assert shown.returncode == 0
    assert shown.stdout.startswith(HEADLINE)
    assert PARAGRAPHS[-1] in shown.stdout
    assert f"source: {site.url('/feed.rss')}" in shown.stdout


def test_export_to_file(cli: Cli, site: Site, tmp_path: Path) -> None:
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    cli("fetch")
    target = tmp_path / "out.jsonl"
    assert cli("export", "--format", "jsonl", "-o", str(target)).returncode == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert set(json.loads(lines[0])) >= {
        "id",
        "url",
        "canonical_url",
        "title",
        "author",
        "published",
        "language",
        "sitename",
        "description",
        "text",
        "word_count",
        "content_hash",
        "extraction",
        "fetched_at",
        "duplicate_of",
        "sources",
    }
