"""The database-backed host gate: two gates on one archive stand for two processes (or two
daemons on PostgreSQL); what one learns about a host, the other obeys."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta

import pytest

from ingest.store.engine import open_archive
from ingest.store.hosts import DbHostGate, blocked_hosts, reserve_slot
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
        return await second.acquire("a.example:80"), await second.acquire("b.example:80")

    refused, other = asyncio.run(main())
    assert refused is not None and abs(refused - until) < timedelta(seconds=1)
    assert other is None  # the block is per host
    assert set(blocked_hosts(open_archive(db_url))) == {"a.example:80"}


def test_two_gates_space_their_requests_to_one_host(db_url: str) -> None:
    """Each gate alone would start all four at once; the slots reserved in the archive space
    them. The bound is loose: a slot is when a request may start, the thread hop adds latency."""
    delay = 0.3

    async def main() -> list[float]:
        gates = [DbHostGate(open_archive(db_url), concurrency=4, delay=delay) for _ in range(2)]
        loop = asyncio.get_running_loop()
        starts: list[float] = []

        async def one(gate: DbHostGate) -> None:
            assert await gate.acquire("h.example:80") is None
            starts.append(loop.time())
            await gate.release("h.example:80")

        await asyncio.gather(*(one(gate) for gate in gates * 2))
        return sorted(starts)

    starts = asyncio.run(main())
    assert len(starts) == 4
    assert all(b - a >= delay / 2 for a, b in itertools.pairwise(starts)), starts


def test_reserved_slots_are_exactly_delay_apart_across_engines(db_url: str) -> None:
    engines = [open_archive(db_url), open_archive(db_url)]
    starts = [reserve_slot(engines[i % 2], "h.example:80", 60)[0] for i in range(3)]
    assert [b - a for a, b in itertools.pairwise(starts)] == [timedelta(seconds=60)] * 2


def test_concurrency_stays_in_process_and_slots_are_given_back(db_url: str) -> None:
    gate = DbHostGate(open_archive(db_url), concurrency=2, delay=0)
    assert peak_concurrency(gate, "h.example:80") == 2
