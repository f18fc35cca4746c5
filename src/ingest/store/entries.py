"""Feed entries and the articles they point to: the first write of every fetched feed.

Entries and their (pending) articles are committed before any page is fetched, so a crash at
any later point loses nothing: the next run finds the articles still `pending` and completes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.dedupe import Thresholds
from ingest.identity import canonical_url, content_hash, entry_fingerprint, entry_key, word_count
from ingest.parse.sanitize import html_to_text
from ingest.records import ParsedEntry
from ingest.store.articles import set_text
from ingest.store.blobs import put_blob
from ingest.store.models import Article, Entry, Feed, utcnow
from ingest.store.upsert import insert_ignore
from ingest.timestamps import iso_utc


@dataclass(frozen=True, slots=True)
class EntriesOutcome:
    new: int
    updated: int
    pending: list[int]  # article ids of this feed still waiting for their page
    changed: list[int] = field(default_factory=list)  # full-text articles whose entry changed
    guid_changes: int = 0  # known items seen under a new guid
    removed: int = 0  # entries newly gone from the feed


def record_entries(
    engine: Engine,
    feed_id: int,
    entries: Sequence[ParsedEntry],
    *,
    fulltext: bool,
    thresholds: Thresholds = Thresholds(),
) -> EntriesOutcome:
    """Insert new entries (and their articles), update changed ones, in one transaction.

    A known item under a new guid (same link and content) keeps its entry; a changed item whose
    article text comes from the feed gives that article a new revision, and one whose article
    has full text is returned in `changed`, its page to be re-checked. Entries gone from the
    document while older ones remain are marked removed (see `_mark_removed`).
    """
    now = utcnow()
    new = updated = moved = 0
    changed: list[int] = []
    keys = {entry_key(entry) for entry in entries}
    with engine.begin() as conn:
        for entry in entries:
            key = entry_key(entry)
            fingerprint = entry_fingerprint(entry)
            row = conn.execute(
                sa.select(Entry.id, Entry.content_hash, Entry.article_id).where(
                    Entry.feed_id == feed_id, Entry.key == key
                )
            ).first()
            if row is None and (row := _renamed_entry(conn, feed_id, entry, fingerprint, keys)):
                moved += 1
            fields = _entry_fields(entry) | {"content_hash": fingerprint, "last_seen": now}
            if row is None:
                article_id = _resolve_article(conn, entry, fulltext=fulltext, thresholds=thresholds)
                conn.execute(
                    insert_ignore(conn, Entry, ["feed_id", "key"]).values(
                        feed_id=feed_id, key=key, first_seen=now, article_id=article_id, **fields
                    )
                )
                new += 1
            elif row.content_hash != fingerprint:
                conn.execute(
                    sa.update(Entry)
                    .where(Entry.id == row.id)
                    .values(**fields, key=key, removed_at=None, history=_history(conn, row.id, now))
                )
                updated += 1
                if _entry_changed(conn, row.article_id, entry, now, thresholds):
                    changed.append(row.article_id)
            else:
                conn.execute(
                    sa.update(Entry)
                    .where(Entry.id == row.id)
                    .values(key=key, guid=entry.guid, last_seen=now, removed_at=None)
                )
        if moved:
            conn.execute(
                sa.update(Feed)
                .where(Feed.id == feed_id)
                .values(guid_changes=Feed.guid_changes + moved)
            )
        removed = _mark_removed(conn, feed_id, keys, now)
        pending = _pending_articles(conn, feed_id) if fulltext else []
    return EntriesOutcome(new, updated, pending, changed, moved, removed)


def _history(conn: sa.Connection, entry_id: int, now: datetime) -> list[dict[str, Any]]:
    """The entry's history with its current version appended, before a change replaces it."""
    old = conn.execute(
        sa.select(Entry.title, Entry.summary, Entry.content, Entry.history).where(
            Entry.id == entry_id
        )
    ).one()
    body = json.dumps({"summary": old.summary, "content": old.content}).encode()
    replaced = iso_utc(now)
    version = {"title": old.title, "body": put_blob(conn, body), "replaced_at": replaced}
    return [*(old.history or []), version]


def _renamed_entry(
    conn: sa.Connection, feed_id: int, entry: ParsedEntry, fingerprint: str, keys: set[str]
) -> sa.Row[Any] | None:
    """This item under the guid it had before: an entry of the feed with the same content and
    canonical link (or none), whose old key the document no longer has. A feed that rewrites its
    guids then updates entries instead of duplicating them."""
    link = canonical_url(entry.link) if entry.link else None
    rows = conn.execute(
        sa.select(Entry.id, Entry.content_hash, Entry.article_id, Entry.link).where(
            Entry.feed_id == feed_id,
            Entry.content_hash == fingerprint,
            Entry.key.not_in(list(keys)),
        )
    ).all()
    for row in rows:
        if (canonical_url(row.link) if row.link else None) == link:
            return row
    return None


def _entry_changed(
    conn: sa.Connection, article_id: int | None, entry: ParsedEntry, now: datetime, t: Thresholds
) -> bool:
    """A feed item changed. When its article's text is the feed's, the item's new title and
    text are the article's new version; True when the article has full text, whose page is
    then the place to look for the change."""
    extraction = conn.execute(
        sa.select(Article.extraction).where(Article.id == article_id)
    ).scalar()
    if article_id is None or extraction in (None, "pending"):
        return False
    if extraction == "full":
        return True
    text = html_to_text(entry.content or entry.summary or "")
    set_text(conn, article_id, title=entry.title, text=text, reason="feed", now=now, link=None)
    conn.execute(
        sa.update(Article)
        .where(Article.id == article_id)
        .values(title=entry.title, html=entry.content or entry.summary, updated_at=now)
    )
    return False


def _mark_removed(conn: sa.Connection, feed_id: int, keys: set[str], now: datetime) -> int:
    """Mark entries gone from the feed document. Feeds list only their latest items, so only
    entries newer than the oldest item still listed count as removed; older ones aged out."""
    when = sa.func.coalesce(Entry.published, Entry.first_seen)
    oldest = (
        sa.select(sa.func.min(when))
        .where(Entry.feed_id == feed_id, Entry.key.in_(list(keys)))
        .scalar_subquery()
    )
    result = conn.execute(
        sa.update(Entry)
        .where(
            Entry.feed_id == feed_id,
            Entry.removed_at.is_(None),
            Entry.key.not_in(list(keys)),
            when > oldest,
        )
        .values(removed_at=now)
    )
    return result.rowcount or 0


def _entry_fields(entry: ParsedEntry) -> dict[str, object]:
    return {
        "guid": entry.guid,
        "link": entry.link,
        "title": entry.title,
        "author": entry.author,
        "summary": entry.summary,
        "content": entry.content,
        "categories": list(entry.categories),
        "enclosures": list(entry.enclosures),
        "published": entry.published,
        "updated": entry.updated,
    }


def _resolve_article(
    conn: sa.Connection, entry: ParsedEntry, *, fulltext: bool, thresholds: Thresholds
) -> int:
    """The article an entry is a source of: found by canonical URL (or text, for a linkless
    item), else created: `pending` when its page is still to be fetched."""
    feed_text = html_to_text(entry.content or entry.summary or "")
    canonical = canonical_url(entry.link) if entry.link else None
    digest = content_hash(feed_text) if feed_text else None
    if canonical is not None:
        found = conn.execute(
            sa.select(Article.id).where(Article.canonical_url == canonical)
        ).scalar()
    elif digest is not None:
        found = conn.execute(sa.select(Article.id).where(Article.content_hash == digest)).scalar()
    else:  # no link and no text (a title-only item): nothing to match it by
        found = None
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
        return conn.execute(
            sa.select(Article.id).where(Article.canonical_url == canonical)
        ).scalar_one()
    if not pending and feed_text:
        set_text(
            conn, new_id, title=entry.title, text=feed_text, reason="feed", now=now, link=thresholds
        )
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
