"""Per-host politeness: a gate in memory per process, Retry-After blocks shared through the archive.

`DbHostGate` spaces and bounds this process's requests to each host in memory (no database
round trip per request: the writer stays free for writes). What other processes and nodes must
respect is persisted in the `host` table: until when a host asked us to stay away (Retry-After,
429/503). Each process reads those blocks once per batch or daemon tick (`refresh`), and records
the blocks it receives at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from yarl import URL

from ingest.config import Settings
from ingest.fetch.hosts import HostGate, host_key, retry_after
from ingest.records import FetchResult
from ingest.store.engine import reading
from ingest.store.models import Feed, Host, utcnow
from ingest.store.rowupdate import update_row
from ingest.store.upsert import insert_ignore

Runner = Callable[..., Awaitable[Any]]  # how blocking database calls are run off the event loop


def block_host(engine: Engine, host: str, until: datetime) -> None:
    """Record a Retry-After: no request to `host` before `until`; a later block wins."""
    with engine.begin() as conn:
        conn.execute(insert_ignore(conn, Host, ["host"]).values(host=host))
        conn.execute(
            sa.update(Host)
            .where(
                Host.host == host, sa.or_(Host.blocked_until.is_(None), Host.blocked_until < until)
            )
            .values(blocked_until=until)
        )


def keep_retry_after(
    engine: Engine, feed_id: int, url: str, result: FetchResult, settings: Settings
) -> None:
    """A Retry-After met outside a run (`feeds add`) binds like one met in it: the host is
    blocked and the feed is due when the wait ends, so the next fetch does not ask again."""
    until = retry_after(result.headers, utcnow(), max_wait=settings.max_cache_age)
    if result.error_class != "rate_limited" or until is None:
        return
    block_host(engine, host_key(URL(url)), until)
    with engine.begin() as conn:
        update_row(conn, Feed, feed_id, {"next_fetch_at": until})


def blocked_hosts(engine: Engine, hosts: Iterable[str] | None = None) -> dict[str, datetime]:
    """Hosts under a Retry-After block right now (all, or those of `hosts`) → when it ends."""
    query = sa.select(Host.host, Host.blocked_until).where(Host.blocked_until > utcnow())
    if hosts is not None:
        query = query.where(Host.host.in_(list(hosts)))
    with reading(engine) as conn:
        return {host: until for host, until in conn.execute(query)}


class DbHostGate:
    """`HostGateProtocol`: an in-memory `HostGate` (concurrency and `delay` between starts, per
    process) plus the Retry-After blocks every process shares through the `host` table.

    Database calls run through `run` (the pipeline's writer thread, or `asyncio.to_thread`), so
    SQLite's busy wait never stalls the event loop.
    """

    def __init__(
        self, engine: Engine, concurrency: int, delay: float, *, run: Runner = asyncio.to_thread
    ) -> None:
        self._engine = engine
        self._run = run
        self._local = HostGate(concurrency, delay=delay)

    async def refresh(self) -> None:
        """Learn the blocks other processes recorded: once per batch or tick, not per request."""
        blocked = await self._run(blocked_hosts, self._engine)
        for host, until in blocked.items():
            await self._local.block_until(host, until)

    async def acquire(self, host: str) -> datetime | None:
        return await self._local.acquire(host)

    async def release(self, host: str) -> None:
        await self._local.release(host)

    async def block_until(self, host: str, when: datetime) -> None:
        await self._local.block_until(host, when)
        await self._run(block_host, self._engine, host, when)
