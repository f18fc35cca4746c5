"""The archive schema: SQLModel tables, one per entity, the same on SQLite and PostgreSQL.

Timestamps are timezone-aware UTC in Python and naive UTC in the database (`UTCDateTime`), so
the two dialects round-trip identically. Schema changes go through Alembic (store/migrations).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database (both dialects alike)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the archive; use aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def bind_processor(self, dialect: Any) -> Any:
        """`process_bind_param` then the dialect's own processing (as TypeDecorator does),
        remembering the last value: a bulk insert passes the same `now` in every row
        (first_seen, last_seen, created_at, updated_at), and converting it again for each was
        a tenth of recording a big feed."""
        inner = self.impl_instance.bind_processor(dialect)
        last: tuple[datetime | None, Any] = (None, None)

        def process(value: datetime | None) -> Any:
            nonlocal last
            seen, bound = last
            if value is seen:  # datetimes are immutable: the same object binds the same
                return bound
            bound = self.process_bind_param(value, dialect)
            if inner is not None:
                bound = inner(bound)
            last = (value, bound)
            return bound

        return process

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


MAX_ID = 2**63 - 1  # ids are 64-bit: a larger number from the user can name nothing


def valid_id(value: int) -> bool:
    """Whether `value` can be a row id (else the driver would overflow, not just miss)."""
    return 0 < value <= MAX_ID


def _ts(*, index: bool = False, nullable: bool = True) -> Any:
    return Field(default=None, sa_type=UTCDateTime, index=index, nullable=nullable)


class Feed(SQLModel, table=True):
    """A subscription. It is also its own schedule row: `next_fetch_at` plus a lease."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True)
    title: str | None = None
    site_url: str | None = None
    source: str = "cli"  # "cli" or the config file that declared it
    # OPML folders the feed was filed in, each a path of names from the outermost: an import
    # keeps them, an export nests the feed in them again
    folders: list[list[str]] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    enabled: bool = True
    gone_at: datetime | None = _ts()  # 410 Gone: not polled until re-enabled
    # HTTP cache validators of the last 200 response
    etag: str | None = None
    last_modified: str | None = None
    # Schedule
    next_fetch_at: datetime | None = _ts(index=True)
    interval_override: int | None = None  # seconds, set by the user
    ttl_seconds: int | None = None  # what the feed declares (<ttl>, sy:updatePeriod)
    cache_until: datetime | None = _ts()  # Cache-Control max-age / Expires
    lease_owner: str | None = None
    lease_until: datetime | None = _ts()
    # Health
    last_fetched_at: datetime | None = _ts()
    last_success_at: datetime | None = _ts()
    last_status: int | None = None
    error_class: str | None = None
    error_message: str | None = None
    error_count: int = 0
    failing_since: datetime | None = _ts()
    problem: str | None = None  # what was wrong with the last document (malformed XML, …)
    guid_changes: int = 0  # entries seen again under a new guid (same link and content)
    # Permanent redirects are applied after `redirect_confirmations` consecutive sightings
    redirect_url: str | None = None
    redirect_count: int = 0


class FeedAlias(SQLModel, table=True):
    """An earlier URL of a feed, kept after a confirmed permanent redirect so nothing duplicates."""

    __tablename__ = "feed_alias"
    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed.id", index=True, ondelete="CASCADE")
    url: str = Field(unique=True)


class Article(SQLModel, table=True):
    """One document, deduplicated across feeds, with its extracted text and metadata."""

    id: int | None = Field(default=None, primary_key=True)
    url: str | None = None  # the link as first seen; None for an item with no link
    canonical_url: str | None = Field(default=None, unique=True)
    title: str | None = None
    author: str | None = None
    published: datetime | None = _ts(index=True)
    language: str | None = None
    sitename: str | None = None
    description: str | None = None
    image: str | None = None
    categories: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    text: str = ""
    html: str | None = None  # sanitized, for display
    word_count: int = 0
    content_hash: str | None = Field(default=None, index=True)  # sha256 of normalized text
    duplicate_of: int | None = Field(default=None, foreign_key="article.id", index=True)
    similarity: float | None = None
    extraction: str = "pending"  # pending | full | feed | failed
    extraction_error: str | None = None
    extractor_version: str | None = None
    page_blob: str | None = Field(default=None, foreign_key="blob.hash")  # before WARC storage
    # the page's response as archived in a WARC file
    page_raw_id: int | None = Field(default=None, foreign_key="raw_response.id", index=True)
    page_headers: dict[str, str] | None = Field(default=None, sa_type=sa.JSON)
    page_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = _ts()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revision_count: int = 1
    removed_at: datetime | None = _ts()  # page gone (404/410): kept, marked


class PageQueue(SQLModel, table=True):
    """The page work of one article (created with it): when its page is due again (full-text
    retry or re-check), how often it was tried, who holds it now. A narrow table of its own so
    claims and lease renewals never rewrite the wide article rows (text, html)."""

    __tablename__ = "page_queue"
    article_id: int = Field(foreign_key="article.id", primary_key=True, ondelete="CASCADE")
    due_at: datetime | None = _ts(index=True)
    lease_owner: str | None = Field(default=None, index=True)  # a worker fetching the page now
    lease_until: datetime | None = _ts()
    check_count: int = 0
    retry_count: int = 0


class ArticleFacet(SQLModel, table=True):
    """What the filters test (feed aside), one narrow row per article, kept by triggers on
    `article` (migration 0009): a search tests each candidate here instead of reading the
    wide article row with its text and HTML."""

    __tablename__ = "article_facet"
    id: int = Field(foreign_key="article.id", primary_key=True, ondelete="CASCADE")
    published: datetime | None = _ts()
    language: str | None = None  # lower-cased
    host: str | None = None  # of canonical_url, else url; lower-cased, `www.` kept
    site: str | None = None  # sitename, lower-cased
    duplicate_of: int | None = None


class ArticleBand(SQLModel, table=True):
    """The near-duplicate index: one MinHash LSH key per band of an article's text (dedupe.py).
    Articles sharing a key are candidates, found by index lookups, never a scan."""

    __tablename__ = "article_band"
    article_id: int = Field(foreign_key="article.id", primary_key=True, ondelete="CASCADE")
    band: int = Field(primary_key=True)
    key: int = Field(sa_type=sa.BigInteger, index=True)  # signed 64-bit


class Entry(SQLModel, table=True):
    """One item of one feed, as the feed describes it; it points at its article.

    Indexes (migration 0009): a feed's entries newest first (its page and Atom feed read 50
    without a sort), and an article's feeds (the `--feed` filter tests a candidate with one
    index lookup)."""

    __table_args__ = (
        sa.UniqueConstraint("feed_id", "key"),
        sa.Index("ix_entry_feed_recent", "feed_id", "first_seen", "id"),
        sa.Index("ix_entry_article_feed", "article_id", "feed_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed.id", ondelete="CASCADE")
    key: str  # guid, else link, else hash of title+content
    guid: str | None = None
    link: str | None = None
    title: str | None = None
    author: str | None = None
    summary: str | None = None
    content: str | None = None
    categories: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    enclosures: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # podcast audio, media
    published: datetime | None = _ts()
    updated: datetime | None = _ts()
    content_hash: str | None = None  # of title+summary+content: a change is a revision
    first_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    removed_at: datetime | None = _ts()
    # Earlier versions of the item, oldest first: {"title", "body" (blob of summary+content as
    # JSON), "replaced_at"}. A feed's edit never overwrites what it said before.
    history: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    article_id: int | None = Field(default=None, foreign_key="article.id")


class Revision(SQLModel, table=True):
    """A version of an article: never overwritten; text stored once per distinct hash."""

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    title: str | None = None
    text_blob: str = Field(foreign_key="blob.hash")
    content_hash: str
    reason: str = "initial"  # initial | page | feed | reextract


class Blob(SQLModel, table=True):
    """Raw bytes (pages, feeds, revision texts), content-addressed and zlib-compressed."""

    hash: str = Field(primary_key=True)  # sha256 hex of the raw bytes
    size: int
    data: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Host(SQLModel, table=True):
    """Politeness state per host, shared by every process on the archive."""

    host: str = Field(primary_key=True)  # hostname:port
    next_request_at: datetime | None = _ts()
    blocked_until: datetime | None = _ts()  # Retry-After


class FetchLog(SQLModel, table=True):
    """Every HTTP attempt, for `ingest log`; pruned by `fetch_log_retention_days`."""

    __tablename__ = "fetch_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    kind: str  # feed | page | robots
    url: str
    feed_id: int | None = Field(default=None, index=True)
    article_id: int | None = None
    status: int | None = None
    bytes: int = 0
    duration_ms: int = 0  # the request itself
    queue_ms: int = 0  # waiting for the host's turn before it (politeness, Retry-After)
    error_class: str | None = None
    error_message: str | None = None
    owner: str | None = None
    blob: str | None = Field(default=None, foreign_key="blob.hash")  # before WARC storage
    content_type: str | None = None  # what re-parsing needs besides the bytes
    # the response as archived in a WARC file
    raw_id: int | None = Field(default=None, foreign_key="raw_response.id", index=True)


class RawResponse(SQLModel, table=True):
    """Where one archived HTTP response lies: a record in a WARC file under the WARC folder.

    The bytes are in the file, not the database. A `revisit` record stands for a 304 or for a
    payload already archived (`refers_to` is then the response holding the bytes).
    """

    __tablename__ = "raw_response"
    id: int | None = Field(default=None, primary_key=True)
    warc_file: str = Field(index=True)  # name relative to the WARC folder
    offset: int = Field(sa_type=sa.BigInteger)  # of the gzip member holding the record
    length: int = Field(sa_type=sa.BigInteger)  # bytes of that member
    payload_digest: str | None = Field(default=None, index=True)  # WARC-Payload-Digest
    record_type: str = "response"  # response | revisit
    refers_to: int | None = Field(default=None, foreign_key="raw_response.id", index=True)
    uri: str
    status: int | None = None
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    record_id: str | None = None  # its WARC-Record-ID (NULL: written before schema 0011)
    truncated: str | None = None  # its WARC-Truncated reason: the payload is not whole


class Node(SQLModel, table=True):
    """A running daemon or fetch, for `ingest status` (heartbeat, last tick, work in flight)."""

    owner: str = Field(primary_key=True)  # hostname:pid:random
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_tick_at: datetime | None = _ts()
    in_flight: int = 0
    kind: str = "daemon"  # daemon | fetch
