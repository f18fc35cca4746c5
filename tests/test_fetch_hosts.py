"""Host politeness: Retry-After parsing (pure) and the in-memory HostGate."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from yarl import URL

from ingest.fetch.hosts import HostGate, HostGateProtocol, host_key, retry_after

pytestmark = pytest.mark.timeout(30)  # safety net only

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", NOW + timedelta(seconds=120)),
        ("Thu, 02 Jan 2025 03:14:05 GMT", NOW + timedelta(minutes=10)),
        ("Thu, 02 Jan 2025 03:14:05 -0000", NOW + timedelta(minutes=10)),
        ("Thu, 02 Jan 2025 03:00:00 GMT", None),  # already past
        ("0", None),
        ("soon", None),
        ("-5", None),
        ("", None),
    ],
)
def test_retry_after(value: str, expected: datetime | None) -> None:
    assert retry_after({"retry-after": value}, NOW) == expected


def test_retry_after_missing_header() -> None:
    assert retry_after({}, NOW) is None


def test_retry_after_is_capped() -> None:
    assert retry_after({"retry-after": "86400"}, NOW, max_wait=60) == NOW + timedelta(seconds=60)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://Example.com/x", "example.com:80"),
        ("https://example.com/x", "example.com:443"),
        ("http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ("http://[::1]:8080/", "[::1]:8080"),
    ],
)
def test_host_key(url: str, key: str) -> None:
    assert host_key(URL(url)) == key


def test_blocked_host_refuses_at_once_and_others_pass() -> None:
    async def main() -> tuple[datetime | None, datetime | None]:
        gate = HostGate(concurrency=1, delay=0)
        until = datetime.now(UTC) + timedelta(hours=3)
        await gate.block_until("a:80", until)
        await gate.block_until("a:80", until - timedelta(hours=1))  # an earlier end never wins
        return await gate.acquire("a:80"), await gate.acquire("b:80")

    blocked, other = asyncio.run(main())
    assert blocked is not None and blocked > datetime.now(UTC) + timedelta(hours=2)
    assert other is None


def peak_concurrency(gate: HostGateProtocol, host: str, requests: int = 6) -> int:
    """How many of `requests` concurrent requests to `host` the gate let run at once."""

    async def main() -> int:
        active = peak = 0

        async def one() -> None:
            nonlocal active, peak
            assert await gate.acquire(host) is None
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.02)
            active -= 1
            await gate.release(host)

        await asyncio.gather(*(one() for _ in range(requests)))
        return peak

    return asyncio.run(main())


def test_concurrency_per_host_is_bounded() -> None:
    assert peak_concurrency(HostGate(concurrency=2, delay=0), "h:80") == 2


def test_starts_are_spaced_by_delay() -> None:
    """The n-th request starts no earlier than n delays after the first could (a late wake-up
    under load may shorten one gap, never bring a start forward)."""

    async def main() -> tuple[float, list[float]]:
        gate = HostGate(concurrency=3, delay=0.1)
        starts: list[float] = []
        began = time.monotonic()

        async def one() -> None:
            await gate.acquire("h:80")
            starts.append(time.monotonic())
            await gate.release("h:80")

        await asyncio.gather(*(one() for _ in range(3)))
        return began, sorted(starts)

    began, starts = asyncio.run(main())
    # the event loop's timer may wake a millisecond early (its clock resolution)
    assert all(start - began >= n * 0.1 - 0.005 for n, start in enumerate(starts)), starts
