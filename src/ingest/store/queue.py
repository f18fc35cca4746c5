"""The article queue: pages due for a retry or a re-check, leased so that no two workers
(processes or nodes) fetch one page at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.store.leases import free, take_leases
from ingest.store.models import Article, Entry, Feed, PageQueue, utcnow


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
    """Lease up to `limit` articles whose page is due (`page_queue.due_at`) and that nobody
    else holds.

    The one queue for every later visit of an article page (full-text retries and re-checks for
    edits), leased like feeds so two workers never fetch one page at the same time. With
    `due_only=False` (`ingest fetch --recheck`): every full-text article, of `feed_ids` if given.
    """
    now = now or utcnow()
    with engine.begin() as conn:
        due = sa.select(PageQueue.article_id).where(free(conn, PageQueue, now))
        rows = _claim(conn, due, owner, now + lease, now, feed_ids, due_only=due_only, limit=limit)
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


def _claim(
    conn: sa.Connection,
    due: sa.Select[Any],
    owner: str,
    until: datetime,
    now: datetime,
    feed_ids: Sequence[int] | None,
    *,
    due_only: bool,
    limit: int,
) -> list[sa.Row[Any]]:
    if due_only:
        due = due.where(PageQueue.due_at <= now)
    else:
        full = sa.select(Article.id).where(Article.extraction == "full")
        due = due.where(PageQueue.article_id.in_(full))
    if feed_ids is not None:
        due = due.where(
            PageQueue.article_id.in_(
                sa.select(Entry.article_id).where(Entry.feed_id.in_(list(feed_ids)))
            )
        )
    due = due.order_by(PageQueue.due_at, PageQueue.article_id).limit(limit)
    leased = take_leases(conn, PageQueue, due, owner, until, [PageQueue.article_id])
    ids = [row.article_id for row in leased]
    return list(conn.execute(sa.select(Article.id, Article.extraction).where(Article.id.in_(ids))))


def lease_articles(
    engine: Engine, owner: str, ids: Sequence[int], *, lease: timedelta, now: datetime | None = None
) -> list[int]:
    """Take the leases of `ids` before fetching their pages; those another live worker holds are
    left out (returned: the ids now ours), so two workers never fetch one page at once.

    Each leased article is made due (`due_at`) if it was not scheduled: should this worker
    die mid-fetch, `claim_due_articles` hands the page to another one once the lease expires.
    """
    now = now or utcnow()
    if not ids:
        return []
    with engine.begin() as conn:
        mine = PageQueue.article_id.in_(list(ids))
        unheld = sa.or_(free(conn, PageQueue, now, mine), PageQueue.lease_owner == owner)
        # still pending: another feed's (or node's) worker may have finished it meanwhile
        pending = sa.select(Article.id).where(
            Article.id.in_(list(ids)), Article.extraction == "pending"
        )
        rows = conn.execute(
            sa.update(PageQueue)
            .where(PageQueue.article_id.in_(pending), unheld)
            .values(
                lease_owner=owner,
                lease_until=now + lease,
                due_at=sa.func.coalesce(PageQueue.due_at, now),
            )
            .returning(PageQueue.article_id)
        ).scalars()
        return sorted(rows)


def defer_article(engine: Engine, article_id: int, until: datetime, owner: str) -> None:
    """A page not requested because its host asked us to wait (Retry-After): due again when
    the wait ends, as it was otherwise (still pending, or as retried: no attempt is counted)."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(PageQueue)
            .where(
                PageQueue.article_id == article_id,
                sa.or_(PageQueue.lease_owner.is_(None), PageQueue.lease_owner == owner),
            )
            .values(due_at=until)
        )


def release_articles(engine: Engine, owner: str, ids: Sequence[int] | None = None) -> int:
    """Give back `owner`'s article leases (the named ones, or all of them on shutdown)."""
    query = sa.update(PageQueue).where(PageQueue.lease_owner == owner)
    if ids is not None:
        query = query.where(PageQueue.article_id.in_(list(ids)))
    with engine.begin() as conn:
        result = conn.execute(query.values(lease_owner=None, lease_until=None))
    return result.rowcount or 0


RETRYABLE_PAGE_ERRORS = ("blocked:%", "http_4xx:%")  # the private-network guard; a 4xx answer


def requeue_failed_pages(engine: Engine, feed_ids: Sequence[int] | None = None) -> int:
    """Put back on the queue the pages whose full text never came because the address was
    blocked (before `allow_networks` named it) or the server answered 4xx; the next update of
    their feed fetches them again. Returns how many."""
    failed = sa.or_(*(Article.extraction_error.like(p) for p in RETRYABLE_PAGE_ERRORS))
    chosen = sa.select(Article.id).where(
        Article.extraction.in_(("feed", "failed")), Article.url.is_not(None), failed
    )
    if feed_ids is not None:
        chosen = chosen.where(
            Article.id.in_(sa.select(Entry.article_id).where(Entry.feed_id.in_(list(feed_ids))))
        )
    with engine.begin() as conn:
        conn.execute(
            sa.update(PageQueue).where(PageQueue.article_id.in_(chosen)).values(due_at=None)
        )
        query = sa.update(Article).where(Article.id.in_(chosen)).values(extraction="pending")
        return conn.execute(query).rowcount or 0
