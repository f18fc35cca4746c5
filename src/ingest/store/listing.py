"""The browsing read path (web page, API lists, Atom): bounded summaries, one article's
neighbourhood (sources with feed ids, near-duplicates), a feed's recent articles.

Lists never load article texts: titles and descriptions are cut in SQL, so a page of 500
articles of 5 MB each costs a few hundred kilobytes, not gigabytes. Texts are loaded one
article at a time, or cut to `text_chars` for Atom entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.store.engine import reading
from ingest.store.filters import ArticleFilter, apply_filter
from ingest.store.models import Article, Entry, Feed, valid_id
from ingest.timestamps import iso_or_none

TITLE_CHARS = 300
DESCRIPTION_CHARS = 500


def iso(value: datetime | None) -> str | None:
    return iso_or_none(value)


def _cut(column: Any, chars: int) -> sa.Label[Any]:
    return sa.func.substr(column, 1, chars).label(column.key)


SUMMARY_COLUMNS = (
    Article.id,
    _cut(Article.title, TITLE_CHARS),
    Article.url,
    Article.canonical_url,
    Article.published,
    Article.language,
    Article.sitename,
    _cut(Article.description, DESCRIPTION_CHARS),
    Article.word_count,
    Article.extraction,
    Article.fetched_at,
    Article.duplicate_of,
    Article.similarity,
    Article.revision_count,
    Article.removed_at,
)


def summary_record(row: sa.RowMapping, feeds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """An article without its text: what lists show (cut title and description)."""
    return {
        "id": row["id"],
        "title": row["title"],
        "url": row["url"],
        "canonical_url": row["canonical_url"],
        "published": iso(row["published"]),
        "language": row["language"],
        "sitename": row["sitename"],
        "description": row["description"],
        "word_count": row["word_count"],
        "extraction": row["extraction"],
        "fetched_at": iso(row["fetched_at"]),
        "duplicate_of": row["duplicate_of"],
        "similarity": row["similarity"],
        "revisions": row["revision_count"],
        "removed_at": iso(row["removed_at"]),
        "feeds": list(feeds),
    }


def feeds_of(conn: sa.Connection, article_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The feeds that carried each article: id and (cut) title."""
    rows = conn.execute(
        sa.select(Entry.article_id, Feed.id, _cut(Feed.title, TITLE_CHARS))
        .join(Feed, Feed.id == Entry.feed_id)
        .where(Entry.article_id.in_(list(article_ids)))
        .order_by(Entry.id)
    )
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for article_id, feed_id, title in rows:
        if all(f["id"] != feed_id for f in found[article_id]):
            found[article_id].append({"id": feed_id, "title": title})
    return found


def summaries(
    engine: Engine, keep: ArticleFilter, *, after_id: int = 0, limit: int = 50
) -> list[dict[str, Any]]:
    """Articles kept by `keep` with id > `after_id`, in id order (keyset pagination)."""
    query = sa.select(*SUMMARY_COLUMNS).where(Article.id > after_id)
    query = apply_filter(query, keep).order_by(Article.id).limit(limit)
    with reading(engine) as conn:
        rows = conn.execute(query).mappings().all()
        feeds = feeds_of(conn, [row["id"] for row in rows])
    return [summary_record(row, feeds.get(row["id"], [])) for row in rows]


def summaries_by_id(engine: Engine, article_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Summaries of these articles (search hits, near-duplicates), by id."""
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(*SUMMARY_COLUMNS).where(Article.id.in_(list(article_ids)))
        ).mappings()
        rows = list(rows)
        feeds = feeds_of(conn, [row["id"] for row in rows])
    return {row["id"]: summary_record(row, feeds.get(row["id"], [])) for row in rows}


def sources(engine: Engine, article_id: int) -> list[dict[str, Any]]:
    """Every feed entry that carried the article, with the feed's id and title and the titles
    the feed gave the item before it edited it."""
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(
                Feed.id.label("feed_id"),
                _cut(Feed.title, TITLE_CHARS).label("feed_title"),
                Feed.url.label("feed_url"),
                Entry.guid,
                _cut(Entry.title, TITLE_CHARS),
                Entry.link,
                Entry.published,
                Entry.first_seen,
                Entry.removed_at,
                Entry.history,
            )
            .join(Feed, Feed.id == Entry.feed_id)
            .where(Entry.article_id == article_id)
            .order_by(Entry.id)
        ).mappings()
        return [
            {
                "feed_id": row["feed_id"],
                "feed_title": row["feed_title"],
                "feed_url": row["feed_url"],
                "guid": row["guid"],
                "title": row["title"],
                "link": row["link"],
                "published": iso(row["published"]),
                "first_seen": iso(row["first_seen"]),
                "removed_at": iso(row["removed_at"]),
                "earlier_titles": [
                    {"title": v.get("title"), "replaced_at": v.get("replaced_at")}
                    for v in row["history"] or []
                ],
            }
            for row in rows
        ]


def near_duplicates(engine: Engine, article_id: int) -> list[dict[str, Any]]:
    """Articles linked to this one as near-duplicates: the one it copies, and its copies."""
    with reading(engine) as conn:
        original = conn.execute(
            sa.select(Article.duplicate_of).where(Article.id == article_id)
        ).scalar()
        rows = conn.execute(
            sa.select(*SUMMARY_COLUMNS)
            .where(
                sa.or_(Article.duplicate_of == article_id, Article.id == (original or -1)),
                Article.id != article_id,
            )
            .order_by(Article.id)
            .limit(100)
        ).mappings()
        return [summary_record(row, []) for row in rows]


def feed_articles(
    engine: Engine,
    feed_id: int,
    *,
    before: int | None = None,
    limit: int = 50,
    text_chars: int = 0,
) -> list[dict[str, Any]]:
    """A feed's articles, newest first by when the feed first listed them (ties: the later
    entry first), from the (feed_id, first_seen, id) index without a sort. Keyset-paged:
    `before` is the `entry_id` of the last one of the previous page. Texts are cut to
    `text_chars` when asked (Atom entries)."""
    columns: list[Any] = [*SUMMARY_COLUMNS, Article.updated_at]
    if text_chars:
        columns.append(_cut(Article.text, text_chars))
    recent = _feed_entries(feed_id, before, limit)  # first: no article row read for the others
    query = (
        sa.select(*columns, recent.c.id.label("entry_id"))
        .join(recent, recent.c.article_id == Article.id)
        .order_by(recent.c.first_seen.desc(), recent.c.id.desc())
        .limit(limit)
    )
    with reading(engine) as conn:
        rows = conn.execute(query).mappings().all()
        feeds = feeds_of(conn, [row["id"] for row in rows])
    return [
        {
            **_with_text(row, text_chars),
            "feeds": feeds.get(row["id"], []),
            "entry_id": row["entry_id"],
        }
        for row in rows
    ]


def _feed_entries(feed_id: int, before: int | None, limit: int) -> sa.Subquery:
    """(article_id, first_seen, id) of the feed's `limit` newest entries, or of those after
    entry `before` in that order. Two index range reads, neither a scan of the newer ones:
    the entries first seen together with `before` and older by id, then those first seen
    earlier (a row-value `(first_seen, id) < (…)` is range-read on first_seen alone, so a run
    of entries first seen together would be read from its newest every page)."""
    entries = sa.select(Entry.article_id, Entry.first_seen, Entry.id).where(
        Entry.feed_id == feed_id
    )
    newest = (Entry.first_seen.desc(), Entry.id.desc())
    if before is None:
        return entries.order_by(*newest).limit(limit).subquery("recent")
    anchor = sa.select(Entry.first_seen).where(Entry.id == before).scalar_subquery()
    same = entries.where(Entry.first_seen == anchor, Entry.id < before)
    earlier = entries.where(Entry.first_seen < anchor)
    parts = [part.order_by(*newest).limit(limit).subquery() for part in (same, earlier)]
    return sa.union_all(*(sa.select(part) for part in parts)).subquery("recent")


def articles_with_text(
    engine: Engine, article_ids: Sequence[int], *, text_chars: int
) -> list[dict[str, Any]]:
    """These articles (in the order given) with their text cut to `text_chars`: Atom entries."""
    query = sa.select(*SUMMARY_COLUMNS, Article.updated_at, _cut(Article.text, text_chars))
    with reading(engine) as conn:
        rows = conn.execute(query.where(Article.id.in_(list(article_ids)))).mappings().all()
    by_id = {row["id"]: _with_text(row, text_chars) for row in rows}
    return [by_id[i] for i in article_ids if i in by_id]


def _with_text(row: sa.RowMapping, text_chars: int) -> dict[str, Any]:
    record = summary_record(row, [])
    record["updated_at"] = iso(row["updated_at"])
    if text_chars:
        record["text"] = row["text"]
    return record


def raw_page_kept(engine: Engine, article_id: int) -> bool:
    """Whether the article's page response is archived (in WARC, or in the database before
    WARC storage): what `ingest show --raw` and `/articles/ID/raw` print."""
    kept = sa.or_(Article.page_raw_id.is_not(None), Article.page_blob.is_not(None))
    with reading(engine) as conn:
        return bool(conn.execute(sa.select(kept).where(Article.id == article_id)).scalar())


def article_exists(engine: Engine, article_id: int) -> bool:
    return _exists(engine, Article, article_id)


def feed_exists(engine: Engine, feed_id: int) -> bool:
    return _exists(engine, Feed, feed_id)


def _exists(engine: Engine, model: type[Article] | type[Feed], row_id: int) -> bool:
    """Whether `model` has row `row_id` (an id out of the database's range has none)."""
    if not valid_id(row_id):
        return False
    with reading(engine) as conn:
        return conn.execute(sa.select(model.id).where(model.id == row_id)).first() is not None


def feed_page(engine: Engine, *, after_id: int = 0, limit: int = 1_000) -> list[Feed]:
    """Feeds with id > `after_id`, in id order."""
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(Feed).where(Feed.id > after_id).order_by(Feed.id).limit(limit)
        ).mappings()
        return [Feed.model_validate(dict(row)) for row in rows]


def latest(
    engine: Engine, keep: ArticleFilter, *, before_id: int | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The newest articles kept by `keep` (highest ids first), below `before_id` when given."""
    query = sa.select(*SUMMARY_COLUMNS)
    if before_id is not None:
        query = query.where(Article.id < before_id)
    query = apply_filter(query, keep).order_by(Article.id.desc()).limit(limit)
    with reading(engine) as conn:
        rows = conn.execute(query).mappings().all()
        feeds = feeds_of(conn, [row["id"] for row in rows])
    return [summary_record(row, feeds.get(row["id"], [])) for row in rows]
