"""Full-text search: one query syntax, the same answers on SQLite and PostgreSQL, bounded cost,
highlights as spans; through the real CLI and on real databases."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.errors import QueryTooCostly, UsageError
from ingest.highlight import passage
from ingest.identity import word_count
from ingest.store.engine import open_archive, reading
from ingest.store.filters import ArticleFilter, apply_filter
from ingest.store.models import Article
from ingest.store.query import MAX_TERMS, parse
from ingest.store.search import Cursor, _time_limit, search
from tests.conftest import Cli, Site


def hits(cli: Cli, *args: str) -> list[dict[str, object]]:
    done = cli("search", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def marked(hit: dict[str, object]) -> list[str]:
    text = str(hit["snippet"])
    return [text[a:b] for a, b in hit["matches"]]  # type: ignore[attr-defined]


def test_search_finds_full_text_ranked_with_snippets(cli: Cli, site: Site) -> None:
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    assert cli("fetch").returncode == 0
    [hit] = hits(cli, "Temasek", "Suning")  # words only in the body of the page, not the feed
    assert hit["title"].startswith("SenseTime Enters Singapore")
    assert "Temasek" in marked(hit) or "Suning" in marked(hit)
    assert hits(cli, "supercomput*")[0]["id"] == hit["id"]  # prefix search
    assert hits(cli, "Temasek", "--since", "2019-01-01") == []
    assert hits(cli, "nonexistentword") == []
    assert hits(cli, "Temasek", "-Suning") == []  # a -word is excluded, not an option


def test_search_input_is_never_query_syntax(engine: Engine) -> None:
    _load(engine)
    for weird in [
        '"unbalanced',
        "NEAR(",
        "a OR",
        "title:x",
        "AND",
        "wind\x01",
        "x'; DROP TABLE article; --",
        "50%_off\\",
    ]:
        search(engine, weird)  # any answer, never an error from the database
    for nothing in ["*", "-", '""', "OR", "\x00", "!!", "'; --", "%_\\"]:
        with pytest.raises(UsageError, match="empty search query"):
            search(engine, nothing)


def test_empty_query_is_a_usage_error(cli: Cli) -> None:
    assert cli("fetch").returncode == 0  # an empty archive: reading commands create none
    done = cli("search", "--", "-", "*")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: empty search query"


def test_search_index_follows_updates_and_deletes(cli: Cli, site: Site, tmp_path: Path) -> None:
    site.serve_all()
    cli("feeds", "add", site.url("/feed.rss"))
    cli("fetch")
    [hit] = hits(cli, "Temasek")
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        conn.execute(
            "UPDATE article SET text = 'zebra crossing 滨江公园' WHERE id = ?", (hit["id"],)
        )
    assert hits(cli, "Temasek") == []
    assert [h["id"] for h in hits(cli, "zebra")] == [hit["id"]]
    assert [h["id"] for h in hits(cli, "江公园")] == [hit["id"]]
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        conn.execute("UPDATE article SET text = 'zebra' WHERE id = ?", (hit["id"],))
    assert hits(cli, "江公园") == []
    with sqlite3.connect(tmp_path / "archive" / "ingest.db") as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("DELETE FROM article WHERE id = ?", (hit["id"],))
    assert hits(cli, "zebra") == []


def test_table_highlights_matches_and_prints_brackets_as_text(cli: Cli, tmp_path: Path) -> None:
    engine = open_archive(cli.db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Article).values(
                url="u", title="[b]Wind[/b] [/x]", text="The costly [1] wind turbine project."
            )
        )
    done = cli("search", "wind", "turbine", FORCE_COLOR="1", COLUMNS="200", TERM="xterm")
    assert done.returncode == 0, done.stderr
    assert "[b]" in done.stdout and "[/x]" in done.stdout and "[1]" in done.stdout
    assert "\x1b[1;7mwind\x1b[0m" in done.stdout  # the matched words, styled
    assert "\x1b[1;7mturbine\x1b[0m" in done.stdout


def test_a_search_over_its_time_limit_fails_with_one_line_and_exit_1(cli: Cli) -> None:
    engine = open_archive(cli.db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Article),
            [{"url": f"u{i}", "text": f"common words number {i}"} for i in range(20_000)],
        )
    done = cli("search", "common", INGEST_SEARCH_TIME_LIMIT="0.0001")
    assert done.returncode == 1
    assert done.stderr.startswith("error: search stopped after 0.0001 s: make the query")
    assert len(done.stderr.splitlines()) == 1
    assert len(hits(cli, "common", "-n", "3")) == 3  # the default limit lets it finish


# ---- The syntax, the same on both engines ---------------------------------------------------

ARTICLES = {
    "wind": ("Wind power", "The wind turbine market grew. Makers of turbines met."),
    "reversed": ("Notes", "A turbine for wind; the turbine wind tunnel."),
    "solar": ("Solar", "Solar panels on roofs; offshore platforms too."),
    "offshore": ("Offshore wind", "An offshore wind farm with one turbine."),
    "email": ("Mail", "Send an e-mail to the editors about theta."),
    "chinese": ("滨江公园开放", "今天我们去了滨江公园散步，公园很大。"),
    "japanese": ("東京", "東京タワーの近くで新しい公園が開きました。"),
    "nul": ("Zero", "text without the zeta word but eta and thetas"),
}

CASES = [
    ("wind turbine", {"wind", "reversed", "offshore"}),
    ('"wind turbine"', {"wind"}),  # a phrase keeps its order
    ('"turbine wind"', {"reversed"}),
    ("solar OR editors", {"solar", "email"}),
    ("turbine OR solar offshore", {"offshore", "solar"}),  # OR binds its neighbours
    ("wind -offshore", {"wind", "reversed"}),
    ('wind -"wind farm"', {"wind", "reversed"}),
    ("turbin*", {"wind", "reversed", "offshore"}),
    ("e-mail", {"email"}),
    ("theta*", {"email", "nul"}),
    ("滨江公园", {"chinese"}),  # inside running text
    ("公园", {"chinese"}),  # two characters: shorter than a trigram
    ("タワー", {"japanese"}),
    ("公园 -滨江", set()),
    ("东京 OR 東京", {"japanese"}),
    ("滨江 OR solar", {"chinese", "solar"}),
    ("散步 wind", set()),
    ("NEAR(wind turbine)", set()),  # a word like any other
    ('wind "unbalanced', set()),
    ("wind\x00 turbine", {"wind", "reversed", "offshore"}),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'search.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    found = open_archive(url)
    yield found
    found.dispose()


def _load(engine: Engine) -> dict[int, str]:
    with engine.begin() as conn:
        return {
            conn.execute(
                sa.insert(Article).values(url=name, title=title, text=text)
            ).inserted_primary_key[0]: name
            for name, (title, text) in ARTICLES.items()
        }


def test_one_syntax_on_both_engines(engine: Engine) -> None:
    names = _load(engine)
    for query, expected in CASES:
        found = {names[hit.id] for hit in search(engine, query)}
        assert found == expected, query
        with reading(engine) as conn:  # the same query as a filter (exports, listings)
            kept = conn.execute(
                apply_filter(sa.select(Article.id), ArticleFilter(query=query))
            ).scalars()
            assert {names[i] for i in kept} == expected, query


def test_matches_are_spans_of_the_snippet(engine: Engine) -> None:
    _load(engine)
    [hit] = search(engine, '"wind turbine" makers')
    assert [hit.snippet[a:b] for a, b in hit.matches] == ["wind turbine", "Makers"]
    assert hit.title_matches == ()
    [hit] = search(engine, "滨江公园")
    assert [hit.snippet[a:b] for a, b in hit.matches] == ["滨江公园"]
    assert [hit.title[a:b] for a, b in hit.title_matches] == ["滨江公园"]  # type: ignore[index]


def test_keyset_pages_cover_every_hit_once(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Article),
            [{"url": f"u{i}", "text": "tide " * (1 + i % 7) + f"filler {i}"} for i in range(45)],
        )
    everything = search(engine, "tide", limit=100)
    pages, after = [], None
    while page := search(engine, "tide", limit=10, after=after):
        pages.extend(page)
        after = Cursor.parse(page[-1].cursor)
    assert [h.id for h in pages] == [h.id for h in everything]
    assert len(everything) == 45
    assert [h.rank for h in everything] == sorted((h.rank for h in everything), reverse=True)


def test_a_statement_past_its_time_limit_is_stopped(engine: Engine) -> None:
    slow = (
        "SELECT pg_sleep(5)"
        if engine.dialect.name == "postgresql"
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"
    )
    with reading(engine) as conn, pytest.raises(QueryTooCostly), _time_limit(conn, 0.05):
        conn.exec_driver_sql(slow)
    with reading(engine) as conn:  # the connection goes back to the pool without the limit
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("ab*", "prefix too short"),
        (" ".join(f"w{i}" for i in range(MAX_TERMS + 1)), "too many terms"),
        ('"' + " ".join(f"w{i}" for i in range(40)) + '"', "too many words"),
        ("x" * 3000, "search query too long"),
        ("-wind", "nothing to find"),
        ("\x00", "empty search query"),
    ],
)
def test_queries_beyond_the_bounds_are_usage_errors(query: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(query)


def test_bad_cursor_is_a_usage_error() -> None:
    for bad in ["", "x:1", "nan:3", "1.5", "inf:2", "1.0:-4"]:
        with pytest.raises(UsageError, match="not a search cursor"):
            Cursor.parse(bad)


def test_passage_is_the_densest_window_with_ellipses() -> None:
    text = "intro " * 100 + "the wind turbine stood; wind again " + "outro " * 100
    shown = passage(text, parse("wind turbine"), width=80)
    assert shown.text.startswith("…") and shown.text.endswith("…")
    assert [shown.text[a:b] for a, b in shown.spans] == ["wind", "turbine", "wind"]


@pytest.mark.postgres
def test_search_on_postgresql_through_the_cli(cli: Cli, site: Site, pg_url: str) -> None:
    site.serve_all()
    pg = Cli(cli.cwd, pg_url)
    assert pg("feeds", "add", site.url("/feed.rss")).returncode == 0
    assert pg("fetch").returncode == 0
    [hit] = hits(pg, "Temasek", "investors")
    assert hit["title"].startswith("SenseTime Enters Singapore")
    assert "Temasek" in marked(hit)
    assert hits(pg, '"unbalanced') == [] and hits(pg, "Temasek", "-Temasek") == []


@pytest.mark.postgres
def test_a_huge_text_is_archived_and_its_opening_indexed_on_postgresql(pg_url: str) -> None:
    engine = open_archive(pg_url)
    words = " ".join(f"w{i:07d}x" for i in range(220_000))  # 2.2 MB of distinct words
    with engine.begin() as conn:
        conn.execute(sa.insert(Article).values(url="u", canonical_url="u", text="opening " + words))
    [hit] = search(engine, "opening")
    assert hit.url == "u"


def test_chinese_text_counts_characters_as_words() -> None:
    assert word_count("今天我们去了滨江公园散步 Hello world") == 14  # 12 characters + 2 words
    assert word_count("plain  words here") == 3
