"""Per-host politeness shared through the archive: every process, one schedule per host.

`DbHostGate` keeps the in-process part in memory (how many requests to a host at once, in which
order) and the part other processes must see in the `host` table: when the next request to a
host may start (`host_delay` apart) and until when the host asked us to stay away (Retry-After).
Another `ingest fetch`, or daemons on other machines sharing PostgreSQL, respect both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.fetch.hosts import HostGate
from ingest.store.engine import reading
from ingest.store.models import Host, utcnow
from ingest.store.upsert import insert_ignore

Runner = Callable[..., Awaitable[Any]]  # how blocking database calls are run off the event loop


def reserve_slot(engine: Engine, host: str, delay: float) -> tuple[datetime, datetime | None]:
    """Take the next start time of `host` and push it `delay` s further, atomically.

    Returns (when this request may start, when a Retry-After block ends or None). A blocked host
    reserves nothing. The row is locked for the read-then-write: `FOR UPDATE` on PostgreSQL, the
    `BEGIN IMMEDIATE` write lock on SQLite (see store.engine).
    """
    now = utcnow()
    if delay <= 0:  # nothing to space out: a read of the block is enough (no write lock taken)
        return now, blocked_hosts(engine, [host]).get(host)
    with engine.begin() as conn:
        conn.execute(insert_ignore(conn, Host, ["host"]).values(host=host))
        row = conn.execute(
            sa.select(Host.next_request_at, Host.blocked_until)
            .where(Host.host == host)
            .with_for_update()
        ).one()
        if row.blocked_until is not None and row.blocked_until > now:
            return now, row.blocked_until
        start = max(now, row.next_request_at or now)
        conn.execute(
            sa.update(Host)
            .where(Host.host == host)
            .values(next_request_at=start + timedelta(seconds=delay))
        )
    return start, None


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


def blocked_hosts(engine: Engine, hosts: Iterable[str] | None = None) -> dict[str, datetime]:
    """Hosts under a Retry-After block right now (all, or those of `hosts`) → when it ends."""
    query = sa.select(Host.host, Host.blocked_until).where(Host.blocked_until > utcnow())
    if hosts is not None:
        query = query.where(Host.host.in_(list(hosts)))
    with reading(engine) as conn:
        return {host: until for host, until in conn.execute(query)}


class DbHostGate:
    """`HostGateProtocol` over the `host` table, composed with an in-memory `HostGate`.

    The in-memory gate bounds concurrency and orders this process's waiters; the database spaces
    request starts and carries Retry-After blocks between processes. Database calls run in a
    thread (`asyncio.to_thread` by default), so SQLite's busy wait never stalls the event loop.
    """

    def __init__(
        self, engine: Engine, concurrency: int, delay: float, *, run: Runner = asyncio.to_thread
    ) -> None:
        self._engine = engine
        self._delay = delay
        self._run = run
        self._local = HostGate(concurrency, delay=0)  # the spacing lives in the database

    async def acquire(self, host: str) -> datetime | None:
        until = await self._local.acquire(host)
        if until is not None:
            return until
        try:
            start, until = await self._run(reserve_slot, self._engine, host, self._delay)
            if until is None:
                await asyncio.sleep(max(0.0, (start - utcnow()).total_seconds()))
                until = self._local.blocked(host)  # a 429 arrived while we waited our turn
        except BaseException:  # cancelled or the archive failed: do not leak the slot
            await self._local.release(host)
            raise
        if until is not None:
            await self._local.block_until(host, until)  # later requests refuse without a query
            await self._local.release(host)
        return until

    async def release(self, host: str) -> None:
        await self._local.release(host)

    async def block_until(self, host: str, when: datetime) -> None:
        await self._local.block_until(host, when)
        await self._run(block_host, self._engine, host, when)
