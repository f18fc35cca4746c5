"""The write path of the archive: feed entries, their articles, and extraction results.

Entries and their (pending) articles are committed before any page is fetched, so a crash at
any later point loses nothing: the next run finds the articles still `pending` and completes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.identity import canonical_url, content_hash, entry_fingerprint, entry_key, word_count
from ingest.parse.sanitize import html_to_text
from ingest.records import Extracted, FetchResult, ParsedEntry
from ingest.store.blobs import put_blob
from ingest.store.models import Article, Entry, Revision, utcnow
from ingest.store.upsert import insert_ignore


@dataclass(frozen=True, slots=True)
class EntriesOutcome:
    new: int
    updated: int
    pending: list[int]  # article ids of this feed still waiting for their page


def record_entries(
    engine: Engine, feed_id: int, entries: Sequence[ParsedEntry], *, fulltext: bool
) -> EntriesOutcome:
    """Insert new entries (and their articles), update changed ones, in one transaction."""
    now = utcnow()
    new = updated = 0
    with engine.begin() as conn:
        for entry in entries:
            key = entry_key(entry)
            fingerprint = entry_fingerprint(entry)
            row = conn.execute(
                sa.select(Entry.id, Entry.content_hash).where(
                    Entry.feed_id == feed_id, Entry.key == key
                )
            ).first()
            fields = _entry_fields(entry) | {"content_hash": fingerprint, "last_seen": now}
            if row is None:
                article_id = _resolve_article(conn, entry, fulltext=fulltext)
                conn.execute(
                    insert_ignore(conn, Entry, ["feed_id", "key"]).values(
                        feed_id=feed_id, key=key, first_seen=now, article_id=article_id, **fields
                    )
                )
                new += 1
            elif row.content_hash != fingerprint:
                conn.execute(sa.update(Entry).where(Entry.id == row.id).values(**fields))
                updated += 1
            else:
                conn.execute(sa.update(Entry).where(Entry.id == row.id).values(last_seen=now))
        pending = _pending_articles(conn, feed_id) if fulltext else []
    return EntriesOutcome(new, updated, pending)


def _entry_fields(entry: ParsedEntry) -> dict[str, object]:
    return {
        "guid": entry.guid,
        "link": entry.link,
        "title": entry.title,
        "author": entry.author,
        "summary": entry.summary,
        "content": entry.content,
        "categories": list(entry.categories),
        "published": entry.published,
        "updated": entry.updated,
    }


def _resolve_article(conn: sa.Connection, entry: ParsedEntry, *, fulltext: bool) -> int:
    """The article an entry is a source of: found by canonical URL (or text, for a linkless
    item), else created: `pending` when its page is still to be fetched."""
    feed_text = html_to_text(entry.content or entry.summary or "")
    canonical = canonical_url(entry.link) if entry.link else None
    digest = content_hash(feed_text) if feed_text else None
    if canonical is not None:
        found = conn.execute(
            sa.select(Article.id).where(Article.canonical_url == canonical)
        ).scalar()
    else:
        found = conn.execute(sa.select(Article.id).where(Article.content_hash == digest)).scalar()
    if found is not None:
        return found
    now = utcnow()
    pending = fulltext and canonical is not None
    values = {
        "url": entry.link,
        "canonical_url": canonical,
        "title": entry.title,
        "author": entry.author,
        "published": entry.published or entry.updated,
        "categories": list(entry.categories),
        "text": feed_text,
        "html": entry.content or entry.summary,
        "word_count": word_count(feed_text),
        "content_hash": None if pending else digest,
        "extraction": "pending" if pending else "feed",
        "created_at": now,
        "updated_at": now,
    }
    new_id = conn.execute(
        insert_ignore(conn, Article, ["canonical_url"]).values(**values).returning(Article.id)
    ).scalar()
    if new_id is None:  # another process inserted the same canonical URL meanwhile
        new_id = conn.execute(
            sa.select(Article.id).where(Article.canonical_url == canonical)
        ).scalar_one()
    return new_id


def _pending_articles(conn: sa.Connection, feed_id: int) -> list[int]:
    query = (
        sa.select(Article.id)
        .join(Entry, Entry.article_id == Article.id)
        .where(Entry.feed_id == feed_id, Article.extraction == "pending")
        .distinct()
        .order_by(Article.id)
    )
    return list(conn.execute(query).scalars())


def pending_articles(engine: Engine, feed_id: int) -> list[int]:
    with engine.connect() as conn:
        return _pending_articles(conn, feed_id)


def recent_publication_times(engine: Engine, feed_id: int, limit: int = 100) -> list[datetime]:
    """When this feed's latest entries were published (first seen, if undated): its pace."""
    query = (
        sa.select(sa.func.coalesce(Entry.published, Entry.first_seen))
        .where(Entry.feed_id == feed_id)
        .order_by(Entry.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def article_url(engine: Engine, article_id: int) -> str | None:
    """The URL to fetch: the canonical one, so tracking parameters are never sent back."""
    query = sa.select(sa.func.coalesce(Article.canonical_url, Article.url)).where(
        Article.id == article_id
    )
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def save_page(
    engine: Engine,
    article_id: int,
    page: FetchResult,
    extracted: Extracted | None,
    reason: str | None,
) -> int:
    """Store a fetched page and what was extracted from it; returns the article id it ended in.

    The raw body is kept whatever happens, so re-extraction never needs the network. When the
    page's rel=canonical or its exact text belongs to an article already archived, this article
    is merged into that one (its entries become sources of it): one article, several sources.
    """
    now = utcnow()
    with engine.begin() as conn:
        article = (
            conn.execute(sa.select(Article).where(Article.id == article_id)).mappings().first()
        )
        if article is None:
            return article_id
        blob = put_blob(conn, page.body) if page.body is not None else None
        page_fields = {
            "page_blob": blob,
            "page_headers": page.headers or None,
            "page_status": page.status,
            "etag": page.headers.get("etag"),
            "last_modified": page.headers.get("last-modified"),
            "fetched_at": now,
            "updated_at": now,
        }
        if extracted is None or not extracted.text.strip():
            conn.execute(
                sa.update(Article)
                .where(Article.id == article_id)
                .values(
                    **page_fields,
                    extraction="feed" if article["text"] else "failed",
                    extraction_error=reason or "no text found in the page",
                    content_hash=content_hash(article["text"]) if article["text"] else None,
                )
            )
            return article_id
        digest = content_hash(extracted.text)
        canonical = canonical_url(extracted.canonical_url) if extracted.canonical_url else None
        target = _existing_copy(conn, article_id, article["canonical_url"], canonical, digest)
        if target is not None:
            conn.execute(
                sa.update(Entry).where(Entry.article_id == article_id).values(article_id=target)
            )
            conn.execute(sa.delete(Article).where(Article.id == article_id))
            return target
        conn.execute(
            sa.update(Article)
            .where(Article.id == article_id)
            .values(
                **page_fields,
                **_metadata(extracted, article),
                canonical_url=canonical or article["canonical_url"],
                text=extracted.text,
                html=extracted.html,
                word_count=word_count(extracted.text),
                content_hash=digest,
                extraction="full",
                extraction_error=None,
            )
        )
        conn.execute(
            sa.insert(Revision).values(
                article_id=article_id,
                created_at=now,
                title=extracted.title or article["title"],
                text_blob=put_blob(conn, extracted.text.encode()),
                content_hash=digest,
                reason="initial",
            )
        )
    return article_id


def _existing_copy(
    conn: sa.Connection, article_id: int, current: str | None, canonical: str | None, digest: str
) -> int | None:
    """Another archived article that is the same document: same rel=canonical, or same text."""
    if canonical and canonical != current:
        found = conn.execute(
            sa.select(Article.id).where(Article.canonical_url == canonical)
        ).scalar()
        if found is not None:
            return found
    return conn.execute(
        sa.select(Article.id)
        .where(
            Article.content_hash == digest, Article.id != article_id, Article.extraction == "full"
        )
        .order_by(Article.id)
    ).scalar()


def _metadata(extracted: Extracted, article: sa.RowMapping) -> dict[str, object]:
    """Page metadata, but the feed's own timestamp wins: trafilatura's date is day-only."""
    published: datetime | None = article["published"] or extracted.published
    return {
        "title": extracted.title or article["title"],
        "author": extracted.author or article["author"],
        "published": published,
        "language": extracted.language,
        "sitename": extracted.sitename,
        "description": extracted.description,
        "image": extracted.image,
        "categories": sorted({*article["categories"], *extracted.categories, *extracted.tags}),
    }
