"""The fetch log: every HTTP attempt, queryable with `ingest log`, pruned by retention."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.records import FetchResult
from ingest.store.engine import reading
from ingest.store.models import Entry, FetchLog, utcnow
from ingest.store.raw import Kept, Location, add_raw, locate

_LOG = sa.insert(FetchLog)  # built once: one per HTTP attempt


def log_fetch(
    conn: sa.Connection,
    kind: str,
    result: FetchResult,
    *,
    feed_id: int | None = None,
    article_id: int | None = None,
    owner: str | None = None,
    raw: Kept | None = None,
    hops: Sequence[Kept] = (),
) -> int | None:
    """Record an attempt, with where its response went in the WARC archive (`raw`, written
    just before) and the redirects it followed (`hops`, archived as well); returns that
    response's id, which the article's row points to as well."""
    for hop in hops:
        add_raw(conn, hop)
    raw_id = add_raw(conn, raw) if raw is not None else None
    row = {
        "raw_id": raw_id,
        "content_type": result.headers.get("content-type"),
        "at": utcnow(),
        "kind": kind,
        "url": result.url,
        "feed_id": feed_id,
        "article_id": article_id,
        "status": result.status,
        "bytes": result.bytes_read,
        "duration_ms": result.duration_ms,
        "queue_ms": result.queue_ms,
        "error_class": result.error_class,
        "error_message": result.error,
        "owner": owner,
    }
    conn.execute(_LOG, row)
    return raw_id


def recent_fetches(
    engine: Engine, *, feed_id: int | None = None, failed: bool = False, limit: int = 50
) -> list[FetchLog]:
    """Newest first; a feed's attempts include the pages of its entries' articles."""
    query = sa.select(FetchLog).order_by(FetchLog.id.desc()).limit(limit)
    if feed_id is not None:
        pages = sa.select(Entry.article_id).where(Entry.feed_id == feed_id)
        query = query.where(sa.or_(FetchLog.feed_id == feed_id, FetchLog.article_id.in_(pages)))
    if failed:
        query = query.where(FetchLog.error_class.is_not(None))
    # A read: DEFERRED, so `ingest log` never waits for (or blocks) a running fetch's writes.
    with reading(engine) as conn:
        return [FetchLog.model_validate(dict(row)) for row in conn.execute(query).mappings()]


def logged_response(
    engine: Engine, log_id: int
) -> tuple[FetchLog, tuple[Location, Location | None] | None] | None:
    """An attempt and where its response is archived (None: no response was kept)."""
    with reading(engine) as conn:
        row = conn.execute(sa.select(FetchLog).where(FetchLog.id == log_id)).mappings().first()
        if row is None:
            return None
        raw = locate(conn, row["raw_id"]) if row["raw_id"] is not None else None
    return FetchLog.model_validate(dict(row)), raw


def fetched_by_daemons(engine: Engine, since: datetime) -> dict[int, datetime]:
    """Feeds a daemon fetched since `since` → when last: a one-off fetch started beside a
    running daemon leaves them be (they were just polled; asking again is a duplicate)."""
    query = (
        sa.select(FetchLog.feed_id, sa.func.max(FetchLog.at))
        .where(
            FetchLog.kind == "feed",
            FetchLog.at >= since,
            FetchLog.owner.like("daemon:%"),
            FetchLog.feed_id.is_not(None),
        )
        .group_by(FetchLog.feed_id)
    )
    with reading(engine) as conn:
        return {feed_id: at for feed_id, at in conn.execute(query)}


def prune_fetch_log(engine: Engine, retention_days: int) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            sa.delete(FetchLog).where(FetchLog.at < utcnow() - timedelta(days=retention_days))
        )
    return result.rowcount or 0
