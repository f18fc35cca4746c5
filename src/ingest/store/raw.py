"""Where raw responses are: one row per WARC record (file, offset, length, digest), no bytes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased

from ingest.store.engine import reading
from ingest.store.filters import ArticleFilter, apply_filter
from ingest.store.models import Article, FetchLog, RawResponse
from ingest.warc.writer import Written


@dataclass(frozen=True, slots=True)
class Kept:
    """A record just written, and the response holding its payload when it is a revisit."""

    written: Written
    refers_to: int | None = None


@dataclass(frozen=True, slots=True)
class Earlier:
    """An archived response (with a payload) that a new revisit record refers to."""

    id: int
    uri: str
    fetched_at: datetime
    warc_file: str
    offset: int
    record_id: str | None  # None: archived before schema 0011, its record says
    truncated: str | None


_TARGET = aliased(RawResponse)
_EARLIER = (
    _TARGET.id,
    _TARGET.uri,
    _TARGET.fetched_at,
    _TARGET.warc_file,
    _TARGET.offset,
    _TARGET.record_id,
    _TARGET.truncated,
)
# Built once: a re-poll runs these for every 304, and building a statement costs more than
# running it on SQLite.
_ORIGINAL = (
    sa.select(*_EARLIER)
    .where(_TARGET.payload_digest == sa.bindparam("digest"), _TARGET.record_type == "response")
    .order_by(_TARGET.id)
    .limit(1)
)
_LAST_FEED_RESPONSE = (
    sa.select(FetchLog.raw_id)
    .where(FetchLog.feed_id == sa.bindparam("feed_id"), FetchLog.kind == "feed")
    .where(FetchLog.raw_id.is_not(None), FetchLog.status < 400)
    .where(FetchLog.error_class.is_(None))
    .order_by(FetchLog.id.desc())
    .limit(1)
    .scalar_subquery()
)
_LAST_PAGE_RESPONSE = (
    sa.select(Article.page_raw_id).where(Article.id == sa.bindparam("article_id")).scalar_subquery()
)


def _revisited(last: sa.ScalarSelect[int | None]) -> sa.Select[tuple[object, ...]]:
    """The payload-holding response behind response `last`: itself, or what it refers to. A
    304 whose own original is not known (a revisit of nothing) has none."""
    last_row = aliased(RawResponse)
    return (
        sa.select(*_EARLIER)
        .select_from(last_row)
        .join(_TARGET, _TARGET.id == sa.func.coalesce(last_row.refers_to, last_row.id))
        .where(last_row.id == last, last_row.status < 400)
        .where(sa.or_(last_row.refers_to.is_not(None), last_row.record_type == "response"))
    )


_FEED_REVISITED = _revisited(_LAST_FEED_RESPONSE)
_PAGE_REVISITED = _revisited(_LAST_PAGE_RESPONSE)


def find_original(conn: sa.Connection, digest: str) -> Earlier | None:
    """The first archived response with this payload digest (digest dedupe)."""
    row = conn.execute(_ORIGINAL, {"digest": digest}).first()
    return None if row is None else Earlier(*row)


def find_revisited(
    conn: sa.Connection, *, feed_id: int | None = None, article_id: int | None = None
) -> Earlier | None:
    """The response a 304 for this feed or article page confirms: the payload behind the last
    response archived for it (whose validators were sent); a 304 before it refers to it too.
    A feed's failed fetches (a body refused or cut short is archived too) gave no validators."""
    if feed_id is not None:
        query, params = _FEED_REVISITED, {"feed_id": feed_id}
    elif article_id is not None:
        query, params = _PAGE_REVISITED, {"article_id": article_id}
    else:
        return None
    row = conn.execute(query, params).first()
    return None if row is None else Earlier(*row)


_ADD_RAW = sa.insert(RawResponse).returning(RawResponse.id)


def add_raw(conn: sa.Connection, kept: Kept) -> int:
    w = kept.written
    row = {
        "warc_file": w.warc_file,
        "offset": w.offset,
        "length": w.length,
        "payload_digest": w.payload_digest,
        "record_type": w.record_type,
        "refers_to": kept.refers_to,
        "uri": w.uri,
        "status": w.status,
        "fetched_at": w.at,
        "record_id": w.record_id,
        "truncated": w.truncated,
    }
    return conn.execute(_ADD_RAW, row).scalar_one()


@dataclass(frozen=True, slots=True)
class Location:
    warc_file: str
    offset: int
    length: int
    payload_digest: str | None
    record_type: str
    fetched_at: datetime
    record_id: str | None  # None: archived before schema 0011, its record says
    truncated: str | None


def locate(conn: sa.Connection, raw_id: int) -> tuple[Location, Location | None] | None:
    """The record of `raw_id`, and the response holding its payload when it is a revisit."""
    row = conn.execute(sa.select(RawResponse).where(RawResponse.id == raw_id)).mappings().first()
    if row is None:
        return None
    payload = locate(conn, row["refers_to"]) if row["refers_to"] is not None else None
    return _location(row), payload[0] if payload else None


def _location(row: sa.RowMapping) -> Location:
    return Location(
        row["warc_file"],
        row["offset"],
        row["length"],
        row["payload_digest"],
        row["record_type"],
        row["fetched_at"],
        row["record_id"],
        row["truncated"],
    )


def iter_page_locations(
    engine: Engine, keep: ArticleFilter
) -> Iterator[tuple[int, Location, Location | None]]:
    """(article id, its page's record, the record holding the payload of a revisit) for every
    article `keep` keeps that has a page in WARC, in id order, in batches."""
    last = 0
    while True:
        query = sa.select(Article.id, Article.page_raw_id).where(
            Article.id > last, Article.page_raw_id.is_not(None)
        )
        with reading(engine) as conn:
            batch = conn.execute(apply_filter(query, keep).order_by(Article.id).limit(500)).all()
            found = [(row.id, locate(conn, row.page_raw_id)) for row in batch]
        if not batch:
            return
        for article_id, location in found:
            if location is not None:
                yield article_id, *location
        last = batch[-1].id
