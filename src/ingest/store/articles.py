"""Articles from their pages: extraction results, merges, re-checks and re-extraction.

Every page body is kept (content-addressed blobs); what is extracted from it becomes the
article's current version, its revision, its fingerprint and its near-duplicate link.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest import schedule
from ingest.dedupe import Thresholds, features
from ingest.records import Extracted, FetchResult, Validators
from ingest.store.blobs import get_blob
from ingest.store.engine import reading
from ingest.store.models import Article, Entry, PageQueue, RawResponse, utcnow
from ingest.store.raw import Location, locate
from ingest.store.revisions import add_revision
from ingest.store.rowupdate import update_row
from ingest.store.similar import index_text, link_article
from ingest.update.page import (
    CanonicalHolder,
    Dropped,
    Failed,
    Merged,
    PageIntent,
    PageState,
    PageText,
    SameText,
    decide_page,
)
from ingest.update.textfacts import TextFacts, text_facts

log = logging.getLogger(__name__)


# Built once (every saved page runs it): the row is written only when one of these differs.
_TEXT_COLUMNS = {
    "title": "new_title",
    "text": "new_text",
    "word_count": "new_words",
    "content_hash": "new_hash",
}
_SET_TEXT = (
    sa.update(Article)
    .where(
        Article.id == sa.bindparam("article_id"),
        sa.or_(
            *(
                getattr(Article, column).is_distinct_from(sa.bindparam(param))
                for column, param in _TEXT_COLUMNS.items()
            )
        ),
    )
    .values({column: sa.bindparam(param) for column, param in _TEXT_COLUMNS.items()})
)


def set_text(
    conn: sa.Connection,
    article_id: int,
    *,
    title: str | None,
    facts: TextFacts,
    reason: str,
    now: datetime,
    link: Thresholds | None,
) -> bool:
    """Make (title, text) the article's current version: its hash, its near-duplicate index
    keys and revision, and, with thresholds in `link`, its near-duplicate link (verified, see
    dedupe.choose_group). False when nothing changed.

    The only writer of an article's title and text after its insert, in one UPDATE that leaves
    an unchanged row alone (a feed's text standing in for a failed page gets its hash then):
    every write of either re-indexes the whole text (SQLite's search triggers fire on the
    columns written, equal or not: ~3 ms for an 8 KB text; PostgreSQL rewrites the row and its
    index entries), and most re-checks find the page unchanged."""
    conn.execute(
        _SET_TEXT,
        {
            "article_id": article_id,
            "new_title": title,
            "new_text": facts.text,
            "new_words": facts.words,
            "new_hash": facts.content_hash,
        },
    )
    if link is not None:
        link_article(conn, article_id, facts.features, facts.keys, link)
    index_text(conn, article_id, facts.keys)
    return add_revision(conn, article_id, title=title, facts=facts, reason=reason, now=now)


_ARTICLE_URL = sa.select(sa.func.coalesce(Article.canonical_url, Article.url)).where(
    Article.id == sa.bindparam("article_id")
)


def article_url(engine: Engine, article_id: int) -> str | None:
    """The URL to fetch: the canonical one, so tracking parameters are never sent back."""
    with reading(engine) as conn:
        return conn.execute(_ARTICLE_URL, {"article_id": article_id}).scalar()


def save_page(
    engine: Engine,
    article_id: int,
    page: FetchResult,
    text: PageText | None,
    reason: str | None,
    *,
    raw_id: int | None = None,
    retry_schedule: Sequence[int] = (),
    recheck_schedule: Sequence[int] = (),
    thresholds: Thresholds = Thresholds(),
    owner: str | None = None,
) -> int:
    """Store a fetched page and what was extracted from it; returns the article id it ended in.

    Load what the rules need in one read, decide (update.page.decide_page: failed and retried,
    merged into the article the page belongs to, or full text on the re-check schedule), apply.
    The raw body is in the WARC archive whatever happens, so re-extraction needs no network.
    """
    now = utcnow()
    with engine.begin() as conn:
        loaded = _load_page_state(conn, article_id, text)
        if loaded is None:
            return article_id
        stored, current = loaded
        intent = decide_page(
            stored,
            text,
            owner=owner,
            error=reason,
            now=now,
            retry_schedule=retry_schedule,
            recheck_schedule=recheck_schedule,
            thresholds=thresholds,
        )
        return _apply_page(conn, stored, current, intent, page, text, raw_id, now, thresholds)


# `save_page`'s reads, built once (see store.rowupdate)
_PAGE_STATE = (
    sa.select(
        Article.title,
        Article.author,
        Article.published,
        Article.categories,
        Article.text,
        Article.duplicate_of,
        Article.canonical_url,
        Article.created_at,
        sa.func.coalesce(PageQueue.retry_count, 0).label("retry_count"),
        PageQueue.lease_owner,
    )
    .outerjoin(PageQueue, PageQueue.article_id == Article.id)
    .where(Article.id == sa.bindparam("article_id"))
)
_PAGE_STATE_LOCKED = _PAGE_STATE.with_for_update(of=Article)  # PostgreSQL
_SAME_TEXT = (
    sa.select(Article.id, Article.title, Article.canonical_url)
    .where(
        Article.content_hash == sa.bindparam("content_hash"),
        Article.id != sa.bindparam("article_id"),
        Article.extraction == "full",
    )
    .order_by(Article.id)
    .limit(50)
)
_CANONICAL_HOLDER = sa.select(
    Article.id, Article.extraction, Article.content_hash, Article.text
).where(
    Article.canonical_url == sa.bindparam("canonical"),
    Article.id != sa.bindparam("article_id"),
)


def _load_page_state(
    conn: sa.Connection, article_id: int, text: PageText | None
) -> tuple[PageState, sa.Row[Any]] | None:
    """In one read: the article (locked for this write) with its queue state and what the
    write keeps of it; then the archived articles the page may belong to (the holder of its
    rel=canonical, those with its exact text)."""
    query = _PAGE_STATE_LOCKED if conn.dialect.name == "postgresql" else _PAGE_STATE
    row = conn.execute(query, {"article_id": article_id}).first()
    if row is None:
        return None
    holder, same_text = None, ()
    if text is not None:
        holder = _canonical_holder(conn, article_id, text.canonical)
        found = conn.execute(
            _SAME_TEXT, {"content_hash": text.facts.content_hash, "article_id": article_id}
        )
        same_text = tuple(SameText(*other) for other in found)
    state = PageState(
        article_id,
        row.title,
        row.canonical_url,
        bool(row.text),
        row.created_at,
        row.retry_count,
        row.lease_owner,
        holder=holder,
        same_text=same_text,
    )
    return state, row


def _canonical_holder(
    conn: sa.Connection, article_id: int, canonical: str | None
) -> CanonicalHolder | None:
    """Another article whose URL is the page's rel=canonical, with its text's features."""
    if canonical is None:
        return None
    row = conn.execute(
        _CANONICAL_HOLDER, {"canonical": canonical, "article_id": article_id}
    ).first()
    if row is None:
        return None
    feats = features(row.text) if row.extraction == "full" else None
    return CanonicalHolder(row.id, row.extraction, row.content_hash, feats)


def _apply_page(
    conn: sa.Connection,
    stored: PageState,
    current: sa.Row[Any],
    intent: PageIntent,
    page: FetchResult,
    text: PageText | None,
    raw_id: int | None,
    now: datetime,
    thresholds: Thresholds,
) -> int:
    """Write a page intent; the id of the article the page ended in."""
    article_id = stored.id
    if isinstance(intent, Dropped):
        log.warning("article %d: lease lost to %s, result dropped", article_id, intent.holder)
        return article_id
    if isinstance(intent, Merged):
        target = intent.target
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
    page_fields = _page_fields(page, raw_id, now) | {"updated_at": now}
    if isinstance(intent, Failed):
        failed = {"extraction": intent.extraction, "extraction_error": intent.error}
        update_row(conn, Article, article_id, page_fields | failed)
        _queue(conn, article_id, due_at=intent.retry_at, retry_count=intent.retry_count)
        if stored.has_feed_text:  # the feed's text stands in: it is the article's version
            set_text(
                conn,
                article_id,
                title=current.title,
                facts=text_facts(current.text),
                reason="feed",
                now=now,
                link=thresholds if current.duplicate_of is None else None,
            )
        return article_id
    assert text is not None  # Full: decided from a page with text
    extracted = text.extracted
    full = {
        "canonical_url": intent.canonical_url,
        "html": extracted.html,
        "extraction": "full",
        "extraction_error": None,
        "extractor_version": extracted.extractor,
    }
    update_row(conn, Article, article_id, page_fields | _metadata(extracted, current) | full)
    _queue(conn, article_id, due_at=intent.recheck_at)  # off the retry queue, on the re-checks
    set_text(
        conn,
        article_id,
        title=extracted.title or current.title,
        facts=text.facts,
        reason="page",
        now=now,
        link=thresholds,
    )
    return article_id


def _page_fields(page: FetchResult, raw_id: int | None, now: datetime) -> dict[str, object]:
    """What an article keeps of the response its page came in (validators for re-checks)."""
    return {
        "page_raw_id": raw_id,
        "page_headers": page.headers or None,
        "page_status": page.status,
        "etag": page.headers.get("etag"),
        "last_modified": page.headers.get("last-modified"),
        "fetched_at": now,
    }


def _leased_article(
    conn: sa.Connection, article_id: int, owner: str | None
) -> sa.RowMapping | None:
    """The article row with its queue state, locked for this write; None when it is gone, or
    when `owner` lost its lease to another worker (whose result then stands: a stalled worker
    never overwrites it)."""
    query = (
        sa.select(
            Article,
            PageQueue.lease_owner,
            sa.func.coalesce(PageQueue.check_count, 0).label("check_count"),
        )
        .outerjoin(PageQueue, PageQueue.article_id == Article.id)
        .where(Article.id == article_id)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=Article)
    article = conn.execute(query).mappings().first()
    if article is None or owner is None or article["lease_owner"] in (None, owner):
        return article
    log.warning("article %d: lease lost to %s, result dropped", article_id, article["lease_owner"])
    return None


def _metadata(extracted: Extracted, article: Any) -> dict[str, object]:
    """Page metadata (the title goes with the text: `set_text`), but the feed's own timestamp
    wins: trafilatura's date is day-only."""
    published: datetime | None = article.published or extracted.published
    return {
        "author": extracted.author or article.author,
        "published": published,
        "language": extracted.language,
        "sitename": extracted.sitename,
        "description": extracted.description,
        "image": extracted.image,
        "categories": sorted({*article.categories, *extracted.categories, *extracted.tags}),
    }


_VALIDATORS = sa.select(Article.url, Article.etag, Article.last_modified).where(
    Article.id == sa.bindparam("article_id")
)  # built once, like _ARTICLE_URL: every re-check reads it


def recheck_validators(engine: Engine, article_id: int) -> tuple[str | None, Validators]:
    """The URL of an article's page and the validators of its last response (conditional GET).

    The URL that was fetched, not the page's rel=canonical: the page named that itself, and its
    address may be one the policy refuses (every re-check would then "fail")."""
    with reading(engine) as conn:
        row = conn.execute(_VALIDATORS, {"article_id": article_id}).first()
    if row is None:
        return None, Validators()
    return row[0], Validators(row[1], row[2])


def save_recheck(
    engine: Engine,
    article_id: int,
    page: FetchResult,
    text: PageText | None,
    *,
    raw_id: int | None = None,
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
        values: dict[str, object] = {}
        due_at = schedule.next_recheck(article["created_at"], now, recheck_schedule)
        if page.status in (404, 410):
            outcome = "removed"
            values |= {"removed_at": article["removed_at"] or now, "page_status": page.status}
            due_at = None
        elif page.not_modified:
            outcome = "unchanged"
        elif text is None or page.body is None:
            outcome = "failed"
        else:
            extracted = text.extracted
            values |= _page_fields(page, raw_id, now) | {
                "removed_at": None,
                "extractor_version": extracted.extractor,
            }
            title = extracted.title or article["title"]
            revised = set_text(
                conn, article_id, title=title, facts=text.facts, reason="page", now=now, link=None
            )
            if revised:
                values |= {"html": extracted.html, "updated_at": now}
            outcome = "revised" if revised else "unchanged"
        if values:
            update_row(conn, Article, article_id, values)
        _queue(conn, article_id, due_at=due_at, check_count=article["check_count"] + 1)
    return outcome


def _queue(conn: sa.Connection, article_id: int, **values: object) -> None:
    """Write an article's page-queue state (its row in `page_queue`, made with the article)."""
    update_row(conn, PageQueue, article_id, values)


@dataclass(frozen=True, slots=True)
class StoredPage:
    """Where an article's page is archived: what re-extraction needs, no network involved.

    `raw` locates its WARC record (and, for a revisit, the record holding the payload);
    `legacy_body` is a page still kept in the database, before `ingest migrate-raw`.
    """

    article_id: int
    url: str
    content_type: str
    raw: tuple[Location, Location | None] | None = None
    legacy_body: bytes | None = None


def reextract_candidates(
    engine: Engine, article_ids: Sequence[int] | None, *, outdated_than: str | None
) -> list[int]:
    """Articles with an archived page (those named, or all); with `outdated_than`, only those
    extracted by another extractor version (or before versions were recorded). A page that
    answered an error (its response is archived too) has no article in it."""
    kept = sa.or_(RawResponse.status < 400, Article.page_blob.is_not(None))
    query = (
        sa.select(Article.id)
        .outerjoin(RawResponse, RawResponse.id == Article.page_raw_id)
        .where(kept)
        .order_by(Article.id)
    )
    if article_ids is not None:
        query = query.where(Article.id.in_(list(article_ids)))
    if outdated_than is not None:
        query = query.where(
            sa.or_(Article.extractor_version.is_(None), Article.extractor_version != outdated_than)
        )
    with reading(engine) as conn:
        return list(conn.execute(query).scalars())


def stored_page(engine: Engine, article_id: int) -> StoredPage | None:
    query = sa.select(
        Article.url,
        Article.canonical_url,
        Article.page_raw_id,
        Article.page_blob,
        Article.page_headers,
    )
    with reading(engine) as conn:
        row = conn.execute(query.where(Article.id == article_id)).first()
        if row is None:
            return None
        raw = locate(conn, row.page_raw_id) if row.page_raw_id is not None else None
        legacy = get_blob(conn, row.page_blob) if raw is None and row.page_blob else None
    if raw is None and legacy is None:
        return None
    content_type = (row.page_headers or {}).get("content-type", "")
    return StoredPage(article_id, row.canonical_url or row.url, content_type, raw, legacy)


def save_reextraction(engine: Engine, article_id: int, text: PageText | None) -> str:
    """Replace an article's extraction with a new one of its archived page: `revised` (a new
    version, the old one kept as a revision), `unchanged`, or `failed` (kept as it was)."""
    if text is None:
        return "failed"
    extracted = text.extracted
    now = utcnow()
    with engine.begin() as conn:
        article = conn.execute(sa.select(Article).where(Article.id == article_id)).first()
        if article is None:
            return "failed"
        title = extracted.title or article.title
        revised = set_text(
            conn,
            article_id,
            title=title,
            facts=text.facts,
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
        update_row(conn, Article, article_id, values)
    return "revised" if revised else "unchanged"
