"""The host gate: two gates on one archive stand for two processes (or two daemons on
PostgreSQL). Spacing and concurrency live in each process's memory (no query per request); a
Retry-After one learns, the other obeys from its next batch (`refresh`)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta

import pytest

from ingest.store.engine import open_archive
from ingest.store.hosts import DbHostGate, blocked_hosts
from ingest.store.models import utcnow
from tests.test_fetch_hosts import peak_concurrency

pytestmark = pytest.mark.timeout(60)  # safety net only


def test_retry_after_recorded_by_one_gate_refuses_the_other(db_url: str) -> None:
    until = utcnow() + timedelta(hours=1)

    async def main() -> tuple[datetime | None, datetime | None]:
        first = DbHostGate(open_archive(db_url), concurrency=2, delay=0)
        second = DbHostGate(open_archive(db_url), concurrency=2, delay=0)
        await first.block_until("a.example:80", until)
        await first.block_until("a.example:80", until - timedelta(minutes=30))  # later wins
        await second.refresh()  # the next batch or tick of the other process
        return await second.acquire("a.example:80"), await second.acquire("b.example:80")

    refused, other = asyncio.run(main())
    assert refused is not None and abs(refused - until) < timedelta(seconds=1)
    assert other is None  # the block is per host
    assert set(blocked_hosts(open_archive(db_url))) == {"a.example:80"}


def test_a_gate_spaces_its_requests_without_touching_the_archive(db_url: str) -> None:
    """Starts are `delay` apart in memory; the archive sees no write (no `host` row)."""
    delay = 0.2
    engine = open_archive(db_url)

    async def main() -> list[float]:
        gate = DbHostGate(engine, concurrency=4, delay=delay)
        loop = asyncio.get_running_loop()
        starts: list[float] = []

        async def one() -> None:
            assert await gate.acquire("h.example:80") is None
            starts.append(loop.time())
            await gate.release("h.example:80")

        await asyncio.gather(*(one() for _ in range(3)))
        return sorted(starts)

    starts = asyncio.run(main())
    assert all(b - a >= delay / 2 for a, b in itertools.pairwise(starts)), starts
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM host").scalar_one() == 0


def test_concurrency_stays_in_process_and_slots_are_given_back(db_url: str) -> None:
    gate = DbHostGate(open_archive(db_url), concurrency=2, delay=0)
    assert peak_concurrency(gate, "h.example:80") == 2
