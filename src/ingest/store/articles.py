"""The write path of the archive: feed entries, their articles, and extraction results.

Entries and their (pending) articles are committed before any page is fetched, so a crash at
any later point loses nothing: the next run finds the articles still `pending` and completes them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest import schedule
from ingest.dedupe import TextPrint, Thresholds, near_duplicate, text_print
from ingest.identity import canonical_url, content_hash, entry_fingerprint, entry_key, word_count
from ingest.parse.sanitize import html_to_text
from ingest.records import Extracted, FetchResult, ParsedEntry, Validators
from ingest.store.blobs import get_blob, put_blob
from ingest.store.engine import reading
from ingest.store.leases import dead_holders, take_leases
from ingest.store.models import Article, Entry, Feed, utcnow
from ingest.store.revisions import add_revision
from ingest.store.similar import find_near_duplicate, fingerprint_columns
from ingest.store.upsert import insert_ignore

log = logging.getLogger(__name__)


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
    replaced = now.isoformat().replace("+00:00", "Z")
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
    _set_text(conn, article_id, title=entry.title, text=text, reason="feed", now=now, link=None)
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


def _set_text(
    conn: sa.Connection,
    article_id: int,
    *,
    title: str | None,
    text: str,
    reason: str,
    now: datetime,
    link: Thresholds | None,
) -> bool:
    """Make (title, text) the article's current version: its hash, fingerprint and revision,
    and, with thresholds in `link`, its near-duplicate link. False when nothing changed."""
    values: dict[str, object] = {
        "text": text,
        "word_count": word_count(text),
        "content_hash": content_hash(text),
        **fingerprint_columns(text),
    }
    if link is not None:
        match = find_near_duplicate(conn, article_id, text, link)
        values |= {
            "duplicate_of": match.article_id if match else None,
            "similarity": match.similarity if match else None,
        }
    conn.execute(sa.update(Article).where(Article.id == article_id).values(**values))
    return add_revision(conn, article_id, title=title, text=text, reason=reason, now=now)


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
        _set_text(
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
    *,
    retry_schedule: Sequence[int] = (),
    recheck_schedule: Sequence[int] = (),
    thresholds: Thresholds = Thresholds(),
    owner: str | None = None,
) -> int:
    """Store a fetched page and what was extracted from it; returns the article id it ended in.

    Full text makes the article's first page version (its revision, fingerprint, near-duplicate
    link) and puts it on the re-check schedule (`next_check_at`, see schedule.next_recheck).

    A failure with a `retry_schedule` (a transient one) puts the article on the retry queue:
    `next_check_at` after the next step of the schedule, until the schedule is exhausted.

    The raw body is kept whatever happens, so re-extraction never needs the network. When the
    page's rel=canonical or its exact text belongs to an article already archived, this article
    is merged into that one (its entries become sources of it): one article, several sources.
    """
    now = utcnow()
    with engine.begin() as conn:
        article = _leased_article(conn, article_id, owner)
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
            retry_at = schedule.next_retry(now, article["retry_count"], retry_schedule)
            conn.execute(
                sa.update(Article)
                .where(Article.id == article_id)
                .values(
                    **page_fields,
                    next_check_at=retry_at,
                    retry_count=article["retry_count"] + (retry_at is not None),
                    extraction="feed" if article["text"] else "failed",
                    extraction_error=reason or "no text found in the page",
                )
            )
            if article["text"]:
                _set_text(
                    conn,
                    article_id,
                    title=article["title"],
                    text=article["text"],
                    reason="feed",
                    now=now,
                    link=thresholds if article["duplicate_of"] is None else None,
                )
            return article_id
        digest = content_hash(extracted.text)
        canonical = canonical_url(extracted.canonical_url) if extracted.canonical_url else None
        claimed = _canonical_owner(conn, article_id, canonical)
        if claimed is not None:
            # Another article has this rel=canonical. Trust it only when the texts agree:
            # some sites name their home page as every page's canonical.
            same = _same_story(conn, claimed, extracted.text, digest, thresholds)
            target = claimed if same else _exact_copy(conn, article_id, digest)
            canonical = None  # taken: this article keeps its own URL
        else:
            target = _exact_copy(conn, article_id, digest)
        if target is not None:
            conn.execute(
                sa.update(Entry).where(Entry.article_id == article_id).values(article_id=target)
            )
            # near-duplicates linked to this (feed-text) article now point at the one it joins
            conn.execute(
                sa.update(Article)
                .where(Article.duplicate_of == article_id)
                .values(duplicate_of=sa.case((Article.id == target, None), else_=target))
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
                html=extracted.html,
                extraction="full",
                extraction_error=None,
                extractor_version=extracted.extractor,
                # off the retry queue, on the re-check schedule
                next_check_at=schedule.next_recheck(article["created_at"], now, recheck_schedule),
            )
        )
        _set_text(
            conn,
            article_id,
            title=extracted.title or article["title"],
            text=extracted.text,
            reason="page",
            now=now,
            link=thresholds,
        )
    return article_id


def _leased_article(
    conn: sa.Connection, article_id: int, owner: str | None
) -> sa.RowMapping | None:
    """The article row, locked for this write; None when it is gone, or when `owner` lost its
    lease to another worker (whose result then stands: a stalled worker never overwrites it)."""
    query = sa.select(Article).where(Article.id == article_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    article = conn.execute(query).mappings().first()
    if article is None or owner is None or article["lease_owner"] in (None, owner):
        return article
    log.warning("article %d: lease lost to %s, result dropped", article_id, article["lease_owner"])
    return None


def _canonical_owner(conn: sa.Connection, article_id: int, canonical: str | None) -> int | None:
    """Another article whose canonical URL is `canonical`, if any."""
    if canonical is None:
        return None
    return conn.execute(
        sa.select(Article.id).where(Article.canonical_url == canonical, Article.id != article_id)
    ).scalar()


def _same_story(
    conn: sa.Connection, other: int, text: str, digest: str, thresholds: Thresholds
) -> bool:
    """Whether `text` is what article `other` holds: it has no page text yet, or the same text,
    or a near-duplicate of it."""
    row = conn.execute(
        sa.select(
            Article.extraction, Article.content_hash, Article.simhash, Article.word_count
        ).where(Article.id == other)
    ).one()
    if row.extraction != "full" or row.content_hash == digest or row.simhash is None:
        return True
    theirs = TextPrint(row.simhash, row.word_count)
    return near_duplicate(theirs, text_print(text), thresholds) is not None


def _exact_copy(conn: sa.Connection, article_id: int, digest: str) -> int | None:
    """Another archived article with exactly this text (normalized)."""
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


@dataclass(frozen=True, slots=True)
class DueArticle:
    """An article page due again: a full-text retry (extraction not `full`) or a re-check."""

    id: int
    extraction: str
    origin: str | None  # the URL of a feed that links to it (its pages' allowed origin)


def claim_due_articles(
    engine: Engine,
    owner: str,
    *,
    lease: timedelta,
    limit: int,
    now: datetime | None = None,
    feed_ids: Sequence[int] | None = None,
    due_only: bool = True,
) -> list[DueArticle]:
    """Lease up to `limit` articles whose `next_check_at` is due and that nobody else holds.

    The one queue for every later visit of an article page (full-text retries and re-checks for
    edits), leased like feeds so two workers never fetch one page at the same time. With
    `due_only=False` (`ingest fetch --recheck`): every full-text article, of `feed_ids` if given.
    """
    now = now or utcnow()
    due = sa.select(Article.id).where(
        sa.or_(Article.lease_until.is_(None), Article.lease_until < now)
    )
    if due_only:
        due = due.where(Article.next_check_at <= now)
    else:
        due = due.where(Article.extraction == "full")
    if feed_ids is not None:
        due = due.where(
            Article.id.in_(sa.select(Entry.article_id).where(Entry.feed_id.in_(list(feed_ids))))
        )
    due = due.order_by(Article.next_check_at, Article.id).limit(limit)
    with engine.begin() as conn:
        returning = [Article.id, Article.extraction]
        rows = take_leases(conn, Article, due, owner, now + lease, returning)
        origins = dict(
            conn.execute(
                sa.select(Entry.article_id, sa.func.min(Feed.url))
                .join(Feed, Feed.id == Entry.feed_id)
                .where(Entry.article_id.in_([row.id for row in rows]))
                .group_by(Entry.article_id)
            ).all()
        )
    return sorted(
        (DueArticle(row.id, row.extraction, origins.get(row.id)) for row in rows),
        key=lambda a: a.id,
    )


def lease_articles(
    engine: Engine, owner: str, ids: Sequence[int], *, lease: timedelta, now: datetime | None = None
) -> list[int]:
    """Take the leases of `ids` before fetching their pages; those another live worker holds are
    left out (returned: the ids now ours), so two workers never fetch one page at once.

    Each leased article is made due (`next_check_at`) if it was not scheduled: should this worker
    die mid-fetch, `claim_due_articles` hands the page to another one once the lease expires.
    """
    now = now or utcnow()
    if not ids:
        return []
    with engine.begin() as conn:
        dead = dead_holders(conn, Article, now, Article.id.in_(list(ids)))
        free = sa.or_(
            Article.lease_until.is_(None),
            Article.lease_until < now,
            Article.lease_owner == owner,
            Article.lease_owner.in_(dead),
        )
        rows = conn.execute(
            sa.update(Article)
            # still pending: another feed's (or node's) worker may have finished it meanwhile
            .where(Article.id.in_(list(ids)), Article.extraction == "pending", free)
            .values(
                lease_owner=owner,
                lease_until=now + lease,
                next_check_at=sa.func.coalesce(Article.next_check_at, now),
            )
            .returning(Article.id)
        ).scalars()
        return sorted(rows)


def release_articles(engine: Engine, owner: str, ids: Sequence[int] | None = None) -> int:
    """Give back `owner`'s article leases (the named ones, or all of them on shutdown)."""
    query = sa.update(Article).where(Article.lease_owner == owner)
    if ids is not None:
        query = query.where(Article.id.in_(list(ids)))
    with engine.begin() as conn:
        result = conn.execute(query.values(lease_owner=None, lease_until=None))
    return result.rowcount or 0


def recheck_validators(engine: Engine, article_id: int) -> tuple[str | None, Validators]:
    """The URL of an article's page and the validators of its last response (conditional GET)."""
    query = sa.select(
        sa.func.coalesce(Article.canonical_url, Article.url), Article.etag, Article.last_modified
    ).where(Article.id == article_id)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None, Validators()
    return row[0], Validators(row[1], row[2])


def save_recheck(
    engine: Engine,
    article_id: int,
    page: FetchResult,
    extracted: Extracted | None,
    *,
    recheck_schedule: Sequence[int] = (),
    owner: str | None = None,
) -> str:
    """Store what a re-check of an article's page found; returns `revised`, `unchanged`,
    `removed` (404/410: marked, kept, no more checks) or `failed` (kept as it was).

    A new version needs a changed page (not 304) whose title or normalized text differs from
    the latest revision; the article row then shows it and earlier versions stay as revisions.
    """
    now = utcnow()
    with engine.begin() as conn:
        article = _leased_article(conn, article_id, owner)
        if article is None:
            return "failed"
        values: dict[str, object] = {
            "check_count": article["check_count"] + 1,
            "next_check_at": schedule.next_recheck(article["created_at"], now, recheck_schedule),
        }
        if page.status in (404, 410):
            outcome = "removed"
            values |= {
                "removed_at": article["removed_at"] or now,
                "page_status": page.status,
                "next_check_at": None,
            }
        elif page.not_modified:
            outcome = "unchanged"
        elif extracted is None or not extracted.text.strip() or page.body is None:
            outcome = "failed"
        else:
            values |= {
                "page_blob": put_blob(conn, page.body),
                "page_headers": page.headers or None,
                "page_status": page.status,
                "etag": page.headers.get("etag"),
                "last_modified": page.headers.get("last-modified"),
                "fetched_at": now,
                "removed_at": None,
                "extractor_version": extracted.extractor,
            }
            title = extracted.title or article["title"]
            text = extracted.text
            revised = _set_text(
                conn, article_id, title=title, text=text, reason="page", now=now, link=None
            )
            if revised:
                values |= {"title": title, "html": extracted.html, "updated_at": now}
            outcome = "revised" if revised else "unchanged"
        conn.execute(sa.update(Article).where(Article.id == article_id).values(**values))
    return outcome


@dataclass(frozen=True, slots=True)
class StoredPage:
    """An article's page as archived: what re-extraction needs, no network involved."""

    article_id: int
    url: str
    body: bytes
    content_type: str


def reextract_candidates(
    engine: Engine, article_ids: Sequence[int] | None, *, outdated_than: str | None
) -> list[int]:
    """Articles with an archived page (those named, or all); with `outdated_than`, only those
    extracted by another extractor version (or before versions were recorded)."""
    query = sa.select(Article.id).where(Article.page_blob.is_not(None)).order_by(Article.id)
    if article_ids is not None:
        query = query.where(Article.id.in_(list(article_ids)))
    if outdated_than is not None:
        query = query.where(
            sa.or_(Article.extractor_version.is_(None), Article.extractor_version != outdated_than)
        )
    with reading(engine) as conn:
        return list(conn.execute(query).scalars())


def stored_page(engine: Engine, article_id: int) -> StoredPage | None:
    query = sa.select(Article.url, Article.canonical_url, Article.page_blob, Article.page_headers)
    with reading(engine) as conn:
        row = conn.execute(query.where(Article.id == article_id)).first()
        body = get_blob(conn, row.page_blob) if row and row.page_blob else None
    if row is None or body is None:
        return None
    headers = row.page_headers or {}
    return StoredPage(
        article_id, row.canonical_url or row.url, body, headers.get("content-type", "")
    )


def save_reextraction(engine: Engine, article_id: int, extracted: Extracted | None) -> str:
    """Replace an article's extraction with a new one of its archived page: `revised` (a new
    version, the old one kept as a revision), `unchanged`, or `failed` (kept as it was)."""
    if extracted is None or not extracted.text.strip():
        return "failed"
    now = utcnow()
    with engine.begin() as conn:
        article = (
            conn.execute(sa.select(Article).where(Article.id == article_id)).mappings().first()
        )
        if article is None:
            return "failed"
        title = extracted.title or article["title"]
        revised = _set_text(
            conn,
            article_id,
            title=title,
            text=extracted.text,
            reason="reextract",
            now=now,
            link=None,
        )
        values = _metadata(extracted, article) | {
            "html": extracted.html,
            "extraction": "full",
            "extraction_error": None,
            "extractor_version": extracted.extractor,
        }
        if revised:
            values["updated_at"] = now
        conn.execute(sa.update(Article).where(Article.id == article_id).values(**values))
    return "revised" if revised else "unchanged"
