"""Who is working on the archive, and what the schedule looks like: `ingest status` and metrics.

Each daemon keeps a Node row (heartbeat, last tick, work in flight) so any process, on any
machine, can see what every node is doing without talking to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.store.engine import reading
from ingest.store.models import Feed, Node, PageQueue, utcnow
from ingest.store.upsert import insert_ignore
from ingest.timestamps import iso_or_none, iso_utc


def register(engine: Engine, owner: str, kind: str) -> None:
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert_ignore(conn, Node, ["owner"]).values(
                owner=owner, kind=kind, started_at=now, heartbeat_at=now
            )
        )


def beat(engine: Engine, owner: str, *, in_flight: int, ticked: bool) -> None:
    """Record that `owner` is alive (and, after a tick, when it last looked for work)."""
    now = utcnow()
    values: dict[str, object] = {"heartbeat_at": now, "in_flight": in_flight}
    if ticked:
        values["last_tick_at"] = now
    with engine.begin() as conn:
        conn.execute(sa.update(Node).where(Node.owner == owner).values(**values))


def unregister(engine: Engine, owner: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(Node).where(Node.owner == owner))


def list_nodes(engine: Engine) -> list[Node]:
    with reading(engine) as conn:
        rows = conn.execute(sa.select(Node).order_by(Node.started_at)).mappings().all()
    return [Node.model_validate(dict(row)) for row in rows]


@dataclass(frozen=True, slots=True)
class Overview:
    """Counts over the schedule: what is due, held, failing, gone."""

    feeds: int
    enabled: int
    due: int  # enabled, not gone, not leased, next_fetch_at passed (or never fetched)
    leased: int  # in flight on some worker
    failing: int
    gone: int
    articles_due: int  # article pages due for a retry or re-check
    oldest_due: datetime | None  # how far behind the schedule is


def overview(engine: Engine, now: datetime | None = None) -> Overview:
    now = now or utcnow()
    live = sa.and_(Feed.enabled, Feed.gone_at.is_(None))
    free = sa.or_(Feed.lease_until.is_(None), Feed.lease_until < now)
    due = sa.and_(live, free, sa.or_(Feed.next_fetch_at.is_(None), Feed.next_fetch_at <= now))

    def count(condition: sa.ColumnElement[bool]) -> sa.Label[int]:
        return sa.func.count(sa.case((condition, 1)))

    query = sa.select(
        sa.func.count(),
        count(Feed.enabled),
        count(due),
        count(sa.not_(free)),
        count(sa.and_(live, Feed.failing_since.is_not(None))),
        count(Feed.gone_at.is_not(None)),
        sa.func.min(sa.case((due, Feed.next_fetch_at))),
    ).select_from(Feed)
    articles_due = (
        sa.select(sa.func.count())
        .select_from(PageQueue)
        .where(
            PageQueue.due_at <= now,
            sa.or_(PageQueue.lease_until.is_(None), PageQueue.lease_until < now),
        )
    )
    with reading(engine) as conn:
        feeds, enabled, n_due, leased, failing, gone, oldest = conn.execute(query).one()
        n_articles = conn.execute(articles_due).scalar_one()
    if oldest is not None and oldest.tzinfo is None:  # min() drops the column's type
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return Overview(feeds, enabled, n_due, leased, failing, gone, n_articles, oldest)


def _node_state(node: Node, now: datetime, stale_after: float) -> str:
    age = (now - node.heartbeat_at).total_seconds()
    return f"stale ({age:.0f}s since heartbeat)" if age > stale_after else "running"


def status_report(engine: Engine, *, stale_after: float) -> dict[str, Any]:
    """What `ingest status` and the status page show: schedule counts and every node; a node
    whose heartbeat is older than `stale_after` seconds is reported stale."""
    now = utcnow()
    view = overview(engine, now)
    node_records = [
        {
            "owner": n.owner,
            "kind": n.kind,
            "state": _node_state(n, now, stale_after),
            "started_at": iso_utc(n.started_at),
            "heartbeat_at": iso_utc(n.heartbeat_at),
            "last_tick_at": iso_or_none(n.last_tick_at),
            "in_flight": n.in_flight,
        }
        for n in list_nodes(engine)
    ]
    counts = {
        "feeds": view.feeds,
        "enabled": view.enabled,
        "due": view.due,
        "in_flight": view.leased,
        "failing": view.failing,
        "gone": view.gone,
        "articles_due": view.articles_due,
        "oldest_due": iso_or_none(view.oldest_due),
    }
    return {"feeds": counts, "nodes": node_records}
