"""Full-text search through the real CLI, on the SQLite FTS5 index kept by triggers."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingest.store.engine import open_archive
from ingest.store.models import Article
from ingest.store.search import search
from tests.conftest import Cli, Site


def hits(cli: Cli, *args: str) -> list[dict[str, object]]:
    done = cli("search", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_search_finds_full_text_ranked_with_snippets(cli: Cli, site: Site) -> None:
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    assert cli("fetch").returncode == 0
    [hit] = hits(cli, "Temasek", "Suning")  # words only in the body of the page, not the feed
    assert hit["title"].startswith("SenseTime Enters Singapore")
    assert "[Temasek]" in hit["snippet"] or "[Suning" in hit["snippet"]
    assert hits(cli, "supercomput*")[0]["id"] == hit["id"]  # prefix search
    assert hits(cli, "Temasek", "--since", "2019-01-01") == []
    assert hits(cli, "nonexistentword") == []


def test_search_input_is_never_query_syntax(cli: Cli, site: Site) -> None:
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    cli("fetch")
    for weird in ['"unbalanced', "NEAR(", "a OR", "title:x", "*", "-", "AND"]:
        done = cli("search", weird)
        assert done.returncode == 0, (weird, done.stderr)


def test_search_index_follows_updates_and_deletes(cli: Cli, site: Site, tmp_path: Path) -> None:
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    cli("fetch")
    [hit] = hits(cli, "Temasek")
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        conn.execute("UPDATE article SET text = 'zebra crossing' WHERE id = ?", (hit["id"],))
    assert hits(cli, "Temasek") == []
    assert [h["id"] for h in hits(cli, "zebra")] == [hit["id"]]
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("DELETE FROM article WHERE id = ?", (hit["id"],))
    assert hits(cli, "zebra") == []


def test_empty_query_is_a_usage_error(cli: Cli) -> None:
    assert cli("fetch").returncode == 0  # an empty archive: reading commands create none
    done = cli("search", " ")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: empty search query"


@pytest.mark.postgres
def test_search_on_postgresql(cli: Cli, site: Site, pg_url: str) -> None:
    site.serve_all()
    pg = Cli(cli.cwd, pg_url)
    assert pg("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert pg("fetch").returncode == 0
    [hit] = hits(pg, "Temasek", "investors")
    assert hit["title"].startswith("SenseTime Enters Singapore")
    assert "[Temasek]" in hit["snippet"]
    assert hits(pg, '"unbalanced') == [] and hits(pg, "-") == []


@pytest.mark.postgres
def test_a_huge_text_is_archived_and_its_opening_indexed_on_postgresql(pg_url: str) -> None:
    engine = open_archive(pg_url)
    words = " ".join(f"w{i:07d}x" for i in range(220_000))  # 2.2 MB of distinct words
    with engine.begin() as conn:
        conn.execute(sa.insert(Article).values(url="u", canonical_url="u", text="opening " + words))
    [hit] = search(engine, "opening")
    assert hit.url == "u"
