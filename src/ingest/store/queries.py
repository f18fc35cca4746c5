"""The read path: articles with their sources, as `show`, `export` and the API present them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.errors import UsageError
from ingest.store.engine import reading
from ingest.store.filters import ArticleFilter, apply_filter
from ingest.store.models import Article, Entry, Feed, valid_id
from ingest.store.revisions import revisions_of
from ingest.timestamps import iso_or_none

EXPORT_BATCH = 500


_iso = iso_or_none


def article_record(article: sa.RowMapping, sources: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The export contract: one JSON object per article (see README, "Export format")."""
    return {
        "id": article["id"],
        "url": article["url"],
        "canonical_url": article["canonical_url"],
        "title": article["title"],
        "author": article["author"],
        "published": _iso(article["published"]),
        "language": article["language"],
        "sitename": article["sitename"],
        "description": article["description"],
        "image": article["image"],
        "text": article["text"],
        "word_count": article["word_count"],
        "content_hash": article["content_hash"],
        "extraction": article["extraction"],
        "fetched_at": _iso(article["fetched_at"]),
        "duplicate_of": article["duplicate_of"],
        "similarity": article["similarity"],
        "revisions": article["revision_count"],
        "removed_at": _iso(article["removed_at"]),
        "text_from": text_from(article, sources),
        "sources": [{k: v for k, v in s.items() if k != "text_hash"} for s in sources],
    }


def text_from(article: sa.RowMapping, sources: Sequence[dict[str, Any]]) -> str | None:
    """Who supplied the article's text: `page`, or the URL of the feed whose item text it is
    (the page was never fetched successfully: a feed's words are never shown as the page's)."""
    if article["extraction"] == "full":
        return "page"
    for source in sources:
        if article["content_hash"] and source["text_hash"] == article["content_hash"]:
            return str(source["feed_url"])
    return None


def _sources(conn: sa.Connection, article_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    rows = conn.execute(
        sa.select(
            Entry.article_id,
            Feed.url,
            Entry.guid,
            Entry.title,
            Entry.link,
            Entry.published,
            Entry.removed_at,
            Entry.history,
            Entry.enclosures,
            Entry.summary,
            Entry.content,
            Article.extraction,
        )
        .join(Article, Article.id == Entry.article_id)
        .join(Feed, Feed.id == Entry.feed_id)
        .where(Entry.article_id.in_(list(article_ids)))
        .order_by(Entry.id)
    )
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    from ingest.identity import content_hash  # only to attribute feed text: HTML parsing
    from ingest.parse.sanitize import html_to_text

    for row in rows:
        article_id, feed_url, guid, title, link, published, removed_at, history, media = row[:9]
        own_text = None  # only needed to attribute a text that is not the page's
        if row.extraction != "full":
            own_text = content_hash(html_to_text(row.content or row.summary or ""))
        found[article_id].append(
            {
                "feed_url": feed_url,
                "guid": guid,
                "title": title,
                "link": link,
                "published": _iso(published),
                "removed_at": _iso(removed_at),
                "enclosures": media or [],
                # what the feed said before it edited this item (title, when it changed)
                "earlier_titles": [
                    {"title": v["title"], "replaced_at": v["replaced_at"]} for v in history or []
                ],
                "text_hash": own_text,
            }
        )
    return found


def require_articles(engine: Engine, article_ids: Sequence[int]) -> None:
    """UsageError naming the first ID with no article: an unknown ID is an error for every
    command that takes IDs (`show`, `reextract`, …), never a silent "0 done"."""
    wanted = [i for i in article_ids if valid_id(i)]
    with reading(engine) as conn:
        known = set(conn.scalars(sa.select(Article.id).where(Article.id.in_(wanted))))
    for article_id in article_ids:
        if article_id not in known:
            raise UsageError(f"no such article: {article_id}")


def get_article(engine: Engine, article_id: int) -> dict[str, Any]:
    if not valid_id(article_id):
        raise UsageError(f"no such article: {article_id}")
    with reading(engine) as conn:
        article = (
            conn.execute(sa.select(Article).where(Article.id == article_id)).mappings().first()
        )
        if article is None:
            raise UsageError(f"no such article: {article_id}")
        record = article_record(article, _sources(conn, [article_id])[article_id])
        record["extraction_error"] = article["extraction_error"]
        record["html"] = article["html"]
        return record


def iter_articles(
    engine: Engine,
    *,
    with_revisions: bool = False,
    keep: ArticleFilter | None = None,
    with_html: bool = False,
) -> Iterator[dict[str, Any]]:
    """Every article `keep` keeps (default: all) in id order, in batches (constant memory on
    large archives); with every version in full under `revision_history` when
    `with_revisions`, and the sanitized page HTML under `html` when `with_html`."""
    last = 0
    while True:
        query = sa.select(Article).where(Article.id > last)
        if keep is not None:
            query = apply_filter(query, keep)
        with reading(engine) as conn:
            batch = conn.execute(query.order_by(Article.id).limit(EXPORT_BATCH)).mappings().all()
            if not batch:
                return
            ids = [row["id"] for row in batch]
            sources = _sources(conn, ids)
            history = revisions_of(conn, ids, with_text=True) if with_revisions else {}
        for row in batch:
            record = article_record(row, sources.get(row["id"], []))
            if with_html:
                record["html"] = row["html"]
            if with_revisions:
                record["revision_history"] = [r.as_json() for r in history.get(row["id"], [])]
            yield record
        last = batch[-1]["id"]


def article_page(engine: Engine, *, after_id: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """Articles with id > `after_id`, in id order: keyset pagination for the HTTP API."""
    with reading(engine) as conn:
        rows = (
            conn.execute(
                sa.select(Article).where(Article.id > after_id).order_by(Article.id).limit(limit)
            )
            .mappings()
            .all()
        )
        sources = _sources(conn, [row["id"] for row in rows])
    return [article_record(row, sources.get(row["id"], [])) for row in rows]
