"""The shared article filter: parsing what users type, and applying it on both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.errors import UsageError
from ingest.store.engine import open_archive
from ingest.store.filters import (
    ArticleFilter,
    apply_filter,
    normalize_lang,
    normalize_site,
    parse_when,
)
from ingest.store.models import Article, ArticleFacet
from tests.conftest import Cli
from tests.oldschema import archive_at

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("7d", False, datetime(2026, 11, 25, 12, 0, tzinfo=UTC)),
        ("12h", False, datetime(2026, 12, 2, 0, 0, tzinfo=UTC)),
        ("1w2d", False, datetime(2026, 11, 23, 12, 0, tzinfo=UTC)),
        ("2018-07-01", False, datetime(2018, 7, 1, tzinfo=UTC)),
        ("2018-07-31", True, datetime(2018, 8, 1, tzinfo=UTC)),  # --until: the whole day
        ("2018-07-01T12:30", False, datetime(2018, 7, 1, 12, 30, tzinfo=UTC)),
        ("2018-07-01T12:30Z", True, datetime(2018, 7, 1, 12, 30, tzinfo=UTC)),
        ("2018-07-01T14:30+02:00", False, datetime(2018, 7, 1, 12, 30, tzinfo=UTC)),
    ],
)
def test_times_users_type(text: str, end: bool, expected: datetime) -> None:
    assert parse_when(text, now=NOW, end=end) == expected


@pytest.mark.parametrize("text", ["yesterday", "7", "2018-13-01", "-7d", "7x", "", "\x00"])
def test_bad_times_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="not a"):
        parse_when(text, now=NOW)


def test_an_age_older_than_the_calendar_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not a usable age"):
        parse_when("99999999999d", now=NOW)


def test_languages_and_sites_are_normalized() -> None:
    assert normalize_lang(" EN_us ") == "en-us"
    assert normalize_site("https://WWW.Example.com:8080/path?q") == "example.com"
    assert normalize_site("news.example.org") == "news.example.org"
    for bad in ("", "e", "english!"):
        with pytest.raises(UsageError):
            normalize_lang(bad)
    for bad in ("", "exa mple.com", "a%b.com", "http://"):
        with pytest.raises(UsageError):
            normalize_site(bad)


def _row(table: sa.Table, **values: object) -> dict[str, object]:
    """`values` plus an empty value for every other required column of `table` as the archive
    has it (reflected: an archive of an older schema has other required columns)."""
    for column in table.columns:
        if column.nullable or column.primary_key or column.server_default is not None:
            continue
        if isinstance(column.type, sa.JSON):
            values.setdefault(column.name, [])
        elif isinstance(column.type, sa.DateTime):
            values.setdefault(column.name, datetime(2026, 1, 1))
        else:
            values.setdefault(column.name, column.type.python_type())
    return values


def _archive(engine: Engine) -> dict[str, int]:
    """Six articles, two feeds, written as plain rows into the schema the archive has; returns
    name → id."""
    rows = {
        "en_a": dict(url="https://a.example/1", language="en", published=datetime(2018, 7, 1)),
        "de_a": dict(url="https://www.a.example/2", language="de", published=datetime(2018, 7, 2)),
        "us_b": dict(url="http://b_x.example/3", language="en-US", published=datetime(2018, 7, 3)),
        "named": dict(url="https://c.example/4", sitename="Bx.example", published=None),
        "dup": dict(url="https://bax.example/5", language="en", published=datetime(2018, 7, 4)),
        "moved": dict(url="https://old.example/6?from=https://d.example", published=None),
    }
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        feed, article, entry = (
            sa.Table(name, sa.MetaData(), autoload_with=conn)
            for name in ("feed", "article", "entry")
        )
        feed_one, feed_two = (
            conn.execute(sa.insert(feed).values(_row(feed, url=url))).inserted_primary_key[0]
            for url in ("https://f/1", "https://f/2")
        )
        for name, values in rows.items():
            row = _row(article, **values)
            ids[name] = conn.execute(sa.insert(article).values(row)).inserted_primary_key[0]
        conn.execute(
            sa.update(article).where(article.c.id == ids["dup"]).values(duplicate_of=ids["en_a"])
        )
        # the page named its canonical URL later: the host is the canonical one's
        conn.execute(
            sa.update(article)
            .where(article.c.id == ids["moved"])
            .values(canonical_url="HTTPS://WWW.D.Example:8443#top")
        )
        for feed_id, names in ((feed_one, ["en_a", "de_a", "dup"]), (feed_two, ["en_a", "us_b"])):
            for name in names:
                row = _row(entry, feed_id=feed_id, key=name, article_id=ids[name])
                conn.execute(sa.insert(entry).values(row))
    ids["feed_one"], ids["feed_two"] = feed_one, feed_two
    return ids


def _kept(engine: Engine, ids: dict[str, int], keep: ArticleFilter) -> set[str]:
    names = {v: k for k, v in ids.items() if not k.startswith("feed_")}
    with engine.connect() as conn:
        found = conn.execute(apply_filter(sa.select(Article.id), keep)).scalars()
        return {names[i] for i in found}


def _check_filters(engine: Engine, ids: dict[str, int]) -> None:
    day = datetime(2018, 7, 2, tzinfo=UTC)
    cases = [
        (ArticleFilter(), {"en_a", "de_a", "us_b", "named", "moved"}),
        (ArticleFilter(with_duplicates=True), {"en_a", "de_a", "us_b", "named", "dup", "moved"}),
        (ArticleFilter(feed_ids=(ids["feed_one"],)), {"en_a", "de_a"}),
        (ArticleFilter(feed_ids=(ids["feed_one"], ids["feed_two"])), {"en_a", "de_a", "us_b"}),
        (ArticleFilter(since=day), {"de_a", "us_b"}),
        (ArticleFilter(until=day), {"en_a"}),
        (ArticleFilter(lang="en"), {"en_a", "us_b"}),
        (ArticleFilter(lang="en-us"), {"us_b"}),
        (ArticleFilter(site="a.example"), {"en_a", "de_a"}),
        (ArticleFilter(site="b_x.example"), {"us_b"}),  # `_` is not a wildcard
        (ArticleFilter(site="bx.example"), {"named"}),  # the site name, any case
        (ArticleFilter(site="bax.example", with_duplicates=True), {"dup"}),
        (ArticleFilter(site="d.example"), {"moved"}),  # port and fragment cut, www. ignored
        (ArticleFilter(site="old.example"), set()),
    ]
    for keep, expected in cases:
        assert _kept(engine, ids, keep) == expected, keep
    with engine.begin() as conn:  # a merged article's facts go with it
        conn.execute(sa.delete(Article).where(Article.id == ids["moved"]))
    assert _kept(engine, ids, ArticleFilter(site="d.example")) == set()


def test_filters_on_sqlite(tmp_path: Path) -> None:
    engine = open_archive(f"sqlite:///{tmp_path / 'a.db'}")
    _check_filters(engine, _archive(engine))


@pytest.mark.postgres
def test_filters_on_postgresql(pg_url: str) -> None:
    engine = open_archive(pg_url)
    _check_filters(engine, _archive(engine))


def _upgraded(db_url: str) -> None:
    """An archive made by the schema before the filter facets (0009), upgraded: its articles
    get their facets, and the triggers keep them from then on."""
    engine = archive_at(db_url, PREVIOUS_HEAD)
    ids = _archive(engine)
    engine.dispose()
    upgraded = open_archive(db_url)
    with upgraded.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ArticleFacet)).scalar() == 6
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("entry")}
    assert {"ix_entry_feed_recent", "ix_entry_article_feed"} <= indexes
    _check_filters(upgraded, ids)


PREVIOUS_HEAD = "0008"


def test_an_archive_of_the_previous_schema_gets_its_facets(tmp_path: Path) -> None:
    _upgraded(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
def test_a_postgresql_archive_of_the_previous_schema_gets_its_facets(pg_url: str) -> None:
    _upgraded(pg_url)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "error: --since: not a date or age: 'yesterday'"),
        (["--until", "2018-02-30"], "error: --until: not a date or age: '2018-02-30'"),
        (["--lang", "english!"], "error: --lang: not a language code: 'english!'"),
        (["--site", "a b"], "error: --site: not a site: 'a b'"),
        (["--feed", "42"], "error: no such feed: 42"),
    ],
)
def test_bad_filter_options_are_one_line_errors(cli: Cli, args: list[str], message: str) -> None:
    assert cli("fetch").returncode == 0  # an empty archive: reading commands create none
    done = cli("search", "word", *args)
    assert done.returncode == 2
    assert done.stderr.strip().startswith(message), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
