"""Subscriptions: add/list/remove, and claiming feeds for an update under a lease.

The one-off `ingest fetch` and the daemon claim through `claim_feeds`, so they never fetch one
feed at the same time. Completion is fenced by the lease owner: a worker whose lease expired
and was taken over cannot overwrite the newer state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.errors import UsageError
from ingest.identity import feed_url
from ingest.records import FeedState
from ingest.store.engine import reading
from ingest.store.leases import free, take_leases
from ingest.store.models import Entry, Feed, FeedAlias, PageQueue, utcnow, valid_id
from ingest.store.rowupdate import update_row
from ingest.store.upsert import insert_ignore

ID_CHUNK = 5000  # ids per statement when claiming a list of feeds
_STATE_COLUMNS = [getattr(Feed, f.name) for f in fields(FeedState)]


def add_feed(
    engine: Engine,
    url: str,
    *,
    title: str | None = None,
    source: str = "cli",
    due_at: datetime | None = None,
    holder: str | None = None,
    lease_until: datetime | None = None,
) -> tuple[int, bool]:
    """Subscribe to `url` (stored in its canonical form, `feed_url`); returns (feed id,
    created). A known URL or alias is not an error.

    `feeds add` makes a new feed's first poll itself, with the body it fetched to check it; a
    daemon polling the feed in between would fetch it twice. So the new feed is created leased
    to `holder` until `lease_until` (no claim needed: nobody else can hold a row just
    inserted), and `due_at` keeps it off the daemons' claims if that poll is cut short."""
    with engine.begin() as conn:
        existing = _find_id(conn, url)
        if existing is not None:
            return existing, False
        url = feed_url(url)
        new_id = conn.execute(
            insert_ignore(conn, Feed, ["url"], ["id"]),
            {
                "url": url,
                "title": title,
                "source": source,
                "created_at": utcnow(),
                "enabled": True,
                "next_fetch_at": due_at,
                "lease_owner": holder,
                "lease_until": lease_until,
            },
        ).scalar()
        if new_id is None:  # another process added it meanwhile
            return _find_id(conn, url) or 0, False
        return new_id, True


def find_feed(engine: Engine, url: str) -> int | None:
    """The feed subscribed at `url` (or formerly there), if any."""
    with reading(engine) as conn:
        return _find_id(conn, url)


_BY_URL = sa.select(Feed.id).where(Feed.url == sa.bindparam("url"))  # built once, like _COMPLETE
_BY_ALIAS = sa.select(FeedAlias.feed_id).where(FeedAlias.url == sa.bindparam("url"))


def _find_id(conn: sa.Connection, url: str) -> int | None:
    """The feed at `url` as typed (feeds stored before URLs were canonical), else as stored."""
    try:
        forms = dict.fromkeys([url, feed_url(url)])
    except UsageError:  # not an http(s) URL: only an exact match can find it
        forms = {url: None}
    for form in forms:
        found = conn.execute(_BY_URL, {"url": form}).scalar()
        if found is None:
            found = conn.execute(_BY_ALIAS, {"url": form}).scalar()
        if found is not None:
            return found
    return None


def resolve_feed(engine: Engine, ref: str) -> int:
    """A feed ID or URL (or former URL) given by the user → feed id; UsageError when unknown."""
    with reading(engine) as conn:
        found = (
            conn.execute(sa.select(Feed.id).where(Feed.id == int(ref))).scalar()
            if ref.isdigit() and valid_id(int(ref))
            else _find_id(conn, ref)
        )
    if found is None:
        raise UsageError(f"no such feed: {ref}")
    return found


def list_feeds(engine: Engine) -> list[Feed]:
    with reading(engine) as conn:
        rows = conn.execute(sa.select(Feed).order_by(Feed.id)).mappings().all()
    return [Feed.model_validate(dict(row)) for row in rows]


def known_urls(engine: Engine) -> set[str]:
    """Every URL the archive knows a feed by (current and former), in canonical form."""
    with reading(engine) as conn:
        urls = [*conn.scalars(sa.select(Feed.url)), *conn.scalars(sa.select(FeedAlias.url))]
    forms = set(urls)
    for url in urls:
        with contextlib.suppress(UsageError):  # stored before URLs were checked
            forms.add(feed_url(url))
    return forms


def remove_feed(engine: Engine, feed_id: int) -> None:
    """Unsubscribe. Its entries go; the articles they pointed to stay in the archive."""
    with engine.begin() as conn:
        conn.execute(sa.delete(FeedAlias).where(FeedAlias.feed_id == feed_id))
        conn.execute(sa.delete(Entry).where(Entry.feed_id == feed_id))
        conn.execute(sa.delete(Feed).where(Feed.id == feed_id))


def update_feed(engine: Engine, feed_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        update_row(conn, Feed, feed_id, values)


def sync_declared(
    engine: Engine, source: str, declared: Sequence[tuple[str, str | None]]
) -> tuple[int, int]:
    """Make the archive follow a feeds file: add what it lists, disable what it no longer lists.

    Feeds are never deleted this way (their archive stays); returns (added, disabled).
    """
    added = 0
    listed: set[int] = set()  # by id: a declared URL may now be an alias (a confirmed 301)
    for url, title in declared:
        feed_id, created = add_feed(engine, url, title=title, source=source)
        listed.add(feed_id)
        added += created
    with engine.begin() as conn:
        result = conn.execute(
            sa.update(Feed)
            .where(Feed.source == source, Feed.enabled, Feed.id.not_in(listed))
            .values(enabled=False)
        )
    return added, result.rowcount or 0


def claim_feeds(
    engine: Engine,
    owner: str,
    *,
    lease: timedelta,
    limit: int,
    feed_ids: Sequence[int] | None = None,
    due_only: bool = True,
    now: datetime | None = None,
) -> list[FeedState]:
    """Lease up to `limit` feeds that nobody else holds; due ones only unless `due_only=False`.

    PostgreSQL: `FOR UPDATE SKIP LOCKED` lets many nodes claim concurrently without waiting.
    SQLite: the transaction is `BEGIN IMMEDIATE`, so claims are serialized by the write lock.
    """
    now = now or utcnow()
    if feed_ids is not None and len(feed_ids) > ID_CHUNK:  # stay under SQLite's bind limit
        claimed: list[FeedState] = []
        for start in range(0, len(feed_ids), ID_CHUNK):
            claimed += claim_feeds(
                engine,
                owner,
                lease=lease,
                limit=limit - len(claimed),
                feed_ids=feed_ids[start : start + ID_CHUNK],
                due_only=due_only,
                now=now,
            )
            if len(claimed) >= limit:
                break
        return claimed
    with engine.begin() as conn:
        unheld = free(conn, Feed, now)
        query = sa.select(Feed.id).where(Feed.enabled, Feed.gone_at.is_(None), unheld)
        if due_only:
            query = query.where(sa.or_(Feed.next_fetch_at.is_(None), Feed.next_fetch_at <= now))
        if feed_ids is not None:
            query = query.where(Feed.id.in_(list(feed_ids)))
        query = query.order_by(Feed.next_fetch_at.asc().nulls_first(), Feed.id).limit(limit)
        rows = take_leases(conn, Feed, query, owner, now + lease, _STATE_COLUMNS)
    return sorted((FeedState(*row) for row in rows), key=lambda s: s.id)


# Built once, its SET clause taken from the parameters: every update of every feed ends here.
_COMPLETE = sa.update(Feed).where(
    Feed.id == sa.bindparam("held_feed"), Feed.lease_owner == sa.bindparam("held_by")
)


def complete_feed(conn: sa.Connection, owner: str, feed_id: int, values: dict[str, Any]) -> bool:
    """Write the outcome of an update and release the lease; False (nothing written) if the
    lease was lost. A `url` in `values` moves the feed (see `_move`)."""
    values = dict(values)
    new_url = values.pop("url", None)
    row = values | {"lease_owner": None, "lease_until": None}
    result = conn.execute(_COMPLETE, row | {"held_feed": feed_id, "held_by": owner})
    if not result.rowcount:
        return False
    if new_url is not None:
        _move(conn, feed_id, new_url)
    return True


def _move(conn: sa.Connection, feed_id: int, new_url: str) -> None:
    """A confirmed permanent redirect: the feed takes `new_url` and its old URL stays as an
    alias (unless `new_url` is already another subscription: then the feed keeps its URL)."""
    old = conn.execute(sa.select(Feed.url).where(Feed.id == feed_id)).scalar_one()
    if _find_id(conn, new_url) not in (None, feed_id):
        return
    conn.execute(sa.delete(FeedAlias).where(FeedAlias.url == new_url))
    conn.execute(insert_ignore(conn, FeedAlias, ["url"]).values(feed_id=feed_id, url=old))
    update_row(conn, Feed, feed_id, {"url": new_url})


def renew_leases(engine: Engine, owner: str, until: datetime) -> int:
    """Extend every lease `owner` holds, feeds and article pages alike, so long work (many pages
    queued behind one host's politeness delay) never loses its leases mid-way.

    A daemon renews on every tick; a node that dies stops renewing and its leases expire.
    """
    with engine.begin() as conn:
        renewed = 0
        for table in (Feed, PageQueue):
            result = conn.execute(
                sa.update(table).where(table.lease_owner == owner).values(lease_until=until)
            )
            renewed += result.rowcount or 0
    return renewed


def release_leases(engine: Engine, owner: str) -> int:
    """Give back every lease of `owner` (on shutdown) so others need not wait for expiry."""
    with engine.begin() as conn:
        result = conn.execute(
            sa.update(Feed)
            .where(Feed.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )
    return result.rowcount or 0
