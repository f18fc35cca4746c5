"""`ingest reextract`: the archived pages are extracted again with no request to any server."""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from pathlib import Path

from tests.conftest import Cli, Site
from tests.fixturefiles import load_fixture
from tests.test_pipeline import by_title, export


def test_reextract_rebuilds_text_from_the_kept_page_without_network(
    cli: Cli, site: Site, tmp_path: Path
) -> None:
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    assert cli("fetch").returncode == 0
    article = by_title(
        export(cli), "SenseTime Enters Singapore Through NTU, NSCC and Singtel Partnerships"
    )
    # An older extractor version made this article. The kept page stands in for what the new
    # extractor sees differently: the revised page (one sentence changed) is put in its place,
    # as a page kept in the database before WARC storage (read until `ingest migrate-raw`).
    revised = load_fixture("sensetime-revised.html", site.base)
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        digest = hashlib.sha256(revised).hexdigest()
        conn.execute(
            "INSERT INTO blob (hash, size, data, created_at) VALUES (?, ?, ?, '2018-07-02')",
            (digest, len(revised), zlib.compress(revised)),
        )
        conn.execute(
            "UPDATE article SET page_blob = ?, page_raw_id = NULL, extractor_version = 'old'"
            " WHERE id = ?",
            (digest, article["id"]),
        )
    site.server.clear()  # from now on any request would fail and be logged
    done = cli("reextract", "--outdated")
    assert done.returncode == 0, done.stderr
    assert "re-extracted 1 articles: 1 revised, 0 unchanged, 0 failed" in done.stderr
    assert site.server.log == []
    again = by_title(export(cli), article["title"])
    assert "is a strategic move" in again["text"] and again["revisions"] == 2
    shown = cli("show", str(article["id"]), "--revisions")
    assert "reextract" in shown.stdout and "initial" in shown.stdout
    # everything is current now: nothing left to do for --outdated, all unchanged otherwise
    assert "re-extracted 0 articles" in cli("reextract", "--outdated").stderr
    assert "3 unchanged" in cli("reextract").stderr


def test_unchanged_pages_leave_the_search_index_alone(cli: Cli, site: Site, tmp_path: Path) -> None:
    """A write of an article's title or text re-indexes the whole text: SQLite's search
    triggers fire on the columns an UPDATE names, equal or not (~3 ms for an 8 KB text). Most
    re-extractions and re-checks find the text unchanged, and must cost the index nothing."""
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    assert cli("fetch").returncode == 0

    def index() -> list[list[tuple[object, ...]]]:
        with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
            return [
                conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
                for table in ("article_fts_data", "article_cjk_data")
            ]

    before = index()
    assert "3 unchanged" in cli("reextract").stderr
    assert index() == before
    found = cli("search", "strategic")
    assert "SenseTime Enters Singapore" in found.stdout, found.stdout
