"""Which articles a listing, a search or an export covers: one filter record, one way to apply it.

The CLI (`cli/filters.py`), the HTTP API and the web page all build an `ArticleFilter` and hand
it to the store, so `--feed 3 --since 7d` means the same everywhere. Parsing a user's time
(`2018-07-01`, `7d`, `12h`) is here too, as a pure function, for every front end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from ingest.errors import UsageError
from ingest.schedule import parse_duration
from ingest.store.fts import Matches
from ingest.store.models import Article, ArticleFacet, Entry

_RELATIVE = re.compile(r"(\d+\s*[smhdw]\s*)+", re.IGNORECASE)
_LANG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")
_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """What to keep. Empty fields keep everything; near-duplicates are hidden by default.

    `until` is exclusive. `query` is search text in the syntax of `store/query.py`; when set,
    only matching articles are kept (ranking is the search's job, not the filter's).
    """

    feed_ids: tuple[int, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    lang: str | None = None
    site: str | None = None
    with_duplicates: bool = False
    query: str | None = None


def parse_when(text: str, *, now: datetime, end: bool = False) -> datetime:
    """A user's time as aware UTC: an ISO date or datetime (naive means UTC), or an age such
    as `7d`, `12h`, `1w2d` counted back from `now`. With `end`, a bare date means the end of
    that day (so `--until 2018-07-31` includes the 31st). UsageError with the accepted forms."""
    value = text.strip()
    if _RELATIVE.fullmatch(value):
        try:
            return now - timedelta(seconds=parse_duration(value))
        except (ValueError, OverflowError):
            raise UsageError(f"not a usable age: {text!r} (e.g. 7d, 12h)") from None
    try:
        if len(value) == 10:  # a bare date: a whole day
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        parsed = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise UsageError(
            f"not a date or age: {text!r} (use e.g. 2018-07-01, 2018-07-01T12:00Z, 7d, 12h)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def normalize_lang(text: str) -> str:
    """A language code as stored by extraction (`en`, `pt-br`), lower-cased; UsageError if the
    value cannot be one."""
    value = text.strip().lower().replace("_", "-")
    if not _LANG.fullmatch(value):
        raise UsageError(f"not a language code: {text!r} (use e.g. en, de, zh)")
    return value


def normalize_site(text: str) -> str:
    """A site as a host name (`example.com`); a URL given instead is reduced to its host."""
    value = text.strip().lower()
    host = urlsplit(value if "://" in value else "//" + value).hostname if value else None
    if not host or not _HOST.fullmatch(host):
        raise UsageError(f"not a site: {text!r} (use a host name such as example.com)")
    return host.removeprefix("www.")


def apply_filter(
    query: sa.Select[tuple[object, ...]], keep: ArticleFilter, *, on: Any = Article.id
) -> sa.Select:
    """`query` narrowed to the articles `keep` keeps; `on` is the article id column of its
    FROM (`article.id` by default; a search passes its index's rowid, never reading `article`).

    Everything but feeds and the query is tested on the narrow `article_facet` row, joined on
    `on`. Feeds are matched through their entries (an article carried by several feeds belongs
    to each): one lookup per candidate in the (article_id, feed_id) index, whatever the size of
    the feed. A site is the article's host, with or without `www.`, or its site name.
    """
    conditions: list[sa.ColumnElement[bool]] = []
    if keep.since is not None:
        conditions.append(ArticleFacet.published >= keep.since)
    if keep.until is not None:
        conditions.append(ArticleFacet.published < keep.until)
    if keep.lang:
        language = ArticleFacet.language
        conditions.append(sa.or_(language == keep.lang, language.startswith(keep.lang + "-")))
    if keep.site:
        hosts = (keep.site, "www." + keep.site)
        conditions.append(sa.or_(ArticleFacet.host.in_(hosts), ArticleFacet.site == keep.site))
    if not keep.with_duplicates:
        conditions.append(ArticleFacet.duplicate_of.is_(None))
    if conditions:
        query = query.where(ArticleFacet.id == on, *conditions)
    if keep.feed_ids:
        carried = sa.exists().where(Entry.article_id == on, Entry.feed_id.in_(keep.feed_ids))
        query = query.where(carried)
    if keep.query:
        query = query.where(Matches(keep.query))
    return query
