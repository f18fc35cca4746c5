"""The fetch log: every HTTP attempt, queryable with `ingest log`, pruned by retention."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.records import FetchResult
from ingest.store.models import FetchLog, utcnow


def log_fetch(
    engine: Engine,
    kind: str,
    result: FetchResult,
    *,
    feed_id: int | None = None,
    article_id: int | None = None,
    owner: str | None = None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(FetchLog).values(
                at=utcnow(),
                kind=kind,
                url=result.url,
                feed_id=feed_id,
                article_id=article_id,
                status=result.status,
                bytes=result.bytes_read,
                duration_ms=result.duration_ms,
                error_class=result.error_class,
                error_message=result.error,
                owner=owner,
            )
        )


def recent_fetches(
    engine: Engine, *, feed_id: int | None = None, failed: bool = False, limit: int = 50
) -> list[FetchLog]:
    query = sa.select(FetchLog).order_by(FetchLog.id.desc()).limit(limit)
    if feed_id is not None:
        query = query.where(FetchLog.feed_id == feed_id)
    if failed:
        query = query.where(FetchLog.error_class.is_not(None))
    with engine.connect() as conn:
        return [FetchLog.model_validate(dict(row)) for row in conn.execute(query).mappings()]


def prune_fetch_log(engine: Engine, retention_days: int) -> int:
    with engine.begin() as conn:
        result = conn.execute(
            sa.delete(FetchLog).where(FetchLog.at < utcnow() - timedelta(days=retention_days))
        )
    return result.rowcount or 0
