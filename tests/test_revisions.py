"""Revisions, re-checks and takedowns through the real CLI against a loopback site whose pages
and feeds change between fetches (handlers re-registered between `cli("fetch")` calls)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.diff import unified_word_diff, word_diff
from ingest.schedule import next_recheck
from tests.conftest import HTML, RSS, Cli, Site
from tests.fixturefiles import load_fixture, seed_article

PAGE = "/2018/07/sensetime-singapore/"
HEADLINE = seed_article().headline


def export(cli: Cli, *args: str) -> list[dict[str, Any]]:
    done = cli("export", "--with-duplicates", *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def seed_record(cli: Cli, *args: str) -> dict[str, Any]:
    return next(r for r in export(cli, *args) if r["title"] == HEADLINE)


def serve_page(site: Site, fixture: str, etag: str) -> None:
    """The seed page as `fixture` with `etag`, answering 304 to a matching If-None-Match."""
    site.server.expect_request(PAGE, headers={"If-None-Match": etag}).respond_with_data(
        "", status=304, headers={"ETag": etag}
    )
    site.serve(PAGE, fixture, HTML, ETag=etag)


def test_recheck_stores_an_edited_page_as_a_new_revision(cli: Cli, site: Site) -> None:
    serve_page(site, "sensetime.html", '"v1"')
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    first = seed_record(cli)
    assert first["revisions"] == 1

    # unchanged page: the conditional GET gets a 304, no new revision
    done = cli("fetch", "--recheck")
    assert done.returncode == 0, done.stderr
    assert "0 revised, 3 unchanged" in done.stdout
    assert any(r.path == PAGE and a.status_code == 304 for r, a in site.server.log)
    assert seed_record(cli)["revisions"] == 1

    site.server.clear()
    serve_page(site, "sensetime-revised.html", '"v2"')
    site.serve_all()
    done = cli("fetch", "--recheck")
    assert "1 revised" in done.stdout, done.stdout
    latest = seed_record(cli, "--with-revisions")
    assert latest["revisions"] == 2
    assert "is a strategic move" in latest["text"]  # the row shows the latest version
    old, new = latest["revision_history"]
    assert "is an strategic move" in old["text"]  # the earlier version is kept
    assert (old["reason"], new["reason"]) == ("initial", "page")
    assert old["content_hash"] == first["content_hash"] != new["content_hash"]

    listed = cli("show", str(latest["id"]), "--revisions")
    assert listed.returncode == 0, listed.stderr
    assert "2 versions" in listed.stdout and "initial" in listed.stdout and "page" in listed.stdout
    diff = cli("diff", str(latest["id"]))
    assert diff.returncode == 0, diff.stderr
    assert "[-an-]{+a+} strategic move" in diff.stdout
    assert diff.stdout.startswith(f"--- article {latest['id']} rev 1")
    same = cli("diff", str(latest["id"]), "2", "2")
    assert "(no differences)" in same.stdout
    bad = cli("diff", str(latest["id"]), "1", "9")
    assert bad.returncode == 2 and "versions 1 to 2, not 9" in bad.stderr


def test_feed_entry_edit_is_a_feed_revision(cli: Cli, site: Site) -> None:
    site.serve_all()
    # the articles keep the feed's text: `feeds add` (the first poll) fetches no pages either
    add = cli("feeds", "add", site.url("/feed.rss"), INGEST_FULLTEXT="false")
    assert add.returncode == 0
    assert cli("fetch", "--no-fulltext").returncode == 0
    site.server.clear()
    edited = load_fixture("feed.rss", site.base).replace(
        b"its first move into Southeast Asia", b"its first step into Southeast Asia"
    )
    site.server.expect_request("/feed.rss").respond_with_data(edited, content_type=RSS)
    done = cli("fetch", "--no-fulltext")
    assert done.returncode == 0, done.stderr
    record = seed_record(cli, "--with-revisions")
    assert record["revisions"] == 2
    assert [r["reason"] for r in record["revision_history"]] == ["initial", "feed"]
    assert "first step into" in record["text"]
    assert len(export(cli)) == 3  # an edit is a version, not another article


def test_feed_edit_of_a_full_text_article_keeps_what_the_feed_said_before(
    cli: Cli, site: Site
) -> None:
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    site.server.clear()
    old_title = b"SenseTime Enters Singapore Through NTU, NSCC and Singtel Partnerships"
    edited = load_fixture("feed.rss", site.base).replace(old_title, b"SenseTime signs three MOUs")
    site.server.expect_request("/feed.rss").respond_with_data(edited, content_type=RSS)
    site.serve_all()
    assert cli("fetch").returncode == 0
    record = seed_record(cli)
    [source] = record["sources"]
    assert source["title"] == "SenseTime signs three MOUs"
    assert [v["title"] for v in source["earlier_titles"]] == [old_title.decode()]
    assert source["earlier_titles"][0]["replaced_at"].endswith("Z")


def test_page_gone_on_recheck_marks_the_article_and_keeps_it(cli: Cli, site: Site) -> None:
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch").returncode == 0
    site.server.clear()
    site.server.expect_request(PAGE).respond_with_data("gone", status=410)
    site.serve_all()
    done = cli("fetch", "--recheck")
    assert "1 removed" in done.stdout, done.stdout
    record = seed_record(cli)
    assert record["removed_at"] is not None
    assert "Singtel" in record["text"]  # kept as archived
    assert "removed_at:" in cli("show", str(record["id"])).stdout


def test_entry_gone_from_feed_is_marked_only_while_older_ones_remain(
    cli: Cli, site: Site, db_url: str
) -> None:
    site.serve_all()
    assert cli("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert cli("fetch", "--no-fulltext").returncode == 0
    feed = load_fixture("feed.rss", site.base).decode()
    items = feed.split("<item>")
    # drop the middle item (other-1): newer than the oldest still listed → taken down
    without_middle = "<item>".join([items[0], items[1], items[3]])
    site.server.clear()
    site.server.expect_request("/feed.rss").respond_with_data(without_middle, content_type=RSS)
    assert cli("fetch", "--no-fulltext").returncode == 0
    # then drop the oldest (other-2): it aged out of the feed, not taken down
    site.server.clear()
    site.server.expect_request("/feed.rss").respond_with_data(
        "<item>".join(items[:2]) + "</channel></rss>", content_type=RSS
    )
    assert cli("fetch", "--no-fulltext").returncode == 0
    with sqlite3.connect(Path(db_url.removeprefix("sqlite:///"))) as db:
        rows = dict(db.execute("SELECT link, removed_at IS NOT NULL FROM entry").fetchall())
    assert rows == {
        site.url(PAGE): 0,
        site.url("/2018/07/other-1/"): 1,
        site.url("/2018/07/other-2/"): 0,
    }
    record = next(r for r in export(cli) if r["url"].endswith("/other-1/"))
    assert record["sources"][0]["removed_at"] is not None


def test_recheck_schedule_thins_out_with_age() -> None:
    seen = datetime(2024, 1, 1, tzinfo=UTC)
    steps = [3600, 6 * 3600, 86400]
    assert next_recheck(seen, seen, steps) == seen + timedelta(hours=1)
    assert next_recheck(seen, seen + timedelta(hours=2), steps) == seen + timedelta(hours=6)
    assert next_recheck(seen, seen + timedelta(days=2), steps) is None
    assert next_recheck(seen, seen, []) is None


def test_word_diff_marks_changed_words_with_context() -> None:
    assert word_diff("a b c", "a x c") == "a [-b-]{+x+} c"
    long = " ".join(f"w{i}" for i in range(40))
    marked = word_diff(long + " end", long + " fin", context=3)
    assert marked == "… w37 w38 w39 [-end-]{+fin+}"
    text = unified_word_diff("T", "p1\np2", "T2", "p1\np2\np3", old_label="a", new_label="b")
    assert text.splitlines() == [
        "--- a",
        "+++ b",
        "@@ title @@",
        "[-T-]{+T2+}",
        "@@ -¶3,0 +¶3,1 @@",
        "+ p3",
    ]
